// Shared fixtures of the test_accelerator program (test_accelerator.cpp,
// test_register_map.cpp, test_fast_mode.cpp, test_memory_stalls.cpp): the
// dataflows, the quantizer options, the golden model's layer outputs, a
// field-by-field comparison of layer statistics and layers quantized for the
// activation and accumulator widths of an array.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "accel_host.h"
#include "accelerator.h"
#include "errors.h"
#include "qnet.h"
#include "synthetic_layer.h"

namespace brsim_test {

using namespace brsim;

inline const Dataflow kDataflows[] = {Dataflow::WeightStationary, Dataflow::OutputStationary,
                                      Dataflow::InputStationary};

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

// Every field of two layers' statistics.
inline void expect_same_stats(const LayerStats& a, const LayerStats& b, const std::string& what) {
  EXPECT_EQ(a.cycles, b.cycles) << what;
  const auto fields = [](const LayerStats& s) {
    return std::vector<uint64_t>{s.macs, s.folds, s.array_overflows, s.output_overflows, s.requant.saturated(),
                                 s.dram_bytes_read, s.dram_bytes_written, s.weight_reads, s.weight_writes,
                                 s.input_reads, s.input_writes, s.output_reads, s.output_writes, s.decodes,
                                 s.ae_sqrt2, s.ae_pow2, s.ae_zero, s.fixed16_muls, s.acc_adds, s.reg_write_bits,
                                 s.toggles_weight, s.toggles_act, s.toggles_product, s.toggles_psum};
  };
  const std::vector<uint64_t> fa = fields(a), fb = fields(b);
  for (size_t i = 0; i < fa.size(); ++i) EXPECT_EQ(fa[i], fb[i]) << what << " field " << i;
}

// The accelerator setup of fast mode, for run_accelerator.
inline const auto kFast = [](Accelerator& acc) { acc.array.set_fast(true); };

// A synthetic layer quantized for the activation and accumulator widths of
// `a` (the input and output formats follow A), compiled for `a`, with its
// quantized input and the golden model's layer outputs.
struct WidthLayer {
  QuantizedNetwork q;
  AccelProgram prog;
  std::vector<ActTensor> qin;
  std::vector<std::vector<ActTensor>> expected;
};

// False when the layer does not fit the configuration.
inline bool prepare_with_widths(const LayerSpec& s, const ArchConfig& a, uint64_t seed, WidthLayer* l) {
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
