#include "requant.h"

#include <cmath>

#include "datapath.h"

namespace brsim {

int32_t requantize(int64_t acc, int64_t bias_q, const RequantParams& rp, RequantStats* stats) {
  const __int128 y = static_cast<__int128>(acc) + bias_q;  // |y| < 2^65
  __int128 out;
  if (rp.shift > 0) {
    if (rp.shift >= 100) {
      out = 0;  // (y + 2^(r-1)) >> r is 0 for every |y| < 2^65 << 2^(r-1)
    } else {
      out = (y + (static_cast<__int128>(1) << (rp.shift - 1))) >> rp.shift;
    }
  } else if (y == 0) {
    out = 0;
  } else if (-rp.shift > 40) {
    // |y| >= 1 shifted by more than 40 bits exceeds every A <= 32 range.
    out = y > 0 ? (static_cast<__int128>(1) << 62) : -(static_cast<__int128>(1) << 62);
  } else {
    out = y * (static_cast<__int128>(1) << -rp.shift);
  }
  if (rp.relu && out < 0) out = 0;
  const int64_t hi = act_max(rp.act_bits), lo = act_min(rp.act_bits);
  if (stats) {
    ++stats->outputs;
    if (out > hi) ++stats->saturated_high;
    if (out < lo) ++stats->saturated_low;
  }
  return static_cast<int32_t>(out > hi ? hi : (out < lo ? lo : out));
}

int64_t quantize_bias(double bias, int acc_frac, int acc_bits, bool* saturated) {
  const double v = std::round(std::ldexp(bias, acc_frac));
  const double lim = std::ldexp(1.0, acc_bits - 1);
  bool sat = false;
  int64_t q;
  if (!(v < lim)) {
    q = static_cast<int64_t>((static_cast<__int128>(1) << (acc_bits - 1)) - 1);
    sat = true;
  } else if (v < -lim) {
    q = static_cast<int64_t>(-(static_cast<__int128>(1) << (acc_bits - 1)));
    sat = true;
  } else {
    q = static_cast<int64_t>(v);
  }
  if (saturated) *saturated = sat;
  return q;
}

}  // namespace brsim
