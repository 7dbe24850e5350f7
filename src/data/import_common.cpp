#include "data/import_common.hpp"

#include <algorithm>
#include <cstdio>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "core/digest.hpp"
#include "core/error.hpp"
#include "core/fs.hpp"
#include "core/progress.hpp"

namespace medforget {

void validate(const ImportOptions& o) {
  if (o.image_size < 16 || o.image_size > 1024)
    fail("import option image_size: expected 16..1024 (what load_corpus accepts), got " +
         std::to_string(o.image_size));
  if (o.patients_per_institution < 1)
    fail("import option patients_per_institution: expected >= 1, got " +
         std::to_string(o.patients_per_institution));
  if (o.iu_studies_per_patient < 1)
    fail("import option iu_studies_per_patient: expected >= 1, got " +
         std::to_string(o.iu_studies_per_patient));
  if (o.min_studies_per_patient < 1)
    fail("import option min_studies_per_patient: expected >= 1, got " +
         std::to_string(o.min_studies_per_patient));
}

Json import_params(const ImportOptions& o, const std::string& source) {
  Json j = {{"importer", source},
            {"image_size", o.image_size},
            {"seed", o.seed},
            {"patients_per_institution", o.patients_per_institution}};
  if (source == "iu-xray") j["iu_studies_per_patient"] = o.iu_studies_per_patient;
  if (source == "mimic-cxr") j["min_studies_per_patient"] = o.min_studies_per_patient;
  return j;
}

void record_input_file(ImportSummary& summary, const std::string& name, const fs::path& p,
                       const std::string& bytes) {
  summary.inputs[name] = fs::absolute(p).lexically_normal().string();
  summary.inputs[name + "_digest"] = sha256_hex(bytes);
}

void record_input_dir(ImportSummary& summary, const std::string& name, const fs::path& p) {
  summary.inputs[name] = fs::absolute(p).lexically_normal().string();
}

void ImportSummary::skip(std::string ref, std::string reason, std::string detail) {
  skipped.push_back({std::move(ref), std::move(reason), std::move(detail)});
}

std::map<std::string, size_t> ImportSummary::reason_counts() const {
  std::map<std::string, size_t> m;
  for (const auto& s : skipped) ++m[s.reason];
  return m;
}

std::string ImportSummary::to_string() const {
  std::string s = source + ": imported " + std::to_string(studies_imported) + " studies of " +
                  std::to_string(studies_seen) + "; skipped " + std::to_string(skipped.size());
  auto counts = reason_counts();
  if (!counts.empty()) {
    s += " (";
    bool first = true;
    for (const auto& [reason, n] : counts) {
      s += (first ? "" : ", ") + reason + ": " + std::to_string(n);
      first = false;
    }
    s += ")";
  }
  s += "; " + std::to_string(patients_imported) + " patients in " + std::to_string(institutions) +
       " institution(s)";
  return s;
}

Json ImportSummary::to_json() const {
  Json j;
  j["source"] = source;
  j["studies_seen"] = studies_seen;
  j["studies_eligible"] = studies_eligible;
  j["studies_imported"] = studies_imported;
  j["patients_seen"] = patients_seen;
  j["patients_eligible"] = patients_eligible;
  j["patients_imported"] = patients_imported;
  j["institutions"] = institutions;
  j["inputs"] = inputs;
  Json counts = Json::object();
  for (const auto& [reason, n] : reason_counts()) counts[reason] = n;
  j["skipped_counts"] = counts;
  Json list = Json::array();
  for (const auto& s : skipped)
    list.push_back({{"ref", s.ref}, {"reason", s.reason}, {"detail", s.detail}});
  j["skipped"] = list;
  return j;
}

void finish_import(const ImportSummary& summary, const std::filesystem::path& out_dir) {
  write_json(out_dir / "import_summary.json", summary.to_json());
}

void log_import(const ImportSummary& summary, const std::filesystem::path& corpus_dir) {
  log_info(summary.to_string());
  const size_t shown = 10;
  for (size_t i = 0; i < summary.skipped.size() && i < shown; ++i) {
    const auto& s = summary.skipped[i];
    log_info("  skipped " + s.ref + ": " + s.reason +
             (s.detail.empty() ? "" : " (" + s.detail + ")"));
  }
  if (summary.skipped.size() > shown)
    log_info("  ... " + std::to_string(summary.skipped.size() - shown) +
             " more skipped studies listed in " + (corpus_dir / "import_summary.json").string());
}

void convert_image(const std::filesystem::path& src, const std::filesystem::path& dst, int size) {
  std::vector<uint8_t> bytes = read_bytes(src);  // Error naming src if unreadable
  cv::Mat img;
  try {
    if (!bytes.empty())
      img = cv::imdecode(cv::Mat(1, static_cast<int>(bytes.size()), CV_8U, bytes.data()),
                         cv::IMREAD_GRAYSCALE);
  } catch (const cv::Exception& e) {
    fail(src.string() + ": cannot decode image (" + e.what() + ")");
  }
  if (img.empty() || img.cols < 1 || img.rows < 1)
    fail(src.string() +
         ": cannot decode image (corrupt, empty or unsupported format; expected JPEG or PNG)");
  if (img.depth() != CV_8U) img.convertTo(img, CV_8U, img.depth() == CV_16U ? 1.0 / 257.0 : 1.0);
  int side = std::min(img.cols, img.rows);
  cv::Mat square = img(cv::Rect((img.cols - side) / 2, (img.rows - side) / 2, side, side));
  cv::Mat out;
  cv::resize(square, out, cv::Size(size, size), 0, 0, cv::INTER_AREA);
  std::vector<uint8_t> png;
  if (!cv::imencode(".png", out, png))
    fail(dst.string() + ": PNG encoding failed for image " + src.string());
  write_atomic(dst, png);
}

// Howard Hinnant's days_from_civil / civil_from_days.
int64_t days_from_date(int y, int m, int d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

std::string date_from_days(int64_t z) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t y = yoe + era * 400;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int64_t d = doy - (153 * mp + 2) / 5 + 1;
  const int64_t m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04lld-%02lld-%02lld", static_cast<long long>(y),
                static_cast<long long>(m), static_cast<long long>(d));
  return buf;
}

std::string date_from_yyyymmdd(const std::string& s) {
  std::string t = s;
  // Pandas-exported metadata sometimes writes "21800506.0".
  if (t.size() == 10 && t.substr(8) == ".0") t = t.substr(0, 8);
  if (t.size() != 8) return "";
  for (char c : t)
    if (c < '0' || c > '9') return "";
  int m = std::stoi(t.substr(4, 2)), d = std::stoi(t.substr(6, 2));
  if (m < 1 || m > 12 || d < 1 || d > 31) return "";
  return t.substr(0, 4) + "-" + t.substr(4, 2) + "-" + t.substr(6, 2);
}

std::string synthetic_institution_id(size_t index) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "inst_%02zu", index + 1);
  return buf;
}

std::string synthetic_institution_name(size_t index) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "Synthetic Institution %02zu", index + 1);
  return buf;
}

}  // namespace medforget
