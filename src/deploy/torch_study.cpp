#include <chrono>
#include <cmath>
#include <cstdio>
#include <set>

#include "core/error.hpp"
#include "core/fs.hpp"
#include "core/manifest.hpp"
#include "core/progress.hpp"
#include "data/splits.hpp"
#include "deploy/execute.hpp"
#include "deploy/study.hpp"
#include "deploy/verify.hpp"
#include "eval/mia_report.hpp"
#include "eval/torch_mia.hpp"
#include "report/svg.hpp"

namespace medforget {

namespace fs = std::filesystem;

std::vector<std::string> study_patients(const fs::path& bench, size_t n) {
  const fs::path hp = bench / "hierarchy.json";
  const Hierarchy h = Hierarchy::from_json(read_json(hp), hp.string());
  std::vector<std::vector<std::string>> per_inst;
  for (const auto& inst : h.at_level(Level::Institution)) {
    std::vector<std::string> ps;
    for (const auto& id : h.subtree(inst))
      if (h.get(id).level == Level::Patient) ps.push_back(id);
    if (!ps.empty()) ps.pop_back();  // one stays: the institution keeps a patient to contrast with
    per_inst.push_back(ps);
  }
  std::vector<std::string> out;
  for (size_t round = 0; out.size() < n; ++round) {
    bool any = false;
    for (const auto& ps : per_inst)
      if (round < ps.size() && out.size() < n) out.push_back(ps[round]), any = true;
    if (!any) break;
  }
  if (out.size() < n)
    fail("study: the benchmark has " + std::to_string(out.size()) + " patients that can be forgotten while each "
         "institution keeps one; asked for " + std::to_string(n) + " (--requests)");
  return out;
}

namespace {

struct Sets {
  std::vector<std::vector<Item>> patient;  // per study patient, spread
  std::vector<Item> finetune, general;
  Hierarchy h;
};

struct StepScores {
  std::vector<double> forget;  // per study patient
  double retain = NAN, general = NAN, mia_auc = NAN, mia_distance = NAN;
};

StepScores score(const fs::path& model, const StudyOptions& o, const Sets& s, const std::vector<std::string>& patients,
                 size_t forgotten) {
  const torch::Device dev = parse_device(o.device);
  LoadedModel m = load_model(model, dev);
  ImageCache images(o.bench, m.config.image_processor);
  EvalOptions eo;
  eo.device = dev;
  eo.max_new_tokens = o.max_new_tokens;
  StepScores r;
  for (const auto& items : s.patient) r.forget.push_back(utility(summarize(evaluate_items(m, items, images, eo))));
  const std::vector<std::string> gone_nodes(patients.begin(), patients.begin() + forgotten);
  const std::set<std::string> gone = forget_closure(s.h, gone_nodes);
  std::vector<Item> retain;
  for (const auto& it : s.finetune)
    if (!gone.count(it.anchor)) retain.push_back(it);
  r.retain = utility(summarize(evaluate_items(m, spread_items(retain, o.eval_items), images, eo)));
  r.general = utility(summarize(evaluate_items(m, s.general, images, eo)));
  if (forgotten > 0) {
    std::vector<Item> members;
    for (size_t j = 0; j < forgotten; ++j) members.insert(members.end(), s.patient[j].begin(), s.patient[j].end());
    auto ex = mia_examples(m, members, "forget", images, eo.batch_size, dev);
    auto gen = mia_examples(m, s.general, "general", images, eo.batch_size, dev);
    ex.insert(ex.end(), gen.begin(), gen.end());
    const MiaReport rep = mia_report(ex);
    r.mia_auc = rep.auc.loss;
    r.mia_distance = 0;
    for (const auto& name : kMiaScoreNames)
      r.mia_distance = std::max(r.mia_distance, std::fabs(score_by_name(rep.auc, name) - 0.5));
  }
  return r;
}

Json row(const std::string& method, const std::string& mode, const std::string& step, const StepScores& s,
         const std::string& request, const std::string& verdict, double secs) {
  auto num = [](double v) { return std::isfinite(v) ? Json(v) : Json(nullptr); };
  Json f = Json::array();
  for (double v : s.forget) f.push_back(num(v));
  return {{"method", method}, {"mode", mode}, {"step", step}, {"request", request}, {"verdict", verdict},
          {"forget", f}, {"retain", num(s.retain)}, {"general", num(s.general)}, {"mia_auc_loss", num(s.mia_auc)},
          {"mia_distance", num(s.mia_distance)}, {"seconds", secs}};
}

Deployment fresh_deployment(const StudyOptions& o, const fs::path& dir) {
  if (fs::exists(dir)) {
    log_warn("study: replacing " + dir.string());
    fs::remove_all(dir);
  }
  fs::create_directories(dir.parent_path());
  Deployment d = init_deployment(o.model, o.bench, dir);
  Policy p;
  p.eval_items = o.eval_items;
  p.max_new_tokens = o.max_new_tokens;
  write_json(dir / "policy.json", p.to_json());
  return d;
}

std::vector<std::string> method_opts(const StudyOptions& o, const std::string& method) {
  auto it = o.method_opts.find(method);
  if (it != o.method_opts.end()) return it->second;
  // NPO with a retain NLL against the model before unlearning: no Retrain model is needed.
  if (method == "npo") return {"reference=vanilla", "retain_weight=1"};
  return {};
}

double mean_of(const Json& a, size_t from, size_t to) {
  double s = 0;
  size_t n = 0;
  for (size_t j = from; j < to && j < a.size(); ++j)
    if (a[j].is_number()) s += a[j].get<double>(), ++n;
  return n ? s / n : NAN;
}

std::string cell(double v) {
  if (!std::isfinite(v)) return "–";
  char b[32];
  std::snprintf(b, sizeof b, "%.1f", v);
  return b;
}

// The table and the figure from study.json's rows.
void write_outputs(const StudyOptions& o, const Json& study) {
  const size_t n = study.at("patients").get<size_t>();  // a count, not a list
  std::string md = "# Sequential unlearning: " + std::to_string(n) + " patient-level requests\n\n"
                   "Utility 0-100 (mean of Gen score/100 and the cloze, classification and identity accuracies). "
                   "*Forgotten*: mean over the requests executed so far; *rebound*: the largest rise of a forgotten "
                   "patient's utility since the step that forgot it; *not yet*: mean over the patients still to come; "
                   "MIA: largest |AUC - 0.5| of four scores, everything forgotten so far against general items.\n";
  report::Chart chart;
  chart.kind = report::ChartKind::Lines;
  chart.title = "Sequential unlearning, " + std::to_string(n) + " patient requests";
  chart.y_label = "utility (0-100); MIA |AUC-0.5| x 100";
  chart.x_label = "requests executed (B: all in one batch)";
  chart.columns = 3;
  std::vector<std::string> cats;
  for (size_t k = 0; k <= n; ++k) cats.push_back(std::to_string(k));
  cats.push_back("B");
  const char* titles[] = {"Forgotten patients", "Patients not yet forgotten", "Retained items", "General items",
                          "MIA |AUC-0.5| x 100"};
  for (const char* t : titles) chart.panels.push_back({t, cats, {}, {}});
  size_t color = 0;
  for (const auto& method : o.methods) {
    md += "\n## " + method + "\n\n| step | verdict | forgotten | rebound | not yet | retain | general | MIA |\n"
          "|---|---|---|---|---|---|---|---|\n";
    std::vector<report::Series> series(5);
    for (auto& s : series) {
      s.name = method;
      s.color = report::palette()[color % report::palette().size()];
      s.values.assign(cats.size(), std::nullopt);
    }
    ++color;
    std::vector<double> at_forget(n, NAN);
    for (const auto& r : study.at("rows")) {
      if (r.at("method") != method) continue;
      const bool batch = r.at("mode") == "batch";
      const size_t k = batch ? n : std::stoul(r.at("step").get<std::string>());
      const Json& f = r.at("forget");
      if (!batch && k > 0) at_forget[k - 1] = f[k - 1].is_number() ? f[k - 1].get<double>() : NAN;
      double rebound = NAN;
      if (!batch)
        for (size_t j = 0; j + 1 < k; ++j)
          if (f[j].is_number() && std::isfinite(at_forget[j]))
            rebound = std::isfinite(rebound) ? std::max(rebound, f[j].get<double>() - at_forget[j])
                                             : f[j].get<double>() - at_forget[j];
      const double forgotten = mean_of(f, 0, k), not_yet = mean_of(f, k, n);
      auto v = [](const Json& x) { return x.is_number() ? x.get<double>() : NAN; };
      const double mia = v(r.at("mia_distance"));
      md += "| " + std::string(batch ? "batch" : r.at("step").get<std::string>()) + " | " +
            r.value("verdict", "") + " | " + cell(forgotten) + " | " + cell(rebound) + " | " + cell(not_yet) + " | " +
            cell(v(r.at("retain"))) + " | " + cell(v(r.at("general"))) + " | " +
            (std::isfinite(mia) ? cell(100 * mia) : "–") + " |\n";
      const size_t c = batch ? cats.size() - 1 : k;
      const double vals[] = {forgotten, not_yet, v(r.at("retain")), v(r.at("general")), 100 * mia};
      for (size_t p = 0; p < 5; ++p)
        if (std::isfinite(vals[p])) series[p].values[c] = vals[p];
    }
    for (size_t p = 0; p < 5; ++p) chart.panels[p].series.push_back(series[p]);
  }
  chart.y_max = 100;
  write_atomic(o.out / "study.md", md);
  write_atomic(o.out / "study.svg", report::render_chart(chart));
}

}  // namespace

Json run_sequential_study(const StudyOptions& o) {
  if (o.requests == 0) fail("study: --requests must be at least 1");
  if (o.methods.empty()) fail("study: --methods names no method");
  const auto patients = study_patients(o.bench, o.requests);
  Sets s;
  const fs::path hp = o.bench / "hierarchy.json";
  s.h = Hierarchy::from_json(read_json(hp), hp.string());
  s.finetune = read_items(o.bench / "finetune.jsonl");
  s.general = spread_items(read_items(o.bench / "general.jsonl"), o.eval_items);
  for (const auto& p : patients) {
    const auto closure = forget_closure(s.h, {p});
    std::vector<Item> items;
    for (const auto& it : s.finetune)
      if (closure.count(it.anchor)) items.push_back(it);
    s.patient.push_back(spread_items(items, o.eval_items));
  }
  fs::create_directories(o.out);
  const Json params = {{"requests", o.requests}, {"methods", o.methods}, {"eval_items", o.eval_items},
                       {"max_new_tokens", o.max_new_tokens}, {"batch", o.batch}};
  const Json inputs = {{"model", fs::absolute(o.model).string()}, {"bench", fs::absolute(o.bench).string()}};
  // Marks the directory as a study's from the start, so that running the command again may replace it.
  write_manifest(o.out, "study", params, inputs);
  Json study = {{"format", "medforget-sequential-study"}, {"patients", patients.size()},
                {"methods", o.methods}, {"eval_items", o.eval_items}, {"max_new_tokens", o.max_new_tokens},
                {"rows", Json::array()}};
  auto save = [&] { write_json(o.out / "study.json", study); };
  log_info("study: scoring the model before any request");
  const auto t0 = std::chrono::steady_clock::now();
  const StepScores base = score(o.model, o, s, patients, 0);
  const double base_secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  for (const auto& method : o.methods) {
    study["rows"].push_back(row(method, "sequential", "0", base, "", "", base_secs));
    ExecuteOptions eo;
    eo.method = method;
    eo.by = "study-executor";
    eo.method_opts = method_opts(o, method);
    eo.device = o.device;
    Deployment d = fresh_deployment(o, o.out / method / "sequential");
    std::vector<std::string> ids;
    for (const auto& p : patients) ids.push_back(submit_request(d, "patient:" + p, "sequential study", "study-submitter").id);
    for (size_t k = 0; k < ids.size(); ++k) {
      const auto t = std::chrono::steady_clock::now();
      approve_request(d, ids[k], "study-approver");
      const auto outcomes = execute_requests(d, eo);
      std::string verdict = outcomes.empty() ? "" : outcomes.back().error.empty() ? "" : "error";
      for (const auto& oc : outcomes)
        for (const auto& [r, v] : oc.verdicts)
          if (r == ids[k]) verdict = v;
      if (verdict == "error") fail("study: " + method + " could not execute request " + std::to_string(k + 1) + ": " +
                                   outcomes.back().error);
      const std::string version = current_version(d.ledger().entries());
      const StepScores sc = score(d.dir / "versions" / version, o, s, patients, k + 1);
      const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
      study["rows"].push_back(row(method, "sequential", std::to_string(k + 1), sc, ids[k], verdict, secs));
      save();
      log_info("study: " + method + " step " + std::to_string(k + 1) + "/" + std::to_string(ids.size()) + " " +
               verdict + " in " + cell(secs) + " s");
    }
    if (!o.batch) continue;
    const auto t = std::chrono::steady_clock::now();
    Deployment b = fresh_deployment(o, o.out / method / "batch");
    for (const auto& p : patients)
      approve_request(b, submit_request(b, "patient:" + p, "sequential study", "study-submitter").id, "study-approver");
    eo.mode = "batch";
    const auto outcomes = execute_requests(b, eo);
    if (outcomes.empty() || !outcomes.back().error.empty())
      fail("study: " + method + " could not execute the batch: " + (outcomes.empty() ? "" : outcomes.back().error));
    size_t verified = 0;
    for (const auto& [r, v] : outcomes.back().verdicts) verified += v == "verified";
    const StepScores sc = score(b.dir / "versions" / current_version(b.ledger().entries()), o, s, patients,
                                patients.size());
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
    study["rows"].push_back(row(method, "batch", "batch", sc, "",
                                std::to_string(verified) + "/" + std::to_string(patients.size()) + " verified", secs));
    save();
  }
  write_outputs(o, study);
  write_manifest(o.out, "study", params, inputs);
  return study;
}

}  // namespace medforget
