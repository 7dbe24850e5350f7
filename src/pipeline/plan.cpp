// Which stages a configuration needs, in dependency order. A stage's deps are
// every stage whose output it reads (the benchmark too): a run restored from
// records makes a removed output again only when a stage that reads it runs.
#include <fnmatch.h>

#include <map>
#include <set>

#include "core/error.hpp"
#include "pipeline/pipeline.hpp"

namespace medforget {

namespace {

const char* const kFinetuneFlags[][2] = {{"epochs", "--epochs"},         {"lr", "--lr"},
                                         {"batch_size", "--batch-size"}, {"weight_decay", "--weight-decay"},
                                         {"warmup", "--warmup"},         {"grad_clip", "--grad-clip"},
                                         {"vocab_size", "--vocab-size"}, {"checkpoint_every", "--checkpoint-every"}};

const char* const kPretrainFlags[][2] = {{"epochs", "--epochs"},
                                         {"lr", "--lr"},
                                         {"batch_size", "--batch-size"},
                                         {"corpora", "--corpora"},
                                         {"data_preset", "--data-preset"},
                                         {"vocab_size", "--vocab-size"},
                                         {"weight_decay", "--weight-decay"},
                                         {"warmup", "--warmup"},
                                         {"grad_clip", "--grad-clip"},
                                         {"checkpoint_every", "--checkpoint-every"}};

std::string scalar(const Json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

}  // namespace

std::vector<Stage> plan_stages(const RunConfig& c) {
  std::vector<Stage> s;
  const std::string seed = std::to_string(c.seed), bench = "$OUT/bench", vanilla = "$OUT/models/vanilla";
  std::vector<std::string> data{"data", "build", "--preset", c.preset, "--seed", seed, "--out", bench};
  if (!c.corpus.empty()) data.insert(data.begin() + 2, {"--corpus", c.corpus, "--corpus-digest", c.corpus_digest});
  s.push_back({"data", data, "bench", {}, 1});
  const bool pretrained = c.regime == "pretrained";
  std::string base_model;
  std::vector<std::string> ft_deps{"data"};
  if (pretrained && c.pretrain.contains("model")) {
    base_model = c.pretrain["model"].get<std::string>();
  } else if (pretrained) {
    // Independent of the benchmark: a changed benchmark re-runs fine-tuning, not the hours of pretraining.
    base_model = "$OUT/models/pretrained";
    Stage pt{"pretrain",
             {"pretrain", "--preset", c.model_preset, "--seed", seed, "--device", c.device, "--out", base_model},
             "models/pretrained",
             {},
             80};
    for (const auto& [key, flag] : kPretrainFlags)
      if (c.pretrain.contains(key)) pt.args.insert(pt.args.end(), {flag, scalar(c.pretrain[key])});
    s.push_back(pt);
    ft_deps.push_back("pretrain");
  }
  Stage ft{"finetune", {"finetune", "--bench", bench, "--out", vanilla}, "models/vanilla", ft_deps, 40};
  if (pretrained) {
    // The paper's step 1: LoRA on the pretrained model, merged so every method edits one set of weights.
    const auto& d = regime_finetune_defaults(c.model_preset);
    ft.args.insert(ft.args.end(), {"--model", base_model, "--lora", c.finetune.value("lora", std::string(d.lora)),
                                   "--merge", "--epochs", c.finetune.contains("epochs") ? scalar(c.finetune["epochs"])
                                                                                         : std::to_string(d.epochs),
                                   "--lr", c.finetune.contains("lr") ? scalar(c.finetune["lr"]) : scalar(Json(d.lr))});
  } else {
    ft.args.insert(ft.args.end(), {"--preset", c.model_preset});
  }
  ft.args.insert(ft.args.end(), {"--seed", seed, "--device", c.device});
  for (const auto& [key, flag] : kFinetuneFlags)
    if (c.finetune.contains(key) && !(pretrained && (std::string(key) == "epochs" || std::string(key) == "lr")))
      ft.args.insert(ft.args.end(), {flag, scalar(c.finetune[key])});
  s.push_back(ft);
  const std::string limit = c.eval_limit > 0 ? std::to_string(c.eval_limit) : "";
  auto with_limit = [&](std::vector<std::string> a) {
    if (!limit.empty()) a.insert(a.end(), {"--limit", limit});
    return a;
  };
  // Retrain first: NPO's reference policy and the MIA comparison need it.
  std::vector<RunVariant> order;
  for (const auto& v : c.variants)
    if (v.method == "retrain") order.push_back(v);
  for (const auto& v : c.variants)
    if (v.method != "retrain") order.push_back(v);
  std::string retrain_name;
  for (const auto& v : order)
    if (v.method == "retrain" && retrain_name.empty()) retrain_name = v.name;
  const bool has_retrain = !retrain_name.empty();

  std::vector<std::string> report_deps;
  // One measuring stage (eval or attack) of `model` at level L, read by the report.
  auto measure = [&](const std::string& cmd, const std::string& model, const std::string& L,
                     const std::string& label, const std::string& id, const std::string& dep, double weight) {
    const std::string dir = cmd + "/" + id;
    s.push_back({dir,
                 with_limit({cmd, "--model", model, "--bench", bench, "--level", L, "--label", label, "--device",
                             c.device, "--out", "$OUT/" + dir}),
                 dir,
                 {dep, "data"},
                 weight});
    report_deps.push_back(dir);
  };
  for (const auto& L : c.levels) {
    measure("eval", vanilla, L, "Vanilla", "vanilla-" + L, "finetune", 6);
    for (const auto& v : order) {
      const std::string id = v.name + "-" + L, model = "$OUT/models/" + id;
      Stage u{"unlearn/" + id,
              {"unlearn", "--model", vanilla, "--bench", bench, "--level", L, "--method", v.method, "--name", v.name,
               "--seed", seed, "--device", c.device, "--out", model},
              "models/" + id,
              {"finetune", "data"},
              v.method == "retrain" ? 40.0 : v.method == "chip" ? 2.0 : 4.0};
      Json opts = v.options;
      if (v.method == "npo" && !opts.contains("reference")) {
        if (has_retrain) {
          opts["reference"] = "$OUT/models/" + retrain_name + "-" + L;
          u.deps.push_back("unlearn/" + retrain_name + "-" + L);
        } else {
          opts["reference"] = "vanilla";
        }
      }
      for (const auto& [k, x] : opts.items()) u.args.insert(u.args.end(), {"--opt", k + "=" + scalar(x)});
      s.push_back(u);
      measure("eval", model, L, v.label, id, u.name, 6);
      if (c.attack && v.method != "retrain") measure("attack", model, L, v.label, id, u.name, 3);
    }
    if (c.mia) {
      struct Measured {
        std::string name, model, label;
      };
      std::vector<Measured> models;
      for (const auto& v : order) models.push_back({v.name, "$OUT/models/" + v.name + "-" + L, v.label});
      // Vanilla after Retrain (first in `order`): every other MIA stage reads Retrain's.
      models.insert(models.begin() + (has_retrain ? 1 : 0), {"vanilla", vanilla, "Vanilla"});
      for (const auto& [name, model, label] : models) {
        const std::string m = "mia/" + name + "-" + L;
        // The label, as for eval and attack, so the MIA table's rows read as the other tables'.
        Stage st{m,
                 with_limit({"mia", "--model", model, "--bench", bench, "--level", L, "--label", label, "--device",
                             c.device, "--out", "$OUT/" + m}),
                 m,
                 {name == "vanilla" ? "finetune" : "unlearn/" + name + "-" + L, "data"},
                 2};
        // Every model of the level is compared with Retrain's scores from Retrain's own
        // MIA stage, so the oracle's pass over the items runs once per level, not once per model.
        if (name == retrain_name) {
          st.args.insert(st.args.end(), {"--retrained", model});
        } else if (has_retrain) {
          st.args.insert(st.args.end(), {"--retrained-mia", "$OUT/mia/" + retrain_name + "-" + L});
          st.deps.push_back("mia/" + retrain_name + "-" + L);
        }
        s.push_back(st);
        report_deps.push_back(m);
      }
    }
  }
  // Exactly this run's results: stale directories of an earlier configuration are not picked up.
  Stage rep{"report", {"report", "--regime", c.regime, "--out", "$OUT/report"}, "report", report_deps, 0.2};
  for (const auto& d : report_deps) rep.args.push_back("$OUT/" + d);
  s.push_back(rep);
  return s;
}

std::vector<bool> match_stages(const std::vector<Stage>& stages, const std::vector<std::string>& patterns,
                               const std::string& option, const std::string& among) {
  std::vector<bool> hit(stages.size(), false);
  for (const auto& pattern : patterns) {
    bool any = false;
    for (size_t i = 0; i < stages.size(); ++i)
      if (fnmatch(pattern.c_str(), stages[i].name.c_str(), 0) == 0) hit[i] = any = true;
    if (!any)
      fail(option + ": '" + pattern + "' matches no stage " + among + " (--dry-run lists them; a glob such as "
           "'unlearn/chip*' or '*-patient')");
  }
  return hit;
}

std::vector<Stage> select_stages(const std::vector<Stage>& stages, const std::vector<std::string>& patterns) {
  std::vector<bool> keep = match_stages(stages, patterns, "--only", "of this plan");
  std::set<std::string> needed;  // read by a kept stage planned after it
  for (size_t i = stages.size(); i-- > 0;) {
    if (needed.count(stages[i].name)) keep[i] = true;
    if (keep[i]) needed.insert(stages[i].deps.begin(), stages[i].deps.end());
  }
  std::vector<Stage> out;
  for (size_t i = 0; i < stages.size(); ++i)
    if (keep[i]) out.push_back(stages[i]);
  return out;
}

}  // namespace medforget
