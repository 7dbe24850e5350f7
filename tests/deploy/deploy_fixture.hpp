#pragma once
// A deployment of the shared tiny model (test::trained_tiny), made through the
// CLI, with the benchmark's patient and section ids at hand.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "core/fs.hpp"
#include "core/json.hpp"
#include "deploy/deployment.hpp"
#include "test_util.hpp"

namespace medforget::test {

namespace fs = std::filesystem;

class DeployFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto& tiny = test::trained_tiny();
    bench_ = tiny.bench;
    dir_ = t_ / "deploy";
    auto r = test::run_cli("deploy init --model " + tiny.model.string() + " --bench " + bench_.string() + " --out " +
                           dir_.string());
    ASSERT_EQ(r.exit_code, 0) << r.output;
    const Json h = read_json(bench_ / "hierarchy.json");
    for (const auto& n : h.at("nodes")) {
      if (n.at("level") == "patient") patients_.push_back(n.at("id").get<std::string>());
      if (n.at("level") == "study") studies_.push_back(n.at("id").get<std::string>());
      if (n.at("level") == "section") sections_.push_back(n.at("id").get<std::string>());
      parent_[n.at("id").get<std::string>()] = n.at("parent").get<std::string>();
    }
    ASSERT_GE(patients_.size(), 2u);
  }
  test::CliResult cli(const std::string& args) { return test::run_cli(args); }
  std::string submit(const std::string& target, const std::string& by, const std::string& basis = "GDPR Art. 17") {
    std::string quoted;  // for the shell: ' becomes '\''
    for (char c : basis) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
    auto r = cli("request submit " + dir_.string() + " --target " + target + " --basis '" + quoted + "' --by " + by);
    EXPECT_EQ(r.exit_code, 0) << r.output;
    std::string id = r.output;
    while (!id.empty() && id.back() == '\n') id.pop_back();
    return id.substr(id.rfind('\n') + 1);
  }
  size_t entries() { return open_deployment(dir_).ledger().entries().size(); }
  // Submitted by alice, approved by bob.
  std::string approved(const std::string& target) {
    const std::string id = submit(target, "alice");
    auto r = cli("request approve " + dir_.string() + " " + id + " --by bob");
    EXPECT_EQ(r.exit_code, 0) << r.output;
    return id;
  }
  Json request_json(const std::string& id) {
    auto r = cli("request show " + dir_.string() + " " + id);
    EXPECT_EQ(r.exit_code, 0) << r.output;
    return Json::parse(r.output);
  }

  test::TempDir t_;
  fs::path bench_, dir_;
  std::vector<std::string> patients_, studies_, sections_;
  std::map<std::string, std::string> parent_;
};


}  // namespace medforget::test
