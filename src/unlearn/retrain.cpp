// Retrain: the exact-unlearning oracle. A fresh model of the same
// architecture and tokenizer, fine-tuned on the retain set alone with the
// vanilla model's own recipe (epochs, learning rate, batch size, ... read from
// its manifest). The other methods are judged against it (forget quality,
// PrivLeak) and NPO uses it as its reference policy.
#include "core/error.hpp"
#include "core/manifest.hpp"
#include "model/checkpoint.hpp"
#include "train/trainer.hpp"
#include "unlearn/method.hpp"

namespace medforget {
namespace {

class Retrain : public Method {
 public:
  std::string name() const override { return "retrain"; }
  std::string summary() const override { return "fine-tune from scratch on the retain set (exact unlearning)"; }
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
    torch::manual_seed(ctx.seed);
    MultimodalModel fresh(ctx.model.config);
    fresh->to(ctx.device);
    auto data = make_examples(ctx.request.retain, ctx.model.tokenizer, ctx.model.config, ctx.images);
    TrainResult r = train_sft(fresh, data, ctx.model.tokenizer.pad_id(), o, ctx.work_dir / "state", ctx.device);
    if (!r.finished) fail("retrain: stopped after step " + std::to_string(r.steps) + "; run again to resume");
    fresh->eval();
    ctx.model.model = fresh;
    return {{"epochs", o.epochs}, {"lr", o.lr},          {"batch_size", o.batch_size},
            {"steps", r.steps},   {"seconds", r.seconds}, {"last_loss", r.last_loss},
            {"resumed_from", r.resumed_from}};
  }
};

}  // namespace

std::unique_ptr<Method> make_retrain() { return std::make_unique<Retrain>(); }

}  // namespace medforget
