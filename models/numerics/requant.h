// Requantization in the output stage (BRSLOG.md section 7): accumulator plus
// bias, a rounding shift into the next layer's activation format, optional
// ReLU, saturation to A bits. Saturations are counted, never silent.
#pragma once

#include <cstdint>

namespace brsim {

// Counters the output stage keeps per layer.
struct RequantStats {
  uint64_t outputs = 0;
  uint64_t saturated_high = 0;  // clipped to 2^(A-1) - 1
  uint64_t saturated_low = 0;   // clipped to -2^(A-1)
  uint64_t saturated() const { return saturated_high + saturated_low; }
  void merge(const RequantStats& o) {
    outputs += o.outputs;
    saturated_high += o.saturated_high;
    saturated_low += o.saturated_low;
  }
};

// r = f_in + q_K - e_base - f_out for BRSLog (the accumulator's unit is
// 2^(e_base - q_K - f_in)); for fixed16 pass q_K = 0 and e_base = -f_w.
inline int requant_shift(int f_in, int q_k, int e_base, int f_out) { return f_in + q_k - e_base - f_out; }

struct RequantParams {
  int shift = 0;      // r; > 0 rounds right, <= 0 shifts left
  bool relu = false;  // fused ReLU
  int act_bits = 16;  // A
};

// y = acc + bias_q; out = r > 0 ? (y + 2^(r-1)) >> r : y << -r (arithmetic,
// i.e. round half up); ReLU; saturate to A bits. Updates `stats` if given.
int32_t requantize(int64_t acc, int64_t bias_q, const RequantParams& rp, RequantStats* stats = nullptr);

// Bias in accumulator units: round(bias * 2^acc_frac) (half away from zero),
// where acc_frac = f_in + q_K - e_base (fixed16: f_in + f_w), saturated to
// acc_bits; `saturated` (if given) is set when the bias did not fit.
int64_t quantize_bias(double bias, int acc_frac, int acc_bits, bool* saturated = nullptr);

}  // namespace brsim
