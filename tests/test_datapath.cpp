// The AE datapath (BRSLOG.md section 6): every code word x every K x random
// and edge activations against 128-bit arithmetic; the wrapping accumulator's
// overflow counts at its boundary; datapath limits; the fixed16 format.
#include <gtest/gtest.h>

#include <random>

#include "datapath.h"
#include "errors.h"

using namespace brsim;

namespace {

std::vector<int64_t> activations(int act_bits, std::mt19937_64& rng) {
  const int64_t lo = -(int64_t{1} << (act_bits - 1)), hi = (int64_t{1} << (act_bits - 1)) - 1;
  std::vector<int64_t> a = {0, 1, -1, lo, hi, lo + 1, hi - 1};
  std::uniform_int_distribution<int64_t> dist(lo, hi);
  for (int i = 0; i < 24; ++i) a.push_back(dist(rng));
  return a;
}

// The product of section 6 in 128 bits: a * c_K * 2^shift for the sqrt2 path,
// a * 2^(q_K + shift) for the base-2 path, from the test's own decode of h.
__int128 reference_product(int64_t a, uint32_t code, const SegmentConfig& cfg, int64_t c, int q) {
  const int j = static_cast<int>(code & ((1u << (cfg.bits - 1)) - 1));
  if (j == 0) return 0;
  const bool negative = (code >> (cfg.bits - 1)) & 1u;
  const int h = half_exponent(j, cfg);
  __int128 v = (h & 1) ? static_cast<__int128>(a) * c * (static_cast<__int128>(1) << (h / 2))
                       : static_cast<__int128>(a) * (static_cast<__int128>(1) << (q + h / 2));
  return negative ? -v : v;
}

}  // namespace

TEST(ArithmeticElement, EveryCodeTimesEdgeAndRandomActivations) {
  std::mt19937_64 rng(2024);
  const std::vector<int64_t> acts = activations(16, rng);
  // The expected values of c_K from BRSLOG.md's table, independent of sqrt2_approx.
  const int64_t c_table[] = {0, 1, 3, 23, 91, 181, 11585};
  const int q_table[] = {0, 0, 1, 4, 6, 7, 13};
  size_t checked = 0;
  for (int k = 1; k <= 6; ++k) {
    const Sqrt2Approx approx = sqrt2_approx(k);
    for (int n2 = 0; n2 <= 15; ++n2) {
      for (int p = 0; p <= 1; ++p) {
        const SegmentConfig cfg{5, n2, p, -10};
        for (uint32_t code = 0; code < 32; ++code) {
          const DecodedWeight d = decode(code, cfg);
          const int64_t w_eff = ae_effective_weight(d, approx);
          for (int64_t a : acts) {
            const int64_t got = ae_product(a, d, approx);
            const __int128 want = reference_product(a, code, cfg, c_table[k], q_table[k]);
            ASSERT_TRUE(static_cast<__int128>(got) == want) << "K=" << k << " " << to_string(cfg) << " code=" << code
                                                             << " a=" << a;
            ASSERT_EQ(a * w_eff, got);
            ++checked;
          }
        }
      }
    }
  }
  EXPECT_EQ(checked, 6u * 16 * 2 * 32 * acts.size());
}

TEST(ArithmeticElement, WideCodesAndSevenTerms) {
  std::mt19937_64 rng(99);
  const Sqrt2Approx approx = sqrt2_approx(7);
  DatapathConfig dp;
  dp.sqrt2_terms = 7;
  dp.shift_bits = 6;
  dp.acc_bits = 64;
  for (int bits = 3; bits <= 8; ++bits) {
    for (int n2 = 0; n2 <= num_levels(bits); n2 += 3) {
      const SegmentConfig cfg{bits, n2, 1, 0};
      if (!realizable(cfg, dp)) continue;
      for (uint32_t code = 0; code < (1u << bits); ++code)
        for (int64_t a : activations(16, rng)) {
          const __int128 want = reference_product(a, code, cfg, approx.c, approx.q);
          ASSERT_TRUE(static_cast<__int128>(ae_product(a, decode(code, cfg), approx)) == want);
        }
    }
  }
}

TEST(Accumulator, WrapsAndCountsAtTheBoundary) {
  Accumulator acc(8);  // [-128, 127]
  acc.add(127);
  EXPECT_EQ(acc.value(), 127);
  EXPECT_EQ(acc.overflows(), 0u);
  acc.add(1);  // 128 leaves the range: wraps to -128
  EXPECT_EQ(acc.value(), -128);
  EXPECT_EQ(acc.overflows(), 1u);
  acc.add(-1);  // -129 wraps to 127
  EXPECT_EQ(acc.value(), 127);
  EXPECT_EQ(acc.overflows(), 2u);
  acc.add(-255);  // -128: in range
  EXPECT_EQ(acc.value(), -128);
  EXPECT_EQ(acc.overflows(), 2u);
  acc.add(0);
  EXPECT_EQ(acc.overflows(), 2u);
}

TEST(Accumulator, MatchesModularArithmeticOnRandomSequences) {
  std::mt19937_64 rng(5);
  for (int bits : {8, 20, 33, 48, 63, 64}) {
    Accumulator acc(bits);
    const __int128 modulus = static_cast<__int128>(1) << bits;
    const __int128 half = modulus / 2;
    const int64_t max_p = static_cast<int64_t>(half - 1);
    std::uniform_int_distribution<int64_t> dist(-max_p, max_p);
    __int128 exact = 0;  // the test's own wrapped value
    uint64_t overflows = 0;
    for (int i = 0; i < 5000; ++i) {
      const int64_t p = (i % 7 == 0) ? max_p : dist(rng) / ((i % 3) + 1);
      exact += p;
      if (exact >= half || exact < -half) ++overflows;
      exact = ((exact % modulus) + modulus) % modulus;
      if (exact >= half) exact -= modulus;
      acc.add(p);
      ASSERT_TRUE(static_cast<__int128>(acc.value()) == exact) << "bits=" << bits << " step " << i;
    }
    EXPECT_EQ(acc.overflows(), overflows) << "bits=" << bits;
    EXPECT_GT(overflows, 0u);
  }
}

TEST(DatapathLimits, DefaultsRealizeEveryFiveBitConfiguration) {
  const DatapathConfig dp;
  for (int n2 = 0; n2 <= 15; ++n2)
    for (int p = 0; p <= 1; ++p) EXPECT_TRUE(realizable({5, n2, p, -10}, dp));
}

TEST(DatapathLimits, NamesTheLimitAndTheSmallestValueThatWorks) {
  DatapathConfig dp;  // A = 16, K = 4: largest product 2^15 * 91 * 2^14 needs 37 bits
  EXPECT_EQ(min_acc_bits(14, dp), 37);
  dp.acc_bits = 36;
  try {
    check_realizable({5, 15, 0, 0}, dp);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("acc_bits >= 37"), std::string::npos) << e.what();
  }
  dp.acc_bits = 37;
  EXPECT_NO_THROW(check_realizable({5, 15, 0, 0}, dp));
  // 6-bit codes with 31 base-2 levels shift by 30: a 4-bit field is too small.
  dp = DatapathConfig{};
  try {
    check_realizable({6, 31, 0, 0}, dp);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("shift_bits >= 5"), std::string::npos) << e.what();
  }
  EXPECT_EQ(min_shift_bits(15), 4);
  EXPECT_EQ(min_shift_bits(16), 5);
}

TEST(DatapathLimits, RejectsInvalidWidthsAndTerms) {
  for (auto mutate : std::vector<void (*)(DatapathConfig&)>{
           [](DatapathConfig& d) { d.act_bits = 1; }, [](DatapathConfig& d) { d.act_bits = 33; },
           [](DatapathConfig& d) { d.acc_bits = 65; }, [](DatapathConfig& d) { d.shift_bits = 0; },
           [](DatapathConfig& d) { d.sqrt2_terms = 0; }, [](DatapathConfig& d) { d.sqrt2_terms = 8; }}) {
    DatapathConfig dp;
    mutate(dp);
    EXPECT_THROW(validate(dp), ConfigError);
  }
}

TEST(Fixed16, FormatAndRounding) {
  EXPECT_EQ(fixed16_format(1.0), 14);  // round(1 * 2^15) = 32768 does not fit
  EXPECT_EQ(fixed16_format(0.5), 15);
  EXPECT_EQ(fixed16_format(0.99999), 14);  // round(0.99999 * 32768) = 32768 > 32767
  EXPECT_EQ(fixed16_format(0.9999), 15);   // 32764.7 -> 32765
  EXPECT_EQ(fixed16_format(3.0), 13);
  EXPECT_EQ(fixed16_format(0.0), 0);
  EXPECT_EQ(fixed16_quantize(0.5, 15), 16384);
  EXPECT_EQ(fixed16_quantize(-1.0, 15), -32768);
  EXPECT_EQ(fixed16_quantize(1.0, 15), 32767);  // saturates
  EXPECT_EQ(fixed16_quantize(2.5 / 16384, 14), 3);   // 2.5 -> 3 (half away from zero)
  EXPECT_EQ(fixed16_quantize(-2.5 / 16384, 14), -3);
  EXPECT_EQ(fixed16_product(-32768, -32768), int64_t{1} << 30);
}

TEST(Wrap, SignExtendsAndSaturates) {
  EXPECT_EQ(wrap_to_bits(static_cast<__int128>(1) << 47, 48), -(int64_t{1} << 47));
  EXPECT_EQ(wrap_to_bits(-1, 48), -1);
  EXPECT_EQ(wrap_to_bits(static_cast<__int128>(1) << 64, 64), 0);
  EXPECT_EQ(saturate_to_bits(1000, 8), 127);
  EXPECT_EQ(saturate_to_bits(-1000, 8), -128);
}
