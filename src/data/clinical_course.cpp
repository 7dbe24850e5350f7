#include "data/clinical_course.hpp"

#include <algorithm>
#include <cstdio>
#include <set>

#include "core/error.hpp"
#include "core/rng.hpp"

namespace medforget {

namespace {

using Scale = std::vector<std::string>;
const Scale kSizeScale{"small", "moderate", "large"};
const Scale kGradeScale{"mild", "moderate", "severe"};
const Scale kAtelScale{"mild", "moderate"};

enum class Kind {
  Pneumonia,
  Effusion,
  Edema,
  Pneumothorax,
  Atelectasis,
  Opacity,  // acute
  Cardiomegaly,
  Lesion,
  PleuralOther,
  Fracture,
  WideMediastinum,
  Pacemaker,  // chronic
  Ett,
  Ngt,
  IjLine,
  Picc,  // removable devices
};

bool chronic(Kind k) {
  return k == Kind::Cardiomegaly || k == Kind::Lesion || k == Kind::PleuralOther ||
         k == Kind::Fracture || k == Kind::WideMediastinum || k == Kind::Pacemaker;
}
bool removable_device(Kind k) {
  return k == Kind::Ett || k == Kind::Ngt || k == Kind::IjLine || k == Kind::Picc;
}

const Scale* scale_of(Kind k) {
  switch (k) {
    case Kind::Effusion:
    case Kind::Pneumothorax:
      return &kSizeScale;
    case Kind::Edema:
    case Kind::Cardiomegaly:
      return &kGradeScale;
    case Kind::Atelectasis:
      return &kAtelScale;
    default:
      return nullptr;
  }
}

struct Condition {
  Kind kind;
  std::string lat;
  std::string detail;
  int sev = -1;  // index into scale_of(kind); -1 = no severity word
};

std::string side(Rng& rng, double p_right = 0.5) { return rng.chance(p_right) ? "right" : "left"; }

std::string side_or_bilateral(Rng& rng, double p_bilateral) {
  return rng.chance(p_bilateral) ? "bilateral" : side(rng);
}

std::string lobe_for(const std::string& lat, Rng& rng) {
  double r = rng.uniform();
  if (r < 0.6) return "lower lobe";
  if (r < 0.8 || lat != "right") return "upper lobe";
  return "middle lobe";
}

std::string ordinal(int n) {
  const char* suf = (n % 10 == 1 && n != 11)   ? "st"
                    : (n % 10 == 2 && n != 12) ? "nd"
                    : (n % 10 == 3 && n != 13) ? "rd"
                                               : "th";
  return std::to_string(n) + suf;
}

class Course {
 public:
  Course(int age, Rng& rng) : age_(age), rng_(rng) {}

  bool active(Kind k) const {
    return std::any_of(conds_.begin(), conds_.end(),
                       [&](const Condition& c) { return c.kind == k; });
  }
  const Condition* find(Kind k) const {
    for (const auto& c : conds_)
      if (c.kind == k) return &c;
    return nullptr;
  }
  // One condition per kind; a kind that resolved at this study does not restart
  // at the same study (it would read as a persisting finding switching sides).
  void add(Condition c) {
    if (!active(c.kind) && !just_ended_.count(c.kind)) conds_.push_back(std::move(c));
  }

  void start_chronic(Kind k) {
    Condition c{k, "", "", -1};
    switch (k) {
      case Kind::Cardiomegaly:
        c.sev = rng_.chance(0.6) ? 0 : 1;
        break;
      case Kind::Lesion: {
        c.lat = side(rng_);
        std::string zone = rng_.chance(0.65) ? "upper lobe" : lobe_for(c.lat, rng_);
        if (rng_.chance(0.8))
          c.detail = std::to_string(rng_.randint(4, 18)) + " mm nodule, " + zone;
        else {
          // Separate statements: operands of + are unsequenced.
          auto whole = rng_.randint(3, 6);
          auto tenth = rng_.randint(0, 9);
          c.detail = std::to_string(whole) + "." + std::to_string(tenth) + " cm mass, " + zone;
        }
        break;
      }
      case Kind::PleuralOther:
        c.lat = side_or_bilateral(rng_, 0.4);
        c.detail = rng_.chance(0.5) ? "pleural thickening" : "calcified pleural plaques";
        break;
      case Kind::Fracture:
        if (rng_.chance(0.75)) {
          c.lat = side(rng_);
          static const std::vector<std::string> pos{"posterior", "lateral", "anterior"};
          std::string where = rng_.pick(pos);
          c.detail = where + " " + ordinal(static_cast<int>(rng_.randint(4, 10))) + " rib";
        } else {
          c.detail = "thoracic vertebral body";
        }
        break;
      case Kind::WideMediastinum:
        c.detail = "mediastinal widening";
        break;
      case Kind::Pacemaker:
        c.lat = side(rng_, 0.15);
        c.detail = "pacemaker";
        break;
      default:
        fail("clinical course: not a chronic kind");
    }
    add(c);
  }

  void maybe_start_chronic(bool first) {
    double f = first ? 1.0 : 0.12;  // onset later in the course is rarer
    double old = age_ >= 60 ? 1.0 : 0.4;
    if (rng_.chance(f * 0.22 * old)) start_chronic(Kind::Cardiomegaly);
    if (rng_.chance(f * 0.10)) start_chronic(Kind::Lesion);
    if (rng_.chance(f * 0.07 * old)) start_chronic(Kind::PleuralOther);
    if (rng_.chance(f * 0.10 * old)) start_chronic(Kind::Fracture);
    if (rng_.chance(f * 0.04)) start_chronic(Kind::WideMediastinum);
    if (age_ >= 55 && rng_.chance(f * 0.08)) start_chronic(Kind::Pacemaker);
  }

  void start_episode() {
    // Weighted episode types.
    static const std::vector<std::pair<int, int>> w{{0, 3}, {1, 3}, {2, 2}, {3, 2},
                                                    {4, 1}, {5, 2}, {6, 1}, {7, 1}};
    int total = 0;
    for (auto& p : w) total += p.second;
    int r = static_cast<int>(rng_.randint(0, total - 1)), type = 0;
    for (auto& p : w) {
      if (r < p.second) {
        type = p.first;
        break;
      }
      r -= p.second;
    }
    switch (type) {
      case 0: {  // pneumonia
        std::string lat = side_or_bilateral(rng_, 0.15);
        add({Kind::Pneumonia, lat, lobe_for(lat, rng_), -1});
        if (rng_.chance(0.3)) add({Kind::Effusion, lat == "bilateral" ? "bilateral" : lat, "", 0});
        break;
      }
      case 1: {  // effusion, often with compressive atelectasis
        std::string lat = side_or_bilateral(rng_, 0.3);
        add({Kind::Effusion, lat, "", static_cast<int>(rng_.randint(0, 2))});
        if (rng_.chance(0.45)) add({Kind::Atelectasis, lat, "base", rng_.chance(0.5) ? 0 : -1});
        break;
      }
      case 2: {  // heart failure
        add({Kind::Edema, "", "", static_cast<int>(rng_.randint(0, 2))});
        if (rng_.chance(0.5)) add({Kind::Effusion, "bilateral", "", rng_.chance(0.7) ? 0 : 1});
        if (rng_.chance(0.5)) start_chronic(Kind::Cardiomegaly);
        break;
      }
      case 3: {  // ICU admission: tubes and lines
        add({Kind::Ett, "", "endotracheal tube", -1});
        if (rng_.chance(0.85)) add({Kind::Ngt, "", "nasogastric tube", -1});
        if (rng_.chance(0.7)) {
          std::string s = side(rng_, 0.75);
          add({Kind::IjLine, s, "internal jugular central line", -1});
          if (rng_.chance(0.1)) add({Kind::Pneumothorax, s, "", 0});
        }
        if (rng_.chance(0.5)) add({Kind::Atelectasis, side_or_bilateral(rng_, 0.5), "base", 0});
        if (rng_.chance(0.25)) add({Kind::Edema, "", "", 0});
        break;
      }
      case 4: {  // pneumothorax
        int sev = rng_.chance(0.6) ? 0 : static_cast<int>(rng_.randint(1, 2));
        add({Kind::Pneumothorax, side(rng_), "", sev});
        break;
      }
      case 5: {  // atelectasis
        std::string lat = side_or_bilateral(rng_, 0.45);
        add({Kind::Atelectasis, lat, "base",
             rng_.chance(0.4) ? -1 : static_cast<int>(rng_.randint(0, 1))});
        break;
      }
      case 6: {  // nonspecific opacity
        std::string lat = side(rng_);
        add({Kind::Opacity, lat, rng_.chance(0.5) ? "base" : lobe_for(lat, rng_), -1});
        break;
      }
      default: {  // PICC for antibiotics / access
        add({Kind::Picc, side(rng_, 0.6), "PICC", -1});
        break;
      }
    }
  }

  // Moves every condition one study forward.
  void evolve() {
    std::vector<Condition> next;
    just_ended_.clear();
    for (const auto& c : conds_) just_ended_.insert(c.kind);
    bool ett_removed = false;
    for (auto c : conds_) {
      if (chronic(c.kind)) {
        if (c.kind == Kind::Cardiomegaly && c.sev < 2 && rng_.chance(0.08)) ++c.sev;
        next.push_back(c);
        continue;
      }
      if (removable_device(c.kind)) {
        double p_remove = c.kind == Kind::Ett      ? 0.45
                          : c.kind == Kind::Ngt    ? 0.35
                          : c.kind == Kind::IjLine ? 0.3
                                                   : 0.25;
        if (c.kind == Kind::Ngt && ett_removed) p_remove = 0.7;
        if (rng_.chance(p_remove)) {
          if (c.kind == Kind::Ett) ett_removed = true;
          continue;
        }
        next.push_back(c);
        continue;
      }
      const Scale* sc = scale_of(c.kind);
      double p_resolve = c.kind == Kind::Pneumothorax ? 0.45 : 0.3;
      double r = rng_.uniform();
      if (r < p_resolve) continue;  // resolved
      if (sc && c.sev >= 0) {
        if (r < p_resolve + 0.25) {  // improving
          if (c.sev == 0) continue;
          --c.sev;
        } else if (r > 0.8 && c.sev + 1 < static_cast<int>(sc->size())) {
          ++c.sev;  // worsening
        }
      }
      next.push_back(c);
    }
    for (const auto& c : next) just_ended_.erase(c.kind);
    conds_ = std::move(next);
  }

  std::vector<Finding> emit() {
    std::vector<Finding> out;
    std::set<std::string> seen;
    auto push = [&](Finding f) {
      if (seen.insert(finding_identity(f)).second) out.push_back(std::move(f));
    };
    auto sevword = [](const Condition& c) -> std::string {
      const Scale* sc = scale_of(c.kind);
      return (sc && c.sev >= 0) ? (*sc)[static_cast<size_t>(c.sev)] : "";
    };
    for (const auto& c : conds_) {
      Finding f;
      f.laterality = c.lat;
      f.detail = c.detail;
      f.severity = sevword(c);
      switch (c.kind) {
        case Kind::Pneumonia:
          if (rng_.chance(0.15)) {
            push({Observation::LungOpacity, Certainty::Present, c.lat, "", c.detail});
            push({Observation::Pneumonia, Certainty::Uncertain, c.lat, "", c.detail});
          } else {
            push({Observation::Consolidation, Certainty::Present, c.lat, "", c.detail});
            push({Observation::Pneumonia, Certainty::Present, c.lat, "", c.detail});
          }
          continue;
        case Kind::Atelectasis:
          if (rng_.chance(0.2)) {
            push({Observation::LungOpacity, Certainty::Present, c.lat, "", c.detail});
            f.certainty = Certainty::Uncertain;
          }
          f.obs = Observation::Atelectasis;
          break;
        case Kind::Effusion:
          f.obs = Observation::PleuralEffusion;
          if (c.sev == 0 && rng_.chance(0.12)) f.certainty = Certainty::Uncertain;
          break;
        case Kind::Edema:
          f.obs = Observation::Edema;
          if (c.sev == 0 && rng_.chance(0.12)) f.certainty = Certainty::Uncertain;
          break;
        case Kind::Pneumothorax:
          f.obs = Observation::Pneumothorax;
          if (c.sev == 0 && rng_.chance(0.1)) f.certainty = Certainty::Uncertain;
          break;
        case Kind::Opacity:
          f.obs = Observation::LungOpacity;
          break;
        case Kind::Cardiomegaly:
          f.obs = Observation::Cardiomegaly;
          break;
        case Kind::Lesion:
          f.obs = Observation::LungLesion;
          break;
        case Kind::PleuralOther:
          f.obs = Observation::PleuralOther;
          break;
        case Kind::Fracture:
          f.obs = Observation::Fracture;
          break;
        case Kind::WideMediastinum:
          f.obs = Observation::EnlargedCardiomediastinum;
          break;
        default:
          f.obs = Observation::SupportDevices;
          break;
      }
      push(f);
    }
    // Canonical order: pathology in enum order, devices last; NoFinding if no pathology.
    std::stable_sort(out.begin(), out.end(), [](const Finding& a, const Finding& b) {
      return static_cast<int>(a.obs) < static_cast<int>(b.obs);
    });
    if (std::none_of(out.begin(), out.end(), is_pathology))
      out.insert(out.begin(), Finding{Observation::NoFinding, Certainty::Present, "", "", ""});
    return out;
  }

 private:
  int age_;
  Rng& rng_;
  std::vector<Condition> conds_;
  std::set<Kind> just_ended_;
};

// Days since 1970-01-01 for a proleptic Gregorian date (H. Hinnant's algorithm).
long days_from_civil(long y, unsigned m, unsigned d) {
  y -= m <= 2;
  const long era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<long>(doe) - 719468;
}

std::string civil_from_days(long z) {
  z += 719468;
  const long era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  long y = static_cast<long>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04ld-%02u-%02u", y, m, d);
  return buf;
}

long parse_iso(const std::string& s) {
  int y = 0, m = 0, d = 0;
  char tail = 0;
  if (s.size() != 10 || std::sscanf(s.c_str(), "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3 || m < 1 ||
      m > 12 || d < 1 || d > 31)
    fail("date '" + s + "': expected an ISO date YYYY-MM-DD");
  return days_from_civil(y, static_cast<unsigned>(m), static_cast<unsigned>(d));
}

bool has(const std::vector<Finding>& fs, Observation o) {
  return std::any_of(fs.begin(), fs.end(), [&](const Finding& f) { return f.obs == o; });
}
bool has_device(const std::vector<Finding>& fs, const std::string& d) {
  return std::any_of(fs.begin(), fs.end(), [&](const Finding& f) {
    return f.obs == Observation::SupportDevices && f.detail == d;
  });
}
const Finding* get(const std::vector<Finding>& fs, Observation o) {
  for (const auto& f : fs)
    if (f.obs == o) return &f;
  return nullptr;
}

}  // namespace

bool is_pathology(const Finding& f) {
  return f.obs != Observation::NoFinding && f.obs != Observation::SupportDevices;
}

std::string finding_identity(const Finding& f) {
  return observation_key(f.obs) + "|" + f.laterality + "|" + f.detail;
}

std::vector<std::vector<Finding>> sample_clinical_course(int n_studies, int age, Rng& rng) {
  if (n_studies < 0)
    fail("sample_clinical_course: n_studies must be >= 0, got " + std::to_string(n_studies));
  std::vector<std::vector<Finding>> out;
  Course course(age, rng);
  bool healthy_start = rng.chance(0.3);
  for (int i = 0; i < n_studies; ++i) {
    if (i == 0) {
      course.maybe_start_chronic(true);
      if (!healthy_start && rng.chance(0.75)) course.start_episode();
    } else {
      course.evolve();
      course.maybe_start_chronic(false);
      if (rng.chance(0.35)) course.start_episode();
    }
    out.push_back(course.emit());
  }
  return out;
}

std::vector<std::string> sample_study_dates(int n, Rng& rng) {
  std::vector<std::string> out;
  long day = days_from_civil(2008, 1, 1) + rng.randint(0, 11 * 365);
  for (int i = 0; i < n; ++i) {
    if (i > 0) {
      double r = rng.uniform();
      day += r < 0.35 ? rng.randint(1, 7) : r < 0.65 ? rng.randint(8, 90) : rng.randint(91, 730);
    }
    out.push_back(civil_from_days(day));
  }
  return out;
}

int days_between(const std::string& a, const std::string& b) {
  return static_cast<int>(parse_iso(b) - parse_iso(a));
}

std::string sample_exam(const std::vector<Finding>& findings, Rng& rng) {
  bool inpatient = has_device(findings, "endotracheal tube") ||
                   has_device(findings, "nasogastric tube") ||
                   has_device(findings, "internal jugular central line") ||
                   has(findings, Observation::Pneumothorax);
  for (const auto& f : findings)
    if ((f.obs == Observation::Edema && f.severity != "mild") ||
        (f.obs == Observation::PleuralEffusion && f.severity == "large"))
      inpatient = true;
  return rng.chance(inpatient ? 0.88 : 0.15) ? "CHEST (PORTABLE AP)" : "CHEST (PA AND LAT)";
}

std::string sample_indication(const std::vector<Finding>& findings,
                              const std::vector<Finding>& prior, Rng& rng) {
  using V = std::vector<std::string>;
  auto new_device = [&](const std::string& d) {
    return has_device(findings, d) && !has_device(prior, d);
  };
  if (new_device("endotracheal tube"))
    return rng.pick(V{"s/p intubation, assess ET tube position",
                      "intubated, evaluate tube placement", "ETT placement"});
  if (new_device("internal jugular central line") || new_device("PICC"))
    return rng.pick(V{"s/p line placement, assess position", "new line, confirm placement",
                      "line placement, evaluate for pneumothorax"});
  if (new_device("nasogastric tube"))
    return rng.pick(V{"NG tube placement, assess position", "s/p NGT placement"});
  const Finding* ptx = get(findings, Observation::Pneumothorax);
  if (ptx && get(prior, Observation::Pneumothorax))
    return rng.pick(V{"follow-up pneumothorax", "pneumothorax, interval change?"});
  if (ptx)
    return rng.pick(
        V{"chest pain", "acute shortness of breath", "chest pain, shortness of breath"});
  if (has(findings, Observation::Pneumonia) && has(prior, Observation::Pneumonia))
    return rng.pick(V{"follow-up pneumonia", "pneumonia, assess for interval change",
                      "on antibiotics, follow-up"});
  if (has(findings, Observation::Pneumonia))
    return rng.pick(V{"fever, cough", "evaluate for pneumonia", "cough, fever, leukocytosis",
                      "productive cough, evaluate for pneumonia"});
  if (has(findings, Observation::PleuralEffusion) && has(prior, Observation::PleuralEffusion))
    return rng.pick(
        V{"follow-up effusion", "follow-up pleural effusion", "effusion, interval change?"});
  if (has(findings, Observation::Edema))
    return rng.pick(V{"shortness of breath", "dyspnea, evaluate for pulmonary edema",
                      "CHF exacerbation", "worsening dyspnea, leg swelling"});
  if (has(findings, Observation::PleuralEffusion))
    return rng.pick(V{"shortness of breath", "decreased breath sounds", "dyspnea"});
  if (has_device(findings, "endotracheal tube"))
    return rng.pick(V{"intubated patient, interval change", "ventilated, assess for change",
                      "respiratory failure"});
  if (get(prior, Observation::Pneumothorax) || get(prior, Observation::Pneumonia) ||
      get(prior, Observation::PleuralEffusion))
    return rng.pick(V{"follow-up", "interval follow-up", "assess for interval change"});
  if (has(findings, Observation::Atelectasis) || has(findings, Observation::LungOpacity))
    return rng.pick(
        V{"cough", "hypoxia", "fever", "shortness of breath", "evaluate for pneumonia"});
  return rng.pick(V{"preop", "chest pain", "evaluate for pneumonia", "cough", "shortness of breath",
                    "fever, cough", "fall, rule out fracture", "weakness",
                    "preoperative evaluation"});
}

std::vector<PlannedStudy> plan_patient_studies(int n_studies, int age, Rng& rng) {
  Rng r_course = rng.fork("course"), r_dates = rng.fork("dates"), r_exam = rng.fork("exam"),
      r_ind = rng.fork("indication");
  auto course = sample_clinical_course(n_studies, age, r_course);
  auto dates = sample_study_dates(n_studies, r_dates);
  std::vector<PlannedStudy> out;
  for (int i = 0; i < n_studies; ++i) {
    PlannedStudy s;
    s.date = dates[static_cast<size_t>(i)];
    s.findings = course[static_cast<size_t>(i)];
    s.exam = sample_exam(s.findings, r_exam);
    static const std::vector<Finding> none;
    s.indication =
        sample_indication(s.findings, i > 0 ? course[static_cast<size_t>(i - 1)] : none, r_ind);
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace medforget
