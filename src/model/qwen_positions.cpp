#include "model/qwen_positions.hpp"

#include <algorithm>
#include <string>

#include "core/error.hpp"

namespace medforget {

std::vector<std::array<int64_t, 2>> vision_rotary_positions(const std::vector<GridThw>& grids, int merge) {
  std::vector<std::array<int64_t, 2>> out;
  for (const auto& [t, h, w] : grids)
    for (int64_t f = 0; f < t; ++f)
      for (int64_t bh = 0; bh < h / merge; ++bh)
        for (int64_t bw = 0; bw < w / merge; ++bw)
          for (int64_t mh = 0; mh < merge; ++mh)
            for (int64_t mw = 0; mw < merge; ++mw) out.push_back({bh * merge + mh, bw * merge + mw});
  return out;
}

std::vector<int64_t> vision_cu_seqlens(const std::vector<GridThw>& grids) {
  std::vector<int64_t> cu{0};
  for (const auto& [t, h, w] : grids)
    for (int64_t f = 0; f < t; ++f) cu.push_back(cu.back() + h * w);
  return cu;
}

VisionWindows vision_windows(const std::vector<GridThw>& grids, int merge, int window_size, int patch) {
  const int64_t ws = window_size / merge / patch;  // merged tokens per window side
  if (ws < 1)
    fail("vision config: window_size " + std::to_string(window_size) + " is smaller than patch_size × merge = " +
         std::to_string(patch * merge));
  const int64_t unit = static_cast<int64_t>(merge) * merge;
  VisionWindows out;
  out.cu_seqlens.push_back(0);
  int64_t offset = 0;
  for (const auto& [t, h, w] : grids) {
    const int64_t gh = h / merge, gw = w / merge;
    const int64_t nh = (gh + ws - gh % ws) / ws, nw = (gw + ws - gw % ws) / ws;  // transformers pads a whole window
    for (int64_t f = 0; f < t; ++f)
      for (int64_t wy = 0; wy < nh; ++wy)
        for (int64_t wx = 0; wx < nw; ++wx) {
          int64_t n = 0;
          for (int64_t y = wy * ws; y < std::min(gh, (wy + 1) * ws); ++y)
            for (int64_t x = wx * ws; x < std::min(gw, (wx + 1) * ws); ++x, ++n)
              out.index.push_back(offset + (f * gh + y) * gw + x);
          if (n > 0) out.cu_seqlens.push_back(out.cu_seqlens.back() + n * unit);
        }
    offset += t * gh * gw;
  }
  return out;
}

RopeIndex rope_index(const std::vector<int64_t>& ids, const std::vector<int64_t>& mask, int64_t batch, int64_t length,
                     int64_t image_token_id, const std::vector<GridThw>& grids, int merge) {
  if (static_cast<int64_t>(ids.size()) != batch * length || static_cast<int64_t>(mask.size()) != batch * length)
    fail("rope_index: ids and mask must hold batch × length values");
  RopeIndex r;
  r.batch = batch;
  r.length = length;
  r.positions.assign(static_cast<size_t>(3 * batch * length), 0);
  r.deltas.assign(static_cast<size_t>(batch), 0);
  size_t next_grid = 0;
  for (int64_t b = 0; b < batch; ++b) {
    std::vector<int64_t> where;  // the row's real tokens
    for (int64_t t = 0; t < length; ++t)
      if (mask[static_cast<size_t>(b * length + t)]) where.push_back(t);
    int64_t pos = 0, most = -1;
    auto put = [&](size_t k, int64_t tp, int64_t hp, int64_t wp) {
      const int64_t t = where[k];
      r.positions[static_cast<size_t>((0 * batch + b) * length + t)] = tp;
      r.positions[static_cast<size_t>((1 * batch + b) * length + t)] = hp;
      r.positions[static_cast<size_t>((2 * batch + b) * length + t)] = wp;
      most = std::max({most, tp, hp, wp});
    };
    for (size_t k = 0; k < where.size();) {
      if (ids[static_cast<size_t>(b * length + where[k])] != image_token_id) {
        put(k, pos, pos, pos);
        ++pos;
        ++k;
        continue;
      }
      size_t run = 0;
      while (k + run < where.size() && ids[static_cast<size_t>(b * length + where[k + run])] == image_token_id) ++run;
      if (next_grid >= grids.size())
        fail("rope_index: row " + std::to_string(b) + " holds more images than the " + std::to_string(grids.size()) +
             " grids given");
      const auto [gt, gh, gw] = grids[next_grid++];
      const int64_t lh = gh / merge, lw = gw / merge;
      if (static_cast<int64_t>(run) != gt * lh * lw)
        fail("rope_index: row " + std::to_string(b) + " has " + std::to_string(run) + " image tokens where its grid " +
             std::to_string(gt) + "×" + std::to_string(gh) + "×" + std::to_string(gw) + " needs " +
             std::to_string(gt * lh * lw));
      size_t i = k;
      for (int64_t f = 0; f < gt; ++f)
        for (int64_t y = 0; y < lh; ++y)
          for (int64_t x = 0; x < lw; ++x) put(i++, pos + f, pos + y, pos + x);
      pos += std::max(lh, lw);
      k += run;
    }
    r.deltas[static_cast<size_t>(b)] = most + 1 - static_cast<int64_t>(where.size());
  }
  if (next_grid != grids.size())
    fail("rope_index: " + std::to_string(grids.size()) + " grids given for " + std::to_string(next_grid) + " images");
  return r;
}

}  // namespace medforget
