#pragma once
// An offline, deterministic CheXpert-style rule-based labeler for chest
// radiograph report text (the clinical-factuality metric's evidence), and the
// key terms of sections that carry no findings (EXAMINATION, INDICATION, ...).
//
// What it does, in the order the CheXpert labeler does it:
//  1. mention extraction: phrase lists per observation (chexpert_lexicon.cpp)
//     matched on lower-cased alphanumeric tokens, longest phrase first; a few
//     observations are also stated through an attribute of a subject ("heart
//     size is normal", "blunting of the costophrenic angle");
//  2. classification of each mention as negative, uncertain or positive by
//     trigger phrases: a pre-trigger ("no", "without", "possible", ...) scopes
//     over everything after it up to the sentence end, a scope breaker ("but",
//     "however", "which", ...) or a clause verb ("is", "are", ...), so
//     "No effusion, pneumothorax or consolidation." negates all three; a
//     post-trigger ("has resolved", "is not seen", "cannot be excluded")
//     applies to the mentions before it in its clause;
//  3. aggregation per observation: positive beats uncertain beats negative
//     (CheXpert's rule); "CHF"/"heart failure" stated positive or uncertain
//     adds an uncertain Cardiomegaly mention (CheXpert's exception).
//  4. No Finding is Positive when no observation other than Support Devices
//     (including abnormalities outside the 14, e.g. emphysema, scoliosis) is
//     positive or uncertain, as in CheXpert — but only when the text says
//     something clinical at all (some mention, or a normality statement such as
//     "lungs are clear", "no acute process"). CheXpert would mark an empty or
//     purely administrative text "No Finding"; here it stays absent, so that
//     "CHEST (PA AND LAT)" does not count as a findings statement.
//
// Sentences end at '.', ';', '!', '?', ':' and blank lines, never at a single
// newline (wrapped report lines) or a decimal point ("4.5 cm").
#include <array>
#include <string>
#include <vector>

#include "core/json.hpp"
#include "data/findings.hpp"

namespace medforget {

enum class MentionLabel { Absent, Positive, Negative, Uncertain };
// "absent", "positive", "negative", "uncertain".
std::string mention_label_name(MentionLabel l);

struct ChexpertLabels {
  std::array<MentionLabel, kNumObservations> labels{};  // by Observation; Absent by default

  MentionLabel operator[](Observation o) const { return labels[static_cast<size_t>(o)]; }
  MentionLabel& operator[](Observation o) { return labels[static_cast<size_t>(o)]; }
  bool any_mentioned() const;  // some observation (No Finding included) is not Absent
  // {"pleural_effusion": "negative", ...} over the mentioned observations only.
  Json to_json() const;
};

// One classified mention, for explanations and tests. `other` mentions are
// abnormalities outside the 14 observations (they only cancel No Finding).
struct Mention {
  Observation obs = Observation::NoFinding;
  bool other = false;
  MentionLabel label = MentionLabel::Positive;
  std::string phrase;  // the matched tokens, space-joined
  size_t sentence = 0;
  // The evidence: [begin, end) byte offsets in the text of the mention and the
  // trigger that decided its label ("No pleural effusion", "heart is normal").
  size_t begin = 0, end = 0;
};

std::vector<Mention> find_mentions(const std::string& text);
ChexpertLabels label_report(const std::string& text);

// One label of label_report with the text that decided it.
struct FindingEvidence {
  Observation obs = Observation::NoFinding;
  MentionLabel label = MentionLabel::Positive;
  size_t begin = 0, end = 0;  // [begin, end) byte offsets into the labelled text
  std::string text;           // the text at those offsets
};
// label_report's labels that are not Absent, in Observation order, each with
// its evidence: the first mention (with its trigger) carrying the winning
// label; for No Finding the sentence stating normality ("Lungs are clear"),
// else the first mention (all negated) that makes the text a clinical statement.
std::vector<FindingEvidence> label_evidence(const std::string& text);

// Normalised content terms for sections without findings: lower-cased
// alphanumeric tokens in text order, with synonyms folded ("posteroanterior" ->
// "pa", "lat" -> "lateral", "x-ray"/"cxr" -> "radiograph", "s/p" -> "status
// post", "sob" -> "shortness breath", plurals of view/radiograph, ...) and
// stop words removed ("the", "of", "and", "is", ...). "no"/"not" are kept.
std::vector<std::string> key_terms(const std::string& text);

}  // namespace medforget
