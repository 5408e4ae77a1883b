// Bias correction (docs/numerics.md "Bias correction"): each Conv/Dense
// layer's float bias less its expected output error over the calibration
// images, E[conv(x, W_q) - conv(x, W)] = sum_k (W_q - W)[m, k] mean(x_k).
// Hand-made layers against the formula and a direct convolution computed
// here, and the shipped residual model's accuracy with and without.
#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <cmath>
#include <memory>
#include <random>

#include "errors.h"
#include "float_infer.h"
#include "idx_dataset.h"
#include "onnx_import.h"
#include "qnet.h"
#include "requant.h"
#include "cli_runner.h"
#include "temp_dir.h"

using namespace brsim;

namespace {

Layer conv_layer(int64_t c, int64_t h, int64_t w, int64_t m, int64_t k, int64_t stride, int64_t pad, int64_t groups,
                 uint32_t seed) {
  Layer l;
  l.kind = LayerKind::Conv;
  l.name = "conv" + std::to_string(seed);
  l.in = {c, h, w};
  l.window = {k, k, stride, stride, pad, pad, pad, pad};
  l.out = {m, (h + 2 * pad - k) / stride + 1, (w + 2 * pad - k) / stride + 1};
  l.groups = groups;
  std::mt19937 rng(seed);
  std::normal_distribution<float> g(0.0f, 0.3f);
  l.weights.resize(static_cast<size_t>(m * l.gemm_k()));
  for (float& x : l.weights) x = g(rng);
  for (int64_t i = 0; i < m; ++i) l.bias.push_back(0.1f * static_cast<float>(i) - 0.2f);
  return l;
}

NetQuantOptions brslog(bool correct) {
  NetQuantOptions o;
  o.weights.policy = Policy::parse("brslog");
  o.weights.bits = 5;
  o.bias_correction = correct;
  return o;
}

ActivationFormats calib(const Network& net, const std::vector<std::vector<float>>& xs, bool means) {
  CalibOptions co;
  co.images = static_cast<int64_t>(xs.size());
  co.input_means = means;
  return calibrate(net, xs, co);
}

// The float bias the hardware's bias_q stands for: bias_q = quantize_bias(b, acc_frac).
int64_t bias_q_of(const QuantizedNetwork& q, size_t layer, size_t ch, double b) {
  const QLayer& ql = q.layers[layer];
  const int acc_frac = ql.f_in + sqrt2_approx(q.options.weights.datapath.sqrt2_terms).q -
                       ql.qw.config_of_channel(ch).e_base;
  return quantize_bias(b, acc_frac, q.options.weights.datapath.acc_bits);
}

// conv(x, w) + 0 at output channel m, pixel (y, xo), directly (zero padding).
double direct_conv(const Layer& l, const std::vector<float>& x, const std::vector<double>& w, int64_t m, int64_t y,
                   int64_t xo) {
  const Window& win = l.window;
  const int64_t cg = l.in.c / l.groups, g = m / (l.out.c / l.groups);
  double s = 0;
  for (int64_t c = 0; c < cg; ++c)
    for (int64_t i = 0; i < win.kh; ++i)
      for (int64_t j = 0; j < win.kw; ++j) {
        const int64_t iy = y * win.stride_h - win.pad_top + i, ix = xo * win.stride_w - win.pad_left + j;
        if (iy < 0 || iy >= l.in.h || ix < 0 || ix >= l.in.w) continue;
        s += w[static_cast<size_t>(((m * cg + c) * win.kh + i) * win.kw + j)] *
             x[static_cast<size_t>(((g * cg + c) * l.in.h + iy) * l.in.w + ix)];
      }
  return s;
}

}  // namespace

// Inputs constant per channel (no padding): every column of channel c has
// the mean of that channel's constants, so the correction is
// sum_k (W_q - W)[m, k] v_c(k), computed here from the quantized weights.
TEST(BiasCorrection, ConvAndDenseBiasesEqualTheFormulaWithKnownInputMeans) {
  Network net;
  net.source = "hand-made";
  net.input = {3, 5, 5};
  Layer conv = conv_layer(3, 5, 5, 4, 3, 1, 0, 1, 7);
  Layer dense;
  dense.kind = LayerKind::Dense;
  dense.name = "fc";
  dense.in = {4 * 3 * 3, 1, 1};
  dense.out = {3, 1, 1};
  std::mt19937 rng(3);
  std::normal_distribution<float> g(0.0f, 0.2f);
  dense.weights.resize(static_cast<size_t>(3 * dense.gemm_k()));
  for (float& x : dense.weights) x = g(rng);
  dense.bias = {0.05f, -0.1f, 0.3f};
  net.layers = {conv, dense};
  const std::vector<std::vector<double>> channel_values{{0.5, 1.25, 2.0}, {1.5, 0.25, 3.0}};  // two images
  std::vector<std::vector<float>> xs;
  for (const auto& v : channel_values) {
    std::vector<float> x;
    for (double c : v) x.insert(x.end(), 25, static_cast<float>(c));
    xs.push_back(x);
  }
  const ActivationFormats f = calib(net, xs, true);
  const QuantizedNetwork plain = quantize_network(std::make_shared<const Network>(net), f, brslog(false));
  const QuantizedNetwork q = quantize_network(std::make_shared<const Network>(net), f, brslog(true));
  // Conv: channel c's mean is the mean of its two constants.
  const QuantizedWeights& qw = q.layers[0].qw;
  ASSERT_EQ(q.layers[0].bias_correction.size(), 4u);
  EXPECT_TRUE(plain.layers[0].bias_correction.empty());
  for (int64_t m = 0; m < 4; ++m) {
    double expected = 0;
    for (int64_t c = 0; c < 3; ++c) {
      const double mean = (channel_values[0][static_cast<size_t>(c)] + channel_values[1][static_cast<size_t>(c)]) / 2;
      for (int64_t t = 0; t < 9; ++t) {
        const size_t idx = static_cast<size_t>(m * 27 + c * 9 + t);
        expected += (qw.hardware_weight(idx) - static_cast<double>(conv.weights[idx])) * mean;
      }
    }
    EXPECT_NEAR(q.layers[0].bias_correction[static_cast<size_t>(m)], expected, 1e-12) << m;
    EXPECT_NE(expected, 0.0) << m;
    EXPECT_EQ(q.layers[0].bias_q[static_cast<size_t>(m)],
              bias_q_of(q, 0, static_cast<size_t>(m), static_cast<double>(conv.bias[static_cast<size_t>(m)]) - expected))
        << m;
    EXPECT_EQ(plain.layers[0].bias_q[static_cast<size_t>(m)],
              bias_q_of(plain, 0, static_cast<size_t>(m), static_cast<double>(conv.bias[static_cast<size_t>(m)])))
        << m;
  }
  // Dense: the means are the mean of the two images' float conv outputs.
  std::vector<std::vector<float>> o0, o1;
  run_float(net, xs[0], &o0);
  run_float(net, xs[1], &o1);
  const QuantizedWeights& qd = q.layers[1].qw;
  for (int64_t m = 0; m < 3; ++m) {
    double expected = 0;
    for (int64_t k = 0; k < 36; ++k) {
      const size_t idx = static_cast<size_t>(m * 36 + k);
      const double mean = (static_cast<double>(o0[0][static_cast<size_t>(k)]) + o1[0][static_cast<size_t>(k)]) / 2;
      expected += (qd.hardware_weight(idx) - static_cast<double>(dense.weights[idx])) * mean;
    }
    EXPECT_NEAR(q.layers[1].bias_correction[static_cast<size_t>(m)], expected, 1e-9) << m;
    EXPECT_EQ(q.layers[1].bias_q[static_cast<size_t>(m)],
              bias_q_of(q, 1, static_cast<size_t>(m), static_cast<double>(dense.bias[static_cast<size_t>(m)]) - expected))
        << m;
  }
}

// Random all-positive inputs, padding, stride and a grouped conv: over the
// calibration images' float activations, the mean of conv(x, W_q) + b' -
// conv(x, W) - b per output channel (a direct convolution here) is zero to
// rounding with the corrected float bias b' = b - correction.
TEST(BiasCorrection, MeanOutputErrorPerChannelIsZeroOnTheCalibrationSet) {
  Network net;
  net.source = "hand-made";
  net.input = {2, 7, 7};
  Layer c1 = conv_layer(2, 7, 7, 4, 3, 1, 1, 1, 11);
  c1.relu = true;
  Layer c2 = conv_layer(4, 7, 7, 4, 3, 2, 1, 2, 12);  // two groups of two channels
  net.layers = {c1, c2};
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  std::vector<std::vector<float>> xs(20, std::vector<float>(98));
  for (auto& x : xs)
    for (float& v : x) v = u(rng);
  const QuantizedNetwork q = quantize_network(std::make_shared<const Network>(net), calib(net, xs, true), brslog(true));
  for (size_t li = 0; li < 2; ++li) {
    const Layer& l = net.layers[li];
    std::vector<double> wq(l.weights.size()), w(l.weights.begin(), l.weights.end());
    for (size_t i = 0; i < wq.size(); ++i) wq[i] = q.layers[li].qw.hardware_weight(i);
    double worst_before = 0, worst_after = 0;
    for (int64_t m = 0; m < l.out.c; ++m) {
      double err = 0;
      int64_t count = 0;
      for (const auto& x : xs) {
        std::vector<std::vector<float>> outs;
        run_float(net, x, &outs);
        const std::vector<float>& in = li == 0 ? x : outs[0];
        for (int64_t y = 0; y < l.out.h; ++y)
          for (int64_t xo = 0; xo < l.out.w; ++xo, ++count)
            err += direct_conv(l, in, wq, m, y, xo) - direct_conv(l, in, w, m, y, xo);
      }
      err /= static_cast<double>(count);
      worst_before = std::max(worst_before, std::fabs(err));
      worst_after = std::max(worst_after, std::fabs(err - q.layers[li].bias_correction[static_cast<size_t>(m)]));
    }
    EXPECT_GT(worst_before, 1e-3) << l.name;  // there was an error to correct
    EXPECT_LT(worst_after, 1e-9) << l.name;
  }
}

// Without the option the calibration's input means change nothing, and the
// option without them is refused.
TEST(BiasCorrection, OffLeavesTheQuantizedNetworkUnchanged) {
  const auto net = std::make_shared<const Network>(import_onnx(std::string(BRSIM_DATA_DIR) + "/models/fashion_lenet.onnx"));
  const ImageSet train = load_idx(kFashionMnistDir, "train", 50);
  CalibOptions co;
  co.images = 50;
  const ActivationFormats plain = calibrate(*net, train, co);
  co.input_means = true;
  const ActivationFormats with_means = calibrate(*net, train, co);
  EXPECT_EQ(plain.layer_frac, with_means.layer_frac);
  EXPECT_EQ(plain.input_range_and_layers, with_means.input_range_and_layers);
  const QuantizedNetwork a = quantize_network(net, plain, brslog(false));
  const QuantizedNetwork b = quantize_network(net, with_means, brslog(false));
  const QuantizedNetwork c = quantize_network(net, with_means, brslog(true));
  bool any_changed = false;
  for (size_t i = 0; i < a.layers.size(); ++i) {
    EXPECT_EQ(a.layers[i].bias_q, b.layers[i].bias_q) << i;
    EXPECT_EQ(a.layers[i].shift, c.layers[i].shift) << i;
    any_changed |= a.layers[i].bias_q != c.layers[i].bias_q;
  }
  EXPECT_TRUE(any_changed);
  EXPECT_THROW(quantize_network(net, plain, brslog(true)), ConfigError);
}

// The shipped residual model (docs/networks.md "The shipped residual
// model"): 5-bit BRSLog, K = 4, 300 calibration images, the first 300 test
// images. Measured: 218 (72.67 %) without, 255 (85.00 %) with bias correction.
TEST(BiasCorrection, RaisesTheResidualModelsBrslogAccuracy) {
  const auto net =
      std::make_shared<const Network>(import_onnx(std::string(BRSIM_DATA_DIR) + "/models/fashion_dsresnet.onnx"));
  CalibOptions co;
  co.images = 300;
  co.input_means = true;
  const ActivationFormats f = calibrate(*net, load_idx(kFashionMnistDir, "train", 300), co);
  const QuantizedNetwork plain = quantize_network(net, f, brslog(false));
  const QuantizedNetwork corrected = quantize_network(net, f, brslog(true));
  const ImageSet test = load_idx(kFashionMnistDir, "t10k", 300);
  int ok_plain = 0, ok_corrected = 0;
  auto best = [](const ActTensor& t) {
    return static_cast<size_t>(std::max_element(t.data.begin(), t.data.end()) - t.data.begin());
  };
  for (int64_t i = 0; i < test.count; ++i) {
    const std::vector<float> x = image_to_input(test.image(i), 784);
    const size_t label = test.labels[static_cast<size_t>(i)];
    ok_plain += best(run_quantized(plain, x)) == label;
    ok_corrected += best(run_quantized(corrected, x)) == label;
  }
  std::cout << "top-1 on " << test.count << " images: " << ok_plain << " without, " << ok_corrected
            << " with bias correction\n";
  EXPECT_GE(ok_corrected - ok_plain, 30);  // at least 10 points
}

namespace {
nlohmann::json json_of(const CliResult& r) {
  const size_t at = r.out.find('{');
  if (at == std::string::npos) throw std::runtime_error("no JSON in: " + r.out);
  return nlohmann::json::parse(r.out.substr(at));
}
}  // namespace

// The reports say it is on (and only then); quantize without a model refuses it.
TEST(BiasCorrectionCli, ReportsRecordIt) {
  const CliResult off = run_brsim("accuracy --policy brslog --images 20 --calib-images 20 --format json");
  const CliResult on = run_brsim("accuracy --policy brslog --images 20 --calib-images 20 --format json --bias-correction");
  ASSERT_EQ(off.status, 0) << off.out;
  ASSERT_EQ(on.status, 0) << on.out;
  EXPECT_FALSE(json_of(off)["calibration"].contains("bias_correction"));
  EXPECT_EQ(json_of(on)["calibration"]["bias_correction"], true);

  const brsim_test::TempDir dir;
  const CliResult run = run_brsim("run --mode fast --images 4 --calib-images 20 --format json --bias-correction --out " +
                                  dir.file("run"));
  ASSERT_EQ(run.status, 0) << run.out;
  const nlohmann::json summary = nlohmann::json::parse(brsim_test::read_file(dir.file("run/summary.json")));
  EXPECT_EQ(summary["quantization"]["bias_correction"], true);
  EXPECT_TRUE(summary["accuracy"]["bit_exact"].get<bool>());

  const CliResult q = run_brsim("quantize " + std::string(BRSIM_DATA_DIR) +
                                "/models/fashion_dsresnet.onnx --bias-correction --calib-images 20 --format json");
  ASSERT_EQ(q.status, 0) << q.out;
  const nlohmann::json qj = json_of(q);
  EXPECT_EQ(qj["bias_correction"], true);
  EXPECT_EQ(qj["calibration_images"], 20);
  ASSERT_EQ(qj["layers"].size(), 9u);  // the Conv/Dense layers
  for (const nlohmann::json& l : qj["layers"]) {
    EXPECT_GT(l["bias_correction_rms"].get<double>(), 0.0) << l["name"];
    EXPECT_GE(l["bias_correction_max_abs"].get<double>(), l["bias_correction_rms"].get<double>()) << l["name"];
  }
  const CliResult demo = run_brsim("quantize --bias-correction");
  EXPECT_EQ(demo.status, 2) << demo.out;
  EXPECT_NE(demo.out.find("--bias-correction needs a model"), std::string::npos) << demo.out;
}
