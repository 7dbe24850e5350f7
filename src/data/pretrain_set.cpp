#include "data/pretrain_set.hpp"

#include <algorithm>
#include <map>
#include <set>

#include "core/digest.hpp"
#include "core/error.hpp"
#include "core/fs.hpp"
#include "core/manifest.hpp"
#include "core/progress.hpp"
#include "core/rng.hpp"
#include "data/benchmark.hpp"
#include "data/preset.hpp"
#include "data/radiograph.hpp"
#include "data/report_parser.hpp"
#include "data/synth_corpus.hpp"
#include "data/tasks.hpp"

namespace medforget {

namespace {

using Pools = std::map<std::string, std::vector<std::string>>;

// Every classification key of each section name in the set, over the fallback pools.
Pools option_pools(const std::vector<std::pair<const StudyRecord*, ParsedReport>>& studies) {
  Pools pools = default_option_pools();
  for (const auto& [rec, rep] : studies)
    for (const auto& sec : rep.sections)
      if (has_task_content(sec.text)) pools[sec.name].push_back(classification_key(sec.text));
  for (auto& [name, pool] : pools) {
    std::sort(pool.begin(), pool.end());
    pool.erase(std::unique(pool.begin(), pool.end()), pool.end());
  }
  return pools;
}

// "Which of these findings does the image show?": the study's first present
// finding (or No Finding) against three observations it does not have.
Item findings_item(const Item& base, const StudyRecord& rec, Rng& rng) {
  std::set<Observation> present;
  for (const auto& f : rec.findings)
    if (f.certainty == Certainty::Present) present.insert(f.obs);
  const Observation answer = present.empty() ? Observation::NoFinding : *present.begin();
  std::vector<std::string> distractors;
  for (Observation o : all_observations())
    if (!present.count(o) && o != answer && !(o == Observation::NoFinding && !present.empty()))
      distractors.push_back(observation_label(o));
  rng.shuffle(distractors);
  std::vector<std::string> options{observation_label(answer)};
  options.insert(options.end(), distractors.begin(), distractors.begin() + 3);
  rng.shuffle(options);
  Item it = base;
  it.id = base.study + "/labels#classification";
  it.section = base.study + "/labels";
  it.anchor = it.section;
  it.task = "classification";
  it.options = options;
  it.answer_index = static_cast<int>(std::find(options.begin(), options.end(), observation_label(answer)) -
                                     options.begin());
  it.answer = observation_label(answer);
  it.prompt = "Which of these findings does this chest X-ray show?\n" + option_letters(options);
  it.context = "none";
  return it;
}

struct SourceCorpus {
  std::string tag;  // "s1" (synthetic) or "i1" (imported): prefixes every id and image path
  Corpus corpus;
  std::filesystem::path dir;  // the corpus's own directory (images relative to it)
};

// Patients and studies of the excluded benchmarks, and their images' pixels.
struct Excluded {
  std::set<std::string> patients, studies, image_digests;
};

std::string pixel_digest(const cv::Mat& m) {
  return sha256_hex(std::string(reinterpret_cast<const char*>(m.data), m.total() * m.elemSize()));
}

Excluded excluded_of(const std::vector<std::filesystem::path>& benches) {
  Excluded ex;
  for (const auto& b : benches) {
    read_verified_manifest(b, "benchmark");
    for (const char* set : {"finetune.jsonl", "general.jsonl"})
      for (const auto& it : read_items(b / set)) {
        ex.patients.insert(it.patient);
        ex.studies.insert(it.study);
        if (!it.image.empty() && ex.image_digests.size() < 100000)
          ex.image_digests.insert(pixel_digest(read_png(b / it.image, 0)));
      }
  }
  return ex;
}

}  // namespace

Json PretrainSetOptions::to_json() const {
  Json imports = Json::array(), excl = Json::array();
  for (const auto& d : import_dirs) imports.push_back(std::filesystem::absolute(d).string());
  for (const auto& d : exclude) excl.push_back(std::filesystem::absolute(d).string());
  return {{"data_preset", data_preset}, {"corpora", corpora}, {"seed", seed},
          {"image_size", image_size},   {"imports", imports}, {"exclude", excl}};
}

uint64_t pretrain_corpus_seed(uint64_t seed, int k) {
  return Rng(seed).fork("pretrain-corpus:" + std::to_string(k)).next();
}

Json build_pretrain_set(const PretrainSetOptions& o, const std::filesystem::path& out) {
  const DataPreset& preset = data_preset(o.data_preset);
  if (o.corpora < 0 || o.corpora > 1000) fail("pretrain: corpora " + std::to_string(o.corpora) + " is outside 0..1000");
  if (o.corpora == 0 && o.import_dirs.empty()) fail("pretrain: no corpora (give corpora > 0 or an imported corpus)");
  const Excluded ex = excluded_of(o.exclude);
  StagingDir stage(out);
  std::vector<SourceCorpus> sources;
  Json seeds = Json::array();
  for (int k = 0; k < o.corpora; ++k) {
    const std::string tag = "s" + std::to_string(k + 1);
    const uint64_t s = pretrain_corpus_seed(o.seed, k);
    seeds.push_back(std::to_string(s));  // a string: JSON readers that hold numbers as doubles lose 64-bit seeds
    const auto dir = stage.path() / "corpora" / tag;
    Corpus c = synthesize_corpus(preset, s, dir, o.image_size);
    save_corpus_json(c, dir);
    sources.push_back({tag, std::move(c), dir});
  }
  int dropped_patients = 0;
  for (size_t k = 0; k < o.import_dirs.size(); ++k) {
    const std::string tag = "i" + std::to_string(k + 1);
    Corpus c = load_corpus(o.import_dirs[k]);
    // A patient an excluded benchmark holds leaves the set whole: nothing of theirs may be pretrained on.
    for (auto& in : c.institutions) {
      const auto before = in.patients.size();
      std::erase_if(in.patients, [&](const PatientRecord& p) {
        return ex.patients.count(p.id) || std::any_of(p.studies.begin(), p.studies.end(), [&](const StudyRecord& s) {
                 return ex.studies.count(s.id) > 0;
               });
      });
      dropped_patients += static_cast<int>(before - in.patients.size());
    }
    sources.push_back({tag, std::move(c), o.import_dirs[k]});
  }

  std::vector<Item> items;
  size_t n_studies = 0;
  for (const auto& src : sources)
    for (const auto& in : src.corpus.institutions)
      for (const auto& p : in.patients) n_studies += p.studies.size();
  Progress prog("pretrain set", n_studies);
  Rng root = Rng(o.seed).fork("pretrain-items");
  for (const auto& src : sources) {
    std::vector<std::pair<const StudyRecord*, ParsedReport>> studies;
    for (const auto& in : src.corpus.institutions)
      for (const auto& p : in.patients)
        for (const auto& s : p.studies) studies.emplace_back(&s, parse_report(s.report_text, s.id));
    const Pools pools = option_pools(studies);
    size_t si = 0;
    for (const auto& in : src.corpus.institutions)
      for (const auto& p : in.patients)
        for (const auto& s : p.studies) {
          const ParsedReport& rep = studies[si++].second;
          const std::string sid = src.tag + "_" + s.id;
          const std::string image = "images/" + sid + ".png";
          const cv::Mat img = read_png(src.dir / s.image, 0);
          if (ex.image_digests.count(pixel_digest(img)))
            fail("pretrain: study '" + s.id + "' of corpus " + src.dir.string() +
                 " has the same image as a study of an excluded benchmark; the set would not be disjoint");
          write_png(stage.path() / image, img);
          Item base;
          base.institution = src.tag + "_" + in.id;
          base.patient = src.tag + "_" + p.id;
          base.study = sid;
          base.level = "section";
          base.image = image;
          Rng srng = root.fork(src.tag + ":" + s.id);
          for (const auto& sec : rep.sections) {
            if (!has_task_content(sec.text)) continue;
            Item b = base;
            b.section = sid + "/" + lower_section(sec.name);
            b.section_name = sec.name;
            b.anchor = b.section;
            auto pool_it = pools.find(sec.name);
            const auto& pool = pool_it != pools.end() && pool_it->second.size() >= 4 ? pool_it->second
                                                                                      : pools.at("FINDINGS");
            Rng content = srng.fork("content:" + sec.name);
            try {
              for (auto& it : section_task_items(b, sec, "", "none", PromptStyle::Finetune, pool, content, srng))
                items.push_back(std::move(it));
            } catch (const Error& e) {
              fail("pretrain: corpus " + src.dir.string() + ", study '" + s.id + "', section " + sec.name + ": " +
                   e.what());
            }
          }
          if (!s.findings.empty() || src.corpus.source == "synthetic") {
            Item b = base;
            b.section_name = "FINDINGS";
            items.push_back(findings_item(b, s, srng));
          }
          prog.tick();
        }
  }
  prog.done();
  // Synthetic corpora are only needed for their images, now copied beside the items.
  std::filesystem::remove_all(stage.path() / "corpora");
  write_items(stage.path() / "items.jsonl", items);
  for (const auto& b : o.exclude) check_disjoint(items, stage.path(), b);
  std::map<std::string, int> tasks;
  for (const auto& it : items) ++tasks[it.task];
  Json manifest = write_manifest(stage.path(), "pretrain_set", o.to_json(), {{"corpus_seeds", seeds}},
                                 {{"counts",
                                   {{"items", items.size()},
                                    {"studies", n_studies},
                                    {"tasks", tasks},
                                    {"excluded_patients_dropped", dropped_patients}}}});
  stage.commit();
  return manifest;
}

void check_disjoint(const std::vector<Item>& set_items, const std::filesystem::path& set_dir,
                    const std::filesystem::path& bench) {
  std::set<std::string> names;  // every identity string the benchmark teaches or asks about
  std::set<std::string> digests;
  for (const char* set : {"finetune.jsonl", "general.jsonl"})
    for (const auto& it : read_items(bench / set)) {
      names.insert({it.institution, it.patient, it.study});
      if (it.task == "identity") names.insert(it.answer);
      if (!it.image.empty()) digests.insert(pixel_digest(read_png(bench / it.image, 0)));
    }
  names.erase("");
  std::set<std::string> seen_images;
  for (const auto& it : set_items) {
    for (const auto& n : names)
      if (it.prompt.find(n) != std::string::npos || it.answer.find(n) != std::string::npos)
        fail("pretrain: item '" + it.id + "' names '" + n + "' of benchmark " + bench.string() +
             "; the pretraining set must teach no identity of a benchmark");
    if (seen_images.insert(it.image).second && digests.count(pixel_digest(read_png(set_dir / it.image, 0))))
      fail("pretrain: item '" + it.id + "' uses an image of benchmark " + bench.string());
  }
}

}  // namespace medforget
