// ReportStyle: sampling a house style and its JSON form.
#include <algorithm>

#include "core/error.hpp"
#include "core/rng.hpp"
#include "data/report_writer.hpp"

namespace medforget {

namespace {

const std::vector<std::string> kHeaderCases{"upper", "title"};
const std::vector<std::string> kExamHeaders{"EXAMINATION", "EXAM"};
const std::vector<std::string> kIndicationHeaders{"INDICATION", "CLINICAL INDICATION", "HISTORY",
                                                  "CLINICAL HISTORY"};
const std::vector<std::string> kExamFormats{"raw", "prose", "short"};
const std::vector<std::string> kIndicationFormats{"plain", "age_sex", "mimic", "short"};
const std::vector<std::string> kDateFormats{"iso", "us"};

// Draws one of `opts` with the given weights.
std::string weighted(Rng& rng, const std::vector<std::string>& opts, const std::vector<double>& w) {
  double total = 0;
  for (double x : w) total += x;
  double r = rng.uniform() * total;
  for (size_t i = 0; i < opts.size(); ++i) {
    if (r < w[i]) return opts[i];
    r -= w[i];
  }
  return opts.back();
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

std::string one_of(const Json& j, const char* key, const std::vector<std::string>& opts,
                   const JsonCtx& ctx) {
  std::string v = get_string(j, key, ctx);
  if (std::find(opts.begin(), opts.end(), v) == opts.end())
    fail(where(ctx.file, ctx.line, key) + ": '" + v + "' is not one of: " + join(opts));
  return v;
}

bool get_bool(const Json& j, const char* key, const JsonCtx& ctx) {
  if (!j.contains(key)) fail(where(ctx.file, ctx.line, key) + ": missing (expected true/false)");
  if (!j[key].is_boolean()) fail(where(ctx.file, ctx.line, key) + ": expected true/false");
  return j[key].get<bool>();
}

double get_prob(const Json& j, const char* key, const JsonCtx& ctx) {
  double v = get_number(j, key, ctx);
  if (!(v >= 0.0 && v <= 1.0))
    fail(where(ctx.file, ctx.line, key) + ": expected a probability in [0, 1]");
  return v;
}

}  // namespace

ReportStyle ReportStyle::sample(Rng& rng) {
  ReportStyle s;
  s.header_case = rng.chance(0.6) ? "upper" : "title";
  s.header_colon = rng.chance(0.85);
  s.header_inline = s.header_colon && rng.chance(0.6);
  s.blank_line = rng.chance(0.6);
  s.banner = rng.chance(0.3);
  s.exam_header = rng.chance(0.7) ? "EXAMINATION" : "EXAM";
  s.indication_header = weighted(rng, kIndicationHeaders, {0.5, 0.15, 0.2, 0.15});
  s.exam_format = weighted(rng, kExamFormats, {0.6, 0.25, 0.15});
  s.indication_format = weighted(rng, kIndicationFormats, {0.35, 0.25, 0.25, 0.15});
  s.date_format = rng.chance(0.6) ? "iso" : "us";
  s.technique_prob = rng.chance(0.3) ? 0.0 : rng.uniform(0.5, 1.0);
  s.comparison_prob = rng.uniform(0.4, 1.0);
  s.impression_numbered = rng.chance(0.5);
  s.telegraphic = rng.chance(0.5);
  s.findings_one_per_line = rng.chance(0.25);
  s.devices_first = rng.chance(0.6);
  s.heart_first = rng.chance(0.35);
  s.negatives_combined = rng.chance(0.75);
  s.oxford_comma = rng.chance(0.4);
  s.bones_prob = rng.uniform(0.2, 0.9);
  s.wrap_width = rng.chance(0.35) ? static_cast<int>(rng.randint(68, 80)) : 0;
  for (const auto& id : report_phrase_ids()) {
    size_t n = report_phrase_variants(id).size();
    size_t k = (n >= 3 && rng.chance(0.35)) ? 2 : 1;
    std::vector<int> idx;
    for (size_t i : rng.sample_indices(n, k)) idx.push_back(static_cast<int>(i));
    s.phrasing[id] = idx;
  }
  return s;
}

Json ReportStyle::to_json() const {
  Json p = Json::object();
  for (const auto& [id, idx] : phrasing) p[id] = idx;
  return Json{{"header_case", header_case},
              {"header_colon", header_colon},
              {"header_inline", header_inline},
              {"blank_line", blank_line},
              {"banner", banner},
              {"exam_header", exam_header},
              {"indication_header", indication_header},
              {"exam_format", exam_format},
              {"indication_format", indication_format},
              {"date_format", date_format},
              {"technique_prob", technique_prob},
              {"comparison_prob", comparison_prob},
              {"impression_numbered", impression_numbered},
              {"telegraphic", telegraphic},
              {"findings_one_per_line", findings_one_per_line},
              {"devices_first", devices_first},
              {"heart_first", heart_first},
              {"negatives_combined", negatives_combined},
              {"oxford_comma", oxford_comma},
              {"bones_prob", bones_prob},
              {"wrap_width", wrap_width},
              {"phrasing", p}};
}

ReportStyle ReportStyle::from_json(const Json& j, const std::string& context) {
  JsonCtx ctx{context, 0};
  if (!j.is_object()) fail(context + ": report style must be a JSON object");
  ReportStyle s;
  s.header_case = one_of(j, "header_case", kHeaderCases, ctx);
  s.header_colon = get_bool(j, "header_colon", ctx);
  s.header_inline = get_bool(j, "header_inline", ctx);
  if (s.header_inline && !s.header_colon)
    fail(where(context, 0, "header_inline") + ": an inline header needs header_colon = true");
  s.blank_line = get_bool(j, "blank_line", ctx);
  s.banner = get_bool(j, "banner", ctx);
  s.exam_header = one_of(j, "exam_header", kExamHeaders, ctx);
  s.indication_header = one_of(j, "indication_header", kIndicationHeaders, ctx);
  s.exam_format = one_of(j, "exam_format", kExamFormats, ctx);
  s.indication_format = one_of(j, "indication_format", kIndicationFormats, ctx);
  s.date_format = one_of(j, "date_format", kDateFormats, ctx);
  s.technique_prob = get_prob(j, "technique_prob", ctx);
  s.comparison_prob = get_prob(j, "comparison_prob", ctx);
  s.impression_numbered = get_bool(j, "impression_numbered", ctx);
  s.telegraphic = get_bool(j, "telegraphic", ctx);
  s.findings_one_per_line = get_bool(j, "findings_one_per_line", ctx);
  s.devices_first = get_bool(j, "devices_first", ctx);
  s.heart_first = get_bool(j, "heart_first", ctx);
  s.negatives_combined = get_bool(j, "negatives_combined", ctx);
  s.oxford_comma = get_bool(j, "oxford_comma", ctx);
  s.bones_prob = get_prob(j, "bones_prob", ctx);
  int64_t w = get_int(j, "wrap_width", ctx);
  if (w != 0 && (w < 40 || w > 200))
    fail(where(context, 0, "wrap_width") + ": expected 0 (no wrapping) or 40..200, got " +
         std::to_string(w));
  s.wrap_width = static_cast<int>(w);
  const Json& p = get_object(j, "phrasing", ctx);
  for (auto it = p.begin(); it != p.end(); ++it) {
    const std::string& id = it.key();
    const auto& ids = report_phrase_ids();
    if (std::find(ids.begin(), ids.end(), id) == ids.end())
      fail(where(context, 0, "phrasing." + id) + ": unknown statement id");
    if (!it.value().is_array() || it.value().empty())
      fail(where(context, 0, "phrasing." + id) + ": expected a non-empty array of variant indices");
    size_t n = report_phrase_variants(id).size();
    std::vector<int> idx;
    for (const auto& v : it.value()) {
      if (!v.is_number_integer() || v.get<int64_t>() < 0 ||
          v.get<int64_t>() >= static_cast<int64_t>(n))
        fail(where(context, 0, "phrasing." + id) + ": expected variant indices in [0, " +
             std::to_string(n) + ")");
      idx.push_back(v.get<int>());
    }
    s.phrasing[id] = idx;
  }
  return s;
}

}  // namespace medforget
