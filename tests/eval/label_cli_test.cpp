// `medforget label` on a hospital's own reports: CSV or JSONL in, labels with
// their evidence spans out, errors naming the file, line and field.
#include <gtest/gtest.h>

#include "core/fs.hpp"
#include "core/json.hpp"
#include "data/csv.hpp"
#include "test_util.hpp"

using namespace medforget;
namespace fs = std::filesystem;

namespace {

std::string label_cmd(const fs::path& in, const fs::path& out, const std::string& extra = "") {
  return "label --in " + in.string() + " --out " + out.string() + (extra.empty() ? "" : " " + extra);
}

const Json* finding(const Json& row, const std::string& key) {
  for (const auto& f : row["findings"])
    if (f["finding"] == key) return &f;
  return nullptr;
}

}  // namespace

TEST(LabelCli, CsvInJsonlOutWithEvidenceSpans) {
  test::TempDir t;
  // Named columns of the hospital's own export; a report over two lines; an empty one.
  const std::string a1 = "Heart size is normal.\nNo pleural effusion, but a small right pneumothorax.";
  write_atomic(t / "reports.csv", "accession,report,reader\n"
                                  "A1,\"" + a1 + "\",dr x\n"
                                  "A2,\"Possible left lower lobe pneumonia, \"\"new\"\".\",dr y\n"
                                  "A3,,dr z\n");
  auto r = test::run_cli(label_cmd(t / "reports.csv", t / "out" / "labels.jsonl",
                                   "--id-field accession --text-field Report"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("labelled 3 reports"), std::string::npos) << r.output;
  std::vector<Json> rows = read_jsonl(t / "out" / "labels.jsonl");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0]["id"], "A1");
  EXPECT_EQ(rows[1]["id"], "A2");
  EXPECT_EQ(rows[2]["id"], "A3");
  EXPECT_TRUE(rows[2]["findings"].empty()) << rows[2].dump();

  const Json* eff = finding(rows[0], "pleural_effusion");
  ASSERT_NE(eff, nullptr) << rows[0].dump();
  EXPECT_EQ((*eff)["label"], "negative");
  EXPECT_EQ((*eff)["evidence"], "No pleural effusion");
  const Json* ptx = finding(rows[0], "pneumothorax");
  ASSERT_NE(ptx, nullptr) << rows[0].dump();
  EXPECT_EQ((*ptx)["label"], "positive");
  const Json* heart = finding(rows[0], "cardiomegaly");
  ASSERT_NE(heart, nullptr) << rows[0].dump();
  EXPECT_EQ((*heart)["label"], "negative");
  EXPECT_EQ((*heart)["evidence"], "Heart size is normal");
  // The offsets point into the report text as read (the line break included).
  for (const auto& f : rows[0]["findings"]) {
    size_t b = f["begin"], e = f["end"];
    ASSERT_LE(e, a1.size()) << f.dump();
    EXPECT_EQ(a1.substr(b, e - b), f["evidence"].get<std::string>()) << f.dump();
  }
  EXPECT_EQ(a1.substr((*eff)["begin"].get<size_t>(), 2), "No");
  const Json* pna = finding(rows[1], "pneumonia");
  ASSERT_NE(pna, nullptr) << rows[1].dump();
  EXPECT_EQ((*pna)["label"], "uncertain");
  EXPECT_EQ((*pna)["begin"], 0);
  // Written atomically: nothing else is left beside the output.
  size_t files = 0;
  for (const auto& e : fs::directory_iterator(t / "out")) files += e.is_regular_file() ? 1 : 0;
  EXPECT_EQ(files, 1u);
}

TEST(LabelCli, JsonlInCsvOut) {
  test::TempDir t;
  write_atomic(t / "reports.jsonl", std::string(
                                        "{\"id\": 7, \"text\": \"No effusion, pneumothorax or consolidation.\"}\n"
                                        "\n"
                                        "{\"id\": \"r-8\", \"text\": \"CHEST (PA AND LAT)\", \"site\": \"B\"}\n"));
  auto r = test::run_cli(label_cmd(t / "reports.jsonl", t / "labels.csv"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  CsvTable c = read_csv(t / "labels.csv");
  EXPECT_EQ(c.header, (std::vector<std::string>{"id", "finding", "label", "begin", "end", "evidence"}));
  std::map<std::string, std::vector<std::string>> by;  // "id/finding" -> fields
  for (const auto& row : c.rows) by[row.fields[0] + "/" + row.fields[1]] = row.fields;
  ASSERT_TRUE(by.count("7/pneumothorax")) << read_text(t / "labels.csv");
  EXPECT_EQ(by["7/pneumothorax"][2], "negative");
  // Evidence holding a comma survives the CSV round trip.
  EXPECT_EQ(by["7/pneumothorax"][5], "No effusion, pneumothorax");
  EXPECT_EQ(by["7/pneumothorax"][3], "0");
  EXPECT_EQ(by["7/pneumothorax"][4], "25");
  EXPECT_EQ(by["7/pleural_effusion"][5], "No effusion");
  EXPECT_EQ(by["7/consolidation"][2], "negative");
  EXPECT_EQ(by["7/no_finding"][2], "positive");
  // A report with nothing to label keeps a row with only its id.
  ASSERT_TRUE(by.count("r-8/")) << read_text(t / "labels.csv");
  EXPECT_EQ(by["r-8/"][2], "");
}

TEST(LabelCli, ErrorsNameTheFileLineAndField) {
  test::TempDir t;
  auto fails_with = [&](const std::string& args, const std::vector<std::string>& parts) {
    auto r = test::run_cli(args);
    EXPECT_NE(r.exit_code, 0) << args << "\n" << r.output;
    for (const auto& p : parts) EXPECT_NE(r.output.find(p), std::string::npos) << "missing '" << p << "' in:\n" << r.output;
  };
  fs::path csv = t / "reports.csv";
  write_atomic(csv, std::string("id,body\n1,No effusion.\n"));
  fails_with(label_cmd(csv, t / "a.jsonl"), {csv.string(), "'text'", "id,body"});
  fs::path jl = t / "reports.jsonl";
  write_atomic(jl, std::string("{\"id\": \"a\", \"text\": \"ok\"}\n{\"id\": \"b\", \"report\": \"x\"}\n"));
  fails_with(label_cmd(jl, t / "a.jsonl"), {jl.string() + ":2: field 'text'", "missing"});
  write_atomic(jl, std::string("{\"id\": \"a\", \"text\": \"ok\"}\n{\"id\": \"b\", \"text\": 5}\n"));
  fails_with(label_cmd(jl, t / "a.jsonl"), {jl.string() + ":2: field 'text'", "string"});
  write_atomic(jl, std::string("{\"text\": \"ok\"}\n"));
  fails_with(label_cmd(jl, t / "a.jsonl"), {jl.string() + ":1: field 'id'"});
  write_atomic(jl, std::string("{\"id\": \"a\", \"text\": \"ok\"}\n{\"id\": \"b\", \"text\": \"ok\"}\n{\"id\": \"a\", \"text\": \"x\"}\n"));
  fails_with(label_cmd(jl, t / "a.jsonl"), {jl.string() + ":3: field 'id'", "duplicate report id 'a'", "line 1"});
  write_atomic(jl, std::string("{\"id\": \"a\", \"text\": \"ok\"\n"));
  fails_with(label_cmd(jl, t / "a.jsonl"), {jl.string() + ":1"});
  fails_with(label_cmd(csv, t / "a.txt"), {"a.txt", ".csv, .jsonl"});
  fails_with(label_cmd(t / "reports.xml", t / "a.jsonl"), {"reports.xml", ".csv, .jsonl"});
  EXPECT_FALSE(fs::exists(t / "a.jsonl"));
  EXPECT_FALSE(fs::exists(t / "a.txt"));
  // The labels never replace the reports.
  const std::string before = read_text(csv);
  fails_with(label_cmd(csv, csv), {"is the input file"});
  EXPECT_EQ(read_text(csv), before);
}
