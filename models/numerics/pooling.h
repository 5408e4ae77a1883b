// Integer pooling semantics shared by the output stage and documented for
// the golden model (docs/numerics.md "Golden reference"): padded positions are not
// part of a window; the average is the integer mean of the valid elements
// rounded half up, floor((2 sum + n) / (2 n)).
#pragma once

#include <cstdint>

namespace brsim {

inline int64_t floor_div(int64_t a, int64_t b) {
  const int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

inline int32_t average_half_up(int64_t sum, int64_t n) { return static_cast<int32_t>(floor_div(2 * sum + n, 2 * n)); }

}  // namespace brsim
