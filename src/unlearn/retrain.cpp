// Retrain: the exact-unlearning oracle. The vanilla model's own recipe (epochs,
// learning rate, batch size, ... read from its manifest) on the retain set
// alone: from a fresh model of the same architecture and tokenizer in the
// from-scratch regime, or, for a model LoRA-fine-tuned from a pretrained one,
// from that same pretrained model with adapters of the same shape, merged. The other methods are judged against it (forget quality,
// PrivLeak) and NPO uses it as its reference policy.
#include "core/error.hpp"
#include "core/manifest.hpp"
#include "model/checkpoint.hpp"
#include "model/lora.hpp"
#include "train/trainer.hpp"
#include "unlearn/method.hpp"

namespace medforget {
namespace {

class Retrain : public Method {
 public:
  std::string name() const override { return "retrain"; }
  std::string summary() const override {
    return "fine-tune on the retain set alone, from where vanilla started (exact unlearning)";
  }
  std::vector<MethodOption> options() const override {
    return {{"epochs", 0, "epochs (0: the vanilla model's)", at_least(0)},
            {"lr", 0.0, "peak learning rate (0: the vanilla model's)", at_least(0)},
            {"checkpoint_every", 200, "steps between resumable snapshots", option_range("checkpoint_every")}};
  }
  Json run(UnlearnContext& ctx, const Json& p) override {
    Json mp = read_checkpoint_manifest(ctx.model.dir).at("params");
    auto need = [&](const char* k) {
      if (!mp.contains(k))
        fail(ctx.model.dir.string() + ": manifest has no training parameter '" + k +
             "' (retrain needs a checkpoint made by `medforget finetune`)");
      return mp.at(k);
    };
    TrainOptions o;
    o.epochs = p.at("epochs").get<int>() > 0 ? p.at("epochs").get<int>() : need("epochs").get<int>();
    o.lr = p.at("lr").get<double>() > 0 ? p.at("lr").get<double>() : need("lr").get<double>();
    o.batch_size = need("batch_size").get<int>();
    o.weight_decay = need("weight_decay").get<double>();
    o.warmup = need("warmup").get<double>();
    o.grad_clip = need("grad_clip").get<double>();
    o.seed = ctx.seed;
    o.checkpoint_every = p.at("checkpoint_every").get<int>();
    o.label = "retrain";
    const bool from_base = mp.contains("model") && mp.at("model").is_string() && !mp.at("model").get<std::string>().empty();
    std::optional<LoraConfig> lora;
    MultimodalModel fresh{nullptr};
    if (from_base) {
      const std::filesystem::path base = mp.at("model").get<std::string>();
      const Json digest = read_model_manifest(base).at("content_digest");
      if (mp.contains("model_digest") && digest != mp.at("model_digest"))
        fail("retrain: " + base.string() + " is not the model " + ctx.model.dir.string() +
             " was fine-tuned from (its content digest changed); Retrain must start where vanilla started");
      LoadedModel b = load_model(base, torch::kCPU, ctx.model.dtype);
      fresh = b.model;
      if (mp.contains("lora_spec") && mp.at("lora_spec").is_object()) {
        lora.emplace();
        lora->r = mp.at("lora_spec").at("r").get<int>();
        lora->alpha = mp.at("lora_spec").at("alpha").get<double>();
        lora->dropout = mp.at("lora_spec").at("dropout").get<double>();
        if (mp.contains("lora") && mp.at("lora").is_array()) lora->targets = mp.at("lora").get<std::vector<std::string>>();
        torch::manual_seed(ctx.seed);  // the adapters' initial A, as fine-tuning draws it
        apply_lora(fresh, *lora);
      }
    } else {
      torch::manual_seed(ctx.seed);
      fresh = MultimodalModel(ctx.model.config);
    }
    fresh->to(ctx.device);
    auto data = make_examples(ctx.request.retain, ctx.model.tokenizer, ctx.model.config, ctx.images);
    TrainResult r = train_sft(fresh, data, ctx.model.tokenizer.pad_id(), o, ctx.work_dir / "state", ctx.device);
    if (!r.finished) fail("retrain: stopped after step " + std::to_string(r.steps) + "; run again to resume");
    if (lora) merge_lora(fresh);
    fresh->eval();
    ctx.model.model = fresh;
    return {{"epochs", o.epochs}, {"lr", o.lr},          {"batch_size", o.batch_size},
            {"steps", r.steps},   {"seconds", r.seconds}, {"last_loss", r.last_loss},
            {"resumed_from", r.resumed_from},
            {"start", from_base ? "pretrained model " + mp.at("model").get<std::string>() : std::string("scratch")},
            {"lora", lora ? Json{{"r", lora->r}, {"alpha", lora->alpha}, {"dropout", lora->dropout}} : Json(nullptr)}};
  }
};

}  // namespace

std::unique_ptr<Method> make_retrain() { return std::make_unique<Retrain>(); }

}  // namespace medforget
