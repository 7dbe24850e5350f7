// Calibrated stopping of the gradient methods on a tiny model that memorised a
// tiny benchmark: training ends once the forget set scores like held-out items
// of the same tasks (general.jsonl), or at max_epochs, and provenance says which.
#include <gtest/gtest.h>

#include <map>

#include "core/json.hpp"
#include "test_util.hpp"
#include "unlearn/method.hpp"

using namespace medforget;
namespace fs = std::filesystem;

namespace {

Json unlearn_report(const fs::path& out, const std::string& opts) {
  const auto& f = test::trained_tiny();
  auto r = test::run_cli("unlearn --model " + f.model.string() + " --bench " + f.bench.string() +
                         " --level patient --method graddiff --seed 3 " + opts + " --out " + out.string());
  EXPECT_EQ(r.exit_code, 0) << r.output;
  return read_json(out / "provenance.json").at("report");
}

// Mean answer NLL per task of an eval output file (section tasks only).
std::map<std::string, double> nll_by_task(const fs::path& jsonl) {
  std::map<std::string, double> sum;
  std::map<std::string, int> n;
  for (const auto& j : read_jsonl(jsonl)) {
    const std::string task = j.at("task");
    if (task == "identity") continue;
    sum[task] -= j.at("answer_mean_logprob").get<double>();
    ++n[task];
  }
  for (auto& [t, s] : sum) s /= n[t];
  return sum;
}

size_t forget_steps_per_epoch(size_t batch_size) {
  const size_t n = read_items(test::trained_tiny().bench / "levels/patient/forget.jsonl").size();
  return (n + batch_size - 1) / batch_size;
}

}  // namespace

// GradDiff with stop=calibrated stops at the first check where the forget NLL
// reaches the held-out target, well before its max_epochs bound; the unlearned
// model, scored independently by `eval`, has forget answers as unlikely as the
// vanilla model finds the held-out set's.
TEST(CalibratedStop, GradDiffStopsOnceTheForgetSetScoresLikeHeldOutItems) {
  const auto& f = test::trained_tiny();
  test::TempDir t;
  Json rep = unlearn_report(t / "cal", "--opt stop=calibrated");
  const Json& stop = rep.at("stop");
  ASSERT_EQ(stop.at("mode"), "calibrated") << stop.dump();
  EXPECT_EQ(stop.at("reason"), "target") << stop.dump();
  EXPECT_EQ(stop.at("heldout_set"), "general.jsonl");
  const double target = stop.at("target_nll");
  const auto& checks = stop.at("checks");
  ASSERT_GE(checks.size(), 2u);
  EXPECT_EQ(checks.front().at("step"), 0);
  EXPECT_LT(checks.front().at("forget_nll").get<double>(), target / 4) << "the vanilla model remembers the forget set";
  for (size_t i = 0; i + 1 < checks.size(); ++i) EXPECT_LT(checks[i].at("forget_nll").get<double>(), target);
  EXPECT_GE(checks.back().at("forget_nll").get<double>(), target);
  const int64_t steps = rep.at("steps");
  EXPECT_EQ(checks.back().at("step"), steps);
  EXPECT_EQ(stop.at("stopped_at_step"), steps);
  const int64_t bound = 10 * static_cast<int64_t>(forget_steps_per_epoch(8));  // max_epochs=10 by default
  EXPECT_GT(steps, 0);
  EXPECT_LT(steps, bound) << "calibrated stopping ended at its bound, not at the target";

  // Independently: eval's answer likelihoods of the unlearned model on the
  // forget set against the vanilla model's on the held-out set, per task.
  for (const auto& [dir, out] : {std::pair{t / "cal", t / "ev1"}, std::pair{f.model, t / "ev0"}}) {
    auto r = test::run_cli("eval --model " + dir.string() + " --bench " + f.bench.string() +
                           " --level patient --sets forget,general --out " + out.string());
    ASSERT_EQ(r.exit_code, 0) << r.output;
  }
  auto forget = nll_by_task(t / "ev1/forget.jsonl"), held = nll_by_task(t / "ev0/general.jsonl");
  const Json& share = stop.at("forget_task_share");
  double measured_forget = 0, measured_target = 0;
  for (const auto& [task, w] : share.items()) {
    measured_forget += w.get<double>() * forget.at(task);
    measured_target += w.get<double>() * held.at(task);
  }
  EXPECT_NEAR(measured_target, target, 0.05 * target);
  EXPECT_GE(measured_forget, 0.9 * measured_target);
}

// An unreachable target (one epoch of GradDiff cannot lift a memorised forget
// set to held-out NLL) ends at max_epochs, and provenance says so; max_steps
// still caps a calibrated run; the default stays a fixed number of epochs.
TEST(CalibratedStop, EndsAtMaxEpochsOrMaxStepsWhenTheTargetIsOutOfReach) {
  test::TempDir t;
  const int64_t per_epoch = static_cast<int64_t>(forget_steps_per_epoch(8));
  Json rep = unlearn_report(t / "one", "--opt stop=calibrated --opt max_epochs=1 --opt check_every=2");
  const Json& stop = rep.at("stop");
  EXPECT_EQ(stop.at("reason"), "max_epochs") << stop.dump();
  EXPECT_EQ(rep.at("steps"), per_epoch);
  EXPECT_EQ(stop.at("stopped_at_step"), per_epoch);
  EXPECT_EQ(stop.at("check_every"), 2);
  const auto& checks = stop.at("checks");
  EXPECT_EQ(checks.back().at("step"), per_epoch);  // the stopping step is always checked
  EXPECT_LT(checks.back().at("forget_nll").get<double>(), stop.at("target_nll").get<double>());
  for (const auto& c : checks) EXPECT_TRUE(c.at("step").get<int64_t>() % 2 == 0 || c.at("step") == per_epoch);

  Json capped = unlearn_report(t / "cap", "--opt stop=calibrated --opt max_steps=2");
  EXPECT_EQ(capped.at("stop").at("reason"), "max_steps");
  EXPECT_EQ(capped.at("steps"), 2);

  Json fixed = unlearn_report(t / "fixed", "--opt epochs=1");
  EXPECT_EQ(fixed.at("stop").at("mode"), "epochs");
  EXPECT_EQ(fixed.at("stop").at("reason"), "epochs");
  EXPECT_FALSE(fixed.at("stop").contains("checks"));
  EXPECT_EQ(fixed.at("steps"), per_epoch);
}

TEST(CalibratedStop, BadOptionValuesFailBeforeAnyWork) {
  for (const char* name : {"graddiff", "kl_min", "npo"}) {
    auto m = make_method(name);
    Json p = resolve_method_params(*m, std::vector<std::string>{});
    EXPECT_EQ(p.at("stop"), "epochs") << name;  // the default stays fixed epochs
    EXPECT_NO_THROW(m->check(resolve_method_params(*m, std::vector<std::string>{"stop=calibrated"})));
    test::expect_contains(
        test::error_of([&] { m->check(resolve_method_params(*m, std::vector<std::string>{"stop=early"})); }),
        "option 'stop': expected 'epochs' or 'calibrated', got 'early'");
    test::expect_contains(
        test::error_of([&] { resolve_method_params(*m, std::vector<std::string>{"calibration_items=0"}); }),
        "calibration_items must be");
    test::expect_contains(test::error_of([&] { resolve_method_params(*m, std::vector<std::string>{"max_epochs=0"}); }),
                          "max_epochs must be");
    test::expect_contains(test::error_of([&] { resolve_method_params(*m, std::vector<std::string>{"check_every=-1"}); }),
                          "check_every must be");
    test::expect_contains(test::error_of([&] { resolve_method_params(*m, Json{{"stop", 1}}); }),
                          "expected a value like \"epochs\"");
  }
  const auto& f = test::trained_tiny();
  test::TempDir t;
  auto r = test::run_cli("unlearn --model " + f.model.string() + " --bench " + f.bench.string() +
                         " --level patient --method graddiff --opt stop=soon --out " + (t / "o").string());
  EXPECT_NE(r.exit_code, 0);
  test::expect_contains(r.output, "method 'graddiff' option 'stop': expected 'epochs' or 'calibrated', got 'soon'");
  EXPECT_FALSE(fs::exists(t / "o"));
}
