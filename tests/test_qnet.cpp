// Quantized inference of the shipped model: calibration formats, committed
// regression logits for fixed images (regenerate with
// BRSIM_UPDATE_FIXTURES=1 after an intended change), and the accuracy
// targets of the model-import issue on a slice of the test set.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <random>
#include <nlohmann/json.hpp>

#include "calibration.h"
#include "errors.h"
#include "float_infer.h"
#include "host_threads.h"
#include "idx_dataset.h"
#include "onnx_import.h"
#include "qnet.h"

using namespace brsim;

namespace {

struct Shipped {
  std::shared_ptr<const Network> net;
  ImageSet test;
  ActivationFormats formats;
};

const Shipped& shipped() {
  static const Shipped s = [] {
    Shipped x;
    x.net = std::make_shared<const Network>(import_onnx(std::string(BRSIM_DATA_DIR) + "/models/fashion_lenet.onnx"));
    x.test = load_idx(kFashionMnistDir, "t10k", 2000);
    x.formats = calibrate(*x.net, load_idx(kFashionMnistDir, "train", 500), CalibOptions{});
    return x;
  }();
  return s;
}

NetQuantOptions variant(const std::string& policy, int k, CodebookKind cb, bool exact = false) {
  NetQuantOptions o;
  o.weights.policy = Policy::parse(policy);
  o.weights.datapath.sqrt2_terms = k;
  o.weights.codebook = cb;
  o.exact_sqrt2 = exact;
  return o;
}

double top1(const QuantizedNetwork* q, int64_t n) {
  const Shipped& s = shipped();
  int64_t correct = 0;
  const size_t px = static_cast<size_t>(s.test.rows * s.test.cols);
  for (int64_t i = 0; i < n; ++i) {
    const std::vector<float> in = image_to_input(s.test.image(i), px);
    size_t best;
    if (q) {
      const ActTensor out = run_quantized(*q, in);
      best = static_cast<size_t>(std::max_element(out.data.begin(), out.data.end()) - out.data.begin());
    } else {
      best = argmax(run_float(*s.net, in));
    }
    correct += best == s.test.labels[static_cast<size_t>(i)];
  }
  return 100.0 * static_cast<double>(correct) / static_cast<double>(n);
}

}  // namespace

TEST(Calibration, FracBitsFitTheBoundInABits) {
  EXPECT_EQ(frac_bits_for(1.0, 16), 14);  // 2^15 does not fit 32767
  EXPECT_EQ(frac_bits_for(0.999, 16), 15);
  EXPECT_EQ(frac_bits_for(100.0, 16), 8);  // 25600 fits, 51200 does not
  EXPECT_EQ(frac_bits_for(0.0, 16), 0);
  EXPECT_EQ(frac_bits_for(3.0, 8), 5);  // 96 fits, 192 does not
  const Shipped& s = shipped();
  EXPECT_EQ(s.formats.input_frac, 14);  // pixels / 255 reach 1.0
  ASSERT_EQ(s.formats.layer_frac.size(), s.net->layers.size());
  for (size_t i = 0; i < s.net->layers.size(); ++i) {
    const double bound = s.formats.input_range_and_layers[i + 1];
    if (!s.net->layers[i].has_weights()) continue;
    EXPECT_LE(std::round(std::ldexp(bound, s.formats.layer_frac[i])), 32767.0);
    EXPECT_GT(std::round(std::ldexp(bound, s.formats.layer_frac[i] + 1)), 32767.0);
  }
}

TEST(QuantizedInference, RegressionLogitsOfFixedImages) {
  const Shipped& s = shipped();
  const std::string path = std::string(BRSIM_FIXTURES_DIR) + "/fashion_lenet_quantized_logits.json";
  struct Case {
    std::string name;
    NetQuantOptions opt;
  };
  const std::vector<Case> cases = {{"brslog_k4_ideal", variant("brslog", 4, CodebookKind::Ideal)},
                                   {"brslog_k2_hardware", variant("brslog", 2, CodebookKind::Hardware)},
                                   {"log2_k4_ideal", variant("log2", 4, CodebookKind::Ideal)},
                                   {"fixed16", variant("fixed16", 4, CodebookKind::Ideal)}};
  nlohmann::json got;
  const size_t px = static_cast<size_t>(s.test.rows * s.test.cols);
  for (const Case& c : cases) {
    const QuantizedNetwork q = quantize_network(s.net, s.formats, c.opt);
    nlohmann::json per_image = nlohmann::json::array();
    for (int64_t i = 0; i < 4; ++i) {
      const ActTensor out = run_quantized(q, image_to_input(s.test.image(i), px));
      per_image.push_back({{"image", i}, {"frac_bits", out.frac_bits}, {"logits", out.data}});
    }
    got[c.name] = per_image;
  }
  if (std::getenv("BRSIM_UPDATE_FIXTURES")) {
    std::ofstream(path) << got.dump(1) << "\n";
    GTEST_SKIP() << "fixture rewritten: " << path;
  }
  std::ifstream f(path);
  ASSERT_TRUE(f) << path << " missing: run with BRSIM_UPDATE_FIXTURES=1 once";
  const nlohmann::json want = nlohmann::json::parse(f);
  for (const Case& c : cases) EXPECT_EQ(got[c.name], want[c.name]) << c.name;
}

TEST(QuantizedInference, AccuracyTargetsOnTheFirst2000TestImages) {
  const Shipped& s = shipped();
  const int64_t n = 2000;
  const double fp = top1(nullptr, n);
  EXPECT_GE(fp, 88.0);
  const QuantizedNetwork brs = quantize_network(s.net, s.formats, variant("brslog", 4, CodebookKind::Ideal));
  const QuantizedNetwork f16 = quantize_network(s.net, s.formats, variant("fixed16", 4, CodebookKind::Ideal));
  const double b = top1(&brs, n), f = top1(&f16, n);
  EXPECT_GE(b, fp - 1.0) << "brslog 5-bit K=4 must stay within 1 point of float";
  EXPECT_NEAR(f, fp, 0.3) << "fixed16 must track float";
}

TEST(QuantizedInference, ExactSqrt2ReferenceIsCloseToK6) {
  const Shipped& s = shipped();
  const QuantizedNetwork ex = quantize_network(s.net, s.formats, variant("brslog", 4, CodebookKind::Ideal, true));
  const QuantizedNetwork k6 = quantize_network(s.net, s.formats, variant("brslog", 6, CodebookKind::Ideal));
  const size_t px = static_cast<size_t>(s.test.rows * s.test.cols);
  // Same codes: the K = 6 hardware differs from the real sqrt2 by 0.002 %.
  for (size_t l = 0; l < ex.layers.size(); ++l) EXPECT_EQ(ex.layers[l].qw.codes, k6.layers[l].qw.codes);
  for (int64_t i = 0; i < 20; ++i) {
    const ActTensor a = run_quantized(ex, image_to_input(s.test.image(i), px));
    const ActTensor b = run_quantized(k6, image_to_input(s.test.image(i), px));
    ASSERT_EQ(a.frac_bits, b.frac_bits);
    for (size_t k = 0; k < a.data.size(); ++k) EXPECT_NEAR(a.data[k], b.data[k], 8) << "image " << i;
  }
}

TEST(QuantizedInference, RejectsExactWithTheHardwareCodebook) {
  const Shipped& s = shipped();
  EXPECT_THROW(quantize_network(s.net, s.formats, variant("brslog", 4, CodebookKind::Hardware, true)), ConfigError);
}

// The float reference's convolution, blocked over channels and pixels, adds
// exactly as a direct loop: the bias, then each tap's product (rounded) in
// (c, ky, kx) order; stride, padding, channels and pixels that fill no
// whole block included.
TEST(FloatInference, ConvolutionAddsAsADirectLoop) {
  Network net;
  net.input = {5, 13, 11};
  Layer conv;
  conv.kind = LayerKind::Conv;
  conv.in = net.input;
  conv.window = {3, 4, 2, 1, 1, 2, 1, 2};  // kh, kw, stride h, w, pads top, left, bottom, right
  conv.out = {19, 7, 12};
  std::mt19937 rng(9);
  std::uniform_real_distribution<float> u(-1, 1);
  conv.weights.resize(static_cast<size_t>(conv.out.c * conv.gemm_k()));
  for (float& x : conv.weights) x = u(rng);
  conv.bias.resize(static_cast<size_t>(conv.out.c));
  for (float& x : conv.bias) x = u(rng);
  net.layers = {conv};
  std::vector<float> in(static_cast<size_t>(net.input.numel()));
  for (float& x : in) x = u(rng);
  const std::vector<float> y = run_float(net, in);
  ASSERT_EQ(y.size(), static_cast<size_t>(19 * 7 * 12));
  const Window& w = conv.window;
  for (int64_t m = 0; m < 19; ++m)
    for (int64_t oy = 0; oy < 7; ++oy)
      for (int64_t ox = 0; ox < 12; ++ox) {
        float acc = conv.bias[static_cast<size_t>(m)];
        for (int64_t c = 0; c < 5; ++c)
          for (int64_t ky = 0; ky < w.kh; ++ky)
            for (int64_t kx = 0; kx < w.kw; ++kx) {
              const int64_t iy = oy * w.stride_h + ky - w.pad_top, ix = ox * w.stride_w + kx - w.pad_left;
              if (iy < 0 || iy >= 13 || ix < 0 || ix >= 11) continue;
              const float prod = conv.weights[static_cast<size_t>(((m * 5 + c) * w.kh + ky) * w.kw + kx)] *
                                 in[static_cast<size_t>((c * 13 + iy) * 11 + ix)];
              acc += prod;
            }
        ASSERT_EQ(y[static_cast<size_t>((m * 7 + oy) * 12 + ox)], acc) << m << " " << oy << " " << ox;
      }
}

// The float reference spreads the output channels of large layers over host
// threads: the same floats on any number of them.
TEST(FloatInference, LargeLayersGiveTheSameFloatsOnAnyNumberOfThreads) {
  Network net;
  net.input = {32, 30, 30};
  Layer conv;
  conv.kind = LayerKind::Conv;
  conv.in = net.input;
  conv.window = {3, 3, 1, 1, 1, 1, 1, 1};
  conv.out = {64, 30, 30};  // 16.6 M MACs
  Layer dense;
  dense.kind = LayerKind::Dense;
  dense.in = {64 * 30 * 30, 1, 1};
  dense.out = {100, 1, 1};  // 5.8 M MACs
  std::mt19937 rng(4);
  std::uniform_real_distribution<float> u(-1, 1);
  for (Layer* l : {&conv, &dense}) {
    l->weights.resize(static_cast<size_t>(l->out.c * l->gemm_k()));
    for (float& x : l->weights) x = u(rng);
    l->bias.assign(static_cast<size_t>(l->out.c), 0.25f);
    l->relu = true;
  }
  net.layers = {conv, dense};
  std::vector<float> in(static_cast<size_t>(net.input.numel()));
  for (float& x : in) x = u(rng);
  set_host_threads(1);
  std::vector<std::vector<float>> one, many;
  run_float(net, in, &one);
  for (int threads : {2, 3}) {
    set_host_threads(threads);
    many.clear();
    run_float(net, in, &many);
    EXPECT_EQ(many, one) << threads << " threads";
  }
  EXPECT_GT(one.back()[0] + one.back()[99], 0.0f);
}
