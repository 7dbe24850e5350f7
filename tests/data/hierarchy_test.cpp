#include <gtest/gtest.h>

#include "core/error.hpp"
#include "data/hierarchy.hpp"
#include "data/splits.hpp"

using namespace medforget;

namespace {

// inst × patients × studies × sections, ids like "i0/p1/s0/x2".
Hierarchy make(int ni, int np, int ns, int nx) {
  Hierarchy h;
  for (int i = 0; i < ni; ++i) {
    std::string I = "i" + std::to_string(i);
    h.add({I, Level::Institution, "Inst " + I, "", {}});
    for (int p = 0; p < np; ++p) {
      std::string P = I + "/p" + std::to_string(p);
      h.add({P, Level::Patient, P, I, {}});
      for (int s = 0; s < ns; ++s) {
        std::string S = P + "/s" + std::to_string(s);
        h.add({S, Level::Study, S, P, {}});
        for (int x = 0; x < nx; ++x) h.add({S + "/x" + std::to_string(x), Level::Section, "SEC", S, {}});
      }
    }
  }
  return h;
}

}  // namespace

TEST(Hierarchy, NavigationQueries) {
  Hierarchy h = make(2, 2, 2, 4);
  EXPECT_EQ(h.at_level(Level::Institution).size(), 2u);
  EXPECT_EQ(h.at_level(Level::Section).size(), 32u);
  EXPECT_EQ(h.subtree("i0").size(), 1u + 2 + 4 + 16);
  EXPECT_EQ(h.subtree("i0/p1/s0").size(), 5u);
  EXPECT_EQ(h.siblings("i0"), std::vector<std::string>{"i1"});
  EXPECT_EQ(h.siblings("i0/p0/s0/x1"), (std::vector<std::string>{"i0/p0/s0/x0", "i0/p0/s0/x2", "i0/p0/s0/x3"}));
  EXPECT_EQ(h.ancestor("i1/p0/s1/x3", Level::Patient), "i1/p0");
  EXPECT_EQ(h.ancestor("i1/p0", Level::Patient), "i1/p0");
  EXPECT_THROW(h.ancestor("i1", Level::Study), Error);
  EXPECT_EQ(h.get("i0/p1").children.size(), 2u);
}

TEST(Hierarchy, RejectsBadStructure) {
  Hierarchy h;
  h.add({"i", Level::Institution, "I", "", {}});
  EXPECT_THROW(h.add({"i", Level::Institution, "dup", "", {}}), Error);
  EXPECT_THROW(h.add({"p", Level::Patient, "P", "missing", {}}), Error);
  EXPECT_THROW(h.add({"s", Level::Study, "S", "i", {}}), Error);  // parent of the wrong level
  EXPECT_THROW(h.get("nope"), Error);
  EXPECT_THROW(level_from_name("ward"), Error);
}

TEST(Hierarchy, JsonRoundTripAndErrors) {
  Hierarchy h = make(2, 2, 1, 2);
  Hierarchy g = Hierarchy::from_json(h.to_json(), "h.json");
  EXPECT_EQ(g.to_json(), h.to_json());
  Json bad = h.to_json();
  bad["nodes"][3]["parent"] = "ghost";
  try {
    Hierarchy::from_json(bad, "h.json");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("h.json node #4"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("ghost"), std::string::npos);
  }
  Json bad_level = h.to_json();
  bad_level["nodes"][0]["level"] = "ward";
  EXPECT_THROW(Hierarchy::from_json(bad_level, "h.json"), Error);
}

TEST(Splits, PaperShapeGivesQuarterSpreadAcrossParents) {
  Hierarchy h = make(8, 8, 4, 4);
  Rng rng(3);
  std::map<Level, size_t> want{{Level::Institution, 2}, {Level::Patient, 16}, {Level::Study, 64}, {Level::Section, 256}};
  for (Level l : all_levels()) {
    auto f = choose_forget_nodes(h, l, 0.25, rng);
    EXPECT_EQ(f.size(), want[l]) << level_name(l);
    std::set<std::string> fs(f.begin(), f.end());
    EXPECT_EQ(fs.size(), f.size());
    std::map<std::string, int> per_parent;
    for (const auto& id : f) {
      EXPECT_EQ(h.get(id).level, l);
      auto sib = h.siblings(id);
      EXPECT_TRUE(std::any_of(sib.begin(), sib.end(), [&](auto& s) { return !fs.count(s); }));
      ++per_parent[h.get(id).parent];
    }
    if (l != Level::Institution) {
      for (auto& [p, n] : per_parent) EXPECT_EQ(n, l == Level::Patient ? 2 : 1) << p;
    }
  }
  // Sections: each position within a study is forgotten equally often.
  auto sec = choose_forget_nodes(h, Level::Section, 0.25, rng);
  std::map<char, int> pos;
  for (auto& id : sec) ++pos[id.back()];
  for (char c : {'0', '1', '2', '3'}) EXPECT_EQ(pos[c], 64);
}

TEST(Splits, TinyShapeAndClosure) {
  Hierarchy h = make(2, 2, 2, 4);
  Rng rng(1);
  auto inst = choose_forget_nodes(h, Level::Institution, 0.25, rng);
  ASSERT_EQ(inst.size(), 1u);  // at least one, never all
  auto closure = forget_closure(h, inst);
  EXPECT_EQ(closure.size(), h.subtree(inst[0]).size());
  EXPECT_EQ(choose_forget_nodes(h, Level::Section, 0.25, rng).size(), 8u);
  Hierarchy one = make(1, 1, 1, 4);
  EXPECT_THROW(choose_forget_nodes(one, Level::Institution, 0.25, rng), Error);
  Hierarchy only_children = make(1, 4, 1, 4);  // a study is its patient's only child
  EXPECT_THROW(choose_forget_nodes(only_children, Level::Study, 0.25, rng), Error);
}

TEST(Splits, DeterministicForSeed) {
  Hierarchy h = make(4, 4, 2, 4);
  Rng a(9), b(9);
  EXPECT_EQ(choose_forget_nodes(h, Level::Study, 0.25, a), choose_forget_nodes(h, Level::Study, 0.25, b));
}
