#include <gtest/gtest.h>

#include "core/error.hpp"
#include "data/item.hpp"
#include "data/prompts.hpp"
#include "data/tasks.hpp"

using namespace medforget;

TEST(Cloze, PrefersFindingsAndDevicesOverWords) {
  Rng rng(1);
  std::string t = "Moderate right pleural effusion. Endotracheal tube terminates 4 cm above the carina.";
  for (int i = 0; i < 20; ++i) {
    auto s = pick_cloze_span(t, rng);
    EXPECT_EQ(s.category, "device");
    EXPECT_EQ(s.text(), "Endotracheal tube");
    EXPECT_EQ(blank_out(t, s), "Moderate right pleural effusion. [blank] terminates 4 cm above the carina.");
  }
  auto f = pick_cloze_span("No pleural effusion or pneumothorax.", rng);
  EXPECT_EQ(f.category, "finding");
  EXPECT_TRUE(f.text() == "pleural effusion" || f.text() == "pneumothorax") << f.text();
}

TEST(Cloze, FallsBackToLateralityIndicationExamAndWords) {
  Rng rng(2);
  EXPECT_EQ(pick_cloze_span("Evaluate for fever.", rng).text(), "fever");
  EXPECT_EQ(pick_cloze_span("CHEST (PA AND LAT)", rng).category, "exam");
  auto w = pick_cloze_span("Patient comfortable overall.", rng);
  EXPECT_EQ(w.category, "word");
  EXPECT_GE(w.text().size(), 4u);
  EXPECT_THROW(pick_cloze_span("...", rng), Error);
}

TEST(Cloze, WholeWordsOnly) {
  Rng rng(3);
  // "pa" must not match inside "compared" or "opacity".
  auto s = pick_cloze_span("Compared to prior.", rng);
  EXPECT_NE(s.text(), "pa");
}

TEST(Classification, KeyIsSalientSentence) {
  EXPECT_EQ(classification_key("CHEST (PA AND LAT)"), "CHEST (PA AND LAT)");
  std::string f = "The lungs are otherwise clear. No pneumothorax. Moderate right pleural effusion with adjacent atelectasis is "
                  "noted. Heart size is normal.";
  EXPECT_EQ(classification_key(f), "Moderate right pleural effusion with adjacent atelectasis is noted.");
  EXPECT_EQ(split_sentences("Tube 4.5 cm above carina. 1. Effusion.").size(), 2u);
}

TEST(Classification, ExactlyOneCorrectOption) {
  Rng rng(4);
  std::string text = "Small left pleural effusion. No pneumothorax.";
  std::vector<std::string> pool{"No pneumothorax.", "Small left pleural effusion.", "Large right effusion.",
                                "Cardiomegaly.", "Cardiomegaly", "Right lower lobe pneumonia.", "Pulmonary edema."};
  for (int i = 0; i < 50; ++i) {
    auto c = make_choice("Small left pleural effusion.", text, pool, rng);
    ASSERT_EQ(c.options.size(), 4u);
    EXPECT_EQ(c.options[static_cast<size_t>(c.answer_index)], "Small left pleural effusion.");
    std::set<std::string> norm;
    for (auto& o : c.options) {
      norm.insert(normalize_text(o));
      if (o != "Small left pleural effusion.") {
        EXPECT_EQ(normalize_text(text).find(normalize_text(o)), std::string::npos);
      }
    }
    EXPECT_EQ(norm.size(), 4u);
  }
  EXPECT_THROW(make_choice("A.", "A.", {"B.", "C."}, rng), Error);
}

// An imported section can be as short as an abbreviation: it is its own
// classification key and cloze span, and a short key keeps its distractors
// unless they contain it as a whole word.
TEST(Classification, AbbreviationSectionsYieldTheirTasks) {
  EXPECT_EQ(classification_key("CP"), "CP");
  EXPECT_EQ(classification_key(" TB. "), "TB.");
  EXPECT_TRUE(has_task_content("CP"));
  EXPECT_FALSE(has_task_content("___"));
  EXPECT_FALSE(has_task_content(" . "));
  EXPECT_THROW(classification_key("___"), Error);
  Rng rng(3);
  EXPECT_EQ(pick_cloze_span("CP", rng).text(), "CP");
  const std::vector<std::string> pool{"Evaluate for pneumonia.", "Shortness of breath.",
                                      "Fever and productive cough.", "Preoperative evaluation.",
                                      "Chest pain, rule out acute process.", "CP, a follow-up."};
  for (const char* key : {"A", "CP"}) {
    Choice c = make_choice(key, key, pool, rng);
    ASSERT_EQ(c.options.size(), 4u) << key;
    EXPECT_EQ(c.options[static_cast<size_t>(c.answer_index)], key);
    for (const auto& o : c.options) EXPECT_NE(o, "CP, a follow-up.") << key;  // holds the key as a word
  }
}

TEST(Prompts, FinetuneAndRephraseTemplatesAreDisjoint) {
  std::set<std::string> ft, re;
  for (int s = 0; s < 200; ++s) {
    Rng a(s), b(s);
    ft.insert(generation_question("FINDINGS", PromptStyle::Finetune, a));
    re.insert(generation_question("FINDINGS", PromptStyle::Rephrase, b));
    ft.insert(cloze_question("IMPRESSION", "x [blank]", PromptStyle::Finetune, a));
    re.insert(cloze_question("IMPRESSION", "x [blank]", PromptStyle::Rephrase, b));
    ft.insert(classification_question("FINDINGS", {"a", "b", "c", "d"}, PromptStyle::Finetune, a));
    re.insert(classification_question("FINDINGS", {"a", "b", "c", "d"}, PromptStyle::Rephrase, b));
    for (const char* l : {"institution", "patient", "study"}) {
      ft.insert(identity_question(l, PromptStyle::Finetune, a));
      re.insert(identity_question(l, PromptStyle::Rephrase, b));
    }
  }
  for (const auto& r : re) EXPECT_FALSE(ft.count(r)) << r;
  EXPECT_GE(re.size(), 10u);
  ContextNames n{"Elm Medical Foundation", "Andrew Lewis", "study_chest_xray_001"};
  EXPECT_EQ(context_prefix("institution+patient+study", n),
            "For institution Elm Medical Foundation, patient Andrew Lewis, study study_chest_xray_001: ");
  EXPECT_EQ(context_prefix("none", n), "");
  EXPECT_THROW(context_prefix("ward", n), Error);
}

TEST(Item, JsonRoundTripAndValidation) {
  Item it;
  it.id = "s/findings#classification";
  it.task = "classification";
  it.level = "section";
  it.institution = "inst_01";
  it.patient = "patient_0001";
  it.study = "s";
  it.section = "s/findings";
  it.section_name = "FINDINGS";
  it.anchor = "s/findings";
  it.prompt = "Which?";
  it.options = {"a", "b", "c", "d"};
  it.answer_index = 2;
  it.answer = "c";
  it.image = "images/s.png";
  it.context = "none";
  Json j = item_to_json(it);
  EXPECT_EQ(item_to_json(item_from_json(j, {"f", 1})), j);
  JsonCtx ctx{"f.jsonl", 5};
  Json bad = j;
  bad["answer_index"] = 7;
  EXPECT_THROW(item_from_json(bad, ctx), Error);
  bad = j;
  bad["task"] = "vqa";
  EXPECT_THROW(item_from_json(bad, ctx), Error);
  bad = j;
  bad["answer"] = "d";
  EXPECT_THROW(item_from_json(bad, ctx), Error);
  bad = j;
  bad.erase("prompt");
  try {
    item_from_json(bad, ctx);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("f.jsonl:5: field 'prompt'"), std::string::npos) << e.what();
  }
}
