// The pretraining set: general tasks only, no identities, disjoint from the
// benchmarks it is checked against, the same bytes for the same seed.
#include <gtest/gtest.h>

#include <set>

#include "core/fs.hpp"
#include "core/json.hpp"
#include "data/pretrain_set.hpp"
#include "test_util.hpp"

using namespace medforget;
namespace fs = std::filesystem;

TEST(PretrainSet, GeneralTasksWithoutIdentitiesAndDisjointFromTheBenchmark) {
  test::TempDir t;
  auto r = test::run_cli("data build --preset tiny --seed 1 --out " + (t / "bench").string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  PretrainSetOptions o;
  o.data_preset = "tiny";
  o.corpora = 2;
  o.seed = 1;  // the benchmark's seed too: the corpora's seeds are derived, not this one
  o.exclude = {t / "bench"};
  const Json m = build_pretrain_set(o, t / "set");
  const auto items = read_items(t / "set/items.jsonl");
  ASSERT_EQ(m["counts"]["items"].get<size_t>(), items.size());
  std::set<std::string> ids, tasks;
  size_t findings = 0;
  for (const auto& it : items) {
    EXPECT_TRUE(ids.insert(it.id).second) << "duplicate id " << it.id;
    tasks.insert(it.task);
    EXPECT_EQ(it.context, "none") << it.id;
    EXPECT_EQ(it.prompt.find("For "), std::string::npos) << it.prompt;  // no hierarchical context prefix
    EXPECT_TRUE(fs::is_regular_file(t / "set" / it.image)) << it.image;
    if (it.id.find("/labels#") != std::string::npos) {
      ++findings;
      ASSERT_EQ(it.options.size(), 4u);
      EXPECT_EQ(it.options[static_cast<size_t>(it.answer_index)], it.answer);
    }
  }
  EXPECT_EQ(tasks, (std::set<std::string>{"generation", "cloze", "classification"}));
  EXPECT_EQ(findings, m["counts"]["studies"].get<size_t>());
  EXPECT_NE(pretrain_corpus_seed(1, 0), 1u);
  EXPECT_NE(pretrain_corpus_seed(1, 0), pretrain_corpus_seed(1, 1));

  // check_disjoint catches an item that names a benchmark patient, and a benchmark image.
  const auto bench_items = read_items(t / "bench/finetune.jsonl");
  std::string patient_name;
  for (const auto& it : bench_items)
    if (it.task == "identity" && it.level == "patient") patient_name = it.answer;
  ASSERT_FALSE(patient_name.empty());
  auto leaky = items;
  leaky[0].answer += " " + patient_name;
  test::expect_contains(test::error_of([&] { check_disjoint(leaky, t / "set", t / "bench"); }), patient_name);
  fs::copy_file(t / "bench" / bench_items[0].image, t / "set/images/copied.png");
  auto copied = items;
  copied[0].image = "images/copied.png";
  test::expect_contains(test::error_of([&] { check_disjoint(copied, t / "set", t / "bench"); }),
                        "uses an image of benchmark");

  // Deterministic: the same options give the same content.
  const Json m2 = build_pretrain_set(o, t / "set2");
  EXPECT_EQ(m2["content_digest"], m["content_digest"]);
}
