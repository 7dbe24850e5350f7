// The network itself: HF parameter names, padding invariance, KV cache, taps.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "core/error.hpp"
#include "model/inference.hpp"
#include "model/model.hpp"

using namespace medforget;

namespace {

constexpr int kImagePad = 5, kPad = 0, kEos = 2;

ModelConfig tiny_config() { return model_preset_with_ids("tiny", 64); }

// A random grayscale image of rows × cols through the model's image processor.
ImageInput random_image(int rows, int cols, uint64_t seed, const ModelConfig& c) {
  torch::manual_seed(seed);
  auto px = torch::randint(0, 256, {rows * cols}, torch::kUInt8);
  std::vector<uint8_t> bytes(px.data_ptr<uint8_t>(), px.data_ptr<uint8_t>() + px.numel());
  return gray_image_input(bytes, rows, cols, c.image_processor);
}

// A prompt: some text ids, the image pads (as many as the image's grid gives), more text ids.
Example example(const std::string& id, std::vector<int64_t> before, std::vector<int64_t> after, uint64_t seed,
                const ModelConfig& c, int rows = 64, int cols = 64) {
  Example e;
  e.id = id;
  e.image = random_image(rows, cols, seed, c);
  auto& ids = e.chat.ids;
  ids = before;
  ids.push_back(3);
  for (int64_t i = 0; i < e.image.num_tokens(c.vision_config.spatial_merge_size); ++i) ids.push_back(kImagePad);
  ids.push_back(4);
  ids.insert(ids.end(), after.begin(), after.end());
  e.chat.loss_mask.assign(ids.size(), 0);
  e.chat.vision_mask.assign(ids.size(), 0);
  return e;
}

// Row `b` of a padded batch's logits [B, T, V] without its padding: the last n
// positions when left-padded, the first n when right-padded.
torch::Tensor unpadded(const torch::Tensor& logits, int64_t b, int64_t n, bool left) {
  return logits[b].narrow(0, left ? logits.size(1) - n : 0, n);
}

}  // namespace

TEST(Model, ParameterNamesFollowHuggingFace) {
  MultimodalModel m(tiny_config());
  std::set<std::string> names;
  for (const auto& p : m->named_parameters()) names.insert(p.key());
  for (const char* n :
       {"visual.patch_embed.proj.weight", "visual.blocks.0.norm1.weight", "visual.blocks.0.attn.qkv.weight",
        "visual.blocks.0.attn.proj.bias", "visual.blocks.0.mlp.gate_proj.weight", "visual.merger.ln_q.weight",
        "visual.merger.mlp.0.weight", "visual.merger.mlp.2.weight", "model.embed_tokens.weight",
        "model.layers.0.input_layernorm.weight", "model.layers.1.self_attn.q_proj.weight",
        "model.layers.1.self_attn.q_proj.bias", "model.layers.1.self_attn.o_proj.weight",
        "model.layers.0.post_attention_layernorm.weight", "model.layers.0.mlp.gate_proj.weight",
        "model.layers.0.mlp.up_proj.weight", "model.layers.0.mlp.down_proj.weight", "model.norm.weight",
        "lm_head.weight"})
    EXPECT_TRUE(names.count(n)) << n;
  for (const auto& n : names) EXPECT_EQ(n.find("rope"), std::string::npos) << "buffers are not parameters: " << n;
  EXPECT_EQ(std::count(m->linear_names().begin(), m->linear_names().end(), "visual.merger.mlp.0"), 1);
}

TEST(Model, PaddingDoesNotChangeLogits) {
  auto c = tiny_config();
  torch::manual_seed(1);
  MultimodalModel m(c);
  m->eval();
  torch::NoGradGuard ng;
  // Images of two sizes: 16 and 12 image tokens.
  auto a = example("a", {1, 7, 8}, {9, 10, 11, 12}, 1, c), b = example("b", {1}, {13}, 2, c, 48, 64);
  ASSERT_EQ(b.image.num_tokens(2), 12);
  for (bool left : {false, true}) {
    Batch both = collate({&a, &b}, kPad, left, torch::kCPU);
    Batch alone = collate({&b}, kPad, left, torch::kCPU);
    auto lb = m->forward(both.input()), la = m->forward(alone.input());
    EXPECT_TRUE(torch::allclose(unpadded(lb, 1, la.size(1), left), la[0], 1e-4, 1e-5)) << (left ? "left" : "right");
  }
}

// Images smaller than a patch, wide, tall and large are resized into the
// processor's pixel range (transformers' smart_resize) and run through the whole
// model in one batch, each with as many image tokens as its own grid gives.
TEST(Model, ImagesOfAnySizeRunThroughTheModel) {
  auto c = tiny_config();
  torch::manual_seed(3);
  MultimodalModel m(c);
  m->eval();
  torch::NoGradGuard ng;
  const std::vector<std::pair<int, int>> sizes = {{5, 7}, {1, 1}, {40, 600}, {700, 30}, {512, 512}};
  std::vector<Example> ex;
  for (size_t i = 0; i < sizes.size(); ++i)
    ex.push_back(example("s" + std::to_string(i), {1, 7}, {9}, 20 + i, c, sizes[i].first, sizes[i].second));
  std::vector<const Example*> ptrs;
  std::set<int64_t> token_counts;
  const int64_t merge = c.vision_config.spatial_merge_size;
  for (const auto& e : ex) {
    ptrs.push_back(&e);
    const int64_t n = e.image.num_tokens(merge);
    EXPECT_GE(n, 1);
    const int64_t pixels = n * merge * merge * c.vision_config.patch_size * c.vision_config.patch_size;
    EXPECT_GE(pixels, c.image_processor.min_pixels) << e.id;
    // At most max_pixels, unless the narrow side is held at one merge block (transformers'
    // smart_resize keeps each side at least patch × merge: 700 × 30 gives 304 × 16 here).
    const int64_t block = merge * c.vision_config.patch_size;
    const int64_t narrow = std::min(e.image.grid[1], e.image.grid[2]) * c.vision_config.patch_size;
    if (narrow > block) {
      EXPECT_LE(pixels, c.image_processor.max_pixels) << e.id;
    }
    token_counts.insert(n);
  }
  EXPECT_GE(token_counts.size(), 3u);  // the sizes give different numbers of image tokens
  Batch b = collate(ptrs, kPad, true, torch::kCPU);
  auto logits = m->forward(b.input());
  ASSERT_EQ(logits.size(0), static_cast<int64_t>(ex.size()));
  EXPECT_TRUE(torch::isfinite(logits).all().item<bool>());
  // One alone gives the same logits as in the batch (the last rows; left padding).
  Batch alone = collate({ptrs[0]}, kPad, true, torch::kCPU);
  auto la = m->forward(alone.input());
  EXPECT_TRUE(torch::allclose(unpadded(logits, 0, la.size(1), true), la[0], 1e-4, 1e-5));
}

TEST(Model, KvCacheGenerationEqualsNoCacheGeneration) {
  auto c = tiny_config();
  torch::manual_seed(2);
  MultimodalModel m(c);
  std::vector<Example> prompts{example("a", {1, 7}, {9, 10}, 3, c), example("b", {1}, {11}, 4, c, 32, 64),
                               example("c", {1, 7, 8, 9}, {12, 13, 14}, 5, c, 64, 48)};
  GenerateOptions with, without;
  with.max_new_tokens = without.max_new_tokens = 12;
  without.use_cache = false;
  auto g1 = generate_greedy(m, prompts, kEos, kPad, with, torch::kCPU);
  auto g2 = generate_greedy(m, prompts, kEos, kPad, without, torch::kCPU);
  ASSERT_EQ(g1.size(), 3u);
  EXPECT_EQ(g1, g2);
  EXPECT_GT(g1[0].size(), 0u);
}

// Batches are formed shortest-first; results must still come back in input order
// and equal what each example gets alone.
TEST(Model, BatchedScoringAndGenerationReturnOneByOneResultsInInputOrder) {
  auto c = tiny_config();
  torch::manual_seed(6);
  MultimodalModel m(c);
  std::vector<Example> ex;
  const std::vector<std::vector<int64_t>> tails{{9, 10, 11, 12, 13, 14}, {11}, {12, 13, 14, 15}, {9}, {10, 11, 12},
                                                {13, 14, 15, 16, 17, 18, 19}, {9, 9}};
  for (size_t i = 0; i < tails.size(); ++i) {
    ex.push_back(example("e" + std::to_string(i), {1, static_cast<int64_t>(7 + i % 3)}, tails[i], 10 + i, c));
    auto& lm = ex.back().chat.loss_mask;
    for (size_t t = lm.size() - std::min<size_t>(2, tails[i].size()); t < lm.size(); ++t) lm[t] = 1;
  }
  ASSERT_NE(length_order(ex), std::vector<size_t>({0, 1, 2, 3, 4, 5, 6})) << "the test needs unsorted lengths";
  ScoreOptions batched, alone;
  batched.batch_size = 3;
  alone.batch_size = 1;
  size_t seen = 0, calls = 0;
  batched.on_batch = [&](size_t k) { seen += k, ++calls; };
  auto sb = score_examples(m, ex, kPad, batched, torch::kCPU), sa = score_examples(m, ex, kPad, alone, torch::kCPU);
  EXPECT_EQ(seen, ex.size());
  EXPECT_EQ(calls, 3u);
  ASSERT_EQ(sb.size(), ex.size());
  for (size_t i = 0; i < ex.size(); ++i) {
    EXPECT_EQ(sb[i].n_tokens, std::min<int>(2, static_cast<int>(tails[i].size()))) << i;
    EXPECT_EQ(sb[i].n_tokens, sa[i].n_tokens) << i;
    EXPECT_NEAR(sb[i].sum_logprob, sa[i].sum_logprob, 1e-4) << i;
  }
  GenerateOptions gb, ga;
  gb.max_new_tokens = ga.max_new_tokens = 8;
  gb.batch_size = 3;
  ga.batch_size = 1;
  seen = 0;
  gb.on_batch = [&](size_t k) { seen += k; };
  auto outb = generate_greedy(m, ex, kEos, kPad, gb, torch::kCPU);
  EXPECT_EQ(seen, ex.size());
  EXPECT_EQ(outb, generate_greedy(m, ex, kEos, kPad, ga, torch::kCPU));
  std::set<std::vector<int>> distinct(outb.begin(), outb.end());
  EXPECT_GT(distinct.size(), 1u) << "identical outputs could hide a reordering";
}

TEST(Model, GenerationNeverChoosesVisionMarkers) {
  auto c = tiny_config();
  torch::manual_seed(7);
  MultimodalModel m(c);
  {
    // Make <|image_pad|> the model's favourite token, as a collapsed model's might be.
    torch::NoGradGuard ng;
    for (auto& p : m->named_parameters())
      if (p.key() == "lm_head.weight") p.value()[c.image_token_id].mul_(1000);
  }
  std::vector<Example> prompts{example("a", {1, 7}, {9, 10}, 3, c), example("b", {1}, {11}, 4, c, 48, 48)};
  GenerateOptions g;
  g.max_new_tokens = 6;
  std::vector<std::vector<int>> out;
  ASSERT_NO_THROW(out = generate_greedy(m, prompts, kEos, kPad, g, torch::kCPU));
  for (const auto& o : out) {
    EXPECT_FALSE(o.empty());
    for (int id : o)
      for (int v : {c.image_token_id, c.vision_start_token_id, c.vision_end_token_id}) EXPECT_NE(id, v);
  }
}

TEST(Model, TapsObserveTheTensorsTheForwardUsesAndCanEdit) {
  auto c = tiny_config();
  torch::manual_seed(3);
  MultimodalModel m(c);
  m->eval();
  torch::NoGradGuard ng;
  auto a = example("a", {1, 7}, {9, 10}, 6, c), b = example("b", {1}, {11, 12, 13}, 7, c, 32, 64);
  Batch batch = collate({&a, &b}, kPad, false, torch::kCPU);
  auto base = m->forward(batch.input());
  const std::string gate = "model.layers.1.mlp.gate_proj";
  torch::Tensor in, out, vmask;
  std::vector<std::string> seen_ids;
  m->taps().add(gate, TapSite::Input, [&](const torch::Tensor& x, const TapContext& ctx) {
    in = x.clone();
    vmask = ctx.vision_mask.clone();
    seen_ids = *ctx.sample_ids;
    return torch::Tensor();
  });
  m->taps().add(gate, TapSite::Output, [&](const torch::Tensor& x, const TapContext&) {
    out = x.clone();
    return torch::Tensor();
  });
  bool vision_flag = false;
  torch::Tensor merger_rows, block_rows;
  m->taps().add("visual.merger.mlp.0", TapSite::Output, [&](const torch::Tensor& x, const TapContext& ctx) {
    vision_flag = ctx.in_vision && !ctx.vision_mask.defined() && ctx.batch_size == 2 && ctx.rows.size(0) == x.size(0);
    merger_rows = ctx.rows.clone();
    return torch::Tensor();
  });
  m->taps().add("visual.blocks.0.mlp.down_proj", TapSite::Output, [&](const torch::Tensor& x, const TapContext& ctx) {
    block_rows = ctx.rows.clone();
    EXPECT_EQ(ctx.rows.size(0), x.size(0));
    return torch::Tensor();
  });
  auto observed = m->forward(batch.input());
  EXPECT_TRUE(torch::equal(observed, base));  // observing changes nothing
  auto* lin = m->model->layers[1]->as<DecoderLayerImpl>()->mlp->gate_proj.get();
  EXPECT_TRUE(torch::allclose(torch::linear(in, lin->weight, lin->bias), out));
  EXPECT_EQ(seen_ids, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(vmask.sum().item<int64_t>(), 16 + 8);
  EXPECT_TRUE(vision_flag);
  // Packed vision rows map to their samples: 16 + 8 merged tokens, 4 patches each.
  ASSERT_TRUE(merger_rows.defined() && block_rows.defined());
  EXPECT_EQ(merger_rows.eq(0).sum().item<int64_t>(), 16);
  EXPECT_EQ(merger_rows.eq(1).sum().item<int64_t>(), 8);
  EXPECT_EQ(block_rows.eq(0).sum().item<int64_t>(), 64);
  EXPECT_EQ(block_rows.eq(1).sum().item<int64_t>(), 32);
  TapContext ctx;
  ctx.rows = merger_rows;
  ctx.batch_size = 2;
  auto ones = torch::ones({merger_rows.size(0), 3});
  EXPECT_TRUE(torch::equal(per_sample_sum(ones, ctx).select(1, 0), torch::tensor({16.f, 8.f})));
  EXPECT_TRUE(torch::allclose(per_sample_mean(ones, ctx), torch::ones({2, 3})));
  m->taps().clear();
  m->taps().add("model.layers.1.mlp.down_proj", TapSite::Output,
                [](const torch::Tensor& x, const TapContext&) { return torch::zeros_like(x); });
  auto edited = m->forward(batch.input());
  EXPECT_FALSE(torch::allclose(edited, base));
  m->taps().clear();
  EXPECT_TRUE(torch::equal(m->forward(batch.input()), base));
}

TEST(Model, ObserveFeedsTheTapsWhatTheForwardDoesAndStopsAfterTheLastLayerAsked) {
  auto c = tiny_config();
  ASSERT_GE(c.num_hidden_layers, 2);
  torch::manual_seed(4);
  MultimodalModel m(c);
  m->eval();
  torch::NoGradGuard ng;
  auto a = example("a", {1, 7}, {9, 10}, 6, c), b = example("b", {1}, {11, 12, 13}, 7, c);
  Batch batch = collate({&a, &b}, kPad, false, torch::kCPU);
  std::vector<std::string> names = {"visual.merger.mlp.2", "model.layers.0.mlp.up_proj", "model.layers.1.mlp.down_proj"};
  auto record = [&](std::map<std::string, torch::Tensor>& seen) {
    m->taps().clear();
    for (const auto& n : names)
      m->taps().add(n, TapSite::Output, [&seen, n](const torch::Tensor& x, const TapContext&) {
        seen[n] = x.clone();
        return torch::Tensor();
      });
  };
  std::map<std::string, torch::Tensor> full, upto0, vision_only;
  record(full);
  m->forward(batch.input());
  record(upto0);
  m->observe(batch.input(), 0);
  record(vision_only);
  m->observe(batch.input(), -1);
  m->taps().clear();
  ASSERT_EQ(full.size(), 3u);
  ASSERT_EQ(upto0.size(), 2u);  // layer 1 never ran
  EXPECT_EQ(upto0.count("model.layers.1.mlp.down_proj"), 0u);
  for (const auto& [n, x] : upto0) EXPECT_TRUE(torch::equal(x, full.at(n))) << n;
  ASSERT_EQ(vision_only.size(), 1u);
  EXPECT_TRUE(torch::equal(vision_only.at("visual.merger.mlp.2"), full.at("visual.merger.mlp.2")));
}

TEST(Model, BadInputsGiveClearErrors) {
  auto c = tiny_config();
  MultimodalModel m(c);
  torch::NoGradGuard ng;
  auto a = example("a", {1}, {9}, 8, c);
  Batch b = collate({&a}, kPad, false, torch::kCPU);
  auto expect_error = [&](const Batch& x, const std::string& needle) {
    try {
      m->forward(x.input());
      ADD_FAILURE() << "no error; expected one mentioning " << needle;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  auto wrong = b;  // patches of the wrong width
  wrong.pixel_values = torch::rand({b.pixel_values.size(0), 10});
  expect_error(wrong, "pixel_values");
  auto short_pixels = b;  // fewer patches than the grid says
  short_pixels.pixel_values = b.pixel_values.narrow(0, 0, 4);
  expect_error(short_pixels, "pixel_values");
  auto other_grid = b;  // a grid whose token count disagrees with the pads
  other_grid.image_grid_thw = {{1, 4, 4}};
  expect_error(other_grid, "image");
  auto odd_grid = b;  // not a multiple of the merge size
  odd_grid.image_grid_thw = {{1, 3, 4}};
  expect_error(odd_grid, "image");
  auto no_grid = b;
  no_grid.image_grid_thw.clear();
  expect_error(no_grid, "grids");
  auto no_images = b;
  no_images.drop_images();
  expect_error(no_images, "no images");
  auto no_pads = b;
  no_pads.ids = torch::ones_like(b.ids);
  expect_error(no_pads, "grids");
  Batch too_long;
  too_long.ids = torch::ones({1, c.max_position_embeddings + 1}, torch::kLong);
  expect_error(too_long, "exceeds the context");
}
