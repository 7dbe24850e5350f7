#pragma once
// Supervised fine-tuning: AdamW, linear warmup + cosine decay, gradient
// clipping, padding-aware batches, deterministic order, a progress bar with
// loss, tokens/s and ETA, and periodic atomic training-state snapshots that a
// killed run resumes from.
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "core/json.hpp"
#include "train/batch.hpp"

namespace medforget {

struct TrainOptions {
  int epochs = 10;
  int batch_size = 16;
  double lr = 1e-3;
  double min_lr_ratio = 0.1;  // cosine floor, as a fraction of lr
  double warmup = 0.05;       // fraction of all steps
  double weight_decay = 0.01;
  double grad_clip = 1.0;
  uint64_t seed = 1;
  int checkpoint_every = 200;  // steps between state snapshots (0: only at epoch ends)
  int64_t stop_after = 0;      // stop (as if killed) after this many steps; 0 = run to the end (tests)
  double max_seconds = 0;      // save a snapshot and stop after this much wall time; 0 = no limit
  int curve_points = 256;      // about this many points of the loss curve over the whole run
  std::string label = "finetune";
};

struct TrainResult {
  int64_t steps = 0, total_steps = 0;
  double last_loss = 0, mean_last_epoch_loss = 0;
  double seconds = 0, tokens_per_second = 0;
  int64_t resumed_from = 0;  // step a resumed run started at (0: fresh)
  bool finished = false;
  // The smoothed training loss at evenly spaced steps: [[step, loss, lr], ...],
  // carried across resumed runs in the snapshot.
  Json loss_curve = Json::array();
};

// Range-checks every numeric field (core/ranges.hpp); Error naming `what` and the field.
void validate_train_options(const std::string& what, const TrainOptions& o);

double lr_at(int64_t step, int64_t total, const TrainOptions& o);  // the schedule, for tests and logs

// Batches of similar length: shuffle by (seed, epoch), sort within windows of
// 50 batches, shuffle batch order. Pure function of its inputs.
std::vector<std::vector<size_t>> epoch_batches(const std::vector<Example>& data, int batch_size, uint64_t seed,
                                               int epoch);

// Trains `model` in place. `state_dir` holds the resumable snapshot (model,
// optimizer, step); when it exists the run resumes from it. Snapshots are
// written atomically, so a kill at any moment leaves the previous one intact.
TrainResult train_sft(MultimodalModel& model, const std::vector<Example>& data, int pad_id, const TrainOptions& opt,
                      const std::filesystem::path& state_dir, const torch::Device& device);

}  // namespace medforget
