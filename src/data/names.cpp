#include "data/names.hpp"

#include "core/error.hpp"
#include "core/rng.hpp"

namespace medforget {

namespace {

using Words = std::vector<std::string>;

const Words& place_words() {
  static const Words w{
      "Elm",        "Northgate",  "Riverside",   "Lakeview",    "Cedar",     "Maple",
      "Oakwood",    "Pinecrest",  "Brookfield",  "Fairview",    "Highland",  "Westbrook",
      "Eastfield",  "Harbor",     "Summit",      "Granite",     "Willow",    "Ashford",
      "Bayview",    "Clearwater", "Hawthorne",   "Kingsbridge", "Lakeshore", "Meadowbrook",
      "Millbrook",  "Redwood",    "Silverlake",  "Stonebridge", "Thornton",  "Lindenhurst",
      "Whitmore",   "Windham",    "Copper Hill", "Beacon",      "Crestwood", "Foxborough",
      "Glenwood",   "Hillcrest",  "Ironwood",    "Juniper",     "Larchmont", "Mapleton",
      "Northfield", "Oak Ridge",  "Parkside",    "Quarry Hill", "Rosewood",  "Sandpoint",
      "Southport",  "Tamarack",   "Union Bay",   "Wexford",     "Birchwood", "Cypress",
      "Driftwood",  "Evergreen",  "Fernhill",    "Greystone",   "Heron Bay", "Kestrel",
  };
  return w;
}

const Words& saint_words() {
  static const Words w{"Brigid",   "Jude",      "Luke",      "Mary",    "Vincent", "Francis",
                       "Joseph",   "Anne",      "Catherine", "Michael", "Agnes",   "Clare",
                       "Benedict", "Dominic",   "Patrick",   "Bernard", "Teresa",  "Raphael",
                       "Cecilia",  "Elizabeth", "Gregory",   "Monica",  "Ambrose", "Margaret"};
  return w;
}

const Words& benefactor_words() {
  static const Words w{"Harrington", "Whitfield", "Caldwell",     "Pemberton", "Ashworth",
                       "Holloway",   "Langford",  "Merriweather", "Prescott",  "Sinclair",
                       "Talbot",     "Vance",     "Winslow",      "Abernathy", "Beaumont",
                       "Carrington", "Easton",    "Fairbanks"};
  return w;
}

// "{X}" is replaced by the pattern's word list draw.
struct Pattern {
  const char* form;
  int list;  // 0 place, 1 saint, 2 benefactor
};

const std::vector<Pattern>& patterns() {
  static const std::vector<Pattern> p{
      {"{X} Medical Foundation", 0},
      {"{X} University Medical Center", 0},
      {"{X} General Hospital", 0},
      {"{X} Memorial Hospital", 0},
      {"{X} Community Hospital", 0},
      {"{X} Regional Medical Center", 0},
      {"{X} Valley Medical Center", 0},
      {"{X} Health System", 0},
      {"{X} Clinic", 0},
      {"University Hospital of {X}", 0},
      {"St. {X} Regional Hospital", 1},
      {"St. {X} Medical Center", 1},
      {"St. {X} Hospital", 1},
      {"St. {X} Mercy Hospital", 1},
      {"{X} Memorial Hospital", 2},
      {"{X} Medical Center", 2},
      {"{X} Institute of Medicine", 2},
  };
  return p;
}

const Words& male_first() {
  static const Words w{
      "James",    "John",      "Robert",    "Michael",     "William",  "David",    "Richard",
      "Joseph",   "Thomas",    "Charles",   "Christopher", "Daniel",   "Matthew",  "Anthony",
      "Mark",     "Donald",    "Steven",    "Paul",        "Andrew",   "Joshua",   "Kenneth",
      "Kevin",    "Brian",     "George",    "Timothy",     "Ronald",   "Edward",   "Jason",
      "Jeffrey",  "Ryan",      "Jacob",     "Gary",        "Nicholas", "Eric",     "Jonathan",
      "Stephen",  "Larry",     "Justin",    "Scott",       "Brandon",  "Benjamin", "Samuel",
      "Gregory",  "Alexander", "Frank",     "Patrick",     "Raymond",  "Jack",     "Dennis",
      "Jerry",    "Tyler",     "Aaron",     "Jose",        "Adam",     "Nathan",   "Henry",
      "Douglas",  "Zachary",   "Peter",     "Kyle",        "Walter",   "Ethan",    "Jeremy",
      "Harold",   "Carl",      "Keith",     "Roger",       "Gerald",   "Arthur",   "Terry",
      "Lawrence", "Sean",      "Christian", "Albert",      "Joe",      "Austin",   "Willie",
      "Jesse",    "Luis",      "Carlos"};
  return w;
}

const Words& female_first() {
  static const Words w{
      "Mary",      "Patricia", "Jennifer", "Linda",     "Elizabeth",  "Barbara",   "Susan",
      "Jessica",   "Sarah",    "Karen",    "Lisa",      "Nancy",      "Betty",     "Margaret",
      "Sandra",    "Ashley",   "Kimberly", "Emily",     "Donna",      "Michelle",  "Carol",
      "Amanda",    "Dorothy",  "Melissa",  "Deborah",   "Stephanie",  "Rebecca",   "Sharon",
      "Laura",     "Cynthia",  "Kathleen", "Amy",       "Angela",     "Shirley",   "Anna",
      "Brenda",    "Pamela",   "Emma",     "Nicole",    "Helen",      "Samantha",  "Katherine",
      "Christine", "Debra",    "Rachel",   "Carolyn",   "Janet",      "Catherine", "Maria",
      "Heather",   "Diane",    "Ruth",     "Julie",     "Olivia",     "Joyce",     "Virginia",
      "Victoria",  "Kelly",    "Lauren",   "Christina", "Joan",       "Evelyn",    "Judith",
      "Megan",     "Andrea",   "Cheryl",   "Hannah",    "Jacqueline", "Martha",    "Gloria",
      "Teresa",    "Ann",      "Sara",     "Madison",   "Frances",    "Kathryn",   "Janice",
      "Jean",      "Abigail",  "Alice"};
  return w;
}

const Words& last_names() {
  static const Words w{
      "Smith",      "Johnson",   "Williams",   "Brown",      "Jones",      "Garcia",    "Miller",
      "Davis",      "Rodriguez", "Martinez",   "Hernandez",  "Lopez",      "Gonzalez",  "Wilson",
      "Anderson",   "Thomas",    "Taylor",     "Moore",      "Jackson",    "Martin",    "Lee",
      "Perez",      "Thompson",  "White",      "Harris",     "Sanchez",    "Clark",     "Ramirez",
      "Lewis",      "Robinson",  "Walker",     "Young",      "Allen",      "King",      "Wright",
      "Scott",      "Torres",    "Nguyen",     "Hill",       "Flores",     "Green",     "Adams",
      "Nelson",     "Baker",     "Hall",       "Rivera",     "Campbell",   "Mitchell",  "Carter",
      "Roberts",    "Gomez",     "Phillips",   "Evans",      "Turner",     "Diaz",      "Parker",
      "Cruz",       "Edwards",   "Collins",    "Reyes",      "Stewart",    "Morris",    "Morales",
      "Murphy",     "Cook",      "Rogers",     "Gutierrez",  "Ortiz",      "Morgan",    "Cooper",
      "Peterson",   "Bailey",    "Reed",       "Kelly",      "Howard",     "Ramos",     "Kim",
      "Cox",        "Ward",      "Richardson", "Watson",     "Brooks",     "Chavez",    "Wood",
      "James",      "Bennett",   "Gray",       "Mendoza",    "Ruiz",       "Hughes",    "Price",
      "Alvarez",    "Castillo",  "Sanders",    "Patel",      "Myers",      "Long",      "Ross",
      "Foster",     "Jimenez",   "Powell",     "Jenkins",    "Perry",      "Russell",   "Sullivan",
      "Bell",       "Coleman",   "Butler",     "Henderson",  "Barnes",     "Gonzales",  "Fisher",
      "Vasquez",    "Simmons",   "Romero",     "Jordan",     "Patterson",  "Alexander", "Hamilton",
      "Graham",     "Reynolds",  "Griffin",    "Wallace",    "Moreno",     "West",      "Cole",
      "Hayes",      "Bryant",    "Herrera",    "Gibson",     "Ellis",      "Tran",      "Medina",
      "Aguilar",    "Stevens",   "Murray",     "Ford",       "Castro",     "Marshall",  "Owens",
      "Harrison",   "Fernandez", "McDonald",   "Woods",      "Washington", "Kennedy",   "Wells",
      "Vargas",     "Henry",     "Chen",       "Freeman",    "Webb",       "Tucker",    "Guzman",
      "Burns",      "Crawford",  "Olson",      "Simpson",    "Porter",     "Hunter",    "Gordon",
      "Mendez",     "Silva",     "Shaw",       "Snyder",     "Mason",      "Dixon",     "Munoz",
      "Hunt",       "Hicks",     "Holmes",     "Palmer",     "Wagner",     "Black",     "Robertson",
      "Boyd",       "Rose",      "Stone",      "Salazar",    "Fox",        "Warren",    "Mills",
      "Meyer",      "Rice",      "Schmidt",    "Garza",      "Daniels",    "Ferguson",  "Nichols",
      "Stephens",   "Soto",      "Weaver",     "Ryan",       "Gardner",    "Payne",     "Grant",
      "Dunn",       "Kelley",    "Spencer",    "Hawkins",    "Arnold",     "Pierce",    "Vazquez",
      "Hansen",     "Peters",    "Santos",     "Hart",       "Bradley",    "Knight",    "Elliott",
      "Cunningham", "Duncan",    "Armstrong",  "Hudson",     "Carroll",    "Lane",      "Riley",
      "Andrews",    "Alvarado",  "Ray",        "Delgado",    "Berry",      "Perkins",   "Hoffman",
      "Johnston",   "Matthews",  "Pena",       "Richards",   "Contreras",  "Willis",    "Carpenter",
      "Lawrence",   "Sandoval",  "Guerrero",   "George",     "Chapman",    "Rios",      "Estrada",
      "Ortega",     "Watkins",   "Greene",     "Nunez",      "Wheeler",    "Valdez",    "Harper",
      "Burke",      "Larson",    "Santiago",   "Maldonado",  "Morrison",   "Franklin",  "Carlson",
      "Austin",     "Dominguez", "Carr",       "Lawson",     "Jacobs",     "OBrien",    "Lynch",
      "Singh",      "Vega",      "Bishop",     "Montgomery", "Oliver",     "Jensen",    "Harvey",
      "Williamson", "Gilbert",   "Dean",       "Sims",       "Espinoza",   "Howell",    "Li",
      "Wong",       "Reid",      "Hanson",     "Le",         "McCoy",      "Garrett",   "Burton",
      "Fuller",     "Wang",      "Weber",      "Welch",      "Rojas",      "Lucas",     "Marquez",
      "Fields",     "Park",      "Yang",       "Little",     "Banks",      "Padilla",   "Day",
      "Walsh",      "Bowman",    "Schultz",    "Luna",       "Fowler",     "Mejia",     "Davidson",
      "Acosta",     "Brewer",    "May",        "Holland",    "Juarez",     "Newman",    "Pearson",
      "Curtis",     "Cortez",    "Douglas",    "Schneider",  "Joseph",     "Barrett",   "Navarro",
      "Figueroa",   "Keller",    "Avila",      "Wade",       "Molina",     "Stanley",   "Hopkins",
      "Campos",     "Barnett",   "Bates",      "Chambers",   "Caldwell",   "Beck",      "Lambert",
      "Miranda",    "Byrd",      "Craig",      "Ayala",      "Lowe",       "Frazier",   "Powers",
      "Neal",       "Leonard",   "Gregory",    "Carrillo",   "Sutton",     "Fleming",   "Rhodes",
      "Shelton",    "Schwartz",  "Norris",     "Jennings",   "Watts",      "Duran",     "Walters",
      "Cohen",      "McDaniel",  "Moran",      "Parks",      "Steele",     "Vaughn",    "Becker",
      "Holt",       "Deleon",    "Barker",     "Terry",      "Hale",       "Leon",      "Hail"};
  return w;
}

bool contains(const Words& w, const std::string& s) {
  for (const auto& x : w)
    if (x == s) return true;
  return false;
}

const Words& first_names_for(const std::string& sex, Rng& rng) {
  if (sex == "M") return male_first();
  if (sex == "F") return female_first();
  if (sex.empty()) return rng.chance(0.5) ? male_first() : female_first();
  fail("patient_name: sex '" + sex + "' is not one of \"M\", \"F\", \"\"");
}

constexpr int kMaxRedraws = 200;

}  // namespace

std::string institution_name(Rng& rng) {
  const Pattern& p = rng.pick(patterns());
  const Words& list = p.list == 0   ? place_words()
                      : p.list == 1 ? saint_words()
                                    : benefactor_words();
  std::string form = p.form;
  auto pos = form.find("{X}");
  return form.substr(0, pos) + rng.pick(list) + form.substr(pos + 3);
}

std::vector<std::string> institution_names(size_t n, Rng& rng) {
  NameRegistry reg;
  std::vector<std::string> out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) out.push_back(reg.unique_institution_name(rng));
  return out;
}

std::string sample_sex(Rng& rng) { return rng.chance(0.5) ? "M" : "F"; }

std::string patient_name(const std::string& sex, Rng& rng) {
  const Words& firsts = first_names_for(sex, rng);
  std::string first = rng.pick(firsts);
  return first + " " + rng.pick(last_names());
}

std::string first_name_sex(const std::string& first_name) {
  bool m = contains(male_first(), first_name), f = contains(female_first(), first_name);
  if (m && !f) return "M";
  if (f && !m) return "F";
  return "";
}

std::string NameRegistry::unique_patient_name(const std::string& sex, Rng& rng) {
  for (int i = 0; i < kMaxRedraws; ++i) {
    std::string name = patient_name(sex, rng);
    if (claim(name)) return name;
  }
  // Name space crowded: add a middle initial.
  for (int i = 0; i < kMaxRedraws; ++i) {
    std::string name = patient_name(sex, rng);
    auto sp = name.find(' ');
    std::string initial(1, static_cast<char>('A' + rng.randint(0, 25)));
    name = name.substr(0, sp) + " " + initial + "." + name.substr(sp);
    if (claim(name)) return name;
  }
  fail("NameRegistry: could not find an unused patient name after " +
       std::to_string(2 * kMaxRedraws) + " draws (" + std::to_string(size()) + " names in use)");
}

std::string NameRegistry::unique_institution_name(Rng& rng) {
  for (int i = 0; i < kMaxRedraws * 5; ++i) {
    std::string name = institution_name(rng);
    if (claim(name)) return name;
  }
  fail("NameRegistry: could not find an unused institution name after " +
       std::to_string(kMaxRedraws * 5) + " draws (" + std::to_string(size()) +
       " names in use); the word lists hold a few thousand");
}

}  // namespace medforget
