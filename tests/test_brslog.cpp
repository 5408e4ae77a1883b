// Code word and decoder (BRSLOG.md sections 1-3): every code word of every
// segment configuration for bits 3..8 against the section-2 formula, which
// the test evaluates on its own from the level steps.
#include <gtest/gtest.h>

#include <cmath>

#include "brslog.h"
#include "config_error.h"
#include "errors.h"

using namespace brsim;

namespace {

// Half exponents of levels 1..L built from the steps between neighbours:
// x2 (two half steps) inside the base-2 segment, x sqrt2 (one half step)
// inside the sqrt2 segment, and x sqrt2 or x2 (p) at the boundary.
std::vector<int> half_exponents_by_steps(int L, int n2, int p) {
  std::vector<int> h(L + 1, 0);
  for (int j = 2; j <= L; ++j) {
    int step;
    if (n2 == 0) step = 1;
    else if (j <= n2) step = 2;
    else if (j == n2 + 1) step = p ? 2 : 1;
    else step = 1;
    h[j] = h[j - 1] + step;
  }
  return h;
}

}  // namespace

TEST(CodeWord, FieldsRoundTripForEveryWidth) {
  for (int bits = kMinWeightBits; bits <= kMaxWeightBits; ++bits) {
    const int L = num_levels(bits);
    EXPECT_EQ(L, (1 << (bits - 1)) - 1);
    for (uint32_t code = 0; code < (1u << bits); ++code) {
      const int s = code_sign(code, bits), j = code_index(code, bits);
      EXPECT_EQ(s, static_cast<int>(code >> (bits - 1)));
      EXPECT_LE(j, L);
      EXPECT_EQ(make_code(s, j, bits), code);
    }
  }
}

TEST(Decoder, EveryCodeEveryConfigurationMatchesSection2) {
  size_t checked = 0;
  for (int bits = kMinWeightBits; bits <= kMaxWeightBits; ++bits) {
    const int L = num_levels(bits);
    for (int n2 = 0; n2 <= L; ++n2) {
      for (int p = 0; p <= 1; ++p) {
        const std::vector<int> h = half_exponents_by_steps(L, n2, p);
        for (int e_base : {-12, 0, 3}) {
          const SegmentConfig cfg{bits, n2, p, e_base};
          ASSERT_NO_THROW(validate(cfg));
          double previous = 0.0;
          for (uint32_t code = 0; code < (1u << bits); ++code) {
            const int s = static_cast<int>(code >> (bits - 1));
            const int j = static_cast<int>(code & ((1u << (bits - 1)) - 1));
            const DecodedWeight d = decode(code, cfg);
            EXPECT_EQ(d.zero, j == 0);
            EXPECT_EQ(d.sign, s == 1);
            const double v = ideal_value(code, cfg);
            if (j == 0) {
              EXPECT_EQ(v, 0.0);
              EXPECT_EQ(d.shift, 0);
              EXPECT_EQ(d.flag, 0);
              continue;
            }
            EXPECT_EQ(half_exponent(j, cfg), h[j]) << to_string(cfg) << " j=" << j;
            EXPECT_EQ(d.shift, h[j] / 2);
            EXPECT_EQ(d.flag, h[j] % 2);
            const double expect = std::pow(2.0, e_base + h[j] / 2.0);
            EXPECT_NEAR(std::fabs(v), expect, expect * 1e-15);
            EXPECT_EQ(v < 0, s == 1);
            if (s == 0) {
              EXPECT_GT(v, previous) << "levels must ascend strictly with j: " << to_string(cfg) << " j=" << j;
              previous = v;
            }
            ++checked;
          }
          EXPECT_EQ(max_shift(cfg), h[L] / 2);
        }
      }
    }
  }
  EXPECT_GT(checked, 100000u);
}

TEST(Decoder, SmallestLevelIsTwoToTheEBase) {
  for (int n2 : {0, 1, 6, 15}) {
    const SegmentConfig cfg{5, n2, 0, -7};
    EXPECT_EQ(ideal_value(1, cfg), std::ldexp(1.0, -7));
  }
}

TEST(Decoder, N2ZeroAndOneGiveTheSameLevels) {
  for (int bits = kMinWeightBits; bits <= kMaxWeightBits; ++bits)
    for (int j = 1; j <= num_levels(bits); ++j)
      EXPECT_EQ(half_exponent(j, {bits, 0, 0, 0}), half_exponent(j, {bits, 1, 0, 0}));
}

TEST(Decoder, FiveBitShiftFitsFourBits) {
  for (int n2 = 0; n2 <= 15; ++n2)
    for (int p = 0; p <= 1; ++p) EXPECT_LE(max_shift({5, n2, p, 0}), 14);
  EXPECT_EQ(max_shift({5, 15, 0, 0}), 14);
}

TEST(SegmentConfigValidation, RejectsBadFieldsWithClearMessages) {
  auto message = [](const SegmentConfig& c) { return brsim_test::config_error([&] { validate(c); }); };
  EXPECT_NE(message({2, 0, 0, 0}).find("invalid weight bits 2"), std::string::npos);
  EXPECT_NE(message({9, 0, 0, 0}).find("[3, 8]"), std::string::npos);
  EXPECT_NE(message({5, 16, 0, 0}).find("n2 in [0, L] = [0, 15]"), std::string::npos);
  EXPECT_NE(message({5, -1, 0, 0}).find("invalid n2 -1"), std::string::npos);
  EXPECT_NE(message({5, 3, 2, 0}).find("invalid p 2"), std::string::npos);
  EXPECT_EQ(message({8, 127, 1, -20}), "no error");
  EXPECT_THROW(decode(32, {5, 0, 0, 0}), ConfigError);
}
