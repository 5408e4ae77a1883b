// The greedy signed power-of-two expansion A_K of sqrt2 (BRSLOG.md section 4):
// the AE computes A_K * a with K shifted copies of a, added or subtracted.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace brsim {

constexpr int kMinSqrt2Terms = 1;
constexpr int kMaxSqrt2Terms = 7;

// One term +-2^exponent of the expansion (exponent <= 0).
struct Sqrt2Term {
  int sign = 1;  // +1 or -1
  int exponent = 0;
};

// A_K = c / 2^q, with q the largest negative exponent among the terms.
struct Sqrt2Approx {
  int k = 0;
  std::vector<Sqrt2Term> terms;
  int q = 0;        // q_K
  int64_t c = 1;    // c_K = A_K * 2^q_K (an odd integer unless K = 1)
  double value() const;             // A_K
  double relative_error() const;    // A_K / sqrt2 - 1
  std::string expression() const;   // "1 + 2^-1 - 2^-4"
};

// Greedy expansion: each term is the signed power of two nearest the
// remaining residual sqrt2 - A_{k-1}. Computed, not tabulated; K in [1, 7]
// (ConfigError otherwise).
Sqrt2Approx sqrt2_approx(int k);

// A_K x a as shifts and adds: sum(+-(a << (q_K + exponent_i))) == a * c_K.
int64_t sqrt2_shift_add(int64_t a, const Sqrt2Approx& approx);

}  // namespace brsim
