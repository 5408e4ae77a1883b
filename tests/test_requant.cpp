// Requantization (BRSLOG.md section 7): rounding at .5, negative values,
// r <= 0, ReLU, saturation at both ends (counted), bias in accumulator units.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "requant.h"

using namespace brsim;

TEST(Requantize, RoundsHalfUpAtPointFiveBoundaries) {
  const RequantParams r1{1, false, 16}, r2{2, false, 16};
  EXPECT_EQ(requantize(1, 0, r1), 1);    // 0.5 -> 1
  EXPECT_EQ(requantize(-1, 0, r1), 0);   // -0.5 -> 0
  EXPECT_EQ(requantize(3, 0, r1), 2);    // 1.5 -> 2
  EXPECT_EQ(requantize(-3, 0, r1), -1);  // -1.5 -> -1
  EXPECT_EQ(requantize(6, 0, r2), 2);    // 1.5 -> 2
  EXPECT_EQ(requantize(-6, 0, r2), -1);  // -1.5 -> -1
  EXPECT_EQ(requantize(5, 0, r2), 1);    // 1.25 -> 1
  EXPECT_EQ(requantize(-7, 0, r2), -2);  // -1.75 -> -2
  EXPECT_EQ(requantize(-5, 0, r2), -1);  // -1.25 -> -1
}

TEST(Requantize, AgreesWithFloorOfHalfUpOnRandomValues) {
  std::mt19937_64 rng(11);
  std::uniform_int_distribution<int64_t> dist(-(int64_t{1} << 40), int64_t{1} << 40);
  for (int r = 1; r <= 30; ++r) {
    for (int i = 0; i < 300; ++i) {
      const int64_t y = dist(rng);
      const long double want = std::floor(static_cast<long double>(y) / std::ldexp(1.0L, r) + 0.5L);
      RequantStats st;
      const int32_t got = requantize(y, 0, {r, false, 32}, &st);
      const long double clipped = std::fmin(std::fmax(want, -2147483648.0L), 2147483647.0L);
      ASSERT_EQ(static_cast<long double>(got), clipped) << "y=" << y << " r=" << r;
      EXPECT_EQ(st.saturated(), want != clipped ? 1u : 0u);
    }
  }
}

TEST(Requantize, NonPositiveShiftMovesLeft) {
  EXPECT_EQ(requantize(5, 0, {0, false, 16}), 5);
  EXPECT_EQ(requantize(5, 0, {-3, false, 16}), 40);
  EXPECT_EQ(requantize(-5, 0, {-3, false, 16}), -40);
  EXPECT_EQ(requantize(0, 0, {-200, false, 16}), 0);
  RequantStats st;
  EXPECT_EQ(requantize(1, 0, {-200, false, 16}, &st), 32767);
  EXPECT_EQ(requantize(-1, 0, {-63, false, 16}, &st), -32768);
  EXPECT_EQ(st.saturated_high, 1u);
  EXPECT_EQ(st.saturated_low, 1u);
}

TEST(Requantize, SaturatesAtBothEndsAndCounts) {
  RequantStats st;
  EXPECT_EQ(requantize(32767, 0, {0, false, 16}, &st), 32767);
  EXPECT_EQ(requantize(32768, 0, {0, false, 16}, &st), 32767);
  EXPECT_EQ(requantize(-32768, 0, {0, false, 16}, &st), -32768);
  EXPECT_EQ(requantize(-32769, 0, {0, false, 16}, &st), -32768);
  EXPECT_EQ(requantize(int64_t{1} << 60, 0, {1, false, 8}, &st), 127);
  EXPECT_EQ(st.outputs, 5u);
  EXPECT_EQ(st.saturated_high, 2u);
  EXPECT_EQ(st.saturated_low, 1u);
  EXPECT_EQ(requantize(INT64_MAX, INT64_MAX, {0, false, 32}), 2147483647);  // no wrap in y
  EXPECT_EQ(requantize(INT64_MIN, INT64_MIN, {120, false, 32}), 0);  // -2^64 / 2^120 rounds to 0
  EXPECT_EQ(requantize(-5, 0, {99, false, 32}), requantize(-5, 0, {100, false, 32}));
}

TEST(Requantize, ReluAndBias) {
  EXPECT_EQ(requantize(-100, 0, {2, true, 16}), 0);
  EXPECT_EQ(requantize(-100, 120, {2, true, 16}), 5);  // (20 + 2) >> 2
  RequantStats st;
  EXPECT_EQ(requantize(-1000000, 0, {0, true, 16}, &st), 0);
  EXPECT_EQ(st.saturated(), 0u);  // ReLU comes before saturation
  EXPECT_EQ(requant_shift(7, 6, -10, 5), 18);
}

TEST(QuantizeBias, RoundsToAccumulatorUnitsAndSaturates) {
  EXPECT_EQ(quantize_bias(0.75, 2, 48), 3);
  EXPECT_EQ(quantize_bias(-0.625, 2, 48), -3);  // -2.5 -> -3
  EXPECT_EQ(quantize_bias(1.0, -1, 48), 1);     // 0.5 -> 1
  bool sat = false;
  EXPECT_EQ(quantize_bias(1.0, 10, 8, &sat), 127);
  EXPECT_TRUE(sat);
  EXPECT_EQ(quantize_bias(-1.0, 10, 8, &sat), -128);
  EXPECT_TRUE(sat);
  EXPECT_EQ(quantize_bias(0.1, 4, 8, &sat), 2);
  EXPECT_FALSE(sat);
}
