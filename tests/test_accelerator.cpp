// The cycle-accurate accelerator end to end: bit exact against the golden
// model (shipped network and random layers), cycle counts equal to the
// closed form on random shapes and array sizes, the fold table of the
// documented example in every dataflow, and AlexNet's layer shapes.
// The register map, fast mode and the memory system have files of their
// own (test_register_map.cpp, test_fast_mode.cpp, test_memory_stalls.cpp);
// the four make one program, test_accelerator, with accel_case.h's fixtures.
#include <gtest/gtest.h>

#include <random>

#include "accel_case.h"

using namespace brsim;
using namespace brsim_test;

TEST(Accelerator, ShippedModelIsBitExactAndMeetsTheClosedForm) {
  const ShippedModel m = shipped_model(3);
  const ArchConfig arch;
  const AccelProgram prog = compile_network(m.q, arch);
  ASSERT_EQ(prog.layers.size(), 4u);  // conv1+pool, conv2+pool, fc1, fc2
  std::vector<ActTensor> qin;
  const auto expected = golden_per_layer(m.q, prog, m.inputs, &qin);
  const AccelRunResult r = run_accelerator(prog, qin, &expected);
  EXPECT_TRUE(r.bit_exact) << r.mismatch;
  EXPECT_EQ(r.images, 3u);
  EXPECT_EQ(r.tensors_compared, 12u);
  for (const LayerRunStats& l : r.layers) {
    const LayerCycles& cf = l.closed_form;
    EXPECT_EQ(l.stats.cycles.weight_load, 3 * cf.weight_load) << l.name;
    EXPECT_EQ(l.stats.cycles.compute, 3 * cf.compute) << l.name;
    EXPECT_EQ(l.stats.cycles.drain, 3 * cf.drain) << l.name;
    EXPECT_EQ(l.stats.cycles.stall, 3 * cf.stall) << l.name;
    EXPECT_EQ(l.stats.cycles.output, 3 * cf.output) << l.name;
    EXPECT_EQ(l.stats.macs, 3 * l.desc.macs()) << l.name;
  }
  // The hardware's logits pick the golden model's class.
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(r.outputs[i], expected[i].back().data);
}

TEST(Accelerator, RandomLayersAndArraysMeetTheClosedFormBitExactly) {
  std::mt19937_64 rng(4242);
  auto pick = [&](int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); };
  int cases = 0, k_below_r = 0, m_below_c = 0, one_by_one = 0, banded = 0, flows[3] = {0, 0, 0};
  for (int t = 0; t < 60; ++t) {
    LayerSpec s;
    s.name = "rand" + std::to_string(t);
    s.fc = t % 7 == 3;
    s.in_c = pick(1, 20);
    s.out_m = pick(1, 40);
    if (!s.fc) {
      s.kh = s.kw = (t % 5 == 0) ? 1 : pick(1, 5);
      s.in_h = pick(s.kh, 14);
      s.in_w = pick(s.kw, 14);
      s.stride = pick(1, 3);
      s.pad = pick(0, s.kh - 1);
    } else {
      s.in_c = pick(1, 300);
    }
    ArchConfig a;
    a.rows = static_cast<int>(pick(2, 24));
    a.cols = static_cast<int>(pick(2, 24));
    a.dram.latency_cycles = static_cast<int>(pick(0, 60));
    a.dram.bytes_per_cycle = static_cast<int>(pick(1, 32));
    if (t % 4 == 1) a.output_buffer.capacity_bytes = 4096;  // forces several output-row bands
    const bool fixed = t % 6 == 5;
    if (fixed) a.pe = PeType::Fixed16;
    a.datapath.sqrt2_terms = static_cast<int>(pick(1, 6));
    const SyntheticLayer sl = make_synthetic_layer(s, 1000 + static_cast<uint64_t>(t));
    NetQuantOptions o = brslog_k(a.datapath.sqrt2_terms, fixed ? PolicyKind::Fixed16 : PolicyKind::BrsLog);
    if (t % 3 == 2) o.weights.granularity = Granularity::Channel;
    const QuantizedNetwork q = quantize_network(sl.net, sl.formats, o);
    AccelProgram prog;
    try {
      prog = compile_network(q, a);
    } catch (const ConfigError&) {
      continue;  // a tile that cannot fit this small buffer: rejected up front
    }
    std::vector<ActTensor> qin;
    const auto expected = golden_per_layer(q, prog, {sl.input}, &qin);
    for (Dataflow flow : kDataflows) {
      a.dataflow = flow;
      a.double_buffer_weights = t % 8 == 7 || t % 8 == 5;
      a.double_buffer_activations = t % 8 == 6 || t % 8 == 5;
      const std::string where = s.name + " on " + std::to_string(a.rows) + "x" + std::to_string(a.cols) + " " + to_string(flow);
      AccelProgram p2;
      try {
        p2 = compile_network(q, a);
      } catch (const ConfigError&) {
        continue;
      }
      const AccelRunResult r = run_accelerator(p2, qin, &expected);
      ASSERT_TRUE(r.bit_exact) << where << ": " << r.mismatch;
      const LayerRunStats& l = r.layers[0];
      ASSERT_EQ(l.stats.cycles, l.closed_form) << where << ": total " << l.stats.cycles.total() << " vs "
                                               << l.closed_form.total() << ", compute " << l.stats.cycles.compute
                                               << " vs " << l.closed_form.compute << ", stall " << l.stats.cycles.stall
                                               << " vs " << l.closed_form.stall;
      EXPECT_EQ(l.stats.macs, l.desc.macs()) << where;
      ++flows[static_cast<int>(flow)];
    }
    ++cases;
    const LayerDescriptor& desc = prog.layers[0].desc;
    k_below_r += desc.gemm_k() < static_cast<uint64_t>(a.rows);
    m_below_c += desc.gemm_m() < static_cast<uint64_t>(a.cols);
    one_by_one += desc.kh == 1 && desc.kw == 1;
    banded += make_schedule(desc, a).bands > 1;
  }
  EXPECT_GE(cases, 50);
  EXPECT_GT(k_below_r, 0);
  EXPECT_GT(m_below_c, 0);
  EXPECT_GT(one_by_one, 0);
  EXPECT_GT(banded, 0);
  for (int f : flows) EXPECT_GE(f, 50);
}

TEST(Accelerator, ScoreboardNamesTheFirstMismatch) {
  ActTensor want;
  want.c = 2, want.h = 3, want.w = 4;
  want.data.assign(24, 7);
  std::vector<int32_t> got(24, 7);
  EXPECT_EQ(first_mismatch("L", want, got), "");
  got[1 * 12 + 2 * 4 + 3] = 9;
  EXPECT_EQ(first_mismatch("L", want, got), "L: first mismatch at channel 1, row 2, column 3: hardware 9, golden 7");
}

TEST(AlexNetShapes, FiveConvAndThreeFcLayersAt227) {
  const std::vector<LayerSpec> l = alexnet_layers();
  ASSERT_EQ(l.size(), 8u);
  // MACs = output pixels x (C kh kw) x M, by hand from AlexNet's shapes.
  const uint64_t want[] = {55ull * 55 * 363 * 96,   27ull * 27 * 2400 * 256, 13ull * 13 * 2304 * 384,
                           13ull * 13 * 3456 * 384, 13ull * 13 * 3456 * 256, 9216ull * 4096,
                           4096ull * 4096,          4096ull * 1000};
  for (size_t i = 0; i < 8; ++i) EXPECT_EQ(l[i].macs(), want[i]) << l[i].name;
  EXPECT_EQ(want[1], 447897600u);
}

// docs/cycle-model.md's example in every dataflow, by the fold table: 10x10x20 -> 24,
// 3x3 (P = 64, K = 180, M = 24) on 16x16: 2 m-tiles (is: one m-range), 12 k-tiles, one band.
// Also what each dataflow reads and decodes: every weight comes from DRAM
// once per band; ws decodes each weight once, os once per R pixels, is once
// per C pixels.
TEST(Dataflows, FoldTableOnTheDocumentedExample) {
  LayerSpec s;
  s.name = "example";
  s.in_c = 20, s.in_h = s.in_w = 10, s.kh = s.kw = 3, s.out_m = 24;
  const SyntheticLayer sl = make_synthetic_layer(s, 1);
  const QuantizedNetwork q = quantize_network(sl.net, sl.formats, brslog_k(4));
  struct Want {
    Dataflow flow;
    uint64_t load, compute, drain, decodes, total;
  };
  const uint64_t P = 64, K = 180, M = 24, R = 16, C = 16;
  const Want want[] = {
      {Dataflow::WeightStationary, 2 * 12 * R, 2 * 12 * P, 2 * 12 * (R + C - 1), K * M, 6678},
      {Dataflow::OutputStationary, 0, 2 * (P / R) * K, 2 * (P / R) * (R + C - 1 + R), K * M * (P / R), 3630},
      // is: one m-range of all 24 filters, each fold streaming them (M + R + C - 1 edges).
      {Dataflow::InputStationary, 12 * (P / C) * R, 12 * (P / C) * M, 12 * (P / C) * (R + C - 1), K * M * (P / C), 6872},
  };
  for (const Want& w : want) {
    ArchConfig a;
    a.dataflow = w.flow;
    const AccelProgram prog = compile_network(q, a);
    const Schedule sc = make_schedule(prog.layers[0].desc, a);
    ASSERT_EQ(sc.bands, 1u);
    EXPECT_EQ(sc.loads, w.flow == Dataflow::OutputStationary ? 1u : 12u);
    std::vector<ActTensor> qin;
    const auto expected = golden_per_layer(q, prog, {sl.input}, &qin);
    const AccelRunResult r = run_accelerator(prog, qin, &expected);
    ASSERT_TRUE(r.bit_exact) << to_string(w.flow) << ": " << r.mismatch;
    const LayerStats& st = r.layers[0].stats;
    EXPECT_EQ(st.cycles.weight_load, w.load) << to_string(w.flow);
    EXPECT_EQ(st.cycles.compute, w.compute) << to_string(w.flow);
    EXPECT_EQ(st.cycles.drain, w.drain) << to_string(w.flow);
    EXPECT_EQ(st.cycles.output, 2 * P) << to_string(w.flow);
    EXPECT_EQ(st.cycles.total(), w.total) << to_string(w.flow);
    EXPECT_EQ(st.cycles, closed_form(prog.layers[0].desc, a)) << to_string(w.flow);
    EXPECT_EQ(st.decodes, w.decodes) << to_string(w.flow);
    EXPECT_EQ(st.macs, P * K * M);
    // DRAM reads: parameters, the input band once per m-tile (is: once), every weight tile once.
    EXPECT_EQ(sc.m_tiles, w.flow == Dataflow::InputStationary ? 1u : 2u);
    EXPECT_EQ(st.dram_bytes_read, M * kParamBytes + sc.m_tiles * (20 * 10 * 10 * 2) + weight_bytes(prog.layers[0].desc, a));
  }
}
