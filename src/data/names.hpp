#pragma once
// Realistic synthetic names for the corpus: institutions ("Elm Medical
// Foundation", "St. Brigid Regional Hospital", "Northgate University Medical
// Center") and patients ("Jason Martinez"), drawn through Rng so the same seed
// gives the same names. Names are unique within one corpus: draw them through
// one NameRegistry (or institution_names(), which is unique by construction).
#include <cstddef>
#include <set>
#include <string>
#include <vector>

namespace medforget {

class Rng;

// One institution name (not checked for uniqueness).
std::string institution_name(Rng& rng);
// n distinct institution names. Throws Error if n exceeds what the word lists
// can produce (several thousand).
std::vector<std::string> institution_names(size_t n, Rng& rng);

// "M", "F" (equal odds).
std::string sample_sex(Rng& rng);
// First + last name; the first name matches sex ("M" / "F"; "" picks either
// list). Not checked for uniqueness. Throws Error on any other sex value.
std::string patient_name(const std::string& sex, Rng& rng);
// "M" or "F" for a first name from the lists, "" for an unknown first name.
std::string first_name_sex(const std::string& first_name);

// Tracks names already used in one corpus.
class NameRegistry {
 public:
  // A patient name not yet used in this registry (redraws on collisions; after
  // many collisions adds a middle initial, "Jason T. Martinez"). Records it.
  std::string unique_patient_name(const std::string& sex, Rng& rng);
  // An institution name not yet used in this registry. Records it.
  std::string unique_institution_name(Rng& rng);
  // Records `name`; false if it was already used.
  bool claim(const std::string& name) { return used_.insert(name).second; }
  bool used(const std::string& name) const { return used_.count(name) > 0; }
  size_t size() const { return used_.size(); }

 private:
  std::set<std::string> used_;
};

}  // namespace medforget
