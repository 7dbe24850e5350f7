// medforget export: a checkpoint as a Hugging Face model directory.
#include <cstdio>

#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "core/error.hpp"
#include "core/fs.hpp"
#include "core/manifest.hpp"
#include "core/output.hpp"
#include "model/hf_export.hpp"
#include "model/model_io.hpp"

namespace medforget::cli {

void register_export(CLI::App& app) {
  static std::string model, out, dtype;
  static double shard_gb = 5.0;
  static bool force = false;
  auto* cmd = app.add_subcommand(
      "export", "Write a checkpoint as a Hugging Face directory (transformers, vLLM) with a model card");
  cmd->add_option("--model", model, "Checkpoint directory (medforget or Hugging Face)")->required();
  cmd->add_option("--out", out, "Output directory")->required();
  cmd->add_option("--dtype", dtype, "Store the weights as bf16 | fp16 | fp32 (default: as the checkpoint stores them)");
  cmd->add_option("--shard-size", shard_gb, "Largest weight file in GB before the weights are sharded (default 5)");
  cmd->add_flag("--force", force, "Replace a medforget directory of another kind at --out");
  cmd->callback([] {
    if (!(shard_gb > 0) || shard_gb > 1000) fail("export: --shard-size must be in (0, 1000] GB, got " + std::to_string(shard_gb));
    ExportOptions opt;
    opt.dtype = dtype_option(dtype);
    opt.shard_bytes = static_cast<uint64_t>(shard_gb * 1e9);
    OutputLock lock = claim_output(out, {"export", "export", {model}, force});
    StagingDir stage(out);
    ExportSummary s = export_hf_model(model, stage.path(), opt);
    write_manifest(stage.path(), "export",
                   {{"dtype", s.dtype}, {"shards", s.shards}, {"shard_bytes", opt.shard_bytes}},
                   {{"model", std::filesystem::absolute(model).string()},
                    {"model_digest", read_model_manifest(model).at("content_digest")}});
    stage.commit();
    std::printf("exported %s -> %s: %d tensors, %s, %.1f MB in %d file%s\n", model.c_str(), out.c_str(), s.tensors,
                s.dtype.c_str(), static_cast<double>(s.total_bytes) / 1e6, s.shards, s.shards == 1 ? "" : "s");
  });
}

}  // namespace medforget::cli
