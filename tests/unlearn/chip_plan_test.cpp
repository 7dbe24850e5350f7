// CHIP's contrasts and sibling-differential directions against hand-computed
// examples on a real tiny benchmark's hierarchy.
#include <gtest/gtest.h>

#include <set>

#include "test_util.hpp"
#include "unlearn/chip_plan.hpp"

using namespace medforget;

namespace {

std::set<std::string> as_set(const std::vector<std::string>& v) { return {v.begin(), v.end()}; }

}  // namespace

TEST(ChipPlan, ContrastsFollowTheHierarchyAtEveryLevel) {
  test::TempDir t;
  auto b = t / "b";
  ASSERT_EQ(test::run_cli("data build --preset tiny --seed 3 --out " + b.string()).exit_code, 0);
  const auto h0 = resolve_request(b, Level::Patient).hierarchy;
  const std::string inst = h0.at_level(Level::Institution).front();
  const std::string p = h0.get(inst).children[0], sib = h0.get(inst).children[1];
  // Patient target: one contrast per study, against the studies of the retained sibling patient.
  ForgetRequest r = resolve_request(b, Level::Patient, {p});
  ChipPlan plan = plan_items(r, 0, 1);
  auto c = chip_contrasts(r, plan);
  ASSERT_EQ(c.size(), h0.get(p).children.size());
  for (size_t i = 0; i < c.size(); ++i) {
    EXPECT_EQ(c[i].first, h0.get(p).children[i]);
    EXPECT_EQ(as_set(c[i].second), as_set(h0.get(sib).children));
  }
  // Every item is read once; forget rows are exactly the target's subtree.
  EXPECT_EQ(plan.items.size(), r.forget.size() + r.retain.size());
  size_t nf = 0;
  for (bool f : plan.is_forget) nf += f;
  EXPECT_EQ(nf, r.forget.size());
  // Section target (a leaf): the other sections of its study.
  const std::string study = h0.get(p).children[0], sec = h0.get(study).children[0];
  ForgetRequest rs = resolve_request(b, Level::Section, {sec});
  ChipPlan ps = plan_items(rs, 0, 1);
  auto cs = chip_contrasts(rs, ps);
  ASSERT_EQ(cs.size(), 1u);
  EXPECT_EQ(cs[0].first, sec);
  std::vector<std::string> others(h0.get(study).children.begin() + 1, h0.get(study).children.end());
  EXPECT_EQ(as_set(cs[0].second), as_set(others));
  // A section and its siblings show the merger one image (their study's); a
  // patient's studies and the sibling patient's studies each show their own.
  EXPECT_TRUE(shows_one_image(ps, sec, others));
  EXPECT_FALSE(shows_one_image(ps, sec, {}));  // μ_c alone: not a difference
  EXPECT_FALSE(shows_one_image(plan, c[0].first, c[0].second));
  // Institution target: per patient, the patients of the other institution.
  ForgetRequest ri = resolve_request(b, Level::Institution, {inst});
  auto ci = chip_contrasts(ri, plan_items(ri, 0, 1));
  const std::string other = h0.at_level(Level::Institution).back();
  ASSERT_EQ(ci.size(), h0.get(inst).children.size());
  EXPECT_EQ(as_set(ci[0].second), as_set(h0.get(other).children));
  // The cap keeps at most that many items per node of the request level.
  ChipPlan capped = plan_items(r, 3, 1);
  EXPECT_EQ(capped.rows_of_node.at(p).size(), 3u);
}

TEST(ChipPlan, SiblingDirectionByHand) {
  ChipPlan p;
  p.rows_of_node = {{"c", {0, 1}}, {"s1", {2}}, {"s2", {3}}};
  // Rows: c = mean of (1,2,0,4) and (3,2,0,0) = (2,2,0,2); siblings (0,1,0,1) and (0,1,2,1) -> mean (0,1,1,1).
  auto acts = torch::tensor({1.f, 2.f, 0.f, 4.f, 3.f, 2.f, 0.f, 0.f, 0.f, 1.f, 0.f, 1.f, 0.f, 1.f, 2.f, 1.f}).view({4, 4});
  auto sel = torch::tensor({0, 1, 3}, torch::kLong);
  // μ_c − μ_sib on neurons {0,1,3} = (2, 1, 1) -> /sqrt(6).
  auto d = sibling_direction(acts, p, "c", {"s1", "s2"}, sel, true);
  ASSERT_TRUE(d.defined());
  const float r6 = 1.f / std::sqrt(6.f);
  EXPECT_TRUE(torch::allclose(d, torch::tensor({2 * r6, r6, r6}))) << d;
  // Without siblings: μ_c on {0,1,3} = (2,2,2) -> (1,1,1)/sqrt(3).
  auto d0 = sibling_direction(acts, p, "c", {"s1", "s2"}, sel, false);
  const float r3 = 1.f / std::sqrt(3.f);
  EXPECT_TRUE(torch::allclose(d0, torch::tensor({r3, r3, r3}))) << d0;
  // A node identical to its siblings' mean has no direction, and neither has one
  // that differs by float rounding only (a section and its siblings through the
  // vision-only merger); a small real difference still gives one.
  p.rows_of_node["twin"] = {2};
  EXPECT_FALSE(sibling_direction(acts, p, "twin", {"s1"}, sel, true).defined());
  auto noisy = torch::cat({acts, acts.slice(0, 2, 3) * (1 + 3e-7f), acts.slice(0, 2, 3) * 1.01f});
  p.rows_of_node["noise"] = {4};
  p.rows_of_node["near"] = {5};
  EXPECT_FALSE(sibling_direction(noisy, p, "noise", {"s1"}, sel, true).defined());
  auto near = sibling_direction(noisy, p, "near", {"s1"}, sel, true);
  ASSERT_TRUE(near.defined());
  EXPECT_TRUE(torch::allclose(near, torch::tensor({0.f, 1.f, 1.f}) / std::sqrt(2.f), 1e-3, 1e-3)) << near;
}

TEST(ChipPlan, RemovedEnergyShareByHand) {
  // Item 0: (3, 4, 0, 12): selected {0,1} energy 25 of 169. Item 1: (0, 2, 1, 0).
  auto acts = torch::tensor({3.f, 4.f, 0.f, 12.f, 0.f, 2.f, 1.f, 0.f}).view({2, 4});
  auto sel = torch::tensor({0, 1}, torch::kLong);
  auto q = torch::tensor({1.f, 0.f}).view({2, 1});  // removes neuron 0's component
  auto s = removed_share(acts, sel, q, false);
  EXPECT_TRUE(torch::allclose(s.of_selected, torch::tensor({9.f / 25, 0.f}))) << s.of_selected;
  EXPECT_TRUE(torch::allclose(s.of_layer, torch::tensor({9.f / 169, 0.f}))) << s.of_layer;
  auto z = removed_share(acts, sel, torch::Tensor(), true);  // zero-out: all of a_S
  EXPECT_TRUE(torch::allclose(z.of_selected, torch::tensor({1.f, 1.f})));
  EXPECT_TRUE(torch::allclose(z.of_layer, torch::tensor({25.f / 169, 4.f / 5})));
  EXPECT_TRUE(torch::equal(removed_share(acts, sel, torch::Tensor(), false).of_layer, torch::zeros({2})));
}
