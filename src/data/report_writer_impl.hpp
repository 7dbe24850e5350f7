#pragma once
// Internals of the report writer, shared by report_writer.cpp (sections and
// layout), report_findings.cpp (FINDINGS / IMPRESSION composition) and
// report_text.cpp (text helpers). Not a public API.
#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/rng.hpp"
#include "data/clinical_course.hpp"
#include "data/findings.hpp"
#include "data/report_writer.hpp"

namespace medforget {

namespace report_detail {

enum class Status { None, New, Stable, Increased, Decreased };
enum Region { kDevices = 0, kLungs, kPleura, kHeart, kBones, kNumRegions };
enum class DeviceKind { Ett, Ngt, IjLine, Picc, Pacer, Other };
enum class ExamKind { PaLat, Portable, Other };

using Vars = std::map<std::string, std::string>;

std::string lower(std::string s);
std::string upper(std::string s);
bool contains(const std::string& s, const std::string& t);
std::string capitalize(std::string s);
std::string title_case(const std::string& s);
void replace_all(std::string& s, const std::string& from, const std::string& to);
std::string tidy(std::string s);
std::string pluralize(std::string s);
std::string article(const std::string& np);
int severity_rank(const std::string& s);
bool sized(Observation o);
bool is_acute(Observation o);
Region region_of(Observation o);
std::string lz_noun(const std::string& lat, std::string zone);
std::string lz_adj(const std::string& lat, std::string zone);
DeviceKind device_kind(const std::string& detail);
ExamKind exam_kind(const std::string& exam);
const std::set<std::string>& header_words();
std::string wrap(const std::string& text, int width);

struct Group {
  Observation obs = Observation::NoFinding;
  Region region = kLungs;
  bool acute = false;
  bool uncertain = false;
  bool device = false;
  Status status = Status::None;
  std::string np, np0, sev, suffix, pos;
  bool countable = true;
  bool plural = false;  // "bilateral pleural effusions", "calcified pleural plaques"
  std::string fixed;    // the whole sentence, for uncertain findings
  DeviceKind dkind = DeviceKind::Other;
};

class Writer {
 public:
  Writer(const std::vector<Finding>& fs, const StudyContext& ctx, const ReportStyle& st, Rng& rng)
      : ctx_(ctx), st_(st), rng_(rng), has_prior_(!ctx.prior_date.empty()) {
    for (const auto& f : fs)
      if (f.obs != Observation::NoFinding) fs_.push_back(f);
  }

  std::string write(const std::vector<std::string>& drop);

 private:
  // --- phrase bank ---
  size_t pick(const std::string& id) {
    const auto& v = report_phrase_variants(id);
    auto it = st_.phrasing.find(id);
    if (it != st_.phrasing.end() && !it->second.empty()) {
      int i = rng_.pick(it->second);
      if (i >= 0 && static_cast<size_t>(i) < v.size()) return static_cast<size_t>(i);
    }
    return static_cast<size_t>(rng_.randint(0, static_cast<int64_t>(v.size()) - 1));
  }
  static std::string render(const std::string& id, size_t idx, const Vars& vars) {
    std::string t = report_phrase_variants(id)[idx], o;
    for (size_t i = 0; i < t.size();) {
      if (t[i] == '{') {
        size_t e = t.find('}', i);
        std::string key = t.substr(i + 1, e - i - 1);
        auto it = vars.find(key);
        if (it == vars.end()) fail("report writer: phrase '" + id + "' needs {" + key + "}");
        o += it->second;
        i = e + 1;
      } else {
        o += t[i++];
      }
    }
    // A suffix template (" with adjacent ...") keeps its leading space.
    return (!t.empty() && t[0] == ' ' ? " " : "") + tidy(o);
  }
  std::string say(const std::string& id, const Vars& vars = {}) {
    return render(id, pick(id), vars);
  }
  std::string sentence(const std::string& id, const Vars& vars = {}) {
    return capitalize(say(id, vars));
  }

  // --- findings ---
  const Finding* prior_match(const Finding& f) const {
    if (!has_prior_) return nullptr;
    for (const auto& p : ctx_.prior_findings)
      if (finding_identity(p) == finding_identity(f)) return &p;
    return nullptr;
  }
  Status status_of(const Finding& f) const {
    if (!has_prior_) return Status::None;
    const Finding* p = prior_match(f);
    if (!p) return Status::New;
    int a = severity_rank(p->severity), b = severity_rank(f.severity);
    if (a < 0 || b < 0 || a == b) return Status::Stable;
    return b > a ? Status::Increased : Status::Decreased;
  }
  // Renders noun phrase `id` with and without the severity (same variant).
  void noun(Group& g, const std::string& id, Vars v) {
    size_t i = pick(id);
    g.np = render(id, i, v);
    v["sev"] = "";
    g.np0 = render(id, i, v);
  }
  std::string a_np(const Group& g) const { return g.countable ? article(g.np) : g.np; }

  Group device_group(const Finding& f);
  void finding_noun(Group& g, const Finding& f);
  std::vector<Group> build_groups();
  std::string state(const Group& g, bool telegraphic);
  std::string state_singular(const Group& g, bool telegraphic);
  std::string device_sentence(const Group& g);
  std::string neg_list(const std::vector<std::string>& items);

  std::string findings_text(std::vector<Group>& groups);
  std::string impression_text(const std::vector<Group>& groups);
  std::vector<std::string> resolved_sentences(Region r, bool for_impression);

  std::string exam_text();
  std::string indication_text();
  std::string technique_text();
  std::string comparison_text();
  std::string format_date(const std::string& iso) const;

  bool present(Observation o) const {
    return std::any_of(fs_.begin(), fs_.end(), [&](const Finding& f) { return f.obs == o; });
  }

  const StudyContext& ctx_;
  const ReportStyle& st_;
  Rng& rng_;
  bool has_prior_;
  std::vector<Finding> fs_;
};

}  // namespace report_detail
}  // namespace medforget
