#include "sqrt2.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "errors.h"

namespace brsim {

double Sqrt2Approx::value() const { return std::ldexp(static_cast<double>(c), -q); }

double Sqrt2Approx::relative_error() const {
  return static_cast<double>(static_cast<long double>(c) / std::ldexp(1.0L, q) / std::sqrt(2.0L) - 1.0L);
}

std::string Sqrt2Approx::expression() const {
  std::ostringstream os;
  for (size_t i = 0; i < terms.size(); ++i) {
    const Sqrt2Term& t = terms[i];
    if (i > 0) os << (t.sign > 0 ? " + " : " - ");
    else if (t.sign < 0) os << "-";
    if (t.exponent == 0) os << "1";
    else os << "2^" << t.exponent;
  }
  return os.str();
}

Sqrt2Approx sqrt2_approx(int k) {
  if (k < kMinSqrt2Terms || k > kMaxSqrt2Terms) {
    throw ConfigError("invalid sqrt2 terms K = " + std::to_string(k) + ": expected an integer in [" +
                      std::to_string(kMinSqrt2Terms) + ", " + std::to_string(kMaxSqrt2Terms) + "]");
  }
  Sqrt2Approx a;
  a.k = k;
  // long double carries 64 mantissa bits; seven terms reach 2^-15, and the
  // residual's distance to the nearest candidates stays far above rounding.
  const long double target = std::sqrt(2.0L);
  long double sum = 0.0L;
  for (int i = 0; i < k; ++i) {
    const long double r = target - sum;
    const long double mag = std::fabs(r);
    // The two powers of two around |r|: 2^e <= |r| < 2^(e+1).
    int e = static_cast<int>(std::floor(std::log2(mag)));
    if (std::ldexp(1.0L, e) > mag) --e;
    if (std::ldexp(1.0L, e + 1) <= mag) ++e;
    const long double lo = std::ldexp(1.0L, e), hi = std::ldexp(1.0L, e + 1);
    const int exponent = (mag - lo <= hi - mag) ? e : e + 1;
    const int sign = r < 0 ? -1 : 1;
    a.terms.push_back({sign, exponent});
    sum += sign * std::ldexp(1.0L, exponent);
  }
  a.q = 0;
  for (const Sqrt2Term& t : a.terms) a.q = std::max(a.q, -t.exponent);
  a.c = 0;
  for (const Sqrt2Term& t : a.terms) a.c += t.sign * (int64_t{1} << (a.q + t.exponent));
  return a;
}

int64_t sqrt2_shift_add(int64_t a, const Sqrt2Approx& approx) {
  // Shifts of negative values are done on the unsigned representation (the
  // same bits a hardware shifter produces), so no signed-shift UB.
  uint64_t acc = 0;
  for (const Sqrt2Term& t : approx.terms) {
    const uint64_t shifted = static_cast<uint64_t>(a) << (approx.q + t.exponent);
    acc = t.sign > 0 ? acc + shifted : acc - shifted;
  }
  return static_cast<int64_t>(acc);
}

}  // namespace brsim
