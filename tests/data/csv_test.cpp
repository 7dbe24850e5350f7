#include "data/csv.hpp"

#include <gtest/gtest.h>

#include "../test_util.hpp"
#include "core/error.hpp"
#include "core/fs.hpp"

namespace medforget {
namespace {

std::string error_of(const std::string& text, const std::string& source = "data.csv") {
  try {
    parse_csv(text, source);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(Csv, PlainRowsAndHeader) {
  CsvTable t = parse_csv("uid,filename,projection\n1,a.png,Frontal\n2,b.png,Lateral\n", "p.csv");
  EXPECT_EQ(t.header, (std::vector<std::string>{"uid", "filename", "projection"}));
  ASSERT_EQ(t.rows.size(), 2u);
  EXPECT_EQ(t.rows[0].fields, (std::vector<std::string>{"1", "a.png", "Frontal"}));
  EXPECT_EQ(t.rows[0].line, 2);
  EXPECT_EQ(t.rows[1].line, 3);
  EXPECT_EQ(t.at(t.rows[1], "projection"), "Lateral");
  EXPECT_EQ(t.at(t.rows[1], "PROJECTION"), "Lateral");  // case-insensitive column names
  EXPECT_EQ(t.column("filename"), 1);
  EXPECT_EQ(t.column("nope"), -1);
  EXPECT_EQ(t.file, "p.csv");
}

TEST(Csv, QuotedFieldsCommasDoubledQuotesAndNewlines) {
  std::string text =
      "uid,findings,impression\n"
      "1,\"Heart size normal, lungs clear.\",\"No \"\"acute\"\" disease.\"\n"
      "2,\"Line one\nline two\n\nline four\",Normal\n"
      "3,,\"\"\n";
  CsvTable t = parse_csv(text, "r.csv");
  ASSERT_EQ(t.rows.size(), 3u);
  EXPECT_EQ(t.rows[0].fields[1], "Heart size normal, lungs clear.");
  EXPECT_EQ(t.rows[0].fields[2], "No \"acute\" disease.");
  EXPECT_EQ(t.rows[1].fields[1], "Line one\nline two\n\nline four");
  EXPECT_EQ(t.rows[1].line, 3);
  EXPECT_EQ(t.rows[2].line, 7);  // the quoted newlines are counted
  EXPECT_EQ(t.rows[2].fields, (std::vector<std::string>{"3", "", ""}));
}

TEST(Csv, CrlfBomBlankLinesAndNoFinalNewline) {
  std::string text = "\xEF\xBB\xBF uid , name\r\n1,\"a\r\nb\"\r\n\r\n2,c";
  CsvTable t = parse_csv(text, "w.csv");
  EXPECT_EQ(t.header, (std::vector<std::string>{"uid", "name"}));
  ASSERT_EQ(t.rows.size(), 2u);
  EXPECT_EQ(t.rows[0].fields[1], "a\nb");
  EXPECT_EQ(t.rows[1].fields, (std::vector<std::string>{"2", "c"}));
  EXPECT_EQ(t.rows[1].line, 5);
}

TEST(Csv, TrailingEmptyFieldAndQuoteInsideUnquotedField) {
  CsvTable t = parse_csv("a,b,c\n1,2,\nx,5\" tall,z\n", "q.csv");
  ASSERT_EQ(t.rows.size(), 2u);
  EXPECT_EQ(t.rows[0].fields, (std::vector<std::string>{"1", "2", ""}));
  EXPECT_EQ(t.rows[1].fields[1], "5\" tall");
}

TEST(Csv, UnterminatedQuoteNamesFileAndLine) {
  std::string m = error_of("uid,findings\n1,ok\n2,\"never closed\n3,more\n", "indiana_reports.csv");
  EXPECT_NE(m.find("indiana_reports.csv:3"), std::string::npos) << m;
  EXPECT_NE(m.find("unterminated"), std::string::npos) << m;
}

// A quote left open mid-file swallows the line break; the next quote in the
// file then "closes" it one line later. The line named is where it opened.
TEST(Csv, UnterminatedQuoteMidFileNamesTheLineWhereItOpened) {
  std::string m = error_of("uid,findings\n1,ok\n2,\"never closed\n3,\"more\"\n4,fine\n", "reports.csv");
  EXPECT_NE(m.find("reports.csv:3:"), std::string::npos) << m;
  EXPECT_EQ(m.find("reports.csv:4"), std::string::npos) << m;
  EXPECT_NE(m.find("unterminated"), std::string::npos) << m;
  EXPECT_NE(m.find("opened on line 3"), std::string::npos) << m;
  // CRLF files count lines the same way.
  m = error_of("uid,findings\r\n1,ok\r\n2,\"never closed\r\n3,\"more\"\r\n", "crlf.csv");
  EXPECT_NE(m.find("crlf.csv:3:"), std::string::npos) << m;
}

TEST(Csv, CsvLineReadsBackTheSameFields) {
  std::vector<std::string> a{"1", "No effusion, pneumothorax", "say \"no\"", "two\nlines", ""};
  std::vector<std::string> b{"", "plain", " padded ", "x", "y"};
  std::string text = csv_line({"a", "b", "c", "d", "e"}) + csv_line(a) + csv_line(b);
  EXPECT_EQ(csv_line(a), "1,\"No effusion, pneumothorax\",\"say \"\"no\"\"\",\"two\nlines\",\n");
  CsvTable t = parse_csv(text, "w.csv");
  ASSERT_EQ(t.rows.size(), 2u);
  EXPECT_EQ(t.rows[0].fields, a);
  EXPECT_EQ(t.rows[1].fields, b);
}

TEST(Csv, WrongColumnCountNamesLine) {
  std::string m = error_of("a,b,c\n1,2,3\n4,5\n", "x.csv");
  EXPECT_NE(m.find("x.csv:3"), std::string::npos) << m;
  EXPECT_NE(m.find("expected 3 fields"), std::string::npos) << m;
  EXPECT_NE(m.find("found 2"), std::string::npos) << m;
  m = error_of("a,b\n1,2,3\n", "y.csv");
  EXPECT_NE(m.find("y.csv:2"), std::string::npos) << m;
}

TEST(Csv, GarbageAfterClosingQuote) {
  std::string m = error_of("a,b\n\"x\"y,2\n", "g.csv");
  EXPECT_NE(m.find("g.csv:2"), std::string::npos) << m;
  EXPECT_NE(m.find("after a closing quote"), std::string::npos) << m;
}

TEST(Csv, EmptyFileIsAnError) {
  std::string m = error_of("", "empty.csv");
  EXPECT_NE(m.find("empty.csv"), std::string::npos) << m;
  EXPECT_NE(m.find("header"), std::string::npos) << m;
}

TEST(Csv, RequireColumnsNamesEveryMissingColumn) {
  CsvTable t = parse_csv("uid,MeSH,findings\n", "reports.csv");
  EXPECT_NO_THROW(t.require_columns({"uid", "findings"}));
  try {
    t.require_columns({"uid", "impression", "indication"});
    FAIL();
  } catch (const Error& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("reports.csv"), std::string::npos) << m;
    EXPECT_NE(m.find("'impression'"), std::string::npos) << m;
    EXPECT_NE(m.find("'indication'"), std::string::npos) << m;
    EXPECT_EQ(m.find("'uid'"), std::string::npos) << m;
  }
}

TEST(Csv, ReadFromFile) {
  test::TempDir dir;
  write_atomic(dir / "f.csv", std::string("k,v\r\n\"a,b\",1\r\n"));
  CsvTable t = read_csv(dir / "f.csv");
  EXPECT_EQ(t.file, (dir / "f.csv").string());
  ASSERT_EQ(t.rows.size(), 1u);
  EXPECT_EQ(t.rows[0].fields[0], "a,b");
  EXPECT_THROW(read_csv(dir / "missing.csv"), Error);
}

}  // namespace
}  // namespace medforget
