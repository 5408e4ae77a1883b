// The golden reference (testbench/golden.h) against the test's own naive
// loops: every expected value comes from ae_product (the shift-add path, not
// the effective weight the golden model multiplies by) or fixed16_product,
// summed k-ascending into an Accumulator, or from numbers worked out by hand.
#include <gtest/gtest.h>

#include <functional>
#include <random>
#include <string>

#include "config_error.h"
#include "errors.h"
#include "golden.h"
#include "host_threads.h"
#include "sqrt2.h"

using namespace brsim;

namespace {

using Rng = std::mt19937_64;

int64_t uniform(Rng& rng, int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); }

// A random segment configuration that `dp` realizes.
SegmentConfig random_config(Rng& rng, const DatapathConfig& dp) {
  for (;;) {
    SegmentConfig cfg;
    cfg.bits = static_cast<int>(uniform(rng, 3, 8));
    cfg.n2 = static_cast<int>(uniform(rng, 0, num_levels(cfg.bits)));
    cfg.p = static_cast<int>(uniform(rng, 0, 1));
    cfg.e_base = static_cast<int>(uniform(rng, -16, 4));
    if (realizable(cfg, dp)) return cfg;
  }
}

// Activations biased towards the edges of the A-bit range, 0 and +-1.
int32_t random_activation(Rng& rng, int act_bits) {
  const int64_t lo = -(int64_t{1} << (act_bits - 1)), hi = (int64_t{1} << (act_bits - 1)) - 1;
  switch (uniform(rng, 0, 7)) {
    case 0: return static_cast<int32_t>(lo);
    case 1: return static_cast<int32_t>(hi);
    case 2: return 0;
    case 3: return static_cast<int32_t>(uniform(rng, -1, 1));
    default: return static_cast<int32_t>(uniform(rng, lo, hi));
  }
}

int16_t random_fixed16(Rng& rng) {
  switch (uniform(rng, 0, 5)) {
    case 0: return -32768;
    case 1: return 32767;
    case 2: return 0;
    default: return static_cast<int16_t>(uniform(rng, -32768, 32767));
  }
}

const SegmentConfig& column_config(const IntWeights& w, int64_t m) {
  return w.configs.size() == 1 ? w.configs[0] : w.configs[static_cast<size_t>(m)];
}

// The AE product of weight W[k][m], as the hardware computes it.
int64_t ae(int64_t a, const IntWeights& w, int64_t k, int64_t m, const Sqrt2Approx& approx) {
  const size_t i = static_cast<size_t>(k * w.m + m);
  return w.fixed16 ? fixed16_product(a, w.fixed[i]) : ae_product(a, decode(w.codes[i], column_config(w, m)), approx);
}

bool is_zero_weight(const IntWeights& w, size_t i, int64_t m) {
  if (w.fixed16) return w.fixed[i] == 0;
  const int bits = column_config(w, m).bits;
  return (w.codes[i] & ((1u << (bits - 1)) - 1u)) == 0;  // j == 0, either sign
}

uint64_t zero_weights(const IntWeights& w) {
  uint64_t n = 0;
  for (int64_t k = 0; k < w.k; ++k)
    for (int64_t m = 0; m < w.m; ++m) n += is_zero_weight(w, static_cast<size_t>(k * w.m + m), m);
  return n;
}

struct Naive {
  std::vector<int64_t> acc;
  uint64_t overflows = 0;
};

// Naive GEMM: one Accumulator per output, products added k-ascending.
Naive naive_gemm(const std::vector<int32_t>& a, int64_t p, const IntWeights& w, const DatapathConfig& dp) {
  const Sqrt2Approx approx = sqrt2_approx(dp.sqrt2_terms);
  Naive r;
  for (int64_t pi = 0; pi < p; ++pi)
    for (int64_t mi = 0; mi < w.m; ++mi) {
      Accumulator acc(dp.acc_bits);
      for (int64_t ki = 0; ki < w.k; ++ki) acc.add(ae(a[static_cast<size_t>(pi * w.k + ki)], w, ki, mi, approx));
      r.acc.push_back(acc.value());
      r.overflows += acc.overflows();
    }
  return r;
}

// A random GEMM case. mode 0: wide accumulator; 1: the defaults' 48 bits where
// realizable; 2: the tightest accumulator the configurations allow (+0/1 bit),
// so that sums of extreme products overflow; 3: fixed16 on a tight accumulator.
struct GemmCase {
  int64_t p = 0;
  DatapathConfig dp;
  IntWeights w;
  std::vector<int32_t> a;
};

GemmCase random_gemm_case(Rng& rng, int mode) {
  GemmCase c;
  c.p = uniform(rng, 1, 40);
  c.w.k = uniform(rng, 1, 40);
  c.w.m = uniform(rng, 1, 40);
  c.dp.act_bits = static_cast<int>(uniform(rng, 2, 20));
  c.dp.sqrt2_terms = static_cast<int>(uniform(rng, 1, 7));
  c.dp.shift_bits = 6;
  c.dp.acc_bits = 64;
  const size_t n = static_cast<size_t>(c.w.k * c.w.m);
  if (mode == 3) {
    c.w.fixed16 = true;
    for (size_t i = 0; i < n; ++i) c.w.fixed.push_back(random_fixed16(rng));
    c.dp.acc_bits = c.dp.act_bits + 16 + static_cast<int>(uniform(rng, 0, 1));
  } else {
    const int64_t ncfg = uniform(rng, 0, 1) ? 1 : c.w.m;  // per layer or per column
    int needed = 8;
    for (int64_t i = 0; i < ncfg; ++i) {
      c.w.configs.push_back(random_config(rng, c.dp));
      needed = std::max(needed, min_acc_bits(max_shift(c.w.configs.back()), c.dp));
    }
    if (mode == 1) c.dp.acc_bits = std::max(needed, 48);
    if (mode == 2) c.dp.acc_bits = std::min<int>(64, needed + static_cast<int>(uniform(rng, 0, 1)));
    for (int64_t k = 0; k < c.w.k; ++k)
      for (int64_t m = 0; m < c.w.m; ++m)
        c.w.codes.push_back(static_cast<uint32_t>(uniform(rng, 0, (1 << column_config(c.w, m).bits) - 1)));
  }
  for (int64_t i = 0; i < c.p * c.w.k; ++i) c.a.push_back(random_activation(rng, c.dp.act_bits));
  return c;
}

void expect_substr(const std::function<void()>& f, const std::string& needle) {
  const std::string m = brsim_test::config_error(f);
  EXPECT_NE(m.find(needle), std::string::npos) << "expected a ConfigError mentioning \"" << needle << "\", got: " << m;
}

}  // namespace

// ---------------------------------------------------------------- GEMM / FC

TEST(GoldenGemm, MatchesNaiveShiftAddOnRandomShapesAndConfigs) {
  Rng rng(7);
  int overflowing_cases[4] = {0, 0, 0, 0}, narrowest_overflowing = 64;
  for (int iter = 0; iter < 240; ++iter) {
    const int mode = iter % 4;
    const GemmCase c = random_gemm_case(rng, mode);
    const Naive want = naive_gemm(c.a, c.p, c.w, c.dp);
    GoldenStats st;
    const std::vector<int64_t> got = golden_gemm(c.a.data(), c.p, c.w, c.dp, &st);
    ASSERT_EQ(got, want.acc) << "iter " << iter << " P,K,M = " << c.p << "," << c.w.k << "," << c.w.m
                             << " acc_bits " << c.dp.acc_bits;
    ASSERT_EQ(st.acc_overflows, want.overflows) << "iter " << iter;
    EXPECT_EQ(st.macs, static_cast<uint64_t>(c.p * c.w.k * c.w.m));
    EXPECT_EQ(st.zero_weight_macs, static_cast<uint64_t>(c.p) * zero_weights(c.w));
    overflowing_cases[mode] += want.overflows > 0;
    if (want.overflows > 0) narrowest_overflowing = std::min(narrowest_overflowing, c.dp.acc_bits);
  }
  // Tight accumulators really overflow (BRSLog and fixed16), narrow ones too.
  EXPECT_GT(overflowing_cases[2], 15);
  EXPECT_GT(overflowing_cases[3], 30);
  EXPECT_LE(narrowest_overflowing, 20);
}

// Large BRSLog matrices keep their codes and the GEMM decodes them a block
// of rows at a time: with every matrix kept so (decode limit 0), the same
// sums, overflows and counters as the naive GEMM.
TEST(GoldenGemm, CodedWeightsMatchNaive) {
  Rng rng(11);
  int coded = 0, overflowing = 0;
  for (int iter = 0; iter < 180; ++iter) {
    GemmCase c = random_gemm_case(rng, iter % 3);
    if (iter % 5 == 0) {  // more than one block of rows (2^16 values) at M = 3000
      c.w.m = 3000, c.w.configs.resize(1), c.w.codes.clear();
      for (int64_t i = 0; i < c.w.k * c.w.m; ++i)
        c.w.codes.push_back(static_cast<uint8_t>(uniform(rng, 0, (1 << c.w.configs[0].bits) - 1)));
    }
    const EffectiveWeights ew = effective_weights(c.w, c.dp, 0);
    coded += !ew.codes.empty();
    const Naive want = naive_gemm(c.a, c.p, c.w, c.dp);
    GoldenStats st;
    ASSERT_EQ(golden_gemm(c.a.data(), c.p, ew, &st), want.acc) << "iter " << iter;
    ASSERT_EQ(st.acc_overflows, want.overflows) << "iter " << iter;
    EXPECT_EQ(st.zero_weight_macs, static_cast<uint64_t>(c.p) * zero_weights(c.w));
    overflowing += want.overflows > 0;
  }
  EXPECT_GT(coded, 80);  // (those whose weights fit int32)
  EXPECT_GT(overflowing, 10);
  // The default limit: small matrices decoded, 2^22 weights and more coded.
  GemmCase big = random_gemm_case(rng, 1);
  EXPECT_TRUE(effective_weights(big.w, big.dp).codes.empty());
  big.w.k = 2048, big.w.m = 2048, big.w.configs.resize(1);
  big.w.codes.assign(size_t{1} << 22, 3);
  const EffectiveWeights ew = effective_weights(big.w, big.dp);
  EXPECT_EQ(ew.codes.size(), size_t{1} << 22);
  EXPECT_TRUE(ew.w_eff32.empty());
}

// 63- and 64-bit accumulators take the golden model's widest paths: configs
// whose largest product needs exactly that width, all-extreme activations.
TEST(GoldenGemm, MatchesNaiveOnFullWidthAccumulators) {
  Rng rng(63);
  for (int acc_bits : {63, 64}) {
    DatapathConfig dp;
    dp.act_bits = 32;
    dp.shift_bits = 6;
    dp.acc_bits = 64;
    std::vector<SegmentConfig> cfgs;
    for (int bits = 6; bits <= 8; ++bits)
      for (int n2 = 0; n2 <= num_levels(bits); ++n2) {
        const SegmentConfig cfg{bits, n2, 0, 0};
        if (realizable(cfg, dp) && min_acc_bits(max_shift(cfg), dp) == acc_bits) cfgs.push_back(cfg);
      }
    ASSERT_FALSE(cfgs.empty());
    dp.acc_bits = acc_bits;
    IntWeights w;
    w.k = 24;
    w.m = static_cast<int64_t>(cfgs.size());
    w.configs = cfgs;
    for (int64_t i = 0; i < w.k * w.m; ++i) {
      const int bits = cfgs[static_cast<size_t>(i % w.m)].bits;  // the top levels, either sign
      const int j = num_levels(bits) - static_cast<int>(uniform(rng, 0, 2));
      w.codes.push_back(make_code(static_cast<int>(uniform(rng, 0, 1)), j, bits));
    }
    std::vector<int32_t> a;
    for (int i = 0; i < 3 * 24; ++i)
      a.push_back(i % 3 == 0 ? INT32_MIN : (i % 3 == 1 ? INT32_MAX : random_activation(rng, 32)));
    const Naive want = naive_gemm(a, 3, w, dp);
    GoldenStats st;
    EXPECT_EQ(golden_gemm(a.data(), 3, w, dp, &st), want.acc) << acc_bits;
    EXPECT_EQ(st.acc_overflows, want.overflows);
    EXPECT_GT(want.overflows, 0u);
  }
}

// n2 = 6, p = 0, e_base = -10, K = 4 (A_4 = 91/64, q = 6), 5-bit codes. The
// accumulator's unit is 2^(e_base - q) = 2^-16, so a base-2 level 2^(e_base+s)
// is 64 << s units and a sqrt2 level 2^(e_base+s) * A_4 is 91 << s units:
//   j = 1: h = 0  -> shift 0, flag 0 ->   64     (2^-10)
//   j = 2: h = 2  -> shift 1, flag 0 ->  128     (2^-9)
//   j = 3: h = 4  -> shift 2, flag 0 ->  256     (2^-8)
//   j = 7: h = 11 -> shift 5, flag 1 ->  91 << 5 = 2912  (2^-5 * A_4)
//   j = 9: h = 13 -> shift 6, flag 1 ->  91 << 6 = 5824  (2^-4 * A_4)
// W[3 x 2] = [[+j1, -j7], [0, +j3], [-j2, +j9]] = [[64, -2912], [0, 256], [-128, 5824]]
// A[2 x 3] = [[3, -5, 2], [-1, 0, 7]]
//   O[0,0] = 3*64 + 0 + 2*(-128)              =   -64
//   O[0,1] = 3*(-2912) + (-5)*256 + 2*5824    =  1632
//   O[1,0] = -64 + 0 + 7*(-128)               =  -960
//   O[1,1] = 2912 + 0 + 7*5824                = 43680
TEST(GoldenGemm, HandComputedTinyExample) {
  const SegmentConfig cfg{5, 6, 0, -10};
  IntWeights w;
  w.k = 3;
  w.m = 2;
  w.configs = {cfg};
  w.codes = {1, 0x10 | 7, 0, 3, 0x10 | 2, 9};  // make_code(sign, j, 5)
  const std::vector<int32_t> a = {3, -5, 2, -1, 0, 7};
  GoldenStats st;
  EXPECT_EQ(golden_gemm(a.data(), 2, w, DatapathConfig{}, &st), (std::vector<int64_t>{-64, 1632, -960, 43680}));
  EXPECT_EQ(st.macs, 12u);
  EXPECT_EQ(st.zero_weight_macs, 2u);
  EXPECT_EQ(st.acc_overflows, 0u);
}

// An 8-bit accumulator [-128, 127] with 2-bit activations, K = 1 and 3-bit
// all-base-2 codes (w_eff = 1, 2, 4): seventeen products (-2) * 4 = -8 reach
// -128 after sixteen adds (in range) and -136 on the seventeenth, which wraps
// to -136 + 256 = 120 and counts one overflow. Column 1 (w = 1) sums to -17.
TEST(GoldenGemm, HandComputedOverflowWraps) {
  DatapathConfig dp;
  dp.act_bits = 2;
  dp.acc_bits = 8;
  dp.shift_bits = 2;
  dp.sqrt2_terms = 1;
  IntWeights w;
  w.k = 17;
  w.m = 2;
  w.configs = {{3, 3, 0, 0}};
  for (int k = 0; k < 17; ++k) {
    w.codes.push_back(make_code(0, 3, 3));
    w.codes.push_back(make_code(0, 1, 3));
  }
  const std::vector<int32_t> a(17, -2);
  GoldenStats st;
  EXPECT_EQ(golden_gemm(a.data(), 1, w, dp, &st), (std::vector<int64_t>{120, -34}));
  EXPECT_EQ(st.acc_overflows, 1u);
}

TEST(GoldenGemm, CountersAndNegativeZeroCodes) {
  // 4-bit codes: 0 and 8 (sign set, j = 0) are both zero weights.
  IntWeights w;
  w.k = 2;
  w.m = 3;
  w.configs = {{4, 2, 1, -3}};
  w.codes = {0, 8, 1, 9, 0, 7};
  const std::vector<int32_t> a = {5, -6, 0, 0, 7, 7, -1, 2};
  GoldenStats st;
  st.macs = 100;  // counts add to what the object already holds
  const std::vector<int64_t> got = golden_gemm(a.data(), 4, w, DatapathConfig{}, &st);
  EXPECT_EQ(got, naive_gemm(a, 4, w, DatapathConfig{}).acc);
  EXPECT_EQ(st.macs, 100u + 4 * 2 * 3);
  EXPECT_EQ(st.zero_weight_macs, 4u * 3);
  // The prepared weights give the same values and counts.
  const EffectiveWeights ew = effective_weights(w, DatapathConfig{});
  EXPECT_EQ(ew.zero_weights, 3u);
  GoldenStats st2;
  EXPECT_EQ(golden_gemm(a.data(), 4, ew, &st2), got);
  EXPECT_EQ(st2.zero_weight_macs, 12u);
  EXPECT_TRUE(golden_gemm(a.data(), 0, ew).empty());
}

TEST(GoldenGemm, TransposesMkWeights) {
  // [M x K] = [2 x 3] row-major -> W[K x M]
  const IntWeights w = IntWeights::from_brslog_mk({1, 2, 3, 4, 5, 6}, 2, 3, {{5, 6, 0, -10}});
  EXPECT_EQ(w.k, 3);
  EXPECT_EQ(w.m, 2);
  EXPECT_EQ(w.codes, (std::vector<uint8_t>{1, 4, 2, 5, 3, 6}));
  EXPECT_FALSE(w.fixed16);
  const IntWeights f = IntWeights::from_fixed16_mk({-1, 2, 3, 4, 5, -32768}, 3, 2);
  EXPECT_EQ(f.fixed, (std::vector<int16_t>{-1, 3, 5, 2, 4, -32768}));
  EXPECT_TRUE(f.fixed16);
}

// The transpose (64 x 64 blocks, row blocks on host threads) and the
// decode of large matrices: the element-by-element result on any number of
// threads, also for sizes that are no multiple of the block.
TEST(GoldenGemm, LargeTransposesAndDecodesAreTheSameOnAnyNumberOfThreads) {
  std::mt19937_64 rng(9);
  const int64_t m = 131, k = 200;
  std::vector<uint8_t> codes(static_cast<size_t>(m * k));
  std::vector<int16_t> fixed(codes.size());
  for (size_t i = 0; i < codes.size(); ++i) codes[i] = static_cast<uint8_t>(rng() % 32), fixed[i] = static_cast<int16_t>(rng());
  std::vector<SegmentConfig> cfgs;
  for (int64_t c = 0; c < m; ++c) cfgs.push_back({5, static_cast<int>(c % 16), 0, -8});
  DatapathConfig dp;
  for (int threads : {1, 2, 3}) {
    set_host_threads(threads);
    const IntWeights w = IntWeights::from_brslog_mk(codes, m, k, cfgs);
    const IntWeights f = IntWeights::from_fixed16_mk(fixed, m, k);
    const EffectiveWeights ew = effective_weights(w, dp);
    uint64_t zeros = 0;
    for (int64_t mi = 0; mi < m; ++mi)
      for (int64_t ki = 0; ki < k; ++ki) {
        const size_t t = static_cast<size_t>(ki * m + mi), s = static_cast<size_t>(mi * k + ki);
        ASSERT_EQ(w.codes[t], codes[s]) << threads << " threads";
        ASSERT_EQ(f.fixed[t], fixed[s]) << threads << " threads";
        const int64_t want = ae_effective_weight(decode(codes[s], cfgs[static_cast<size_t>(mi)]), sqrt2_approx(dp.sqrt2_terms));
        ASSERT_EQ(ew.w_eff32.at(t), want) << threads << " threads";  // 5-bit weights fit int32
        zeros += want == 0;
      }
    EXPECT_EQ(ew.zero_weights, zeros);
    EXPECT_GT(zeros, 0u);
    EXPECT_TRUE(ew.w_eff.empty());
  }
  // Weights beyond int32 (7-bit codes, shifts up to 62) stay in int64, and
  // both forms give the GEMM the same sums.
  IntWeights wide;
  wide.k = 2, wide.m = 2;
  wide.configs = {{7, 0, 0, 0}};
  wide.codes = {63, 0x40 | 40, 1, 0};  // make_code(sign, j, 7)
  DatapathConfig wdp;
  wdp.shift_bits = 6, wdp.act_bits = 2, wdp.acc_bits = 64;
  const EffectiveWeights ew64 = effective_weights(wide, wdp);
  EXPECT_TRUE(ew64.w_eff32.empty());
  EXPECT_EQ(ew64.w_eff.size(), 4u);
  const int32_t a[2] = {1, -1};
  EXPECT_EQ(golden_gemm(a, 1, ew64), (std::vector<int64_t>{ew64.w_eff[0] - ew64.w_eff[2], ew64.w_eff[1]}));
}

TEST(GoldenFc, MatchesNaive) {
  Rng rng(3);
  for (int iter = 0; iter < 40; ++iter) {
    const int64_t k = uniform(rng, 1, 300), m = uniform(rng, 1, 40);
    DatapathConfig dp;
    const bool fixed = iter % 3 == 0;
    std::vector<uint8_t> codes;
    std::vector<int16_t> fixed_w;
    const SegmentConfig cfg = random_config(rng, dp);
    for (int64_t i = 0; i < m * k; ++i) {
      codes.push_back(static_cast<uint32_t>(uniform(rng, 0, (1 << cfg.bits) - 1)));
      fixed_w.push_back(random_fixed16(rng));
    }
    const IntWeights w =
        fixed ? IntWeights::from_fixed16_mk(fixed_w, m, k) : IntWeights::from_brslog_mk(codes, m, k, {cfg});
    std::vector<int32_t> x;
    for (int64_t i = 0; i < k; ++i) x.push_back(random_activation(rng, dp.act_bits));
    // Naive FC on the [out x in] data directly: y[o] = sum_i W[o][i] x[i].
    const Sqrt2Approx approx = sqrt2_approx(dp.sqrt2_terms);
    std::vector<int64_t> want;
    for (int64_t o = 0; o < m; ++o) {
      Accumulator acc(dp.acc_bits);
      for (int64_t i = 0; i < k; ++i) {
        const size_t idx = static_cast<size_t>(o * k + i);
        acc.add(fixed ? fixed16_product(x[i], fixed_w[idx]) : ae_product(x[i], decode(codes[idx], cfg), approx));
      }
      want.push_back(acc.value());
    }
    GoldenStats st;
    ASSERT_EQ(golden_fc(x, w, dp, &st), want) << "iter " << iter;
    EXPECT_EQ(st.macs, static_cast<uint64_t>(k * m));
  }
}

// ---------------------------------------------------------------- conv2d

TEST(GoldenConv2d, Im2colLayout) {
  // C = 2, 2 x 2 input, 2 x 2 kernel, one row of top padding: Ho = 2, Wo = 1.
  ActTensor in{2, 2, 2, 0, {1, 2, 3, 4, 5, 6, 7, 8}};
  Conv2dShape s;
  s.kh = s.kw = 2;
  s.pad_top = 1;
  int64_t ho = 0, wo = 0;
  const std::vector<int32_t> a = im2col(in, s, &ho, &wo);
  EXPECT_EQ(ho, 2);
  EXPECT_EQ(wo, 1);
  // Row p, column (c * kh + ky) * kw + kx.
  EXPECT_EQ(a, (std::vector<int32_t>{0, 0, 1, 2, 0, 0, 5, 6,  // oy = 0: ky = 0 is padding
                                     1, 2, 3, 4, 5, 6, 7, 8}));
}

TEST(GoldenConv2d, MatchesDirectConvolution) {
  Rng rng(11);
  int strided = 0, one_by_one = 0, full_kernel = 0, padded = 0, overflowing = 0;
  for (int iter = 0; iter < 150; ++iter) {
    const int64_t c_in = uniform(rng, 1, 4), h = uniform(rng, 1, 9), wd = uniform(rng, 1, 9), m = uniform(rng, 1, 6);
    Conv2dShape s;
    s.stride_h = uniform(rng, 1, 3);
    s.stride_w = uniform(rng, 1, 3);
    s.pad_top = uniform(rng, 0, 2);
    s.pad_bottom = uniform(rng, 0, 2);
    s.pad_left = uniform(rng, 0, 2);
    s.pad_right = uniform(rng, 0, 1);
    switch (iter % 4) {
      case 0: s.kh = s.kw = 1; break;     // 1 x 1
      case 1: s.kh = h, s.kw = wd; break;  // the whole input
      default:
        s.kh = uniform(rng, 1, h + s.pad_top + s.pad_bottom);
        s.kw = uniform(rng, 1, wd + s.pad_left + s.pad_right);
    }
    DatapathConfig dp;
    dp.act_bits = static_cast<int>(uniform(rng, 4, 16));
    dp.sqrt2_terms = static_cast<int>(uniform(rng, 1, 7));
    dp.shift_bits = 6;
    dp.acc_bits = 64;
    const bool fixed = iter % 5 == 4;
    const int64_t k = c_in * s.kh * s.kw;
    std::vector<SegmentConfig> cfgs;
    for (int64_t i = 0, n = uniform(rng, 0, 1) ? 1 : m; i < n; ++i) cfgs.push_back(random_config(rng, dp));
    int needed = fixed ? dp.act_bits + 16 : 8;
    if (!fixed)
      for (const SegmentConfig& cfg : cfgs) needed = std::max(needed, min_acc_bits(max_shift(cfg), dp));
    dp.acc_bits = std::min(64, needed + static_cast<int>(uniform(rng, 0, 2)));  // tight: overflows happen
    // OIHW weights, as a conv layer stores them.
    std::vector<uint8_t> codes;
    std::vector<int16_t> fixed_w;
    for (int64_t o = 0; o < m; ++o)
      for (int64_t i = 0; i < k; ++i) {
        const SegmentConfig& cfg = cfgs.size() == 1 ? cfgs[0] : cfgs[static_cast<size_t>(o)];
        codes.push_back(static_cast<uint32_t>(uniform(rng, 0, (1 << cfg.bits) - 1)));
        fixed_w.push_back(random_fixed16(rng));
      }
    const IntWeights w =
        fixed ? IntWeights::from_fixed16_mk(fixed_w, m, k) : IntWeights::from_brslog_mk(codes, m, k, cfgs);
    ActTensor in{c_in, h, wd, 3, {}};
    for (int64_t i = 0; i < c_in * h * wd; ++i) in.data.push_back(random_activation(rng, dp.act_bits));

    // Direct convolution: out[o][oy][ox] = sum over (c, ky, kx) ascending of
    // AE(in[c][y][x], W[o][c][ky][kx]), padded positions adding AE(0) = 0.
    const Sqrt2Approx approx = sqrt2_approx(dp.sqrt2_terms);
    int64_t ho = 0, wo = 0;
    while (ho * s.stride_h + s.kh <= h + s.pad_top + s.pad_bottom) ++ho;
    while (wo * s.stride_w + s.kw <= wd + s.pad_left + s.pad_right) ++wo;
    std::vector<int64_t> want;
    uint64_t overflows = 0;
    for (int64_t o = 0; o < m; ++o)
      for (int64_t oy = 0; oy < ho; ++oy)
        for (int64_t ox = 0; ox < wo; ++ox) {
          Accumulator acc(dp.acc_bits);
          for (int64_t c = 0; c < c_in; ++c)
            for (int64_t ky = 0; ky < s.kh; ++ky)
              for (int64_t kx = 0; kx < s.kw; ++kx) {
                const int64_t y = oy * s.stride_h + ky - s.pad_top, x = ox * s.stride_w + kx - s.pad_left;
                const bool inside = y >= 0 && y < h && x >= 0 && x < wd;
                const int64_t v = inside ? in.data[static_cast<size_t>((c * h + y) * wd + x)] : 0;
                const size_t wi = static_cast<size_t>(((o * c_in + c) * s.kh + ky) * s.kw + kx);
                const SegmentConfig& cfg = cfgs.size() == 1 ? cfgs[0] : cfgs[static_cast<size_t>(o)];
                acc.add(fixed ? fixed16_product(v, fixed_w[wi]) : ae_product(v, decode(codes[wi], cfg), approx));
              }
          want.push_back(acc.value());
          overflows += acc.overflows();
        }
    int64_t got_h = -1, got_w = -1;
    GoldenStats st;
    const std::vector<int64_t> got = golden_conv2d(in, w, s, dp, &got_h, &got_w, &st);
    ASSERT_EQ(got_h, ho) << "iter " << iter;
    ASSERT_EQ(got_w, wo) << "iter " << iter;
    ASSERT_EQ(got, want) << "iter " << iter;
    EXPECT_EQ(st.acc_overflows, overflows) << "iter " << iter;
    EXPECT_EQ(st.macs, static_cast<uint64_t>(ho * wo * k * m));
    EXPECT_EQ(st.zero_weight_macs, static_cast<uint64_t>(ho * wo) * zero_weights(w));
    strided += s.stride_h > 1 || s.stride_w > 1;
    one_by_one += s.kh == 1 && s.kw == 1;
    full_kernel += s.kh == h && s.kw == wd;
    padded += s.pad_top != s.pad_bottom || s.pad_left != s.pad_right;
    overflowing += overflows > 0;
  }
  EXPECT_GT(overflowing, 15);  // tight accumulators really overflow
  EXPECT_GT(strided, 50);
  EXPECT_GT(one_by_one, 30);
  EXPECT_GT(full_kernel, 30);
  EXPECT_GT(padded, 50);
}

// ---------------------------------------------------------------- output stage

TEST(GoldenRequantize, PerChannelKnownValues) {
  // acc [M = 2 x S = 3]. Channel 0: bias 1, r = 2: (y + 2) >> 2.
  //   5 -> 6 -> 2;  -7 -> -6 -> -1 (-1.5 rounds half up);  100 -> 101 -> 25 (25.25)
  // Channel 1: bias -3, r = -1: y << 1, saturated to 16 bits.
  //   2 -> -1 -> -2;  40000 -> 39997 -> 79994 -> 32767;  -40000 -> -80006 -> -32768
  const std::vector<int64_t> acc = {5, -7, 100, 2, 40000, -40000};
  RequantStats st;
  EXPECT_EQ(golden_requantize(acc, 2, {1, -3}, {2, -1}, false, 16, &st),
            (std::vector<int32_t>{2, -1, 25, -2, 32767, -32768}));
  EXPECT_EQ(st.outputs, 6u);
  EXPECT_EQ(st.saturated_high, 1u);
  EXPECT_EQ(st.saturated_low, 1u);
  // Fused ReLU happens before saturation: negatives become 0, nothing clips low.
  RequantStats st2;
  EXPECT_EQ(golden_requantize(acc, 2, {1, -3}, {2, -1}, true, 16, &st2), (std::vector<int32_t>{2, 0, 25, 0, 32767, 0}));
  EXPECT_EQ(st2.saturated_high, 1u);
  EXPECT_EQ(st2.saturated_low, 0u);
  // 8-bit activations clip at 127.
  EXPECT_EQ(golden_requantize({300, -300}, 1, {0}, {1}, false, 8), (std::vector<int32_t>{127, -128}));
}

TEST(GoldenPool, MaxPoolIgnoresPaddingAndHandlesNegatives) {
  // 1 x 3 x 3, all negative: zero padding must never win.
  ActTensor in{1, 3, 3, 5, {-9, -8, -7, -6, -5, -4, -3, -2, -1}};
  PoolShape s;
  s.kh = s.kw = 2;
  s.stride_h = s.stride_w = 2;
  s.pad_top = s.pad_left = 1;  // windows: rows {-1,0},{1,2}, cols {-1,0},{1,2}
  const ActTensor out = golden_maxpool(in, s);
  EXPECT_EQ(out.c, 1);
  EXPECT_EQ(out.h, 2);
  EXPECT_EQ(out.w, 2);
  EXPECT_EQ(out.frac_bits, 5);
  EXPECT_EQ(out.data, (std::vector<int32_t>{-9, -7, -3, -1}));
  // 2 channels, 2 x 4, 2 x 2 stride 2, no padding.
  ActTensor in2{2, 2, 4, 0, {1, -3, 4, 4, 2, 0, -5, -6, -1, -1, -1, -2, -1, -1, -2, -2}};
  PoolShape s2;
  EXPECT_EQ(golden_maxpool(in2, s2).data, (std::vector<int32_t>{2, 4, -1, -1}));
  // 3 x 3 stride 1 on 1 x 3 x 3 with asymmetric padding (bottom/right 1): 2 x 2 output.
  PoolShape s3;
  s3.kh = s3.kw = 3;
  s3.stride_h = s3.stride_w = 1;
  s3.pad_bottom = s3.pad_right = 1;
  const ActTensor out3 = golden_maxpool(in, s3);
  EXPECT_EQ(out3.h, 2);
  EXPECT_EQ(out3.w, 2);
  EXPECT_EQ(out3.data, (std::vector<int32_t>{-1, -1, -1, -1}));
}

TEST(GoldenPool, AvgPoolRoundsHalfUpOverValidElements) {
  // 1 x 1 x 2 windows of two: mean {1,2} = 1.5 -> 2, {-1,-2} = -1.5 -> -1.
  PoolShape pair;
  pair.kh = 1;
  pair.kw = 2;
  pair.stride_h = 1;
  pair.stride_w = 2;
  EXPECT_EQ(golden_avgpool(ActTensor{1, 1, 4, 0, {1, 2, -1, -2}}, pair).data, (std::vector<int32_t>{2, -1}));
  // 2 x 2 windows: {-1,-2,-2,-2} = -1.75 -> -2; {1,2,2,2} = 1.75 -> 2;
  // {-1,-1,-1,-2} = -1.25 -> -1; {3,3,3,4} = 3.25 -> 3.
  ActTensor in{1, 2, 8, 7, {-1, -2, 1, 2, -1, -1, 3, 3,  //
                            -2, -2, 2, 2, -1, -2, 3, 4}};
  const ActTensor out = golden_avgpool(in, PoolShape{});
  EXPECT_EQ(out.data, (std::vector<int32_t>{-2, 2, -1, 3}));
  EXPECT_EQ(out.frac_bits, 7);
  // Padding is not part of the window: 1 x 3 x 3 with pad 1, 2 x 2 stride 2.
  //   (0,0): {-9} -> -9; (0,1): {-8, 6} = -1 -> -1; (1,0): {-6, 3} = -1.5 -> -1;
  //   (1,1): {-5, 4, 2, 1} = 0.5 -> 1.
  ActTensor in3{1, 3, 3, 0, {-9, -8, 6, -6, -5, 4, 3, 2, 1}};
  PoolShape s3;
  s3.pad_top = s3.pad_left = 1;
  EXPECT_EQ(golden_avgpool(in3, s3).data, (std::vector<int32_t>{-9, -1, -1, 1}));
  // Output size floors: 5 wide, kernel 3, stride 2, pad left 1 -> (5 + 1 - 3) / 2 + 1 = 2.
  PoolShape s4;
  s4.kh = 1;
  s4.kw = 3;
  s4.stride_h = 1;
  s4.pad_left = 1;
  const ActTensor out4 = golden_avgpool(ActTensor{1, 1, 5, 0, {1, 2, 3, 4, 5}}, s4);
  EXPECT_EQ(out4.w, 2);
  EXPECT_EQ(out4.data, (std::vector<int32_t>{2, 3}));  // {1,2} = 1.5 -> 2; {2,3,4} = 3
}

TEST(GoldenPool, GlobalAvgPool) {
  ActTensor in{4, 2, 2, 9, {-1, -2, -2, -2, 1, 2, 2, 3, -1, -2, -1, -2, 1, 2, 1, 2}};
  const ActTensor out = golden_global_avgpool(in);
  EXPECT_EQ(out.c, 4);
  EXPECT_EQ(out.h, 1);
  EXPECT_EQ(out.w, 1);
  EXPECT_EQ(out.frac_bits, 9);
  // -1.75 -> -2, 2 -> 2, -1.5 -> -1, 1.5 -> 2
  EXPECT_EQ(out.data, (std::vector<int32_t>{-2, 2, -1, 2}));
  // Extremes of 32-bit activations do not overflow the sum.
  ActTensor big{1, 1, 3, 0, {INT32_MIN, INT32_MIN, INT32_MIN}};
  EXPECT_EQ(golden_global_avgpool(big).data, (std::vector<int32_t>{INT32_MIN}));
}

// ---------------------------------------------------------------- errors

TEST(GoldenErrors, RejectsBadWeightsAndConfigs) {
  const DatapathConfig dp;
  IntWeights w;
  w.k = 2;
  w.m = 3;
  w.configs = {{5, 6, 0, -10}};
  w.codes.assign(6, 1);
  EXPECT_NO_THROW(validate(w, dp));
  auto bad = [&](std::function<void(IntWeights&, DatapathConfig&)> mutate, const std::string& needle) {
    IntWeights w2 = w;
    DatapathConfig dp2 = dp;
    mutate(w2, dp2);
    expect_substr([&] { validate(w2, dp2); }, needle);
    expect_substr([&] { golden_gemm(std::vector<int32_t>(100, 0).data(), 2, w2, dp2); }, needle);
  };
  bad([](IntWeights& x, DatapathConfig&) { x.codes.pop_back(); }, "IntWeights.codes");
  bad([](IntWeights& x, DatapathConfig&) { x.k = 0; }, "IntWeights.k");
  bad([](IntWeights& x, DatapathConfig&) { x.configs.assign(2, x.configs[0]); }, "IntWeights.configs");
  bad([](IntWeights& x, DatapathConfig&) { x.configs[0].n2 = 16; }, "n2");
  bad([](IntWeights& x, DatapathConfig&) { x.configs[0].bits = 9; }, "weight bits");
  bad([](IntWeights& x, DatapathConfig&) { x.codes[4] = 32; }, "does not fit in 5 bits");
  // n2 = 6: largest shift h(15) >> 1 = 19 >> 1 = 9; 2^15 * 91 * 2^9 ~ 2^30.5 needs 32 bits.
  bad([](IntWeights&, DatapathConfig& d) { d.acc_bits = 31; }, "acc_bits >= 32");
  bad([](IntWeights& x, DatapathConfig&) { x.configs = {{6, 31, 0, 0}, {5, 0, 0, 0}, {5, 0, 0, 0}}; },
      "IntWeights.configs[0]");  // 6-bit codes, 31 base-2 levels: shift 30 needs shift_bits >= 5
  bad([](IntWeights&, DatapathConfig& d) { d.act_bits = 40; }, "act_bits");
  bad([](IntWeights& x, DatapathConfig&) { x.fixed16 = true; x.fixed.assign(5, 1); }, "IntWeights.fixed");
  bad([](IntWeights& x, DatapathConfig& d) { x.fixed16 = true, x.fixed.assign(6, 1), d.acc_bits = 31; },
      "acc_bits >= 32");
  // Activations outside A bits.
  const std::vector<int32_t> a = {1, 32768};
  expect_substr([&] { golden_gemm(a.data(), 1, IntWeights::from_brslog_mk({1, 1}, 1, 2, {{5, 6, 0, -10}}), dp); },
                "outside the 16-bit range");
  // The first activation out of range in row order is named, whichever path
  // the GEMM takes (a wide accumulator: no sum can overflow; a 32-bit one).
  std::vector<int32_t> a6(6 * 2, 1);
  a6[5 * 2 + 0] = -40000, a6[2 * 2 + 1] = 40000;
  for (const int acc_bits : {48, 32}) {
    DatapathConfig d = dp;
    d.acc_bits = acc_bits;
    expect_substr([&] { golden_gemm(a6.data(), 6, IntWeights::from_brslog_mk({1, 1}, 1, 2, {{5, 6, 0, -10}}), d); },
                  "A[2, 1] = 40000 is outside the 16-bit range");
  }
  // Mismatched FC input.
  expect_substr([&] { golden_fc({1, 2, 3}, w, dp); }, "expect K = 2");
  expect_substr([&] { IntWeights::from_brslog_mk({1, 2, 3}, 2, 2, {{5, 6, 0, -10}}); }, "[M x K] = [2 x 2]");
}

TEST(GoldenErrors, RejectsBadShapes) {
  expect_substr([] { conv_out_dim(3, 6, 1, 1, 1); }, "larger than the padded input");
  expect_substr([] { conv_out_dim(3, 2, 0, 0, 0); }, "stride");
  expect_substr([] { conv_out_dim(3, 0, 1, 0, 0); }, "kernel size");
  expect_substr([] { conv_out_dim(3, 2, 1, -1, 0); }, "padding");
  EXPECT_EQ(conv_out_dim(3, 5, 1, 1, 1), 1);
  EXPECT_EQ(conv_out_dim(7, 3, 3, 1, 0), 2);  // (7 + 1 - 3) / 3 + 1
  const DatapathConfig dp;
  const IntWeights w = IntWeights::from_brslog_mk(std::vector<uint8_t>(2 * 18, 1), 2, 18, {{5, 6, 0, -10}});
  ActTensor in{2, 4, 4, 0, std::vector<int32_t>(32, 1)};
  Conv2dShape s;
  s.kh = s.kw = 3;
  EXPECT_NO_THROW(golden_conv2d(in, w, s, dp, nullptr, nullptr));
  s.kh = 2;
  expect_substr([&] { golden_conv2d(in, w, s, dp, nullptr, nullptr); }, "C_in * kh * kw");
  s.kh = 3;
  s.stride_w = 0;
  expect_substr([&] { golden_conv2d(in, w, s, dp, nullptr, nullptr); }, "stride");
  in.data.pop_back();
  expect_substr([&] { golden_conv2d(in, w, Conv2dShape{}, dp, nullptr, nullptr); }, "C * H * W");
  // Pooling.
  const ActTensor t{1, 3, 3, 0, std::vector<int32_t>(9, 1)};
  PoolShape p;
  p.kh = p.kw = 4;
  expect_substr([&] { golden_maxpool(t, p); }, "larger than the padded input");
  p.kh = p.kw = 2;
  p.stride_h = 0;
  expect_substr([&] { golden_avgpool(t, p); }, "stride");
  p.stride_h = 1;
  p.pad_top = 2;  // the first window's rows -2, -1 are all padding
  expect_substr([&] { golden_maxpool(t, p); }, "entirely in the padding");
  // Requantization.
  expect_substr([] { golden_requantize({1, 2, 3}, 2, {0, 0}, {1, 1}, false, 16); }, "m = 2 channels");
  expect_substr([] { golden_requantize({1, 2}, 2, {0}, {1, 1}, false, 16); }, "bias_q");
  expect_substr([] { golden_requantize({1, 2}, 2, {0, 0}, {1}, false, 16); }, "shift");
}
