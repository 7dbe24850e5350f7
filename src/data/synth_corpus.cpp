#include "data/synth_corpus.hpp"

#include <algorithm>
#include <cstdio>

#include "core/error.hpp"
#include "core/fs.hpp"
#include "core/manifest.hpp"
#include "core/progress.hpp"
#include "core/rng.hpp"
#include "data/clinical_course.hpp"
#include "data/names.hpp"
#include "data/radiograph.hpp"
#include "data/report_parser.hpp"
#include "data/report_writer.hpp"

namespace medforget {

namespace {

std::string padded(const char* prefix, int n, int width) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s%0*d", prefix, width, n);
  return buf;
}

}  // namespace

Corpus synthesize_corpus(const DataPreset& preset, uint64_t seed, const std::filesystem::path& out_dir,
                         int image_size) {
  if (image_size == 0) image_size = preset.image_size;
  if (image_size < kMinRadiographSize || image_size > kMaxRadiographSize)
    fail("image size " + std::to_string(image_size) + " is outside " + std::to_string(kMinRadiographSize) + ".." +
         std::to_string(kMaxRadiographSize));
  Corpus c;
  c.source = "synthetic";
  c.seed = seed;
  c.image_size = image_size;
  Rng root(seed);
  Rng name_rng = root.fork("names");
  NameRegistry names;
  const int n_inst = preset.institutions + preset.general_institutions;
  const int complete_needed = std::max(preset.studies, preset.general_studies);
  const int patients_per_inst = std::max(preset.patients, preset.general_patients) + 1;
  int study_counter = 0, patient_counter = 0;
  Progress prog("data synth", static_cast<size_t>(n_inst));
  for (int i = 0; i < n_inst; ++i) {
    InstitutionRecord in;
    in.id = padded("inst_", i + 1, 2);
    in.name = names.unique_institution_name(name_rng);
    Rng irng = root.fork("institution:" + in.id);
    Rng style_rng = irng.fork("style");
    ReportStyle rstyle = ReportStyle::sample(style_rng);
    AcquisitionStyle acq = AcquisitionStyle::sample(style_rng, i);
    in.style = {{"report", rstyle.to_json()}, {"acquisition", acq.to_json()}};
    // The last patient of every institution has one complete study too few.
    for (int p = 0; p <= patients_per_inst; ++p) {
      PatientRecord pr;
      pr.id = padded("patient_", ++patient_counter, 4);
      Rng prng = irng.fork("patient:" + pr.id);
      pr.sex = sample_sex(prng);
      pr.name = names.unique_patient_name(pr.sex, name_rng);
      pr.age = static_cast<int>(prng.randint(22, 91));
      PatientAnatomy anatomy = PatientAnatomy::sample(prng);
      bool ineligible = p == patients_per_inst;
      int complete = ineligible ? complete_needed - 1 : complete_needed + static_cast<int>(prng.randint(0, 1));
      int incomplete = static_cast<int>(prng.randint(0, 1)) + (ineligible ? 1 : 0);
      int n = complete + incomplete;
      auto plan = plan_patient_studies(n, pr.age, prng);
      std::vector<int> incomplete_idx(static_cast<size_t>(n), 0);
      for (size_t k : prng.sample_indices(static_cast<size_t>(n), static_cast<size_t>(incomplete))) incomplete_idx[k] = 1;
      for (int s = 0; s < n; ++s) {
        const auto& ps = plan[static_cast<size_t>(s)];
        StudyRecord sr;
        sr.id = padded("study_chest_xray_", ++study_counter, 3);
        sr.date = ps.date;
        sr.findings = ps.findings;
        Rng srng = prng.fork("study:" + sr.id);
        StudyContext ctx;
        ctx.exam = ps.exam;
        ctx.indication = ps.indication;
        ctx.age = pr.age;
        ctx.sex = pr.sex;
        if (s > 0) {
          ctx.prior_date = plan[static_cast<size_t>(s - 1)].date;
          ctx.prior_findings = plan[static_cast<size_t>(s - 1)].findings;
        }
        std::vector<std::string> drop;
        if (incomplete_idx[static_cast<size_t>(s)])
          drop.push_back(srng.pick(std::vector<std::string>{"INDICATION", "IMPRESSION", "FINDINGS", "EXAMINATION"}));
        sr.report_text = write_report(sr.findings, ctx, rstyle, srng, drop);
        StudyPose pose = StudyPose::sample(srng);
        cv::Mat img = render_radiograph(anatomy, acq, pose, sr.findings, image_size, srng.next());
        sr.image = "images/" + sr.id + ".png";
        write_png(out_dir / sr.image, img);
        pr.studies.push_back(std::move(sr));
      }
      in.patients.push_back(std::move(pr));
    }
    c.institutions.push_back(std::move(in));
    prog.tick();
  }
  prog.done();
  return c;
}

void write_synthetic_corpus(const DataPreset& preset, uint64_t seed, const std::filesystem::path& out_dir,
                            int image_size) {
  StagingDir stage(out_dir);
  Corpus c = synthesize_corpus(preset, seed, stage.path(), image_size);
  save_corpus_json(c, stage.path());
  size_t studies = 0, patients = 0;
  for (const auto& in : c.institutions) {
    patients += in.patients.size();
    for (const auto& p : in.patients) studies += p.studies.size();
  }
  write_manifest(stage.path(), "corpus", {{"preset", preset.name}, {"seed", seed}, {"image_size", c.image_size}},
                 Json::object(),
                 {{"counts", {{"institutions", c.institutions.size()}, {"patients", patients}, {"studies", studies}}}});
  stage.commit();
}

}  // namespace medforget
