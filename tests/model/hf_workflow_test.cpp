// A Hugging Face Qwen2.5-VL directory through medforget's commands, as a user
// holding a real checkpoint runs them: evaluate it on a benchmark, unlearn with
// CHIP, export the result, and load every directory back with the logits intact.
// The model is transformers' own tiny random checkpoint (tests/fixtures/hf/model_a)
// with a tokenizer.json whose special ids are that fixture's.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "core/error.hpp"
#include "core/fs.hpp"
#include "core/json.hpp"
#include "model/hf_checkpoint.hpp"
#include "model/hf_export.hpp"
#include "model/hf_fixtures.hpp"
#include "model/model_io.hpp"
#include "model/safetensors.hpp"
#include "test_util.hpp"
#include "data/item.hpp"
#include "text/bpe_trainer.hpp"
#include "text/chat_template.hpp"

using namespace medforget;
namespace fs = std::filesystem;

namespace {

// The fixture's layout: 1 <|endoftext|>, 2 <|im_start|>, 3 <|im_end|>, 4-7 the
// vision markers, then a byte-level BPE vocabulary trained on `texts` from id 8
// up to the model's 600 (so prompts fit model A's 512-token context).
void write_fixture_tokenizer(const fs::path& dir, const std::vector<std::string>& texts) {
  const std::vector<std::string> specials = {"<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|vision_start|>",
                                             "<|image_pad|>", "<|vision_end|>", "<|video_pad|>"};
  BpeTrainOptions o;
  o.vocab_size = 600 - 8;
  Json t = train_byte_level_bpe(texts, o, {});
  Json vocab = Json::object();
  vocab["<|placeholder|>"] = 0;
  for (size_t i = 0; i < specials.size(); ++i) vocab[specials[i]] = static_cast<int>(i + 1);
  for (const auto& [tok, id] : t["model"]["vocab"].items()) vocab[tok] = id.get<int>() + 8;
  t["model"]["vocab"] = vocab;
  Json added = Json::array();
  for (size_t i = 0; i < specials.size(); ++i)
    added.push_back({{"id", static_cast<int>(i + 1)}, {"content", specials[i]}, {"single_word", false},
                     {"lstrip", false}, {"rstrip", false}, {"normalized", false}, {"special", true}});
  t["added_tokens"] = added;
  write_json(dir / "tokenizer.json", t);
}

std::vector<std::string> texts_of(const fs::path& bench) {
  std::vector<std::string> t;
  for (const auto& it : read_items(bench / "finetune.jsonl")) t.push_back(it.prompt), t.push_back(it.answer);
  return t;
}

fs::path hf_model(const fs::path& where, std::vector<std::string> texts = {}) {
  if (texts.empty()) texts = {"Describe the findings of this chest radiograph.", "No pleural effusion. Mild cardiomegaly."};
  const fs::path d = where / "qwen";
  fs::copy(test::kHfFixtures / "model_a", d, fs::copy_options::recursive);
  write_fixture_tokenizer(d, texts);
  return d;
}

torch::Tensor logits_of(LoadedModel& m) {
  torch::NoGradGuard ng;
  auto ref = read_safetensors(test::kHfFixtures / "model_a_ref.safetensors");
  ModelInput in;
  in.ids = to_torch(ref.at("batch.input_ids"));
  in.attention_mask = to_torch(ref.at("batch.attention_mask")).to(torch::kBool);
  in.pixel_values = to_torch(ref.at("batch.pixel_values"));
  auto g = to_torch(ref.at("batch.image_grid_thw"));
  for (int64_t i = 0; i < g.size(0); ++i) in.image_grid_thw.push_back({g[i][0].item<int64_t>(), g[i][1].item<int64_t>(), g[i][2].item<int64_t>()});
  return m.model->forward(in).masked_fill(in.attention_mask.logical_not().unsqueeze(-1), 0);
}

std::string all_text(const fs::path& dir) {
  std::string s;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file()) s += read_text(e.path());
  return s;
}

}  // namespace

TEST(HfWorkflow, LoadsAHuggingFaceDirectoryWithItsTokenizerAndDtypes) {
  test::TempDir tmp;
  const fs::path d = hf_model(tmp.path());
  EXPECT_TRUE(is_hf_model_dir(d));
  LoadedModel m = load_model(d, torch::kCPU);
  EXPECT_EQ(m.dtype, torch::kFloat32);
  EXPECT_EQ(m.tokenizer.image_pad_id(), 5);
  EXPECT_EQ(m.config.image_processor.max_pixels, 12544);
  auto ref = read_safetensors(test::kHfFixtures / "model_a_ref.safetensors");
  auto want = to_torch(ref.at("batch.logits")).masked_fill(
      to_torch(ref.at("batch.attention_mask")).eq(0).unsqueeze(-1), 0);
  EXPECT_LT((logits_of(m) - want).abs().max().item<double>(), 1e-4);
  // bf16 compute: every parameter in bf16, logits close to fp32's.
  LoadedModel b = load_model(d, torch::kCPU, torch::kBFloat16);
  for (const auto& p : b.model->parameters()) EXPECT_EQ(p.scalar_type(), torch::kBFloat16);
  auto lb = logits_of(b).to(torch::kFloat32);
  EXPECT_LT((lb - want).abs().max().item<double>(), 0.25 * want.abs().max().item<double>());
  EXPECT_GT((lb - want).abs().max().item<double>(), 0.0);  // it really computed in bf16

  // A tokenizer.json without the chat template's special tokens is refused, naming it.
  const fs::path other = tmp.path() / "other";
  fs::copy(d, other, fs::copy_options::recursive);
  fs::copy_file(fs::path(MEDFORGET_SOURCE_DIR) / "tests/fixtures/bpe_tiny/tokenizer.json", other / "tokenizer.json",
                fs::copy_options::overwrite_existing);
  test::expect_contains(test::error_of([&] { load_model(other, torch::kCPU); }), "tokenizer.json");
  test::expect_contains(test::error_of([] { parse_dtype("int8"); }), "int8");
}

TEST(HfWorkflow, ExportWritesShardsTransformersLoadsAndAModelCardWithoutIdentifiers) {
  test::TempDir tmp;
  const fs::path d = hf_model(tmp.path());
  // Provenance as an unlearned checkpoint carries it, naming the forgotten patient.
  write_json(d / "provenance.json",
             {{"method", "chip"},
              {"variant", "chip"},
              {"params", {{"rank_threshold", 0.9}}},
              {"request", {{"level", "patient"}, {"targets", {"inst_02/patient_0071"}}, {"n_forget", 12}}},
              {"input_checkpoint", {{"digest", "abc"}}},
              {"medforget_version", "0.2.0"}});
  auto r = test::run_cli("export --model " + d.string() + " --out " + (tmp.path() / "x").string() + " --shard-size 0.0002");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const fs::path x = tmp.path() / "x";
  ASSERT_TRUE(fs::exists(x / "model.safetensors.index.json")) << r.output;
  const Json index = read_json(x / "model.safetensors.index.json");
  std::set<std::string> files;
  for (const auto& [n, f] : index["weight_map"].items()) files.insert(f.get<std::string>());
  EXPECT_GT(files.size(), 2u);
  for (const auto& f : files) EXPECT_TRUE(fs::exists(x / f)) << f;
  for (const char* f : {"config.json", "preprocessor_config.json", "tokenizer.json", "tokenizer_config.json",
                        "generation_config.json", "README.md"})
    EXPECT_TRUE(fs::exists(x / f)) << f;
  const std::string card = read_text(x / "README.md");
  test::expect_contains(card, "chip");
  test::expect_contains(card, "patient");
  test::expect_contains(card, "| deletion targets | 1 ");
  EXPECT_EQ(all_text(x).find("patient_0071"), std::string::npos) << "an identifier leaked into the export";
  EXPECT_EQ(all_text(x).find("inst_02"), std::string::npos);
  // The export loads (sharded) and computes what the source computes.
  LoadedModel a = load_model(d, torch::kCPU), b = load_model(x, torch::kCPU);
  EXPECT_TRUE(torch::allclose(logits_of(a), logits_of(b), 0, 0));
  // A second export to the same place is a re-run; into the source it is refused.
  EXPECT_EQ(test::run_cli("export --model " + d.string() + " --out " + x.string()).exit_code, 0);
  EXPECT_TRUE(fs::exists(x / "model.safetensors"));  // under 5 GB: one file
  auto into = test::run_cli("export --model " + d.string() + " --out " + d.string());
  EXPECT_NE(into.exit_code, 0);
  EXPECT_TRUE(fs::exists(d / "model.safetensors"));
}

TEST(HfWorkflow, EvaluateUnlearnWithChipAndExportAHuggingFaceModel) {
  test::TempDir tmp;
  const fs::path bench = tmp.path() / "bench";
  ASSERT_EQ(test::run_cli("data build --preset tiny --seed 3 --out " + bench.string()).exit_code, 0);
  const fs::path d = hf_model(tmp.path(), texts_of(bench));
  auto ev = test::run_cli("eval --model " + d.string() + " --bench " + bench.string() +
                          " --level patient --sets forget --limit 3 --max-new-tokens 4 --out " + (tmp.path() / "ev").string());
  ASSERT_EQ(ev.exit_code, 0) << ev.output;
  const Json summary = read_json(tmp.path() / "ev" / "summary.json");
  EXPECT_EQ(summary["model_digest"].get<std::string>().size(), 64u);
  auto un = test::run_cli("unlearn --model " + d.string() + " --bench " + bench.string() +
                          " --level patient --method chip --out " + (tmp.path() / "u").string());
  ASSERT_EQ(un.exit_code, 0) << un.output;
  const Json prov = read_json(tmp.path() / "u" / "provenance.json");
  EXPECT_EQ(prov["input_checkpoint"]["digest"], summary["model_digest"]);
  // The unlearned checkpoint is itself a Hugging Face directory that loads, and CHIP changed it.
  LoadedModel base = load_model(d, torch::kCPU), edited = load_model(tmp.path() / "u", torch::kCPU);
  EXPECT_FALSE(torch::allclose(logits_of(base), logits_of(edited)));
  auto ex = test::run_cli("export --model " + (tmp.path() / "u").string() + " --out " + (tmp.path() / "x").string());
  ASSERT_EQ(ex.exit_code, 0) << ex.output;
  LoadedModel exported = load_model(tmp.path() / "x", torch::kCPU);
  EXPECT_TRUE(torch::allclose(logits_of(edited), logits_of(exported), 0, 0));
  for (const auto& t : prov["request"]["targets"])
    EXPECT_EQ(all_text(tmp.path() / "x").find(t.get<std::string>()), std::string::npos);
}

// LoRA fine-tuning of a Hugging Face model: a PEFT adapter directory that loads
// on its base (and only the adapters moved), --merge giving the same model as
// one checkpoint, unlearning on base + adapter recorded in the provenance.
TEST(HfWorkflow, LoraFineTuningWritesAPeftAdapterAndMerges) {
  test::TempDir tmp;
  const fs::path bench = tmp.path() / "bench";
  ASSERT_EQ(test::run_cli("data build --preset tiny --seed 3 --out " + bench.string()).exit_code, 0);
  const fs::path d = hf_model(tmp.path(), texts_of(bench));
  const std::string ft = "finetune --model " + d.string() + " --bench " + bench.string() +
                         " --lora r=4,alpha=8,dropout=0,targets=q_proj,v_proj,down_proj --epochs 1 --lr 1e-2 --out ";
  auto r = test::run_cli(ft + (tmp.path() / "adapter").string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const fs::path ad = tmp.path() / "adapter";
  const Json ac = read_json(ad / "adapter_config.json");
  EXPECT_EQ(ac["peft_type"], "LORA");
  EXPECT_EQ(ac["r"], 4);
  EXPECT_EQ(ac["base_model_name_or_path"], fs::absolute(d).string());
  const auto tensors = read_safetensors(ad / "adapter_model.safetensors");
  EXPECT_TRUE(tensors.count("base_model.model.model.language_model.layers.0.self_attn.q_proj.lora_A.weight"));
  EXPECT_TRUE(tensors.count("base_model.model.model.visual.blocks.0.mlp.down_proj.lora_B.weight"));
  EXPECT_FALSE(tensors.count("base_model.model.model.language_model.layers.0.self_attn.k_proj.lora_A.weight"));
  LoadedModel base = load_model(d, torch::kCPU), tuned = load_model(ad, torch::kCPU);
  EXPECT_EQ(tuned.adapter, ad);
  EXPECT_FALSE(torch::allclose(logits_of(base), logits_of(tuned), 1e-4, 1e-4)) << "the adapters did not train";
  // The base weights did not move: with the adapters merged away, the base is what was there.
  auto r2 = test::run_cli(ft + (tmp.path() / "merged").string() + " --merge");
  ASSERT_EQ(r2.exit_code, 0) << r2.output;
  LoadedModel merged = load_model(tmp.path() / "merged", torch::kCPU);
  const auto lt = logits_of(tuned);
  EXPECT_LT((logits_of(merged) - lt).abs().max().item<double>(), 1e-4 * std::max(1.0, lt.abs().max().item<double>()));
  // Bad specs fail before any work.
  auto bad = test::run_cli(ft + (tmp.path() / "bad").string() + " --lora r=0");
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_FALSE(fs::exists(tmp.path() / "bad"));
  auto no_model = test::run_cli("finetune --bench " + bench.string() + " --lora r=4 --out " + (tmp.path() / "bad").string());
  EXPECT_NE(no_model.exit_code, 0);
  test::expect_contains(no_model.output, "--lora needs --model");
  // Unlearning base + adapter: CHIP edits the merged weights, and says so.
  auto un = test::run_cli("unlearn --model " + ad.string() + " --bench " + bench.string() +
                          " --level patient --method chip --out " + (tmp.path() / "u").string());
  ASSERT_EQ(un.exit_code, 0) << un.output;
  const Json prov = read_json(tmp.path() / "u" / "provenance.json");
  EXPECT_EQ(prov["lora"]["edited"], "the merged weights");
  EXPECT_EQ(prov["lora"]["adapter"], fs::absolute(ad).string());
}

// `init`: a random checkpoint of any config.json, in the dtype asked, that loads.
TEST(HfWorkflow, InitWritesARandomCheckpointOfAConfig) {
  test::TempDir tmp;
  const fs::path d = hf_model(tmp.path());
  const fs::path x = tmp.path() / "init";
  auto r = test::run_cli("init --config " + (d / "config.json").string() + " --preprocessor " +
                         (d / "preprocessor_config.json").string() + " --tokenizer " + d.string() +
                         " --dtype bf16 --out " + x.string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(read_json(x / "config.json")["torch_dtype"], "bfloat16");
  for (const auto& [n, t] : read_safetensors(x / "model.safetensors")) EXPECT_EQ(t.dtype, "BF16") << n;
  LoadedModel m = load_model(x, torch::kCPU);
  EXPECT_EQ(m.dtype, torch::kFloat32);  // computed in fp32 on the CPU by default
  EXPECT_TRUE(torch::isfinite(logits_of(m)).all().item<bool>());
  // A tokenizer whose ids are not the config's is refused before anything is written.
  auto bad = test::run_cli("init --config " + (d / "config.json").string() + " --tokenizer " +
                           (fs::path(MEDFORGET_SOURCE_DIR) / "tests/fixtures/bpe_tiny/tokenizer.json").string() +
                           " --out " + (tmp.path() / "bad").string());
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_FALSE(fs::exists(tmp.path() / "bad"));
}

// tests/fixtures/hf/export_a (scripts/make_export_fixture.sh: model A unlearned with CHIP and
// exported) loaded back by transformers on the GPU machine (scripts/hf_export_check.sh):
// transformers' logits and chat-template ids equal medforget's.
TEST(HfWorkflow, ExportLoadsIntoTransformersWithMedforgetsLogits) {
  const fs::path dir = test::kHfFixtures / "export_a", ref = test::kHfFixtures / "export_a_ref.safetensors";
  LoadedModel m = load_model(dir, torch::kCPU);
  const auto ours = logits_of(m);
  EXPECT_TRUE(torch::isfinite(ours).all().item<bool>());
  if (!fs::exists(ref))
    GTEST_SKIP() << "transformers' logits for export_a are not recorded yet (OUT=DIR bash scripts/hf_export_check.sh "
                    "on the GPU machine, then commit DIR/export_a_ref.safetensors)";
  const auto r = read_safetensors(ref);
  auto theirs = to_torch(r.at("export_a.logits"));
  auto mask = to_torch(read_safetensors(test::kHfFixtures / "model_a_ref.safetensors").at("batch.attention_mask"));
  theirs = theirs.masked_fill(mask.eq(0).unsqueeze(-1), 0);
  const double d = (ours - theirs).abs().max().item<double>();
  std::printf("[parity] export_a in transformers: logits max |diff| %.2e\n", d);
  EXPECT_LT(d, 1e-4);
  // transformers' apply_chat_template + tokenizer on the exported files = medforget's encoding.
  auto ids = to_torch(r.at("export_a.chat_ids"));
  std::vector<int64_t> want(ids.data_ptr<int64_t>(), ids.data_ptr<int64_t>() + ids.numel());
  const auto nl = m.tokenizer.encode("\n");
  if (!want.empty() && nl.size() == 1 && want.back() == nl[0]) want.pop_back();  // the template's final newline
  EXPECT_EQ(encode_chat(m.tokenizer, "Describe the findings.", "No pleural effusion.", 1, 512).ids, want);
}
