// ONNX import: the shipped model reproduces the framework's logits (fixture
// written by the training script), BatchNorm folding equals the unfolded
// computation, each supported op maps as documented, and malformed or
// unsupported models are rejected with a message naming node and op.
#include <gtest/gtest.h>

#include "temp_dir.h"

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "config_error.h"
#include "errors.h"
#include "float_infer.h"
#include "idx_dataset.h"
#include "onnx_builder.h"
#include "onnx_import.h"

using namespace brsim;

namespace {

std::vector<float> random_vec(size_t n, uint64_t seed, float scale = 1.0f) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> d(-scale, scale);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

std::string import_error(const std::string& path) {
  return brsim_test::config_error([&] { import_onnx(path); });
}

}  // namespace

TEST(OnnxShippedModel, ReproducesTheFrameworkLogits) {
  const std::string model = std::string(BRSIM_DATA_DIR) + "/models/fashion_lenet.onnx";
  std::ifstream fx(std::string(BRSIM_FIXTURES_DIR) + "/fashion_lenet_reference.json");
  ASSERT_TRUE(fx) << "fixture missing";
  const nlohmann::json ref = nlohmann::json::parse(fx);
  const Network net = import_onnx(model);
  const ImageSet test = load_idx(kFashionMnistDir, "t10k", 100);
  for (size_t i = 0; i < ref["images"].size(); ++i) {
    const int64_t idx = ref["images"][i];
    const std::vector<float> logits =
        run_float(net, image_to_input(test.image(idx), static_cast<size_t>(test.rows * test.cols)));
    ASSERT_EQ(logits.size(), ref["logits"][i].size());
    for (size_t k = 0; k < logits.size(); ++k)
      EXPECT_NEAR(logits[k], ref["logits"][i][k].get<double>(), 1e-4) << "image " << idx << " logit " << k;
    EXPECT_EQ(static_cast<int>(test.labels[static_cast<size_t>(idx)]), ref["labels"][i].get<int>());
  }
}

TEST(OnnxImport, BatchNormFoldedEqualsUnfolded) {
  // x[1,2,5,5] -> Conv(3 filters, 3x3, pad 1, bias) -> BatchNorm -> Relu -> Flatten -> Gemm(75 -> 4)
  OnnxBuilder b({1, 2, 5, 5});
  const std::vector<float> w = random_vec(3 * 2 * 9, 1), bias = random_vec(3, 2);
  const std::vector<float> gamma{1.5f, -0.7f, 0.3f}, beta{0.1f, 0.2f, -0.3f}, mean{0.05f, -0.1f, 0.2f},
      var{0.5f, 1.2f, 0.09f};
  const std::vector<float> fc = random_vec(4 * 75, 3), fcb = random_vec(4, 4);
  b.init("W", {3, 2, 3, 3}, w);
  b.init("B", {3}, bias);
  b.init("gamma", {3}, gamma);
  b.init("beta", {3}, beta);
  b.init("mean", {3}, mean);
  b.init("var", {3}, var);
  b.init("FC", {4, 75}, fc);
  b.init("FCB", {4}, fcb);
  auto* conv = b.node("Conv", {"x", "W", "B"}, "c", "conv");
  OnnxBuilder::ints(conv, "pads", {1, 1, 1, 1});
  OnnxBuilder::ints(conv, "kernel_shape", {3, 3});
  OnnxBuilder::real(b.node("BatchNormalization", {"c", "gamma", "beta", "mean", "var"}, "bn"), "epsilon", 1e-3f);
  b.node("Relu", {"bn"}, "r");
  b.node("Flatten", {"r"}, "f");
  OnnxBuilder::integer(b.node("Gemm", {"f", "FC", "FCB"}, "y", "fc"), "transB", 1);
  b.output("y");
  const Network net = import_onnx(b.save("bn.onnx"));
  ASSERT_EQ(net.layers.size(), 3u);  // conv (BN folded, ReLU fused), flatten, fc
  EXPECT_TRUE(net.layers[0].relu);

  const std::vector<float> x = random_vec(50, 5);
  // Unfolded reference: conv + bias, then (v - mean) / sqrt(var + eps) * gamma + beta, ReLU, FC.
  std::vector<double> act(75);
  for (int m = 0; m < 3; ++m)
    for (int y = 0; y < 5; ++y)
      for (int xx = 0; xx < 5; ++xx) {
        double s = bias[m];
        for (int c = 0; c < 2; ++c)
          for (int ky = 0; ky < 3; ++ky)
            for (int kx = 0; kx < 3; ++kx) {
              const int iy = y + ky - 1, ix = xx + kx - 1;
              if (iy < 0 || iy >= 5 || ix < 0 || ix >= 5) continue;
              s += w[((m * 2 + c) * 3 + ky) * 3 + kx] * x[(c * 5 + iy) * 5 + ix];
            }
        const double bn = (s - mean[m]) / std::sqrt(var[m] + 1e-3) * gamma[m] + beta[m];
        act[(m * 5 + y) * 5 + xx] = std::max(bn, 0.0);
      }
  const std::vector<float> got = run_float(net, x);
  ASSERT_EQ(got.size(), 4u);
  for (int o = 0; o < 4; ++o) {
    double s = fcb[o];
    for (int i = 0; i < 75; ++i) s += fc[o * 75 + i] * act[i];
    EXPECT_NEAR(got[o], s, 1e-4) << "output " << o;
  }
}

TEST(OnnxImport, MatMulAddReshapeAndPools) {
  // x[1,1,6,6] -> AveragePool 2x2 s2 -> MaxPool 3x3 s1 pad 1 -> Reshape [1,9] -> MatMul(9x2) -> Add -> y
  OnnxBuilder b({1, 1, 6, 6});
  const std::vector<float> mm = random_vec(18, 7), add{0.25f, -0.5f};
  b.init("M", {9, 2}, mm);
  b.init("A", {2}, add);
  b.init_i64("shape", {2}, {1, -1});
  auto* ap = b.node("AveragePool", {"x"}, "p1");
  OnnxBuilder::ints(ap, "kernel_shape", {2, 2});
  OnnxBuilder::ints(ap, "strides", {2, 2});
  auto* mp = b.node("MaxPool", {"p1"}, "p2");
  OnnxBuilder::ints(mp, "kernel_shape", {3, 3});
  OnnxBuilder::ints(mp, "pads", {1, 1, 1, 1});
  b.node("Reshape", {"p2", "shape"}, "r");
  b.node("MatMul", {"r", "M"}, "mmo");
  b.node("Add", {"mmo", "A"}, "y");
  b.output("y");
  const Network net = import_onnx(b.save("mm.onnx"));
  ASSERT_EQ(net.layers.size(), 4u);
  EXPECT_EQ(net.layers[0].out, (TensorShape{1, 3, 3}));
  EXPECT_EQ(net.layers[1].out, (TensorShape{1, 3, 3}));
  const std::vector<float> x = random_vec(36, 8);
  std::vector<double> avg(9), mx(9);
  for (int y = 0; y < 3; ++y)
    for (int xx = 0; xx < 3; ++xx)
      avg[y * 3 + xx] = (x[(2 * y) * 6 + 2 * xx] + x[(2 * y) * 6 + 2 * xx + 1] + x[(2 * y + 1) * 6 + 2 * xx] +
                         x[(2 * y + 1) * 6 + 2 * xx + 1]) / 4.0;
  for (int y = 0; y < 3; ++y)
    for (int xx = 0; xx < 3; ++xx) {
      double m = -1e30;
      for (int dy = -1; dy <= 1; ++dy)
        for (int dx = -1; dx <= 1; ++dx)
          if (y + dy >= 0 && y + dy < 3 && xx + dx >= 0 && xx + dx < 3) m = std::max(m, avg[(y + dy) * 3 + xx + dx]);
      mx[y * 3 + xx] = m;
    }
  const std::vector<float> got = run_float(net, x);
  for (int o = 0; o < 2; ++o) {
    double s = add[o];
    for (int i = 0; i < 9; ++i) s += mx[i] * mm[i * 2 + o];
    EXPECT_NEAR(got[o], s, 1e-5);
  }
}

TEST(OnnxImport, RejectsMalformedAndUnsupportedModels) {
  const brsim_test::TempDir tmp;
  const std::string dir = tmp.path() + "/";
  // Missing file.
  EXPECT_NE(import_error(dir + "nope.onnx").find("cannot open the model file"), std::string::npos);
  // Not ONNX at all.
  {
    std::ofstream f(dir + "text.onnx");
    f << "this is not a model\n";
  }
  EXPECT_NE(import_error(dir + "text.onnx").find("not a valid ONNX model"), std::string::npos);
  // A valid model, truncated.
  OnnxBuilder ok({1, 1, 4, 4});
  ok.init("W", {2, 1, 3, 3}, random_vec(18, 9));
  ok.node("Conv", {"x", "W"}, "y", "conv");
  ok.output("y");
  const std::string good = ok.save("good.onnx");
  EXPECT_EQ(import_error(good), "no error");
  std::string bytes;
  {
    std::ifstream f(good, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(f), {});
  }
  {
    std::ofstream f(dir + "trunc.onnx", std::ios::binary);
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size() / 2));
  }
  EXPECT_NE(import_error(dir + "trunc.onnx").find("not a valid ONNX model"), std::string::npos)
      << import_error(dir + "trunc.onnx");

  std::string last_path;  // the file one_node saved last
  auto one_node = [&](const std::string& op, auto&& tweak, const std::string& file) {
    OnnxBuilder b({1, 2, 4, 4});
    b.init("W", {2, 2, 3, 3}, random_vec(36, 10));
    auto* n = b.node(op, {"x", "W"}, "y", "bad_node");
    tweak(b, n);
    b.output("y");
    last_path = b.save(file);
    return import_error(last_path);
  };
  const std::string unsupported = one_node("Softmax", [](OnnxBuilder&, auto*) {}, "sig.onnx");
  const std::string sig_path = last_path;
  EXPECT_NE(unsupported.find("1 unsupported op: node 'bad_node' (Softmax): unsupported op 'Softmax'; supported ops: Conv"),
            std::string::npos)
      << unsupported;
  // Groups must divide the channels: W [2, 2, 3, 3] with group 2 needs 4 input channels.
  const std::string groups = one_node("Conv", [](OnnxBuilder&, auto* n) { OnnxBuilder::integer(n, "group", 3); },
                                      "groups.onnx");
  EXPECT_NE(groups.find("groups = 3: expected a divisor of the 2 input channels"), std::string::npos) << groups;
  // Dilation 2 makes the 3x3 kernel 5x5: larger than the 4x4 input.
  const std::string dil = one_node("Conv", [](OnnxBuilder&, auto* n) { OnnxBuilder::ints(n, "dilations", {2, 2}); },
                                   "dil.onnx");
  EXPECT_NE(dil.find("kernel larger than the padded input 2x4x4"), std::string::npos) << dil;
  // Missing initializer: the Conv's weights name a tensor nobody defines.
  {
    OnnxBuilder b({1, 1, 4, 4});
    b.node("Conv", {"x", "W_missing"}, "y", "conv");
    b.output("y");
    const std::string e = import_error(b.save("missing.onnx"));
    EXPECT_NE(e.find("node 'conv' (Conv): input W 'W_missing' is not an initializer"), std::string::npos) << e;
  }
  // Dynamic batch dimension.
  {
    OnnxBuilder b({1, 1, 4, 4}, "N");
    b.init("W", {2, 1, 3, 3}, random_vec(18, 9));
    b.node("Conv", {"x", "W"}, "y", "conv");
    b.output("y");
    const std::string e = import_error(b.save("dyn.onnx"));
    EXPECT_NE(e.find("dynamic shape (dimension 'N')"), std::string::npos) << e;
  }
  // Every message names the file.
  EXPECT_EQ(unsupported.rfind(sig_path + ": ", 0), 0u) << unsupported;
}

// The channel split and shuffle of ShuffleNetV2: a Slice of channels with
// constant starts/ends (from Shape arithmetic) and Reshape -> Transpose ->
// Reshape become Slice and Shuffle layers; any other Slice, Transpose or
// 5-D tensor of an activation is refused by name.
TEST(OnnxImport, ChannelSliceAndShuffle) {
  OnnxBuilder b({1, 6, 2, 2});
  b.init_i64("s0", {1}, {1}), b.init_i64("e0", {1}, {5}), b.init_i64("ax", {1}, {1}), b.init_i64("st", {1}, {2});
  b.init_i64("five", {5}, {1, 2, 3, 2, 2}), b.init_i64("four", {4}, {1, -1, 2, 2});
  b.node("Reshape", {"x", "five"}, "v");
  OnnxBuilder::ints(b.node("Transpose", {"v"}, "t"), "perm", {0, 2, 1, 3, 4});
  b.node("Reshape", {"t", "four"}, "sh", "shuffle");
  b.node("Slice", {"sh", "s0", "e0", "ax", "st"}, "y", "split");
  b.output("y");
  const Network n = import_onnx(b.save("shuffle.onnx"));
  ASSERT_EQ(n.layers.size(), 2u);
  EXPECT_EQ(n.layers[0].kind, LayerKind::Shuffle);
  EXPECT_EQ(n.layers[0].groups, 2);
  EXPECT_EQ(n.layers[1].kind, LayerKind::Slice);
  EXPECT_EQ(n.layers[1].ch_start, 1);
  EXPECT_EQ(n.layers[1].ch_step, 2);
  EXPECT_EQ(n.layers[1].out.str(), "2x2x2");  // channels 1 and 3 of 6
  // Float: channel c holds c; shuffled 0 3 1 4 2 5; sliced 3 4.
  std::vector<float> x(24);
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i / 4);
  EXPECT_EQ(run_float(n, x), (std::vector<float>{3, 3, 3, 3, 4, 4, 4, 4}));

  // A 1 x 1, stride-1 pooling (torchvision vgg's AdaptiveAvgPool2d on a
  // 7 x 7 input) changes nothing: no layer.
  {
    OnnxBuilder m({1, 2, 3, 3});
    m.init("W", {2, 2, 1, 1}, random_vec(4, 3));
    m.node("Conv", {"x", "W"}, "c", "conv");
    auto* p = m.node("AveragePool", {"c"}, "y", "avgpool");
    OnnxBuilder::ints(p, "kernel_shape", {1, 1});
    OnnxBuilder::ints(p, "strides", {1, 1});
    m.output("y");
    const Network one = import_onnx(m.save("pool1.onnx"));
    ASSERT_EQ(one.layers.size(), 1u);
    EXPECT_EQ(one.layers[0].kind, LayerKind::Conv);
  }

  auto refused = [&](auto&& build) {
    OnnxBuilder m({1, 6, 2, 2});
    build(m);
    return import_error(m.save("bad.onnx"));
  };
  const std::string h = refused([](OnnxBuilder& m) {
    m.init_i64("s", {1}, {0}), m.init_i64("e", {1}, {1}), m.init_i64("a", {1}, {2});
    m.node("Slice", {"x", "s", "e", "a"}, "y", "rows");
    m.output("y");
  });
  EXPECT_NE(h.find("node 'rows' (Slice): a Slice on axis 2 (height) is not supported: only a slice of the channel axis 1"),
            std::string::npos) << h;
  const std::string t = refused([](OnnxBuilder& m) {
    OnnxBuilder::ints(m.node("Transpose", {"x"}, "y", "tr"), "perm", {0, 1, 3, 2});
    m.output("y");
  });
  EXPECT_NE(t.find("node 'tr' (Transpose): a Transpose of an activation is supported only in a channel shuffle"),
            std::string::npos) << t;
  const std::string v = refused([](OnnxBuilder& m) {
    m.init_i64("five", {5}, {1, 2, 3, 2, 2});
    m.node("Reshape", {"x", "five"}, "v");
    m.node("Relu", {"v"}, "y", "relu5d");
    m.output("y");
  });
  EXPECT_NE(v.find("node 'relu5d' (Relu): reads the 5-D tensor 'v': a 5-D activation is supported only inside a channel "
                   "shuffle"), std::string::npos) << v;
  const std::string d = refused([](OnnxBuilder& m) {
    m.init("two", {1}, {2.0f});
    m.node("Div", {"x", "two"}, "y", "div");
    m.output("y");
  });
  EXPECT_NE(d.find("node 'div' (Div): input 'x' is not constant: Div is supported only on constant paths"),
            std::string::npos) << d;
}
