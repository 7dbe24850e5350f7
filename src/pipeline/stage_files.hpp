#pragma once
// What a run directory holds for each stage, shared by the scheduler and
// --status: the output's content digest, the ledger entry, the cache key.
#include <filesystem>
#include <map>
#include <string>

#include "core/json.hpp"
#include "pipeline/pipeline.hpp"

namespace medforget {

std::string expand_out(const std::string& arg, const std::filesystem::path& out);  // "$OUT" -> out
std::string flat_name(const std::string& stage_name);                              // "eval/x" -> "eval_x"
// Content digest of a finished stage directory (its manifest), "" if unfinished.
std::string finished_digest(const std::filesystem::path& dir);
std::filesystem::path ledger_path(const std::filesystem::path& out, const Stage& s);
// Removes a stage's output directory and the DIR.partial state that a
// resumable command (finetune, unlearn) keeps beside it.
void remove_output(const std::filesystem::path& dir);
std::filesystem::path log_path(const std::filesystem::path& out, const Stage& s);
Json read_ledger(const std::filesystem::path& ledger);  // {} when absent or torn
// The cache key: the arguments and the content digests of the stages it reads;
// "" when one of them has no output yet. `--device` is left out: where a stage
// ran is an execution detail like its thread count (kept in its ledger), so a
// run moved between a GPU machine and a CPU one goes on where it was.
std::string stage_key(const Stage& s, const std::map<std::string, std::string>& digest_of);

// What the run directory holds for stage `s` under `key`. `digest` is what it is
// done under: its finished output's, or, when the output was removed (a run
// restored from records) but the ledger says done under `key` and other stages
// read it, the digest the ledger recorded: the stage is "kept". A stage nothing
// reads is never kept: its output is one of the run's results.
struct StageOnDisk {
  Json ledger;
  std::string have;    // the finished output's content digest, "" when there is none
  std::string digest;  // "" when the stage is not done under `key`
  bool under_key = false;  // the ledger was written under `key` (done or only started)
  bool kept() const { return have.empty() && !digest.empty(); }
};
StageOnDisk stage_on_disk(const std::filesystem::path& out, const Stage& s, const std::string& key,
                          bool read_by_others);

}  // namespace medforget
