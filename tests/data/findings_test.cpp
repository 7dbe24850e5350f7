#include "data/findings.hpp"

#include <gtest/gtest.h>

#include <set>

#include "core/error.hpp"

using namespace medforget;

TEST(Findings, FourteenObservationsInEnumOrder) {
  const auto& all = all_observations();
  ASSERT_EQ(all.size(), 14u);
  for (size_t i = 0; i < all.size(); ++i) EXPECT_EQ(static_cast<size_t>(all[i]), i);
  EXPECT_EQ(all.front(), Observation::NoFinding);
  EXPECT_EQ(all.back(), Observation::SupportDevices);
}

TEST(Findings, KeysAndCheXpertLabels) {
  EXPECT_EQ(observation_key(Observation::PleuralEffusion), "pleural_effusion");
  EXPECT_EQ(observation_label(Observation::PleuralEffusion), "Pleural Effusion");
  EXPECT_EQ(observation_key(Observation::EnlargedCardiomediastinum), "enlarged_cardiomediastinum");
  EXPECT_EQ(observation_label(Observation::EnlargedCardiomediastinum),
            "Enlarged Cardiomediastinum");
  EXPECT_EQ(observation_label(Observation::NoFinding), "No Finding");
  EXPECT_EQ(observation_label(Observation::SupportDevices), "Support Devices");
  EXPECT_EQ(observation_key(Observation::LungLesion), "lung_lesion");
}

TEST(Findings, KeyRoundTripAndUniqueness) {
  std::set<std::string> keys, labels;
  for (auto o : all_observations()) {
    EXPECT_EQ(observation_from_key(observation_key(o)), o);
    keys.insert(observation_key(o));
    labels.insert(observation_label(o));
  }
  EXPECT_EQ(keys.size(), 14u);
  EXPECT_EQ(labels.size(), 14u);
}

TEST(Findings, UnknownKeyThrowsListingValidKeys) {
  try {
    observation_from_key("pleural effusion");
    FAIL() << "expected Error";
  } catch (const Error& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("pleural effusion"), std::string::npos) << m;
    EXPECT_NE(m.find("pleural_effusion"), std::string::npos) << m;
    EXPECT_NE(m.find("support_devices"), std::string::npos) << m;
  }
  EXPECT_THROW(observation_from_key(""), Error);
  EXPECT_THROW(observation_from_key("Cardiomegaly"), Error);  // labels are not keys
}
