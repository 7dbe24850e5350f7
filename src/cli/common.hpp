#pragma once
// Pieces the commands share (eval, attack, mia, unlearn).
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "core/json.hpp"
#include "eval/judge.hpp"
#include "train/trainer.hpp"

namespace medforget::cli {

// The LLM judge when MEDFORGET_JUDGE_URL is set (logged), else nullopt; its
// cache defaults to $XDG_CACHE_HOME/medforget/judge or ~/.cache/medforget/judge.
std::optional<Judge> judge_for_cli();

// "a,b,,c" -> {"a", "b", "c"}: comma-separated lists of sets, targets, ...
std::vector<std::string> split_list(const std::string& s);

// The schedule options every training command takes (finetune, pretrain):
// --epochs, --lr, --batch-size (defaults per preset), --weight-decay, --warmup,
// --grad-clip, --checkpoint-every.
void add_train_options(CLI::App* cmd, TrainOptions& t);

// What a checkpoint's manifest records of its training run (`params.train_result`).
Json train_result_json(const TrainResult& r, int64_t n_params);
// True, after printing how to go on, when a training run stopped before its last
// step (--stop-after, --max-seconds): the caller writes no checkpoint.
bool stopped_early(const TrainResult& r);

// A resumable command's options, recorded in `partial`/options.json on its first
// run; a later run must give the same ones (Error listing what differs), or its
// snapshot would be trained on with options the result does not record.
void record_or_check_options(const std::filesystem::path& partial, const Json& options);

}  // namespace medforget::cli
