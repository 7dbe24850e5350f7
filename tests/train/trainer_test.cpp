// The trainer on a tiny random model: schedule, batching, learning, resume.
#include <gtest/gtest.h>
#include <sys/mount.h>

#include <cerrno>
#include <cstring>

#include "core/error.hpp"
#include "core/json.hpp"
#include "model/inference.hpp"
#include "test_util.hpp"
#include "train/trainer.hpp"

using namespace medforget;

namespace {

ModelConfig cfg() { return model_preset_with_ids("tiny", 40); }

// Prompt [1, vision, 6+k], answer [10+k, 20+(k%7), 2]: each sample's answer is
// a function of its prompt, so a model can memorise it.
std::vector<Example> data(int n, const ModelConfig& c) {
  std::vector<Example> out;
  torch::manual_seed(11);
  for (int k = 0; k < n; ++k) {
    Example e;
    e.id = "s" + std::to_string(k);
    auto& ids = e.chat.ids;
    ids = {1, 3};
    auto px = torch::randint(0, 256, {64 * 64}, torch::kUInt8);
    e.image = gray_image_input(std::vector<uint8_t>(px.data_ptr<uint8_t>(), px.data_ptr<uint8_t>() + px.numel()), 64, 64,
                               c.image_processor);
    for (int64_t i = 0; i < e.image.num_tokens(c.vision_config.spatial_merge_size); ++i) ids.push_back(5);
    ids.insert(ids.end(), {4, 6 + k % 4});
    e.chat.prompt_len = static_cast<int>(ids.size());
    ids.insert(ids.end(), {10 + k, 20 + k % 7, 2});
    e.chat.loss_mask.assign(ids.size(), 0);
    for (size_t i = ids.size() - 3; i < ids.size(); ++i) e.chat.loss_mask[i] = 1;
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace

TEST(Trainer, ScheduleWarmsUpThenDecaysToTheFloor) {
  TrainOptions o;
  o.lr = 1e-3;
  o.warmup = 0.1;
  o.min_lr_ratio = 0.1;
  EXPECT_NEAR(lr_at(0, 100, o), 1e-4, 1e-12);
  EXPECT_NEAR(lr_at(9, 100, o), 1e-3, 1e-12);
  EXPECT_GT(lr_at(30, 100, o), lr_at(60, 100, o));
  EXPECT_NEAR(lr_at(100, 100, o), 1e-4, 1e-9);
}

TEST(Trainer, EpochBatchesCoverEverythingDeterministically) {
  auto c = cfg();
  auto d = data(23, c);
  auto b1 = epoch_batches(d, 4, 7, 0), b2 = epoch_batches(d, 4, 7, 0), b3 = epoch_batches(d, 4, 7, 1);
  EXPECT_EQ(b1, b2);
  EXPECT_NE(b1, b3);
  std::vector<size_t> all;
  for (auto& b : b1) all.insert(all.end(), b.begin(), b.end());
  std::sort(all.begin(), all.end());
  ASSERT_EQ(all.size(), 23u);
  for (size_t i = 0; i < 23; ++i) EXPECT_EQ(all[i], i);
}

TEST(Trainer, MemorisesATinySet) {
  at::set_num_threads(1);
  auto c = cfg();
  auto d = data(12, c);
  torch::manual_seed(5);
  MultimodalModel m(c);
  auto before = score_examples(m, d, 0, 8, torch::kCPU);
  test::TempDir t;
  TrainOptions o;
  o.epochs = 40;
  o.batch_size = 4;
  o.lr = 3e-3;
  o.checkpoint_every = 0;
  auto r = train_sft(m, d, 0, o, t / "state", torch::kCPU);
  EXPECT_TRUE(r.finished);
  EXPECT_EQ(r.steps, 40 * 3);
  auto after = score_examples(m, d, 0, 8, torch::kCPU);
  double lb = 0, la = 0;
  for (size_t i = 0; i < d.size(); ++i) {
    lb += before[i].loss();
    la += after[i].loss();
  }
  EXPECT_LT(la / d.size(), 0.1) << "mean answer loss before " << lb / d.size();
  // Greedy generation reproduces every memorised answer.
  std::vector<Example> prompts = d;
  for (auto& e : prompts) {
    e.chat.ids.resize(static_cast<size_t>(e.chat.prompt_len));
    e.chat.loss_mask.resize(e.chat.ids.size());
  }
  auto gen = generate_greedy(m, prompts, 2, 0, {}, torch::kCPU);
  for (size_t i = 0; i < d.size(); ++i) {
    std::vector<int> want{static_cast<int>(10 + i), static_cast<int>(20 + i % 7)};
    EXPECT_EQ(gen[i], want) << d[i].id;
  }
}

TEST(Trainer, ResumeAfterAKillContinuesFromTheLastSnapshot) {
  at::set_num_threads(1);
  auto c = cfg();
  auto d = data(10, c);
  TrainOptions o;
  o.epochs = 3;
  o.batch_size = 4;  // 3 steps per epoch, 9 in all
  o.checkpoint_every = 2;
  test::TempDir t;
  torch::manual_seed(9);
  MultimodalModel full(c);
  train_sft(full, d, 0, o, t / "full", torch::kCPU);

  torch::manual_seed(9);
  MultimodalModel killed(c);
  TrainOptions stop = o;
  stop.stop_after = 5;  // "killed" after step 5: the last snapshot is step 4
  auto r1 = train_sft(killed, d, 0, stop, t / "resume", torch::kCPU);
  EXPECT_FALSE(r1.finished);
  torch::manual_seed(123);  // a fresh process: different init, overwritten by the snapshot
  MultimodalModel resumed(c);
  auto r2 = train_sft(resumed, d, 0, o, t / "resume", torch::kCPU);
  EXPECT_EQ(r2.resumed_from, 4);
  EXPECT_TRUE(r2.finished);
  auto pf = full->named_parameters(), pr = resumed->named_parameters();
  for (const auto& p : pf) EXPECT_TRUE(torch::allclose(p.value(), pr[p.key()], 1e-5, 1e-6)) << p.key();
}

TEST(Trainer, RejectsEmptyData) {
  auto c = cfg();
  MultimodalModel m(c);
  test::TempDir t;
  EXPECT_THROW(train_sft(m, {}, 0, TrainOptions{}, t / "s", torch::kCPU), Error);
}

namespace {

TrainOptions snapshot_every_step(int64_t stop_after) {
  TrainOptions o;
  o.epochs = 2;
  o.batch_size = 4;
  o.checkpoint_every = 1;
  o.stop_after = stop_after;
  return o;
}

uintmax_t tree_bytes(const std::filesystem::path& d) {
  uintmax_t n = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(d))
    if (e.is_regular_file()) n += e.file_size();
  return n;
}

// A tmpfs of `bytes` mounted for the test's lifetime (needs CAP_SYS_ADMIN).
struct SmallDisk {
  std::filesystem::path dir;
  bool ok = false;
  SmallDisk(const std::filesystem::path& d, uintmax_t bytes) : dir(d) {
    std::filesystem::create_directories(dir);
    ok = ::mount("tmpfs", dir.c_str(), "tmpfs", 0, ("size=" + std::to_string(bytes)).c_str()) == 0;
  }
  ~SmallDisk() {
    if (ok) ::umount2(dir.c_str(), MNT_DETACH);
  }
};

}  // namespace

TEST(Trainer, ASnapshotOfOtherOptionsOrAnInconsistentStepIsNotResumed) {
  at::set_num_threads(1);
  auto c = cfg();
  auto d = data(10, c);
  test::TempDir t;
  torch::manual_seed(9);
  MultimodalModel m(c);
  EXPECT_FALSE(train_sft(m, d, 0, snapshot_every_step(2), t / "state", torch::kCPU).finished);
  // Another learning rate: resuming would train the rest with it and record it as if used throughout.
  TrainOptions other = snapshot_every_step(0);
  other.lr = 5e-3;
  MultimodalModel m2(c);
  std::string e = test::error_of([&] { train_sft(m2, d, 0, other, t / "state", torch::kCPU); });
  test::expect_contains(e, "made with other options (lr 0.001 -> 0.005)");
  test::expect_contains(e, "delete");
  // Other data (another --set) is another run too.
  auto fewer = data(6, c);
  e = test::error_of([&] { train_sft(m2, fewer, 0, snapshot_every_step(0), t / "state", torch::kCPU); });
  test::expect_contains(e, "examples 10 -> 6");
  // state.json's step disagrees with the optimiser's.
  Json st = read_json(t / "state/state.json");
  st["step"] = 1;
  write_json(t / "state/state.json", st);
  e = test::error_of([&] { train_sft(m2, d, 0, snapshot_every_step(0), t / "state", torch::kCPU); });
  test::expect_contains(e, "says step 1 but the optimiser's state has taken 2 steps");
  // A snapshot without its options (an older format) cannot be checked.
  st.erase("options");
  write_json(t / "state/state.json", st);
  test::expect_contains(test::error_of([&] { train_sft(m2, d, 0, snapshot_every_step(0), t / "state", torch::kCPU); }),
                        "does not record its options");
}

TEST(Trainer, AFullDiskReportsNoSpaceAndKeepsThePreviousSnapshot) {
  at::set_num_threads(1);
  auto c = cfg();
  auto d = data(10, c);
  test::TempDir t;
  torch::manual_seed(9);
  MultimodalModel probe(c);
  train_sft(probe, d, 0, snapshot_every_step(1), t / "probe", torch::kCPU);
  const uintmax_t one = tree_bytes(t / "probe");
  // Room for one snapshot and a half: the second cannot be staged beside the first.
  SmallDisk disk(t / "disk", one + one / 2);
  if (!disk.ok) GTEST_SKIP() << "cannot mount a tmpfs here (needs CAP_SYS_ADMIN): " << std::strerror(errno);
  torch::manual_seed(9);
  MultimodalModel m(c);
  const std::string e = test::error_of([&] { train_sft(m, d, 0, snapshot_every_step(3), disk.dir / "state", torch::kCPU); });
  test::expect_contains(e, "No space left on device");
  // The step-1 snapshot is whole and loads; no staging leftovers fill the disk.
  EXPECT_EQ(read_json(disk.dir / "state/state.json").at("step"), 1);
  size_t entries = 0;
  for (const auto& x : std::filesystem::directory_iterator(disk.dir)) entries += x.path().filename() != "state";
  EXPECT_EQ(entries, 0u);
  MultimodalModel again(c);
  auto r = train_sft(again, d, 0, snapshot_every_step(1), disk.dir / "state", torch::kCPU);
  EXPECT_EQ(r.resumed_from, 1);
}
