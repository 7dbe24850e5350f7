// The phrase bank of the report writer: several synonymous phrasings per
// statement. A house style (ReportStyle::phrasing) prefers a subset of each.
// Placeholders: {np} noun phrase, {a_np} with its article, {a_new_np} "a new ...", {np0} without
// the severity, {sev}, {lat}, {lz} laterality + zone as a noun ("right lower lobe"), {lz_adj} as an
// adjective ("right basilar"), {det}, {size}, {kind}, {suffix}, {pos}, {cm}, {loc}, {date}, {list},
// {exam}. Sentences never start with a section-header word (Findings, Comparison, ...), so a
// wrapped line cannot be mistaken for a header.
#include <map>

#include "core/error.hpp"
#include "data/report_writer.hpp"

namespace medforget {

namespace {

using Bank = std::vector<std::pair<std::string, std::vector<std::string>>>;

const Bank& bank() {
  static const Bank b{
      // How a present finding is stated.
      {"present_full",
       {"There is {a_np}{suffix}.", "{a_np} is present{suffix}.", "{a_np} is seen{suffix}.",
        "{a_np} is noted{suffix}."}},
      {"present_tele", {"{np}{suffix}."}},
      {"new",
       {"New {np}{suffix}.", "Interval development of {a_np}{suffix}.",
        "There is {a_new_np}{suffix}."}},
      {"stable_acute",
       {"Persistent {np}{suffix}.", "Unchanged {np}{suffix}.", "Again seen is {a_np}{suffix}.",
        "There is persistent {np}{suffix}."}},
      {"stable_chronic",
       {"Stable {np}{suffix}.", "Unchanged {np}{suffix}.", "Again seen is {a_np}{suffix}.",
        "{a_np} is unchanged{suffix}."}},
      {"increased",
       {"Interval increase in the {np0}, now {sev}{suffix}.",
        "The {np0} has increased in size and is now {sev}{suffix}.", "Worsening {np}{suffix}."}},
      {"decreased",
       {"Interval decrease in the {np0}, now {sev}{suffix}.",
        "The {np0} has decreased in size and is now {sev}{suffix}.", "Improving {np}{suffix}.",
        "Decreased {np0}, now {sev}{suffix}."}},
      {"worsened",
       {"Worsening {np}{suffix}.", "Interval worsening of {np0}, now {sev}{suffix}.",
        "The {np0} has worsened and is now {sev}{suffix}."}},
      {"improved",
       {"Improving {np}{suffix}.", "Interval improvement in {np0}, now {sev}{suffix}.",
        "The {np0} has improved and is now {sev}{suffix}."}},
      {"resolved",
       {"Interval resolution of the previously seen {np}.",
        "The previously noted {np} has resolved.", "Previously seen {np} is no longer visualized.",
        "The {np} has resolved."}},
      {"removed",
       {"Interval removal of the {np}.", "The {np} has been removed.",
        "The previously seen {np} has been removed."}},
      // Devices.
      {"device_none",
       {"{np} {pos}.", "{a_np} is present and {pos}.", "There is {a_np}, which {pos}."}},
      {"device_new",
       {"Interval placement of {a_np}, which {pos}.", "New {np} {pos}.",
        "{a_np} has been placed and {pos}."}},
      {"device_stable",
       {"{np} remains in place and {pos}.", "Unchanged position of the {np}, which {pos}.",
        "{np} is unchanged and {pos}."}},
      {"ett_pos",
       {"terminates {cm} cm above the carina", "has its tip {cm} cm above the carina",
        "ends approximately {cm} cm above the carina"}},
      {"ngt_pos",
       {"courses below the diaphragm with the tip in the stomach", "terminates in the stomach",
        "extends into the stomach"}},
      {"line_pos", {"terminates in the {loc}", "has its tip in the {loc}", "ends in the {loc}"}},
      {"pacer_pos",
       {"has leads terminating in the right atrium and right ventricle",
        "has leads in standard position", "has leads in the expected positions"}},
      {"np_ett", {"endotracheal tube", "ET tube"}},
      {"np_ngt", {"nasogastric tube", "NG tube"}},
      {"np_ij",
       {"{lat} internal jugular central line", "{lat} IJ central venous catheter",
        "{lat} internal jugular central venous catheter"}},
      {"np_picc", {"{lat} PICC", "{lat}-sided PICC line", "{lat} upper extremity PICC"}},
      {"np_pacer",
       {"{lat}-sided pacemaker", "{lat} chest wall pacemaker", "{lat}-sided dual-lead pacemaker"}},
      // Findings as noun phrases.
      {"np_effusion",
       {"{sev} {lat} pleural effusion", "{sev} {lat}-sided pleural effusion",
        "{sev} {lat} effusion"}},
      {"np_effusion_bilat",
       {"{sev} bilateral pleural effusions", "{sev} bilateral effusions",
        "bilateral {sev} pleural effusions"}},
      {"np_ptx",
       {"{sev} {lat} pneumothorax", "{sev} {lat} apical pneumothorax",
        "{sev} {lat}-sided pneumothorax"}},
      {"np_edema",
       {"{sev} {lat} pulmonary edema", "{sev} {lat} interstitial pulmonary edema",
        "{sev} {lat} pulmonary interstitial edema"}},
      {"np_cardiomegaly",
       {"{sev} cardiomegaly", "{sev} enlargement of the cardiac silhouette",
        "{sev} cardiac enlargement"}},
      {"np_ecm",
       {"{sev} widening of the mediastinum", "{sev} mediastinal widening",
        "{sev} enlargement of the cardiomediastinal silhouette"}},
      {"np_consolidation",
       {"{lz_adj} consolidation", "consolidation in the {lz}", "focal consolidation in the {lz}"}},
      {"np_opacity",
       {"patchy {lz_adj} opacity", "{lz_adj} airspace opacity", "ill-defined opacity in the {lz}"}},
      {"np_atelectasis",
       {"{sev} {lz_adj} atelectasis", "{sev} plate-like atelectasis in the {lz}",
        "{sev} {lz_adj} subsegmental atelectasis"}},
      {"np_lesion",
       {"{size} {lz_adj} {kind}", "{size} {kind} in the {lz}",
        "{size} {kind} projecting over the {lz}"}},
      {"np_pleural_other", {"{lat} {det}", "{lat}-sided {det}"}},
      {"np_fracture_rib",
       {"healed {lat} {det} fracture", "old {lat} {det} fracture",
        "remote fracture of the {lat} {det}"}},
      {"np_fracture_spine",
       {"chronic compression fracture of a {det}", "old compression fracture of a mid {det}"}},
      {"sfx_pneumonia",
       {", concerning for pneumonia", ", consistent with pneumonia", ", compatible with pneumonia",
        ", likely pneumonia"}},
      {"sfx_compressive",
       {" with adjacent {sev} compressive atelectasis", " with {sev} adjacent atelectasis",
        ", with {sev} associated {lz_adj} atelectasis"}},
      // Uncertain findings.
      {"unc_effusion",
       {"Blunting of the {lat} costophrenic angle may reflect {a_np}.", "Possible {np}.",
        "{a_np} cannot be excluded."}},
      {"unc_ptx",
       {"Possible {np}.", "There may be {a_np}.",
        "Questionable {np}; attention on follow-up is recommended."}},
      {"unc_edema",
       {"Possible {np}.", "Pulmonary vascular congestion, possibly with {np}.",
        "Prominent interstitial markings may reflect {np}."}},
      {"unc_atelectasis",
       {"Patchy {lz_adj} opacity may reflect {sev} atelectasis, though infection cannot be "
        "excluded.",
        "{lz_adj} opacity, likely {sev} atelectasis, although infection is not excluded.",
        "Streaky {lz_adj} opacity most likely reflects {sev} atelectasis; superimposed infection "
        "cannot be excluded."}},
      {"unc_pneumonia",
       {"Patchy opacity in the {lz} may represent early pneumonia.",
        "{lz_adj} opacity, possibly pneumonia in the appropriate clinical setting.",
        "Ill-defined {lz_adj} opacity; pneumonia is a consideration."}},
      {"unc_generic", {"Possible {np}.", "Questionable {np}."}},
      // Normal statements and negatives.
      {"lungs_clear",
       {"The lungs are clear.", "Lungs are clear.", "The lungs are well expanded and clear.",
        "Lungs are clear bilaterally."}},
      {"lungs_otherwise_clear",
       {"The lungs are otherwise clear.", "Lungs are otherwise clear.",
        "Otherwise, the lungs are clear."}},
      {"cardiomediastinal_normal",
       {"The cardiomediastinal silhouette is within normal limits.",
        "Cardiomediastinal silhouette is normal.",
        "Heart size is normal. Mediastinal and hilar contours are unremarkable.",
        "The heart is normal in size. The mediastinal and hilar contours are normal.",
        "Normal cardiomediastinal contours."}},
      {"heart_normal",
       {"Heart size is normal.", "The heart is normal in size.",
        "Cardiac size is within normal limits."}},
      {"mediastinum_normal",
       {"Mediastinal and hilar contours are unremarkable.", "The mediastinal contours are normal.",
        "Hilar contours are normal."}},
      {"bones_normal",
       {"No acute osseous abnormality.", "Osseous structures are intact.",
        "The visualized osseous structures are unremarkable.", "No acute fracture is identified."}},
      {"bones_otherwise",
       {"No acute osseous abnormality.", "Osseous structures are otherwise unremarkable."}},
      {"neg_list",
       {"No {list}.", "There is no {list}.", "No evidence of {list}.", "No {list} is seen."}},
      // Impression.
      {"normal_impression",
       {"No acute cardiopulmonary process.", "No acute cardiopulmonary abnormality.",
        "No acute intrathoracic process.",
        "No radiographic evidence of acute cardiopulmonary disease.", "Normal chest radiograph."}},
      {"imp_devices_ok",
       {"Lines and tubes in standard position.", "Support devices in appropriate position.",
        "Tubes and lines as described above.", "Satisfactory position of support devices."}},
      {"imp_device_new",
       {"{np} in standard position.", "{np} in appropriate position.", "{np} {pos}."}},
      {"imp_no_ptx", {"No pneumothorax.", "No evidence of pneumothorax."}},
      {"imp_nodule_ct",
       {"{np}; chest CT is recommended for further evaluation.",
        "{np}. Recommend CT for further characterization."}},
      // Header sections.
      {"comparison_none", {"None.", "None available.", "No prior studies available."}},
      {"comparison_prior",
       {"Chest radiograph from {date}.", "Prior study dated {date}.", "{date}.",
        "Radiograph of {date}."}},
      {"technique_pa_lat",
       {"PA and lateral views of the chest.", "Chest PA and lateral.",
        "Two views of the chest were obtained."}},
      {"technique_portable",
       {"Single portable AP view of the chest.", "Portable AP chest radiograph.",
        "Single frontal view of the chest obtained portably."}},
      {"technique_other", {"{exam}."}},
      {"exam_prose_pa_lat",
       {"Chest radiographs, PA and lateral.", "PA and lateral chest radiographs."}},
      {"exam_prose_portable", {"Chest radiograph, portable AP.", "Portable chest radiograph."}},
      {"indication_none", {"None.", "Not provided."}},
  };
  return b;
}

}  // namespace

const std::vector<std::string>& report_phrase_ids() {
  static const std::vector<std::string> ids = [] {
    std::vector<std::string> v;
    for (const auto& e : bank()) v.push_back(e.first);
    return v;
  }();
  return ids;
}

const std::vector<std::string>& report_phrase_variants(const std::string& id) {
  static const std::map<std::string, const std::vector<std::string>*> index = [] {
    std::map<std::string, const std::vector<std::string>*> m;
    for (const auto& e : bank()) m[e.first] = &e.second;
    return m;
  }();
  auto it = index.find(id);
  if (it == index.end()) fail("report phrase bank: unknown statement id '" + id + "'");
  return *it->second;
}

}  // namespace medforget
