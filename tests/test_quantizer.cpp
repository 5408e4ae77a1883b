// The weight quantizer (BRSLOG.md section 5; fixed16 section 8) against
// references written here: levels built from the section-2 steps,
// brute-force rounding over the whole codebook, an exhaustive parameter
// search with the top-level window decided in exact (__float128) arithmetic,
// and statistics computed by hand.
#include <gtest/gtest.h>

#include "temp_dir.h"

#include <unistd.h>

#include <cfloat>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "datapath.h"
#include "config_error.h"
#include "errors.h"
#include "host_threads.h"
#include "quantizer.h"

using namespace brsim;

namespace {

// ---- reference model --------------------------------------------------------

// h(j) summed from the steps between neighbours (section 2): x2 = two half
// steps inside the base-2 segment, x sqrt2 = one in the sqrt2 segment, and
// p ? x2 : x sqrt2 at the boundary.
int ref_h(int j, int n2, int p) {
  int h = 0;
  for (int k = 2; k <= j; ++k) h += (n2 == 0 || k > n2 + 1) ? 1 : (k <= n2 ? 2 : (p ? 2 : 1));
  return h;
}

// A_K = c / 2^q from the table of BRSLOG.md section 4, K = 1..6.
struct Dyadic {
  double c;
  int q;
};
const Dyadic kA[] = {{1, 0}, {3, 1}, {23, 4}, {91, 6}, {181, 7}, {11585, 13}};

// Level magnitudes 0..L: ideal 2^(e + h/2) (sqrt2 as the double sqrt(2.0)),
// hardware 2^(e + floor(h/2)) * (h odd ? c_K / 2^q_K : 1).
std::vector<double> ref_levels(const SegmentConfig& c, CodebookKind kind, int k = 4) {
  const int L = num_levels(c.bits);
  std::vector<double> lev(L + 1, 0.0);
  for (int j = 1; j <= L; ++j) {
    const int h = ref_h(j, c.n2, c.p);
    const double base = std::ldexp(1.0, c.e_base + h / 2);
    if (h % 2 == 0) lev[j] = base;
    else if (kind == CodebookKind::Ideal) lev[j] = base * std::sqrt(2.0);
    else lev[j] = std::ldexp(kA[k - 1].c, c.e_base + h / 2 - kA[k - 1].q);
  }
  return lev;
}

// Linear: the level with the smallest |a - level|; scanning upwards with <=
// sends ties to the larger magnitude. For the two levels around a the
// differences are exact (neighbours are within x2); farther levels are
// farther by far more than a rounding error.
int ref_index_linear(double a, const std::vector<double>& lev) {
  int best = 0;
  double bd = a;
  for (int j = 1; j < static_cast<int>(lev.size()); ++j) {
    const double d = std::fabs(a - lev[j]);
    if (d <= bd) best = j, bd = d;
  }
  return best;
}

// Log: zero below level(1) * sqrt(1/2); otherwise the last level whose
// geometric midpoint with the one below, sqrt(l_{k-1} l_k) in double, is <= a.
int ref_index_log(double a, const std::vector<double>& lev) {
  if (a < lev[1] * std::sqrt(0.5)) return 0;
  int j = 1;
  for (int k = 2; k < static_cast<int>(lev.size()); ++k)
    if (a >= std::sqrt(lev[k - 1] * lev[k])) j = k;
  return j;
}

int ref_index(double a, const std::vector<double>& lev, Rounding r) {
  return r == Rounding::Linear ? ref_index_linear(a, lev) : ref_index_log(a, lev);
}

uint32_t ref_code(double w, const std::vector<double>& lev, Rounding r, int bits) {
  const int j = ref_index(std::fabs(w), lev, r);
  if (j == 0) return 0;
  return (static_cast<uint32_t>(w < 0) << (bits - 1)) | static_cast<uint32_t>(j);
}

double ref_sse(const std::vector<double>& w, const std::vector<double>& lev, Rounding r) {
  double s = 0;
  for (double x : w) {
    const int j = ref_index(std::fabs(x), lev, r);
    const double q = j == 0 ? 0.0 : (x < 0 ? -lev[j] : lev[j]);
    s += (x - q) * (x - q);
  }
  return s;
}

// Window of section 5 squared, exactly: max^2/16 <= top^2 <= 4 max^2 with
// top^2 = 2^(2 e_base + h(L)); max^2 has 106 bits, quad precision holds it.
bool ref_in_window(const SegmentConfig& c, double max_abs) {
  const int L = num_levels(c.bits);
#if defined(__x86_64__) || defined(__i386__)
  using quad = __float128;
#else
  using quad = long double;  // IEEE binary128 on aarch64 Linux
#endif
  const quad top2 = std::ldexp(1.0, 2 * c.e_base + ref_h(L, c.n2, c.p));
  const quad m2 = static_cast<quad>(max_abs) * static_cast<quad>(max_abs);
  return 16 * top2 >= m2 && top2 <= 4 * m2;
}

bool ref_policy_allows(const Policy& pol, int n2, int L) {
  switch (pol.kind) {
    case PolicyKind::BrsLog: return true;
    case PolicyKind::SegLog: return n2 == pol.seglog_n2;
    case PolicyKind::Log2: return n2 == L;
    case PolicyKind::LogSqrt2: return n2 == 0;
    default: return false;
  }
}

// Exhaustive search over n2, p (both, even where p changes nothing: the tie
// rule then keeps p = 0), e_base in [-200, 200]. found = false: nothing
// realizable.
SegmentConfig ref_search(const std::vector<double>& w, const QuantOptions& opt, bool* found) {
  double max_abs = 0;
  for (double x : w) max_abs = std::max(max_abs, std::fabs(x));
  const int L = num_levels(opt.bits);
  SegmentConfig best;
  double best_sse = 0;
  *found = false;
  for (int n2 = 0; n2 <= L; ++n2) {
    if (!ref_policy_allows(opt.policy, n2, L)) continue;
    for (int p = 0; p <= 1; ++p) {
      for (int e = -200; e <= 200; ++e) {
        const SegmentConfig c{opt.bits, n2, p, e};
        if (!ref_in_window(c, max_abs) || !realizable(c, opt.datapath)) continue;
        const double s = ref_sse(w, ref_levels(c, opt.codebook, opt.datapath.sqrt2_terms), opt.rounding);
        const bool wins = !*found || s < best_sse ||
                          (s == best_sse && (n2 > best.n2 || (n2 == best.n2 && (p < best.p || (p == best.p && e < best.e_base)))));
        if (wins) best = c, best_sse = s, *found = true;
      }
    }
  }
  return best;
}

// ---- helpers ----------------------------------------------------------------

QuantOptions options(int bits, const std::string& policy, CodebookKind kind = CodebookKind::Ideal,
                     Rounding r = Rounding::Linear) {
  QuantOptions o;
  o.bits = bits;
  o.policy = Policy::parse(policy);
  o.codebook = kind;
  o.rounding = r;
  return o;
}

// Laplace (b = scale) or uniform in [-scale, scale].
std::vector<double> random_weights(std::mt19937_64& rng, size_t n, double scale, bool laplace) {
  std::exponential_distribution<double> ex(1.0);
  std::uniform_real_distribution<double> un(-1.0, 1.0);
  std::vector<double> w(n);
  for (double& x : w) x = laplace ? scale * ex(rng) * (un(rng) < 0 ? -1 : 1) : scale * un(rng);
  return w;
}

std::string message_of(const std::function<void()>& f) { return brsim_test::config_error(f); }

const std::vector<CodebookKind> kKinds = {CodebookKind::Ideal, CodebookKind::Hardware};
const std::vector<Rounding> kRoundings = {Rounding::Linear, Rounding::Log};

}  // namespace

// ---- names and validation ------------------------------------------------------

TEST(QuantizerPolicy, ParsesAndNamesEveryForm) {
  for (const std::string s : {"brslog", "seglog:n2=0", "seglog:n2=7", "seglog:n2=127", "log2", "logsqrt2", "fixed16"})
    EXPECT_EQ(Policy::parse(s).name(), s);
  EXPECT_EQ(Policy::parse("brslog").kind, PolicyKind::BrsLog);
  EXPECT_EQ(Policy::parse("log2").kind, PolicyKind::Log2);
  EXPECT_EQ(Policy::parse("logsqrt2").kind, PolicyKind::LogSqrt2);
  EXPECT_EQ(Policy::parse("fixed16").kind, PolicyKind::Fixed16);
  const Policy s = Policy::parse("seglog:n2=7");
  EXPECT_EQ(s.kind, PolicyKind::SegLog);
  EXPECT_EQ(s.seglog_n2, 7);
}

TEST(QuantizerPolicy, RejectsOtherTextNamingTheAcceptedForms) {
  for (const std::string s : {"", "BRSLOG", "brslog ", " log2", "seglog", "seglog:n2=", "seglog:n2=x", "seglog:n2=3x",
                              "seglog:n1=3", "seglog:n2=+3", "seglog:n2=1234567890", "log", "fixed", "fixed8"}) {
    const std::string m = message_of([&] { Policy::parse(s); });
    EXPECT_NE(m.find("'" + s + "'"), std::string::npos) << m;
    for (const char* form : {"brslog", "seglog:n2=K", "log2", "logsqrt2", "fixed16"})
      EXPECT_NE(m.find(form), std::string::npos) << m;
  }
}

TEST(QuantizerPolicy, ParsesCodebookRoundingGranularity) {
  EXPECT_EQ(parse_codebook("ideal"), CodebookKind::Ideal);
  EXPECT_EQ(parse_codebook("hardware"), CodebookKind::Hardware);
  EXPECT_EQ(parse_rounding("linear"), Rounding::Linear);
  EXPECT_EQ(parse_rounding("log"), Rounding::Log);
  EXPECT_EQ(parse_granularity("layer"), Granularity::Layer);
  EXPECT_EQ(parse_granularity("channel"), Granularity::Channel);
  for (const char* s : {"ideal", "hardware"}) EXPECT_EQ(to_string(parse_codebook(s)), s);
  for (const char* s : {"linear", "log"}) EXPECT_EQ(to_string(parse_rounding(s)), s);
  for (const char* s : {"layer", "channel"}) EXPECT_EQ(to_string(parse_granularity(s)), s);
  EXPECT_NE(message_of([] { parse_codebook("exact"); }).find("ideal or hardware"), std::string::npos);
  EXPECT_NE(message_of([] { parse_rounding("Linear"); }).find("linear or log"), std::string::npos);
  EXPECT_NE(message_of([] { parse_granularity("tensor"); }).find("'tensor'"), std::string::npos);
}

TEST(QuantizerOptions, RejectsSeglogSplitOutsideTheLevels) {
  const std::vector<double> w = {0.5, -0.25, 0.125};
  QuantOptions o = options(5, "seglog:n2=16");
  const std::string m = message_of([&] { validate(o); });
  EXPECT_NE(m.find("seglog:n2=16"), std::string::npos) << m;
  EXPECT_NE(m.find("[0, 15]"), std::string::npos) << m;
  EXPECT_THROW(search_segment(w.data(), w.size(), o), ConfigError);
  EXPECT_THROW(quantize_tensor(w, {3}, o), ConfigError);
  EXPECT_THROW(validate(options(5, "seglog:n2=-1")), ConfigError);
  EXPECT_NO_THROW(validate(options(5, "seglog:n2=15")));
  EXPECT_NO_THROW(validate(options(6, "seglog:n2=16")));  // L = 31 there
}

TEST(QuantizerOptions, RejectsBadBitsAndDatapath) {
  const std::vector<double> w = {0.5, -0.25};
  for (int bits : {0, 2, 9}) {
    QuantOptions o = options(5, "brslog");
    o.bits = bits;
    EXPECT_NE(message_of([&] { validate(o); }).find("bits " + std::to_string(bits)), std::string::npos);
    EXPECT_THROW(quantize_tensor(w, {2}, o), ConfigError);
  }
  QuantOptions o = options(5, "brslog");
  o.datapath.sqrt2_terms = 0;
  EXPECT_THROW(validate(o), ConfigError);
  EXPECT_THROW(search_segment(w.data(), w.size(), o), ConfigError);
}

TEST(QuantizerOptions, NonFiniteWeightsNameTheIndex) {
  std::vector<double> w(8, 0.25);
  w[5] = std::nan("");
  QuantOptions o = options(5, "brslog");
  EXPECT_NE(message_of([&] { quantize_tensor(w, {2, 4}, o); }).find("[5]"), std::string::npos);
  o.granularity = Granularity::Channel;  // the index is the tensor's, not the channel's
  EXPECT_NE(message_of([&] { quantize_tensor(w, {2, 4}, o); }).find("[5]"), std::string::npos);
  EXPECT_NE(message_of([&] { quantize_tensor(w, {2, 4}, options(5, "fixed16")); }).find("[5]"), std::string::npos);
  w[5] = 0.25;
  w[2] = -INFINITY;
  EXPECT_NE(message_of([&] { search_segment(w.data(), w.size(), o); }).find("[2]"), std::string::npos);
  // Large tensors look for the maximum in chunks: the first non-finite
  // weight is still the one named, in either chunk.
  std::vector<float> big(size_t{3} << 20, 0.5f);
  big[(size_t{3} << 20) - 7] = std::nanf(""), big[size_t{1} << 19] = INFINITY;
  for (const int threads : {1, 2}) {
    set_host_threads(threads);
    EXPECT_NE(message_of([&] { quantize_tensor(big.data(), big.size(), {3, 1 << 20}, options(5, "brslog")); })
                  .find("[524288] is inf"),
              std::string::npos);
  }
  set_host_threads(2);
  const SegmentConfig c{5, 3, 0, -8};
  EXPECT_NE(message_of([&] { quantization_sse(w.data(), w.size(), c, o); }).find("[2]"), std::string::npos);
  const Codebook cb = make_codebook(c, CodebookKind::Ideal, sqrt2_approx(4));
  EXPECT_THROW(quantize_value(std::nan(""), cb, Rounding::Linear), ConfigError);
  EXPECT_THROW(quantize_value(-std::nan(""), cb, Rounding::Log), ConfigError);
}

TEST(QuantizerOptions, ShapeMustHoldTheWeights) {
  const std::vector<double> w = {1, 2, 3, 4};
  const QuantOptions o = options(5, "brslog");
  EXPECT_THROW(quantize_tensor(w, {}, o), ConfigError);
  EXPECT_THROW(quantize_tensor(w, {2, 0}, o), ConfigError);
  EXPECT_THROW(quantize_tensor(w, {3}, o), ConfigError);
  EXPECT_THROW(quantize_tensor(w, {int64_t{1} << 40, int64_t{1} << 40}, o), ConfigError);
  EXPECT_NO_THROW(quantize_tensor(w, {2, 1, 2}, o));
}

// ---- codebook -------------------------------------------------------------------

TEST(QuantizerCodebook, LevelsAreTheIdealAndTheAeValues) {
  for (int bits = kMinWeightBits; bits <= kMaxWeightBits; ++bits) {
    const int L = num_levels(bits);
    for (int n2 = 0; n2 <= L; ++n2)
      for (int p = 0; p <= 1; ++p)
        for (int k : {1, 2, 4, 6}) {
          const SegmentConfig c{bits, n2, p, -6};
          const Sqrt2Approx a = sqrt2_approx(k);
          const Codebook ideal = make_codebook(c, CodebookKind::Ideal, a);
          const Codebook hw = make_codebook(c, CodebookKind::Hardware, a);
          ASSERT_EQ(ideal.levels, ref_levels(c, CodebookKind::Ideal));
          ASSERT_EQ(hw.levels, ref_levels(c, CodebookKind::Hardware, k));
          for (uint32_t code = 0; code < (1u << bits); ++code) {
            const int j = static_cast<int>(code & ((1u << (bits - 1)) - 1));
            const double want = (code >> (bits - 1)) && j ? -hw.levels[j] : hw.levels[j];
            ASSERT_EQ(hardware_value(code, c, a), want) << to_string(c) << " code " << code;
          }
        }
  }
  // Spot values: 5 bits, n2 = 2, p = 0, e_base = -3: 1/8, 1/4, 1/4 A_4, 1/2, ...
  const SegmentConfig c{5, 2, 0, -3};
  const Codebook hw = make_codebook(c, CodebookKind::Hardware, sqrt2_approx(4));
  EXPECT_EQ(hw.levels[1], 0.125);
  EXPECT_EQ(hw.levels[2], 0.25);
  EXPECT_EQ(hw.levels[3], 0.25 * 91 / 64);
  EXPECT_EQ(hw.levels[4], 0.5);
  EXPECT_EQ(hardware_value(0x10 | 3, c, sqrt2_approx(4)), -0.25 * 91 / 64);
  EXPECT_EQ(hardware_value(0x10, c, sqrt2_approx(4)), 0.0);  // -0 word
  EXPECT_THROW(make_codebook(SegmentConfig{5, 16, 0, 0}, CodebookKind::Ideal, sqrt2_approx(4)), ConfigError);
}

// ---- rounding ---------------------------------------------------------------------

TEST(QuantizerRounding, AgreesWithBruteForceOnRandomTensors) {
  std::mt19937_64 rng(20240611);
  for (int bits = kMinWeightBits; bits <= kMaxWeightBits; ++bits) {
    const int L = num_levels(bits);
    std::vector<SegmentConfig> cfgs = {{bits, 0, 0, -4}, {bits, L, 0, -20}, {bits, 1, 1, 3}};
    for (int i = 0; i < 4; ++i) {
      cfgs.push_back({bits, static_cast<int>(rng() % (L + 1)), static_cast<int>(rng() % 2),
                      static_cast<int>(rng() % 41) - 20});
    }
    for (const SegmentConfig& c : cfgs)
      for (int k : {2, 4}) {
        for (CodebookKind kind : kKinds) {
          const Codebook cb = make_codebook(c, kind, sqrt2_approx(k));
          const std::vector<double> lev = ref_levels(c, kind, k);
          const double top = lev[L], span = std::log2(top / lev[1]);
          std::uniform_real_distribution<double> u(-span - 3, 1.5);
          for (bool laplace : {true, false}) {
            // Magnitudes from well below the zero threshold to above the top.
            const std::vector<double> w = random_weights(rng, 150, top * std::exp2(u(rng)), laplace);
            for (Rounding r : kRoundings)
              for (double x : w) {
                ASSERT_EQ(quantize_value(x, cb, r), ref_code(x, lev, r, bits))
                    << to_string(c) << " " << to_string(kind) << " " << to_string(r) << " w=" << x;
              }
          }
        }
      }
  }
}

// The brute-force log rule is the nearest level in log2|w| wherever that is
// unambiguous in double (a check of the reference itself).
TEST(QuantizerRounding, LogRuleIsNearestInLog2) {
  std::mt19937_64 rng(7);
  const SegmentConfig c{5, 4, 1, -9};
  const std::vector<double> lev = ref_levels(c, CodebookKind::Hardware);
  const Codebook cb = make_codebook(c, CodebookKind::Hardware, sqrt2_approx(4));
  std::uniform_real_distribution<double> u(-11, 2);
  int checked = 0;
  for (int i = 0; i < 3000; ++i) {
    const double a = std::exp2(u(rng));
    std::vector<double> d(lev.size());
    d[0] = a < lev[1] / std::sqrt(2.0) ? 0 : INFINITY;  // zero: below level(1)/sqrt2
    for (size_t j = 1; j < lev.size(); ++j) d[j] = std::fabs(std::log2(a) - std::log2(lev[j]));
    if (d[0] == 0) {
      EXPECT_EQ(quantize_value(a, cb, Rounding::Log), 0u);
      continue;
    }
    size_t best = 1;
    for (size_t j = 2; j < lev.size(); ++j)
      if (d[j] < d[best]) best = j;
    bool clear = true;
    for (size_t j = 1; j < lev.size(); ++j)
      if (j != best && d[j] - d[best] < 1e-9) clear = false;
    if (!clear) continue;
    ++checked;
    EXPECT_EQ(quantize_value(a, cb, Rounding::Log), best) << a;
  }
  EXPECT_GT(checked, 2000);
}

TEST(QuantizerRounding, MidpointsThresholdsAndClipping) {
  int linear_ties = 0, log_ties = 0;
  for (int bits = kMinWeightBits; bits <= kMaxWeightBits; ++bits) {
    const int L = num_levels(bits);
    for (int n2 : {0, 1, L / 2, L})
      for (int p : {0, 1})
        for (int e : {-30, 0, 5})
          for (int k : {2, 4, 6})
            for (CodebookKind kind : kKinds) {
              if (kind == CodebookKind::Ideal && k != 4) continue;
              const SegmentConfig c{bits, n2, p, e};
              const Codebook cb = make_codebook(c, kind, sqrt2_approx(k));
              const std::vector<double> lev = ref_levels(c, kind, k);
              std::vector<double> probes = {0.0, 1e-300, lev[L] * 1.25, lev[L] * 4, DBL_MAX, INFINITY};
              for (int j = 0; j < L; ++j) {
                const double a = lev[j], b = lev[j + 1];
                const double mid = a + (b - a) / 2;  // the real midpoint, or a double next to it
                const double geo = j == 0 ? b * std::sqrt(0.5) : std::sqrt(a * b);
                for (double m : {mid, geo}) {
                  double lo = m, hi = m;
                  for (int s = 0; s < 3; ++s) {
                    probes.push_back(lo);
                    probes.push_back(hi);
                    lo = std::nextafter(lo, 0.0);
                    hi = std::nextafter(hi, INFINITY);
                  }
                }
                // Tie rule: an exact midpoint goes to the larger magnitude.
                if (b - mid == mid - a) {
                  ++linear_ties;
                  EXPECT_EQ(quantize_value(mid, cb, Rounding::Linear), static_cast<uint32_t>(j + 1));
                  EXPECT_EQ(quantize_value(-mid, cb, Rounding::Linear), make_code(1, j + 1, bits));
                }
                ++log_ties;
                EXPECT_EQ(quantize_value(geo, cb, Rounding::Log), static_cast<uint32_t>(j + 1));
                EXPECT_EQ(quantize_value(std::nextafter(geo, 0.0), cb, Rounding::Log), static_cast<uint32_t>(j));
              }
              // Zero thresholds: level(1)/2 (linear, itself level 1) and level(1)/sqrt2 (log).
              EXPECT_EQ(quantize_value(lev[1] / 2, cb, Rounding::Linear), 1u);
              EXPECT_EQ(quantize_value(std::nextafter(lev[1] / 2, 0.0), cb, Rounding::Linear), 0u);
              EXPECT_EQ(quantize_value(-lev[1] * 0.7071, cb, Rounding::Log), 0u);
              EXPECT_EQ(quantize_value(-lev[1] * 0.7072, cb, Rounding::Log), make_code(1, 1, bits));
              // Above the top level: the top level, with the sign of w.
              EXPECT_EQ(quantize_value(lev[L] * 3, cb, Rounding::Linear), static_cast<uint32_t>(L));
              EXPECT_EQ(quantize_value(-INFINITY, cb, Rounding::Log), make_code(1, L, bits));
              for (Rounding r : kRoundings)
                for (double v : probes)
                  for (double w : {v, -v}) {
                    ASSERT_EQ(quantize_value(w, cb, r), ref_code(w, lev, r, bits))
                        << to_string(c) << " " << to_string(kind) << " K=" << k << " " << to_string(r) << " w=" << w;
                  }
            }
  }
  EXPECT_GT(linear_ties, 1000);
  EXPECT_GT(log_ties, 1000);
}

TEST(QuantizerRounding, NegativeValuesAndZeroNeverGiveTheNegativeZeroWord) {
  const SegmentConfig c{5, 6, 0, -10};
  const Codebook cb = make_codebook(c, CodebookKind::Ideal, sqrt2_approx(4));
  for (Rounding r : kRoundings) {
    EXPECT_EQ(quantize_value(-0.0, cb, r), 0u);
    EXPECT_EQ(quantize_value(-1e-9, cb, r), 0u);
    EXPECT_EQ(quantize_value(0.0, cb, r), 0u);
    EXPECT_EQ(quantize_value(-std::ldexp(1.0, -10), cb, r), make_code(1, 1, 5));
  }
  EXPECT_EQ(dequantize(make_code(1, 0, 5), cb), 0.0);
  EXPECT_FALSE(std::signbit(dequantize(make_code(1, 0, 5), cb)));
  EXPECT_THROW(dequantize(32, cb), ConfigError);
}

TEST(QuantizerRounding, EveryCodeWordRoundTrips) {
  uint64_t checked = 0;
  for (int bits = kMinWeightBits; bits <= kMaxWeightBits; ++bits) {
    const int L = num_levels(bits);
    for (int n2 = 0; n2 <= L; ++n2)
      for (int p = 0; p <= 1; ++p)
        for (int e : {-9, 4})
          for (int k : {2, 4, 6})
            for (CodebookKind kind : kKinds) {
              if (kind == CodebookKind::Ideal && k != 4) continue;
              const SegmentConfig c{bits, n2, p, e};
              const Codebook cb = make_codebook(c, kind, sqrt2_approx(k));
              const std::vector<double> lev = ref_levels(c, kind, k);
              for (Rounding r : kRoundings)
                for (uint32_t code = 0; code < (1u << bits); ++code) {
                  const int j = static_cast<int>(code & ((1u << (bits - 1)) - 1));
                  const bool neg = (code >> (bits - 1)) != 0;
                  const double v = dequantize(code, cb);
                  const uint32_t want = j == 0 ? 0 : code;  // the -0 word comes back as +0
                  if (v != (neg && j ? -lev[j] : lev[j]) || quantize_value(v, cb, r) != want) {
                    ADD_FAILURE() << to_string(c) << " " << to_string(kind) << " K=" << k << " " << to_string(r)
                                  << " code " << code;
                    return;
                  }
                  ++checked;
                }
            }
  }
  EXPECT_GT(checked, 1000000u);
}

// ---- parameter search -------------------------------------------------------------

TEST(QuantizerSearch, CandidatesFollowThePolicyAndTheWindow) {
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<double> u(-12, 6);
  for (const std::string pol : {"brslog", "seglog:n2=0", "seglog:n2=5", "seglog:n2=15", "log2", "logsqrt2"})
    for (int i = 0; i < 6; ++i) {
      const QuantOptions o = options(5, pol);
      const double max_abs = std::exp2(u(rng));
      std::vector<SegmentConfig> want;
      for (int n2 = 0; n2 <= 15; ++n2)
        for (int p = 0; p <= ((n2 == 0 || n2 == 15) ? 0 : 1); ++p)
          for (int e = -200; e <= 200; ++e) {
            const SegmentConfig c{5, n2, p, e};
            if (ref_policy_allows(o.policy, n2, 15) && ref_in_window(c, max_abs)) want.push_back(c);
          }
      EXPECT_EQ(search_candidates(max_abs, o), want) << pol << " max " << max_abs;
    }
  // 6 bits on the default datapath: only n2 <= 2 (p = 0) and n2 = 1 (p = 1)
  // keep the largest shift <= 15.
  std::vector<std::pair<int, int>> pairs;
  for (const SegmentConfig& c : search_candidates(0.3, options(6, "brslog")))
    if (pairs.empty() || pairs.back() != std::make_pair(c.n2, c.p)) pairs.emplace_back(c.n2, c.p);
  EXPECT_EQ(pairs, (std::vector<std::pair<int, int>>{{0, 0}, {1, 0}, {1, 1}, {2, 0}}));
  EXPECT_THROW(search_candidates(0.0, options(5, "brslog")), ConfigError);
  EXPECT_THROW(search_candidates(1.0, options(5, "fixed16")), ConfigError);
}

// The window edges are decided exactly, also where the top level is an odd
// half-octave (fl(sqrt2) is slightly above sqrt2; its predecessor below).
TEST(QuantizerSearch, WindowIsExactAtHalfOctaveEdges) {
  const QuantOptions o = options(5, "seglog:n2=1");  // p = 0: h(L) = 14; p = 1: h(L) = 15
  auto e_bases = [&](double max_abs, int p) {
    std::vector<int> v;
    for (const SegmentConfig& c : search_candidates(max_abs, o))
      if (c.p == p) v.push_back(c.e_base);
    return v;
  };
  const double s = std::sqrt(2.0), below = std::nextafter(s, 0.0);
  EXPECT_EQ(e_bases(1.0, 0), (std::vector<int>{-9, -8, -7, -6}));  // top 1/4 .. 2, both ends in
  EXPECT_EQ(e_bases(1.0, 1), (std::vector<int>{-9, -8, -7}));      // top 2^-1.5 .. 2^0.5
  EXPECT_EQ(e_bases(s, 0), (std::vector<int>{-8, -7, -6}));
  EXPECT_EQ(e_bases(s, 1), (std::vector<int>{-8, -7, -6}));  // 2^-1.5 < fl(sqrt2)/4: out
  EXPECT_EQ(e_bases(below, 1), (std::vector<int>{-9, -8, -7}));  // 2^1.5 > 2 max: out
}

TEST(QuantizerSearch, ReportsWhyNothingIsRealizable) {
  const std::vector<double> w = {0.5, -0.1};
  std::string m = message_of([&] { search_segment(w.data(), w.size(), options(8, "brslog")); });
  EXPECT_NE(m.find("brslog"), std::string::npos) << m;
  EXPECT_NE(m.find("shift_bits >= 6"), std::string::npos) << m;  // n2 = 0 at 8 bits: shift 63
  QuantOptions o = options(7, "logsqrt2");
  o.datapath.shift_bits = 5;  // shift 31 fits; 2^15 * 91 * 2^31 needs 54 accumulator bits
  m = message_of([&] { search_candidates(1.0, o); });
  EXPECT_NE(m.find("acc_bits >= 54"), std::string::npos) << m;
  o.datapath.acc_bits = 54;
  EXPECT_NO_THROW(search_candidates(1.0, o));
}

TEST(QuantizerSearch, MatchesAnExhaustiveSearch) {
  std::mt19937_64 rng(42);
  std::uniform_real_distribution<double> scale(-10, 3);
  int compared = 0, unrealizable = 0;
  for (int bits : {3, 4, 5, 6, 7}) {
    const int L = num_levels(bits);
    DatapathConfig dp;
    if (bits == 6) dp.shift_bits = 5;
    if (bits == 7) dp.shift_bits = 6, dp.act_bits = 8;  // the accumulator limits n2 here
    for (const std::string& pol :
         std::vector<std::string>{"brslog", "seglog:n2=" + std::to_string(L / 3), "log2", "logsqrt2"})
      for (CodebookKind kind : kKinds)
        for (Rounding r : kRoundings)
          for (int t = 0; t < 2; ++t) {
            QuantOptions o = options(bits, pol, kind, r);
            o.datapath = dp;
            std::vector<double> w = random_weights(rng, 200, std::exp2(scale(rng)), t == 0);
            // Pin max|w| to a window edge: a power of two or fl(sqrt2) 2^k.
            double m = 0;
            for (double x : w) m = std::max(m, std::fabs(x));
            w[rng() % w.size()] = std::ldexp(rng() % 2 ? 1.0 : std::sqrt(2.0), std::ilogb(m) + 1);
            bool found = false;
            const SegmentConfig want = ref_search(w, o, &found);
            if (!found) {
              ++unrealizable;
              EXPECT_THROW(search_segment(w.data(), w.size(), o), ConfigError) << pol << " " << bits;
              continue;
            }
            const SegmentConfig got = search_segment(w.data(), w.size(), o);
            ASSERT_EQ(got, want) << pol << " bits " << bits << " " << to_string(kind) << " " << to_string(r)
                                 << ": got " << to_string(got) << ", want " << to_string(want);
            EXPECT_EQ(quantization_sse(w.data(), w.size(), got, o),
                      ref_sse(w, ref_levels(want, kind, dp.sqrt2_terms), r));
            ++compared;
          }
  }
  EXPECT_GT(compared, 120);
  EXPECT_GT(unrealizable, 0);
}

TEST(QuantizerSearch, TiesPreferLargerN2ThenSmallerPThenSmallerEBase) {
  // n2 = 0 and n2 = 1 (p = 0) have the same levels. Weights on the ideal
  // sqrt2 grid 1, sqrt2, 2, ... 2^7 have zero error only with those two
  // (e_base = 0): the larger n2 wins.
  std::vector<double> w;
  for (int j = 1; j <= 15; ++j) w.push_back(ref_levels({5, 0, 0, 0}, CodebookKind::Ideal)[j] * (j % 2 ? 1 : -1));
  QuantOptions o = options(5, "brslog");
  EXPECT_EQ(quantization_sse(w.data(), w.size(), {5, 0, 0, 0}, o), 0.0);
  EXPECT_EQ(quantization_sse(w.data(), w.size(), {5, 1, 0, 0}, o), 0.0);
  EXPECT_EQ(search_segment(w.data(), w.size(), o), (SegmentConfig{5, 1, 0, 0}));

  // 3 bits, n2 = 2: p = 0 gives 1, 2, 2 sqrt2 and p = 1 gives 1, 2, 4; both
  // hold {1, 2} exactly with top levels in [1/2, 4]: the smaller p wins.
  w = {1, 2, -1, -2};
  o = options(3, "seglog:n2=2");
  EXPECT_EQ(quantization_sse(w.data(), w.size(), {3, 2, 1, 0}, o), 0.0);
  EXPECT_EQ(search_segment(w.data(), w.size(), o), (SegmentConfig{3, 2, 0, 0}));

  // log2 at 3 bits, w = +-3: e_base -1 (0.5, 1, 2) and 0 (1, 2, 4; 3 is the
  // midpoint of 2 and 4 and goes up) both err by 1: the smaller e_base wins.
  w = {3, -3};
  o = options(3, "log2");
  EXPECT_EQ(quantization_sse(w.data(), w.size(), {3, 3, 0, -1}, o), 2.0);
  EXPECT_EQ(quantization_sse(w.data(), w.size(), {3, 3, 0, 0}, o), 2.0);
  EXPECT_EQ(search_segment(w.data(), w.size(), o), (SegmentConfig{3, 3, 0, -1}));
}

TEST(QuantizerSearch, AllZeroWeightsTakeTheLargestRealizableSplit) {
  const std::vector<double> w(10, 0.0);
  EXPECT_EQ(search_segment(w.data(), w.size(), options(5, "brslog")), (SegmentConfig{5, 15, 0, 0}));
  EXPECT_EQ(search_segment(w.data(), 0, options(5, "log2")), (SegmentConfig{5, 15, 0, 0}));
  EXPECT_EQ(search_segment(w.data(), w.size(), options(5, "seglog:n2=4")), (SegmentConfig{5, 4, 0, 0}));
  EXPECT_EQ(search_segment(w.data(), w.size(), options(5, "logsqrt2")), (SegmentConfig{5, 0, 0, 0}));
  // 6 bits, 4-bit shift field: n2 = 2 (p = 0) is the largest with h(L)/2 <= 15.
  EXPECT_EQ(search_segment(w.data(), w.size(), options(6, "brslog")), (SegmentConfig{6, 2, 0, 0}));
  EXPECT_THROW(search_segment(w.data(), w.size(), options(6, "log2")), ConfigError);
  const QuantizedWeights q = quantize_tensor(w, {2, 5}, options(5, "brslog"));
  EXPECT_EQ(q.codes, std::vector<uint8_t>(10, 0));
  EXPECT_EQ(q.stats.mse, 0.0);
  EXPECT_EQ(q.stats.sqnr_db, 0.0);
  EXPECT_EQ(q.stats.zero_fraction, 1.0);
}

// ---- tensors ----------------------------------------------------------------------

TEST(QuantizerTensor, PerChannelSearchEqualsTheSearchOnEachChannelAlone) {
  std::mt19937_64 rng(5);
  const std::vector<int64_t> shape = {6, 2, 3, 3};
  std::vector<double> w;
  for (int c = 0; c < 6; ++c) {
    const std::vector<double> ch = random_weights(rng, 18, std::exp2(-2.0 * c), c % 2 == 0);
    w.insert(w.end(), ch.begin(), ch.end());
  }
  for (const char* pol : {"brslog", "seglog:n2=6", "logsqrt2"})
    for (CodebookKind kind : kKinds) {
      QuantOptions o = options(5, pol, kind, Rounding::Log);
      o.granularity = Granularity::Channel;
      const QuantizedWeights q = quantize_tensor(w, shape, o);
      ASSERT_EQ(q.configs.size(), 6u);
      ASSERT_EQ(q.channel_stats.size(), 6u);
      for (size_t c = 0; c < 6; ++c) {
        EXPECT_EQ(q.configs[c], search_segment(w.data() + 18 * c, 18, o)) << pol << " channel " << c;
        const std::vector<double> lev = ref_levels(q.configs[c], kind);
        for (size_t i = 18 * c; i < 18 * (c + 1); ++i) {
          EXPECT_EQ(q.codes[i], ref_code(w[i], lev, Rounding::Log, 5));
          const int j = static_cast<int>(q.codes[i] & 15);
          const double hw = ref_levels(q.configs[c], CodebookKind::Hardware)[j];
          EXPECT_EQ(q.hardware_weight(i), (q.codes[i] & 16) ? -hw : hw);
        }
      }
    }
}

// The search-result folder: a search is written once and then answered from
// it (same configuration); other weights or options get their own file; a
// file whose key does not match, or that does not parse, is searched again.
TEST(QuantizerSearch, CacheFolderAnswersRepeatedSearchesWithTheSameResult) {
  namespace fs = std::filesystem;
  const brsim_test::TempDir tmp;
  const std::string dir = tmp.file("search_cache");
  std::mt19937_64 rng(11);
  const std::vector<double> w = random_weights(rng, kSearchCacheMin, 0.05, true);
  std::vector<double> w2 = w;
  w2[12345] *= 1.5;  // other weights
  const QuantOptions o = options(5, "brslog", CodebookKind::Ideal, Rounding::Linear);
  QuantOptions k2 = o;
  k2.datapath.sqrt2_terms = 2;  // other options
  const SegmentConfig want = search_segment(w.data(), w.size(), o), want2 = search_segment(w2.data(), w2.size(), o),
                      want_k2 = search_segment(w.data(), w.size(), k2);
  auto files = [&] {
    size_t n = 0;
    if (fs::exists(dir))
      for (const auto& e : fs::directory_iterator(dir)) n += e.path().extension() == ".txt";
    return n;
  };
  set_search_cache(dir);
  const uint64_t h0 = search_cache_hits();
  EXPECT_EQ(search_segment(w.data(), w.size(), o), want);
  EXPECT_EQ(search_cache_hits(), h0);
  ASSERT_EQ(files(), 1u);
  EXPECT_EQ(search_segment(w.data(), w.size(), o), want);
  EXPECT_EQ(search_cache_hits(), h0 + 1);
  EXPECT_EQ(search_segment(w2.data(), w2.size(), o), want2);
  EXPECT_EQ(search_segment(w.data(), w.size(), k2), want_k2);
  EXPECT_EQ(search_cache_hits(), h0 + 1);
  EXPECT_EQ(files(), 3u);
  // Damaged files: searched again and rewritten.
  for (const auto& e : fs::directory_iterator(dir)) {
    std::ofstream(e.path()) << "brsim segment search v1 n=1 (another key)\n5 0 0 0\n";
  }
  EXPECT_EQ(search_segment(w.data(), w.size(), o), want);
  EXPECT_EQ(search_cache_hits(), h0 + 1);
  EXPECT_EQ(search_segment(w.data(), w.size(), o), want);
  EXPECT_EQ(search_cache_hits(), h0 + 2);
  // Below kSearchCacheMin weights nothing is kept.
  const size_t before = files();
  EXPECT_EQ(search_segment(w.data(), 1000, o), (set_search_cache(""), search_segment(w.data(), 1000, o)));
  set_search_cache(dir);
  EXPECT_EQ(files(), before);
  // A whole tensor through the folder gives the same codes.
  const QuantizedWeights a = quantize_tensor(w, {64, static_cast<int64_t>(w.size() / 64)}, o);
  set_search_cache("");
  const QuantizedWeights b = quantize_tensor(w, {64, static_cast<int64_t>(w.size() / 64)}, o);
  EXPECT_EQ(a.configs, b.configs);
  EXPECT_EQ(a.codes, b.codes);
  fs::remove_all(dir);
}

// log2, 3 bits (levels 2^e, 2^(e+1), 2^(e+2)), linear rounding, by hand:
// channel 0 {4, -2, 1, 0.3}: e_base 0 -> codes 3, 6, 1, 0 (0.3 < 1/2 is zero)
// channel 1 {0.5, 0.375, -0.1, 0}: e_base -3 (1/8, 1/4, 1/2) -> codes 3, 3
// (0.375 is the midpoint of 1/4 and 1/2: up), 5 (-1/8), 0. Other e_base in
// the window err more (e.g. -2: 0.015625 + 0.01 > 0.015625 + 0.000625).
TEST(QuantizerTensor, StatsMatchAHandComputedTensor) {
  const std::vector<double> w = {4, -2, 1, 0.3, 0.5, 0.375, -0.1, 0};
  QuantOptions o = options(3, "log2");
  o.granularity = Granularity::Channel;
  const QuantizedWeights q = quantize_tensor(w, {2, 4}, o);
  EXPECT_EQ(q.configs, (std::vector<SegmentConfig>{{3, 3, 0, 0}, {3, 3, 0, -3}}));
  EXPECT_EQ(q.codes, (std::vector<uint8_t>{3, 6, 1, 0, 3, 3, 5, 0}));
  const double se0 = 0.3 * 0.3, se1 = 0.125 * 0.125 + 0.025 * 0.025;
  const double sig0 = 16 + 4 + 1 + 0.09, sig1 = 0.25 + 0.140625 + 0.01;
  auto near = [](double a, double b) { EXPECT_NEAR(a, b, 1e-12 * std::fabs(b)); };
  near(q.channel_stats[0].mse, se0 / 4);
  near(q.channel_stats[1].mse, se1 / 4);
  near(q.channel_stats[0].signal_power, sig0 / 4);
  near(q.channel_stats[1].sqnr_db, 10 * std::log10(sig1 / se1));
  near(q.stats.mse, (se0 + se1) / 8);
  near(q.stats.signal_power, (sig0 + sig1) / 8);
  near(q.stats.sqnr_db, 10 * std::log10((sig0 + sig1) / (se0 + se1)));
  EXPECT_EQ(q.channel_stats[0].zero_fraction, 0.25);
  EXPECT_EQ(q.channel_stats[1].zero_fraction, 0.25);
  EXPECT_EQ(q.stats.zero_fraction, 0.25);
  EXPECT_EQ(q.stats.histogram, (std::vector<uint64_t>{2, 1, 0, 3, 0, 1, 1, 0}));
  EXPECT_EQ(q.channel_stats[1].histogram, (std::vector<uint64_t>{1, 0, 0, 2, 0, 1, 0, 0}));
  EXPECT_EQ(q.stats.count, 8u);
  EXPECT_EQ(q.channel_stats[1].count, 4u);
  EXPECT_EQ(q.hardware_weight(1), -2.0);
  EXPECT_EQ(q.hardware_weight(6), -0.125);
  EXPECT_EQ(q.storage_bytes(), 3u);  // 8 x 3 bits

  // Per layer: one search (max 4 -> e_base 0), channel stats still per
  // channel: {0.5 -> 1, 0.375 -> 0, -0.1 -> 0, 0} errs 0.25 + 0.140625 + 0.01.
  o.granularity = Granularity::Layer;
  const QuantizedWeights l = quantize_tensor(w, {2, 4}, o);
  EXPECT_EQ(l.configs, (std::vector<SegmentConfig>{{3, 3, 0, 0}}));
  ASSERT_EQ(l.channel_stats.size(), 2u);
  near(l.channel_stats[1].mse, (0.25 + 0.140625 + 0.01) / 4);
  EXPECT_EQ(l.channel_stats[1].zero_fraction, 0.75);
  EXPECT_EQ(l.codes[4], 1u);
  EXPECT_EQ(quantize_tensor({1, 2, 4}, {3}, o).storage_bytes(), 2u);  // 9 bits
  // Exact weights: mse 0, sqnr +inf.
  EXPECT_EQ(quantize_tensor({1, -2, 4}, {1, 3}, o).stats.sqnr_db, INFINITY);
}

// ---- fixed16 ----------------------------------------------------------------------

TEST(QuantizerFixed16, FormatFromMaxAndRoundedValues) {
  struct Case {
    std::vector<double> w;
    int f_w;
    std::vector<int16_t> q;
  };
  const std::vector<Case> cases = {
      {{1.0, -0.5, 0.25, 1e-6}, 14, {16384, -8192, 4096, 0}},  // 1.0 * 2^15 = 32768 > 32767
      {{0.5, -0.3}, 15, {16384, -9830}},                      // 0.5 * 2^16 = 32768; -9830.4
      {{0.75}, 15, {24576}},                                  // 0.75 * 2^16 = 49152
      {{32767.0 / 32768}, 15, {32767}},                       // exactly the int16 top
      {{65535.0 / 65536}, 14, {16384}},                       // 32767.5 rounds away to 32768
      {{-1.0}, 14, {-16384}},                                 // the format is symmetric
      {{1000.0, -3.0}, 5, {32000, -96}},
      {{1e5}, -2, {25000}},
      {{0.0, -0.0}, 0, {0, 0}},
  };
  for (const Case& c : cases) {
    QuantOptions o = options(5, "fixed16");
    o.granularity = Granularity::Channel;  // still one f_w per layer
    const QuantizedWeights q = quantize_tensor(c.w, {static_cast<int64_t>(c.w.size())}, o);
    EXPECT_EQ(q.f_w, c.f_w) << c.w[0];
    EXPECT_EQ(q.fixed, c.q) << c.w[0];
    EXPECT_TRUE(q.codes.empty());
    EXPECT_TRUE(q.configs.empty());
    EXPECT_TRUE(q.stats.histogram.empty());
    EXPECT_EQ(q.storage_bytes(), 2 * c.w.size());
    for (size_t i = 0; i < c.w.size(); ++i) EXPECT_EQ(q.hardware_weight(i), std::ldexp(c.q[i], -c.f_w));
  }
  const QuantizedWeights q = quantize_tensor({1.0, -0.5, 0.25, 1e-6}, {2, 2}, options(5, "fixed16"));
  EXPECT_EQ(q.stats.zero_fraction, 0.25);
  EXPECT_NEAR(q.stats.mse, 1e-12 / 4, 1e-24);
  EXPECT_EQ(q.channel_stats.size(), 2u);
  EXPECT_EQ(q.channel_stats[0].mse, 0.0);
  EXPECT_EQ(q.channel_stats[0].sqnr_db, INFINITY);
  const double one = 1.0;
  EXPECT_THROW(search_segment(&one, 1, options(5, "fixed16")), ConfigError);
}

TEST(QuantizerFixed16, SaturatesAtTheInt16Range) {
  EXPECT_EQ(fixed16_quantize(1.0, 15), 32767);  // 32768 saturates
  EXPECT_EQ(fixed16_quantize(-1.0, 15), -32768);
  EXPECT_EQ(fixed16_quantize(-1.5, 15), -32768);
  EXPECT_EQ(fixed16_quantize(65535.0 / 65536, 15), 32767);
  // A tensor's own format never needs saturation: its largest weight maps
  // to at most 32767 in magnitude, wherever that lands.
  std::mt19937_64 rng(3);
  for (int i = 0; i < 50; ++i) {
    const std::vector<double> w = random_weights(rng, 64, std::exp2(static_cast<int>(rng() % 40) - 20), i % 2);
    const QuantizedWeights q = quantize_tensor(w, {8, 8}, options(5, "fixed16"));
    int16_t top = 0;
    for (int16_t v : q.fixed) top = std::max<int16_t>(top, static_cast<int16_t>(std::abs(v)));
    EXPECT_GE(top, 16384);  // f_w is the largest that fits
    EXPECT_LE(top, 32767);
  }
}
