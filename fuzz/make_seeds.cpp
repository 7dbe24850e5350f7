// Writes the fuzzers' seed corpora (fuzz/corpus/<target>/) with medforget's own
// writers, so every seed is a file the product itself produces: safetensors from
// write_safetensors, config.json from ModelConfig::to_json, items from
// write_items, corpus.json from save_corpus_json, reports from the synthetic
// report writer's house styles, run configurations from RunConfig::to_json. A
// few hand-written seeds in the formats medforget reads but does not write
// (MIMIC-CXR / IU X-ray CSVs and reports, a transformers config.json, RUN.md's
// example configuration) are kept beside them in fuzz/corpus/ and not touched.
//
//   scripts/fuzz.sh --make-seeds        (builds build-fuzz/make_seeds, runs it on fuzz/corpus)
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/fs.hpp"
#include "core/json.hpp"
#include "core/rng.hpp"
#include "data/corpus.hpp"
#include "data/item.hpp"
#include "data/report_writer.hpp"
#include "model/config.hpp"
#include "model/safetensors.hpp"
#include "pipeline/run_config.hpp"

namespace fs = std::filesystem;
using namespace medforget;

namespace {

std::vector<uint8_t> bytes(size_t n, uint8_t start) {
  std::vector<uint8_t> b(n);
  for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>(start + 7 * i);
  return b;
}

void safetensors_seeds(const fs::path& d) {
  // Two small tensors and the metadata transformers writes.
  write_safetensors(d / "two_tensors.safetensors",
                    {{"model.embed_tokens.weight", {"F32", {4, 2}, bytes(32, 1)}},
                     {"lm_head.bias", {"I64", {2}, bytes(16, 9)}}},
                    {{"format", "pt"}});
  // No tensors at all: the header "{}".
  write_safetensors(d / "empty.safetensors", {});
  // Half precision, a scalar, an empty tensor, a bool mask.
  write_safetensors(d / "dtypes.safetensors", {{"a.bf16", {"BF16", {3}, bytes(6, 2)}},
                                               {"b.scalar", {"F32", {}, bytes(4, 3)}},
                                               {"c.empty", {"F16", {0, 4}, {}}},
                                               {"d.mask", {"BOOL", {2, 2}, {1, 0, 0, 1}}},
                                               {"e.u8", {"U8", {1, 1, 3}, bytes(3, 5)}}});
  // PEFT's LoRA adapter layout (names and metadata), tiny shapes.
  write_safetensors(d / "lora_adapter.safetensors",
                    {{"base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight",
                      {"F32", {2, 4}, bytes(32, 4)}},
                     {"base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight",
                      {"F32", {4, 2}, bytes(32, 6)}}},
                    {{"format", "pt"}});
}

void model_config_seeds(const fs::path& d) {
  write_json(d / "tiny.json", model_preset_with_ids("tiny", 300).to_json());
  ModelConfig s = model_preset_with_ids("small", 2000);
  s.tie_word_embeddings = true;
  s.bos_token_id = 1;
  s.torch_dtype = "bfloat16";
  write_json(d / "small_tied_bf16.json", s.to_json());
}

std::vector<Finding> findings() {
  Finding eff{Observation::PleuralEffusion, Certainty::Present, "right", "small", ""};
  Finding ett{Observation::SupportDevices, Certainty::Present, "", "", "endotracheal tube"};
  Finding atel{Observation::Atelectasis, Certainty::Uncertain, "left", "mild", ""};
  return {eff, ett, atel};
}

// Reports in a few sampled house styles, as the synthetic corpus holds them.
std::vector<std::string> reports() {
  std::vector<std::string> out;
  for (uint64_t seed : {1, 2, 5}) {
    Rng rng(seed);
    ReportStyle style = ReportStyle::sample(rng);
    StudyContext ctx;
    ctx.indication = "fever, cough";
    ctx.prior_date = seed == 1 ? "" : "2016-04-23";
    ctx.age = 68;
    ctx.sex = seed == 2 ? "F" : "M";
    std::vector<Finding> f = findings();
    if (seed == 5) f = {Finding{Observation::NoFinding, Certainty::Present, "", "", ""}};
    out.push_back(write_report(f, ctx, style, rng));
  }
  return out;
}

void report_seeds(const fs::path& d) {
  std::vector<std::string> r = reports();
  for (size_t i = 0; i < r.size(); ++i)
    write_atomic(d / ("synthetic_style" + std::to_string(i + 1) + ".txt"), r[i]);
}

Item item(const std::string& task) {
  Item it;
  it.task = task;
  it.institution = "inst_01";
  it.patient = "patient_0001";
  it.study = "study_chest_xray_1";
  it.image = "images/study_chest_xray_1.png";
  it.context = "study";
  if (task == "identity") {
    it.level = "patient";
    it.anchor = it.patient;
    it.id = "patient_0001#identity";
    it.prompt = "Whose chest radiograph is this?";
    it.options = {"Andrew Lewis", "Maria Gomez", "Wei Chen", "Sara Okafor"};
    it.answer_index = 0;
    it.answer = it.options[0];
    it.context = "none";
    return it;
  }
  it.level = "section";
  it.section = "study_chest_xray_1_findings";
  it.section_name = "FINDINGS";
  it.anchor = it.section;
  it.id = "study_chest_xray_1/findings#" + task;
  if (task == "generation") {
    it.prompt = "Write the FINDINGS section of this study's report.";
    it.answer = "Small right pleural effusion. No pneumothorax.";
  } else if (task == "cloze") {
    it.prompt = "Fill in the blank: Small right pleural ____. No pneumothorax.";
    it.answer = "effusion";
  } else {
    it.prompt = "Which finding does this radiograph show?";
    it.options = {"Pleural effusion", "Pneumothorax", "Cardiomegaly", "No finding"};
    it.answer_index = 0;
    it.answer = it.options[0];
  }
  return it;
}

void item_seeds(const fs::path& d) {
  write_items(d / "finetune.jsonl",
              {item("generation"), item("cloze"), item("classification"), item("identity")});
  Item rephrase = item("generation");
  rephrase.id += "~rephrase1";
  rephrase.prompt = "Please describe the findings in this chest X-ray.";
  rephrase.source = item("generation").id;
  write_items(d / "rephrase.jsonl", {rephrase});
  write_items(d / "empty.jsonl", {});
}

void corpus_seeds(const fs::path& d) {
  std::vector<std::string> r = reports();
  Corpus c;
  c.source = "synthetic";
  c.seed = 7;
  c.image_size = 64;
  InstitutionRecord in;
  in.id = "inst_01";
  in.name = "Elm Medical Foundation";
  Rng rng(3);
  Json report_style = ReportStyle::sample(rng).to_json();
  report_style.erase("phrasing");  // a long table; load_corpus keeps the style as an opaque object
  in.style = {{"report", report_style}};
  PatientRecord p;
  p.id = "patient_0001";
  p.name = "Andrew Lewis";
  p.age = 68;
  p.sex = "M";
  p.studies.push_back({"study_a", "2016-04-23", r[0], "images/study_a.png", findings(), ""});
  p.studies.push_back({"study_b",
                       "2017-01-02",
                       r[2],
                       "images/study_b.png",
                       {Finding{Observation::NoFinding, Certainty::Present, "", "", ""}},
                       ""});
  in.patients.push_back(p);
  c.institutions.push_back(in);
  fs::create_directories(d / "tmp");
  save_corpus_json(c, d / "tmp");
  fs::rename(d / "tmp" / "corpus.json", d / "synthetic.json");
  // An import: no findings, a source reference, an unknown sex.
  Corpus imp;
  imp.source = "iu-xray";
  imp.image_size = 128;
  InstitutionRecord ii;
  ii.id = "inst_01";
  ii.name = "Imported institution 1";
  PatientRecord ip;
  ip.id = "patient_0001";
  ip.name = "Patient 1";
  ip.studies.push_back({"study_a",
                        "2150-01-01",
                        "FINDINGS: The heart is normal in size.\nIMPRESSION: No acute disease.\n",
                        "images/study_a.png",
                        {},
                        "indiana_reports.csv uid 3"});
  ii.patients.push_back(ip);
  imp.institutions.push_back(ii);
  save_corpus_json(imp, d / "tmp");
  fs::rename(d / "tmp" / "corpus.json", d / "iu_import.json");
  fs::remove_all(d / "tmp");
}

void run_config_seeds(const fs::path& d) {
  // What a run records (RunConfig::to_json) is itself a valid configuration file.
  RunConfig run = default_run_config("tiny");
  Json j = run.to_json();
  j.erase("corpus");  // absolute paths: machine-specific
  j.erase("corpus_digest");
  write_json(d / "run_tiny_defaults.json", j);
  Json g = default_grid_config("small").to_json();
  g.erase("corpus");
  g.erase("corpus_digest");
  write_json(d / "grid_small_defaults.json", g);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_seeds FUZZ_CORPUS_DIR\n");
    return 2;
  }
  const fs::path root = argv[1];
  try {
    for (const char* t :
         {"safetensors", "model_config", "report_parser", "items", "corpus", "run_config"})
      fs::create_directories(root / t);
    safetensors_seeds(root / "safetensors");
    model_config_seeds(root / "model_config");
    report_seeds(root / "report_parser");
    item_seeds(root / "items");
    corpus_seeds(root / "corpus");
    run_config_seeds(root / "run_config");
  } catch (const Error& e) {
    std::fprintf(stderr, "make_seeds: %s\n", e.what());
    return 1;
  }
  return 0;
}
