// BRSLog code word, segment configuration and weight decoder (BRSLOG.md
// sections 1-3). Pure C++; the SystemC decoder and the golden model call it.
#pragma once

#include <cstdint>
#include <string>

namespace brsim {

constexpr int kMinWeightBits = 3;
constexpr int kMaxWeightBits = 8;

// Number of non-zero magnitude levels L = 2^(N-1) - 1 of an N-bit code.
constexpr int num_levels(int bits) { return (1 << (bits - 1)) - 1; }

// Per-layer (or per-output-channel) segment configuration (section 2).
struct SegmentConfig {
  int bits = 5;    // N, code word width in bits [3, 8]
  int n2 = 0;      // number of base-2 levels (the lowest ones), [0, L]
  int p = 0;       // boundary step: 0 = x sqrt2, 1 = x2
  int e_base = 0;  // the smallest level is 2^e_base

  int levels() const { return num_levels(bits); }
  int n1() const { return levels() - n2; }
  bool operator==(const SegmentConfig& o) const {
    return bits == o.bits && n2 == o.n2 && p == o.p && e_base == o.e_base;
  }
  bool operator!=(const SegmentConfig& o) const { return !(*this == o); }
};

// Throws ConfigError naming the field when bits, n2 or p is out of range.
void validate_bits(int bits);
void validate(const SegmentConfig& cfg);

// Code word layout (section 1): bit N-1 sign, bits N-2..0 magnitude index j.
inline uint32_t make_code(int sign, int j, int bits) {
  return (static_cast<uint32_t>(sign & 1) << (bits - 1)) | static_cast<uint32_t>(j);
}
inline int code_sign(uint32_t code, int bits) { return static_cast<int>((code >> (bits - 1)) & 1u); }
inline int code_index(uint32_t code, int bits) {
  return static_cast<int>(code & ((1u << (bits - 1)) - 1u));
}

// Half-step exponent h(j) of level j in [1, L]: |level| = 2^(e_base + h/2).
int half_exponent(int j, const SegmentConfig& cfg);

// Decoder output (section 3): what the AE needs for one weight.
struct DecodedWeight {
  bool zero = true;   // j == 0: the AE is gated
  bool sign = false;  // 1 = negative
  uint8_t shift = 0;  // h(j) >> 1
  uint8_t flag = 0;   // h(j) & 1: times sqrt2
  bool operator==(const DecodedWeight& o) const {
    return zero == o.zero && sign == o.sign && shift == o.shift && flag == o.flag;
  }
};

// Decodes one code word. The code must be < 2^bits (ConfigError otherwise).
DecodedWeight decode(uint32_t code, const SegmentConfig& cfg);

// The decoded fields as a PE's weight register holds them (and traces show
// them): bit 0 zero, 1 sign, 2 flag, 3.. shift.
inline uint64_t register_bits(const DecodedWeight& d) {
  return uint64_t{d.zero} | (uint64_t{d.sign} << 1) | (uint64_t{d.flag} << 2) | (uint64_t{d.shift} << 3);
}

// Largest shift any code of this configuration decodes to: h(L) >> 1.
int max_shift(const SegmentConfig& cfg);

// Ideal real values (exact sqrt2), section 3.
double ideal_magnitude(int j, const SegmentConfig& cfg);  // j in [0, L]
double ideal_value(uint32_t code, const SegmentConfig& cfg);

std::string to_string(const SegmentConfig& cfg);  // "n2:n1=6:9 p=0 e_base=-10"

}  // namespace brsim
