#include "data/select.hpp"

#include <algorithm>
#include <map>

#include "core/error.hpp"
#include "data/tasks.hpp"

namespace medforget {

namespace {

struct Candidate {
  const PatientRecord* rec;
  std::vector<std::pair<const StudyRecord*, ParsedReport>> complete;  // studies with the standard four
};

// Blanks the sections no task can be built from, counting them; the first
// few are named in the build's notes.
void leave_out_unusable(ParsedReport& r, const std::string& study, Selection& sel) {
  const size_t named = 10;
  for (auto& sec : r.sections) {
    if (sec.name == "PREAMBLE" || sec.text.empty() || has_task_content(sec.text)) continue;
    if (++sel.sections_unusable <= named)
      sel.notes.push_back("study " + study + ", section " + sec.name + ": text '" + sec.text +
                          "' has no letter or digit to ask about; left out");
    sec.text.clear();
  }
}

SelStudy sample_sections(const StudyRecord* s, const ParsedReport& r, int n, Rng& rng) {
  std::vector<ReportSection> pool;
  for (const auto& sec : r.sections)
    if (sec.name != "PREAMBLE" && !sec.text.empty() &&
        std::none_of(pool.begin(), pool.end(), [&](const auto& p) { return p.name == sec.name; }))
      pool.push_back(sec);
  SelStudy out{s, {}};
  for (size_t i : rng.sample_indices(pool.size(), static_cast<size_t>(n))) out.sections.push_back(pool[i]);
  return out;
}

SelPatient sample_patient(const Candidate& c, int studies, int sections, Rng& rng) {
  SelPatient p{c.rec, {}};
  // sample_indices is sorted, so studies stay in chronological (corpus) order.
  for (size_t i : rng.sample_indices(c.complete.size(), static_cast<size_t>(studies)))
    p.studies.push_back(sample_sections(c.complete[i].first, c.complete[i].second, sections, rng));
  return p;
}

}  // namespace

Selection select_benchmark(const Corpus& corpus, const DataPreset& preset, uint64_t seed) {
  Selection sel;
  Rng rng = Rng(seed).fork("select");
  // Eligible patients per institution, in corpus order.
  std::vector<std::pair<const InstitutionRecord*, std::vector<Candidate>>> insts;
  for (const auto& in : corpus.institutions) {
    std::vector<Candidate> cands;
    for (const auto& p : in.patients) {
      ++sel.patients_total;
      Candidate c{&p, {}};
      for (const auto& s : p.studies) {
        ++sel.studies_total;
        ParsedReport r;
        try {
          r = parse_report(s.report_text, "study '" + s.id + "'");
        } catch (const Error& e) {
          ++sel.studies_incomplete;
          sel.notes.push_back("study " + s.id + ": no recognisable sections, excluded");
          continue;
        }
        leave_out_unusable(r, s.id, sel);
        if (!r.has_standard_four()) {
          ++sel.studies_incomplete;
          continue;
        }
        size_t usable = 0;
        for (const auto& sec : r.sections) usable += sec.name != "PREAMBLE" && !sec.text.empty();
        if (usable < static_cast<size_t>(preset.sections)) {
          ++sel.studies_incomplete;
          continue;
        }
        c.complete.emplace_back(&s, std::move(r));
      }
      if (c.complete.size() >= static_cast<size_t>(std::min(preset.studies, preset.general_studies)))
        cands.push_back(std::move(c));
      else
        ++sel.patients_ineligible;
    }
    insts.emplace_back(&in, std::move(cands));
  }
  auto count_with = [](const std::vector<Candidate>& cs, int studies) {
    return static_cast<int>(std::count_if(cs.begin(), cs.end(), [&](const Candidate& c) {
      return c.complete.size() >= static_cast<size_t>(studies);
    }));
  };
  std::vector<size_t> ft_ok, gen_ok;
  for (size_t i = 0; i < insts.size(); ++i) {
    if (count_with(insts[i].second, preset.studies) >= preset.patients) ft_ok.push_back(i);
    if (count_with(insts[i].second, preset.general_studies) >= preset.general_patients) gen_ok.push_back(i);
  }
  if (ft_ok.size() < static_cast<size_t>(preset.institutions))
    fail("corpus has " + std::to_string(ft_ok.size()) + " institutions with at least " +
         std::to_string(preset.patients) + " patients having " + std::to_string(preset.studies) +
         " complete studies (EXAMINATION, INDICATION, FINDINGS, IMPRESSION); preset '" + preset.name +
         "' needs " + std::to_string(preset.institutions));
  std::vector<size_t> chosen;
  for (size_t k : rng.sample_indices(ft_ok.size(), static_cast<size_t>(preset.institutions)))
    chosen.push_back(ft_ok[k]);
  std::vector<size_t> held;
  for (size_t i : gen_ok)
    if (std::find(chosen.begin(), chosen.end(), i) == chosen.end()) held.push_back(i);
  if (held.size() < static_cast<size_t>(preset.general_institutions))
    fail("corpus has " + std::to_string(held.size()) +
         " eligible institutions left for the held-out general set; preset '" + preset.name + "' needs " +
         std::to_string(preset.general_institutions) + " beyond the " + std::to_string(preset.institutions) +
         " fine-tuning institutions");
  auto take = [&](size_t inst_index, int patients, int studies, Rng& r) {
    const auto& [rec, cands] = insts[inst_index];
    std::vector<const Candidate*> ok;
    for (const auto& c : cands)
      if (c.complete.size() >= static_cast<size_t>(studies)) ok.push_back(&c);
    SelInstitution si{rec, {}};
    for (size_t k : r.sample_indices(ok.size(), static_cast<size_t>(patients)))
      si.patients.push_back(sample_patient(*ok[k], studies, preset.sections, r));
    return si;
  };
  for (size_t i : chosen) sel.finetune.push_back(take(i, preset.patients, preset.studies, rng));
  for (size_t k : rng.sample_indices(held.size(), static_cast<size_t>(preset.general_institutions)))
    sel.general.push_back(take(held[k], preset.general_patients, preset.general_studies, rng));
  return sel;
}

}  // namespace medforget
