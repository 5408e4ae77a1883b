// The AE datapath, bit exact (BRSLOG.md sections 6 and 8): the shift-add
// product of a BRSLog weight and an activation, the fixed16 product, and the
// wrapping accumulator that counts overflows.
#pragma once

#include <cstdint>
#include <string>

#include "brslog.h"
#include "sqrt2.h"

namespace brsim {

// Widths and the sqrt2 approximation of one AE (section 6 defaults).
struct DatapathConfig {
  int act_bits = 16;    // A: signed activation width, [2, 32]
  int acc_bits = 48;    // accumulator width, [8, 64]
  int shift_bits = 4;   // decoder shift field width, [1, 6]
  int sqrt2_terms = 4;  // K, [1, 7]
};

// Throws ConfigError naming the field when a width or K is out of range.
void validate(const DatapathConfig& dp);

int64_t act_min(int act_bits);  // -2^(A-1)
int64_t act_max(int act_bits);  //  2^(A-1) - 1

// Datapath limits (section 6). `why` (if given) receives the reason.
// A segment configuration is realizable when its largest shift fits the
// shift field and the largest product magnitude fits the accumulator.
bool realizable(const SegmentConfig& cfg, const DatapathConfig& dp, std::string* why = nullptr);
// Throws ConfigError naming the limit and the smallest value that would work.
void check_realizable(const SegmentConfig& cfg, const DatapathConfig& dp);
// Smallest accumulator width holding every product of a configuration whose
// largest shift is `shift_max`.
int min_acc_bits(int shift_max, const DatapathConfig& dp);
// Smallest shift field width holding `shift_max`.
int min_shift_bits(int shift_max);

// The AE's multiplicand: flag ? c_K : 2^q_K.
inline int64_t ae_multiplicand(const DecodedWeight& d, const Sqrt2Approx& approx) {
  return d.flag ? approx.c : (int64_t{1} << approx.q);
}

// P = zero ? 0 : (-1)^s * ((a * m) << shift), computed as the hardware does:
// shift-adds for the sqrt2 path, a shift for the base-2 path. In units of
// 2^(e_base - q_K) activation units.
int64_t ae_product(int64_t a, const DecodedWeight& d, const Sqrt2Approx& approx);

// The integer w_eff with ae_product(a, d) == a * w_eff for every a: the
// golden model multiplies by it (tests hold the two equal over all codes).
int64_t ae_effective_weight(const DecodedWeight& d, const Sqrt2Approx& approx);

// fixed16 baseline product P = a * w_q (section 8).
inline int64_t fixed16_product(int64_t a, int16_t w_q) { return a * static_cast<int64_t>(w_q); }

// Two's complement wrap of v to `bits` bits (bits in [2, 64]).
int64_t wrap_to_bits(__int128 v, int bits);
// Saturation of v to the signed range of `bits` bits.
int64_t saturate_to_bits(__int128 v, int bits);

// acc + x in a `bits`-bit accumulator whose range is [lo, hi]: wraps, and
// counts in *overflows, when the sum leaves the range.
inline int64_t wrapping_add(int64_t acc, int64_t x, int bits, int64_t lo, int64_t hi, uint64_t* overflows) {
  const __int128 s = static_cast<__int128>(acc) + x;
  if (s < lo || s > hi) {
    ++*overflows;
    return wrap_to_bits(s, bits);
  }
  return static_cast<int64_t>(s);
}

// acc = wrap(acc + P) with every out-of-range partial sum counted.
class Accumulator {
 public:
  explicit Accumulator(int bits = 48);
  void add(int64_t p) { value_ = wrapping_add(value_, p, bits_, lo_, hi_, &overflows_); }
  int64_t value() const { return value_; }
  uint64_t overflows() const { return overflows_; }
  int bits() const { return bits_; }
  void reset() { value_ = 0; }

 private:
  int bits_;
  int64_t lo_, hi_;
  int64_t value_ = 0;
  uint64_t overflows_ = 0;
};

// fixed16 weight format (section 8): f_w is the largest fraction width such
// that round(max|w| * 2^f_w) fits in int16; a zero tensor gets f_w = 0.
int fixed16_format(double max_abs);
// w_q = sat16(round(w * 2^f_w)), round half away from zero.
int16_t fixed16_quantize(double w, int f_w);

}  // namespace brsim
