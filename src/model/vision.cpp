// The Qwen2.5-VL vision tower: Conv3d patch embedding, pre-norm blocks with 2D
// rotary positions attending within windows (full attention in
// fullatt_block_indexes), and the patch merger into the LM width. Rows are the
// image processor's patches of every image packed together; the window order
// transformers uses inside the tower is undone at the end.
#include <cmath>
#include <limits>

#include "core/error.hpp"
#include "model/model.hpp"

namespace medforget {

torch::Tensor rotate_half(const torch::Tensor& x) {
  auto h = x.size(-1) / 2;
  return torch::cat({-x.narrow(-1, h, h), x.narrow(-1, 0, h)}, -1);
}

torch::Tensor apply_rope(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin) {
  return x * cos + rotate_half(x) * sin;
}

torch::Tensor attend(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v, const torch::Tensor& mask) {
  const double scale = 1.0 / std::sqrt(static_cast<double>(q.size(-1)));
  auto scores = torch::matmul(q, k.transpose(-2, -1)) * scale;
  if (mask.defined()) scores = scores + mask.to(scores.scalar_type());
  auto p = torch::softmax(scores.to(torch::kFloat32), -1).to(q.scalar_type());
  return torch::matmul(p, v);
}

SwiGluImpl::SwiGluImpl(int64_t dim, int64_t hidden, bool bias) {
  gate_proj = register_module("gate_proj", TapLinear(dim, hidden, bias));
  up_proj = register_module("up_proj", TapLinear(dim, hidden, bias));
  down_proj = register_module("down_proj", TapLinear(hidden, dim, bias));
}

torch::Tensor SwiGluImpl::forward(const torch::Tensor& x) {
  return down_proj(torch::silu(gate_proj(x)) * up_proj(x));
}

AttentionSpans AttentionSpans::from_cu_seqlens(const std::vector<int64_t>& cu, const torch::Device& device) {
  AttentionSpans s;
  std::vector<std::pair<int64_t, int64_t>> spans;
  for (size_t i = 1; i < cu.size(); ++i)
    if (cu[i] > cu[i - 1]) spans.emplace_back(cu[i - 1], cu[i]), s.length = std::max(s.length, cu[i] - cu[i - 1]);
  s.spans = static_cast<int64_t>(spans.size());
  std::vector<int64_t> gather(static_cast<size_t>(s.spans * s.length), 0), filled;
  std::vector<float> mask(gather.size(), -std::numeric_limits<float>::infinity());
  for (int64_t i = 0; i < s.spans; ++i) {
    const auto [b, e] = spans[static_cast<size_t>(i)];
    for (int64_t r = b; r < e; ++r) {
      const auto slot = static_cast<size_t>(i * s.length + (r - b));
      gather[slot] = r;
      mask[slot] = 0.f;
      filled.push_back(static_cast<int64_t>(slot));
    }
  }
  s.gather = torch::tensor(gather, torch::kLong).to(device);
  s.filled = torch::tensor(filled, torch::kLong).to(device);
  s.mask = torch::tensor(mask).view({s.spans, 1, 1, s.length}).to(device);
  return s;
}

VisionAttentionImpl::VisionAttentionImpl(int64_t dim, int64_t h) : heads(h) {
  qkv = register_module("qkv", TapLinear(dim, 3 * dim, true));
  proj = register_module("proj", TapLinear(dim, dim, true));
}

torch::Tensor VisionAttentionImpl::forward(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin,
                                           const AttentionSpans& spans) {
  const auto N = x.size(0), D = x.size(1), hd = D / heads;
  auto parts = qkv(x).view({N, 3, heads, hd}).unbind(1);  // each [N, H, hd]
  // Rotary in float32, as transformers' apply_rotary_pos_emb_vision.
  auto c = cos.unsqueeze(1), s = sin.unsqueeze(1);
  auto q = apply_rope(parts[0].to(torch::kFloat32), c, s).to(x.scalar_type());
  auto k = apply_rope(parts[1].to(torch::kFloat32), c, s).to(x.scalar_type());
  auto v = parts[2];
  auto to_spans = [&](const torch::Tensor& t) {  // [N, H, hd] → [S, H, L, hd]
    return t.index_select(0, spans.gather).view({spans.spans, spans.length, heads, hd}).transpose(1, 2);
  };
  auto out = attend(to_spans(q), to_spans(k), to_spans(v), spans.mask);  // [S, H, L, hd]
  out = out.transpose(1, 2).reshape({spans.spans * spans.length, D}).index_select(0, spans.filled);
  return proj(out);
}

VisionBlockImpl::VisionBlockImpl(const VisionConfig& c) {
  norm1 = register_module("norm1", RMSNorm(c.hidden_size, 1e-6));
  attn = register_module("attn", VisionAttention(c.hidden_size, c.num_heads));
  norm2 = register_module("norm2", RMSNorm(c.hidden_size, 1e-6));
  mlp = register_module("mlp", SwiGlu(c.hidden_size, c.intermediate_size, true));
}

torch::Tensor VisionBlockImpl::forward(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin,
                                       const AttentionSpans& spans) {
  auto h = x + attn(norm1(x), cos, sin, spans);
  return h + mlp(norm2(h));
}

PatchMergerImpl::PatchMergerImpl(const VisionConfig& c)
    : unit(static_cast<int64_t>(c.spatial_merge_size) * c.spatial_merge_size) {
  const int64_t in = static_cast<int64_t>(c.hidden_size) * unit;
  ln_q = register_module("ln_q", RMSNorm(c.hidden_size, 1e-6));
  fc1 = TapLinear(in, in, true);
  fc2 = TapLinear(in, c.out_hidden_size, true);
  mlp = register_module("mlp", torch::nn::ModuleList());
  mlp->push_back(fc1);
  mlp->push_back(torch::nn::GELU());
  mlp->push_back(fc2);
}

torch::Tensor PatchMergerImpl::forward(const torch::Tensor& x) {
  auto g = ln_q(x).reshape({x.size(0) / unit, unit * x.size(1)});
  return fc2(torch::gelu(fc1(g)));
}

PatchEmbedImpl::PatchEmbedImpl(const VisionConfig& c) {
  const int64_t T = c.temporal_patch_size, P = c.patch_size;
  proj = register_module("proj", torch::nn::Conv3d(torch::nn::Conv3dOptions(c.in_channels, c.hidden_size, {T, P, P})
                                                       .stride({T, P, P})
                                                       .bias(false)));
}

torch::Tensor PatchEmbedImpl::forward(const torch::Tensor& pixel_values) {
  const auto& w = proj->weight;
  return torch::linear(pixel_values.to(w.scalar_type()), w.reshape({w.size(0), -1}));
}

VisionTowerImpl::VisionTowerImpl(const VisionConfig& c) : cfg(c) {
  patch_embed = register_module("patch_embed", PatchEmbed(c));
  blocks = register_module("blocks", torch::nn::ModuleList());
  for (int i = 0; i < c.depth; ++i) blocks->push_back(VisionBlock(c));
  merger = register_module("merger", PatchMerger(c));
  // transformers' VisionRotaryEmbedding(head_dim / 2): head_dim / 4 frequencies,
  // used once for the patch row and once for its column.
  const int64_t dim = c.head_dim() / 2;
  auto exponent = torch::arange(0, dim, 2, torch::kFloat64) / static_cast<double>(dim);
  inv_freq_ = register_buffer("inv_freq", (1.0 / torch::pow(c.rope_theta, exponent)).to(torch::kFloat32));
}

torch::Tensor VisionTowerImpl::forward(const torch::Tensor& pixel_values, const std::vector<GridThw>& grids,
                                       const std::vector<int64_t>& image_rows, int64_t batch_size, Taps* taps) {
  const int merge = cfg.spatial_merge_size;
  const int64_t unit = static_cast<int64_t>(merge) * merge;
  int64_t patches = 0;
  for (const auto& g : grids) {
    if (g[0] < 1 || g[1] < 1 || g[2] < 1 || g[1] % merge || g[2] % merge)
      fail("vision tower: image grid (" + std::to_string(g[0]) + ", " + std::to_string(g[1]) + ", " +
           std::to_string(g[2]) + ") is not a positive multiple of spatial_merge_size " + std::to_string(merge));
    patches += g[0] * g[1] * g[2];
  }
  if (pixel_values.dim() != 2 || pixel_values.size(0) != patches || pixel_values.size(1) != cfg.patch_dim())
    fail("vision tower: expected pixel_values [" + std::to_string(patches) + ", " + std::to_string(cfg.patch_dim()) +
         "] for the image grids given, got " + c10::str(pixel_values.sizes()));
  const auto dev = pixel_values.device();
  auto x = patch_embed(pixel_values);  // [N, D], processor order
  const int64_t N = x.size(0);

  // Window order: merged tokens grouped by attention window.
  const VisionWindows win = vision_windows(grids, merge, cfg.window_size, cfg.patch_size);
  auto index = torch::tensor(win.index, torch::kLong).to(dev);
  auto reorder = [&](const torch::Tensor& t) {
    return t.reshape({N / unit, unit, -1}).index_select(0, index).reshape({N, -1});
  };
  x = reorder(x);

  // 2D rotary angles [N, head_dim / 2]: (row, column) × frequencies, then duplicated.
  const auto pos = vision_rotary_positions(grids, merge);
  std::vector<int64_t> flat;
  flat.reserve(pos.size() * 2);
  for (const auto& p : pos) flat.push_back(p[0]), flat.push_back(p[1]);
  auto hw = torch::tensor(flat, torch::kLong).view({N, 2}).to(dev).to(torch::kFloat32);
  auto inv = inv_freq_.to(dev);
  auto ang = reorder(torch::cat({torch::outer(hw.select(1, 0), inv), torch::outer(hw.select(1, 1), inv)}, -1));
  auto emb = torch::cat({ang, ang}, -1);
  auto cos = emb.cos(), sin = emb.sin();

  if (taps && taps->active()) {
    std::vector<int64_t> rows;
    rows.reserve(static_cast<size_t>(N / unit));
    for (size_t i = 0; i < grids.size(); ++i)
      rows.insert(rows.end(), static_cast<size_t>(grids[i][0] * grids[i][1] * grids[i][2] / unit), image_rows.at(i));
    auto token_rows = torch::tensor(rows, torch::kLong).index_select(0, index.cpu()).to(dev);
    taps->set_vision_rows(token_rows.repeat_interleave(unit), token_rows, batch_size);
  }

  const auto full = AttentionSpans::from_cu_seqlens(vision_cu_seqlens(grids), dev);
  const auto window = AttentionSpans::from_cu_seqlens(win.cu_seqlens, dev);
  for (int i = 0; i < cfg.depth; ++i)
    x = blocks[static_cast<size_t>(i)]->as<VisionBlockImpl>()->forward(x, cos, sin,
                                                                      cfg.full_attention(i) ? full : window);
  auto merged = merger(x);  // [N / unit, out], window order
  return torch::empty_like(merged).index_copy_(0, index, merged);
}

}  // namespace medforget
