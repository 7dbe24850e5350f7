#include "eval/torch_mia.hpp"

#include "core/error.hpp"
#include "core/progress.hpp"
#include "model/inference.hpp"

namespace medforget {

std::vector<MiaExample> mia_examples(LoadedModel& m, const std::vector<Item>& items, const std::string& set,
                                     ImageCache& images, int batch_size, const torch::Device& device) {
  if (items.empty()) fail("mia: the " + set + " set is empty");
  std::vector<MiaExample> out;
  Progress prog("mia " + set, items.size());
  ScoreOptions so;
  so.batch_size = batch_size;
  so.token_stats = true;
  so.on_batch = [&](size_t k) { prog.tick(k); };
  auto ex = make_examples(items, m.tokenizer, m.config, images);
  auto sc = score_examples(m.model, ex, m.tokenizer.pad_id(), so, device);
  for (size_t k = 0; k < sc.size(); ++k) {
    MiaExample e;
    e.id = items[k].id;
    e.set = set;
    e.answer = items[k].answer;
    e.stats.logprob = std::move(sc[k].token_logprobs);
    e.stats.mu = std::move(sc[k].token_mu);
    e.stats.sigma = std::move(sc[k].token_sigma);
    out.push_back(std::move(e));
  }
  prog.done();
  return out;
}

}  // namespace medforget
