#include "unlearn/unlearn.hpp"

#include "model/lora.hpp"

#include <chrono>

#include "core/error.hpp"
#include "core/fs.hpp"
#include "core/manifest.hpp"
#include "core/progress.hpp"
#include "model/checkpoint.hpp"
#include "unlearn/method.hpp"

namespace medforget {

Json run_unlearn(const UnlearnJob& job) {
  // Everything that can be checked without the model is checked first.
  Json bm = read_verified_manifest(job.bench, "benchmark");
  ForgetRequest req = resolve_request(job.bench, level_from_name(job.level), job.targets, job.forgotten);
  auto method = make_method(job.method);
  Json params = resolve_method_params(*method, job.params);
  method->check(params);
  Json mm = read_checkpoint_manifest(job.model);
  if (mm.contains("inputs") && mm["inputs"].contains("bench_digest") &&
      mm["inputs"]["bench_digest"] != bm.at("content_digest"))
    log_warn("unlearn: " + job.model.string() + " was fine-tuned on another benchmark than " + job.bench.string());

  const auto t0 = std::chrono::steady_clock::now();
  const torch::Device device = parse_device(job.device);
  LoadedModel m = load_model(job.model, device, dtype_option(job.dtype));
  ImageCache images(job.bench, m.config.image_processor);
  // Resumable state of iterative methods (retrain) lives here until the checkpoint is saved.
  std::filesystem::path work = job.out.string() + ".partial";
  UnlearnContext ctx{m, req, job.bench, images, device, job.seed, work, job.dump};
  log_info("unlearn: " + job.method + " at the " + job.level + " level: " + std::to_string(req.targets.size()) +
           " target(s), " + std::to_string(req.forget.size()) + " forget / " + std::to_string(req.retain.size()) +
           " retain items");
  // A LoRA model: gradient methods may train the adapters alone; every other
  // method (and adapters_only=false) edits the merged weights.
  Json lora = nullptr;
  if (has_lora(m.model)) {
    const bool adapters = params.contains("adapters_only") && params["adapters_only"].get<bool>() &&
                          job.method != "mip_editor";
    if (!adapters) merge_lora(m.model);
    lora = {{"adapter", std::filesystem::absolute(m.adapter).string()},
            {"edited", adapters ? "the LoRA adapters only, merged afterwards" : "the merged weights"}};
  }
  const auto t_run = std::chrono::steady_clock::now();
  Json report = method->run(ctx, params);
  merge_lora(m.model);  // the output is one checkpoint
  const double method_secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_run).count();
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  Json request = req.to_json();
  if (!job.recorded_targets.empty()) {
    if (job.recorded_targets.size() != req.targets.size())
      fail("unlearn: " + std::to_string(job.recorded_targets.size()) + " recorded targets for " +
           std::to_string(req.targets.size()) + " targets");
    request["targets"] = job.recorded_targets;
  }
  Json prov = {{"format", "medforget-provenance"},
               {"method", job.method},
               {"variant", job.name.empty() ? job.method : job.name},
               {"params", params},
               {"request", request},
               {"input_checkpoint", {{"dir", std::filesystem::absolute(job.model).string()},
                                     {"digest", mm.at("content_digest")}}},
               {"bench", {{"dir", std::filesystem::absolute(job.bench).string()}, {"digest", bm.at("content_digest")}}},
               {"seed", job.seed},
               {"device", job.device},
               {"dtype", dtype_name(m.dtype)},
               {"lora", lora},
               {"wall_seconds", secs},
               {"method_seconds", method_secs},  // the method alone, without loading the model
               {"report", report},
               {"command_line", command_line()},
               {"medforget_version", kMedforgetVersion}};
  Json mparams = {{"method", job.method}, {"params", params}, {"level", job.level}, {"seed", job.seed},
                  {"targets", request.at("targets")}};
  if (job.extra_provenance.is_object()) prov.update(job.extra_provenance);
  Json inputs = {{"model", std::filesystem::absolute(job.model).string()},
                 {"model_digest", mm.at("content_digest")},
                 {"bench", std::filesystem::absolute(job.bench).string()},
                 {"bench_digest", bm.at("content_digest")}};
  save_model(job.out, m.model, m.tokenizer.file(), mparams, inputs, {{"provenance.json", prov}});
  std::filesystem::remove_all(work);
  return prov;
}

}  // namespace medforget
