#include "eval/mia_report.hpp"

#include <cstdio>
#include <functional>
#include <map>
#include <set>

#include "core/error.hpp"
#include "eval/privleak.hpp"
#include "eval/roc.hpp"

namespace medforget {

namespace {

MiaScores per_score(const std::function<double(const std::string&)>& f) {
  return {f("loss"), f("zlib"), f("min_k"), f("min_k_pp")};
}

// Every example is a member ("forget") or not ("general"), once.
void check_membership(const std::string& where, const std::string& id, const std::string& set,
                      std::set<std::string>& seen) {
  if (set != "forget" && set != "general")
    fail(where + ": set is '" + set + "', expected \"forget\" or \"general\"");
  if (!seen.insert(id).second) fail(where + ": id appears more than once");
}

std::vector<MiaSample> score_all(const std::vector<MiaExample>& examples, double k,
                                 const std::string& model) {
  std::vector<MiaSample> out;
  out.reserve(examples.size());
  std::set<std::string> seen;
  for (const auto& e : examples) {
    const std::string where = "mia (" + model + " model): example '" + e.id + "'";
    check_membership(where, e.id, e.set, seen);
    MiaSample s;
    s.id = e.id;
    s.set = e.set;
    try {
      s.scores = mia_scores(e.stats, e.answer, k);
      s.answer_prob = answer_probability(e.stats);
    } catch (const Error& err) {
      fail(where + ": " + err.what());
    }
    s.n_tokens = e.stats.logprob.size();
    out.push_back(std::move(s));
  }
  return out;
}

struct Split {
  std::map<std::string, std::vector<double>> forget, general;  // score name -> scores
  size_t n_forget = 0, n_general = 0;
};

Split split(const std::vector<MiaSample>& samples, const std::string& model) {
  Split sp;
  for (const auto& s : samples) {
    auto& side = s.set == "forget" ? sp.forget : sp.general;
    for (const auto& name : kMiaScoreNames) side[name].push_back(score_by_name(s.scores, name));
    (s.set == "forget" ? sp.n_forget : sp.n_general) += 1;
  }
  if (sp.n_forget == 0 || sp.n_general == 0)
    fail("mia (" + model + " model): needs forget and general examples for the AUC (got " +
         std::to_string(sp.n_forget) + " forget, " + std::to_string(sp.n_general) + " general)");
  return sp;
}

MiaScores aucs(const Split& sp) {
  return per_score(
      [&](const std::string& n) { return roc_auc(sp.forget.at(n), sp.general.at(n)); });
}

// "0.05" for 0.05: the shortest form, so keys read as the FPR that was asked for.
std::string fpr_key(double fpr) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "tpr_at_fpr_%g", fpr);
  return buf;
}

}  // namespace

double score_by_name(const MiaScores& s, const std::string& name) {
  if (name == "loss") return s.loss;
  if (name == "zlib") return s.zlib;
  if (name == "min_k") return s.min_k;
  if (name == "min_k_pp") return s.min_k_pp;
  fail("mia: unknown score '" + name + "', expected loss, zlib, min_k or min_k_pp");
}

Json scores_json(const MiaScores& s) {
  return Json{{"loss", s.loss}, {"zlib", s.zlib}, {"min_k", s.min_k}, {"min_k_pp", s.min_k_pp}};
}

Json MiaSample::to_json() const {
  return Json{{"id", id},
              {"set", set},
              {"n_tokens", n_tokens},
              {"answer_prob", answer_prob},
              {"loss", scores.loss},
              {"zlib", scores.zlib},
              {"min_k", scores.min_k},
              {"min_k_pp", scores.min_k_pp}};
}

Json MiaReport::to_json() const {
  Json j{{"n_forget", n_forget}, {"n_general", n_general}, {"auc", scores_json(auc)}};
  for (const auto& [fpr, t] : tpr_at_fpr) j[fpr_key(fpr)] = scores_json(t);
  if (auc_retrained) j["auc_retrained"] = scores_json(*auc_retrained);
  if (privleak) j["privleak"] = scores_json(*privleak);
  if (forget_quality)
    j["forget_quality_ks"] = Json{{"statistic", forget_quality->statistic},
                                  {"p_value", forget_quality->p_value},
                                  {"method", to_string(forget_quality->method)}};
  return j;
}

std::vector<Json> MiaReport::samples_jsonl() const {
  std::vector<Json> rows;
  rows.reserve(samples.size());
  for (const auto& s : samples) rows.push_back(s.to_json());
  return rows;
}

MiaReport mia_report(const std::vector<MiaExample>& examples, const MiaOptions& opt) {
  MiaReport r;
  r.samples = score_all(examples, opt.k, "unlearned");
  const Split sp = split(r.samples, "unlearned");
  r.n_forget = sp.n_forget;
  r.n_general = sp.n_general;
  r.auc = aucs(sp);
  for (double fpr : opt.fprs)
    r.tpr_at_fpr.emplace_back(fpr, per_score([&](const std::string& n) {
                                return tpr_at_fpr(sp.forget.at(n), sp.general.at(n), fpr);
                              }));
  return r;
}

MiaReport mia_report(const std::vector<MiaExample>& unlearned,
                     const std::vector<MiaExample>& retrained, const MiaOptions& opt) {
  return mia_report(unlearned, score_all(retrained, opt.k, "retrained"), opt);
}

MiaSample mia_sample_from_json(const Json& j) {
  MiaSample s;
  try {
    s.id = j.at("id").get<std::string>();
    s.set = j.at("set").get<std::string>();
    s.n_tokens = j.at("n_tokens").get<size_t>();
    s.answer_prob = j.at("answer_prob").get<double>();
    s.scores = per_score([&](const std::string& n) { return j.at(n).get<double>(); });
  } catch (const Json::exception& e) {
    const bool named = j.is_object() && j.contains("id") && j["id"].is_string();
    fail("mia sample " + (named ? "'" + j["id"].get<std::string>() + "'" : std::string("without an id")) + ": " +
         e.what());
  }
  return s;
}

MiaReport mia_report(const std::vector<MiaExample>& unlearned,
                     const std::vector<MiaSample>& ret, const MiaOptions& opt) {
  MiaReport r = mia_report(unlearned, opt);
  std::set<std::string> seen;
  for (const auto& s : ret) check_membership("mia (retrained model): example '" + s.id + "'", s.id, s.set, seen);
  const MiaScores auc_ret = aucs(split(ret, "retrained"));

  // KS compares the two distributions, not pairs; the checks make sure both
  // describe the same forget items (by id) rather than two different samples.
  std::map<std::string, double> u_prob, r_prob;
  for (const auto& s : r.samples)
    if (s.set == "forget") u_prob[s.id] = s.answer_prob;
  for (const auto& s : ret)
    if (s.set == "forget") r_prob[s.id] = s.answer_prob;
  for (const auto& [id, p] : u_prob)
    if (!r_prob.count(id))
      fail("mia: forget item '" + id + "' of the unlearned model is missing from the " +
           "retrained model's results");
  for (const auto& [id, p] : r_prob)
    if (!u_prob.count(id))
      fail("mia: forget item '" + id + "' of the retrained model is missing from the " +
           "unlearned model's results");
  std::vector<double> up, rp;
  for (const auto& [id, p] : u_prob) up.push_back(p);
  for (const auto& [id, p] : r_prob) rp.push_back(p);

  r.auc_retrained = auc_ret;
  r.privleak = per_score([&](const std::string& n) {
    try {
      return privleak(score_by_name(r.auc, n), score_by_name(auc_ret, n));
    } catch (const Error& err) {
      fail("mia: score '" + n + "': " + err.what());
    }
  });
  r.forget_quality = forget_quality(up, rp);
  return r;
}

}  // namespace medforget
