// Element arithmetic of the post-processing (vector) unit on power-of-two
// activation formats (BRSLOG.md section 7: real = a * 2^-f, A-bit two's
// complement). Every result goes through the output stage's requantize()
// (rounding shift half up, optional ReLU, saturation to A bits), so a
// residual add or a concat aligns its operands' formats bit exactly:
//   add:     (a << (f_m - f_a)) + (b << (f_m - f_b)) at f_m = max(f_a, f_b),
//            then shifted by f_m - f_out;
//   mul:     a * b at f_a + f_b, shifted by f_a + f_b - f_out;
//   rescale: a shifted by f_a - f_out (concat);
//   clip:    min(max(a, lo_q), hi_q) in a's format (lo_q, hi_q = clip_bound());
//   sigmoid, hardsigmoid, hardswish: the function of the real input,
//            evaluated in double and rounded half away from zero into f_out
//            (a lookup table indexed by the A-bit input in hardware);
//   slice, shuffle: data movement, values and format unchanged; output
//            channel k is input channel slice_channel() / shuffle_channel().
#pragma once

#include <algorithm>
#include <cstdint>

#include "requant.h"

namespace brsim {

enum class VecFunc : uint8_t { Sigmoid, HardSigmoid, HardSwish };

int32_t vec_add(int32_t a, int f_a, int32_t b, int f_b, int f_out, bool relu, int act_bits, RequantStats* st);
int32_t vec_mul(int32_t a, int f_a, int32_t b, int f_b, int f_out, bool relu, int act_bits, RequantStats* st);
int32_t vec_rescale(int32_t a, int f_a, int f_out, bool relu, int act_bits, RequantStats* st);
// A clip bound in format f: round(v 2^f) saturated to A bits (infinities to the range's ends).
int32_t clip_bound(double v, int f, int act_bits);
// A channel slice: output channel k reads input channel start + k step.
inline int64_t slice_channel(int64_t k, int64_t start, int64_t step) { return start + k * step; }
// A channel shuffle of C channels in g groups (ShuffleNet: reshape to g x C/g,
// transpose, flatten): output channel k reads input channel (k mod g) C/g + k / g.
inline int64_t shuffle_channel(int64_t k, int64_t c, int64_t g) { return (k % g) * (c / g) + k / g; }
// Copies whole H x W planes: output channel k of `out` (c_out planes) from
// input channel src(k) of `in`.
template <class T, class Src>
void gather_channels(const T* in, T* out, int64_t c_out, int64_t plane, Src src) {
  for (int64_t k = 0; k < c_out; ++k) {
    const T* from = in + src(k) * plane;
    std::copy(from, from + plane, out + k * plane);
  }
}

int32_t vec_function(VecFunc fn, int32_t a, int f_a, int f_out, float alpha, float beta, int act_bits,
                     RequantStats* st);

}  // namespace brsim
