#include "model/image_processor.hpp"

#include <algorithm>
#include <cfenv>
#include <cmath>
#include <string>
#include <tuple>

#include "core/error.hpp"

namespace medforget {

namespace {

int get_positive(const Json& j, const char* key, const std::string& file, int fallback) {
  if (!j.contains(key)) return fallback;
  const Json& v = j.at(key);
  if (!v.is_number_integer() || v.get<int64_t>() < 1 || v.get<int64_t>() > 4096)
    fail(file + ": field '" + key + "' must be a positive integer, got " + v.dump());
  return v.get<int>();
}

std::array<double, 3> get_triple(const Json& j, const char* key, const std::string& file,
                                 const std::array<double, 3>& fallback) {
  if (!j.contains(key)) return fallback;
  const Json& v = j.at(key);
  std::array<double, 3> out{};
  if (v.is_number()) {
    out.fill(v.get<double>());
  } else if (v.is_array() && v.size() == 3 && std::all_of(v.begin(), v.end(), [](const Json& x) { return x.is_number(); })) {
    for (size_t i = 0; i < 3; ++i) out[i] = v[i].get<double>();
  } else {
    fail(file + ": field '" + key + "' must be a number or 3 numbers, got " + v.dump());
  }
  return out;
}

// Python's round(): halves go to the even neighbour.
int64_t round_half_even(double x) {
  const int mode = std::fegetround();
  std::fesetround(FE_TONEAREST);
  const double r = std::nearbyint(x);
  std::fesetround(mode);
  return static_cast<int64_t>(r);
}

// Pillow's bicubic kernel (a = -0.5) and support.
double bicubic(double x) {
  constexpr double a = -0.5;
  if (x < 0.0) x = -x;
  if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
  if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
  return 0.0;
}
constexpr double kBicubicSupport = 2.0;
constexpr int kPrecisionBits = 32 - 8 - 2;

struct Coeffs {
  int ksize = 0;
  std::vector<int> bounds;   // per output: first input index, count
  std::vector<int32_t> kk;   // per output: ksize fixed-point weights
};

// Pillow's precompute_coeffs + normalize_coeffs_8bpc over the whole input (box 0..in_size).
Coeffs precompute(int in_size, int out_size) {
  const double scale = static_cast<double>(in_size) / out_size;
  const double filterscale = std::max(1.0, scale);
  const double support = kBicubicSupport * filterscale;
  Coeffs c;
  c.ksize = static_cast<int>(std::ceil(support)) * 2 + 1;
  c.bounds.resize(static_cast<size_t>(out_size) * 2);
  c.kk.assign(static_cast<size_t>(out_size) * c.ksize, 0);
  std::vector<double> k(static_cast<size_t>(c.ksize));
  for (int xx = 0; xx < out_size; ++xx) {
    const double center = (xx + 0.5) * scale;
    const double ss = 1.0 / filterscale;
    int xmin = static_cast<int>(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    int xmax = static_cast<int>(center + support + 0.5);
    if (xmax > in_size) xmax = in_size;
    xmax -= xmin;
    double ww = 0.0;
    std::fill(k.begin(), k.end(), 0.0);
    for (int x = 0; x < xmax; ++x) {
      const double w = bicubic((x + xmin - center + 0.5) * ss);
      k[static_cast<size_t>(x)] = w;
      ww += w;
    }
    for (int x = 0; x < xmax; ++x)
      if (ww != 0.0) k[static_cast<size_t>(x)] /= ww;
    for (int x = 0; x < c.ksize; ++x) {
      const double v = k[static_cast<size_t>(x)] * (1 << kPrecisionBits);
      c.kk[static_cast<size_t>(xx) * c.ksize + x] = static_cast<int32_t>(v < 0 ? -0.5 + v : 0.5 + v);
    }
    c.bounds[static_cast<size_t>(xx) * 2] = xmin;
    c.bounds[static_cast<size_t>(xx) * 2 + 1] = xmax;
  }
  return c;
}

uint8_t clip8(int32_t in) {
  if (in >= (1 << kPrecisionBits << 8)) return 255;
  if (in <= 0) return 0;
  return static_cast<uint8_t>(in >> kPrecisionBits);
}

}  // namespace

ImageProcessorConfig ImageProcessorConfig::from_json(const Json& j, const std::string& file) {
  if (!j.is_object()) fail(file + ": expected a JSON object");
  ImageProcessorConfig c;
  c.patch_size = get_positive(j, "patch_size", file, c.patch_size);
  c.merge_size = get_positive(j, "merge_size", file, c.merge_size);
  c.temporal_patch_size = get_positive(j, "temporal_patch_size", file, c.temporal_patch_size);
  auto pixels = [&](const Json& o, const char* key, int64_t& out) {
    if (!o.contains(key)) return;
    const Json& v = o.at(key);
    if (!v.is_number_integer() || v.get<int64_t>() < 1) fail(file + ": field '" + key + "' must be a positive integer");
    out = v.get<int64_t>();
  };
  if (j.contains("size") && j.at("size").is_object()) {
    pixels(j.at("size"), "shortest_edge", c.min_pixels);
    pixels(j.at("size"), "longest_edge", c.max_pixels);
  }
  pixels(j, "min_pixels", c.min_pixels);  // older files; they win, as in transformers' __init__
  pixels(j, "max_pixels", c.max_pixels);
  if (c.min_pixels > c.max_pixels)
    fail(file + ": min_pixels " + std::to_string(c.min_pixels) + " exceeds max_pixels " + std::to_string(c.max_pixels));
  if (j.contains("resample") && !(j.at("resample").is_number_integer() && j.at("resample").get<int>() == 3))
    fail(file + ": field 'resample' must be 3 (bicubic, the Qwen2.5-VL processor's), got " + j.at("resample").dump());
  if (j.contains("rescale_factor")) {
    if (!j.at("rescale_factor").is_number()) fail(file + ": field 'rescale_factor' must be a number");
    c.rescale_factor = j.at("rescale_factor").get<double>();
  }
  c.mean = get_triple(j, "image_mean", file, c.mean);
  c.std = get_triple(j, "image_std", file, c.std);
  for (double s : c.std)
    if (!(s > 0)) fail(file + ": field 'image_std' must be positive");
  for (const char* key : {"do_resize", "do_rescale", "do_normalize"})
    if (j.contains(key) && !j.at(key).is_boolean()) fail(file + ": field '" + key + "' must be true or false");
  c.do_resize = j.value("do_resize", true);
  c.do_rescale = j.value("do_rescale", true);
  c.do_normalize = j.value("do_normalize", true);
  return c;
}

ImageProcessorConfig ImageProcessorConfig::load(const std::filesystem::path& p) {
  return from_json(read_json(p), p.string());
}

Json ImageProcessorConfig::to_json() const {
  return {{"image_processor_type", "Qwen2VLImageProcessor"},
          {"do_convert_rgb", true},
          {"do_resize", do_resize},
          {"do_rescale", do_rescale},
          {"do_normalize", do_normalize},
          {"resample", 3},
          {"rescale_factor", rescale_factor},
          {"image_mean", mean},
          {"image_std", std},
          {"patch_size", patch_size},
          {"merge_size", merge_size},
          {"temporal_patch_size", temporal_patch_size},
          {"size", {{"shortest_edge", min_pixels}, {"longest_edge", max_pixels}}},
          {"min_pixels", min_pixels},
          {"max_pixels", max_pixels}};
}

std::pair<int, int> smart_resize(int height, int width, int factor, int64_t min_pixels, int64_t max_pixels) {
  if (height < 1 || width < 1)
    fail("image of " + std::to_string(height) + "×" + std::to_string(width) + " pixels: nothing to process");
  const double ratio = static_cast<double>(std::max(height, width)) / std::min(height, width);
  if (ratio > 200)
    fail("image of " + std::to_string(height) + "×" + std::to_string(width) +
         " pixels: aspect ratio must be smaller than 200 (the Qwen2.5-VL processor's limit), got " +
         std::to_string(ratio));
  int64_t h = round_half_even(static_cast<double>(height) / factor) * factor;
  int64_t w = round_half_even(static_cast<double>(width) / factor) * factor;
  if (h * w > max_pixels) {
    const double beta = std::sqrt(static_cast<double>(height) * width / static_cast<double>(max_pixels));
    h = std::max<int64_t>(factor, static_cast<int64_t>(std::floor(height / beta / factor)) * factor);
    w = std::max<int64_t>(factor, static_cast<int64_t>(std::floor(width / beta / factor)) * factor);
  } else if (h * w < min_pixels) {
    const double beta = std::sqrt(static_cast<double>(min_pixels) / (static_cast<double>(height) * width));
    h = static_cast<int64_t>(std::ceil(height * beta / factor)) * factor;
    w = static_cast<int64_t>(std::ceil(width * beta / factor)) * factor;
  }
  return {static_cast<int>(h), static_cast<int>(w)};
}

std::vector<uint8_t> resize_bicubic_u8(const uint8_t* src, int height, int width, int channels, int out_height,
                                       int out_width) {
  if (height < 1 || width < 1 || out_height < 1 || out_width < 1 || channels < 1)
    fail("resize: empty image (" + std::to_string(height) + "×" + std::to_string(width) + " to " +
         std::to_string(out_height) + "×" + std::to_string(out_width) + ")");
  const bool need_h = out_width != width, need_v = out_height != height;
  const Coeffs ch = precompute(width, out_width), cv = precompute(height, out_height);
  // Rows of the input the vertical pass reads.
  const int y_first = cv.bounds[0];
  const int y_last = cv.bounds[static_cast<size_t>(out_height) * 2 - 2] + cv.bounds[static_cast<size_t>(out_height) * 2 - 1];
  std::vector<uint8_t> tmp;
  const uint8_t* in = src;
  int in_w = width, row_offset = 0;
  if (need_h) {
    const int rows = y_last - y_first;
    tmp.resize(static_cast<size_t>(rows) * out_width * channels);
    for (int y = 0; y < rows; ++y) {
      const uint8_t* row = src + static_cast<size_t>(y + y_first) * width * channels;
      uint8_t* orow = tmp.data() + static_cast<size_t>(y) * out_width * channels;
      for (int xx = 0; xx < out_width; ++xx) {
        const int xmin = ch.bounds[static_cast<size_t>(xx) * 2], xmax = ch.bounds[static_cast<size_t>(xx) * 2 + 1];
        const int32_t* k = &ch.kk[static_cast<size_t>(xx) * ch.ksize];
        for (int c = 0; c < channels; ++c) {
          int32_t ss = 1 << (kPrecisionBits - 1);
          for (int x = 0; x < xmax; ++x) ss += row[static_cast<size_t>(x + xmin) * channels + c] * k[x];
          orow[static_cast<size_t>(xx) * channels + c] = clip8(ss);
        }
      }
    }
    in = tmp.data();
    in_w = out_width;
    row_offset = y_first;
  }
  if (!need_v) {
    if (need_h) return tmp;
    return std::vector<uint8_t>(src, src + static_cast<size_t>(height) * width * channels);
  }
  std::vector<uint8_t> out(static_cast<size_t>(out_height) * in_w * channels);
  for (int yy = 0; yy < out_height; ++yy) {
    const int ymin = cv.bounds[static_cast<size_t>(yy) * 2] - row_offset, ymax = cv.bounds[static_cast<size_t>(yy) * 2 + 1];
    const int32_t* k = &cv.kk[static_cast<size_t>(yy) * cv.ksize];
    uint8_t* orow = out.data() + static_cast<size_t>(yy) * in_w * channels;
    for (int xx = 0; xx < in_w * channels; ++xx) {
      int32_t ss = 1 << (kPrecisionBits - 1);
      for (int y = 0; y < ymax; ++y) ss += in[static_cast<size_t>(y + ymin) * in_w * channels + xx] * k[y];
      orow[xx] = clip8(ss);
    }
  }
  return out;
}

ProcessedImage process_image(const uint8_t* src, int height, int width, int channels,
                             const ImageProcessorConfig& cfg) {
  if (channels != 1 && channels != 3)
    fail("image: expected 1 (grayscale) or 3 (RGB) channels, got " + std::to_string(channels));
  // do_convert_rgb: a grayscale radiograph becomes three equal channels.
  std::vector<uint8_t> rgb;
  if (channels == 1) {
    rgb.resize(static_cast<size_t>(height) * width * 3);
    for (size_t i = 0; i < static_cast<size_t>(height) * width; ++i) rgb[i * 3] = rgb[i * 3 + 1] = rgb[i * 3 + 2] = src[i];
    src = rgb.data();
  }
  const int factor = cfg.patch_size * cfg.merge_size;
  int h = height, w = width;
  std::vector<uint8_t> resized;
  if (cfg.do_resize) {
    std::tie(h, w) = smart_resize(height, width, factor, cfg.min_pixels, cfg.max_pixels);
    resized = resize_bicubic_u8(src, height, width, 3, h, w);
    src = resized.data();
  }
  if (h % factor || w % factor)
    fail("image of " + std::to_string(h) + "×" + std::to_string(w) + " pixels is not a multiple of patch_size × merge_size = " +
         std::to_string(factor) + " (do_resize is off)");
  const int P = cfg.patch_size, M = cfg.merge_size, T = cfg.temporal_patch_size;
  const int gh = h / P, gw = w / P;
  ProcessedImage out;
  out.grid_thw = {1, gh, gw};
  out.rows = static_cast<int64_t>(gh) * gw;
  out.cols = static_cast<int64_t>(3) * T * P * P;
  out.pixel_values.resize(static_cast<size_t>(out.rows * out.cols));
  auto value = [&](int y, int x, int c) {
    double v = src[(static_cast<size_t>(y) * w + x) * 3 + c];
    if (cfg.do_rescale) v = static_cast<float>(v * cfg.rescale_factor);
    if (cfg.do_normalize) v = (v - static_cast<float>(cfg.mean[c])) / static_cast<float>(cfg.std[c]);
    return static_cast<float>(v);
  };
  // Rows in (block row, block col, row in block, col in block) order; each row
  // is (channel, frame, patch row, patch col), the still image repeated per frame.
  size_t r = 0;
  for (int bh = 0; bh < gh / M; ++bh)
    for (int bw = 0; bw < gw / M; ++bw)
      for (int mh = 0; mh < M; ++mh)
        for (int mw = 0; mw < M; ++mw, ++r) {
          float* row = out.pixel_values.data() + r * static_cast<size_t>(out.cols);
          const int y0 = (bh * M + mh) * P, x0 = (bw * M + mw) * P;
          size_t i = 0;
          for (int c = 0; c < 3; ++c)
            for (int t = 0; t < T; ++t)
              for (int py = 0; py < P; ++py)
                for (int px = 0; px < P; ++px) row[i++] = value(y0 + py, x0 + px, c);
        }
  return out;
}

}  // namespace medforget
