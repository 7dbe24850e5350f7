#pragma once
// Deterministic, platform-independent randomness. std:: distributions differ
// between standard libraries, so the same seed must go through these helpers
// to give the same bytes everywhere.
#include <cstdint>
#include <string>
#include <vector>

namespace medforget {

class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  // A child stream whose sequence depends only on (seed, label): adding a draw
  // in one part of the generator does not shift another part's sequence.
  Rng fork(const std::string& label) const;
  uint64_t next();                    // splitmix64
  double uniform();                   // [0, 1)
  double uniform(double lo, double hi);
  int64_t randint(int64_t lo, int64_t hi);  // inclusive
  double normal(double mean = 0.0, double sd = 1.0);
  bool chance(double p) { return uniform() < p; }
  template <class T>
  const T& pick(const std::vector<T>& v) {
    return v[static_cast<size_t>(randint(0, static_cast<int64_t>(v.size()) - 1))];
  }
  template <class T>
  void shuffle(std::vector<T>& v) {
    for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[static_cast<size_t>(randint(0, i - 1))]);
  }
  // k distinct indices of [0, n), in increasing order.
  std::vector<size_t> sample_indices(size_t n, size_t k);

 private:
  uint64_t state_;
};

uint64_t hash64(const std::string& s);  // FNV-1a, stable across platforms

}  // namespace medforget
