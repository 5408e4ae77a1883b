// Shared fixtures of the test_accelerator program (test_accelerator.cpp,
// test_register_map.cpp, test_fast_mode.cpp, test_memory_stalls.cpp): the
// dataflows, the quantizer options, the golden model's layer outputs, a
// field-by-field comparison of layer statistics and layers quantized for the
// activation and accumulator widths of an array.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "accel_host.h"
#include "accelerator.h"
#include "calibration.h"
#include "errors.h"
#include "float_infer.h"
#include "idx_dataset.h"
#include "layer_stats.h"
#include "onnx_import.h"
#include "qnet.h"
#include "synthetic_layer.h"

namespace brsim_test {

using namespace brsim;

inline const Dataflow kDataflows[] = {Dataflow::WeightStationary, Dataflow::OutputStationary,
                                      Dataflow::InputStationary};

inline uint64_t pick(std::mt19937_64& rng, uint64_t lo, uint64_t hi) { return lo + rng() % (hi - lo + 1); }

// The bounds of random_layer's small layers.
struct RandomLayerBounds {
  int fc_every = 5, fc_at = 2;  // layer t is FC when t % fc_every == fc_at
  uint64_t channels = 10, filters = 20, fc_inputs = 70, kernel = 3, side = 9;
};

// Random small layer number t: a conv (kernel 1..kernel, input side up to
// `side`, stride 1-2, padding below the kernel) or FC layer; *pool is the
// pooling to fuse after a conv (1: max, 2: average, 0: none; none where
// the output is under 2 x 2).
inline LayerSpec random_layer(std::mt19937_64& rng, int t, const RandomLayerBounds& b, int* pool) {
  LayerSpec s;
  s.fc = t % b.fc_every == b.fc_at;
  s.in_c = static_cast<int64_t>(pick(rng, 1, b.channels));
  s.out_m = static_cast<int64_t>(pick(rng, 1, b.filters));
  *pool = 0;
  if (s.fc) {
    s.in_c = static_cast<int64_t>(pick(rng, 1, b.fc_inputs));
  } else {
    s.kh = s.kw = static_cast<int64_t>(pick(rng, 1, b.kernel));
    s.in_h = static_cast<int64_t>(pick(rng, static_cast<uint64_t>(s.kh) + 1, b.side));
    s.in_w = static_cast<int64_t>(pick(rng, static_cast<uint64_t>(s.kw) + 1, b.side));
    s.stride = static_cast<int64_t>(pick(rng, 1, 2));
    s.pad = static_cast<int64_t>(pick(rng, 0, static_cast<uint64_t>(s.kh) - 1));
    *pool = t % 4 == 1 ? 1 : t % 8 == 3 ? 2 : 0;
    const int64_t oh = (s.in_h + 2 * s.pad - s.kh) / s.stride + 1, ow = (s.in_w + 2 * s.pad - s.kw) / s.stride + 1;
    if (oh < 2 || ow < 2) *pool = 0;
  }
  return s;
}

inline NetQuantOptions brslog_k(int k, PolicyKind kind = PolicyKind::BrsLog) {
  NetQuantOptions o;
  o.weights.policy.kind = kind;
  o.weights.datapath.sqrt2_terms = k;
  return o;
}

// Golden outputs of each accelerator layer for each input.
inline std::vector<std::vector<ActTensor>> golden_per_layer(const QuantizedNetwork& q, const AccelProgram& p,
                                                            const std::vector<std::vector<float>>& inputs,
                                                            std::vector<ActTensor>* quantized_inputs) {
  GoldenRun g = golden_run(q, p, inputs);
  *quantized_inputs = g.inputs;
  return g.expected;
}

// The shipped model (data/models, BRSIM_DATA_DIR) quantized with brslog,
// K = 4, on formats calibrated on 100 training images, and its first
// `images` test images as the network's inputs.
struct ShippedModel {
  QuantizedNetwork q;
  std::vector<std::vector<float>> inputs;
};

inline ShippedModel shipped_model(int64_t images) {
  auto net = std::make_shared<const Network>(import_onnx(std::string(BRSIM_DATA_DIR) + "/models/fashion_lenet.onnx"));
  const ActivationFormats f = calibrate(*net, load_idx(kFashionMnistDir, "train", 100), CalibOptions{});
  const ImageSet test = load_idx(kFashionMnistDir, "t10k", images);
  ShippedModel m;
  m.q = quantize_network(net, f, brslog_k(4));
  for (int64_t i = 0; i < test.count; ++i) m.inputs.push_back(image_to_input(test.image(i), 784));
  return m;
}

// Every counter of two layers' statistics, by the registry (layer_stats()).
inline void expect_same_stats(const LayerStats& a, const LayerStats& b, const std::string& what) {
  for (const StatDef<LayerStats>& s : layer_stats()) EXPECT_EQ(s.get(a), s.get(b)) << what << ": " << s.name;
}

// The accelerator setup of fast mode, for run_accelerator.
inline const auto kFast = [](Accelerator& acc) { acc.array.set_fast(true); };

// A synthetic layer quantized and compiled for an array, with its quantized
// input and the golden model's layer outputs.
struct LayerCase {
  QuantizedNetwork q;
  AccelProgram prog;
  std::vector<ActTensor> qin;
  std::vector<std::vector<ActTensor>> expected;
};

// A max (pool 1) or average (pool 2) pooling layer of pk x pk, stride ps,
// after the synthetic layer's conv (fused into its output stage).
inline void add_pooling(SyntheticLayer* sl, int pool, int64_t pk = 2, int64_t ps = 2) {
  auto net = std::make_shared<Network>(*sl->net);
  Layer p;
  p.name = "pool";
  p.kind = pool == 1 ? LayerKind::MaxPool : LayerKind::AvgPool;
  p.in = net->layers[0].out;
  p.window = {pk, pk, ps, ps, 0, 0, 0, 0};
  p.out = {p.in.c, (p.in.h - pk) / ps + 1, (p.in.w - pk) / ps + 1};
  net->layers.push_back(p);
  sl->net = net;
  sl->formats.layer_frac.push_back(sl->formats.layer_frac[0]);
  sl->formats.input_range_and_layers.push_back(sl->formats.input_range_and_layers.back());
}

// A synthetic layer (see make_synthetic_layer), quantized with brslog,
// K = 4, and compiled for `a` (ConfigError when it does not fit); or the
// synthetic layer `s` of `seed`.
inline LayerCase layer_case(const SyntheticLayer& sl, const ArchConfig& a) {
  LayerCase l;
  l.q = quantize_network(sl.net, sl.formats, brslog_k(4));
  l.prog = compile_network(l.q, a);
  l.expected = golden_per_layer(l.q, l.prog, {sl.input}, &l.qin);
  return l;
}

inline LayerCase layer_case(const LayerSpec& s, const ArchConfig& a, uint64_t seed) {
  return layer_case(make_synthetic_layer(s, seed), a);
}

// A synthetic layer (with pooling when pool > 0) quantized for `a`, and
// `images` inputs: its own first, then seeded uniform ones in [-1, 1).
inline LayerCase batch_case(const LayerSpec& s, uint64_t seed, const ArchConfig& a, int images, int pool = 0) {
  SyntheticLayer sl = make_synthetic_layer(s, seed);
  if (pool) add_pooling(&sl, pool);
  std::vector<std::vector<float>> xs{sl.input};
  std::mt19937_64 rng(seed * 7919 + 1);
  for (int i = 1; i < images; ++i) {
    std::vector<float> x(sl.input.size());
    for (float& v : x) v = static_cast<float>(static_cast<double>(rng() >> 11) * 0x1.0p-52 - 1.0);
    xs.push_back(std::move(x));
  }
  LayerCase l;
  l.q = quantize_network(sl.net, sl.formats, brslog_k(4));
  l.prog = compile_network(l.q, a);
  l.expected = golden_per_layer(l.q, l.prog, xs, &l.qin);
  return l;
}

// The first layer of `l` compiled for `a`, cycle by cycle and in fast mode:
// both bit exact against the golden model, the same outputs, the cycle
// model's cycles equal to the closed form and every counter equal in both
// modes. Returns the cycle model's statistics.
inline LayerStats run_cycle_and_fast(const LayerCase& l, const ArchConfig& a, const std::string& where) {
  const AccelProgram prog = compile_network(l.q, a);
  const AccelRunResult cyc = run_accelerator(prog, l.qin, &l.expected);
  const AccelRunResult fast = run_accelerator(prog, l.qin, &l.expected, nullptr, true, kFast);
  EXPECT_TRUE(cyc.bit_exact) << where << ": " << cyc.mismatch;
  EXPECT_TRUE(fast.bit_exact) << where << ": " << fast.mismatch;
  EXPECT_EQ(fast.outputs, cyc.outputs) << where;
  const LayerStats& s = cyc.layers[0].stats;
  EXPECT_EQ(s.cycles, cyc.layers[0].closed_form) << where;
  expect_same_stats(fast.layers[0].stats, s, where);
  return s;
}

// The same, quantized for the activation and accumulator widths of `a`
// (the input and output formats follow A); false when the layer does not
// fit the configuration.
inline bool prepare_with_widths(const LayerSpec& s, const ArchConfig& a, uint64_t seed, LayerCase* l) {
  const int A = a.datapath.act_bits;
  SyntheticLayer sl = make_synthetic_layer(s, seed);
  sl.formats.act_bits = A;
  sl.formats.input_frac = frac_bits_for(1.0, A);
  sl.formats.layer_frac = {frac_bits_for(sl.formats.input_range_and_layers[1], A)};
  NetQuantOptions o = brslog_k(4);
  o.weights.datapath.act_bits = A, o.weights.datapath.acc_bits = a.datapath.acc_bits;
  try {
    l->q = quantize_network(sl.net, sl.formats, o);
    l->prog = compile_network(l->q, a);
  } catch (const ConfigError&) {
    return false;
  }
  l->expected = golden_per_layer(l->q, l->prog, {sl.input}, &l->qin);
  return true;
}

}  // namespace brsim_test
