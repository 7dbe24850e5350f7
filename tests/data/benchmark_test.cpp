// End-to-end tests of the benchmark builder on real synthesised corpora.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <set>

#include "core/digest.hpp"
#include "core/error.hpp"
#include "core/fs.hpp"
#include "core/manifest.hpp"
#include "data/benchmark.hpp"
#include "data/hierarchy.hpp"
#include "data/item.hpp"
#include "data/report_parser.hpp"
#include "data/synth_corpus.hpp"
#include "test_util.hpp"

using namespace medforget;
namespace fs = std::filesystem;

namespace {

// One tiny corpus + benchmark shared by the read-only tests.
struct Tiny {
  test::TempDir tmp;
  fs::path corpus = tmp / "corpus", bench = tmp / "bench";
  Tiny() {
    write_synthetic_corpus(data_preset("tiny"), 7, corpus);
    build_benchmark(load_corpus(corpus), corpus, data_preset("tiny"), 7, bench, {{"corpus", "test"}});
  }
};
Tiny& tiny() {
  static Tiny t;
  return t;
}

std::set<std::string> ids(const std::vector<Item>& v) {
  std::set<std::string> s;
  for (const auto& it : v) s.insert(it.id);
  return s;
}

// Re-seals a tampered benchmark so the checks behind the digest get exercised.
void reseal(const fs::path& dir) {
  Json m = read_json(dir / "manifest.json");
  Json extra = {{"counts", m["counts"]}, {"selection", m["selection"]}};
  write_manifest(dir, "benchmark", m["params"], m["inputs"], extra);
}

fs::path copy_bench(const fs::path& to) {
  fs::copy(tiny().bench, to, fs::copy_options::recursive);
  return to;
}

std::string check_error(const fs::path& dir) {
  try {
    check_benchmark(dir);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(Benchmark, TinyCountsAndLevelSizes) {
  auto r = check_benchmark(tiny().bench);
  EXPECT_EQ(r.counts["institutions"], 2);
  EXPECT_EQ(r.counts["patients"], 4);
  EXPECT_EQ(r.counts["studies"], 8);
  EXPECT_EQ(r.counts["sections"], 32);
  EXPECT_EQ(r.counts["finetune_items"], 120);  // 32 × 3 + 8 × 3
  EXPECT_EQ(r.counts["tasks"]["identity"], 24);
  EXPECT_EQ(r.counts["levels"]["institution"]["forget"], 60);  // 1 of 2 institutions
  for (const char* l : {"patient", "study", "section"}) EXPECT_EQ(r.counts["levels"][l]["forget"], 30) << l;
  EXPECT_GT(r.counts["general_items"], 0);
}

TEST(Benchmark, SplitsAreSubtreeCompleteDisjointAndKeepSiblings) {
  const fs::path& b = tiny().bench;
  Hierarchy h = Hierarchy::from_json(read_json(b / "hierarchy.json"), "hierarchy.json");
  auto ft = read_items(b / "finetune.jsonl");
  std::set<std::string> ft_prompts;
  for (const auto& it : ft) ft_prompts.insert(it.prompt);
  for (Level l : all_levels()) {
    auto dir = b / "levels" / level_name(l);
    auto nodes = read_json(dir / "forget_nodes.json")["nodes"].get<std::vector<std::string>>();
    std::set<std::string> closure;
    for (const auto& n : nodes) {
      EXPECT_EQ(h.get(n).level, l);
      for (const auto& s : h.subtree(n)) closure.insert(s);
      bool kept_sibling = false;
      for (const auto& s : h.siblings(n)) kept_sibling |= std::find(nodes.begin(), nodes.end(), s) == nodes.end();
      EXPECT_TRUE(kept_sibling) << n;
    }
    auto forget = read_items(dir / "forget.jsonl"), retain = read_items(dir / "retain.jsonl");
    auto fi = ids(forget), ri = ids(retain);
    for (const auto& id : fi) EXPECT_FALSE(ri.count(id)) << id;
    EXPECT_EQ(fi.size() + ri.size(), ft.size());
    // Subtree completeness: every item anchored in a forgotten subtree is forgotten.
    for (const auto& it : ft) EXPECT_EQ(fi.count(it.id) > 0, closure.count(it.anchor) > 0) << it.id;
    if (l == Level::Patient) {  // a forgotten patient takes its identity items with it
      for (const auto& it : forget) EXPECT_TRUE(std::find(nodes.begin(), nodes.end(), it.patient) != nodes.end());
    }
    for (const auto& it : read_items(dir / "forget_rephrase.jsonl")) {
      EXPECT_FALSE(ft_prompts.count(it.prompt)) << it.prompt;
      EXPECT_TRUE(fi.count(it.source));
      EXPECT_NE(it.image.find("rephrase"), std::string::npos);
    }
    auto attack = read_items(dir / "attack.jsonl");
    size_t gen = std::count_if(forget.begin(), forget.end(), [](const Item& i) { return i.task == "generation"; });
    EXPECT_EQ(attack.size(), 4 * gen);
  }
}

TEST(Benchmark, ItemsAreWellFormed) {
  auto ft = read_items(tiny().bench / "finetune.jsonl");
  for (const auto& it : ft) {
    if (it.task == "cloze") {
      EXPECT_NE(it.prompt.find("[blank]"), std::string::npos) << it.id;
    }
    if (it.task == "classification" || it.task == "identity") {
      ASSERT_EQ(it.options.size(), 4u) << it.id;
      EXPECT_EQ(std::set<std::string>(it.options.begin(), it.options.end()).size(), 4u) << it.id;
    }
    if (it.task == "classification") {
      for (size_t k = 0; k < 4; ++k) EXPECT_NE(it.prompt.find(it.options[k]), std::string::npos) << it.id;
    }
    if (it.context != "none") {
      EXPECT_EQ(it.prompt.rfind("For ", 0), 0u) << it.id;
    }
  }
  size_t with_ctx = std::count_if(ft.begin(), ft.end(), [](const Item& i) { return i.context != "none"; });
  EXPECT_GT(with_ctx, 0u);
  EXPECT_LT(with_ctx, ft.size());
  for (const auto& it : read_items(tiny().bench / "general.jsonl")) EXPECT_EQ(it.context, "none");
}

TEST(Benchmark, SyntheticReportsParseIntoTheirSections) {
  Corpus c = load_corpus(tiny().corpus);
  size_t complete = 0, total = 0;
  for (const auto& in : c.institutions)
    for (const auto& p : in.patients)
      for (const auto& s : p.studies) {
        ++total;
        ParsedReport r = parse_report(s.report_text, s.id);
        complete += r.has_standard_four();
      }
  EXPECT_GT(complete, total / 2);
  EXPECT_LT(complete, total);  // the generator writes some incomplete reports on purpose
}

TEST(Benchmark, DeterministicBytesForSameSeed) {
  test::TempDir t;
  build_benchmark(load_corpus(tiny().corpus), tiny().corpus, data_preset("tiny"), 7, t / "again", {{"corpus", "test"}});
  EXPECT_EQ(sha256_tree(t / "again"), sha256_tree(tiny().bench));
  build_benchmark(load_corpus(tiny().corpus), tiny().corpus, data_preset("tiny"), 8, t / "other", {{"corpus", "test"}});
  EXPECT_NE(sha256_tree(t / "other", {"manifest.json"}), sha256_tree(tiny().bench, {"manifest.json"}));
  test::TempDir t2;
  write_synthetic_corpus(data_preset("tiny"), 7, t2 / "corpus");
  EXPECT_EQ(sha256_tree(t2 / "corpus"), sha256_tree(tiny().corpus));
}

TEST(Benchmark, PaperPresetExactCountsUnderAMinute) {
  test::TempDir t;
  auto t0 = std::chrono::steady_clock::now();
  auto res = test::run_cli("data build --preset paper --seed 1 --out " + (t / "paper").string());
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_EQ(res.exit_code, 0) << res.output;
  EXPECT_LT(secs, 60.0);
  auto r = check_benchmark(t / "paper");
  EXPECT_EQ(r.counts["institutions"], 8);
  EXPECT_EQ(r.counts["patients"], 64);
  EXPECT_EQ(r.counts["studies"], 256);
  EXPECT_EQ(r.counts["sections"], 1024);
  EXPECT_EQ(r.counts["finetune_items"], 3840);
  for (const char* task : {"generation", "cloze", "classification"}) EXPECT_EQ(r.counts["tasks"][task], 1024);
  EXPECT_EQ(r.counts["tasks"]["identity"], 768);
  std::map<std::string, int> nodes{{"institution", 2}, {"patient", 16}, {"study", 64}, {"section", 256}};
  for (auto& [l, n] : nodes) {
    EXPECT_EQ(r.counts["levels"][l]["forget_nodes"], n) << l;
    EXPECT_EQ(r.counts["levels"][l]["forget"], 960) << l;
    EXPECT_EQ(r.counts["levels"][l]["retain"], 2880) << l;
  }
  // Section level: 64 forgotten identity items per identity level, as in the paper.
  auto forget = read_items(t / "paper/levels/section/forget.jsonl");
  std::map<std::string, int> id_levels;
  for (const auto& it : forget)
    if (it.task == "identity") ++id_levels[it.level];
  for (const char* l : {"institution", "patient", "study"}) EXPECT_EQ(id_levels[l], 64) << l;
  auto again = test::run_cli("data build --preset paper --seed 1 --out " + (t / "paper2").string());
  ASSERT_EQ(again.exit_code, 0) << again.output;
  EXPECT_EQ(sha256_tree(t / "paper2", {"manifest.json"}), sha256_tree(t / "paper", {"manifest.json"}));
}

TEST(Benchmark, CheckRejectsTamperedAndBrokenBenchmarks) {
  test::TempDir t;
  // Any change without resealing: digest mismatch.
  auto d0 = copy_bench(t / "d0");
  std::ofstream(d0 / "finetune.jsonl", std::ios::app) << "\n";
  EXPECT_NE(check_error(d0).find("digest mismatch"), std::string::npos);

  auto d1 = copy_bench(t / "d1");  // malformed JSONL line
  std::string ft = read_text(d1 / "finetune.jsonl");
  write_atomic(d1 / "finetune.jsonl", ft + "{not json\n");
  reseal(d1);
  EXPECT_NE(check_error(d1).find("finetune.jsonl:121"), std::string::npos) << check_error(d1);

  auto d2 = copy_bench(t / "d2");  // duplicate id
  std::string first_line = ft.substr(0, ft.find('\n') + 1);
  write_atomic(d2 / "finetune.jsonl", ft + first_line);
  reseal(d2);
  EXPECT_NE(check_error(d2).find("duplicate id"), std::string::npos) << check_error(d2);

  auto d3 = copy_bench(t / "d3");  // a child whose parent is missing
  Json h = read_json(d3 / "hierarchy.json");
  h["nodes"][1]["parent"] = "inst_ghost";
  write_json(d3 / "hierarchy.json", h);
  reseal(d3);
  EXPECT_NE(check_error(d3).find("missing parent 'inst_ghost'"), std::string::npos) << check_error(d3);

  auto d4 = copy_bench(t / "d4");  // corrupt image
  auto first_image = read_items(d4 / "finetune.jsonl").front().image;
  write_atomic(d4 / first_image, std::string("not a png"));
  reseal(d4);
  EXPECT_NE(check_error(d4).find(first_image), std::string::npos) << check_error(d4);

  auto d5 = copy_bench(t / "d5");  // missing image
  fs::remove(d5 / first_image);
  reseal(d5);
  EXPECT_NE(check_error(d5).find(first_image), std::string::npos) << check_error(d5);

  auto d6 = copy_bench(t / "d6");  // an item moved from forget to retain
  auto forget = read_items(d6 / "levels/patient/forget.jsonl");
  auto retain = read_items(d6 / "levels/patient/retain.jsonl");
  retain.push_back(forget.back());
  forget.pop_back();
  write_items(d6 / "levels/patient/forget.jsonl", forget);
  write_items(d6 / "levels/patient/retain.jsonl", retain);
  reseal(d6);
  EXPECT_NE(check_error(d6).find("belongs in the forget set"), std::string::npos) << check_error(d6);

  auto d7 = copy_bench(t / "d7");  // unknown task name
  std::string bad = ft;
  bad.replace(bad.find("\"task\":\"generation\""), 19, "\"task\":\"vqa_answer\"");
  write_atomic(d7 / "finetune.jsonl", bad);
  reseal(d7);
  EXPECT_NE(check_error(d7).find("unknown task 'vqa_answer'"), std::string::npos) << check_error(d7);

  auto d8 = copy_bench(t / "d8");  // unfinished: no manifest
  fs::remove(d8 / "manifest.json");
  EXPECT_NE(check_error(d8).find("manifest.json: missing"), std::string::npos);
}

TEST(Benchmark, CorpusErrorsNameTheRecord) {
  test::TempDir t;
  fs::copy(tiny().corpus, t / "c1", fs::copy_options::recursive);
  Json c = read_json(t / "c1/corpus.json");
  std::string img = c["institutions"][0]["patients"][0]["studies"][0]["image"];
  fs::remove(t / "c1" / img);
  try {
    load_corpus(t / "c1");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(img), std::string::npos) << e.what();
  }
  fs::copy(tiny().corpus, t / "c2", fs::copy_options::recursive);
  c["institutions"][0]["patients"][1]["id"] = c["institutions"][0]["patients"][0]["id"];
  write_json(t / "c2/corpus.json", c);
  EXPECT_THROW(load_corpus(t / "c2"), Error);
  // A corrupt image surfaces while building, naming the file.
  fs::copy(tiny().corpus, t / "c3", fs::copy_options::recursive);
  Corpus corpus = load_corpus(t / "c3");
  for (const auto& in : corpus.institutions)
    for (const auto& p : in.patients)
      for (const auto& s : p.studies) write_atomic(t / "c3" / s.image, std::string("garbage"));
  try {
    build_benchmark(corpus, t / "c3", data_preset("tiny"), 7, t / "b3", {});
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(".png"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(t / "b3"));  // nothing half-written
  EXPECT_THROW(data_preset("huge"), Error);
}

TEST(Benchmark, KilledBuildLeavesNothingThatChecks) {
  test::TempDir t;
  auto out = t / "killed";
  // SIGKILL a paper-scale build after half a second: no target directory may
  // appear, and `data check` must refuse whatever is there.
  auto r = test::run_cli("data build --preset paper --seed 3 --out " + out.string() +
                         " & pid=$!; sleep 0.5; kill -9 $pid; wait $pid; true");
  (void)r;
  EXPECT_FALSE(fs::exists(out / "manifest.json"));
  auto chk = test::run_cli("data check " + out.string());
  EXPECT_NE(chk.exit_code, 0) << chk.output;
}

TEST(Benchmark, CliErrorsAreClear) {
  test::TempDir t;
  auto r = test::run_cli("data build --preset huge --out " + (t / "x").string());
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("unknown preset 'huge'"), std::string::npos) << r.output;
  r = test::run_cli("data check " + (t / "nothing").string());
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("error:"), std::string::npos) << r.output;
  r = test::run_cli("data build --corpus " + (t / "nope").string() + " --out " + (t / "y").string());
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("corpus.json"), std::string::npos) << r.output;
}
