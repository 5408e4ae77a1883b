// Helpers shared by the quantizer's files (quantizer.cpp: codebooks,
// rounding, tensors; quantizer_search.cpp: the parameter search of
// BRSLOG.md section 5). Not part of the quantizer's interface.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "quantizer.h"
#include "sqrt2.h"

namespace brsim {
namespace detail {

std::string fmt(double v);  // 17 significant digits

// A_K for every K, built once.
const Sqrt2Approx& cached_approx(int k);

// Throws ConfigError naming the first non-finite element; returns max|w|.
double checked_max_abs(const double* w, size_t n, size_t index_offset = 0);

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
double codebook_sse(const double* w, size_t n, const Codebook& cb, Rounding r);

// Runs f(0) .. f(count - 1) on up to quantizer_threads() threads (the
// caller's among them), each index once, claimed in ascending order. Nested
// calls (from inside f) run serially on their thread. If some f(i) throw, the
// exception of the smallest such i is rethrown after every thread is done,
// so the outcome does not depend on the thread count.
void parallel_for(size_t count, const std::function<void(size_t)>& f);

}  // namespace detail
}  // namespace brsim
