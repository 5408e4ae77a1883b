// The host's vector kernels against the plain loops they replace, bit for
// bit: the weight generator against std::mt19937_64 and std::log; the
// quantizer's codes and max|w| against quantize_value and a plain loop.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <random>
#include <vector>

#include "errors.h"
#include "host_threads.h"
#include "quantizer.h"
#include "quantizer_detail.h"
#include "random_weights.h"
#include "random_weights_detail.h"
#include "sqrt2.h"

using namespace brsim;

namespace {

TEST(RandomWeights, BlockGeneratorIsStdMt19937_64) {
  for (uint64_t seed : {uint64_t{0}, uint64_t{1}, uint64_t{5489}, uint64_t{0x9E3779B97F4A7C15}, ~uint64_t{0}}) {
    std::mt19937_64 ref(seed);
    detail::Mt64Block g(seed);
    for (int block = 0; block < 40; ++block) {
      g.regenerate();
      for (int i = 0; i < detail::Mt64Block::kN; ++i) ASSERT_EQ(g.tempered(i), ref()) << "seed " << seed << " word " << block * 312 + i;
    }
  }
}

// laplace_fill's floats are laplace_draw's (std::log) rounded to float, for
// lengths around the block size and the threaded size, on 1 and 2 threads,
// and laplace_tensor's doubles are laplace_draw's exactly.
TEST(RandomWeights, LaplaceFillIsTheScalarDraw) {
  const int threads = host_threads();
  size_t fallbacks_possible = 0;
  for (int t : {1, 2}) {
    set_host_threads(t);
    for (size_t n : {size_t{1}, size_t{3}, size_t{311}, size_t{312}, size_t{313}, size_t{1000}, size_t{65535}, size_t{65536},
                     size_t{200003}})
      for (uint64_t seed : {uint64_t{1}, uint64_t{42}, uint64_t{1234567}})
        for (double scale : {0.05, 1.0, 3e-7}) {
          std::vector<float> f(n);
          laplace_fill(f.data(), n, scale, seed);
          std::mt19937_64 ref(seed);
          for (size_t i = 0; i < n; ++i) {
            const float want = static_cast<float>(detail::laplace_draw(ref(), scale));
            ASSERT_EQ(0, std::memcmp(&want, &f[i], sizeof want)) << "n " << n << " seed " << seed << " i " << i;
          }
          fallbacks_possible += n;
        }
    const std::vector<double> d = laplace_tensor(70001, 0.5, 9);
    std::mt19937_64 ref(9);
    for (size_t i = 0; i < d.size(); ++i) ASSERT_EQ(detail::laplace_draw(ref(), 0.5), d[i]) << i;
  }
  set_host_threads(threads);
  EXPECT_GT(fallbacks_possible, 1000000u);
}

// The vector logarithm is within 2^-48 (relative) of std::log on the
// draws (laplace_fill's check allows 2^-40) and on the edges of its range:
// t = 1 (u = 1/2) gives 0 exactly, the smallest t (2^-53), either side of
// sqrt 2 and of powers of two.
TEST(RandomWeights, VectorLogWithinMargin) {
  std::vector<double> t = {1.0, 0x1.0p-53, 0.5, 0.25, std::nextafter(1.0, 0.0), 0.7071067811865476, 0.7071067811865475,
                           1.4142135623730951 / 4, std::nextafter(0.5, 0.0), 1e-10, 0.999, 0.3};
  for (size_t i = 0; i < t.size(); i += 4) {
    double out[4];
    detail::log_approx4(&t[i], out);
    for (int k = 0; k < 4; ++k) EXPECT_LE(std::fabs(out[k] - std::log(t[i + k])), std::fabs(std::log(t[i + k])) * 0x1.0p-48) << t[i + k];
  }
  {
    double one[4] = {1.0, 1.0, 1.0, 1.0}, out[4];
    detail::log_approx4(one, out);
    EXPECT_EQ(0.0, out[0]);
    EXPECT_FALSE(std::signbit(out[0]));
  }
  detail::Mt64Block g(77);
  g.regenerate();
  alignas(32) double approx[detail::Mt64Block::kN];
  for (int block = 0; block < 3000; ++block, g.regenerate()) {
    g.laplace_approx(0, 1.0, approx);
    for (int i = 0; i < detail::Mt64Block::kN; ++i) {
      const double want = detail::laplace_draw(g.tempered(i), 1.0);
      ASSERT_LE(std::fabs(approx[i] - want), std::fabs(want) * 0x1.0p-48) << block << " " << i;
    }
  }
}

// quantize_tensor's codes (vector lanes) are quantize_value's for every
// weight, float and double, for widths 3, 5 and 6, both roundings, both
// codebooks, per layer and per channel; the weights include every level
// and every rounding bound of the chosen codebook exactly, their float
// neighbours, zeros of both signs, and tails shorter than a vector.
TEST(QuantizerKernels, CodesAreQuantizeValue) {
  const Sqrt2Approx approx = sqrt2_approx(QuantOptions().datapath.sqrt2_terms);
  for (int bits : {3, 5, 6})
    for (Rounding r : {Rounding::Linear, Rounding::Log})
      for (CodebookKind kind : {CodebookKind::Ideal, CodebookKind::Hardware})
        for (Granularity g : {Granularity::Layer, Granularity::Channel}) {
          QuantOptions o;
          o.bits = bits, o.rounding = r, o.codebook = kind, o.granularity = g;
          if (bits == 6) o.datapath.shift_bits = 5;  // (a datapath that realizes 6-bit codes)
          const size_t channels = 3, block = 1001;
          std::vector<float> w(channels * block);
          laplace_fill(w.data(), w.size(), 0.1, static_cast<uint64_t>(bits * 8 + static_cast<int>(r) * 2 + static_cast<int>(kind)));
          // The codebook of a first pass, then its levels and bounds planted.
          const QuantizedWeights first = quantize_tensor(w.data(), w.size(), {3, 1001}, o);
          const Codebook cb = make_codebook(first.config_of_channel(0), kind, approx);
          const std::vector<double>& b = r == Rounding::Linear ? cb.linear_bounds : cb.log_bounds;
          size_t at = 1;
          for (size_t k = 0; k + 1 < b.size() && at + 8 < block; ++k) {
            const float f = static_cast<float>(b[k]);
            for (float v : {f, std::nextafter(f, 0.0f), std::nextafter(f, 1.0f), static_cast<float>(cb.levels[k + 1])}) {
              w[at++] = v;
              w[at++] = -v;
            }
          }
          w[at++] = 0.0f;
          w[at++] = -0.0f;
          for (size_t n : {w.size(), w.size() - 5}) {
            const std::vector<int64_t> shape = n == w.size() ? std::vector<int64_t>{3, 1001} : std::vector<int64_t>{static_cast<int64_t>(n)};
            const QuantizedWeights qf = quantize_tensor(w.data(), n, shape, o);
            const std::vector<double> wd(w.begin(), w.begin() + static_cast<long>(n));
            const QuantizedWeights qd = quantize_tensor(wd, shape, o);
            EXPECT_EQ(qf.configs, qd.configs);
            std::vector<Codebook> cbs;
            for (const SegmentConfig& c : qf.configs) cbs.push_back(make_codebook(c, kind, approx));
            ASSERT_EQ(qf.codes, qd.codes);
            const size_t per = n / qf.channels();
            for (size_t i = 0; i < n; ++i) {
              ASSERT_EQ(quantize_value(w[i], cbs[cbs.size() == 1 ? 0 : i / per], r), qf.codes[i]) << "bits " << bits << " weight " << i << " = " << w[i];
            }
            uint64_t zeros = 0;
            for (uint8_t code : qf.codes) zeros += code == 0 || code == (1u << (bits - 1));
            EXPECT_GT(zeros, 0u);
          }
        }
}

// max|w| over lanes: the plain maximum, a weight that is not finite named
// wherever it lies (in a full lane group or in the tail).
TEST(QuantizerKernels, MaxAbsAndNonFinite) {
  std::vector<float> w(1000);
  laplace_fill(w.data(), w.size(), 2.0, 5);
  QuantOptions o;
  for (size_t n : {size_t{1}, size_t{15}, size_t{16}, size_t{17}, size_t{999}, size_t{1000}}) {
    double m = 0;
    for (size_t i = 0; i < n; ++i) m = std::max(m, std::fabs(static_cast<double>(w[i])));
    const std::vector<double> wd(w.begin(), w.begin() + static_cast<long>(n));
    EXPECT_EQ(search_segment_fast(w.data(), n, o), search_segment_brute_force(wd.data(), n, o));
    for (size_t bad : {size_t{0}, n / 2, n - 1})
      for (float v : {std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity(), std::nanf("")}) {
        std::vector<float> x(w.begin(), w.begin() + static_cast<long>(n));
        x[bad] = v;
        try {
          quantize_tensor(x.data(), n, {static_cast<int64_t>(n)}, o);
          ADD_FAILURE() << "no error for weight " << bad;
        } catch (const ConfigError& e) {
          EXPECT_NE(std::string(e.what()).find("weight [" + std::to_string(bad) + "]"), std::string::npos) << e.what();
        }
      }
    EXPECT_EQ(m, detail::max_abs_or_nonfinite(w.data(), n));
    EXPECT_EQ(m, detail::max_abs_or_nonfinite(wd.data(), n));
  }
}

}  // namespace
