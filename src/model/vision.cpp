// Vision tower: patch embedding, pre-norm ViT blocks with 2D rotary positions,
// and the 2×2 spatial patch merger into the LM width.
#include <cmath>

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

SwiGluImpl::SwiGluImpl(int64_t dim, int64_t hidden, bool bias) {
  gate_proj = register_module("gate_proj", TapLinear(dim, hidden, bias));
  up_proj = register_module("up_proj", TapLinear(dim, hidden, bias));
  down_proj = register_module("down_proj", TapLinear(hidden, dim, bias));
}

torch::Tensor SwiGluImpl::forward(const torch::Tensor& x) {
  return down_proj(torch::silu(gate_proj(x)) * up_proj(x));
}

VisionAttentionImpl::VisionAttentionImpl(int64_t dim, int64_t h) : heads(h) {
  qkv = register_module("qkv", TapLinear(dim, 3 * dim, true));
  proj = register_module("proj", TapLinear(dim, dim, true));
}

torch::Tensor VisionAttentionImpl::forward(const torch::Tensor& x, const torch::Tensor& cos,
                                           const torch::Tensor& sin) {
  const auto B = x.size(0), N = x.size(1), D = x.size(2), hd = D / heads;
  auto qkv_ = qkv(x).view({B, N, 3, heads, hd}).permute({2, 0, 3, 1, 4});  // [3, B, H, N, hd]
  auto q = qkv_[0], k = qkv_[1], v = qkv_[2];
  // 2D rotary: the first half of each head rotates with the patch row, the second with its column.
  auto h2 = hd / 2;
  auto rot = [&](const torch::Tensor& t) {
    return torch::cat({apply_rope(t.narrow(-1, 0, h2), cos.narrow(-1, 0, h2), sin.narrow(-1, 0, h2)),
                       apply_rope(t.narrow(-1, h2, h2), cos.narrow(-1, h2, h2), sin.narrow(-1, h2, h2))},
                      -1);
  };
  q = rot(q);
  k = rot(k);
  auto att = torch::softmax(torch::matmul(q, k.transpose(-2, -1)) / std::sqrt(static_cast<double>(hd)), -1);
  auto out = torch::matmul(att, v).permute({0, 2, 1, 3}).reshape({B, N, D});
  return proj(out);
}

VisionBlockImpl::VisionBlockImpl(const VisionConfig& c) {
  norm1 = register_module("norm1", RMSNorm(c.hidden_size, 1e-6));
  attn = register_module("attn", VisionAttention(c.hidden_size, c.num_heads));
  norm2 = register_module("norm2", RMSNorm(c.hidden_size, 1e-6));
  mlp = register_module("mlp", SwiGlu(c.hidden_size, c.intermediate_size, true));
}

torch::Tensor VisionBlockImpl::forward(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin) {
  auto h = x + attn(norm1(x), cos, sin);
  return h + mlp(norm2(h));
}

PatchMergerImpl::PatchMergerImpl(const VisionConfig& c) : side(c.patches_per_side()), merge(c.spatial_merge_size) {
  const int64_t in = static_cast<int64_t>(c.hidden_size) * merge * merge;
  ln_q = register_module("ln_q", RMSNorm(c.hidden_size, 1e-6));
  fc1 = TapLinear(in, in, true);
  fc2 = TapLinear(in, c.out_hidden_size, true);
  mlp = register_module("mlp", torch::nn::ModuleList());
  mlp->push_back(fc1);
  mlp->push_back(torch::nn::GELU());
  mlp->push_back(fc2);
}

torch::Tensor PatchMergerImpl::forward(const torch::Tensor& x) {
  const auto B = x.size(0), D = x.size(2), m = merge, s = side;
  // Raster patches → groups of m×m neighbours, concatenated along the feature axis.
  auto g = ln_q(x).view({B, s / m, m, s / m, m, D}).permute({0, 1, 3, 2, 4, 5}).reshape({B, (s / m) * (s / m), m * m * D});
  return fc2(torch::gelu(fc1(g)));
}

PatchEmbedImpl::PatchEmbedImpl(int64_t in_chans, int64_t dim, int64_t patch) {
  proj = register_module("proj", torch::nn::Conv2d(torch::nn::Conv2dOptions(in_chans, dim, patch).stride(patch).bias(false)));
}

VisionTowerImpl::VisionTowerImpl(const VisionConfig& c) : cfg(c) {
  patch_embed = register_module("patch_embed", PatchEmbed(c.in_chans, c.hidden_size, c.patch_size));
  blocks = register_module("blocks", torch::nn::ModuleList());
  for (int i = 0; i < c.depth; ++i) blocks->push_back(VisionBlock(c));
  merger = register_module("merger", PatchMerger(c));
  // 2D rotary tables, fixed by the patch grid.
  const int64_t hd = c.hidden_size / c.num_heads, quarter = hd / 4, s = c.patches_per_side();
  auto inv = 1.0 / torch::pow(10000.0, torch::arange(0, quarter, torch::kFloat32) * 2.0 / (hd / 2));
  auto idx = torch::arange(s * s, torch::kFloat32);
  auto rows = torch::floor(idx / s), cols = idx - rows * s;
  auto fr = torch::outer(rows, inv), fc = torch::outer(cols, inv);
  auto emb = torch::cat({fr, fr, fc, fc}, -1);  // [N, hd]: row half then column half
  cos_ = register_buffer("rope_cos", emb.cos());
  sin_ = register_buffer("rope_sin", emb.sin());
}

torch::Tensor VisionTowerImpl::forward(const torch::Tensor& images) {
  if (images.dim() != 4 || images.size(1) != cfg.in_chans || images.size(2) != cfg.image_size ||
      images.size(3) != cfg.image_size)
    fail("vision tower: expected images of shape [B, " + std::to_string(cfg.in_chans) + ", " +
         std::to_string(cfg.image_size) + ", " + std::to_string(cfg.image_size) + "], got " +
         c10::str(images.sizes()));
  // Normalise [0,1] intensities around mid-grey.
  auto x = patch_embed->proj((images - 0.5) / 0.25);  // [B, D, s, s]
  x = x.flatten(2).transpose(1, 2);                    // [B, N, D] raster order
  for (auto& b : *blocks) x = b->as<VisionBlockImpl>()->forward(x, cos_, sin_);
  return merger(x);
}

torch::Tensor image_tensor(const std::vector<uint8_t>& pixels, int size) {
  if (static_cast<int64_t>(pixels.size()) != static_cast<int64_t>(size) * size)
    fail("image of " + std::to_string(pixels.size()) + " pixels, expected " + std::to_string(size) + "x" +
         std::to_string(size));
  auto t = torch::from_blob(const_cast<uint8_t*>(pixels.data()), {1, size, size}, torch::kUInt8);
  return t.to(torch::kFloat32).div(255.0);
}

}  // namespace medforget
