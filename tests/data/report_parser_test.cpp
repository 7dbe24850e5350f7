// Report parser on hand-written reports in many styles (none from our generator).
#include "data/report_parser.hpp"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "core/error.hpp"

namespace medforget {
namespace {

using Sections = std::vector<std::pair<std::string, std::string>>;

Sections sections_of(const ParsedReport& r) {
  Sections s;
  for (const auto& x : r.sections) s.emplace_back(x.name, x.text);
  return s;
}

void expect_sections(const std::string& text, const Sections& want) {
  ParsedReport r = parse_report(text, "fixture.txt");
  EXPECT_EQ(sections_of(r), want) << text;
}

// 1. MIMIC-CXR: banner, double spaces, ___ de-identification, headers alone on
// their line with a trailing space, body on following lines.
const char* kMimic =
    "                                 FINAL REPORT\n"
    " EXAMINATION:  CHEST (PA AND LAT)\n"
    " \n"
    " INDICATION:  ___F with new onset ascites  // eval for infection\n"
    " \n"
    " TECHNIQUE:  Chest PA and lateral\n"
    " \n"
    " COMPARISON:  None.\n"
    " \n"
    " FINDINGS: \n"
    " \n"
    " There is no focal consolidation, pleural effusion or pneumothorax.  Bilateral\n"
    " nodular opacities that most likely represent nipple shadows. The\n"
    " cardiomediastinal silhouette is normal.\n"
    " \n"
    " IMPRESSION: \n"
    " \n"
    " No acute cardiopulmonary process.\n";

TEST(ReportParser, MimicFinalReport) {
  ParsedReport r = parse_report(kMimic, "files/p10/p10000032/s50414267.txt");
  EXPECT_EQ(
      sections_of(r),
      (Sections{
          {"EXAMINATION", "CHEST (PA AND LAT)"},
          {"INDICATION", "___F with new onset ascites // eval for infection"},
          {"TECHNIQUE", "Chest PA and lateral"},
          {"COMPARISON", "None."},
          {"FINDINGS",
           "There is no focal consolidation, pleural effusion or pneumothorax. Bilateral nodular "
           "opacities that most likely represent nipple shadows. The cardiomediastinal silhouette "
           "is "
           "normal."},
          {"IMPRESSION", "No acute cardiopulmonary process."}}));
  EXPECT_TRUE(r.has_standard_four());
  EXPECT_TRUE(r.missing_standard().empty());
  EXPECT_EQ(r.get("TECHNIQUE"), "Chest PA and lateral");
  EXPECT_EQ(r.source, "files/p10/p10000032/s50414267.txt");
}

// 2. MIMIC with a wet read above a rule, and a NOTIFICATION whose text says
// "findings" mid-sentence.
TEST(ReportParser, MimicWetReadAndNotification) {
  const char* text =
      "WET READ: ___ ___ ___ 3:14 PM\n"
      "  Left lower lobe opacity concerning for pneumonia.\n"
      " ______________________________________________________________________________\n"
      "                                 FINAL REPORT\n"
      " EXAMINATION:  CHEST (PORTABLE AP)\n"
      " \n"
      " INDICATION:  ___M with fever, cough.\n"
      " \n"
      " COMPARISON:  ___\n"
      " \n"
      " FINDINGS: \n"
      " \n"
      " Left lower lobe opacity is new.  No pleural effusion.\n"
      " \n"
      " IMPRESSION: \n"
      " \n"
      " Left lower lobe pneumonia.\n"
      " \n"
      " NOTIFICATION:  The findings were discussed with Dr. ___ by Dr. ___ on the\n"
      " telephone on ___ at 3:20 PM, 5 minutes after discovery of the findings.\n";
  expect_sections(
      text, {{"WET READ", "___ ___ ___ 3:14 PM Left lower lobe opacity concerning for pneumonia."},
             {"EXAMINATION", "CHEST (PORTABLE AP)"},
             {"INDICATION", "___M with fever, cough."},
             {"COMPARISON", "___"},
             {"FINDINGS", "Left lower lobe opacity is new. No pleural effusion."},
             {"IMPRESSION", "Left lower lobe pneumonia."},
             {"NOTIFICATION",
              "The findings were discussed with Dr. ___ by Dr. ___ on the telephone on ___ at 3:20 "
              "PM, 5 minutes after discovery of the findings."}});
}

// 3. Title-case headers inline with their text; Exam and Clinical History synonyms.
TEST(ReportParser, TitleCaseInline) {
  const char* text =
      "Exam: Chest, two views.\n"
      "Clinical History: 64-year-old woman with shortness of breath.\n"
      "Comparison: Chest radiograph from 2019.\n"
      "Findings: The lungs are clear. The heart size is normal.\n"
      "Impression: No acute cardiopulmonary abnormality.\n";
  ParsedReport r = parse_report(text, "t3");
  EXPECT_EQ(sections_of(r),
            (Sections{{"EXAMINATION", "Chest, two views."},
                      {"INDICATION", "64-year-old woman with shortness of breath."},
                      {"COMPARISON", "Chest radiograph from 2019."},
                      {"FINDINGS", "The lungs are clear. The heart size is normal."},
                      {"IMPRESSION", "No acute cardiopulmonary abnormality."}}));
  EXPECT_TRUE(r.has_standard_four());
}

// 4. ALL-CAPS headers alone on a line without a colon; HISTORY -> INDICATION.
TEST(ReportParser, BareCapsHeadersWithoutColon) {
  const char* text =
      "EXAMINATION\n"
      "Chest radiograph, single AP view.\n"
      "\n"
      "HISTORY\n"
      "Intubated patient, line placement.\n"
      "\n"
      "FINDINGS\n"
      "Endotracheal tube terminates 4 cm above the carina.\n"
      "Right internal jugular catheter tip in the SVC.\n"
      "\n"
      "IMPRESSION\n"
      "Lines and tubes in satisfactory position.\n";
  expect_sections(
      text, {{"EXAMINATION", "Chest radiograph, single AP view."},
             {"INDICATION", "Intubated patient, line placement."},
             {"FINDINGS",
              "Endotracheal tube terminates 4 cm above the carina. Right internal jugular catheter "
              "tip in the SVC."},
             {"IMPRESSION", "Lines and tubes in satisfactory position."}});
}

// 5. Title-case bare headers underlined with dashes; Reason for examination,
// Conclusion.
TEST(ReportParser, TitleCaseBareUnderlinedHeaders) {
  const char* text =
      "Examination\n"
      "-----------\n"
      "PA and lateral chest.\n"
      "\n"
      "Reason for examination\n"
      "Chronic cough.\n"
      "\n"
      "Findings\n"
      "--------\n"
      "Hyperinflated lungs with flattened hemidiaphragms.\n"
      "\n"
      "Conclusion\n"
      "----------\n"
      "Emphysema. No acute process.\n";
  expect_sections(text, {{"EXAMINATION", "PA and lateral chest."},
                         {"INDICATION", "Chronic cough."},
                         {"FINDINGS", "Hyperinflated lungs with flattened hemidiaphragms."},
                         {"IMPRESSION", "Emphysema. No acute process."}});
}

// 6. CLINICAL HISTORY and CONCLUSION, sections in an unusual order: the order
// of the report is kept.
TEST(ReportParser, UnusualOrderAndSynonyms) {
  const char* text =
      "CONCLUSION: Small right pleural effusion.\n"
      "CLINICAL HISTORY: Post-operative day 2.\n"
      "EXAM: CHEST AP PORTABLE\n"
      "FINDINGS: Small right pleural effusion with adjacent atelectasis.\n";
  ParsedReport r = parse_report(text, "t6");
  EXPECT_EQ(sections_of(r),
            (Sections{{"IMPRESSION", "Small right pleural effusion."},
                      {"INDICATION", "Post-operative day 2."},
                      {"EXAMINATION", "CHEST AP PORTABLE"},
                      {"FINDINGS", "Small right pleural effusion with adjacent atelectasis."}}));
  EXPECT_TRUE(r.has_standard_four());
}

// 7. Missing sections: has/get/missing_standard.
TEST(ReportParser, MissingSections) {
  ParsedReport r = parse_report(
      "FINDINGS: Heart size normal. Lungs clear.\nIMPRESSION: Normal chest.\n", "iu/CXR1.xml");
  EXPECT_EQ(r.names(), (std::vector<std::string>{"FINDINGS", "IMPRESSION"}));
  EXPECT_FALSE(r.has_standard_four());
  EXPECT_EQ(r.missing_standard(), (std::vector<std::string>{"EXAMINATION", "INDICATION"}));
  EXPECT_TRUE(r.has("FINDINGS"));
  EXPECT_FALSE(r.has("INDICATION"));
  try {
    r.get("INDICATION");
    FAIL() << "get of an absent section must throw";
  } catch (const Error& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("iu/CXR1.xml"), std::string::npos) << m;
    EXPECT_NE(m.find("INDICATION"), std::string::npos) << m;
    EXPECT_NE(m.find("FINDINGS, IMPRESSION"), std::string::npos) << m;
  }
}

// An empty section body counts as missing for the standard four.
TEST(ReportParser, EmptySectionIsNotComplete) {
  ParsedReport r = parse_report(
      "EXAMINATION: Chest.\nINDICATION:\nFINDINGS: Clear.\nIMPRESSION: Normal.\n", "e");
  EXPECT_TRUE(r.has("INDICATION"));
  EXPECT_EQ(r.get("INDICATION"), "");
  EXPECT_FALSE(r.has_standard_four());
  EXPECT_EQ(r.missing_standard(), (std::vector<std::string>{"INDICATION"}));
}

// 8. "findings"/"impression" inside sentences, at a line start without colon,
// and lower-case with a colon are body text, not headers.
TEST(ReportParser, WordsMidSentenceAreNotHeaders) {
  const char* text =
      "INDICATION: Evaluate for pneumonia.\n"
      "FINDINGS: Compared with prior, there are new findings in the right base.\n"
      "Findings are most consistent with aspiration. The impression of the\n"
      "referring clinician is noted. Note the prior findings: stable nodule.\n"
      "impression: see below\n"
      "IMPRESSION: Right basilar aspiration.\n";
  expect_sections(
      text,
      {{"INDICATION", "Evaluate for pneumonia."},
       {"FINDINGS",
        "Compared with prior, there are new findings in the right base. Findings are most "
        "consistent with aspiration. The impression of the referring clinician is noted. Note "
        "the prior findings: stable nodule. impression: see below"},
       {"IMPRESSION", "Right basilar aspiration."}});
}

// 9. Multi-paragraph findings, numbered impression, RECOMMENDATION(S).
TEST(ReportParser, MultiParagraphFindings) {
  const char* text =
      "EXAMINATION: CHEST PA AND LATERAL\n"
      "\n"
      "INDICATION: Follow-up of right upper lobe nodule.\n"
      "\n"
      "FINDINGS:\n"
      "The right upper lobe nodule measures 8 mm, previously 7 mm.\n"
      "\n"
      "The heart is normal in size.   The mediastinal contours are normal.\n"
      "\n"
      "\tNo pleural effusion or pneumothorax.\n"
      "\n"
      "IMPRESSION:\n"
      "1. Slight interval growth of the right upper lobe nodule.\n"
      "2. Recommend CT for further characterization.\n"
      "\n"
      "RECOMMENDATION(S): Chest CT in 3 months.\n";
  expect_sections(
      text,
      {{"EXAMINATION", "CHEST PA AND LATERAL"},
       {"INDICATION", "Follow-up of right upper lobe nodule."},
       {"FINDINGS",
        "The right upper lobe nodule measures 8 mm, previously 7 mm. The heart is normal in "
        "size. The mediastinal contours are normal. No pleural effusion or pneumothorax."},
       {"IMPRESSION",
        "1. Slight interval growth of the right upper lobe nodule. 2. Recommend CT for further "
        "characterization."},
       {"RECOMMENDATION", "Chest CT in 3 months."}});
}

// 10. Everything on one line: headers after a sentence end split the line.
TEST(ReportParser, SingleLineWithInlineHeaders) {
  expect_sections(
      "EXAMINATION: Chest PA. INDICATION: Cough? FINDINGS: No consolidation. IMPRESSION: Normal.",
      {{"EXAMINATION", "Chest PA."},
       {"INDICATION", "Cough?"},
       {"FINDINGS", "No consolidation."},
       {"IMPRESSION", "Normal."}});
}

// 11. BOM, CRLF, tabs, REASON FOR EXAM, COMPARISONS, space before the colon.
TEST(ReportParser, CrlfBomTabsAndVariants) {
  expect_sections(
      "\xEF\xBB\xBFREASON FOR EXAM:\tFever.\r\nCOMPARISONS: None.\r\nFINDINGS :\r\n  Clear\r\n"
      "  lungs.\r\nIMPRESSION: Normal.\r\n",
      {{"INDICATION", "Fever."},
       {"COMPARISON", "None."},
       {"FINDINGS", "Clear lungs."},
       {"IMPRESSION", "Normal."}});
}

// 12. Older MIMIC layout: an un-headed title line before the first header is
// kept as PREAMBLE; no EXAMINATION section.
TEST(ReportParser, OldMimicLayoutWithPreamble) {
  const char* text =
      "                                 FINAL REPORT\n"
      " CHEST RADIOGRAPH PERFORMED ON ___\n"
      " \n"
      " COMPARISON:  Prior exam from ___.\n"
      " \n"
      " CLINICAL HISTORY:  ___-year-old man with chest pain.\n"
      " \n"
      " FINDINGS:  PA and lateral views of the chest were provided.  There is no\n"
      " focal consolidation.\n"
      " \n"
      " IMPRESSION:  No acute intrathoracic process.\n";
  ParsedReport r = parse_report(text, "old.txt");
  EXPECT_EQ(
      sections_of(r),
      (Sections{
          {"PREAMBLE", "CHEST RADIOGRAPH PERFORMED ON ___"},
          {"COMPARISON", "Prior exam from ___."},
          {"INDICATION", "___-year-old man with chest pain."},
          {"FINDINGS",
           "PA and lateral views of the chest were provided. There is no focal consolidation."},
          {"IMPRESSION", "No acute intrathoracic process."}}));
  EXPECT_FALSE(r.has_standard_four());
  EXPECT_EQ(r.missing_standard(), (std::vector<std::string>{"EXAMINATION"}));
}

// 13. MIMIC-III style: two indication headers merge into one INDICATION.
TEST(ReportParser, RepeatedSectionsMerge) {
  const char* text =
      "EXAMINATION: CHEST (PORTABLE AP)\n"
      "UNDERLYING MEDICAL CONDITION:\n"
      "  67 year old man with CHF.\n"
      "REASON FOR THIS EXAMINATION:\n"
      "  eval for effusion\n"
      "FINDINGS: Mild cardiomegaly.\n"
      "IMPRESSION: Cardiomegaly.\n"
      "ADDENDUM: Comparison with prior shows stable heart size.\n"
      "IMPRESSION: Stable cardiomegaly.\n";
  expect_sections(text, {{"EXAMINATION", "CHEST (PORTABLE AP)"},
                         {"INDICATION", "67 year old man with CHF. eval for effusion"},
                         {"FINDINGS", "Mild cardiomegaly."},
                         {"IMPRESSION", "Cardiomegaly. Stable cardiomegaly."},
                         {"ADDENDUM", "Comparison with prior shows stable heart size."}});
}

// 14. Summary -> IMPRESSION; Wet Read in title case; two headers on one line.
TEST(ReportParser, SummaryAndStackedHeaders) {
  expect_sections(
      "Wet Read: Possible small effusion.\nExamination: Chest AP.\nIndication: Dyspnea.\n"
      "FINDINGS: IMPRESSION: Small left effusion.\nSummary: Small left pleural effusion.\n",
      {{"WET READ", "Possible small effusion."},
       {"EXAMINATION", "Chest AP."},
       {"INDICATION", "Dyspnea."},
       {"FINDINGS", ""},
       {"IMPRESSION", "Small left effusion. Small left pleural effusion."}});
}

// 15. No recognisable section: Error naming the source and what was expected.
TEST(ReportParser, NoSectionsIsAnErrorNamingTheSource) {
  for (const std::string& text :
       {std::string("The lungs are clear. No acute findings.\n"), std::string(""),
        std::string("                                 FINAL REPORT\n")}) {
    try {
      parse_report(text, "reports/free_text_17.txt");
      FAIL() << "expected an Error for: " << text;
    } catch (const Error& e) {
      std::string m = e.what();
      EXPECT_NE(m.find("reports/free_text_17.txt"), std::string::npos) << m;
      EXPECT_NE(m.find("FINDINGS"), std::string::npos) << m;
      EXPECT_NE(m.find("no recognisable report section"), std::string::npos) << m;
    }
  }
}

// 16. A combined "FINDINGS AND IMPRESSION" section is kept under its own name
// (not split, not appended to COMPARISON), so the study lacks the standard four.
TEST(ReportParser, CombinedFindingsAndImpression) {
  ParsedReport r = parse_report(
      "EXAMINATION: CHEST (PORTABLE AP)\nINDICATION: ___ with hypoxia\nCOMPARISON: ___\n"
      "FINDINGS AND IMPRESSION:\nNew right pleural effusion.\n",
      "c.txt");
  EXPECT_EQ(sections_of(r), (Sections{{"EXAMINATION", "CHEST (PORTABLE AP)"},
                                      {"INDICATION", "___ with hypoxia"},
                                      {"COMPARISON", "___"},
                                      {"FINDINGS AND IMPRESSION", "New right pleural effusion."}}));
  EXPECT_EQ(r.missing_standard(), (std::vector<std::string>{"FINDINGS", "IMPRESSION"}));
}

TEST(ReportParser, CanonicalNames) {
  EXPECT_EQ(canonical_section_name("Clinical History"), "INDICATION");
  EXPECT_EQ(canonical_section_name("REASON FOR EXAMINATION:"), "INDICATION");
  EXPECT_EQ(canonical_section_name(" history "), "INDICATION");
  EXPECT_EQ(canonical_section_name("Conclusion"), "IMPRESSION");
  EXPECT_EQ(canonical_section_name("FINDING"), "FINDINGS");
  EXPECT_EQ(canonical_section_name("Comparisons"), "COMPARISON");
  EXPECT_EQ(canonical_section_name("wet read"), "WET READ");
  EXPECT_EQ(canonical_section_name("Recommendations"), "RECOMMENDATION");
  EXPECT_EQ(canonical_section_name("EXAM"), "EXAMINATION");
  EXPECT_FALSE(canonical_section_name("Discussion").has_value());
  EXPECT_EQ(standard_sections(),
            (std::vector<std::string>{"EXAMINATION", "INDICATION", "FINDINGS", "IMPRESSION"}));
}

TEST(ReportParser, FormatRoundTrips) {
  ParsedReport r = parse_report(kMimic, "m");
  std::string canon = format_report(r.sections);
  EXPECT_EQ(canon.substr(0, 51), "EXAMINATION: CHEST (PA AND LAT)\nINDICATION: ___F wi");
  ParsedReport back = parse_report(canon, "m2");
  EXPECT_EQ(sections_of(back), sections_of(r));
}

// A field that repeats its own header (an IU indication column holding
// "INDICATION: ...") loses that header, and only that one.
TEST(ReportParser, StripOwnHeader) {
  EXPECT_EQ(strip_own_header("INDICATION: Chest pain.", "INDICATION"), "Chest pain.");
  EXPECT_EQ(strip_own_header("  Indication : Chest pain.", "INDICATION"), "Chest pain.");
  EXPECT_EQ(strip_own_header("indication:cough", "INDICATION"), "cough");
  EXPECT_EQ(strip_own_header("Clinical history: smoker", "INDICATION"), "smoker");
  EXPECT_EQ(strip_own_header("INDICATION: INDICATION: CP", "INDICATION"), "CP");
  EXPECT_EQ(strip_own_header("Findings: Clear lungs.", "FINDINGS"), "Clear lungs.");
  EXPECT_EQ(strip_own_header("Conclusion: Normal.", "IMPRESSION"), "Normal.");
  EXPECT_EQ(strip_own_header("INDICATION:", "INDICATION"), "");
  // Another section's header, a header word without a colon, or a longer word stay.
  EXPECT_EQ(strip_own_header("IMPRESSION: Normal.", "FINDINGS"), "IMPRESSION: Normal.");
  EXPECT_EQ(strip_own_header("Indication of heart failure.", "INDICATION"),
            "Indication of heart failure.");
  EXPECT_EQ(strip_own_header("Findingsx: a", "FINDINGS"), "Findingsx: a");
  EXPECT_EQ(strip_own_header("Cough. INDICATION: x", "INDICATION"), "Cough. INDICATION: x");
}

}  // namespace
}  // namespace medforget
