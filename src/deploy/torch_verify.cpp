#include "deploy/verify.hpp"

#include <algorithm>
#include <cmath>
#include <set>

#include "core/error.hpp"
#include "core/progress.hpp"
#include "data/benchmark.hpp"
#include "data/item.hpp"
#include "data/splits.hpp"
#include "eval/evaluator.hpp"
#include "eval/mia_report.hpp"
#include "eval/torch_mia.hpp"
#include "model/model_io.hpp"

namespace medforget {

namespace fs = std::filesystem;

std::vector<Item> spread_items(const std::vector<Item>& v, int n) {
  if (n <= 0 || v.size() <= static_cast<size_t>(n)) return v;
  std::vector<Item> s;
  for (int i = 0; i < n; ++i) s.push_back(v[i * v.size() / n]);
  return s;
}

double utility(const SetSummary& s) {
  double sum = 0;
  int n = 0;
  for (double v : {s.gen_score / 100, s.cloze_acc, s.class_acc, s.identity_acc})
    if (std::isfinite(v)) sum += v, ++n;
  return n ? 100 * sum / n : NAN;
}

namespace {

// The attack contexts that name the request's level and every level above it.
std::vector<std::string> contexts_for(Level level) {
  switch (level) {
    case Level::Section: return {"none", "study", "patient+study", "institution+patient+study"};
    case Level::Study: return {"study", "patient+study", "institution+patient+study"};
    case Level::Patient: return {"patient+study", "institution+patient+study"};
    default: return {"institution+patient+study"};
  }
}

struct RequestSets {
  std::vector<Item> forget, attack;
};

struct Scores {
  std::map<std::string, double> forget;                             // per request
  std::map<std::string, std::map<std::string, double>> leakage;     // per request, per context
  std::map<std::string, MiaReport> mia;                             // per request (new version only)
  double retain = NAN, general = NAN;
};

Scores score_model(const fs::path& dir, const fs::path& bench, const Policy& policy, const std::string& device,
                   const std::map<std::string, RequestSets>& sets, const std::vector<Item>& retain,
                   const std::vector<Item>& general, bool with_mia) {
  const torch::Device dev = parse_device(device);
  LoadedModel m = load_model(dir, dev);
  ImageCache images(bench, m.config.image_processor);
  EvalOptions opt;
  opt.device = dev;
  opt.max_new_tokens = policy.max_new_tokens;
  Scores s;
  s.retain = utility(summarize(evaluate_items(m, retain, images, opt)));
  s.general = utility(summarize(evaluate_items(m, general, images, opt)));
  std::vector<MiaExample> general_mia;
  if (with_mia) general_mia = mia_examples(m, general, "general", images, opt.batch_size, dev);
  for (const auto& [id, rs] : sets) {
    s.forget[id] = utility(summarize(evaluate_items(m, rs.forget, images, opt)));
    for (const auto& [ctx, sum] : summarize_by_context(evaluate_items(m, rs.attack, images, opt)))
      s.leakage[id][ctx] = sum.gen_score;
    if (with_mia) {
      auto ex = mia_examples(m, rs.forget, "forget", images, opt.batch_size, dev);
      ex.insert(ex.end(), general_mia.begin(), general_mia.end());
      s.mia.emplace(id, mia_report(ex));
    }
  }
  return s;
}

Check make_check(const std::string& name, double value, double threshold, bool at_least, Json detail) {
  Check c;
  c.name = name;
  c.value = value;
  c.threshold = threshold;
  c.rule = at_least ? "value >= threshold" : "value <= threshold";
  c.passed = std::isfinite(value) && (at_least ? value >= threshold : value <= threshold);
  c.detail = std::move(detail);
  return c;
}

}  // namespace

std::map<std::string, std::vector<Check>> verify_execution(const fs::path& bench, const Policy& policy,
                                                           const fs::path& parent, const fs::path& version,
                                                           const std::vector<RequestTargets>& requests,
                                                           const std::vector<std::string>& forgotten,
                                                           const std::string& device) {
  const fs::path hp = bench / "hierarchy.json";
  const Hierarchy h = Hierarchy::from_json(read_json(hp), hp.string());
  const auto finetune = read_items(bench / "finetune.jsonl");
  const std::set<std::string> gone = forget_closure(h, forgotten);
  std::vector<Item> retain;
  for (const auto& it : finetune)
    if (!gone.count(it.anchor)) retain.push_back(it);
  retain = spread_items(retain, policy.eval_items);
  const auto general = spread_items(read_items(bench / "general.jsonl"), policy.eval_items);
  if (retain.empty() || general.empty()) fail("verify: the benchmark leaves no retain or no general items to check");

  std::map<std::string, RequestSets> sets;
  for (const auto& r : requests) {
    const std::set<std::string> closure = forget_closure(h, r.nodes);
    const auto ctxs = contexts_for(r.level);
    RequestSets rs;
    std::vector<Item> attack;
    for (const auto& it : finetune) {
      if (!closure.count(it.anchor)) continue;
      rs.forget.push_back(it);
      if (it.task != "generation") continue;
      for (auto& a : attack_items(h, it))
        if (std::find(ctxs.begin(), ctxs.end(), a.context) != ctxs.end()) attack.push_back(std::move(a));
    }
    if (rs.forget.empty()) fail("verify: request " + r.id + "'s subtree holds no fine-tuning items");
    rs.forget = spread_items(rs.forget, policy.eval_items);
    rs.attack = spread_items(attack, policy.eval_items);
    sets.emplace(r.id, std::move(rs));
  }

  log_info("verify: scoring the parent version " + parent.filename().string());
  const Scores before = score_model(parent, bench, policy, device, sets, retain, general, false);
  log_info("verify: scoring the new version " + version.filename().string());
  const Scores after = score_model(version, bench, policy, device, sets, retain, general, true);

  std::map<std::string, std::vector<Check>> out;
  for (const auto& r : requests) {
    auto& checks = out[r.id];
    const double fb = before.forget.at(r.id), fa = after.forget.at(r.id);
    checks.push_back(make_check("forget", fb > 0 ? (fb - fa) / fb : 0, policy.forget_drop_min, true,
                                {{"before", fb}, {"after", fa}, {"items", sets.at(r.id).forget.size()},
                                 {"measure", "relative drop of the request's utility (0-100) from the parent version"}}));
    const MiaReport& mia = after.mia.at(r.id);
    double worst = 0;
    Json aucs = Json::object();
    for (const auto& name : kMiaScoreNames) {
      const double auc = score_by_name(mia.auc, name);
      aucs[name] = auc;
      worst = std::max(worst, std::fabs(auc - 0.5));
    }
    checks.push_back(make_check("mia", worst, policy.mia_auc_max_distance, false,
                                {{"auc", aucs}, {"members", mia.n_forget}, {"non_members", mia.n_general},
                                 {"measure", "largest |AUC - 0.5| of the four scores, request items vs general items"}}));
    for (const auto& ctx : contexts_for(r.level)) {
      const auto b = before.leakage.count(r.id) && before.leakage.at(r.id).count(ctx) ? before.leakage.at(r.id).at(ctx) : NAN;
      const auto a = after.leakage.count(r.id) && after.leakage.at(r.id).count(ctx) ? after.leakage.at(r.id).at(ctx) : NAN;
      if (!std::isfinite(b) && !std::isfinite(a)) continue;  // no generation items under this request
      checks.push_back(make_check("leakage:" + ctx, b > 0 ? a / b : 0, policy.leakage_max, false,
                                  {{"gen_score_before", b}, {"gen_score_after", a},
                                   {"measure", "attack Gen score after / before"}}));
    }
    checks.push_back(make_check("retain", before.retain - after.retain, policy.retain_tolerance, false,
                                {{"before", before.retain}, {"after", after.retain}, {"items", retain.size()},
                                 {"measure", "utility points lost on retained items"}}));
    checks.push_back(make_check("general", before.general - after.general, policy.general_tolerance, false,
                                {{"before", before.general}, {"after", after.general}, {"items", general.size()},
                                 {"measure", "utility points lost on never-seen items"}}));
  }
  return out;
}

}  // namespace medforget
