// Fast mode against the cycle model: the same outputs and every count the
// same (cycles, traffic, decodes, AE paths, toggles) on the shipped model
// and random layers, over activation and accumulator widths, with DRAM
// back-pressure, on two host threads and in the one-pass kernel. Each of
// the engine's paths is reached through what a user sets (layer shapes,
// arrays, widths, quantizer granularity, --threads), never through its
// tuning knobs; FastStats shows which paths ran.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "accel_case.h"
#include "simd.h"

using namespace brsim;
using namespace brsim_test;

TEST(FastMode, ShippedModelGivesTheCycleModelsAnswers) {
  const ShippedModel m = shipped_model(3);
  for (int variant = 0; variant < 6; ++variant) {
    const Dataflow flow = kDataflows[variant % 3];
    ArchConfig arch;
    arch.dataflow = flow;
    arch.double_buffer_weights = arch.double_buffer_activations = variant >= 3;  // pooling layers too
    const AccelProgram prog = compile_network(m.q, arch);
    std::vector<ActTensor> qin;
    const auto expected = golden_per_layer(m.q, prog, m.inputs, &qin);
    const AccelRunResult cyc = run_accelerator(prog, qin, &expected);
    const AccelRunResult fast = run_accelerator(prog, qin, &expected, nullptr, true, kFast);
    EXPECT_TRUE(cyc.bit_exact) << to_string(flow) << ": " << cyc.mismatch;
    EXPECT_TRUE(fast.bit_exact) << to_string(flow) << ": " << fast.mismatch;
    EXPECT_EQ(fast.outputs, cyc.outputs);
    ASSERT_EQ(fast.layers.size(), cyc.layers.size());
    for (size_t l = 0; l < cyc.layers.size(); ++l) {
      expect_same_stats(fast.layers[l].stats, cyc.layers[l].stats, to_string(flow) + " " + cyc.layers[l].name);
      EXPECT_EQ(cyc.layers[l].stats.cycles.total(), 3 * cyc.layers[l].closed_form.total()) << to_string(flow);
    }
  }
}

TEST(FastMode, RandomLayersAndArraysGiveIdenticalCountsAndOutputs) {
  std::mt19937_64 rng(777);
  auto pick = [&](int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); };
  int cases = 0, flows[3] = {0, 0, 0};
  FastStats paths;
  uint64_t ws_folds = 0;
  for (int t = 0; t < 60; ++t) {
    LayerSpec s;
    s.name = "fast" + std::to_string(t);
    s.fc = t % 6 == 2;
    s.in_c = s.fc ? pick(1, 200) : pick(1, 12);
    // Many output channels: a band's rows serve enough columns (m-tiles x C
    // >= 48) for the per-row product-toggle tables.
    s.out_m = t % 4 == 0 ? pick(48, 80) : pick(1, 30);
    if (!s.fc) {
      s.kh = s.kw = pick(1, 4);
      s.in_h = pick(s.kh, 12), s.in_w = pick(s.kw, 12), s.stride = pick(1, 2), s.pad = pick(0, s.kh - 1);
    }
    ArchConfig a;
    a.rows = static_cast<int>(pick(2, 20)), a.cols = static_cast<int>(pick(2, 20));
    a.dram.latency_cycles = static_cast<int>(pick(0, 50)), a.dram.bytes_per_cycle = static_cast<int>(pick(1, 16));
    if (t % 5 == 4) a.pe = PeType::Fixed16;
    if (t % 4 == 1) a.output_buffer.capacity_bytes = 3072;
    a.datapath.sqrt2_terms = static_cast<int>(pick(1, 6));
    if (t % 7 == 6) a.datapath.acc_bits = 32;  // narrow accumulators: overflows in both modes
    const SyntheticLayer sl = make_synthetic_layer(s, 3000 + static_cast<uint64_t>(t));
    NetQuantOptions o = brslog_k(a.datapath.sqrt2_terms, a.pe == PeType::Fixed16 ? PolicyKind::Fixed16 : PolicyKind::BrsLog);
    o.weights.datapath.acc_bits = a.datapath.acc_bits;
    // Per-channel segment configurations: the columns' decoders differ and
    // the tile is decoded PE by PE (one shared table: in vectors).
    if (t % 3 == 0) o.weights.granularity = Granularity::Channel;
    AccelProgram prog;
    QuantizedNetwork q;
    try {
      q = quantize_network(sl.net, sl.formats, o);
      prog = compile_network(q, a);
    } catch (const ConfigError&) {
      continue;
    }
    std::vector<ActTensor> qin;
    const auto expected = golden_per_layer(q, prog, {sl.input}, &qin);
    for (Dataflow flow : kDataflows) {
      a.dataflow = flow;
      a.double_buffer_weights = t % 8 == 3 || t % 8 == 4;
      a.double_buffer_activations = t % 8 == 4 || t % 8 == 6;
      AccelProgram p2;
      try {
        p2 = compile_network(q, a);
      } catch (const ConfigError&) {
        continue;
      }
      const std::string where = s.name + " on " + std::to_string(a.rows) + "x" + std::to_string(a.cols) + " " + to_string(flow);
      // Fast mode's decode per PE or in vectors, product toggles per PE or
      // from the per-row tables; the weight registers left after the run.
      std::vector<int64_t> w_cyc, w_fast;
      std::vector<DecodedWeight> d_cyc, d_fast;
      const AccelRunResult cyc = run_accelerator(p2, qin, &expected, nullptr, true, nullptr, [&](Accelerator& acc) {
        w_cyc = acc.array.weights(), d_cyc = acc.array.decoded();
      });
      const AccelRunResult fast = run_accelerator(p2, qin, &expected, nullptr, true, kFast, [&](Accelerator& acc) {
        w_fast = acc.array.weights(), d_fast = acc.array.decoded();
        const FastStats& st = acc.array.fast_engine().stats();
        paths.vector_loads += st.vector_loads, paths.per_pe_loads += st.per_pe_loads;
        paths.table_folds += st.table_folds;
      });
      if (flow == Dataflow::WeightStationary && a.pe == PeType::BrsLog) ws_folds += fast.layers[0].stats.folds;
      ASSERT_TRUE(cyc.bit_exact && fast.bit_exact) << where << ": " << cyc.mismatch << fast.mismatch;
      EXPECT_EQ(fast.outputs, cyc.outputs) << where;
      expect_same_stats(fast.layers[0].stats, cyc.layers[0].stats, where);
      if (flow == Dataflow::WeightStationary) {
        EXPECT_EQ(w_fast, w_cyc) << where;
        EXPECT_TRUE(d_fast == d_cyc) << where;
      }
      ++flows[static_cast<int>(flow)];
    }
    ++cases;
  }
  EXPECT_GE(cases, 50);
  for (int f : flows) EXPECT_GE(f, 50);
  // Both decodes and both product-toggle counts were held against the cycle model.
  EXPECT_GT(paths.vector_loads, 100u);
  EXPECT_GT(paths.per_pe_loads, 100u);
  EXPECT_GT(paths.table_folds, 100u);
  EXPECT_GT(ws_folds, paths.table_folds + 100u);
}

// Fast mode's 32-bit lanes, their masked (acc_bits < 32) and sign-extended
// (acc_bits > 32) toggle counts and the 64-bit fallback (when a fold's sums
// may not fit int32) against the cycle model, over activation and
// accumulator widths, with activity counting on and off.
TEST(FastMode, ActivationAndAccumulatorWidthsGiveIdenticalCounts) {
  std::mt19937_64 rng(4242);
  auto pick = [&](int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); };
  const int widths[][2] = {{6, 16}, {8, 20}, {8, 24}, {12, 28}, {16, 31}, {16, 40}, {24, 48}, {32, 64}, {20, 64}};
  int cases = 0;
  for (int t = 0; t < 27; ++t) {
    const int A = widths[t % 9][0], acc = widths[t % 9][1];
    LayerSpec s;
    s.name = "width" + std::to_string(t);
    s.fc = t % 4 == 3;
    s.in_c = s.fc ? pick(1, 120) : pick(1, 10);
    s.out_m = pick(1, 24);
    if (!s.fc) s.kh = s.kw = pick(1, 3), s.in_h = pick(s.kh, 10), s.in_w = pick(s.kw, 10), s.pad = pick(0, s.kh - 1);
    ArchConfig a;
    a.rows = static_cast<int>(pick(2, 20)), a.cols = static_cast<int>(pick(2, 20));
    a.datapath.act_bits = A, a.datapath.acc_bits = acc;
    LayerCase wl;
    if (!prepare_with_widths(s, a, 9100 + static_cast<uint64_t>(t), &wl)) continue;
    for (Dataflow flow : kDataflows) {  // each dataflow's 32-bit lanes and their 64-bit fallbacks
      a.dataflow = flow;
      const AccelProgram p2 = compile_network(wl.q, a);
      const AccelRunResult cyc = run_accelerator(p2, wl.qin, &wl.expected);
      const AccelRunResult fast = run_accelerator(p2, wl.qin, &wl.expected, nullptr, true, kFast);
      const AccelRunResult off = run_accelerator(p2, wl.qin, &wl.expected, nullptr, false);
      const AccelRunResult fast_off = run_accelerator(p2, wl.qin, &wl.expected, nullptr, false, kFast);
      const std::string what = s.name + " A=" + std::to_string(A) + " acc=" + std::to_string(acc) + " " + to_string(flow);
      ASSERT_TRUE(cyc.bit_exact && fast.bit_exact && fast_off.bit_exact) << what;
      EXPECT_EQ(fast.outputs, cyc.outputs) << what;
      expect_same_stats(fast.layers[0].stats, cyc.layers[0].stats, what);
      expect_same_stats(fast_off.layers[0].stats, off.layers[0].stats, what + ", activity off");
    }
    ++cases;
  }
  EXPECT_GE(cases, 20);
}

// Fast mode's temporally decoupled controller sees the DRAM's back-pressure
// (annotated on each transaction's delay) exactly as the synchronized one.
// A 32-bit accumulator over 144 k-tiles: every fold fits the 32-bit lanes
// but the output buffer's accumulations wrap now and then; fast mode wraps
// and counts them where the cycle model does (the vector add of a pixel's
// outputs hands a group that leaves the range to the per-output wrap).
TEST(FastMode, OutputBufferWrapsInThe32BitStreamAsInTheCycleModel) {
  // A conv layer (16 pixels per fold) and a fully connected one (one pixel
  // per fold: the one-pass kernel, on the controller's second thread).
  for (bool fc : {false, true}) {
    LayerSpec s;
    s.name = fc ? "wraps_fc" : "wraps";
    s.fc = fc;
    s.in_c = 256, s.in_h = s.in_w = fc ? 3 : 6, s.kh = s.kw = fc ? 1 : 3, s.out_m = 16;
    ArchConfig a;
    a.datapath.acc_bits = 32;
    LayerCase wl;
    ASSERT_TRUE(prepare_with_widths(s, a, 77, &wl)) << s.name;
    const AccelRunResult cyc = run_accelerator(wl.prog, wl.qin, &wl.expected);
    const AccelRunResult fast = run_accelerator(wl.prog, wl.qin, &wl.expected, nullptr, true, kFast);
    ASSERT_TRUE(cyc.bit_exact && fast.bit_exact) << s.name << ": " << cyc.mismatch << fast.mismatch;
    EXPECT_GT(cyc.layers[0].stats.output_overflows, 0u) << s.name;
    EXPECT_EQ(cyc.layers[0].stats.array_overflows, 0u) << s.name;
    EXPECT_EQ(fast.outputs, cyc.outputs) << s.name;
    expect_same_stats(fast.layers[0].stats, cyc.layers[0].stats, s.name + ", acc_bits 32");
  }
}

TEST(FastMode, DramBackPressureGivesTheCycleModelsStalls) {
  for (int t = 0; t < 4; ++t) {
    LayerSpec s;
    s.name = "fbp" + std::to_string(t);
    s.fc = t == 3;
    s.in_c = s.fc ? 90 : 3 + t, s.out_m = 7 + 5 * t;
    if (!s.fc) s.in_h = 9, s.in_w = 7, s.kh = s.kw = 3, s.pad = 1;
    ArchConfig a;
    a.rows = 4 + t, a.cols = 6;
    if (t % 2) a.output_buffer.capacity_bytes = 2048;  // several bands
    const LayerCase l = layer_case(s, a, 800 + static_cast<uint64_t>(t));
    uint64_t extra_cyc = 0, extra_fast = 0;
    const auto bp = [&](Accelerator& acc) { acc.dram.set_backpressure(1234 + static_cast<uint64_t>(t), 37); };
    const AccelRunResult cyc = run_accelerator(l.prog, l.qin, &l.expected, nullptr, true, bp,
                                               [&](Accelerator& acc) { extra_cyc = acc.dram.backpressure_cycles(); });
    const AccelRunResult fast = run_accelerator(
        l.prog, l.qin, &l.expected, nullptr, true,
        [&](Accelerator& acc) {
          bp(acc);
          acc.array.set_fast(true);
        },
        [&](Accelerator& acc) { extra_fast = acc.dram.backpressure_cycles(); });
    ASSERT_TRUE(cyc.bit_exact && fast.bit_exact) << s.name;
    EXPECT_GT(extra_cyc, 0u);
    EXPECT_EQ(extra_fast, extra_cyc) << s.name;
    expect_same_stats(fast.layers[0].stats, cyc.layers[0].stats, s.name + " with back-pressure");
  }
}

// Fast mode's two-thread stream (--threads 2, the default): folds of at
// least split_work PE-pixel steps (P x R x C) split into pixel chunks streamed
// on two threads give the cycle model's and the single-threaded fast
// mode's outputs and counts, the same on every run whichever thread streams
// which chunk. Which chunks the worker takes depends on when the host runs
// it (on a busy host the caller may stream them all): the test holds the
// counts equal on every run and records the worker's chunks, which cannot
// be forced from outside the engine.
TEST(FastMode, TwoThreadStreamGivesOneThreadsCountsOnEveryRun) {
  std::mt19937_64 rng(2468);
  auto pick = [&](int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); };
  const int widths[][2] = {{8, 48}, {8, 32}, {6, 24}, {12, 28}};
  int cases = 0;
  uint64_t worker_chunks = 0;
  for (int t = 0; t < 10; ++t) {
    const int A = widths[t % 4][0], acc = widths[t % 4][1];
    LayerSpec s;
    s.name = "threads" + std::to_string(t);
    s.in_c = pick(1, 8);
    s.out_m = pick(1, 24);
    s.kh = s.kw = pick(1, 3);
    s.pad = pick(0, s.kh - 1);
    ArchConfig a;
    a.rows = static_cast<int>(pick(8, 20)), a.cols = static_cast<int>(pick(8, 20));
    // Enough output pixels in a band for a fold to split: P x R x C >= split_work.
    const double split_work = static_cast<double>(FastTuning{}.split_work);
    const int64_t side = static_cast<int64_t>(std::ceil(std::sqrt(split_work / (a.rows * a.cols)))) + pick(0, 6);
    s.in_h = s.in_w = side + s.kh - 1 - 2 * s.pad;
    a.datapath.act_bits = A, a.datapath.acc_bits = acc;
    LayerCase wl;
    if (!prepare_with_widths(s, a, 7700 + static_cast<uint64_t>(t), &wl)) continue;
    const std::string what = s.name + " on " + std::to_string(a.rows) + "x" + std::to_string(a.cols) +
                             " acc=" + std::to_string(acc);
    for (bool activity : {true, false}) {
      const AccelRunResult cyc = run_accelerator(wl.prog, wl.qin, &wl.expected, nullptr, activity);
      const AccelRunResult one = run_accelerator(wl.prog, wl.qin, &wl.expected, nullptr, activity, [](Accelerator& acc_) {
        acc_.array.set_fast(true);
        acc_.array.fast_engine().set_threads(1);
      });
      ASSERT_TRUE(cyc.bit_exact && one.bit_exact) << what;
      expect_same_stats(one.layers[0].stats, cyc.layers[0].stats, what + ", one thread");
      for (int run = 0; run < 3; ++run) {
        uint64_t split = 0;
        const AccelRunResult two = run_accelerator(wl.prog, wl.qin, &wl.expected, nullptr, activity, kFast, [&](Accelerator& acc_) {
          split = acc_.array.fast_engine().stats().split_folds;
          worker_chunks += acc_.array.fast_engine().stats().worker_chunks;
        });
        const std::string w = what + (activity ? "" : ", activity off") + ", two threads, run " + std::to_string(run);
        ASSERT_TRUE(two.bit_exact) << w << ": " << two.mismatch;
        EXPECT_GT(split, 0u) << w;
        EXPECT_EQ(two.outputs, cyc.outputs) << w;
        expect_same_stats(two.layers[0].stats, cyc.layers[0].stats, w);
      }
    }
    ++cases;
  }
  EXPECT_GE(cases, 8);
  RecordProperty("worker_chunks", std::to_string(worker_chunks));
}

// Deferred streams (--threads 2): a fold whose activations are kept for
// later m-tiles streams its last pixels on the worker while the engine goes
// on with the next folds; every output, wrap and count is the cycle
// model's, whatever share of the pixels the worker takes, with the product
// toggles from the per-row tables or per PE, masked (acc_bits < 32) or
// sign-extended registers, activity on or off, and in several bands (the
// folds of a new band wait for the last band's).
TEST(FastMode, DeferredStreamsGiveTheCycleModelsCounts) {
  std::mt19937_64 rng(8642);
  auto pick = [&](int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); };
  const int widths[][2] = {{8, 48}, {8, 24}, {6, 31}, {12, 40}};
  int cases = 0;
  uint64_t deferred = 0;
  for (int t = 0; t < 8; ++t) {
    const int A = widths[t % 4][0], acc = widths[t % 4][1];
    ArchConfig a;
    a.rows = t % 2 ? 16 : static_cast<int>(pick(6, 20));
    a.cols = t % 2 ? 16 : static_cast<int>(pick(6, 20));
    a.datapath.act_bits = A, a.datapath.acc_bits = acc;
    if (t % 4 == 3) a.input_buffer.capacity_bytes = 4096;  // bands of a few rows
    LayerSpec s;
    s.name = "deferred" + std::to_string(t);
    s.in_c = pick(2, 12);
    s.out_m = a.cols * pick(2, 4) + pick(0, a.cols - 1);  // several m-tiles: the activations are kept
    s.kh = s.kw = pick(1, 3);
    s.pad = pick(0, s.kh - 1);
    const int64_t side = static_cast<int64_t>(std::ceil(std::sqrt(16384.0 / (a.rows * a.cols)))) + pick(0, 8);
    s.in_h = s.in_w = side + s.kh - 1 - 2 * s.pad;
    LayerCase wl;
    if (!prepare_with_widths(s, a, 8800 + static_cast<uint64_t>(t), &wl)) continue;
    const std::string what = s.name + " on " + std::to_string(a.rows) + "x" + std::to_string(a.cols) + " A=" +
                             std::to_string(A) + " acc=" + std::to_string(acc);
    for (bool activity : {true, false}) {
      const AccelRunResult cyc = run_accelerator(wl.prog, wl.qin, &wl.expected, nullptr, activity);
      ASSERT_TRUE(cyc.bit_exact) << what;
      for (uint64_t share : {10, 50, 90})
        for (uint64_t table_reuse : {uint64_t{0}, UINT64_MAX}) {
          uint64_t folds = 0;
          const AccelRunResult two = run_accelerator(
              wl.prog, wl.qin, &wl.expected, nullptr, activity,
              [&](Accelerator& acc_) {
                acc_.array.set_fast(true);
                FastTuning tune;
                tune.defer_share = share, tune.table_reuse = table_reuse;
                acc_.array.fast_engine().set_tuning(tune);
              },
              [&](Accelerator& acc_) { folds = acc_.array.fast_engine().stats().deferred_folds; });
          const std::string w = what + (activity ? "" : ", activity off") + ", worker share " + std::to_string(share) +
                                "%" + (table_reuse ? ", products per PE" : ", products by table");
          ASSERT_TRUE(two.bit_exact) << w << ": " << two.mismatch;
          if (kHasAvx2) {
            EXPECT_GT(folds, 0u) << w;  // (the scalar paths stream on one thread)
          }
          deferred += folds;
          EXPECT_EQ(two.outputs, cyc.outputs) << w;
          expect_same_stats(two.layers[0].stats, cyc.layers[0].stats, w);
        }
    }
    ++cases;
  }
  EXPECT_GE(cases, 6);
  RecordProperty("deferred_folds", std::to_string(deferred));
}

// Fully connected layers at batch 1 (folds of one pixel): the controller
// queues its folds and the engine runs full queues of 64 at a time; every
// count and output is the cycle model's, with one host thread or two.
TEST(FastMode, QueuedOnePixelFoldsGiveTheCycleModelsCounts) {
  std::mt19937_64 rng(1357);
  auto pick = [&](int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); };
  const int widths[][2] = {{8, 48}, {8, 32}, {6, 24}};
  int cases = 0;
  for (int t = 0; t < 6; ++t) {
    LayerSpec s;
    s.name = "fc" + std::to_string(t);
    s.fc = true;
    s.in_c = pick(1100, 2500), s.out_m = pick(20, 70);  // at least 69 k-tiles: full queues of 64 folds
    ArchConfig a;
    a.rows = static_cast<int>(pick(4, 16)), a.cols = static_cast<int>(pick(4, 16));
    a.datapath.act_bits = widths[t % 3][0], a.datapath.acc_bits = widths[t % 3][1];
    a.double_buffer_weights = t % 2 == 1;
    LayerCase wl;
    if (!prepare_with_widths(s, a, 9100 + static_cast<uint64_t>(t), &wl)) continue;
    const std::string what = s.name + " " + std::to_string(s.in_c) + "->" + std::to_string(s.out_m) + " on " +
                             std::to_string(a.rows) + "x" + std::to_string(a.cols);
    for (bool activity : {true, false}) {
      const AccelRunResult cyc = run_accelerator(wl.prog, wl.qin, &wl.expected, nullptr, activity);
      const AccelRunResult two = run_accelerator(wl.prog, wl.qin, &wl.expected, nullptr, activity, kFast);
      const AccelRunResult one =
          run_accelerator(wl.prog, wl.qin, &wl.expected, nullptr, activity, [](Accelerator& acc_) {
            acc_.array.set_fast(true);
            acc_.array.fast_engine().set_threads(1);
          });
      ASSERT_TRUE(cyc.bit_exact && two.bit_exact && one.bit_exact) << what;
      EXPECT_EQ(two.outputs, cyc.outputs) << what;
      expect_same_stats(two.layers[0].stats, cyc.layers[0].stats, what + ", two threads");
      expect_same_stats(one.layers[0].stats, cyc.layers[0].stats, what + ", one thread");
    }
    ++cases;
  }
  EXPECT_GE(cases, 5);
}

// Fully connected layers at batch 1 on arrays whose tiles the one-pass
// kernel takes (R a multiple of 16, C of 8): decode and stream fused, the
// register bits by bytes. Narrow accumulators make some folds' products
// and sums overflow the 32-bit bound; those folds go back to the two-step
// load and the 64-bit stream. Every count as the cycle model's.
TEST(FastMode, OnePixelFoldsInOnePassGiveTheCycleModelsCounts) {
  std::mt19937_64 rng(2468);
  auto pick = [&](int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); };
  const int shapes[][2] = {{16, 16}, {16, 8}, {32, 24}, {16, 24}};
  const int widths[][2] = {{8, 48}, {12, 26}, {8, 22}, {16, 40}};
  uint64_t one_pass = 0, fallbacks = 0;
  for (int t = 0; t < 8; ++t) {
    LayerSpec s;
    s.name = "fc1pass" + std::to_string(t);
    s.fc = true;
    s.in_c = pick(200, 700), s.out_m = pick(9, 40);
    ArchConfig a;
    a.rows = shapes[t % 4][0], a.cols = shapes[t % 4][1];
    a.datapath.act_bits = widths[(t / 2) % 4][0], a.datapath.acc_bits = widths[(t / 2) % 4][1];
    a.double_buffer_weights = t % 3 == 1;
    LayerCase wl;
    ASSERT_TRUE(prepare_with_widths(s, a, 5100 + static_cast<uint64_t>(t), &wl)) << s.name;
    const std::string what = s.name + " " + std::to_string(s.in_c) + "->" + std::to_string(s.out_m) + " on " +
                             std::to_string(a.rows) + "x" + std::to_string(a.cols) + " A=" +
                             std::to_string(a.datapath.act_bits) + " acc=" + std::to_string(a.datapath.acc_bits);
    for (bool activity : {true, false})
      for (int threads : {1, 2}) {
        const AccelRunResult cyc = run_accelerator(wl.prog, wl.qin, &wl.expected, nullptr, activity);
        const AccelRunResult fast = run_accelerator(
            wl.prog, wl.qin, &wl.expected, nullptr, activity,
            [&](Accelerator& acc_) {
              acc_.array.set_fast(true);
              acc_.array.fast_engine().set_threads(threads);
            },
            [&](Accelerator& acc_) {
              one_pass += acc_.array.fast_engine().stats().one_pass_folds;
              fallbacks += acc_.array.fast_engine().stats().one_pass_fallbacks;
            });
        ASSERT_TRUE(cyc.bit_exact && fast.bit_exact) << what;
        EXPECT_EQ(fast.outputs, cyc.outputs) << what;
        expect_same_stats(fast.layers[0].stats, cyc.layers[0].stats,
                          what + (activity ? "" : ", activity off") + ", threads " + std::to_string(threads));
      }
  }
  EXPECT_GT(one_pass, 500u);  // (828 and 168 when written)
  EXPECT_GT(fallbacks, 50u);
}

// A fully connected layer's m-tile of at least split_run one-pixel folds
// (FastTuning) with two threads: its first half through the engine, its
// second on the worker's lane, merged in fold order. Outputs, every count
// and the registers left as the cycle model's and one thread's, with
// activity counting on and off; narrow accumulators make some folds of
// either half go back to the two-step path (the lane stops there and the
// engine goes on).
TEST(FastMode, OnePixelRunsOnTwoThreadsGiveTheCycleModelsCounts) {
  std::mt19937_64 rng(97531);
  auto pick = [&](int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); };
  const int shapes[][2] = {{16, 16}, {16, 8}, {32, 32}, {16, 24}};
  const int widths[][2] = {{16, 48}, {8, 22}, {12, 26}, {16, 40}};
  const uint64_t split_run = FastTuning{}.split_run;
  uint64_t split_runs = 0, fallbacks = 0;
  for (int t = 0; t < 8; ++t) {
    LayerSpec s;
    s.name = "fcsplit" + std::to_string(t);
    s.fc = true;
    ArchConfig a;
    a.rows = shapes[t % 4][0], a.cols = shapes[t % 4][1];
    // m-tiles of 1 to 3 x split_run k-tiles.
    // Full m-tiles of C columns (the one-pass kernel's), sometimes a part one after them.
    s.in_c = static_cast<int64_t>(split_run) * a.rows * pick(1, 3) + pick(0, a.rows - 1);
    s.out_m = a.cols * pick(1, 2) + (t % 2 ? pick(1, a.cols - 1) : 0);
    a.datapath.act_bits = widths[(t / 2) % 4][0], a.datapath.acc_bits = widths[(t / 2) % 4][1];
    a.double_buffer_weights = t % 3 == 1;
    LayerCase wl;
    ASSERT_TRUE(prepare_with_widths(s, a, 8100 + static_cast<uint64_t>(t), &wl)) << s.name;
    const std::string what = s.name + " " + std::to_string(s.in_c) + "->" + std::to_string(s.out_m) + " on " +
                             std::to_string(a.rows) + "x" + std::to_string(a.cols) + " A=" +
                             std::to_string(a.datapath.act_bits) + " acc=" + std::to_string(a.datapath.acc_bits);
    for (bool activity : {true, false}) {
      std::vector<int64_t> w_cyc, w_one, w_two;
      const AccelRunResult cyc = run_accelerator(wl.prog, wl.qin, &wl.expected, nullptr, activity, nullptr,
                                                 [&](Accelerator& acc_) { w_cyc = acc_.array.weights(); });
      const AccelRunResult one = run_accelerator(
          wl.prog, wl.qin, &wl.expected, nullptr, activity,
          [&](Accelerator& acc_) {
            acc_.array.set_fast(true);
            acc_.array.fast_engine().set_threads(1);
          },
          [&](Accelerator& acc_) { w_one = acc_.array.weights(); });
      const AccelRunResult two = run_accelerator(wl.prog, wl.qin, &wl.expected, nullptr, activity, kFast, [&](Accelerator& acc_) {
        w_two = acc_.array.weights();
        split_runs += acc_.array.fast_engine().stats().split_runs;
        fallbacks += acc_.array.fast_engine().stats().one_pass_fallbacks;
      });
      const std::string w = what + (activity ? "" : ", activity off");
      ASSERT_TRUE(cyc.bit_exact && one.bit_exact && two.bit_exact) << w;
      EXPECT_EQ(two.outputs, cyc.outputs) << w;
      EXPECT_EQ(one.outputs, cyc.outputs) << w;
      expect_same_stats(two.layers[0].stats, cyc.layers[0].stats, w + ", two threads");
      expect_same_stats(one.layers[0].stats, cyc.layers[0].stats, w + ", one thread");
      EXPECT_EQ(w_two, w_cyc) << w;
      EXPECT_EQ(w_one, w_cyc) << w;
    }
  }
  if (kHasAvx2) {  // the one-pass kernel ran (the scalar paths have none: BRSIM_SIMD=scalar, aarch64)
    EXPECT_GE(split_runs, 20u);
    EXPECT_GE(fallbacks, 20u);
  }
  RecordProperty("split_runs", std::to_string(split_runs));
  RecordProperty("fallbacks", std::to_string(fallbacks));
}

// A tile of far more than 255 x 32 codes (256 x 256, 2048 vectors of
// codes): the one-pass kernel's per-byte counts of zero and sqrt2 paths
// must not wrap. One fold (256 inputs, 256 outputs), against the cycle
// model.
TEST(FastMode, OnePixelFoldsOnALargeArrayGiveThePerPeDecodesCounts) {
  LayerSpec s;
  s.name = "fc_large";
  s.fc = true;
  s.in_c = 256, s.out_m = 256;
  ArchConfig a;
  a.rows = a.cols = 256;
  a.datapath.act_bits = 8;  // sums of 256 products within 32 bits
  LayerCase wl;
  ASSERT_TRUE(prepare_with_widths(s, a, 5200, &wl)) << s.name;
  uint64_t one_pass = 0;
  const AccelRunResult fast = run_accelerator(wl.prog, wl.qin, &wl.expected, nullptr, true, kFast,
                                              [&](Accelerator& acc_) { one_pass = acc_.array.fast_engine().stats().one_pass_folds; });
  const AccelRunResult cyc = run_accelerator(wl.prog, wl.qin, &wl.expected);
  ASSERT_TRUE(fast.bit_exact && cyc.bit_exact) << s.name;
  EXPECT_EQ(one_pass, 1u);
  EXPECT_EQ(fast.outputs, cyc.outputs);
  expect_same_stats(fast.layers[0].stats, cyc.layers[0].stats, s.name + " on 256x256");
}

// Every weight serves every pixel once whatever the dataflow: the useful AE
// operations by path (zero-gated, base-2, sqrt2) and the MACs of a layer are
// the same in ws, os and is (each dataflow counts them its own way: ws per
// fold from the decoded tile, os and is once per weight load).
TEST(FastMode, UsefulAeOperationsAreTheSameInEveryDataflow) {
  std::mt19937_64 rng(8642);
  auto pick = [&](int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); };
  for (int t = 0; t < 6; ++t) {
    LayerSpec s;
    s.name = "ae" + std::to_string(t);
    s.fc = t % 3 == 2;
    s.in_c = s.fc ? pick(40, 300) : pick(2, 12);
    s.out_m = pick(5, 40);
    if (!s.fc) s.kh = s.kw = pick(1, 3), s.in_h = pick(s.kh, 12), s.in_w = pick(s.kw, 12), s.pad = pick(0, s.kh - 1);
    ArchConfig a;
    a.rows = static_cast<int>(pick(4, 16)), a.cols = static_cast<int>(pick(4, 16));
    LayerCase wl;
    ASSERT_TRUE(prepare_with_widths(s, a, 7300 + static_cast<uint64_t>(t), &wl)) << s.name;
    LayerStats ws;
    for (Dataflow flow : kDataflows) {
      a.dataflow = flow;
      const AccelRunResult r = run_accelerator(compile_network(wl.q, a), wl.qin, &wl.expected, nullptr, true, kFast);
      ASSERT_TRUE(r.bit_exact) << s.name << " " << to_string(flow);
      const LayerStats& st = r.layers[0].stats;
      if (flow == Dataflow::WeightStationary) {
        ws = st;
        EXPECT_GT(st.ae_pow2 + st.ae_sqrt2, 0u) << s.name;
        continue;
      }
      EXPECT_EQ(st.macs, ws.macs) << s.name << " " << to_string(flow);
      EXPECT_EQ(st.ae_zero, ws.ae_zero) << s.name << " " << to_string(flow);
      EXPECT_EQ(st.ae_pow2, ws.ae_pow2) << s.name << " " << to_string(flow);
      EXPECT_EQ(st.ae_sqrt2, ws.ae_sqrt2) << s.name << " " << to_string(flow);
    }
  }
}

// Fully connected layers at batch 1 take the one-pixel walk (LayerPlan::
// walk_one_pixel: weight loads booked on the DMA's timeline, codes read
// straight from DRAM, each m-tile's folds one run in the engine): random
// layers, per-layer and per-channel quantization, arrays the one-pass
// kernel takes and others, K and M not multiples of the array, DRAM slow
// enough that loads stall, single and double buffering. Every count and the
// array's registers as the cycle model's, its cycles the closed form's; and
// with DRAM back-pressure (no direct access) the plan's walk instead.
TEST(FastMode, FullyConnectedRunsGiveTheCycleModelsCounts) {
  std::mt19937_64 rng(4321);
  auto pick = [&](int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); };
  const int shapes[][2] = {{16, 16}, {16, 8}, {32, 24}, {8, 12}, {5, 7}};
  uint64_t run_folds = 0, folds = 0, stall = 0;
  int cases = 0;
  for (int t = 0; t < 12; ++t) {
    LayerSpec s;
    s.name = "fcrun" + std::to_string(t);
    s.fc = true;
    s.in_c = pick(40, 600), s.out_m = pick(5, 50);
    ArchConfig a;
    a.rows = shapes[t % 5][0], a.cols = shapes[t % 5][1];
    a.dram.latency_cycles = static_cast<int>(pick(10, 150)), a.dram.bytes_per_cycle = static_cast<int>(pick(1, 4));
    a.double_buffer_weights = t % 2 == 1;
    a.double_buffer_activations = t % 3 == 1;
    a.datapath.sqrt2_terms = static_cast<int>(pick(1, 6));
    const SyntheticLayer sl = make_synthetic_layer(s, 6100 + static_cast<uint64_t>(t));
    NetQuantOptions o = brslog_k(a.datapath.sqrt2_terms);
    if (t % 2 == 0) o.weights.granularity = Granularity::Channel;
    LayerCase l;
    l.q = quantize_network(sl.net, sl.formats, o);
    l.prog = compile_network(l.q, a);
    l.expected = golden_per_layer(l.q, l.prog, {sl.input}, &l.qin);
    const std::string what = s.name + " " + std::to_string(s.in_c) + "->" + std::to_string(s.out_m) + " on " +
                             std::to_string(a.rows) + "x" + std::to_string(a.cols) +
                             (t % 2 == 0 ? ", per channel" : ", per layer");
    std::vector<int64_t> w_cyc, w_fast;
    const AccelRunResult cyc = run_accelerator(l.prog, l.qin, &l.expected, nullptr, true, nullptr,
                                               [&](Accelerator& acc) { w_cyc = acc.array.weights(); });
    ASSERT_TRUE(cyc.bit_exact) << what << ": " << cyc.mismatch;
    EXPECT_EQ(cyc.layers[0].stats.cycles, cyc.layers[0].closed_form) << what;
    stall += cyc.layers[0].stats.cycles.stall;
    for (int threads : {1, 2}) {
      uint64_t ran = 0;
      const AccelRunResult fast = run_accelerator(
          l.prog, l.qin, &l.expected, nullptr, true,
          [&](Accelerator& acc) {
            acc.array.set_fast(true);
            acc.array.fast_engine().set_threads(threads);
          },
          [&](Accelerator& acc) {
            ran = acc.array.fast_engine().stats().run_folds;
            w_fast = acc.array.weights();
          });
      const std::string w = what + ", threads " + std::to_string(threads);
      ASSERT_TRUE(fast.bit_exact) << w << ": " << fast.mismatch;
      EXPECT_EQ(fast.outputs, cyc.outputs) << w;
      expect_same_stats(fast.layers[0].stats, cyc.layers[0].stats, w);
      EXPECT_EQ(w_fast, w_cyc) << w;
      // Every fold in a run but a last k-tile of fewer rows than the array's.
      const uint64_t m_tiles = (static_cast<uint64_t>(s.out_m) + static_cast<uint64_t>(a.cols) - 1) / static_cast<uint64_t>(a.cols);
      const uint64_t partial = s.in_c % a.rows != 0 ? m_tiles : 0;
      EXPECT_EQ(ran + partial, fast.layers[0].stats.folds) << w;
      run_folds += ran, folds += fast.layers[0].stats.folds;
    }
    // Back-pressure: no direct access, the plan's walk, the same counts.
    // (Single-buffered activations: with outputs written behind, the two
    // modes' transactions reach the DRAM, which draws each one's extra
    // cycles in turn, in another order.)
    ++cases;
    if (a.double_buffer_activations) continue;
    uint64_t ran_bp = 1;
    const auto bp = [&](Accelerator& acc) { acc.dram.set_backpressure(99 + static_cast<uint64_t>(t), 23); };
    const AccelRunResult cyc_bp = run_accelerator(l.prog, l.qin, &l.expected, nullptr, true, bp);
    const AccelRunResult fast_bp = run_accelerator(
        l.prog, l.qin, &l.expected, nullptr, true,
        [&](Accelerator& acc) {
          bp(acc);
          acc.array.set_fast(true);
        },
        [&](Accelerator& acc) { ran_bp = acc.array.fast_engine().stats().run_folds; });
    ASSERT_TRUE(cyc_bp.bit_exact && fast_bp.bit_exact) << what << " with back-pressure";
    EXPECT_EQ(ran_bp, 0u) << what;
    expect_same_stats(fast_bp.layers[0].stats, cyc_bp.layers[0].stats, what + " with back-pressure");
  }
  EXPECT_EQ(cases, 12);
  EXPECT_GT(run_folds, folds / 2);
  EXPECT_GT(stall, 0u);
}
