// The activation passes CHIP, MANU and MIP-Editor share: batches of similar
// lengths, results handed back in the items' order.
#include <gtest/gtest.h>

#include "data/item.hpp"
#include "model/model_io.hpp"
#include "test_util.hpp"
#include "unlearn/activations.hpp"

using namespace medforget;

TEST(Activations, BatchesByLengthAndReturnsRowsInItemOrder) {
  const auto& f = test::trained_tiny();
  auto m = load_model(f.model, torch::kCPU);
  auto all = read_items(f.bench / "finetune.jsonl");
  ASSERT_GE(all.size(), 40u);
  std::vector<const Item*> items;
  for (size_t i = 0; i < 40; ++i) items.push_back(&all[i]);
  ImageCache images(f.bench, m.config.image_processor);

  // Every item once; within the pass, batches never get shorter, so a batch
  // holds items of similar lengths rather than id neighbours.
  std::vector<int> seen(items.size(), 0);
  int64_t last_max = 0, padding = 0, padding_in_order = 0;
  for_each_batch(m, items, images, 8, torch::kCPU, false, [&](const Batch& b, const torch::Tensor& rows) {
    ASSERT_EQ(rows.size(0), b.ids.size(0));
    auto lens = b.attention_mask.sum(1);
    EXPECT_GE(lens.min().item<int64_t>(), last_max) << "batches are not in length order";
    last_max = lens.max().item<int64_t>();
    padding += (b.ids.size(1) * b.ids.size(0)) - lens.sum().item<int64_t>();
    for (int64_t r = 0; r < rows.size(0); ++r) {
      const auto i = static_cast<size_t>(rows[r].item<int64_t>());
      ++seen[i];
      EXPECT_EQ(b.sample_ids[static_cast<size_t>(r)], items[i]->id);
    }
  });
  for (int s : seen) EXPECT_EQ(s, 1);
  // The same items batched in id order carry more padding.
  for (size_t s = 0; s < items.size(); s += 8) {
    std::vector<const Item*> one(items.begin() + static_cast<std::ptrdiff_t>(s),
                                 items.begin() + static_cast<std::ptrdiff_t>(std::min(items.size(), s + 8)));
    for_each_batch(m, one, images, 8, torch::kCPU, false, [&](const Batch& b, const torch::Tensor&) {
      padding_in_order += (b.ids.size(1) * b.ids.size(0)) - b.attention_mask.sum().item<int64_t>();
    });
  }
  EXPECT_LT(padding, padding_in_order);

  // Activations do not depend on the batching: one item per pass gives the
  // same rows, in the same order, as length-sorted batches of 8.
  const std::vector<std::string> modules = {"model.layers.1.mlp.down_proj", "visual.merger.mlp.2"};
  ActivationOptions one_by_one, batched;
  one_by_one.batch_size = 1;
  batched.batch_size = 8;
  auto a = collect_activations(m, items, images, modules, one_by_one, torch::kCPU, "test");
  auto b = collect_activations(m, items, images, modules, batched, torch::kCPU, "test");
  for (size_t k = 0; k < modules.size(); ++k) {
    ASSERT_EQ(a.values[k].size(0), static_cast<int64_t>(items.size()));
    EXPECT_TRUE(torch::allclose(a.values[k], b.values[k], 1e-4, 1e-5))
        << modules[k] << ": max diff " << (a.values[k] - b.values[k]).abs().max().item<float>();
  }
}
