#include "datapath.h"

#include <algorithm>
#include <cmath>

#include "errors.h"

namespace brsim {

namespace {
void check_range(const char* field, int v, int lo, int hi) {
  if (v < lo || v > hi) {
    throw ConfigError(std::string("invalid ") + field + " " + std::to_string(v) + ": expected an integer in [" +
                      std::to_string(lo) + ", " + std::to_string(hi) + "]");
  }
}

// Bits needed by the magnitude of the largest product:
// 2^(A-1) * max(c_K, 2^q_K) * 2^shift_max must be <= 2^(acc_bits-1) - 1.
bool product_fits(int shift_max, const DatapathConfig& dp, int acc_bits) {
  const Sqrt2Approx approx = sqrt2_approx(dp.sqrt2_terms);
  const __int128 m = std::max<int64_t>(approx.c, int64_t{1} << approx.q);
  const int total = (dp.act_bits - 1) + shift_max;
  if (total >= 120) return false;
  const __int128 largest = (static_cast<__int128>(1) << total) * m;
  return largest <= (static_cast<__int128>(1) << (acc_bits - 1)) - 1;
}
}  // namespace

void validate(const DatapathConfig& dp) {
  check_range("act_bits", dp.act_bits, 2, 32);
  check_range("acc_bits", dp.acc_bits, 8, 64);
  check_range("shift_bits", dp.shift_bits, 1, 6);
  check_range("sqrt2_terms (K)", dp.sqrt2_terms, kMinSqrt2Terms, kMaxSqrt2Terms);
}

int64_t act_min(int act_bits) { return -(int64_t{1} << (act_bits - 1)); }
int64_t act_max(int act_bits) { return (int64_t{1} << (act_bits - 1)) - 1; }

int min_shift_bits(int shift_max) {
  int b = 1;
  while ((1 << b) - 1 < shift_max) ++b;
  return b;
}

int min_acc_bits(int shift_max, const DatapathConfig& dp) {
  for (int b = 2; b <= 127; ++b)
    if (product_fits(shift_max, dp, b)) return b;
  return 128;
}

bool realizable(const SegmentConfig& cfg, const DatapathConfig& dp, std::string* why) {
  const int s = max_shift(cfg);
  if (s > (1 << dp.shift_bits) - 1) {
    if (why)
      *why = "largest shift " + std::to_string(s) + " of " + to_string(cfg) + " exceeds the " +
             std::to_string(dp.shift_bits) + "-bit shift field (max " + std::to_string((1 << dp.shift_bits) - 1) +
             "); shift_bits >= " + std::to_string(min_shift_bits(s)) + " would work";
    return false;
  }
  if (!product_fits(s, dp, dp.acc_bits)) {
    if (why)
      *why = "largest product of " + std::to_string(dp.act_bits) + "-bit activations with " + to_string(cfg) +
             " (K = " + std::to_string(dp.sqrt2_terms) + ") does not fit a " + std::to_string(dp.acc_bits) +
             "-bit accumulator; acc_bits >= " + std::to_string(min_acc_bits(s, dp)) + " would work";
    return false;
  }
  return true;
}

void check_realizable(const SegmentConfig& cfg, const DatapathConfig& dp) {
  validate(cfg);
  validate(dp);
  std::string why;
  if (!realizable(cfg, dp, &why)) throw ConfigError("datapath limit: " + why);
}

int64_t ae_product(int64_t a, const DecodedWeight& d, const Sqrt2Approx& approx) {
  if (d.zero) return 0;
  const int64_t am = d.flag ? sqrt2_shift_add(a, approx)
                            : static_cast<int64_t>(static_cast<uint64_t>(a) << approx.q);
  // Modulo 2^64 throughout (the accumulator keeps the low bits): negated as
  // unsigned, so that -2^63 wraps instead of overflowing.
  const uint64_t shifted = static_cast<uint64_t>(am) << d.shift;
  return static_cast<int64_t>(d.sign ? uint64_t{0} - shifted : shifted);
}

int64_t ae_effective_weight(const DecodedWeight& d, const Sqrt2Approx& approx) {
  if (d.zero) return 0;
  const int64_t w = ae_multiplicand(d, approx) << d.shift;
  return d.sign ? -w : w;
}

int64_t wrap_to_bits(__int128 v, int bits) {
  const unsigned __int128 mask = (static_cast<unsigned __int128>(1) << bits) - 1;
  unsigned __int128 u = static_cast<unsigned __int128>(v) & mask;
  if (u >> (bits - 1)) u |= ~mask;  // sign-extend
  return static_cast<int64_t>(static_cast<__int128>(u));
}

int64_t saturate_to_bits(__int128 v, int bits) {
  const __int128 hi = (static_cast<__int128>(1) << (bits - 1)) - 1;
  const __int128 lo = -(static_cast<__int128>(1) << (bits - 1));
  return static_cast<int64_t>(v > hi ? hi : (v < lo ? lo : v));
}

Accumulator::Accumulator(int bits) : bits_(bits) {
  check_range("acc_bits", bits, 2, 64);
  hi_ = static_cast<int64_t>((static_cast<__int128>(1) << (bits - 1)) - 1);
  lo_ = static_cast<int64_t>(-(static_cast<__int128>(1) << (bits - 1)));
}

int fixed16_format(double max_abs) {
  if (!(max_abs > 0.0) || !std::isfinite(max_abs)) return 0;
  // log2 of the ratio without forming it (it overflows for tiny max_abs).
  int f = static_cast<int>(std::floor(std::log2(32767.0) - std::log2(max_abs)));
  while (std::round(std::ldexp(max_abs, f + 1)) <= 32767.0) ++f;
  while (std::round(std::ldexp(max_abs, f)) > 32767.0) --f;
  return f;
}

int16_t fixed16_quantize(double w, int f_w) {
  const double r = std::round(std::ldexp(w, f_w));  // half away from zero
  if (r > 32767.0) return 32767;
  if (r < -32768.0) return -32768;
  return static_cast<int16_t>(r);
}

}  // namespace brsim
