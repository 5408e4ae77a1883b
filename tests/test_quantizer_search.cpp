// The fast parameter search (binned magnitudes, BRSLOG.md section 5) against
// the direct search it replaces: the same configuration on random tensors
// of every width 3..8, policy, codebook, rounding and K, on tensors built to
// tie (weights exactly on levels and rounding boundaries, duplicated
// magnitudes, all zero, single weights), per channel, and on any number of
// threads; and the same error where there is nothing to choose.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "datapath.h"
#include "errors.h"
#include "host_threads.h"
#include "quantizer.h"
#include "random_weights.h"
#include "sqrt2.h"

using namespace brsim;

namespace {

// The configuration the search chose, or the error it threw.
std::string outcome(const std::function<SegmentConfig()>& search) {
  try {
    return to_string(search());
  } catch (const ConfigError& e) {
    return std::string("ConfigError: ") + e.what();
  }
}

std::string fast(const std::vector<double>& w, const QuantOptions& o) {
  return outcome([&] { return search_segment_fast(w.data(), w.size(), o); });
}

std::string brute(const std::vector<double>& w, const QuantOptions& o) {
  return outcome([&] { return search_segment_brute_force(w.data(), w.size(), o); });
}

// A datapath on which some configurations of `bits` are realizable (8 bits:
// none is, both searches must give the same error).
DatapathConfig datapath_for(int bits, int k) {
  DatapathConfig dp;
  dp.sqrt2_terms = k;
  if (bits == 6) dp.shift_bits = 5;
  if (bits >= 7) dp.shift_bits = 6, dp.act_bits = 8;
  return dp;
}

QuantOptions options(int bits, const std::string& policy, CodebookKind kind, Rounding r, int k = 4) {
  QuantOptions o;
  o.bits = bits;
  o.policy = Policy::parse(policy);
  o.codebook = kind;
  o.rounding = r;
  o.datapath = datapath_for(bits, k);
  return o;
}

// Laplace (scale b) or uniform in [-b, b].
std::vector<double> random_weights(std::mt19937_64& rng, size_t n, double b, bool laplace) {
  std::exponential_distribution<double> ex(1.0);
  std::uniform_real_distribution<double> un(-1.0, 1.0);
  std::vector<double> w(n);
  for (double& x : w) x = laplace ? b * ex(rng) * (un(rng) < 0 ? -1 : 1) : b * un(rng);
  return w;
}

// Rewrites part of w to tie: magnitudes exactly on the levels and rounding
// boundaries (linear and log) of three of its candidates, and copies of
// other weights with either sign.
void add_ties(std::mt19937_64& rng, std::vector<double>* w, const QuantOptions& o) {
  double m = 0;
  for (double x : *w) m = std::max(m, std::fabs(x));
  if (m == 0 || w->size() < 2) return;
  std::vector<SegmentConfig> cands;
  try {
    cands = search_candidates(m, o);
  } catch (const ConfigError&) {
    return;
  }
  for (int pick = 0; pick < 3; ++pick) {
    const Codebook cb = make_codebook(cands[rng() % cands.size()], o.codebook, sqrt2_approx(o.datapath.sqrt2_terms));
    const int L = cb.cfg.levels();
    for (size_t i = 0; i < w->size() / 8 + 1; ++i) {
      const int j = static_cast<int>(rng() % static_cast<uint64_t>(L));  // 0 .. L-1
      const double v = rng() % 3 == 0 ? cb.levels[j + 1] : (rng() % 2 ? cb.linear_bounds[j] : cb.log_bounds[j]);
      (*w)[rng() % w->size()] = rng() % 2 ? v : -v;
    }
  }
  for (size_t i = 0; i < w->size() / 8 + 1; ++i) {
    const double v = (*w)[rng() % w->size()];
    (*w)[rng() % w->size()] = rng() % 2 ? v : -v;
  }
}

const std::vector<CodebookKind> kKinds = {CodebookKind::Ideal, CodebookKind::Hardware};
const std::vector<Rounding> kRoundings = {Rounding::Linear, Rounding::Log};

}  // namespace

TEST(QuantizerFastSearch, EqualsTheDirectSearchOnRandomTensors) {
  std::mt19937_64 rng(2024);
  std::uniform_real_distribution<double> log_scale(-30, 30);
  int chosen = 0, errors = 0;
  for (int bits = 3; bits <= 8; ++bits) {
    const int L = num_levels(bits);
    for (const std::string& pol :
         std::vector<std::string>{"brslog", "seglog:n2=" + std::to_string(L / 2), "log2", "logsqrt2"})
      for (CodebookKind kind : kKinds)
        for (Rounding r : kRoundings)
          for (int t = 0; t < 6; ++t) {
            const int k = 1 + static_cast<int>(rng() % 6);
            const QuantOptions o = options(bits, pol, kind, r, k);
            const size_t n = t < 2 ? 1 + rng() % 4 : (t < 5 ? 20 + rng() % 400 : 3000 + rng() % 3000);
            std::vector<double> w = random_weights(rng, n, std::exp2(log_scale(rng)), t % 2 == 0);
            if (t >= 3) add_ties(rng, &w, o);
            const std::string want = brute(w, o);
            ASSERT_EQ(fast(w, o), want) << pol << " bits " << bits << " " << to_string(kind) << " " << to_string(r)
                                        << " K " << k << " n " << n;
            ++(want.rfind("ConfigError", 0) == 0 ? errors : chosen);
          }
  }
  EXPECT_GT(chosen, 350);  // bits 3..7 choose ...
  EXPECT_GT(errors, 32);   // ... and 8 bits has nothing realizable
}

// Tensors where different configurations have exactly the same error: the
// tie order decides, as in the direct search.
TEST(QuantizerFastSearch, BreaksExactTiesLikeTheDirectSearch) {
  std::vector<std::vector<double>> cases = {
      {3, -3},                          // log2 3 bits: e_base -1 and 0 both err by 1 per weight
      {1, 2, -1, -2},                   // on the levels of many configurations: error 0
      {1, 2, 4, 8, -16, 32, 0.5, 0.25},  // powers of two: every base-2 run that holds them
      {1.5, -1.5, 3, 0.75},             // linear midpoints of base-2 levels
  };
  std::vector<double> grid;  // the ideal sqrt2 grid 1, sqrt2, 2, ... : n2 = 0 and 1 tie at zero error
  for (int h = 0; h < 15; ++h) grid.push_back((h % 2 ? -1 : 1) * std::ldexp(h % 2 ? std::sqrt(2.0) : 1.0, h / 2));
  cases.push_back(grid);
  int compared = 0;
  for (const std::vector<double>& w : cases)
    for (int bits : {3, 4, 5})
      for (const char* pol : {"brslog", "log2", "logsqrt2"})
        for (CodebookKind kind : kKinds)
          for (Rounding r : kRoundings) {
            const QuantOptions o = options(bits, pol, kind, r);
            std::vector<double> many;  // the same magnitudes many times over
            for (int rep = 0; rep < 300; ++rep)
              for (double x : w) many.push_back(rep % 2 ? -x : x);
            for (const std::vector<double>* v : std::vector<const std::vector<double>*>{&w, &many}) {
              ASSERT_EQ(fast(*v, o), brute(*v, o)) << pol << " bits " << bits << " " << to_string(kind) << " "
                                                   << to_string(r) << " n " << v->size();
              ++compared;
            }
          }
  EXPECT_EQ(compared, 5 * 3 * 3 * 2 * 2 * 2);
  // The documented ties (tests/test_quantizer.cpp) through the fast search.
  std::vector<double> w = {3, -3};
  EXPECT_EQ(search_segment_fast(w.data(), w.size(), options(3, "log2", CodebookKind::Ideal, Rounding::Linear)),
            (SegmentConfig{3, 3, 0, -1}));
  EXPECT_EQ(search_segment_fast(grid.data(), grid.size(), options(5, "brslog", CodebookKind::Ideal, Rounding::Linear)),
            (SegmentConfig{5, 1, 0, 0}));
}

TEST(QuantizerFastSearch, ZeroSingleAndExtremeWeights) {
  for (CodebookKind kind : kKinds)
    for (Rounding r : kRoundings) {
      const QuantOptions o = options(5, "brslog", kind, r);
      const std::vector<std::vector<double>> cases = {
          {},
          {0.0},
          std::vector<double>(1000, 0.0),
          {-0.0, 0.0, 0.0},
          {0.3},
          {-1e-300},                       // near the bottom of the e_base range
          {1e-300, -3e-301, 0.0},
          {std::ldexp(1.0, -1060), 0.0},   // subnormal
          {1e200, -3e199, 1.0},            // squared errors overflow: the direct search decides
          {1e150, -7e149, 2e148},
          {std::ldexp(1.0, 1000), -std::ldexp(1.5, 999)},
      };
      for (const std::vector<double>& w : cases) EXPECT_EQ(fast(w, o), brute(w, o)) << w.size();
    }
  const std::vector<double> nan = {1.0, std::nan("")};
  EXPECT_EQ(fast(nan, options(5, "brslog", CodebookKind::Ideal, Rounding::Linear)),
            brute(nan, options(5, "brslog", CodebookKind::Ideal, Rounding::Linear)));
  EXPECT_NE(fast(nan, options(5, "brslog", CodebookKind::Ideal, Rounding::Linear)).find("weight [1]"),
            std::string::npos);
  const std::vector<double> one = {0.5};
  EXPECT_EQ(fast(one, options(5, "fixed16", CodebookKind::Ideal, Rounding::Linear)),
            brute(one, options(5, "fixed16", CodebookKind::Ideal, Rounding::Linear)));
}

// Per-channel quantization (channels searched in parallel) gives every
// channel the direct search's configuration, on 1, 2 and 3 threads; and a
// large tensor (its pass cut into one chunk per thread) the same on each.
TEST(QuantizerFastSearch, PerChannelAndLargeTensorsOnAnyNumberOfThreads) {
  std::mt19937_64 rng(77);
  const int64_t channels = 24, block = 500;
  std::vector<double> w;
  for (int64_t c = 0; c < channels; ++c) {
    std::vector<double> ch = random_weights(rng, block, std::exp2(-static_cast<double>(c % 7)), c % 2 == 0);
    if (c == 5) ch.assign(block, 0.0);  // an all-zero channel
    if (c == 6) ch.assign(block, 0.0), ch[17] = -0.125;  // a single weight
    w.insert(w.end(), ch.begin(), ch.end());
  }
  std::vector<double> big = random_weights(rng, (size_t{1} << 18) + 3, 0.05, true);
  for (Rounding r : kRoundings)
    for (CodebookKind kind : kKinds) {
      QuantOptions o = options(5, "brslog", kind, r);
      add_ties(rng, &big, o);
      o.granularity = Granularity::Channel;
      std::vector<SegmentConfig> want;
      for (int64_t c = 0; c < channels; ++c) want.push_back(search_segment_brute_force(&w[c * block], block, o));
      const SegmentConfig want_big = search_segment_brute_force(big.data(), big.size(), o);
      for (int threads : {1, 2, 3}) {
        set_host_threads(threads);
        EXPECT_EQ(quantize_tensor(w, {channels, block}, o).configs, want) << threads << " threads";
        EXPECT_EQ(search_segment_fast(big.data(), big.size(), o), want_big) << threads << " threads";
      }
    }
  set_host_threads(2);
  EXPECT_THROW(set_host_threads(0), ConfigError);
  EXPECT_EQ(host_threads(), 2);
}

// Float weights (`brsim layer`'s Laplace draws, a network's layers) go
// through the quantizer without a double copy: the same configurations,
// codes and statistics as their double values, and the same cache key.
TEST(QuantizerFastSearch, FloatWeightsGiveTheResultsOfTheirDoubleValues) {
  std::vector<float> f(size_t{1} << 17);
  laplace_fill(f.data(), f.size(), 0.05, 3);
  f[100] = 0.0f, f[101] = -0.0f;
  const std::vector<double> d(f.begin(), f.end());
  for (Granularity g : {Granularity::Layer, Granularity::Channel})
    for (const char* pol : {"brslog", "fixed16"}) {
      QuantOptions o = options(5, pol, CodebookKind::Hardware, Rounding::Log);
      o.granularity = g;
      const std::vector<int64_t> shape = {64, static_cast<int64_t>(f.size() / 64)};
      const QuantizedWeights a = quantize_tensor(d, shape, o), b = quantize_tensor(f.data(), f.size(), shape, o);
      EXPECT_EQ(a.configs, b.configs);
      EXPECT_EQ(a.codes, b.codes);
      EXPECT_EQ(a.fixed, b.fixed);
      EXPECT_EQ(a.f_w, b.f_w);
      ASSERT_EQ(a.channel_stats.size(), b.channel_stats.size());
      for (size_t c = 0; c <= a.channel_stats.size(); ++c) {
        const QuantStats& x = c == a.channel_stats.size() ? a.stats : a.channel_stats[c];
        const QuantStats& y = c == a.channel_stats.size() ? b.stats : b.channel_stats[c];
        EXPECT_EQ(x.mse, y.mse);
        EXPECT_EQ(x.signal_power, y.signal_power);
        EXPECT_EQ(x.zero_fraction, y.zero_fraction);
        EXPECT_EQ(x.histogram, y.histogram);
      }
    }
  const QuantOptions o = options(5, "brslog", CodebookKind::Ideal, Rounding::Linear);
  EXPECT_EQ(search_segment_brute_force(f.data(), f.size(), o), search_segment_brute_force(d.data(), d.size(), o));
  EXPECT_EQ(search_segment_fast(f.data(), f.size(), o), search_segment_brute_force(d.data(), d.size(), o));
  // A search of the doubles is found in the cache by the floats.
  const std::string dir = ::testing::TempDir() + "brsim_float_cache_" + std::to_string(::getpid());
  std::filesystem::remove_all(dir);
  set_search_cache(dir);
  const SegmentConfig want = search_segment(d.data(), d.size(), o);
  const uint64_t hits = search_cache_hits();
  EXPECT_EQ(search_segment(f.data(), f.size(), o), want);
  EXPECT_EQ(search_cache_hits(), hits + 1);
  set_search_cache("");
  std::filesystem::remove_all(dir);
}

// The Laplace draws, drawn in chunks on several threads (each from its point
// of the one sequence): the same values on any number of threads, as
// doubles and as floats.
TEST(QuantizerFastSearch, LaplaceDrawsAreTheSameOnAnyNumberOfThreads) {
  const size_t n = (size_t{1} << 16) * 3 + 7;
  set_host_threads(1);
  const std::vector<double> one = laplace_tensor(n, 0.05, 42);
  // The first values of the sequence, by hand (laplace_tensor's formula).
  std::mt19937_64 rng(42);
  for (size_t i = 0; i < 3; ++i) {
    const double u = (static_cast<double>(rng() >> 11) + 0.5) * 0x1.0p-53;
    EXPECT_EQ(one[i], u < 0.5 ? 0.05 * std::log(2.0 * u) : -0.05 * std::log(2.0 * (1.0 - u)));
  }
  for (int threads : {1, 2, 3, 5}) {
    set_host_threads(threads);
    EXPECT_EQ(laplace_tensor(n, 0.05, 42), one) << threads << " threads";
    std::vector<float> f(n);
    laplace_fill(f.data(), n, 0.05, 42);
    size_t same = 0;
    for (size_t i = 0; i < n; ++i) same += f[i] == static_cast<float>(one[i]);
    EXPECT_EQ(same, n) << threads << " threads";
  }
}
