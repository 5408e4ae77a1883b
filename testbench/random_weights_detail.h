// The pieces of random_weights.cpp that its tests hold to the C++ library:
// std::mt19937_64 a block at a time, and the Laplace draw of one word.
#pragma once

#include <cmath>
#include <cstdint>

namespace brsim {
namespace detail {

// The i-th draw of the sequence: u uniform in (0, 1) from the top 53 bits
// of the word (never exactly 0 or 1), then the Laplace inverse CDF.
inline double laplace_draw(uint64_t word, double scale) {
  const double u = (static_cast<double>(word >> 11) + 0.5) * 0x1.0p-53;
  return u < 0.5 ? scale * std::log(2.0 * u) : -scale * std::log(2.0 * (1.0 - u));
}

// ln t[0..4) for normal t > 0 by the vector logarithm laplace_approx uses.
void log_approx4(const double* t, double* out);

// std::mt19937_64's state, regenerated 312 words at a time (vector lanes
// where the CPU has them): after the k-th regenerate(), tempered(i) is
// word 312 (k - 1) + i of std::mt19937_64(seed)'s sequence.
class Mt64Block {
 public:
  static constexpr int kN = 312;
  explicit Mt64Block(uint64_t seed);
  void regenerate();
  uint64_t tempered(int i) const;
  // laplace_draw of words [from, kN) into out[from, kN) (a few words
  // before `from` may be written too), by a vector logarithm within a few
  // units in the last place of std::log's: not the same doubles.
  void laplace_approx(int from, double scale, double* out) const;

 private:
  alignas(32) uint64_t state_[kN];
};

}  // namespace detail
}  // namespace brsim
