#include "brslog.h"

#include <cmath>
#include <sstream>

#include "errors.h"

namespace brsim {

void validate_bits(int bits) {
  if (bits < kMinWeightBits || bits > kMaxWeightBits) {
    throw ConfigError("invalid weight bits " + std::to_string(bits) + ": expected an integer in [" +
                      std::to_string(kMinWeightBits) + ", " + std::to_string(kMaxWeightBits) + "]");
  }
}

void validate(const SegmentConfig& cfg) {
  validate_bits(cfg.bits);
  const int L = cfg.levels();
  if (cfg.n2 < 0 || cfg.n2 > L) {
    throw ConfigError("invalid n2 " + std::to_string(cfg.n2) + " for " + std::to_string(cfg.bits) +
                      "-bit codes: expected n2 in [0, L] = [0, " + std::to_string(L) + "]");
  }
  if (cfg.p != 0 && cfg.p != 1) {
    throw ConfigError("invalid p " + std::to_string(cfg.p) + ": expected 0 (x sqrt2 step) or 1 (x2 step)");
  }
  // Keep every level a finite, normal double with room for the AE's scale.
  const int top = cfg.e_base + (half_exponent(L, cfg) + 1) / 2;
  if (cfg.e_base < -900 || top > 900) {
    throw ConfigError("invalid e_base " + std::to_string(cfg.e_base) +
                      ": the levels must lie within 2^-900 .. 2^900 (the top level of this split is 2^" +
                      std::to_string(top) + ")");
  }
}

int half_exponent(int j, const SegmentConfig& cfg) {
  if (cfg.n2 == 0) return j - 1;
  if (j <= cfg.n2) return 2 * (j - 1);
  return 2 * (cfg.n2 - 1) + (cfg.p ? 2 : 1) + (j - cfg.n2 - 1);
}

DecodedWeight decode(uint32_t code, const SegmentConfig& cfg) {
  if (code >= (1u << cfg.bits)) {
    throw ConfigError("code word " + std::to_string(code) + " does not fit in " + std::to_string(cfg.bits) +
                      " bits");
  }
  DecodedWeight d;
  const int j = code_index(code, cfg.bits);
  d.sign = code_sign(code, cfg.bits) != 0;
  d.zero = (j == 0);
  if (!d.zero) {
    const int h = half_exponent(j, cfg);
    d.shift = static_cast<uint8_t>(h >> 1);
    d.flag = static_cast<uint8_t>(h & 1);
  }
  return d;
}

int max_shift(const SegmentConfig& cfg) { return half_exponent(cfg.levels(), cfg) >> 1; }

double ideal_magnitude(int j, const SegmentConfig& cfg) {
  if (j == 0) return 0.0;
  const int h = half_exponent(j, cfg);
  const double pow2 = std::ldexp(1.0, cfg.e_base + (h >> 1));
  return (h & 1) ? pow2 * std::sqrt(2.0) : pow2;
}

double ideal_value(uint32_t code, const SegmentConfig& cfg) {
  const double m = ideal_magnitude(code_index(code, cfg.bits), cfg);
  return code_sign(code, cfg.bits) ? -m : m;
}

std::string to_string(const SegmentConfig& cfg) {
  std::ostringstream os;
  os << "n2:n1=" << cfg.n2 << ":" << cfg.n1() << " p=" << cfg.p << " e_base=" << cfg.e_base;
  return os.str();
}

}  // namespace brsim
