#pragma once
// The loop the training-based baselines share (GradDiff, KL-Min, NPO): each
// step takes one forget batch and one retain batch (interleaved, both cycled
// in a seeded order) and follows the gradient of the method's objective.
#include <functional>
#include <string>
#include <vector>

#include "unlearn/method.hpp"

namespace medforget {

// Options every gradient method has, with defaults sized for the CPU presets.
// `stop` picks when training ends:
//   epochs      after `epochs` passes over the forget set (the default);
//   calibrated  as soon as the forget set scores like data the model never saw:
//               its mean answer NLL reaches the mean answer NLL of held-out
//               items of the same tasks (general.jsonl: institutions, patients
//               and images that fine-tuning never saw), weighted to the forget
//               set's task mix; at most `max_epochs` passes.
std::vector<MethodOption> gradient_options();

// Checks across the gradient options (the stop mode's name); a method calls it
// from Method::check so a bad value fails before any model is loaded.
void check_gradient_params(const std::string& method, const Json& params);

// The objective for one step; `log` receives named scalars for the progress
// line and provenance (e.g. {"forget_nll": 3.2}).
using StepObjective = std::function<torch::Tensor(const Batch& forget, const Batch& retain, Json& log)>;

// Confines training to the true entries of `mask` in one parameter (e.g. the
// rows of a few neurons); with any of these given, every other parameter and
// entry stays bit-identical.
struct TrainableEntries {
  std::string parameter;
  torch::Tensor mask;  // bool, the parameter's shape
};

// Runs epochs × ceil(|forget| / batch_size) steps of AdamW at a constant
// learning rate, on every weight or only on `only` (stop=calibrated: until the
// forget NLL reaches the held-out target, at most max_epochs × that many).
// Returns {"steps", "seconds", "last": log of the last step, "stop": the mode,
// and for calibrated the target, each check's forget NLL and why it stopped}.
Json gradient_unlearn(UnlearnContext& ctx, const Json& params, const std::string& label, const StepObjective& objective,
                      const std::vector<TrainableEntries>& only = {});

// Loads another copy of a checkpoint (frozen, eval mode) on ctx's device:
// the original model for KL-Min, the reference policy for NPO.
LoadedModel load_frozen(const std::filesystem::path& dir, const UnlearnContext& ctx);

}  // namespace medforget
