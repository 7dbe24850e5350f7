#include <algorithm>
#include <map>
#include <set>

#include "core/error.hpp"
#include "core/fs.hpp"
#include "core/manifest.hpp"
#include "core/progress.hpp"
#include "core/rng.hpp"
#include "data/benchmark.hpp"
#include "data/hierarchy.hpp"
#include "data/item.hpp"
#include "data/prompts.hpp"
#include "data/radiograph.hpp"
#include "data/select.hpp"
#include "data/splits.hpp"
#include "data/tasks.hpp"

namespace medforget {

namespace {

const std::vector<std::string> kContextLevels{"study", "patient+study", "institution+patient+study"};

// Fallback option pools so a tiny corpus still yields three distractors.
const std::map<std::string, std::vector<std::string>>& default_pools() {
  static const std::map<std::string, std::vector<std::string>> p{
      {"EXAMINATION",
       {"CHEST (PORTABLE AP)", "CHEST (PA AND LAT)", "CHEST (AP SUPINE)", "Bilateral decubitus views",
        "Single frontal view of the abdomen", "Rib series, left", "CT chest without contrast"}},
      {"INDICATION",
       {"Evaluate for pneumonia.", "Shortness of breath.", "Fever and productive cough.",
        "Status post line placement, assess position.", "Follow-up pleural effusion.", "Preoperative evaluation.",
        "Chest pain, rule out acute process.", "Trauma, assess for rib fracture."}},
      {"TECHNIQUE",
       {"PA and lateral views of the chest.", "Single portable AP view of the chest.",
        "Supine AP view of the chest.", "Frontal and lateral radiographs of the chest.",
        "Upright AP view of the chest."}},
      {"COMPARISON",
       {"None.", "Prior chest radiograph from 2015-04-02.", "CT chest from 2018-11-20.",
        "Chest radiograph from 2017-06-14.", "Multiple prior studies, most recent 2016-09-30."}},
      {"FINDINGS",
       {"Large left pleural effusion with compressive atelectasis.", "Endotracheal tube terminates 3 cm above the carina.",
        "Moderate cardiomegaly is unchanged.", "Right upper lobe consolidation is new.",
        "Small right apical pneumothorax is present.", "Mild pulmonary vascular congestion."}},
      {"IMPRESSION",
       {"Right lower lobe pneumonia.", "Moderate pulmonary edema.", "Small left apical pneumothorax.",
        "Interval increase in bilateral pleural effusions.", "Stable cardiomegaly without edema.",
        "New left retrocardiac opacity, possibly atelectasis."}},
  };
  return p;
}

std::string section_id(const std::string& study, const std::string& name) {
  std::string s = study + "/";
  for (char c : name) s += c == ' ' ? '_' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Runs one step of building `study` (and `section`, when given); an Error it
// throws is re-thrown naming them, so a failure points at the record to fix.
template <class F>
auto for_record(const std::string& study, const std::string& section, F&& step) {
  try {
    return step();
  } catch (const Error& e) {
    fail("data build: study '" + study + "'" + (section.empty() ? "" : ", section " + section) + ": " +
         e.what());
  }
}

struct Ctx {
  ContextNames names;
  std::string inst, patient, study;
};

struct Built {
  Hierarchy h, general_h;
  std::vector<Item> finetune, general;
  std::map<std::string, Item> rephrase;  // by source id
};

Item base_item(const Ctx& c, const std::string& sec_id, const std::string& sec_name, const std::string& image) {
  Item it;
  it.institution = c.inst;
  it.patient = c.patient;
  it.study = c.study;
  it.section = sec_id;
  it.section_name = sec_name;
  it.anchor = sec_id;
  it.level = "section";
  it.image = image;
  return it;
}

// The three section tasks, in fine-tuning or rephrase wording.
std::vector<Item> section_items(const Ctx& c, const ReportSection& sec, const std::string& sec_id,
                                const std::string& image, const std::string& context, PromptStyle style,
                                const std::vector<std::string>& pool, const Rng& content_rng, Rng& rng) {
  return section_task_items(base_item(c, sec_id, sec.name, image), sec, context_prefix(context, c.names), context,
                            style, pool, content_rng, rng);
}

Item identity_item(const Ctx& c, const std::string& level, const std::string& anchor, const std::string& image,
                   PromptStyle style, const Hierarchy& h, Rng& rng) {
  Item it;
  it.id = c.study + "#" + level;
  it.task = "identity";
  it.level = level;
  it.institution = c.inst;
  it.patient = c.patient;
  it.study = c.study;
  it.anchor = anchor;
  it.image = image;
  it.context = "none";
  it.prompt = identity_question(level, style, rng);
  Level l = level_from_name(level);
  const std::string& self = level == "institution" ? c.inst : level == "patient" ? c.patient : c.study;
  it.answer = h.get(self).name;
  std::vector<std::string> others;
  for (const auto& id : h.at_level(l))
    if (id != self) others.push_back(h.get(id).name);
  // Small hierarchies (two institutions at `tiny`) need made-up distractors.
  static const std::map<std::string, std::vector<std::string>> fallback{
      {"institution", {"Harbor View Clinic", "Cedar Ridge Medical Center", "St. Agnes Community Hospital"}},
      {"patient", {"Maria Keller", "Thomas Brandt", "Evelyn Shaw"}},
      {"study", {"study_chest_xray_990", "study_chest_xray_991", "study_chest_xray_992"}}};
  if (others.size() < 3)
    for (const auto& f : fallback.at(level)) others.push_back(f);
  Rng orng = rng.fork("identity-options:" + it.id + (style == PromptStyle::Rephrase ? ":re" : ""));
  Choice ch = make_choice(it.answer, it.answer, others, orng);
  it.options = ch.options;
  it.answer_index = ch.answer_index;
  return it;
}

void add_institution_nodes(Hierarchy& h, const SelInstitution& si) {
  h.add({si.rec->id, Level::Institution, si.rec->name, "", {}});
  for (const auto& sp : si.patients) {
    h.add({sp.rec->id, Level::Patient, sp.rec->name, si.rec->id, {}});
    for (const auto& ss : sp.studies) {
      h.add({ss.rec->id, Level::Study, ss.rec->id, sp.rec->id, {}});
      for (const auto& sec : ss.sections) h.add({section_id(ss.rec->id, sec.name), Level::Section, sec.name, ss.rec->id, {}});
    }
  }
}

}  // namespace

std::vector<Item> section_task_items(const Item& base, const ReportSection& sec, const std::string& prefix,
                                     const std::string& context, PromptStyle style,
                                     const std::vector<std::string>& pool, const Rng& content_rng, Rng& rng) {
  std::vector<Item> out;
  Item g = base;
  g.id = base.section + "#generation";
  g.task = "generation";
  g.prompt = prefix + generation_question(sec.name, style, rng);
  g.answer = sec.text;
  g.context = context;
  out.push_back(g);

  // Content (the blanked span, the option set) comes from a stream shared by
  // the fine-tuning and rephrase versions; only the wording differs.
  Rng cloze_rng = content_rng.fork("cloze");
  ClozeSpan span = pick_cloze_span(sec.text, cloze_rng);
  Item z = base;
  z.id = base.section + "#cloze";
  z.task = "cloze";
  z.prompt = prefix + cloze_question(sec.name, blank_out(sec.text, span), style, rng);
  z.answer = span.text();
  z.context = context;
  out.push_back(z);

  Rng choice_rng = content_rng.fork(style == PromptStyle::Rephrase ? "choice:rephrase" : "choice");
  std::string key = classification_key(sec.text);
  Choice ch = make_choice(key, sec.text, pool, choice_rng);
  Item k = base;
  k.id = base.section + "#classification";
  k.task = "classification";
  k.options = ch.options;
  k.answer_index = ch.answer_index;
  k.answer = ch.options[static_cast<size_t>(ch.answer_index)];
  k.prompt = prefix + classification_question(sec.name, ch.options, style, rng);
  k.context = context;
  out.push_back(k);
  return out;
}

const std::map<std::string, std::vector<std::string>>& default_option_pools() { return default_pools(); }

std::vector<Item> attack_items(const Hierarchy& h, const Item& it) {
  const auto& sec = h.get(it.section);
  ContextNames names{h.get(it.institution).name, h.get(it.patient).name, it.study};
  std::vector<Item> v;
  for (const char* ctx : kAttackContexts) {
    Item a = it;
    a.id = it.id + "@attack:" + ctx;
    a.source = it.id;
    a.context = ctx;
    a.prompt = context_prefix(ctx, names) + attack_question(sec.name);
    v.push_back(std::move(a));
  }
  return v;
}

Json build_benchmark(const Corpus& corpus, const std::filesystem::path& corpus_dir, const DataPreset& preset,
                     uint64_t seed, const std::filesystem::path& out, const Json& inputs) {
  if (preset.sections < 3)
    fail("preset '" + preset.name + "': at least 3 sections per study are needed to anchor identity items");
  Selection sel = select_benchmark(corpus, preset, seed);
  log_info("selected " + std::to_string(sel.finetune.size()) + " institutions for fine-tuning and " +
           std::to_string(sel.general.size()) + " held out; " + std::to_string(sel.studies_incomplete) + " of " +
           std::to_string(sel.studies_total) + " studies lack a standard section, " +
           std::to_string(sel.patients_ineligible) + " of " + std::to_string(sel.patients_total) +
           " patients have too few complete studies, " + std::to_string(sel.sections_unusable) +
           " sections left out (no letter or digit to ask about)");
  for (const auto& n : sel.notes) log_warn(n);

  StagingDir stage(out);
  const auto& root = stage.path();
  Rng rng = Rng(seed).fork("benchmark");
  Built b;
  for (const auto& si : sel.finetune) add_institution_nodes(b.h, si);
  for (const auto& si : sel.general) add_institution_nodes(b.general_h, si);

  // Option pools: every classification key of the same section name, kept
  // apart for the fine-tuning and the held-out institutions. A held-out item
  // whose distractors were memorised training sentences would measure recall
  // of the distractors, not understanding: its options must be as novel to the
  // model as its answer.
  using Pools = std::map<std::string, std::vector<std::string>>;
  auto make_pools = [&](const std::vector<SelInstitution>& group) {
    Pools pools = default_pools();
    for (const auto& si : group)
      for (const auto& sp : si.patients)
        for (const auto& ss : sp.studies)
          for (const auto& sec : ss.sections)
            pools[sec.name].push_back(for_record(ss.rec->id, sec.name, [&] { return classification_key(sec.text); }));
    for (auto& [name, pool] : pools) {
      std::sort(pool.begin(), pool.end());
      pool.erase(std::unique(pool.begin(), pool.end()), pool.end());
    }
    return pools;
  };
  const Pools finetune_pools = make_pools(sel.finetune), general_pools = make_pools(sel.general);

  size_t n_studies = 0;
  for (const auto* group : {&sel.finetune, &sel.general})
    for (const auto& si : *group)
      for (const auto& sp : si.patients) n_studies += sp.studies.size();
  Progress prog("data build", n_studies);
  auto do_group = [&](const std::vector<SelInstitution>& group, bool general) {
    const Pools& pools = general ? general_pools : finetune_pools;
    auto pool_for = [&](const std::string& name) -> const std::vector<std::string>& {
      auto it = pools.find(name);
      return it != pools.end() && it->second.size() >= 4 ? it->second : pools.at("FINDINGS");
    };
    for (const auto& si : group)
      for (const auto& sp : si.patients)
        for (const auto& ss : sp.studies) {
          const std::string& sid = ss.rec->id;
          cv::Mat img = for_record(sid, "", [&] { return read_png(corpus_dir / ss.rec->image, corpus.image_size); });
          std::string image = "images/" + sid + ".png";
          write_png(root / image, img);
          Ctx c{{si.rec->name, sp.rec->name, sid}, si.rec->id, sp.rec->id, sid};
          Rng srng = rng.fork("study:" + sid);
          if (general) {
            for (const auto& sec : ss.sections)
              for (auto& it : for_record(sid, sec.name, [&] {
                     return section_items(c, sec, section_id(sid, sec.name), image, "none", PromptStyle::Finetune,
                                          pool_for(sec.name), srng.fork("content:" + sec.name), srng);
                   }))
                b.general.push_back(std::move(it));
            prog.tick();
            continue;
          }
          Rng arng = srng.fork("augment");
          std::string re_image = "images/rephrase/" + sid + ".png";
          write_png(root / re_image, augment_radiograph(img, arng));
          for (const auto& sec : ss.sections) {
            std::string sec_id = section_id(sid, sec.name);
            std::string context =
                srng.chance(preset.context_fraction) ? srng.pick(kContextLevels) : std::string("none");
            Rng content = srng.fork("content:" + sec_id);
            Rng ft_rng = srng.fork("ft:" + sec_id), re_rng = srng.fork("re:" + sec_id);
            auto ft = for_record(sid, sec.name, [&] {
              return section_items(c, sec, sec_id, image, context, PromptStyle::Finetune, pool_for(sec.name), content,
                                   ft_rng);
            });
            auto re = for_record(sid, sec.name, [&] {
              return section_items(c, sec, sec_id, re_image, context, PromptStyle::Rephrase, pool_for(sec.name),
                                   content, re_rng);
            });
            for (size_t i = 0; i < ft.size(); ++i) {
              re[i].source = ft[i].id;
              re[i].id = ft[i].id + "@rephrase";
              b.rephrase[ft[i].id] = re[i];
              b.finetune.push_back(ft[i]);
            }
          }
          // Identity items hang under the study's first three sections, so a
          // section-level request carries its share of them (paper: 960 forget
          // items at every level).
          const char* levels[3] = {"institution", "patient", "study"};
          for (int k = 0; k < 3; ++k) {
            std::string anchor = section_id(sid, ss.sections[static_cast<size_t>(k)].name);
            Item ft = for_record(sid, "", [&] {
              return identity_item(c, levels[k], anchor, image, PromptStyle::Finetune, b.h, srng);
            });
            Item re = for_record(sid, "", [&] {
              return identity_item(c, levels[k], anchor, re_image, PromptStyle::Rephrase, b.h, srng);
            });
            re.source = ft.id;
            re.id = ft.id + "@rephrase";
            b.rephrase[ft.id] = re;
            b.finetune.push_back(ft);
          }
          prog.tick();
        }
  };
  do_group(sel.finetune, false);
  do_group(sel.general, true);
  prog.done();

  write_json(root / "hierarchy.json", b.h.to_json());
  write_json(root / "general_hierarchy.json", b.general_h.to_json());
  write_items(root / "finetune.jsonl", b.finetune);
  write_items(root / "general.jsonl", b.general);

  Json level_counts = Json::object();
  for (Level l : all_levels()) {
    Rng lrng = Rng(seed).fork("split:" + level_name(l));
    auto forget_nodes = choose_forget_nodes(b.h, l, preset.forget_ratio, lrng);
    auto closure = forget_closure(b.h, forget_nodes);
    std::vector<Item> forget, retain, rephrase, attack;
    for (const auto& it : b.finetune) (closure.count(it.anchor) ? forget : retain).push_back(it);
    for (const auto& it : forget) {
      rephrase.push_back(b.rephrase.at(it.id));
      if (it.task != "generation") continue;
      for (auto& a : attack_items(b.h, it)) attack.push_back(std::move(a));
    }
    auto dir = root / "levels" / level_name(l);
    write_json(dir / "forget_nodes.json", {{"level", level_name(l)}, {"ratio", preset.forget_ratio}, {"nodes", forget_nodes}});
    write_items(dir / "forget.jsonl", forget);
    write_items(dir / "retain.jsonl", retain);
    write_items(dir / "forget_rephrase.jsonl", rephrase);
    write_items(dir / "attack.jsonl", attack);
    level_counts[level_name(l)] = {{"forget_nodes", forget_nodes.size()},
                                   {"forget", forget.size()},
                                   {"retain", retain.size()},
                                   {"forget_rephrase", rephrase.size()},
                                   {"attack", attack.size()}};
  }
  Json counts = {{"institutions", b.h.at_level(Level::Institution).size()},
                 {"patients", b.h.at_level(Level::Patient).size()},
                 {"studies", b.h.at_level(Level::Study).size()},
                 {"sections", b.h.at_level(Level::Section).size()},
                 {"finetune_items", b.finetune.size()},
                 {"general_items", b.general.size()},
                 {"levels", level_counts}};
  Json params = {{"preset", preset.name},
                 {"seed", seed},
                 {"institutions", preset.institutions},
                 {"patients", preset.patients},
                 {"studies", preset.studies},
                 {"sections", preset.sections},
                 {"general_institutions", preset.general_institutions},
                 {"general_patients", preset.general_patients},
                 {"general_studies", preset.general_studies},
                 {"forget_ratio", preset.forget_ratio},
                 {"context_fraction", preset.context_fraction},
                 {"image_size", corpus.image_size}};
  Json selection = {{"studies_total", sel.studies_total},
                    {"studies_incomplete", sel.studies_incomplete},
                    {"patients_total", sel.patients_total},
                    {"patients_ineligible", sel.patients_ineligible},
                    {"sections_unusable", sel.sections_unusable}};
  Json m = write_manifest(root, "benchmark", params, inputs, {{"counts", counts}, {"selection", selection}});
  stage.commit();
  return m;
}

}  // namespace medforget
