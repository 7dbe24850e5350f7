#include "data/import_iu.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <map>

#include "core/error.hpp"
#include "core/fs.hpp"
#include "core/progress.hpp"
#include "data/csv.hpp"
#include "data/report_parser.hpp"

namespace medforget {

namespace {

std::string collapse(const std::string& s) {
  std::string out;
  bool pending = false;
  for (char c : s) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      pending = !out.empty();
    } else {
      if (pending) out += ' ';
      pending = false;
      out += c;
    }
  }
  return out;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// A positive decimal uid; Error naming file:line otherwise.
uint64_t parse_uid(const CsvTable& t, const CsvRow& row) {
  std::string raw = collapse(t.at(row, "uid"));
  std::string s = raw;
  if (s.size() > 3 && lower(s.substr(0, 3)) == "cxr") s = s.substr(3);  // Open-i "CXR1" spelling
  bool ok = !s.empty() && s.size() <= 18 &&
            std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (!ok) fail(where(t.file, row.line, "uid") + ": expected a numeric uid, got '" + raw + "'");
  return std::stoull(s);
}

struct Projections {
  std::vector<std::string> frontal;  // file names, sorted
  bool lateral = false;
};

struct IuStudy {
  uint64_t uid = 0;
  long line = 0;
  std::string ref;
  std::string text;
  std::string image;  // file name in images_dir
};

std::string synthetic_patient_number(size_t index) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04zu", index + 1);
  return buf;
}

}  // namespace

Corpus import_iu(const fs::path& reports_csv, const fs::path& projections_csv,
                 const fs::path& images_dir, const fs::path& out_dir, const ImportOptions& options,
                 ImportSummary* summary_out) {
  validate(options);
  ImportSummary sum;
  sum.source = "iu-xray";
  const std::string reports_text = read_text(reports_csv);
  CsvTable reports = parse_csv(reports_text, reports_csv.string());
  reports.require_columns({"uid", "indication", "findings", "impression"});
  const std::string proj_text = read_text(projections_csv);
  CsvTable proj = parse_csv(proj_text, projections_csv.string());
  proj.require_columns({"uid", "filename", "projection"});
  if (!fs::is_directory(images_dir)) fail(images_dir.string() + ": image directory does not exist");
  const bool has_comparison = reports.has_column("comparison");
  record_input_file(sum, "reports", reports_csv, reports_text);
  record_input_file(sum, "projections", projections_csv, proj_text);
  record_input_dir(sum, "images", images_dir);

  // Projections per uid.
  std::map<uint64_t, Projections> views;
  for (const auto& row : proj.rows) {
    uint64_t uid = parse_uid(proj, row);
    std::string kind = lower(collapse(proj.at(row, "projection")));
    std::string file = collapse(proj.at(row, "filename"));
    if (file.empty()) fail(where(proj.file, row.line, "filename") + ": empty image file name");
    if (kind == "frontal")
      views[uid].frontal.push_back(file);
    else if (kind == "lateral")
      views[uid].lateral = true;
  }
  for (auto& [uid, v] : views) std::sort(v.frontal.begin(), v.frontal.end());

  // Reports in numeric uid order.
  std::map<uint64_t, const CsvRow*> by_uid;
  for (const auto& row : reports.rows) {
    uint64_t uid = parse_uid(reports, row);
    auto [it, fresh] = by_uid.emplace(uid, &row);
    if (!fresh)
      fail(where(reports.file, row.line, "uid") + ": duplicate uid " + std::to_string(uid) +
           " (first on line " + std::to_string(it->second->line) + ")");
  }
  size_t orphan_views = 0;
  for (const auto& [uid, v] : views)
    if (!by_uid.count(uid)) ++orphan_views;
  if (orphan_views > 0)
    log_info("iu-xray: " + std::to_string(orphan_views) + " uid(s) in " + proj.file +
             " have no report row; ignored");

  const std::string reports_name = reports_csv.filename().string();
  std::vector<IuStudy> eligible;
  for (const auto& [uid, row] : by_uid) {
    ++sum.studies_seen;
    IuStudy st;
    st.uid = uid;
    st.line = row->line;
    st.ref = reports_name + ":" + std::to_string(row->line) + " uid " + std::to_string(uid);
    auto v = views.find(uid);
    bool frontal = v != views.end() && !v->second.frontal.empty();
    bool lateral = v != views.end() && v->second.lateral;
    // A field may repeat its own header ("INDICATION: Chest pain."); that
    // header is dropped, or the canonical text would hold it twice.
    auto field = [&](const std::string& column, const std::string& section) {
      return strip_own_header(collapse(reports.at(*row, column)), section);
    };
    std::vector<ReportSection> sections;
    if (frontal) sections.push_back({"EXAMINATION", lateral ? "CHEST (PA AND LAT)" : "CHEST (PA)"});
    sections.push_back({"INDICATION", field("indication", "INDICATION")});
    if (has_comparison) {
      std::string cmp = field("comparison", "COMPARISON");
      if (!cmp.empty()) sections.push_back({"COMPARISON", cmp});
    }
    sections.push_back({"FINDINGS", field("findings", "FINDINGS")});
    sections.push_back({"IMPRESSION", field("impression", "IMPRESSION")});
    std::string missing;
    for (const auto& s : sections)
      if (s.text.empty()) missing += (missing.empty() ? "" : ", ") + s.name;
    if (!missing.empty()) {
      sum.skip(st.ref, "missing sections", missing);
      continue;
    }
    if (!frontal) {
      sum.skip(st.ref, "no frontal image", "no 'Frontal' row in " + proj.file);
      continue;
    }
    st.text = format_report(sections);
    // The canonical text must re-parse to exactly these sections; free text that
    // itself contains e.g. ". IMPRESSION:" would not, and is reported instead.
    ParsedReport back = parse_report(st.text, st.ref);
    bool same = back.sections.size() == sections.size();
    for (size_t i = 0; same && i < sections.size(); ++i)
      same = back.sections[i].name == sections[i].name && back.sections[i].text == sections[i].text;
    if (!same) {
      sum.skip(st.ref, "ambiguous section text",
               "a field contains a section header; it would not re-parse");
      continue;
    }
    st.image = v->second.frontal.front();
    eligible.push_back(std::move(st));
  }
  sum.studies_eligible = eligible.size();
  if (sum.studies_seen == 0) log_warn("iu-xray: " + reports.file + " has no report rows");

  // Synthetic patients of k consecutive eligible uids; institutions of `per` patients.
  const size_t k = static_cast<size_t>(options.iu_studies_per_patient);
  const size_t per = static_cast<size_t>(options.patients_per_institution);
  size_t n_patients = eligible.size() / k;
  sum.patients_seen = (eligible.size() + k - 1) / k;
  sum.patients_eligible = n_patients;
  for (size_t i = n_patients * k; i < eligible.size(); ++i)
    sum.skip(eligible[i].ref, "trailing synthetic patient group dropped",
             std::to_string(eligible.size() - n_patients * k) + " eligible uid(s) left < " +
                 std::to_string(k));
  size_t n_inst = n_patients / per;
  if (n_patients % per != 0) {
    log_warn("iu-xray: dropping the last " + std::to_string(n_patients % per) +
             " synthetic patient(s): fewer than " + std::to_string(per) +
             " left to form an institution");
    for (size_t i = n_inst * per * k; i < n_patients * k; ++i)
      sum.skip(eligible[i].ref, "trailing institution group dropped",
               "synthetic patient " + synthetic_patient_number(i / k) + " is in a last group of " +
                   std::to_string(n_patients % per) + " < " + std::to_string(per) + " patients");
  }

  Corpus c;
  c.source = "iu-xray";
  c.seed = options.seed;
  c.image_size = options.image_size;
  const int64_t base = days_from_date(2150, 1, 1);
  Progress bar("import iu-xray images", n_inst * per * k);
  for (size_t g = 0; g < n_inst; ++g) {
    InstitutionRecord inst;
    inst.id = synthetic_institution_id(g);
    inst.name = synthetic_institution_name(g);
    for (size_t p = g * per; p < (g + 1) * per; ++p) {
      PatientRecord pr;
      std::string num = synthetic_patient_number(p);
      pr.id = "patient_iu_" + num;
      pr.name = "IU Patient " + num;
      pr.age = 0;
      pr.sex = "";
      for (size_t j = 0; j < k; ++j) {
        const IuStudy& st = eligible[p * k + j];
        StudyRecord sr;
        sr.id = "study_chest_xray_" + std::to_string(st.uid);
        sr.date = date_from_days(base + 30 * static_cast<int64_t>(j));
        sr.report_text = st.text;
        sr.image = "images/" + sr.id + ".png";
        sr.source_ref = st.ref + " image " + st.image;
        convert_image(images_dir / st.image, out_dir / sr.image, options.image_size);
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
    log_warn("iu-xray: no synthetic institution could be formed (" + std::to_string(n_patients) +
             " synthetic patients, " + std::to_string(per) + " needed per institution)");
  fs::create_directories(out_dir);
  finish_import(sum, out_dir);
  if (summary_out) *summary_out = std::move(sum);
  return c;
}

}  // namespace medforget
