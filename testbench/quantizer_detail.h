// Helpers shared by the quantizer's files (quantizer.cpp: codebooks,
// rounding, tensors; quantizer_search.cpp: the parameter search of
// BRSLOG.md section 5). Not part of the quantizer's interface.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "errors.h"
#include "host_threads.h"
#include "quantizer.h"
#include "sqrt2.h"

namespace brsim {
namespace detail {

std::string fmt(double v);  // 17 significant digits

// A_K for every K, built once.
const Sqrt2Approx& cached_approx(int k);

// max|w[i]| over [0, n) (vector lanes, exact: a maximum does not round),
// or -1 if some element is not finite.
double max_abs_or_nonfinite(const float* w, size_t n);
double max_abs_or_nonfinite(const double* w, size_t n);

// codes[i] = the code of finite w[i] (quantize_value) for the rounding
// bounds b[0, L) of a codebook of `bits`-bit codes (the bounds rounded up
// to float for float weights). Vector lanes; the same codes.
void assign_codes(const float* w, size_t n, const float* b, int L, int bits, uint8_t* codes);
void assign_codes(const double* w, size_t n, const double* b, int L, int bits, uint8_t* codes);

// Throws ConfigError naming the first non-finite element; returns max|w|.
// T is double or float (the weights as given; float converts exactly).
template <typename T>
double checked_max_abs(const T* w, size_t n, size_t index_offset = 0) {
  // Large tensors in one chunk per host thread (a maximum is the same in any order).
  const size_t chunks = n >= (size_t{1} << 20) ? static_cast<size_t>(host_threads()) : 1;
  std::vector<double> part(chunks);
  parallel_for(chunks, [&](size_t c) {
    const size_t lo = n / chunks * c, hi = c + 1 == chunks ? n : n / chunks * (c + 1);
    part[c] = max_abs_or_nonfinite(w + lo, hi - lo);
  });
  double m = 0;
  for (const double x : part) m = x < 0 || m < 0 ? -1 : std::max(m, x);
  if (m >= 0.0) return m;
  for (size_t i = 0; i < n; ++i) {
    const double x = w[i];
    if (!std::isfinite(x)) {
      throw ConfigError("weight [" + std::to_string(i + index_offset) + "] is " + fmt(x) + ": weights must be finite");
    }
  }
  return m;  // (not reached)
}

// The rounding boundaries of cb for rule r (ConfigError if cb was not built
// by make_codebook).
const std::vector<double>& bounds_of(const Codebook& cb, Rounding r);

// Number of bounds <= a, i.e. the level index of magnitude a. `size` is
// L + 1, a power of two; bounds[L] = +inf keeps the result <= L.
inline int level_index(double a, const double* bounds, int size) {
  int pos = 0;
  for (int step = size >> 1; step > 0; step >>= 1) pos += (bounds[pos + step - 1] <= a) ? step : 0;
  return pos;
}

// Sum of (|w| - level)^2 in index order; equals sum (w - w_q)^2 bit for bit
// since the sign of w_q follows w (or w_q = 0). The search's reference sum.
template <typename T>
double codebook_sse(const T* w, size_t n, const Codebook& cb, Rounding r) {
  const double* bounds = bounds_of(cb, r).data();
  const double* lev = cb.levels.data();
  const int size = static_cast<int>(cb.levels.size());
  double sse = 0.0;
  for (size_t i = 0; i < n; ++i) {
    const double a = std::fabs(static_cast<double>(w[i]));
    const double d = a - lev[level_index(a, bounds, size)];
    sse += d * d;
  }
  return sse;
}

}  // namespace detail
}  // namespace brsim
