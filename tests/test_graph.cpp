// Graph networks (docs/networks.md): the import of residual, concat,
// depthwise, squeeze-and-excite and channel-shuffle graphs (tests/fixtures/graphs, made by
// make_graphs.py), the golden model against the float network, bit-exact
// cycle and fast runs in every dataflow with every layer checked, the vector
// unit's format alignment, the built-in network shapes and the input sources.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include "accel_host.h"
#include "accelerator.h"
#include "errors.h"
#include "float_infer.h"
#include "input_source.h"
#include "onnx_import.h"
#include "qnet.h"
#include "synthetic_layer.h"
#include "temp_dir.h"
#include "vector_ops.h"
#include "vector_unit.h"

using namespace brsim;

namespace {

const char* const kGraphs[] = {"residual", "concat", "depthwise", "squeeze_excite", "shuffle"};

std::shared_ptr<const Network> load(const std::string& name) {
  return std::make_shared<const Network>(import_onnx(std::string(BRSIM_FIXTURES_DIR) + "/graphs/" + name + ".onnx"));
}

size_t count(const Network& n, LayerKind k) {
  size_t c = 0;
  for (const Layer& l : n.layers) c += l.kind == k;
  return c;
}

QuantizedNetwork quantize(std::shared_ptr<const Network> net, const std::vector<std::vector<float>>& xs,
                          const char* policy, int act_bits = 16) {
  CalibOptions co;
  co.act_bits = act_bits;
  co.images = static_cast<int64_t>(xs.size());
  NetQuantOptions o;
  o.weights.policy = Policy::parse(policy);
  if (o.weights.policy.kind == PolicyKind::Fixed16) o.weights.datapath.acc_bits = 48;
  return quantize_network(net, calibrate(*net, xs, co), o);
}

}  // namespace

TEST(GraphImport, FixturesBecomeDagsWithTheirOps) {
  const auto res = load("residual");
  EXPECT_FALSE(res->is_chain());
  EXPECT_EQ(count(*res, LayerKind::Add), 2u);
  EXPECT_EQ(count(*res, LayerKind::Conv), 6u);  // BatchNorm folded, ReLUs fused
  for (const Layer& l : res->layers)
    if (l.kind == LayerKind::Add) {
      EXPECT_EQ(l.inputs.size(), 2u);
      EXPECT_TRUE(l.relu) << l.name;  // the ReLU after the add
    }
  // ceil_mode: 16x16 conv -> 3x3/2 pad 1 -> 9x9 with ceil (8x8 without).
  EXPECT_EQ(res->layers[1].kind, LayerKind::MaxPool);
  EXPECT_EQ(res->layers[1].out.h, 9);

  const auto cat = load("concat");
  EXPECT_EQ(count(*cat, LayerKind::Concat), 1u);
  for (const Layer& l : cat->layers)
    if (l.kind == LayerKind::Concat) {
      EXPECT_EQ(l.inputs.size(), 3u);
      EXPECT_EQ(l.out.c, 12);
    }
  bool dilated = false;
  for (const Layer& l : cat->layers) dilated |= l.dilation_h == 2 && l.window.kh == 5;
  EXPECT_TRUE(dilated);

  const auto dw = load("depthwise");
  EXPECT_EQ(count(*dw, LayerKind::Clip), 4u);  // ReLU6
  int64_t max_groups = 0;
  bool padded = false;
  for (const Layer& l : dw->layers) {
    max_groups = std::max(max_groups, l.groups);
    padded |= l.groups == 4 && l.window.pad_top == 1;  // the Pad node folded into the conv
  }
  EXPECT_EQ(max_groups, 16);
  EXPECT_TRUE(padded);

  const auto se = load("squeeze_excite");
  EXPECT_EQ(count(*se, LayerKind::Mul), 2u);  // SiLU and the excitation
  EXPECT_EQ(count(*se, LayerKind::Sigmoid), 2u);
  EXPECT_EQ(count(*se, LayerKind::HardSwish), 1u);
  EXPECT_EQ(count(*se, LayerKind::HardSigmoid), 1u);

  // ShuffleNetV2 units: the split's Slices (ends from Shape -> Gather -> Add
  // -> Div -> Mul, folded), shuffles in 2 and 4 groups, a stepped slice.
  const auto sh = load("shuffle");
  std::vector<std::string> slices, shuffles;
  for (const Layer& l : sh->layers) {
    if (l.kind == LayerKind::Slice)
      slices.push_back(std::to_string(l.ch_start) + "+" + std::to_string(l.ch_step) + "k " + l.out.str());
    if (l.kind == LayerKind::Shuffle) shuffles.push_back(std::to_string(l.groups) + " " + l.out.str());
  }
  EXPECT_EQ(slices, (std::vector<std::string>{"0+1k 8x4x4", "8+1k 8x4x4", "1+3k 5x4x4"}));
  EXPECT_EQ(shuffles, (std::vector<std::string>{"2 16x4x4", "4 16x4x4"}));
}

TEST(GraphImport, ChainModelsStayChains) {
  const Network n = import_onnx(std::string(BRSIM_DATA_DIR) + "/models/fashion_lenet.onnx");
  EXPECT_TRUE(n.is_chain());
  for (const Layer& l : n.layers) EXPECT_TRUE(l.inputs.empty()) << l.name;
}

// The golden model (fixed16 weights, 16-bit activations) follows the float
// network: every output within 2 % of the float output range.
TEST(GraphGolden, AgreesWithTheFloatNetwork) {
  for (const char* g : kGraphs) {
    const auto net = load(g);
    const auto xs = random_inputs(*net, 4, 7);
    const QuantizedNetwork q = quantize(net, xs, "fixed16");
    for (const auto& x : xs) {
      const std::vector<float> f = run_float(*net, x);
      const ActTensor a = run_quantized(q, x);
      ASSERT_EQ(a.data.size(), f.size()) << g;
      double range = 0, err = 0;
      for (size_t i = 0; i < f.size(); ++i) {
        range = std::max(range, std::fabs(static_cast<double>(f[i])));
        err = std::max(err, std::fabs(std::ldexp(a.data[i], -a.frac_bits) - f[i]));
      }
      EXPECT_LT(err, 0.02 * range + 1e-3) << g;
    }
  }
}

// Every graph, BRSLog weights, every dataflow, cycle by cycle and in fast
// mode: every program step (array GEMM, group, vector op) bit exact.
TEST(GraphAccelerator, BitExactInEveryDataflowAndMode) {
  for (const char* g : kGraphs) {
    const auto net = load(g);
    const auto xs = random_inputs(*net, 2, 3);
    const QuantizedNetwork q = quantize(net, xs, "brslog");
    for (Dataflow df : {Dataflow::WeightStationary, Dataflow::OutputStationary, Dataflow::InputStationary})
      for (bool fast : {false, true}) {
        ArchConfig arch;
        arch.dataflow = df;
        const AccelProgram prog = compile_network(q, arch);
        ASSERT_TRUE(prog.graph);
        const GoldenRun golden = golden_run(q, prog, xs);
        const AccelRunResult r = run_accelerator(prog, golden.inputs, &golden.expected, nullptr, true,
                                                 [fast](Accelerator& a) { a.array.set_fast(fast); });
        EXPECT_TRUE(r.bit_exact) << g << " " << to_string(df) << (fast ? " fast" : " cycle") << ": " << r.mismatch;
        EXPECT_EQ(r.tensors_compared, 2 * prog.layers.size()) << g;
        EXPECT_EQ(r.layers.size(), prog.rows) << g;
        for (size_t i = 0; i < 2; ++i) EXPECT_EQ(r.outputs[i], golden.expected[i].back().data) << g;
        for (const LayerRunStats& l : r.layers) {
          EXPECT_EQ(l.images, 2u) << g << " " << l.name;
          // Array rows meet their closed form (summed over the groups).
          if (!l.vector) EXPECT_EQ(l.stats.cycles.total(), 2 * l.closed_form.total()) << g << " " << l.name;
          else EXPECT_GT(l.stats.dram_bytes_read, 0u) << l.name;  // operands come through DRAM
        }
      }
  }
}

TEST(GraphAccelerator, DepthwiseRowsShowTheArraysRealUtilization) {
  const auto net = load("depthwise");
  const auto xs = random_inputs(*net, 1, 1);
  const QuantizedNetwork q = quantize(net, xs, "brslog");
  const ArchConfig arch;
  const AccelProgram prog = compile_network(q, arch);
  const GoldenRun golden = golden_run(q, prog, xs);
  const AccelRunResult r = run_accelerator(prog, golden.inputs, &golden.expected, nullptr, true,
                                           [](Accelerator& a) { a.array.set_fast(true); });
  bool seen = false;
  for (const LayerRunStats& l : r.layers)
    if (l.groups == 16) {
      seen = true;
      EXPECT_EQ(l.desc.gemm_m(), 1u);  // one output channel per group
      EXPECT_EQ(l.desc.gemm_k(), 9u);
      EXPECT_EQ(l.stats.macs, 16 * l.desc.macs());
      // One column of 16 busy at most.
      EXPECT_LT(static_cast<double>(l.stats.macs) / (arch.rows * arch.cols * l.stats.cycles.total()), 1.0 / 16);
    }
  EXPECT_TRUE(seen);
}

// Residual adds and concats align power-of-two formats exactly.
TEST(VectorOps, AlignFormatsBitExactly) {
  // 1.5 (f = 1) + 1.25 (f = 2) = 2.75 -> f = 2: 11; -> f = 0: 3 (2.75 rounds half up).
  EXPECT_EQ(vec_add(3, 1, 5, 2, 2, false, 16, nullptr), 11);
  EXPECT_EQ(vec_add(3, 1, 5, 2, 0, false, 16, nullptr), 3);
  EXPECT_EQ(vec_add(-3, 1, -5, 2, 0, true, 16, nullptr), 0);  // fused ReLU
  RequantStats st;
  EXPECT_EQ(vec_add(32767, 0, 32767, 0, 0, false, 16, &st), 32767);  // saturated and counted
  EXPECT_EQ(st.saturated_high, 1u);
  // Concat: 2.5 at f = 1 into f = 3 is 20; 2.75 at f = 2 into f = 1 rounds to 3 (1.5).
  EXPECT_EQ(vec_rescale(5, 1, 3, false, 16, nullptr), 20);
  EXPECT_EQ(vec_rescale(11, 2, 1, false, 16, nullptr), 6);
  // Mul: 1.5 x 0.75 = 1.125 at f = 3 -> 9.
  EXPECT_EQ(vec_mul(3, 1, 3, 2, 3, false, 16, nullptr), 9);
  // sigmoid(0) = 0.5 -> 2^(f - 1).
  EXPECT_EQ(vec_function(VecFunc::Sigmoid, 0, 8, 14, 0, 0, 16, nullptr), 8192);
  EXPECT_EQ(clip_bound(6.0, 12, 16), 24576);
  EXPECT_EQ(clip_bound(INFINITY, 12, 16), 32767);
}

// Channel slices and shuffles only move data: the vector unit's output
// holds its operand's values (hand-worked), its cost is lane cycles and
// DRAM traffic with no element operation, and a slice reads only its span.
TEST(VectorOps, SliceAndShuffleMoveWholeChannels) {
  VectorDescriptor d;
  d.op = VecOp::Shuffle;
  d.c = 6, d.h = 1, d.w = 2;
  d.groups = 3;
  d.in.resize(1);
  d.in[0].c = 6, d.in[0].h = 1, d.in[0].w = 2;
  const std::vector<int32_t> x = {0, 1, 10, 11, 20, 21, 30, 31, 40, 41, 50, 51};
  // 3 groups of 2: output channels read 0, 2, 4, 1, 3, 5.
  EXPECT_EQ(vector_compute(d, {x}, 16, nullptr), (std::vector<int32_t>{0, 1, 20, 21, 40, 41, 10, 11, 30, 31, 50, 51}));
  ArchConfig arch;  // 16 lanes, 16-bit activations: 2 bytes each
  VectorCost c = vector_cost(d, arch);
  EXPECT_EQ(c.element_ops, 0u);
  EXPECT_EQ(c.lane_cycles, 1u);  // 12 elements on 16 lanes
  EXPECT_EQ(c.dram_bytes_read, 24u);
  EXPECT_EQ(c.dram_cycles, 204u);  // read and write: 100 cycles of latency + 24 B / 16 B per cycle, each
  // A slice of channels 1 and 4 (step 3): the operand is the span 1..4.
  d.op = VecOp::Slice;
  d.c = 2, d.ch_step = 3;
  d.in[0].c = 4;
  const std::vector<int32_t> span(x.begin() + 2, x.begin() + 10);
  EXPECT_EQ(vector_compute(d, {span}, 16, nullptr), (std::vector<int32_t>{10, 11, 40, 41}));
  c = vector_cost(d, arch);
  EXPECT_EQ(c.dram_bytes_read, 16u);
  EXPECT_EQ(c.dram_bytes_written, 8u);
  d.in[0].c = 3;  // too short for channel 3 of the span
  EXPECT_THROW(vector_compute(d, {std::vector<int32_t>(6)}, 16, nullptr), ConfigError);
}

TEST(BuiltinNetworks, LayerListsOfTheTorchvisionModels) {
  auto macs = [](const std::vector<LayerSpec>& v) {
    uint64_t n = 0;
    for (const LayerSpec& s : v) n += s.macs();
    return n;
  };
  EXPECT_EQ(builtin_network_layers("resnet18").size(), 21u);  // 20 conv (3 downsamples) + fc
  EXPECT_EQ(builtin_network_layers("resnet50").size(), 54u);  // 53 conv + fc
  EXPECT_EQ(builtin_network_layers("vgg16").size(), 16u);
  EXPECT_EQ(builtin_network_layers("mobilenet_v2").size(), 53u);
  EXPECT_EQ(builtin_network_layers("efficientnet_b0").size(), 82u);
  // Published multiply-accumulates at 224 x 224 (torchvision's model cards: 1.81, 4.09, 15.47,
  // 0.30, 0.39 G); BatchNorm, pooling and adds are not GEMM MACs.
  EXPECT_EQ(macs(builtin_network_layers("resnet18")), 1814073344u);
  EXPECT_NEAR(macs(builtin_network_layers("resnet50")) / 1e9, 4.09, 0.02);
  EXPECT_NEAR(macs(builtin_network_layers("vgg16")) / 1e9, 15.47, 0.02);
  EXPECT_NEAR(macs(builtin_network_layers("mobilenet_v2")) / 1e9, 0.30, 0.01);
  EXPECT_NEAR(macs(builtin_network_layers("efficientnet_b0")) / 1e9, 0.39, 0.01);
  for (const LayerSpec& s : builtin_network_layers("mobilenet_v2"))
    if (s.name.find("depthwise") != std::string::npos) {
      EXPECT_EQ(s.groups, s.in_c) << s.name;
    }
  EXPECT_THROW(builtin_network_layers("vgg"), ConfigError);
}

TEST(InputSources, RandomIsSeededAndNpyIsRead) {
  const auto net = load("residual");
  const auto a = random_inputs(*net, 2, 5), b = random_inputs(*net, 2, 5), c = random_inputs(*net, 2, 6);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  ASSERT_EQ(a[0].size(), 3u * 16 * 16);
  for (float v : a[0]) EXPECT_TRUE(v >= 0 && v < 1);
  brsim_test::TempDir dir("npy");
  const std::string path = dir.file("x.npy");
  {
    std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3, 16, 16), }";
    header.resize(118, ' ');
    header += '\n';
    std::ofstream f(path, std::ios::binary);
    f.write("\x93NUMPY\x01\x00", 8);
    const char len[2] = {static_cast<char>(header.size()), 0};
    f.write(len, 2);
    f << header;
    for (const auto& x : a) f.write(reinterpret_cast<const char*>(x.data()), static_cast<std::streamsize>(x.size() * 4));
  }
  EXPECT_EQ(load_npy_inputs(path, *net, 2), a);
  try {
    load_npy_inputs(path, *net, 3);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("holds 2 inputs, --images asks for 3"), std::string::npos) << e.what();
  }
}

