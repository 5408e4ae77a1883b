#include "vector_ops.h"

#include <algorithm>
#include <cmath>

namespace brsim {

namespace {
// Shifts into f_out through the output stage: y << -r or (y + 2^(r-1)) >> r.
int32_t to_format(int64_t y, int f_y, int f_out, bool relu, int act_bits, RequantStats* st) {
  return requantize(y, 0, {f_y - f_out, relu, act_bits}, st);
}
// v << s, held within +-2^62 (a shift that large saturates every A <= 32 anyway).
int64_t shl(int64_t v, int s) {
  if (v == 0) return 0;
  if (s > 62) return v > 0 ? (int64_t{1} << 62) : -(int64_t{1} << 62);
  const __int128 r = static_cast<__int128>(v) * (static_cast<__int128>(1) << s);
  const __int128 lim = static_cast<__int128>(1) << 62;
  return static_cast<int64_t>(r > lim ? lim : (r < -lim ? -lim : r));
}
}  // namespace

int32_t vec_add(int32_t a, int f_a, int32_t b, int f_b, int f_out, bool relu, int act_bits, RequantStats* st) {
  const int f_m = std::max(f_a, f_b);
  return to_format(shl(a, f_m - f_a) + shl(b, f_m - f_b), f_m, f_out, relu, act_bits, st);
}

int32_t vec_mul(int32_t a, int f_a, int32_t b, int f_b, int f_out, bool relu, int act_bits, RequantStats* st) {
  return to_format(int64_t{a} * b, f_a + f_b, f_out, relu, act_bits, st);
}

int32_t vec_rescale(int32_t a, int f_a, int f_out, bool relu, int act_bits, RequantStats* st) {
  return to_format(a, f_a, f_out, relu, act_bits, st);
}

int32_t clip_bound(double v, int f, int act_bits) {
  const double top = std::ldexp(1.0, act_bits - 1) - 1, bottom = -std::ldexp(1.0, act_bits - 1);
  const double q = std::round(std::ldexp(v, f));
  return static_cast<int32_t>(std::min(top, std::max(bottom, q)));
}

int32_t vec_function(VecFunc fn, int32_t a, int f_a, int f_out, float alpha, float beta, int act_bits,
                     RequantStats* st) {
  const double x = std::ldexp(static_cast<double>(a), -f_a);
  double y = 0;
  switch (fn) {
    case VecFunc::Sigmoid: y = 1.0 / (1.0 + std::exp(-x)); break;
    case VecFunc::HardSigmoid: y = std::max(0.0, std::min(1.0, static_cast<double>(alpha) * x + beta)); break;
    case VecFunc::HardSwish: y = x * std::max(0.0, std::min(1.0, x / 6.0 + 0.5)); break;
  }
  const int32_t q = clip_bound(y, f_out, act_bits);
  if (st) {
    ++st->outputs;
    const double r = std::round(std::ldexp(y, f_out));
    st->saturated_high += r > q;
    st->saturated_low += r < q;
  }
  return q;
}

}  // namespace brsim
