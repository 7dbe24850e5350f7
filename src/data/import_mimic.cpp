#include "data/import_mimic.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <optional>

#include "core/error.hpp"
#include "core/fs.hpp"
#include "core/progress.hpp"
#include "data/csv.hpp"
#include "data/report_parser.hpp"

namespace medforget {

namespace {

// "p10000032" -> "10000032" when name is the prefix letter followed by digits.
std::optional<std::string> id_digits(const std::string& name, char prefix) {
  if (name.size() < 2 || name[0] != prefix) return std::nullopt;
  for (size_t i = 1; i < name.size(); ++i)
    if (!std::isdigit(static_cast<unsigned char>(name[i]))) return std::nullopt;
  return name.substr(1);
}

// Numeric order for digit strings of any length.
bool digits_less(const std::string& a, const std::string& b) {
  std::string x = a.substr(std::min(a.find_first_not_of('0'), a.size()));
  std::string y = b.substr(std::min(b.find_first_not_of('0'), b.size()));
  if (x.size() != y.size()) return x.size() < y.size();
  if (x != y) return x < y;
  return a < b;
}

bool is_image_file(const fs::path& p) {
  std::string ext = p.extension().string();
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return ext == ".jpg" || ext == ".jpeg" || ext == ".png";
}

std::vector<fs::path> sorted_entries(const fs::path& dir) {
  std::vector<fs::path> v;
  for (const auto& e : fs::directory_iterator(dir)) v.push_back(e.path());
  std::sort(v.begin(), v.end());
  return v;
}

struct MimicStudy {
  std::string digits;  // study id digits
  fs::path report;     // absolute
  fs::path image;      // empty: none
  std::string ref;     // report path relative to root
  std::string text;
  std::string date;
};

struct MimicPatient {
  std::string digits;
  fs::path dir;
  std::vector<MimicStudy> eligible;
  size_t seen = 0;
};

// Patient directories: files/pNN/pNNNNNNNN, or pNNNNNNNN directly under files/.
std::vector<fs::path> patient_dirs(const fs::path& files) {
  std::vector<fs::path> out;
  for (const auto& p : sorted_entries(files)) {
    if (!fs::is_directory(p)) continue;
    std::string name = p.filename().string();
    auto d = id_digits(name, 'p');
    if (!d) continue;
    if (d->size() <= 2) {  // group directory pNN
      for (const auto& q : sorted_entries(p))
        if (fs::is_directory(q) && id_digits(q.filename().string(), 'p')) out.push_back(q);
    } else {
      out.push_back(p);
    }
  }
  return out;
}

std::map<std::string, std::string> read_metadata_dates(const fs::path& root, ImportSummary& sum) {
  std::map<std::string, std::string> dates;
  fs::path meta = root / "mimic-cxr-2.0.0-metadata.csv";
  if (!fs::exists(meta)) {
    sum.inputs["metadata"] = nullptr;  // optional; dates are synthesised
    return dates;
  }
  const std::string text = read_text(meta);
  record_input_file(sum, "metadata", meta, text);
  CsvTable t = parse_csv(text, meta.string());
  t.require_columns({"study_id", "StudyDate"});
  for (const auto& row : t.rows) {
    std::string sid = t.at(row, "study_id");
    if (!sid.empty() && sid[0] == 's') sid = sid.substr(1);
    if (sid.size() > 2 && sid.substr(sid.size() - 2) == ".0") sid = sid.substr(0, sid.size() - 2);
    std::string raw = t.at(row, "StudyDate");
    std::string date = date_from_yyyymmdd(raw);
    if (date.empty())
      fail(where(meta.string(), row.line, "StudyDate") + ": expected a YYYYMMDD date, got '" + raw +
           "'");
    dates.emplace(sid, date);  // several images per study: the first row wins
  }
  log_info("read study dates for " + std::to_string(dates.size()) + " studies from " +
           meta.string());
  return dates;
}

}  // namespace

Corpus import_mimic(const fs::path& root, const fs::path& out_dir, const ImportOptions& options,
                    ImportSummary* summary_out) {
  validate(options);
  if (!fs::is_directory(root))
    fail(root.string() +
         ": not a directory (expected a MIMIC-CXR tree with files/pNN/pNNNNNNNN/sNNNNNNNN.txt)");
  fs::path files = fs::is_directory(root / "files") ? root / "files" : root;
  ImportSummary sum;
  sum.source = "mimic-cxr";
  auto rel = [&](const fs::path& p) { return p.lexically_relative(root).string(); };

  record_input_dir(sum, "root", root);
  std::map<std::string, std::string> meta_dates = read_metadata_dates(root, sum);

  // 1. Scan reports and images, decide study eligibility.
  std::vector<MimicPatient> patients;
  std::map<std::string, std::string> study_owner;  // study digits -> report path (duplicate check)
  for (const auto& pdir : patient_dirs(files)) {
    MimicPatient pat;
    pat.digits = *id_digits(pdir.filename().string(), 'p');
    pat.dir = pdir;
    std::vector<fs::path> entries = sorted_entries(pdir);
    std::map<std::string, fs::path> image_dirs;
    std::vector<std::pair<std::string, fs::path>> reports;
    for (const auto& e : entries) {
      std::string name = e.filename().string();
      if (fs::is_directory(e)) {
        if (auto d = id_digits(name, 's')) image_dirs[*d] = e;
      } else if (e.extension() == ".txt") {
        if (auto d = id_digits(e.stem().string(), 's')) reports.emplace_back(*d, e);
      }
    }
    std::sort(reports.begin(), reports.end(),
              [](const auto& a, const auto& b) { return digits_less(a.first, b.first); });
    std::map<std::string, bool> has_report;
    for (const auto& [digits, path] : reports) {
      has_report[digits] = true;
      ++sum.studies_seen;
      ++pat.seen;
      auto [it, fresh] = study_owner.emplace(digits, path.string());
      if (!fresh) fail(path.string() + ": study id s" + digits + " also appears at " + it->second);
      MimicStudy st;
      st.digits = digits;
      st.report = path;
      st.ref = rel(path);
      st.text = read_text(path);  // Error naming the file if unreadable
      std::optional<ParsedReport> parsed;
      try {
        parsed = parse_report(st.text, st.ref);
      } catch (const Error& e) {
        sum.skip(st.ref, "no recognisable sections", e.what());
        continue;
      }
      auto missing = parsed->missing_standard();
      if (!missing.empty()) {
        std::string m;
        for (const auto& s : missing) m += (m.empty() ? "" : ", ") + s;
        sum.skip(st.ref, "missing sections", m);
        continue;
      }
      auto idir = image_dirs.find(digits);
      if (idir != image_dirs.end()) {
        for (const auto& f : sorted_entries(idir->second))
          if (fs::is_regular_file(f) && is_image_file(f)) {
            st.image = f;
            break;
          }
      }
      if (st.image.empty()) {
        sum.skip(st.ref, "no image", "expected " + rel(pdir / ("s" + digits)) + "/*.jpg or *.png");
        continue;
      }
      ++sum.studies_eligible;
      pat.eligible.push_back(std::move(st));
    }
    // Image directories without a report are studies too: count them.
    for (const auto& [digits, dir] : image_dirs) {
      if (has_report.count(digits)) continue;
      ++sum.studies_seen;
      ++pat.seen;
      sum.skip(rel(dir), "no report", "expected " + rel(pdir / ("s" + digits + ".txt")));
    }
    if (pat.seen > 0) {
      ++sum.patients_seen;
      patients.push_back(std::move(pat));
    }
  }
  if (sum.studies_seen == 0)
    fail(root.string() +
         ": no MIMIC-CXR reports found (expected files/pNN/pNNNNNNNN/sNNNNNNNN.txt)");

  // 2. Patient eligibility, in numeric patient-id order.
  std::sort(patients.begin(), patients.end(), [](const MimicPatient& a, const MimicPatient& b) {
    return digits_less(a.digits, b.digits);
  });
  std::vector<MimicPatient*> eligible;
  for (auto& p : patients) {
    if (static_cast<int>(p.eligible.size()) >= options.min_studies_per_patient) {
      eligible.push_back(&p);
      continue;
    }
    for (const auto& st : p.eligible)
      sum.skip(st.ref, "patient has too few eligible studies",
               "p" + p.digits + " has " + std::to_string(p.eligible.size()) + " < " +
                   std::to_string(options.min_studies_per_patient));
  }
  sum.patients_eligible = eligible.size();

  // 3. Synthetic institutions of patients_per_institution; a short tail is dropped.
  const size_t per = static_cast<size_t>(options.patients_per_institution);
  size_t n_inst = eligible.size() / per;
  if (eligible.size() % per != 0) {
    size_t tail = eligible.size() % per;
    log_warn("mimic-cxr: dropping the last " + std::to_string(tail) +
             " eligible patient(s): fewer than " + std::to_string(per) +
             " left to form a synthetic institution");
    for (size_t i = n_inst * per; i < eligible.size(); ++i)
      for (const auto& st : eligible[i]->eligible)
        sum.skip(st.ref, "trailing institution group dropped",
                 "p" + eligible[i]->digits + " is in a last group of " + std::to_string(tail) +
                     " < " + std::to_string(per) + " patients");
  }

  // 4. Dates and study order within each kept patient.
  const int64_t base = days_from_date(2150, 1, 1);
  size_t missing_dates = 0;
  for (size_t i = 0; i < n_inst * per; ++i) {
    auto& studies = eligible[i]->eligible;  // already in study-id order
    for (size_t k = 0; k < studies.size(); ++k) {
      auto it = meta_dates.find(studies[k].digits);
      if (it != meta_dates.end()) {
        studies[k].date = it->second;
      } else {
        if (!meta_dates.empty()) ++missing_dates;
        studies[k].date = date_from_days(base + 30 * static_cast<int64_t>(k));
      }
    }
    std::stable_sort(studies.begin(), studies.end(), [](const MimicStudy& a, const MimicStudy& b) {
      return a.date != b.date ? a.date < b.date : digits_less(a.digits, b.digits);
    });
  }
  if (missing_dates > 0)
    log_warn("mimic-cxr: " + std::to_string(missing_dates) +
             " kept studies have no StudyDate in the metadata file; their dates are synthesised");

  // 5. Build the corpus and convert the images.
  Corpus c;
  c.source = "mimic-cxr";
  c.seed = options.seed;
  c.image_size = options.image_size;
  size_t total = 0;
  for (size_t i = 0; i < n_inst * per; ++i) total += eligible[i]->eligible.size();
  Progress bar("import mimic-cxr images", total);
  for (size_t g = 0; g < n_inst; ++g) {
    InstitutionRecord inst;
    inst.id = synthetic_institution_id(g);
    inst.name = synthetic_institution_name(g);
    for (size_t i = g * per; i < (g + 1) * per; ++i) {
      const MimicPatient& p = *eligible[i];
      PatientRecord pr;
      pr.id = "patient_p" + p.digits;
      pr.name = "Patient p" + p.digits;
      pr.age = 0;
      pr.sex = "";
      for (const auto& st : p.eligible) {
        StudyRecord sr;
        sr.id = "study_chest_xray_" + st.digits;
        sr.date = st.date;
        sr.report_text = st.text;
        sr.image = "images/" + sr.id + ".png";
        sr.source_ref = st.ref;
        convert_image(st.image, out_dir / sr.image, options.image_size);
        bar.tick();
        pr.studies.push_back(std::move(sr));
        ++sum.studies_imported;
      }
      inst.patients.push_back(std::move(pr));
      ++sum.patients_imported;
    }
    c.institutions.push_back(std::move(inst));
  }
  bar.done();
  sum.institutions = c.institutions.size();
  if (c.institutions.empty())
    log_warn("mimic-cxr: no synthetic institution could be formed (" +
             std::to_string(eligible.size()) + " eligible patients, " + std::to_string(per) +
             " needed per institution)");
  fs::create_directories(out_dir);
  finish_import(sum, out_dir);
  if (summary_out) *summary_out = std::move(sum);
  return c;
}

}  // namespace medforget
