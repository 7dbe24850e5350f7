#include "data/names.hpp"

#include <gtest/gtest.h>

#include <set>

#include "core/error.hpp"
#include "core/rng.hpp"

using namespace medforget;

TEST(Names, SixtyFourUniqueInstitutions) {
  Rng rng(7);
  auto names = institution_names(64, rng);
  ASSERT_EQ(names.size(), 64u);
  std::set<std::string> s(names.begin(), names.end());
  EXPECT_EQ(s.size(), 64u);
  std::set<std::string> suffixes;
  for (const auto& n : names) {
    EXPECT_GE(n.size(), 8u) << n;
    EXPECT_TRUE(std::isupper(static_cast<unsigned char>(n[0]))) << n;
    EXPECT_EQ(n.find("{X}"), std::string::npos) << n;
    EXPECT_TRUE(n.find("Hospital") != std::string::npos || n.find("Medical") != std::string::npos ||
                n.find("Health") != std::string::npos || n.find("Clinic") != std::string::npos ||
                n.find("Institute") != std::string::npos)
        << n;
    suffixes.insert(n.substr(n.rfind(' ') + 1));
  }
  EXPECT_GE(suffixes.size(), 4u);  // varied kinds of institution
}

TEST(Names, InstitutionNamesDeterministic) {
  Rng a(11), b(11), c(12);
  EXPECT_EQ(institution_names(8, a), institution_names(8, b));
  Rng d(11);
  EXPECT_NE(institution_names(8, d), institution_names(8, c));
}

TEST(Names, SixHundredUniqueSexConsistentPatients) {
  Rng rng(3);
  NameRegistry reg;
  std::set<std::string> seen;
  for (int i = 0; i < 600; ++i) {
    std::string sex = sample_sex(rng);
    std::string name = reg.unique_patient_name(sex, rng);
    EXPECT_TRUE(seen.insert(name).second) << "duplicate " << name;
    auto sp = name.find(' ');
    ASSERT_NE(sp, std::string::npos) << name;
    EXPECT_EQ(first_name_sex(name.substr(0, sp)), sex) << name;
    EXPECT_TRUE(reg.used(name));
  }
  EXPECT_EQ(reg.size(), 600u);
}

TEST(Names, RegistryRefusesReuse) {
  NameRegistry reg;
  EXPECT_TRUE(reg.claim("Jason Martinez"));
  EXPECT_FALSE(reg.claim("Jason Martinez"));
  // Institution and patient names share one registry without clashing.
  Rng rng(5);
  std::string inst = reg.unique_institution_name(rng);
  EXPECT_TRUE(reg.used(inst));
}

TEST(Names, UnknownSexIsAnError) {
  Rng rng(1);
  EXPECT_THROW(patient_name("X", rng), Error);
  EXPECT_NO_THROW(patient_name("", rng));
  EXPECT_EQ(first_name_sex("Jennifer"), "F");
  EXPECT_EQ(first_name_sex("Andrew"), "M");
  EXPECT_EQ(first_name_sex("Zzyzx"), "");
}
