// The shipped residual model, data/models/fashion_dsresnet.onnx (trained by
// data/train/train_fashion_dsresnet.py): its import as a DAG of depthwise-
// separable residual blocks, the float network against PyTorch's logits, and
// the accelerator against the golden model, bit exact, with the accuracy and
// cycle figures of tests/fixtures/fashion_dsresnet_run.json (the README's).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "accel_host.h"
#include "accelerator.h"
#include "float_infer.h"
#include "idx_dataset.h"
#include "onnx_import.h"
#include "qnet.h"

using namespace brsim;

namespace {

const std::string kModel = std::string(BRSIM_DATA_DIR) + "/models/fashion_dsresnet.onnx";

nlohmann::json fixture(const char* name) {
  std::ifstream f(std::string(BRSIM_FIXTURES_DIR) + "/" + name);
  if (!f) throw std::runtime_error(std::string("cannot open fixture ") + name);
  return nlohmann::json::parse(f);
}

// The class `brsim run` reports: the first largest logit.
size_t argmax_int(const std::vector<int32_t>& v) {
  return static_cast<size_t>(std::max_element(v.begin(), v.end()) - v.begin());
}

std::shared_ptr<const Network> load() { return std::make_shared<const Network>(import_onnx(kModel)); }

std::vector<std::vector<float>> test_inputs(int64_t n, std::vector<int>* labels) {
  const ImageSet test = load_idx(kFashionMnistDir, "t10k", n);
  std::vector<std::vector<float>> xs;
  for (int64_t i = 0; i < test.count; ++i) {
    xs.push_back(image_to_input(test.image(i), 784));
    if (labels) labels->push_back(test.labels[static_cast<size_t>(i)]);
  }
  return xs;
}

// What `brsim run` builds with its defaults: 5-bit BRSLog (K = 4) weights on
// the default array, calibration on the first 500 training images.
QuantizedNetwork quantize_like_run(std::shared_ptr<const Network> net, const ArchConfig& arch, int64_t calib) {
  NetQuantOptions o;
  o.weights.policy = Policy::parse("brslog");
  o.weights.bits = arch.weight_bits;
  o.weights.datapath = arch.datapath;
  CalibOptions co;
  co.act_bits = arch.datapath.act_bits;
  co.images = calib;
  return quantize_network(net, calibrate(*net, load_idx(kFashionMnistDir, "train", calib), co), o);
}

}  // namespace

TEST(ShippedResidualModel, ImportsAsDepthwiseSeparableResidualBlocks) {
  const auto net = load();
  EXPECT_FALSE(net->is_chain());
  int adds = 0, depthwise = 0, pointwise = 0, gap = 0;
  for (const Layer& l : net->layers) {
    if (l.kind == LayerKind::Add) {
      ++adds;
      EXPECT_EQ(l.inputs.size(), 2u) << l.name;
      EXPECT_TRUE(l.relu) << l.name;  // the ReLU after the add fuses into it
    }
    if (l.kind == LayerKind::Conv && l.groups > 1) {
      ++depthwise;
      EXPECT_EQ(l.groups, l.in.c) << l.name;
      EXPECT_EQ(l.window.kh, 3) << l.name;
      EXPECT_TRUE(l.relu) << l.name;
    }
    pointwise += l.kind == LayerKind::Conv && l.window.kh == 1;
    gap += l.kind == LayerKind::GlobalAvgPool;
  }
  EXPECT_EQ(adds, 3);
  EXPECT_EQ(depthwise, 3);
  EXPECT_EQ(pointwise, 4);  // three pointwise convs and the strided projection
  EXPECT_EQ(gap, 1);
  EXPECT_EQ(net->layers.back().kind, LayerKind::Dense);
  EXPECT_EQ(net->layers.back().out.c, 10);
  EXPECT_EQ(net->macs(), fixture("fashion_dsresnet_run.json").at("macs_per_image").get<uint64_t>());
}

// The float network (BatchNorm folded by the exporter) gives PyTorch's logits.
TEST(ShippedResidualModel, FloatNetworkGivesPyTorchsLogits) {
  const auto net = load();
  const nlohmann::json ref = fixture("fashion_dsresnet_reference.json");
  const auto images = ref.at("images").get<std::vector<int>>();
  const auto xs = test_inputs(static_cast<int64_t>(images.back()) + 1, nullptr);
  for (size_t k = 0; k < images.size(); ++k) {
    const std::vector<float> y = run_float(*net, xs[static_cast<size_t>(images[k])]);
    const auto want = ref.at("logits").at(k).get<std::vector<double>>();
    ASSERT_EQ(y.size(), want.size());
    for (size_t i = 0; i < y.size(); ++i) EXPECT_NEAR(y[i], want[i], 1e-4) << "image " << images[k] << " logit " << i;
  }
}

// Fast mode on the README's 100 test images: bit exact, and the float,
// golden and simulated accuracy and the cycles per image of the fixture.
TEST(ShippedResidualModel, FastModeMeetsTheGoldenModelAndTheRecordedFigures) {
  const nlohmann::json fx = fixture("fashion_dsresnet_run.json");
  const auto net = load();
  const ArchConfig arch;
  const QuantizedNetwork q = quantize_like_run(net, arch, fx.at("calibration_images").get<int64_t>());
  const AccelProgram prog = compile_network(q, arch);
  ASSERT_TRUE(prog.graph);
  std::vector<int> labels;
  const auto xs = test_inputs(fx.at("images").get<int64_t>(), &labels);
  const GoldenRun golden = golden_run(q, prog, xs);
  const AccelRunResult r = run_accelerator(prog, golden.inputs, &golden.expected, nullptr, true,
                                           [](Accelerator& a) { a.array.set_fast(true); });
  EXPECT_TRUE(r.bit_exact) << r.mismatch;
  EXPECT_EQ(r.tensors_compared, xs.size() * prog.layers.size());
  int float_ok = 0, golden_ok = 0, hw_ok = 0;
  for (size_t i = 0; i < xs.size(); ++i) {
    float_ok += argmax(run_float(*net, xs[i])) == static_cast<size_t>(labels[i]);
    golden_ok += argmax_int(golden.expected[i].back().data) == static_cast<size_t>(labels[i]);
    hw_ok += argmax_int(r.outputs[i]) == static_cast<size_t>(labels[i]);
  }
  EXPECT_EQ(float_ok, fx.at("float_correct").get<int>());
  EXPECT_EQ(golden_ok, fx.at("golden_correct").get<int>());
  EXPECT_EQ(hw_ok, golden_ok);
  uint64_t cycles = 0, macs = 0;
  for (const LayerRunStats& l : r.layers) cycles += l.stats.cycles.total(), macs += l.stats.macs;
  EXPECT_EQ(cycles, xs.size() * fx.at("cycles_per_image").get<uint64_t>());
  EXPECT_EQ(macs, xs.size() * fx.at("macs_per_image").get<uint64_t>());
}

// Cycle by cycle in every dataflow (two images): bit exact, with fast mode's
// counts.
TEST(ShippedResidualModel, CycleByCycleInEveryDataflowMatchesFastMode) {
  const auto net = load();
  const auto xs = test_inputs(2, nullptr);
  for (Dataflow df : {Dataflow::WeightStationary, Dataflow::OutputStationary, Dataflow::InputStationary}) {
    ArchConfig arch;
    arch.dataflow = df;
    const QuantizedNetwork q = quantize_like_run(net, arch, 100);
    const AccelProgram prog = compile_network(q, arch);
    const GoldenRun golden = golden_run(q, prog, xs);
    AccelRunResult runs[2];
    for (bool fast : {false, true}) {
      runs[fast] = run_accelerator(prog, golden.inputs, &golden.expected, nullptr, true,
                                   [fast](Accelerator& a) { a.array.set_fast(fast); });
      EXPECT_TRUE(runs[fast].bit_exact) << to_string(df) << (fast ? " fast: " : " cycle: ") << runs[fast].mismatch;
    }
    ASSERT_EQ(runs[0].layers.size(), runs[1].layers.size());
    for (size_t i = 0; i < runs[0].layers.size(); ++i) {
      const LayerRunStats &c = runs[0].layers[i], &f = runs[1].layers[i];
      EXPECT_EQ(c.stats.cycles.total(), f.stats.cycles.total()) << to_string(df) << " " << c.name;
      EXPECT_EQ(c.stats.macs, f.stats.macs) << c.name;
      if (!c.vector) {
        EXPECT_EQ(c.stats.cycles.total(), 2 * c.closed_form.total()) << to_string(df) << " " << c.name;
      }
    }
    EXPECT_EQ(runs[0].outputs, runs[1].outputs) << to_string(df);
  }
}
