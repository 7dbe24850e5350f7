// FINDINGS and IMPRESSION of a report: grouping findings into statements,
// change against the prior study, pertinent negatives, normal statements.
#include <algorithm>
#include <cstdio>

#include "core/error.hpp"
#include "core/rng.hpp"
#include "data/clinical_course.hpp"
#include "data/report_writer_impl.hpp"

namespace medforget {
namespace report_detail {

Group Writer::device_group(const Finding& f) {
  Group g;
  g.obs = f.obs;
  g.region = kDevices;
  g.device = true;
  g.dkind = device_kind(f.detail);
  g.status = status_of(f);
  Vars v{{"lat", f.laterality}};
  switch (g.dkind) {
    case DeviceKind::Ett: {
      noun(g, "np_ett", v);
      char cm[16];
      std::snprintf(cm, sizeof cm, "%.1f", rng_.randint(25, 65) / 10.0);
      g.pos = say("ett_pos", {{"cm", cm}});
      break;
    }
    case DeviceKind::Ngt:
      noun(g, "np_ngt", v);
      g.pos = say("ngt_pos");
      break;
    case DeviceKind::IjLine:
    case DeviceKind::Picc: {
      noun(g, g.dkind == DeviceKind::IjLine ? "np_ij" : "np_picc", v);
      static const std::vector<std::string> locs{"mid SVC", "lower SVC", "cavoatrial junction",
                                                 "upper right atrium"};
      // A line stays where it was placed: the tip follows from the line and the
      // patient, not from this report's draws.
      Rng tip(hash64(finding_identity(f) + "|" + std::to_string(ctx_.age) + ctx_.sex));
      g.pos = say("line_pos", {{"loc", tip.pick(locs)}});
      break;
    }
    case DeviceKind::Pacer:
      noun(g, "np_pacer", v);
      g.pos = say("pacer_pos");
      break;
    default:
      g.np = g.np0 = tidy(f.laterality + " " + (f.detail.empty() ? "support device" : f.detail));
      g.pos = "is in place";
      break;
  }
  return g;
}

// Fills np/np0/countable for a finding stated on its own.
void Writer::finding_noun(Group& g, const Finding& f) {
  Vars v{{"sev", f.severity},
         {"lat", f.laterality},
         {"det", f.detail},
         {"lz", lz_noun(f.laterality, f.detail)},
         {"lz_adj", lz_adj(f.laterality, f.detail)}};
  g.countable = true;
  switch (f.obs) {
    case Observation::PleuralEffusion:
      g.countable = f.laterality != "bilateral";
      g.plural = !g.countable;
      noun(g, g.countable ? "np_effusion" : "np_effusion_bilat", v);
      break;
    case Observation::Pneumothorax:
      noun(g, "np_ptx", v);
      break;
    case Observation::Edema:
      g.countable = false;
      noun(g, "np_edema", v);
      break;
    case Observation::Cardiomegaly:
      g.countable = false;
      noun(g, "np_cardiomegaly", v);
      break;
    case Observation::EnlargedCardiomediastinum:
      g.countable = false;
      noun(g, "np_ecm", v);
      break;
    case Observation::Consolidation:
    case Observation::Pneumonia:
      g.countable = false;
      noun(g, "np_consolidation", v);
      break;
    case Observation::LungOpacity:
      noun(g, "np_opacity", v);
      break;
    case Observation::Atelectasis:
      g.countable = false;
      noun(g, "np_atelectasis", v);
      break;
    case Observation::LungLesion: {
      std::string d = f.detail, zone;
      auto comma = d.find(", ");
      if (comma != std::string::npos) {
        zone = d.substr(comma + 2);
        d = d.substr(0, comma);
      }
      auto sp = d.rfind(' ');
      std::string kind = sp == std::string::npos ? (d.empty() ? "nodule" : d) : d.substr(sp + 1);
      std::string size = sp == std::string::npos ? "" : d.substr(0, sp);
      v["size"] = size;
      v["kind"] = kind;
      v["lz"] = lz_noun(f.laterality, zone);
      v["lz_adj"] = lz_adj(f.laterality, zone);
      noun(g, "np_lesion", v);
      break;
    }
    case Observation::PleuralOther:
      g.countable = false;
      v["det"] = f.detail.empty() ? "pleural thickening" : f.detail;
      g.plural = contains(f.detail, "plaques");
      noun(g, "np_pleural_other", v);
      break;
    case Observation::Fracture:
      if (contains(lower(f.detail), "rib")) {
        noun(g, "np_fracture_rib", v);
      } else if (contains(lower(f.detail), "vertebra")) {
        noun(g, "np_fracture_spine", v);
      } else {
        g.np = g.np0 = tidy("old " + f.laterality + " " + f.detail + " fracture");
      }
      break;
    default:
      g.np = g.np0 = tidy(f.severity + " " + f.laterality + " " + lower(observation_label(f.obs)));
      break;
  }
}

std::vector<Group> Writer::build_groups() {
  std::vector<Group> out;
  std::vector<bool> used(fs_.size(), false);
  auto find_same_side = [&](Observation o, const std::string& lat) -> int {
    for (size_t j = 0; j < fs_.size(); ++j)
      if (!used[j] && fs_[j].obs == o && fs_[j].laterality == lat) return static_cast<int>(j);
    return -1;
  };
  for (size_t i = 0; i < fs_.size(); ++i) {
    if (used[i]) continue;
    const Finding& f = fs_[i];
    used[i] = true;
    if (f.obs == Observation::SupportDevices) {
      out.push_back(device_group(f));
      continue;
    }
    Group g;
    g.obs = f.obs;
    g.region = region_of(f.obs);
    g.acute = is_acute(f.obs);
    g.uncertain = f.certainty == Certainty::Uncertain;
    g.sev = f.severity;
    g.status = status_of(f);
    Vars v{{"sev", f.severity},
           {"lat", f.laterality},
           {"det", f.detail},
           {"lz", lz_noun(f.laterality, f.detail)},
           {"lz_adj", lz_adj(f.laterality, f.detail)}};

    if (f.obs == Observation::Pneumonia || f.obs == Observation::Consolidation) {
      // Pneumonia absorbs the consolidation / opacity on its side.
      Observation partner =
          f.obs == Observation::Pneumonia ? Observation::Consolidation : Observation::Pneumonia;
      int j = find_same_side(partner, f.laterality);
      const Finding* pna = &f;
      if (j >= 0) {
        used[static_cast<size_t>(j)] = true;
        if (partner == Observation::Pneumonia) pna = &fs_[static_cast<size_t>(j)];
      }
      bool has_pna = f.obs == Observation::Pneumonia || j >= 0;
      bool has_cons = f.obs == Observation::Consolidation || j >= 0;
      g.obs = has_pna ? Observation::Pneumonia : Observation::Consolidation;
      g.status = status_of(*pna);
      g.uncertain = has_pna && pna->certainty == Certainty::Uncertain;
      if (has_pna && (g.uncertain || !has_cons)) {
        int k = find_same_side(Observation::LungOpacity, f.laterality);
        if (k >= 0) used[static_cast<size_t>(k)] = true;
      }
      if (g.uncertain) {
        g.fixed = sentence("unc_pneumonia", v);
      } else if (has_cons) {
        g.countable = false;
        noun(g, "np_consolidation", v);
        if (has_pna) g.suffix = say("sfx_pneumonia");
      } else {
        noun(g, "np_opacity", v);
        g.suffix = say("sfx_pneumonia");
      }
      out.push_back(g);
      continue;
    }
    if (f.obs == Observation::Atelectasis && g.uncertain) {
      int k = find_same_side(Observation::LungOpacity, f.laterality);
      if (k >= 0) used[static_cast<size_t>(k)] = true;
      g.fixed = sentence("unc_atelectasis", v);
      out.push_back(g);
      continue;
    }
    if (f.obs == Observation::LungOpacity && f.certainty == Certainty::Present) {
      // An opacity next to an uncertain atelectasis on the same side is stated with it.
      bool later_unc_atel = false;
      for (size_t j = i + 1; j < fs_.size(); ++j)
        if (!used[j] && fs_[j].obs == Observation::Atelectasis &&
            fs_[j].laterality == f.laterality && fs_[j].certainty == Certainty::Uncertain)
          later_unc_atel = true;
      bool later_pna = false;
      for (size_t j = i + 1; j < fs_.size(); ++j)
        if (!used[j] && fs_[j].obs == Observation::Pneumonia && fs_[j].laterality == f.laterality)
          later_pna = true;
      if (later_unc_atel || later_pna) {
        used[i] = false;  // leave it for the atelectasis / pneumonia statement
        continue;
      }
    }
    if (f.obs == Observation::Atelectasis && f.certainty == Certainty::Present) {
      // Atelectasis beside a stated effusion on the same side is "adjacent compressive
      // atelectasis".
      bool effusion_claims = false;
      for (size_t j = i + 1; j < fs_.size(); ++j)
        if (!used[j] && fs_[j].obs == Observation::PleuralEffusion &&
            fs_[j].laterality == f.laterality && fs_[j].certainty == Certainty::Present)
          effusion_claims = true;
      if (effusion_claims) {
        used[i] = false;
        continue;
      }
    }
    if (g.uncertain) {
      finding_noun(g, f);
      const char* id = f.obs == Observation::PleuralEffusion ? "unc_effusion"
                       : f.obs == Observation::Pneumothorax  ? "unc_ptx"
                       : f.obs == Observation::Edema         ? "unc_edema"
                                                             : "unc_generic";
      g.fixed = sentence(id, {{"np", g.np}, {"a_np", a_np(g)}, {"lat", f.laterality}});
      out.push_back(g);
      continue;
    }
    finding_noun(g, f);
    if (f.obs == Observation::PleuralEffusion) {
      int j = find_same_side(Observation::Atelectasis, f.laterality);
      if (j >= 0 && fs_[static_cast<size_t>(j)].certainty == Certainty::Present) {
        used[static_cast<size_t>(j)] = true;
        const Finding& at = fs_[static_cast<size_t>(j)];
        g.suffix = say("sfx_compressive",
                       {{"sev", at.severity}, {"lz_adj", lz_adj(at.laterality, "base")}});
      }
    }
    out.push_back(g);
  }
  // Opacities left for a later partner that never claimed them are stated alone.
  for (size_t i = 0; i < fs_.size(); ++i) {
    if (used[i]) continue;
    Group g;
    g.obs = fs_[i].obs;
    g.region = region_of(g.obs);
    g.acute = true;
    g.status = status_of(fs_[i]);
    g.sev = fs_[i].severity;
    finding_noun(g, fs_[i]);
    if (fs_[i].certainty == Certainty::Uncertain) {
      g.uncertain = true;
      g.fixed = sentence("unc_generic", {{"np", g.np}});
    }
    out.push_back(g);
  }
  return out;
}

std::string Writer::state(const Group& g, bool telegraphic) {
  if (g.uncertain) return g.fixed;
  std::string out = state_singular(g, telegraphic);
  return g.plural ? pluralize(out) : out;
}

std::string Writer::state_singular(const Group& g, bool telegraphic) {
  Vars v{{"np", g.np},
         {"a_np", a_np(g)},
         {"a_new_np", g.countable ? article("new " + g.np) : "new " + g.np},
         {"np0", g.np0},
         {"sev", g.sev},
         {"suffix", g.suffix}};
  Status s = g.status;
  if ((s == Status::Increased || s == Status::Decreased) && g.sev.empty()) s = Status::Stable;
  if (s == Status::New && g.obs == Observation::Fracture) s = Status::None;
  switch (s) {
    case Status::None:
      return sentence(telegraphic ? "present_tele" : "present_full", v);
    case Status::New:
      return sentence("new", v);
    case Status::Stable:
      return sentence(g.acute ? "stable_acute" : "stable_chronic", v);
    case Status::Increased:
      return sentence(sized(g.obs) ? "increased" : "worsened", v);
    case Status::Decreased:
      return sentence(sized(g.obs) ? "decreased" : "improved", v);
  }
  return "";
}

std::string Writer::device_sentence(const Group& g) {
  Vars v{{"np", g.np}, {"a_np", article(g.np)}, {"pos", g.pos}};
  const char* id = g.status == Status::New      ? "device_new"
                   : g.status == Status::Stable ? "device_stable"
                                                : "device_none";
  return sentence(id, v);
}

std::string Writer::neg_list(const std::vector<std::string>& items) {
  std::string list;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0)
      list += (i + 1 == items.size()) ? ((st_.oxford_comma && items.size() > 2) ? ", or " : " or ")
                                      : ", ";
    list += items[i];
  }
  return sentence("neg_list", {{"list", list}});
}

// "Resolved" / "removed" statements for prior findings absent now.
std::vector<std::string> Writer::resolved_sentences(Region r, bool for_impression) {
  std::vector<std::string> out;
  if (!has_prior_) return out;
  const auto& pr = ctx_.prior_findings;
  auto now_has = [&](const Finding& p) {
    return std::any_of(fs_.begin(), fs_.end(), [&](const Finding& f) {
      return finding_identity(f) == finding_identity(p);
    });
  };
  auto side_has = [&](const std::vector<Finding>& v, std::initializer_list<Observation> obs,
                      const std::string& lat) {
    return std::any_of(v.begin(), v.end(), [&](const Finding& f) {
      return f.laterality == lat && std::find(obs.begin(), obs.end(), f.obs) != obs.end();
    });
  };
  for (const auto& p : pr) {
    if (now_has(p)) continue;
    if (p.obs == Observation::SupportDevices) {
      if (r != kDevices || for_impression) continue;
      Group g = device_group(p);
      out.push_back(sentence("removed", {{"np", g.np}}));
      continue;
    }
    if (!is_acute(p.obs) || region_of(p.obs) != r) continue;
    const auto par = {Observation::Pneumonia, Observation::Consolidation, Observation::LungOpacity,
                      Observation::Atelectasis};
    if (p.obs == Observation::Consolidation || p.obs == Observation::LungOpacity) {
      if (side_has(pr, {Observation::Pneumonia}, p.laterality)) continue;
      if (p.obs == Observation::LungOpacity &&
          side_has(pr, {Observation::Atelectasis}, p.laterality))
        continue;
    }
    if (region_of(p.obs) == kLungs && p.obs != Observation::Edema &&
        side_has(fs_, par, p.laterality))
      continue;
    Group g;
    Finding shown = p;
    if (p.obs == Observation::Pneumonia)
      shown.obs = side_has(pr, {Observation::Consolidation}, p.laterality)
                      ? Observation::Consolidation
                      : Observation::LungOpacity;
    finding_noun(g, shown);
    std::string sent = sentence("resolved", {{"np", g.np}});
    out.push_back(g.plural ? pluralize(sent) : sent);
  }
  return out;
}

std::string Writer::findings_text(std::vector<Group>& groups) {
  std::vector<std::string> reg[kNumRegions];
  for (const auto& g : groups)
    reg[g.region].push_back(g.device ? device_sentence(g) : state(g, st_.telegraphic));
  for (int r = 0; r < kNumRegions; ++r)
    for (auto& s : resolved_sentences(static_cast<Region>(r), false)) reg[r].push_back(s);

  // Normal statements and pertinent negatives.
  bool parenchymal = false, diffuse = false;
  for (const auto& f : fs_)
    if (region_of(f.obs) == kLungs) {
      parenchymal = true;
      if (f.obs == Observation::Edema || f.laterality == "bilateral") diffuse = true;
    }
  if (!parenchymal)
    reg[kLungs].push_back(sentence("lungs_clear"));
  else if (!diffuse && !reg[kLungs].empty() && rng_.chance(0.4))
    reg[kLungs].push_back(sentence("lungs_otherwise_clear"));

  std::vector<std::string> neg;
  if (!present(Observation::Consolidation) && !present(Observation::Pneumonia) &&
      !present(Observation::LungOpacity))
    neg.push_back("focal consolidation");
  if (!present(Observation::PleuralEffusion)) neg.push_back("pleural effusion");
  if (!present(Observation::Pneumothorax)) neg.push_back("pneumothorax");
  if (!present(Observation::Edema) && rng_.chance(0.3)) neg.push_back("pulmonary edema");
  if (st_.negatives_combined) {
    if (!neg.empty()) reg[kPleura].push_back(neg_list(neg));
  } else {
    for (const auto& n : neg) reg[kPleura].push_back(neg_list({n}));
  }

  bool cm = present(Observation::Cardiomegaly),
       ecm = present(Observation::EnlargedCardiomediastinum);
  if (!cm && !ecm)
    reg[kHeart].push_back(sentence("cardiomediastinal_normal"));
  else if (cm && !ecm && rng_.chance(0.5))
    reg[kHeart].push_back(sentence("mediastinum_normal"));
  else if (!cm && ecm)
    reg[kHeart].push_back(sentence("heart_normal"));

  if (rng_.chance(st_.bones_prob))
    reg[kBones].push_back(
        sentence(present(Observation::Fracture) ? "bones_otherwise" : "bones_normal"));

  std::vector<int> order;
  if (st_.devices_first) order.push_back(kDevices);
  if (st_.heart_first) order.push_back(kHeart);
  order.push_back(kLungs);
  order.push_back(kPleura);
  if (!st_.heart_first) order.push_back(kHeart);
  order.push_back(kBones);
  if (!st_.devices_first) order.push_back(kDevices);

  std::string sep = st_.findings_one_per_line ? "\n" : " ", out;
  for (int r : order)
    for (const auto& s : reg[r]) out += (out.empty() ? "" : sep) + s;
  return out;
}

std::string Writer::impression_text(const std::vector<Group>& groups) {
  std::vector<std::string> items;
  int n_acute = 0;
  for (const auto& g : groups) n_acute += (!g.device && g.acute) ? 1 : 0;
  for (const auto& g : groups) {
    if (g.device || !g.acute) continue;
    if (g.obs == Observation::Atelectasis && !g.uncertain && n_acute > 1 && rng_.chance(0.5))
      continue;
    items.push_back(state(g, true));
  }
  for (int r = kLungs; r <= kPleura; ++r)
    for (auto& s : resolved_sentences(static_cast<Region>(r), true))
      if (rng_.chance(0.7)) items.push_back(s);

  bool new_device = false, tubes = false;
  for (const auto& g : groups) {
    if (!g.device) continue;
    if (g.dkind != DeviceKind::Pacer) tubes = true;
    if (g.status == Status::New || (g.status == Status::None && g.dkind != DeviceKind::Pacer)) {
      if (g.status == Status::New) new_device = true;
      if (g.status == Status::New || rng_.chance(0.5))
        items.push_back(sentence("imp_device_new", {{"np", capitalize(g.np)}, {"pos", g.pos}}));
    }
  }
  if (tubes && !new_device && rng_.chance(0.4)) items.push_back(sentence("imp_devices_ok"));

  for (const auto& g : groups) {
    if (g.device || g.acute) continue;
    if (g.obs == Observation::LungLesion) {
      if (g.status == Status::None || g.status == Status::New)
        items.push_back(sentence("imp_nodule_ct", {{"np", capitalize(g.np)}}));
      else
        items.push_back(state(g, true));
    } else if (g.obs == Observation::Cardiomegaly) {
      if (g.status == Status::Increased || rng_.chance(0.6)) items.push_back(state(g, true));
    } else if (g.obs == Observation::EnlargedCardiomediastinum) {
      if (rng_.chance(0.7)) items.push_back(state(g, true));
    } else if (rng_.chance(0.15)) {
      items.push_back(state(g, true));
    }
  }
  if (n_acute == 0) {
    size_t idx = pick("normal_impression");
    if (!groups.empty() && idx == 4)
      idx = 0;  // not "Normal chest radiograph." with anything to report
    items.insert(items.begin(), render("normal_impression", idx, {}));
  }
  if (!present(Observation::Pneumothorax) &&
      (new_device || present(Observation::PleuralEffusion)) && rng_.chance(0.7))
    items.push_back(sentence("imp_no_ptx"));

  std::string out;
  if (st_.impression_numbered && items.size() > 1) {
    for (size_t i = 0; i < items.size(); ++i)
      out += (i ? "\n" : "") + std::to_string(i + 1) + ". " + items[i];
  } else {
    for (const auto& s : items) out += (out.empty() ? "" : " ") + s;
  }
  return out;
}

std::string Writer::format_date(const std::string& iso) const {
  if (st_.date_format == "us" && iso.size() == 10 && iso[4] == '-' && iso[7] == '-')
    return iso.substr(5, 2) + "/" + iso.substr(8, 2) + "/" + iso.substr(0, 4);
  return iso;
}

}  // namespace report_detail
}  // namespace medforget
