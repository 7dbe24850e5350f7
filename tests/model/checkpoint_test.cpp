#include "model/checkpoint.hpp"
#include "text/tokenizer.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <limits>

#include "core/digest.hpp"
#include "core/error.hpp"
#include "core/fs.hpp"
#include "core/manifest.hpp"
#include "test_util.hpp"

using namespace medforget;
using medforget::test::error_of;
using medforget::test::expect_contains;
using medforget::test::TempDir;

namespace {

ModelConfig tiny_config() { return model_preset_with_ids("tiny", 100); }

// A few named parameters with awkward values (NaN, Inf, -0, denormals).
NamedTensors make_tensors(uint64_t seed) {
  torch::manual_seed(seed);
  NamedTensors t;
  t.emplace_back("model.embed_tokens.weight", torch::randn({100, 64}));
  t.emplace_back("model.layers.0.mlp.gate_proj.weight", torch::randn({176, 64}));
  t.emplace_back("model.norm.weight", torch::ones({64}));
  t.emplace_back("visual.merger.mlp.0.weight", torch::randn({256, 256}));
  auto& special = t.back().second;
  special[0][0] = std::numeric_limits<float>::quiet_NaN();
  special[0][1] = std::numeric_limits<float>::infinity();
  special[0][2] = -std::numeric_limits<float>::infinity();
  special[0][3] = -0.0f;
  special[0][4] = std::numeric_limits<float>::denorm_min();
  return t;
}

ExpectedShapes shapes_of(const NamedTensors& t) {
  ExpectedShapes e;
  for (const auto& [n, x] : t) e.emplace_back(n, x.sizes().vec());
  return e;
}

bool bit_equal(const torch::Tensor& a, const torch::Tensor& b) {
  if (a.scalar_type() != b.scalar_type() || a.sizes() != b.sizes()) return false;
  if (a.numel() == 0) return true;  // data_ptr() may be null: memcmp's arguments must not be
  auto ca = a.contiguous(), cb = b.contiguous();
  return std::memcmp(ca.data_ptr(), cb.data_ptr(), ca.numel() * ca.element_size()) == 0;
}

std::filesystem::path write_tokenizer(const TempDir& tmp) {
  auto p = tmp / "source" / "tokenizer.json";
  std::filesystem::create_directories(p.parent_path());
  TokenizerTrainOptions o;
  o.vocab_size = 256;
  Tokenizer::train({"the heart is normal", "no effusion"}, p, o);
  return p;
}

void expect_tensors(const std::map<std::string, torch::Tensor>& got, const NamedTensors& want) {
  ASSERT_EQ(got.size(), want.size());
  for (const auto& [n, t] : want) {
    SCOPED_TRACE(n);
    ASSERT_TRUE(got.count(n));
    EXPECT_TRUE(got.at(n).device().is_cpu());
    EXPECT_TRUE(bit_equal(got.at(n), t));
  }
}

}  // namespace

TEST(Checkpoint, TorchConversionBitExactEveryDtype) {
  torch::manual_seed(3);
  std::vector<torch::Tensor> ts = {
      torch::randn({3, 5}, torch::kFloat64),
      torch::randn({4, 4}),
      torch::randint(0, 65536, {7}, torch::kInt32).to(torch::kInt16).view(torch::kFloat16),  // every bit pattern
      torch::randint(0, 65536, {7}, torch::kInt32).to(torch::kInt16).view(torch::kBFloat16),
      torch::randint(-1000000, 1000000, {2, 3}, torch::kInt64),
      torch::randint(-1000, 1000, {6}, torch::kInt32),
      torch::randint(-100, 100, {6}, torch::kInt16),
      torch::randint(-100, 100, {6}, torch::kInt8),
      torch::randint(0, 255, {2, 2, 2}, torch::kUInt8),
      torch::randint(0, 2, {5}, torch::kInt32).to(torch::kBool),
      torch::empty({0, 3}),
      torch::tensor(2.5f),
  };
  for (const auto& t : ts) {
    SCOPED_TRACE(c10::toString(t.scalar_type()));
    RawTensor r = from_torch(t);
    EXPECT_EQ(r.dtype, safetensors_dtype(t.scalar_type()));
    EXPECT_EQ(r.shape, t.sizes().vec());
    EXPECT_EQ(r.data.size(), static_cast<size_t>(t.numel() * t.element_size()));
    torch::Tensor back = to_torch(r);
    EXPECT_TRUE(bit_equal(back, t));
  }
  // Non-contiguous views are stored in logical order.
  torch::Tensor a = torch::arange(12, torch::kFloat32).reshape({3, 4});
  torch::Tensor back = to_torch(from_torch(a.t()));
  EXPECT_TRUE(back.is_contiguous());
  EXPECT_TRUE(torch::equal(back, a.t()));
  // requires_grad parameters are fine.
  torch::Tensor p = torch::randn({2}, torch::requires_grad());
  EXPECT_TRUE(bit_equal(to_torch(from_torch(p)), p.detach()));

  expect_contains(error_of([] { from_torch(torch::zeros({2}, torch::kComplexFloat)); }), "cannot be stored");
  expect_contains(error_of([] { to_torch(RawTensor{"U16", {1}, {0, 0}}); }), "U16");
  expect_contains(error_of([] { to_torch(RawTensor{"F32", {2}, {0, 0, 0}}); }), "needs 8 bytes");
}

TEST(Checkpoint, CudaTensorsAreMovedToCpu) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  torch::Tensor t = torch::randn({8, 8});
  EXPECT_TRUE(bit_equal(to_torch(from_torch(t.to(torch::kCUDA))), t));
}

TEST(Checkpoint, SaveLoadBitExact) {
  TempDir tmp;
  auto tok = write_tokenizer(tmp);
  auto cfg = tiny_config();
  auto tensors = make_tensors(1);
  auto dir = tmp / "ckpt";
  save_checkpoint(dir, cfg, tensors, tok, {{"steps", 10}}, {{"benchmark", "abc123"}});

  for (const char* f : {"config.json", "preprocessor_config.json", "model.safetensors", "tokenizer.json",
                        "tokenizer_config.json", "generation_config.json", "manifest.json"})
    EXPECT_TRUE(std::filesystem::is_regular_file(dir / f)) << f;
  EXPECT_EQ(read_bytes(dir / "tokenizer.json"), read_bytes(tok));
  EXPECT_EQ(read_json(dir / "tokenizer_config.json")["chat_template"], qwen2_5_vl_chat_template());
  // No staging leftovers next to the checkpoint (and the tokenizer's source directory).
  size_t entries = 0;
  for (const auto& e : std::filesystem::directory_iterator(tmp.path())) entries += e.is_directory();
  EXPECT_EQ(entries, 2u);

  Json m = read_checkpoint_manifest(dir);
  EXPECT_EQ(m["stage"], "checkpoint");
  EXPECT_EQ(m["params"]["steps"], 10);
  EXPECT_EQ(m["params"]["config"], cfg.to_json());
  EXPECT_EQ(m["inputs"]["benchmark"], "abc123");
  EXPECT_EQ(m["inputs"]["tokenizer"], sha256_file(tok));
  std::map<std::string, std::string> meta;
  read_safetensors(dir / "model.safetensors", &meta);
  EXPECT_EQ(meta["format"], "pt");  // what HF transformers expects from a torch checkpoint

  ModelConfig back = load_checkpoint_config(dir);
  EXPECT_EQ(back.to_json(), cfg.to_json());
  expect_tensors(load_checkpoint_tensors(dir, shapes_of(tensors)), tensors);

  // Same inputs → same bytes (manifest aside, which holds the command line).
  auto dir2 = tmp / "ckpt2";
  save_checkpoint(dir2, cfg, tensors, tok, {{"steps", 10}}, {{"benchmark", "abc123"}});
  EXPECT_EQ(sha256_tree(dir, {"manifest.json"}), sha256_tree(dir2, {"manifest.json"}));
}

TEST(Checkpoint, SaveRejectsBadInput) {
  TempDir tmp;
  auto tok = write_tokenizer(tmp);
  auto cfg = tiny_config();
  auto tensors = make_tensors(1);
  auto dup = tensors;
  dup.push_back(tensors.front());
  expect_contains(error_of([&] { save_checkpoint(tmp / "a", cfg, dup, tok, {}, {}); }), "given twice");
  expect_contains(error_of([&] { save_checkpoint(tmp / "a", cfg, tensors, tmp / "none.model", {}, {}); }),
                  "none.model");
  auto bad = cfg;
  bad.vision_config.out_hidden_size = 3;
  expect_contains(error_of([&] { save_checkpoint(tmp / "a", bad, tensors, tok, {}, {}); }), "out_hidden_size");
  expect_contains(error_of([&] { save_checkpoint(tmp / "a", cfg, tensors, tok, Json::array(), {}); }), "params");
  EXPECT_FALSE(std::filesystem::exists(tmp / "a"));
}

TEST(Checkpoint, MissingOrUnfinishedDirectory) {
  TempDir tmp;
  expect_contains(error_of([&] { load_checkpoint_config(tmp / "nothing"); }), "nothing");
  std::filesystem::create_directories(tmp / "half");
  write_atomic(tmp / "half" / "config.json", tiny_config().to_json().dump());
  expect_contains(error_of([&] { load_checkpoint_config(tmp / "half"); }), "manifest.json");
}

TEST(Checkpoint, MissingTensorFile) {
  TempDir tmp;
  auto tensors = make_tensors(1);
  auto dir = tmp / "ckpt";
  save_checkpoint(dir, tiny_config(), tensors, write_tokenizer(tmp), {}, {});
  std::filesystem::remove(dir / "model.safetensors");
  auto msg = error_of([&] { load_checkpoint_tensors(dir, shapes_of(tensors)); });
  expect_contains(msg, "model.safetensors");
  expect_contains(msg, "missing");
}

TEST(Checkpoint, TruncatedTensorFile) {
  TempDir tmp;
  auto tensors = make_tensors(1);
  auto dir = tmp / "ckpt";
  save_checkpoint(dir, tiny_config(), tensors, write_tokenizer(tmp), {}, {});
  auto bytes = read_bytes(dir / "model.safetensors");
  bytes.resize(bytes.size() / 2);
  write_atomic(dir / "model.safetensors", bytes);
  auto msg = error_of([&] { load_checkpoint_tensors(dir, shapes_of(tensors)); });
  expect_contains(msg, "model.safetensors");
}

TEST(Checkpoint, ShapeMismatchNamesFirstMismatch) {
  TempDir tmp;
  auto tensors = make_tensors(1);
  auto dir = tmp / "ckpt";
  save_checkpoint(dir, tiny_config(), tensors, write_tokenizer(tmp), {}, {});

  // A model built from a different config: gate_proj and the merger differ; the first is named.
  auto e = shapes_of(tensors);
  e[1].second = {352, 64};
  e[3].second = {128, 256};
  auto msg = error_of([&] { load_checkpoint_tensors(dir, e); });
  expect_contains(msg, "model.layers.0.mlp.gate_proj.weight");
  expect_contains(msg, "expected [352, 64], got [176, 64]");
  EXPECT_EQ(msg.find("visual.merger"), std::string::npos);

  e = shapes_of(tensors);
  e.insert(e.begin() + 2, {std::string("model.layers.1.mlp.gate_proj.weight"), std::vector<int64_t>{176, 64}});
  msg = error_of([&] { load_checkpoint_tensors(dir, e); });
  expect_contains(msg, "missing tensor 'model.layers.1.mlp.gate_proj.weight'");

  e = shapes_of(tensors);
  e.pop_back();
  msg = error_of([&] { load_checkpoint_tensors(dir, e); });
  expect_contains(msg, "unexpected tensor 'visual.merger.mlp.0.weight'");
}

TEST(Checkpoint, WrongDtypeNamed) {
  TempDir tmp;
  auto tensors = make_tensors(1);
  tensors[2].second = tensors[2].second.to(torch::kFloat16);
  auto dir = tmp / "ckpt";
  save_checkpoint(dir, tiny_config(), tensors, write_tokenizer(tmp), {}, {});
  auto msg = error_of([&] { load_checkpoint_tensors(dir, shapes_of(tensors)); });
  expect_contains(msg, "model.norm.weight");
  expect_contains(msg, "wrong dtype: expected F32");
  expect_contains(msg, "got F16");
}

TEST(Checkpoint, DigestTamperingDetected) {
  TempDir tmp;
  auto tensors = make_tensors(1);
  auto dir = tmp / "ckpt";
  save_checkpoint(dir, tiny_config(), tensors, write_tokenizer(tmp), {}, {});
  auto orig = read_bytes(dir / "model.safetensors");

  // One flipped bit in the last tensor's data: structurally valid, digest wrong.
  auto bytes = orig;
  bytes[bytes.size() - 3] ^= 0x01;
  write_atomic(dir / "model.safetensors", bytes);
  auto msg = error_of([&] { load_checkpoint_tensors(dir, shapes_of(tensors)); });
  expect_contains(msg, "digest mismatch");
  expect_contains(msg, dir.string());
  write_atomic(dir / "model.safetensors", orig);
  EXPECT_NO_THROW(load_checkpoint_tensors(dir, shapes_of(tensors)));

  // A swapped tokenizer is tampering too.
  auto tok = read_bytes(dir / "tokenizer.json");
  write_atomic(dir / "tokenizer.json", std::string("another tokenizer"));
  expect_contains(error_of([&] { load_checkpoint_tensors(dir, shapes_of(tensors)); }), "digest mismatch");
  write_atomic(dir / "tokenizer.json", tok);

  // An edited config.json no longer matches the manifest.
  Json cj = read_json(dir / "config.json");
  cj["rope_theta"] = 5000.0;
  write_json(dir / "config.json", cj);
  expect_contains(error_of([&] { load_checkpoint_config(dir); }), "differs from the config recorded");
}

TEST(Checkpoint, FailedSaveLeavesPreviousCheckpoint) {
  TempDir tmp;
  auto tok = write_tokenizer(tmp);
  auto dir = tmp / "ckpt";
  auto v1 = make_tensors(1);
  save_checkpoint(dir, tiny_config(), v1, tok, {{"version", 1}}, {});

  auto v2 = make_tensors(2);
  bool reached = false;
  checkpoint_detail::staging_hook = [&](const std::filesystem::path& staging) {
    reached = true;
    EXPECT_TRUE(std::filesystem::exists(staging / "model.safetensors"));
    throw std::runtime_error("simulated crash during save");
  };
  EXPECT_THROW(save_checkpoint(dir, tiny_config(), v2, tok, {{"version", 2}}, {}), std::runtime_error);
  checkpoint_detail::staging_hook = nullptr;
  EXPECT_TRUE(reached);

  EXPECT_EQ(read_checkpoint_manifest(dir)["params"]["version"], 1);
  expect_tensors(load_checkpoint_tensors(dir, shapes_of(v1)), v1);
  for (const auto& e : std::filesystem::directory_iterator(tmp.path()))
    EXPECT_TRUE(e.path() == dir || e.path() == tok || e.path() == tok.parent_path()) << "leftover " << e.path();

  save_checkpoint(dir, tiny_config(), v2, tok, {{"version", 2}}, {});
  expect_tensors(load_checkpoint_tensors(dir, shapes_of(v2)), v2);
}

TEST(Checkpoint, KilledSaveLeavesPreviousCheckpoint) {
  TempDir tmp;
  auto tok = write_tokenizer(tmp);
  auto dir = tmp / "ckpt";
  auto v1 = make_tensors(1);
  auto v2 = make_tensors(2);
  save_checkpoint(dir, tiny_config(), v1, tok, {{"version", 1}}, {});

  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // Child: die by SIGKILL halfway through the save (no destructors, no cleanup).
    checkpoint_detail::staging_hook = [](const std::filesystem::path&) { ::raise(SIGKILL); };
    try {
      save_checkpoint(dir, tiny_config(), v2, tok, {{"version", 2}}, {});
    } catch (...) {
    }
    ::_exit(3);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status)) << "child exited with " << WEXITSTATUS(status);
  EXPECT_EQ(WTERMSIG(status), SIGKILL);

  // The killed run left its staging directory behind, but the checkpoint is the old one.
  bool stale = false;
  for (const auto& e : std::filesystem::directory_iterator(tmp.path()))
    stale = stale || e.path().filename().string().rfind("ckpt.tmp-", 0) == 0;
  EXPECT_TRUE(stale);
  EXPECT_EQ(read_checkpoint_manifest(dir)["params"]["version"], 1);
  expect_tensors(load_checkpoint_tensors(dir, shapes_of(v1)), v1);

  // The next save replaces it and clears the dead run's staging directory.
  save_checkpoint(dir, tiny_config(), v2, tok, {{"version", 2}}, {});
  expect_tensors(load_checkpoint_tensors(dir, shapes_of(v2)), v2);
  for (const auto& e : std::filesystem::directory_iterator(tmp.path()))
    EXPECT_TRUE(e.path() == dir || e.path() == tok || e.path() == tok.parent_path()) << "leftover " << e.path();
}
