#include <cstdio>
#include <filesystem>

#include "cli/commands.hpp"
#include "core/digest.hpp"
#include "core/error.hpp"
#include "core/fs.hpp"
#include "core/manifest.hpp"
#include "core/output.hpp"
#include "core/progress.hpp"
#include "core/runtime.hpp"
#include "data/benchmark.hpp"
#include "data/corpus.hpp"
#include "data/import_iu.hpp"
#include "data/import_mimic.hpp"
#include "data/preset.hpp"
#include "data/synth_corpus.hpp"

namespace medforget::cli {

namespace {

struct DataArgs {
  std::string preset = "";
  uint64_t seed = 1;
  std::string out, corpus, corpus_digest, dir;
  int image_size = 0;
  // importers
  std::string root, reports_csv, projections_csv, images_dir;
  int patients_per_institution = 8, studies_per_patient = 4;
  bool force = false;
};

DataArgs& args() {
  static DataArgs a;
  return a;
}

Json corpus_inputs(const std::filesystem::path& dir) {
  return {{"corpus_dir", std::filesystem::absolute(dir).string()}, {"corpus_digest", corpus_digest(dir)}};
}

// An imported corpus: its manifest records every input and option of the import.
void finish_corpus(StagingDir& stage, const Corpus& c, const ImportSummary& s, const ImportOptions& o) {
  save_corpus_json(c, stage.path());
  size_t studies = 0, patients = 0;
  for (const auto& in : c.institutions) {
    patients += in.patients.size();
    for (const auto& p : in.patients) studies += p.studies.size();
  }
  write_manifest(stage.path(), "corpus", import_params(o, s.source), s.inputs,
                 {{"counts", {{"institutions", c.institutions.size()}, {"patients", patients}, {"studies", studies}}}});
  stage.commit();
  log_import(s, stage.target());
  std::printf("corpus %s: %zu institutions, %zu patients, %zu studies\n", stage.target().string().c_str(),
              c.institutions.size(), patients, studies);
}

ImportOptions import_options() {
  ImportOptions o;
  o.image_size = args().image_size ? args().image_size : 64;
  o.seed = args().seed;
  o.patients_per_institution = args().patients_per_institution;
  o.iu_studies_per_patient = args().studies_per_patient;
  o.min_studies_per_patient = args().studies_per_patient;
  return o;
}

}  // namespace

void register_data(CLI::App& app) {
  auto* data = app.add_subcommand("data", "Corpus synthesis, import, benchmark build and check");
  data->require_subcommand(1);
  auto& a = args();

  auto* synth = data->add_subcommand("synth", "Generate the deterministic synthetic corpus (stands in for MIMIC-CXR)");
  synth->add_option("--preset", a.preset, "tiny | small | paper")->required();
  synth->add_option("--seed", a.seed, "Random seed")->check(CLI::NonNegativeNumber);
  synth->add_option("--out", a.out, "Output corpus directory")->required();
  synth->add_option("--image-size", a.image_size, "Radiograph size in pixels (default: the preset's, 64)");
  synth->add_flag("--force", a.force, "Replace a medforget directory of another kind at --out");
  synth->callback([&a] {
    OutputLock lock = claim_output(a.out, {"data synth", "corpus", {}, a.force});
    write_synthetic_corpus(data_preset(a.preset), a.seed, a.out, a.image_size);
    std::printf("corpus written to %s\n", a.out.c_str());
  });

  auto* build = data->add_subcommand("build", "Build the MedForget benchmark (tasks, splits, rephrase, general, attack)");
  build->add_option("--preset", a.preset, "tiny | small | paper: the benchmark's shape (default paper with --corpus)");
  build->add_option("--seed", a.seed, "Random seed")->check(CLI::NonNegativeNumber);
  build->add_option("--out", a.out, "Output benchmark directory")->required();
  build->add_option("--corpus", a.corpus, "Build from this corpus directory instead of synthesising one");
  build->add_option("--image-size", a.image_size, "Radiograph size when synthesising (default 64)");
  build->add_option("--corpus-digest", a.corpus_digest,
                    "Refuse a --corpus whose digest is not this one (what `run --corpus` planned with)");
  build->add_flag("--force", a.force, "Replace a medforget directory of another kind at --out");
  build->callback([&a] {
    if (a.preset.empty() && a.corpus.empty()) fail("data build: give --preset, --corpus, or both");
    OutputLock lock = claim_output(a.out, {"data build", "benchmark", {a.corpus}, a.force});
    const DataPreset& preset = data_preset(a.preset.empty() ? "paper" : a.preset);
    Json m;
    if (!a.corpus.empty()) {
      Json inputs = corpus_inputs(a.corpus);
      if (!a.corpus_digest.empty() && inputs.at("corpus_digest") != a.corpus_digest)
        fail("data build: " + a.corpus + " changed since the run was planned (digest " +
             inputs.at("corpus_digest").get<std::string>().substr(0, 12) + "…, planned " +
             a.corpus_digest.substr(0, 12) + "…); run the command again to plan with the corpus as it is");
      Corpus c = load_corpus(a.corpus);
      m = build_benchmark(c, a.corpus, preset, a.seed, a.out, inputs);
    } else {
      // The synthesised corpus lives in a staging directory that is removed afterwards.
      StagingDir tmp(std::filesystem::path(a.out).string() + ".corpus");
      Corpus c = synthesize_corpus(preset, a.seed, tmp.path(), a.image_size);
      Json inputs = {{"corpus", "synthetic"}, {"preset", preset.name}, {"seed", a.seed}, {"image_size", c.image_size}};
      m = build_benchmark(c, tmp.path(), preset, a.seed, a.out, inputs);
    }
    const Json& n = m["counts"];
    std::printf("benchmark written to %s: %d institutions, %d patients, %d studies, %d sections, %d items (+%d general)\n",
                a.out.c_str(), n["institutions"].get<int>(), n["patients"].get<int>(), n["studies"].get<int>(),
                n["sections"].get<int>(), n["finetune_items"].get<int>(), n["general_items"].get<int>());
  });

  auto* check = data->add_subcommand("check", "Validate a benchmark directory and print its counts table");
  check->add_option("dir", a.dir, "Benchmark directory")->required();
  check->callback([&a] {
    CheckReport r = check_benchmark(a.dir);
    std::printf("%s", r.table.c_str());
  });

  auto* mimic = data->add_subcommand("import-mimic", "Import a MIMIC-CXR-JPG style tree (files/pNN/pNNNNNNNN/sNNNNNNNN.txt)");
  mimic->add_option("--root", a.root, "Dataset root (holding files/)")->required();
  mimic->add_option("--out", a.out, "Output corpus directory")->required();
  mimic->add_option("--image-size", a.image_size, "Output image size (default 64)");
  mimic->add_option("--patients-per-institution", a.patients_per_institution, "Eligible patients per synthetic institution");
  mimic->add_option("--min-studies", a.studies_per_patient, "Complete studies an eligible patient needs");
  mimic->add_flag("--force", a.force, "Replace a medforget directory of another kind at --out");
  mimic->callback([&a] {
    OutputLock lock = claim_output(a.out, {"data import-mimic", "corpus", {a.root}, a.force});
    StagingDir stage(a.out);
    ImportSummary s;
    Corpus c = import_mimic(a.root, stage.path(), import_options(), &s);
    finish_corpus(stage, c, s, import_options());
  });

  auto* iu = data->add_subcommand("import-iu", "Import an Open-i / IU X-ray style CSV pair");
  iu->add_option("--reports", a.reports_csv, "Reports CSV (uid, MeSH, Problems, image, indication, comparison, findings, impression)")->required();
  iu->add_option("--projections", a.projections_csv, "Projections CSV (uid, filename, projection)")->required();
  iu->add_option("--images", a.images_dir, "Directory holding the image files")->required();
  iu->add_option("--out", a.out, "Output corpus directory")->required();
  iu->add_option("--image-size", a.image_size, "Output image size (default 64)");
  iu->add_option("--patients-per-institution", a.patients_per_institution, "Synthetic patients per synthetic institution");
  iu->add_option("--studies-per-patient", a.studies_per_patient, "Consecutive studies grouped into one synthetic patient");
  iu->add_flag("--force", a.force, "Replace a medforget directory of another kind at --out");
  iu->callback([&a] {
    OutputLock lock =
        claim_output(a.out, {"data import-iu", "corpus", {a.reports_csv, a.projections_csv, a.images_dir}, a.force});
    StagingDir stage(a.out);
    ImportSummary s;
    Corpus c = import_iu(a.reports_csv, a.projections_csv, a.images_dir, stage.path(), import_options(), &s);
    finish_corpus(stage, c, s, import_options());
  });
}

}  // namespace medforget::cli
