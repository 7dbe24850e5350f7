#pragma once
// Every stage directory holds manifest.json: format version, the command line,
// parameters, input digests and the digest of its own content. It is written
// last, so a directory without a valid manifest is an unfinished stage.
#include <filesystem>
#include <string>

#include "core/json.hpp"

namespace medforget {

constexpr int kManifestVersion = 1;
constexpr const char* kMedforgetVersion = "0.2.0";

void set_command_line(int argc, char** argv);
const std::string& command_line();

// Computes the content digest over every file in dir except manifest.json.
Json write_manifest(const std::filesystem::path& dir, const std::string& stage, const Json& params,
                    const Json& inputs, const Json& extra = Json::object());
// Reads and checks the manifest's format and stage; Error otherwise.
Json read_manifest(const std::filesystem::path& dir, const std::string& expected_stage);
// Recomputes the content digest; Error naming the directory on mismatch.
void verify_manifest_digest(const std::filesystem::path& dir, const Json& manifest);

// read_manifest + verify_manifest_digest, for inputs whose digest a command
// records (a benchmark edited after its build must not be scored as the one the
// digest names). The full hash is skipped when every file's size, mtime, ctime
// and inode are what they were at the last verification (a cache under
// $XDG_CACHE_HOME/medforget/digests, or ~/.cache/...; MEDFORGET_CACHE overrides).
Json read_verified_manifest(const std::filesystem::path& dir, const std::string& expected_stage);

// sha256_tree(dir, {"manifest.json"}), cached the same way: a directory
// medforget did not write (a Hugging Face model) is hashed in full only when a
// file changed since the last time.
std::string cached_tree_digest(const std::filesystem::path& dir);

// A model directory's manifest: medforget's (stage "checkpoint"), or for a
// Hugging Face model or PEFT adapter directory without one, a manifest of that
// stage with format "huggingface" / "peft-adapter" and the files' content digest, so every result and provenance
// record names the exact weights it came from.
Json read_model_manifest(const std::filesystem::path& dir);
// dir/manifest.json exists and is of stage "checkpoint" (an `export` directory's is not).
bool has_checkpoint_manifest(const std::filesystem::path& dir);

}  // namespace medforget
