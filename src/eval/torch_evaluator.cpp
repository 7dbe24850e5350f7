#include "eval/evaluator.hpp"

#include <cmath>
#include <limits>

#include "core/error.hpp"
#include "core/progress.hpp"
#include "eval/exact_match.hpp"
#include "eval/gen_score.hpp"
#include "eval/rouge.hpp"
#include "model/inference.hpp"

namespace medforget {

Json ItemResult::to_json() const {
  Json j = {{"id", item->id},
            {"task", item->task},
            {"prompt", item->prompt},
            {"reference", item->answer},
            {"answer_logprob", answer_logprob},
            {"answer_mean_logprob", answer_mean_logprob}};
  if (item->task != "classification") j["output"] = output;
  if (item->task == "generation") {
    j["rouge_l"] = rouge_l;
    j["factuality"] = factuality.to_json();
    j["gen_score"] = gen_score;
    j["section"] = item->section_name;
    j["context"] = item->context;
  }
  if (item->task != "generation") j["correct"] = correct;
  if (predicted_option >= 0) j["predicted_option"] = predicted_option;
  return j;
}

static Json num(double v) { return std::isnan(v) ? Json(nullptr) : Json(v); }

Json SetSummary::to_json() const {
  Json by_level = Json::object();
  for (const auto& [l, v] : identity_by_level) by_level[l] = num(v);
  return {{"n_generation", n_generation}, {"n_cloze", n_cloze},         {"n_classification", n_classification},
          {"n_identity", n_identity},     {"rouge_l", num(rouge_l)},     {"factuality", num(factuality)},
          {"gen_score", num(gen_score)},  {"cloze_acc", num(cloze_acc)}, {"class_acc", num(class_acc)},
          {"identity_acc", num(identity_acc)}, {"identity_by_level", by_level}};
}

std::vector<ItemResult> evaluate_items(LoadedModel& m, const std::vector<Item>& items, ImageCache& images,
                                       const EvalOptions& opt) {
  const size_t n = opt.limit && opt.limit < items.size() ? opt.limit : items.size();
  if (n == 0) fail("eval: the set is empty");
  const ModelConfig& cfg = m.config;
  const int merge = cfg.vision_config.spatial_merge_size, ctx = cfg.max_position_embeddings;
  std::vector<ItemResult> res(n);
  // Reference-answer likelihoods (all items) and option likelihoods.
  std::vector<Example> scored, options;
  std::vector<std::pair<size_t, int>> option_of;
  std::vector<Example> gen;
  std::vector<size_t> gen_of;
  for (size_t i = 0; i < n; ++i) {
    const Item& it = items[i];
    res[i].item = &it;
    const auto& img = images.get(it.image);
    auto encode = [&](const std::string& answer) {
      Example e;
      e.id = it.id;
      try {
        e.chat = encode_chat(m.tokenizer, it.prompt, answer, static_cast<int>(img.num_tokens(merge)), ctx);
      } catch (const Error& err) {
        fail("item '" + it.id + "': " + err.what());
      }
      e.image = img;
      return e;
    };
    scored.push_back(encode(it.answer));
    if (!it.options.empty())
      for (size_t k = 0; k < it.options.size(); ++k) {
        options.push_back(encode(it.options[k]));
        option_of.emplace_back(i, static_cast<int>(k));
      }
    if (it.task != "classification") {
      gen.push_back(encode(""));
      gen_of.push_back(i);
    }
  }
  Progress prog("eval", scored.size() + options.size() + gen.size());
  ScoreOptions so;
  so.batch_size = opt.batch_size;
  so.on_batch = [&](size_t k) { prog.tick(k); };
  auto sc = score_examples(m.model, scored, m.tokenizer.pad_id(), so, opt.device);
  for (size_t k = 0; k < sc.size(); ++k) {
    res[k].answer_logprob = sc[k].sum_logprob;
    res[k].answer_mean_logprob = sc[k].mean_logprob;
  }
  std::vector<double> best(n, -std::numeric_limits<double>::infinity());
  auto osc = score_examples(m.model, options, m.tokenizer.pad_id(), so, opt.device);
  for (size_t k = 0; k < osc.size(); ++k) {
    auto [i, o] = option_of[k];
    if (osc[k].sum_logprob > best[i]) {
      best[i] = osc[k].sum_logprob;
      res[i].predicted_option = o;
    }
  }
  GenerateOptions g;
  g.batch_size = opt.batch_size;
  g.max_new_tokens = opt.max_new_tokens;
  g.on_batch = so.on_batch;
  g.vocab_limit = m.tokenizer.vocab_size();
  auto out = generate_greedy(m.model, gen, m.tokenizer.im_end_id(), m.tokenizer.pad_id(), g, opt.device);
  for (size_t k = 0; k < out.size(); ++k) res[gen_of[k]].output = m.tokenizer.decode(out[k]);
  prog.done();
  for (size_t i = 0; i < n; ++i) {
    const Item& it = items[i];
    auto& r = res[i];
    if (it.task == "generation") {
      r.rouge_l = rouge_l(it.answer, r.output).f;
      r.factuality = score_factuality(opt.judge, r.output, it.answer, it.section_name);
      r.gen_score = gen_score(r.factuality.score, r.rouge_l);
    } else if (it.task == "classification") {
      r.correct = r.predicted_option == it.answer_index;
    } else {
      r.correct = exact_match(it.answer, r.output);
    }
  }
  return res;
}

SetSummary summarize(const std::vector<ItemResult>& results) {
  SetSummary s;
  double rl = 0, fa = 0, gs = 0, cz = 0, cl = 0, id = 0;
  std::map<std::string, std::pair<double, size_t>> by_level;
  for (const auto& r : results) {
    const auto& t = r.item->task;
    if (t == "generation") ++s.n_generation, rl += r.rouge_l, fa += r.factuality.score, gs += r.gen_score;
    if (t == "cloze") ++s.n_cloze, cz += r.correct;
    if (t == "classification") ++s.n_classification, cl += r.correct;
    if (t == "identity") {
      ++s.n_identity, id += r.correct;
      auto& b = by_level[r.item->level];
      b.first += r.correct;
      ++b.second;
    }
  }
  auto mean = [](double v, size_t n) { return n ? v / static_cast<double>(n) : std::nan(""); };
  s.rouge_l = mean(rl, s.n_generation);
  s.factuality = mean(fa, s.n_generation);
  s.gen_score = mean(gs, s.n_generation);
  s.cloze_acc = mean(cz, s.n_cloze);
  s.class_acc = mean(cl, s.n_classification);
  s.identity_acc = mean(id, s.n_identity);
  for (const auto& [l, b] : by_level) s.identity_by_level[l] = mean(b.first, b.second);
  return s;
}

std::map<std::string, SetSummary> summarize_by_context(const std::vector<ItemResult>& results) {
  std::map<std::string, std::vector<ItemResult>> groups;
  for (const auto& r : results) groups[r.item->context].push_back(r);
  std::map<std::string, SetSummary> out;
  for (const auto& [c, g] : groups) out[c] = summarize(g);
  return out;
}

}  // namespace medforget
