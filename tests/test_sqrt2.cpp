// The greedy signed power-of-two expansion of sqrt2 (BRSLOG.md section 4).
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "errors.h"
#include "sqrt2.h"

using namespace brsim;

TEST(Sqrt2, MatchesTheTableOfSection4) {
  struct Row {
    int k;
    int64_t c;
    int q;
    double error_percent;
  };
  // c_K / 2^q_K and the error column of BRSLOG.md section 4.
  const Row rows[] = {{1, 1, 0, -29.29}, {2, 3, 1, 6.07},      {3, 23, 4, 1.65},
                      {4, 91, 6, 0.54},  {5, 181, 7, -0.011}, {6, 11585, 13, -0.002}};
  for (const Row& r : rows) {
    const Sqrt2Approx a = sqrt2_approx(r.k);
    EXPECT_EQ(a.c, r.c) << "K=" << r.k;
    EXPECT_EQ(a.q, r.q) << "K=" << r.k;
    EXPECT_EQ(static_cast<int>(a.terms.size()), r.k);
    // The table rounds to its last printed digit.
    const double tolerance = r.k >= 5 ? 0.0011 : 0.0051;
    EXPECT_NEAR(a.relative_error() * 100.0, r.error_percent, tolerance) << "K=" << r.k;
  }
  EXPECT_EQ(sqrt2_approx(4).value(), 1.421875);
  EXPECT_EQ(sqrt2_approx(6).value(), 1.4141845703125);
  EXPECT_EQ(sqrt2_approx(4).expression(), "1 + 2^-1 - 2^-4 - 2^-6");
}

TEST(Sqrt2, EachTermIsTheNearestSignedPowerOfTwoToTheResidual) {
  for (int k = 1; k <= kMaxSqrt2Terms; ++k) {
    const Sqrt2Approx a = sqrt2_approx(k);
    long double sum = 0;
    for (const Sqrt2Term& t : a.terms) {
      const long double r = std::sqrt(2.0L) - sum;
      const long double chosen = std::fabs(r - t.sign * std::ldexp(1.0L, t.exponent));
      for (int e = -40; e <= 2; ++e)
        for (int s : {-1, 1}) EXPECT_LE(chosen, std::fabs(r - s * std::ldexp(1.0L, e))) << "K=" << k << " e=" << e;
      sum += t.sign * std::ldexp(1.0L, t.exponent);
    }
    EXPECT_EQ(static_cast<long double>(a.c), std::ldexp(sum, a.q));
  }
  // Each added term reduces the error.
  for (int k = 2; k <= kMaxSqrt2Terms; ++k)
    EXPECT_LT(std::fabs(sqrt2_approx(k).relative_error()), std::fabs(sqrt2_approx(k - 1).relative_error()));
}

TEST(Sqrt2, ShiftAddEqualsMultiplication) {
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<int64_t> dist(-(int64_t{1} << 31), (int64_t{1} << 31) - 1);
  for (int k = 1; k <= kMaxSqrt2Terms; ++k) {
    const Sqrt2Approx a = sqrt2_approx(k);
    for (int64_t x : {int64_t{0}, int64_t{1}, int64_t{-1}, -(int64_t{1} << 31), (int64_t{1} << 31) - 1})
      EXPECT_EQ(sqrt2_shift_add(x, a), x * a.c);
    for (int i = 0; i < 2000; ++i) {
      const int64_t x = dist(rng);
      EXPECT_EQ(sqrt2_shift_add(x, a), x * a.c);
    }
  }
}

TEST(Sqrt2, RejectsTermCountsOutOfRange) {
  for (int k : {0, -1, 8, 100}) {
    try {
      sqrt2_approx(k);
      FAIL() << "K=" << k << " accepted";
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find("expected an integer in [1, 7]"), std::string::npos);
    }
  }
}
