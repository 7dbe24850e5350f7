// The CheXpert-style labeler (eval/chexpert_labeler.hpp): real radiology
// sentences with exact labels, and the project's own report writer.
#include "eval/chexpert_labeler.hpp"

#include <gtest/gtest.h>

#include <map>

#include "core/rng.hpp"
#include "data/clinical_course.hpp"
#include "data/report_parser.hpp"
#include "data/report_writer.hpp"

using namespace medforget;

namespace {

using O = Observation;
using L = MentionLabel;
using Expect = std::map<O, L>;

// Every observation not named in `expect` must be Absent.
void expect_labels(const std::string& text, const Expect& expect) {
  ChexpertLabels got = label_report(text);
  for (O o : all_observations()) {
    auto it = expect.find(o);
    L want = it == expect.end() ? L::Absent : it->second;
    EXPECT_EQ(mention_label_name(got[o]), mention_label_name(want))
        << observation_key(o) << " in: " << text << "\n  got " << got.to_json().dump();
  }
}

}  // namespace

TEST(ChexpertLabeler, PreNegationScopesOverAList) {
  expect_labels("No focal consolidation, pleural effusion or pneumothorax.",
                {{O::Consolidation, L::Negative},
                 {O::PleuralEffusion, L::Negative},
                 {O::Pneumothorax, L::Negative},
                 {O::NoFinding, L::Positive}});
  expect_labels("There is no evidence of pulmonary edema, effusion, or pneumothorax.",
                {{O::Edema, L::Negative},
                 {O::PleuralEffusion, L::Negative},
                 {O::Pneumothorax, L::Negative},
                 {O::NoFinding, L::Positive}});
  expect_labels("Lungs are clear of consolidation.",
                {{O::Consolidation, L::Negative}, {O::NoFinding, L::Positive}});
  expect_labels("No acute displaced rib fracture.",
                {{O::Fracture, L::Negative}, {O::NoFinding, L::Positive}});
  expect_labels("No definite focal consolidation.",
                {{O::Consolidation, L::Negative}, {O::NoFinding, L::Positive}});
}

TEST(ChexpertLabeler, ScopeBreakersAndClauses) {
  expect_labels("Bibasilar atelectasis, but no consolidation.",
                {{O::Atelectasis, L::Positive}, {O::Consolidation, L::Negative}});
  expect_labels("No pleural effusion is present but there is a small pneumothorax.",
                {{O::PleuralEffusion, L::Negative}, {O::Pneumothorax, L::Positive}});
  expect_labels("There is no pleural effusion and the heart size is enlarged.",
                {{O::PleuralEffusion, L::Negative}, {O::Cardiomegaly, L::Positive}});
  expect_labels("There is a small left effusion and no pneumothorax.",
                {{O::PleuralEffusion, L::Positive}, {O::Pneumothorax, L::Negative}});
  expect_labels("There is no evidence of pneumothorax following line placement.",
                {{O::Pneumothorax, L::Negative},
                 {O::SupportDevices, L::Positive},
                 {O::NoFinding, L::Positive}});
  // Edema is positive through "vascular congestion" although "overt edema" is negated:
  // CheXpert lets a positive mention win.
  expect_labels("Mild pulmonary vascular congestion without overt edema.",
                {{O::Edema, L::Positive}});
}

TEST(ChexpertLabeler, PostNegation) {
  expect_labels("The previously seen right pneumothorax has resolved.",
                {{O::Pneumothorax, L::Negative}, {O::NoFinding, L::Positive}});
  expect_labels("No pneumothorax is seen.",
                {{O::Pneumothorax, L::Negative}, {O::NoFinding, L::Positive}});
  expect_labels("Previously seen left basilar consolidation is no longer visualized.",
                {{O::Consolidation, L::Negative}, {O::NoFinding, L::Positive}});
  expect_labels("Effusion and pneumothorax have resolved and the heart is enlarged.",
                {{O::PleuralEffusion, L::Negative},
                 {O::Pneumothorax, L::Negative},
                 {O::Cardiomegaly, L::Positive}});
  expect_labels("The ET tube has been removed.",
                {{O::SupportDevices, L::Negative}, {O::NoFinding, L::Positive}});
  expect_labels("Interval removal of the endotracheal tube.",
                {{O::SupportDevices, L::Negative}, {O::NoFinding, L::Positive}});
  expect_labels("Pneumonia is unlikely.",
                {{O::Pneumonia, L::Negative}, {O::NoFinding, L::Positive}});
  // "No change" asserts the effusion is still there.
  expect_labels("No change in the small left pleural effusion.",
                {{O::PleuralEffusion, L::Positive}});
}

TEST(ChexpertLabeler, Uncertainty) {
  expect_labels("Possible small left effusion.", {{O::PleuralEffusion, L::Uncertain}});
  expect_labels("Cannot exclude early pneumonia.", {{O::Pneumonia, L::Uncertain}});
  expect_labels("Pneumothorax cannot be excluded.", {{O::Pneumothorax, L::Uncertain}});
  expect_labels("Findings suggestive of mild interstitial edema.", {{O::Edema, L::Uncertain}});
  expect_labels("Questionable retrocardiac opacity.", {{O::LungOpacity, L::Uncertain}});
  expect_labels("Atelectasis is likely.", {{O::Atelectasis, L::Uncertain}});
  expect_labels("Atelectasis versus consolidation at the left base.",
                {{O::Atelectasis, L::Uncertain}, {O::Consolidation, L::Uncertain}});
  // The opacity is asserted; what it may represent is not.
  expect_labels("Left lower lobe opacity may represent atelectasis or pneumonia.",
                {{O::LungOpacity, L::Positive},
                 {O::Atelectasis, L::Uncertain},
                 {O::Pneumonia, L::Uncertain}});
  expect_labels("Right lower lobe consolidation, consistent with pneumonia.",
                {{O::Consolidation, L::Positive}, {O::Pneumonia, L::Positive}});
  // CheXpert's exception: CHF also makes Cardiomegaly uncertain.
  expect_labels("Findings concerning for CHF.",
                {{O::Edema, L::Uncertain}, {O::Cardiomegaly, L::Uncertain}});
}

TEST(ChexpertLabeler, HeartMediastinumAndCostophrenicAttributes) {
  expect_labels("Heart size is normal.",
                {{O::Cardiomegaly, L::Negative}, {O::NoFinding, L::Positive}});
  expect_labels("The heart is not enlarged.",
                {{O::Cardiomegaly, L::Negative}, {O::NoFinding, L::Positive}});
  expect_labels("Stable moderate cardiomegaly.", {{O::Cardiomegaly, L::Positive}});
  expect_labels("Enlarged cardiac silhouette.", {{O::Cardiomegaly, L::Positive}});
  expect_labels("Heart size is mildly enlarged.", {{O::Cardiomegaly, L::Positive}});
  expect_labels("The cardiomediastinal silhouette is within normal limits.",
                {{O::EnlargedCardiomediastinum, L::Negative}, {O::NoFinding, L::Positive}});
  expect_labels("Widened mediastinum.", {{O::EnlargedCardiomediastinum, L::Positive}});
  expect_labels("Normal heart size and enlarged mediastinum.",
                {{O::Cardiomegaly, L::Negative}, {O::EnlargedCardiomediastinum, L::Positive}});
  expect_labels(
      "The heart is normal in size. The mediastinum is unremarkable. The lungs are clear.",
      {{O::Cardiomegaly, L::Negative},
       {O::EnlargedCardiomediastinum, L::Negative},
       {O::NoFinding, L::Positive}});
  expect_labels("Costophrenic angles are sharp.",
                {{O::PleuralEffusion, L::Negative}, {O::NoFinding, L::Positive}});
  expect_labels("Blunting of the right costophrenic angle.", {{O::PleuralEffusion, L::Positive}});
  // A subject without a qualifier is no mention.
  expect_labels("Heart size cannot be assessed.", {});
}

TEST(ChexpertLabeler, FindingsAndDevices) {
  expect_labels("Right IJ catheter tip in the mid SVC.",
                {{O::SupportDevices, L::Positive}, {O::NoFinding, L::Positive}});
  expect_labels("ET tube tip is 4.5 cm above the carina. NG tube tip is in the stomach.",
                {{O::SupportDevices, L::Positive}, {O::NoFinding, L::Positive}});
  expect_labels("Moderate right pleural effusion with adjacent compressive atelectasis.",
                {{O::PleuralEffusion, L::Positive}, {O::Atelectasis, L::Positive}});
  expect_labels("A 1.5 cm nodule in the right upper lobe.", {{O::LungLesion, L::Positive}});
  expect_labels("Healed left rib fractures.", {{O::Fracture, L::Positive}});
  expect_labels("Right-sided pleural thickening.", {{O::PleuralOther, L::Positive}});
  expect_labels("Pulmonary edema has resolved.",
                {{O::Edema, L::Negative}, {O::NoFinding, L::Positive}});
  expect_labels(
      "Patchy airspace opacities in both lung bases, which could represent aspiration or "
      "infection.",
      {{O::LungOpacity, L::Positive}, {O::Pneumonia, L::Uncertain}});
  expect_labels(
      "Heart size is mildly enlarged. There is mild pulmonary edema with small bilateral pleural "
      "effusions. Left retrocardiac opacity likely reflects atelectasis, though pneumonia cannot "
      "be excluded.",
      {{O::Cardiomegaly, L::Positive},
       {O::Edema, L::Positive},
       {O::PleuralEffusion, L::Positive},
       {O::LungOpacity, L::Positive},
       {O::Atelectasis, L::Uncertain},
       {O::Pneumonia, L::Uncertain}});
}

TEST(ChexpertLabeler, NoFindingFollowsCheXpert) {
  expect_labels("Lungs are clear. No acute cardiopulmonary process.",
                {{O::NoFinding, L::Positive}});
  expect_labels("No radiographic evidence of acute cardiopulmonary disease.",
                {{O::NoFinding, L::Positive}});
  // Support devices do not cancel No Finding; pathology outside the 14 does.
  expect_labels("Lines and tubes in standard position.",
                {{O::SupportDevices, L::Positive}, {O::NoFinding, L::Positive}});
  expect_labels("Emphysema. No acute process.", {});
  expect_labels("Calcified granuloma in the right upper lobe. Otherwise normal chest.", {});
  // Nothing clinical: not a No Finding statement (CheXpert would say Positive).
  expect_labels("CHEST (PA AND LAT)", {});
  expect_labels("", {});
}

TEST(ChexpertLabeler, SentenceSplitting) {
  // A wrapped line does not end the sentence; a decimal point does not either.
  expect_labels("No focal consolidation, pleural\neffusion or pneumothorax.",
                {{O::Consolidation, L::Negative},
                 {O::PleuralEffusion, L::Negative},
                 {O::Pneumothorax, L::Negative},
                 {O::NoFinding, L::Positive}});
  // The negation ends with its sentence (numbered impression).
  expect_labels("1. No pneumothorax.\n2. Small left pleural effusion.",
                {{O::Pneumothorax, L::Negative}, {O::PleuralEffusion, L::Positive}});
  auto ms = find_mentions("No effusion. Possible pneumonia.");
  ASSERT_EQ(ms.size(), 2u);
  EXPECT_EQ(ms[0].obs, O::PleuralEffusion);
  EXPECT_EQ(ms[0].phrase, "effusion");
  EXPECT_EQ(ms[0].sentence, 0u);
  EXPECT_EQ(ms[1].label, L::Uncertain);
  EXPECT_EQ(ms[1].sentence, 1u);
}

TEST(ChexpertLabeler, WriterSentences) {
  // Phrasings of src/data/report_phrases.cpp, as the writer fills them in.
  expect_labels(
      "Blunting of the left costophrenic angle may reflect a small left pleural effusion.",
      {{O::PleuralEffusion, L::Positive}});
  expect_labels("A small left pleural effusion cannot be excluded.",
                {{O::PleuralEffusion, L::Uncertain}});
  expect_labels("Questionable small left pneumothorax; attention on follow-up is recommended.",
                {{O::Pneumothorax, L::Uncertain}});
  expect_labels("Ill-defined left basilar opacity; pneumonia is a consideration.",
                {{O::LungOpacity, L::Positive}, {O::Pneumonia, L::Uncertain}});
  expect_labels("Interval resolution of the previously seen left lower lobe consolidation.",
                {{O::Consolidation, L::Negative}, {O::NoFinding, L::Positive}});
  expect_labels("Mild enlargement of the cardiomediastinal silhouette.",
                {{O::EnlargedCardiomediastinum, L::Positive}});
  expect_labels("Heart size is normal. Mediastinal and hilar contours are unremarkable.",
                {{O::Cardiomegaly, L::Negative},
                 {O::EnlargedCardiomediastinum, L::Negative},
                 {O::NoFinding, L::Positive}});
  expect_labels("Left-sided pacemaker has leads in standard position.",
                {{O::SupportDevices, L::Positive}, {O::NoFinding, L::Positive}});
  expect_labels("Chronic compression fracture of a thoracic vertebral body.",
                {{O::Fracture, L::Positive}});
  expect_labels("Right calcified pleural plaques.", {{O::PleuralOther, L::Positive}});
}

// Across 600 written reports, FINDINGS labels agree with the findings they were
// written from. Known, CheXpert-consistent departures are allowed: the writer
// states certain pneumonia as "concerning for pneumonia" / "likely pneumonia",
// adds "infection cannot be excluded" to uncertain atelectasis, and words some
// uncertain effusions / edema with positive signs (blunting, vascular congestion).
TEST(ChexpertLabeler, AgreesWithReportWriterGroundTruth) {
  Rng rng(123);
  int reports = 0, exact = 0;
  for (int p = 0; p < 150; ++p) {
    Rng pr = rng.fork("patient" + std::to_string(p));
    Rng style_rng = pr.fork("style");
    ReportStyle style = ReportStyle::sample(style_rng);
    int age = static_cast<int>(pr.randint(25, 90));
    auto plan = plan_patient_studies(4, age, pr);
    for (size_t i = 0; i < plan.size(); ++i) {
      StudyContext c;
      c.exam = plan[i].exam;
      c.indication = plan[i].indication;
      c.age = age;
      if (i > 0) {
        c.prior_date = plan[i - 1].date;
        c.prior_findings = plan[i - 1].findings;
      }
      Rng wr = pr.fork("report" + std::to_string(i));
      std::string rep = write_report(plan[i].findings, c, style, wr);
      std::string findings = parse_report(rep, "writer").get("FINDINGS");
      ChexpertLabels got = label_report(findings);
      std::map<O, Certainty> truth;
      for (const auto& f : plan[i].findings)
        if (!truth.count(f.obs) || f.certainty == Certainty::Present) truth[f.obs] = f.certainty;
      bool all_exact = true;
      for (O o : all_observations()) {
        L l = got[o];
        auto it = truth.find(o);
        L want = it == truth.end()                  ? L::Absent
                 : it->second == Certainty::Present ? L::Positive
                                                    : L::Uncertain;
        all_exact &= want == L::Absent ? (l == L::Absent || l == L::Negative) : l == want;
        if (want == L::Positive) {
          bool ok = l == L::Positive || (o == O::Pneumonia && l == L::Uncertain);
          EXPECT_TRUE(ok) << observation_key(o) << " present but " << mention_label_name(l) << ":\n"
                          << findings;
        } else if (want == L::Uncertain) {
          EXPECT_TRUE(l == L::Uncertain || l == L::Positive)
              << observation_key(o) << " uncertain but " << mention_label_name(l) << ":\n"
              << findings;
        } else {
          EXPECT_NE(l, L::Positive) << observation_key(o) << " absent but positive:\n" << findings;
          if (o != O::Pneumonia) {
            EXPECT_NE(l, L::Uncertain) << observation_key(o) << " absent but uncertain:\n"
                                       << findings;
          }
        }
      }
      exact += all_exact;
      ++reports;
      if (::testing::Test::HasFailure()) return;
    }
  }
  EXPECT_EQ(reports, 600);
  EXPECT_GE(exact, 520) << "reports whose 14 labels all match the ground truth (541 when written)";
}

TEST(KeyTerms, NormalisesAndFoldsSynonyms) {
  EXPECT_EQ(key_terms("CHEST (PA AND LAT)"), (std::vector<std::string>{"chest", "pa", "lateral"}));
  EXPECT_EQ(key_terms("Posteroanterior and lateral views of the chest."),
            (std::vector<std::string>{"pa", "lateral", "view", "chest"}));
  EXPECT_EQ(key_terms("Portable AP chest X-ray"),
            (std::vector<std::string>{"portable", "ap", "chest", "radiograph"}));
  EXPECT_EQ(key_terms("68-year-old woman, s/p CABG. SOB."),
            (std::vector<std::string>{"68", "year", "old", "female", "status", "post", "cabg",
                                      "shortness", "breath"}));
  EXPECT_EQ(key_terms("No prior studies."), (std::vector<std::string>{"no", "prior", "study"}));
  EXPECT_TRUE(key_terms("the of and .").empty());
}

namespace {

std::map<O, FindingEvidence> evidence_of(const std::string& text) {
  std::map<O, FindingEvidence> m;
  for (const auto& e : label_evidence(text)) m[e.obs] = e;
  return m;
}

}  // namespace

// Each label comes with the text that decided it: the mention and its trigger,
// as byte offsets into the text and as the text at those offsets.
TEST(ChexpertLabeler, EvidenceSpansNameTheTextThatDecidedEachLabel) {
  const std::string text =
      "Heart size is normal. No pleural effusion or\npneumothorax.\n\n"
      "The left effusion has resolved. Possible right lower lobe pneumonia.";
  auto ev = evidence_of(text);
  ChexpertLabels labels = label_report(text);
  for (O o : all_observations()) {
    ASSERT_EQ(ev.count(o) == 1, labels[o] != L::Absent) << observation_key(o);
    if (!ev.count(o)) continue;
    const FindingEvidence& e = ev[o];
    EXPECT_EQ(mention_label_name(e.label), mention_label_name(labels[o])) << observation_key(o);
    ASSERT_LE(e.begin, e.end);
    ASSERT_LE(e.end, text.size());
    EXPECT_EQ(text.substr(e.begin, e.end - e.begin), e.text) << observation_key(o);
  }
  EXPECT_EQ(ev[O::Cardiomegaly].text, "Heart size is normal");
  EXPECT_EQ(ev[O::Cardiomegaly].begin, 0u);
  EXPECT_EQ(ev[O::PleuralEffusion].label, L::Negative);
  EXPECT_EQ(ev[O::PleuralEffusion].text, "No pleural effusion");  // the first negative mention
  EXPECT_EQ(ev[O::PleuralEffusion].begin, 22u);
  EXPECT_EQ(ev[O::Pneumothorax].text, "No pleural effusion or\npneumothorax");  // one scope over a list
  EXPECT_EQ(ev[O::Pneumonia].label, L::Uncertain);
  EXPECT_EQ(ev[O::Pneumonia].text, "Possible right lower lobe pneumonia");
  EXPECT_FALSE(ev.count(O::NoFinding));  // pneumonia is uncertain

  // A post-trigger is part of the evidence; No Finding cites the normality statement.
  ev = evidence_of("Lungs are clear. The effusion has resolved.");
  EXPECT_EQ(ev[O::PleuralEffusion].text, "effusion has resolved");
  ASSERT_TRUE(ev.count(O::NoFinding));
  EXPECT_EQ(ev[O::NoFinding].label, L::Positive);
  EXPECT_EQ(ev[O::NoFinding].text, "Lungs are clear");
  // Offsets are bytes: text before a mention may be multi-byte UTF-8.
  const std::string utf8 = "Befund (Größe normal): small left pneumothorax.";
  ev = evidence_of(utf8);
  ASSERT_TRUE(ev.count(O::Pneumothorax));
  EXPECT_EQ(utf8.substr(ev[O::Pneumothorax].begin, ev[O::Pneumothorax].end - ev[O::Pneumothorax].begin),
            "pneumothorax");
  EXPECT_TRUE(label_evidence("").empty());
  EXPECT_TRUE(label_evidence("CHEST (PA AND LAT)").empty());
}
