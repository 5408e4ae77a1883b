// Tiling (docs/tiling.md): every layer runs on any buffer at least one
// array tile large. Random small layers on random small buffers in every
// dataflow are bit exact against the golden model, and the cycle-by-cycle
// model, fast mode and the closed form agree on every cycle category and
// counter; pooling staged by rows on column strips; refusals below the
// smallest tile name the buffer and the smallest capacity that works, and
// that capacity is exact.
#include <gtest/gtest.h>

#include <functional>
#include <random>
#include <set>

#include "accel_case.h"
#include "accel_host.h"
#include "accelerator.h"
#include "asan_main_stack.h"
#include "errors.h"
#include "layer_plan.h"
#include "qnet.h"
#include "sc_kernel.h"
#include "synthetic_layer.h"
#include "tiling.h"

using namespace brsim;
using namespace brsim_test;

namespace {

// A synthetic conv (or FC) layer, with a max or average pooling layer after it when `pool` > 0.
LayerCase make_case(const LayerSpec& s, uint64_t seed, const ArchConfig& a, int pool = 0, int64_t pk = 2,
                   int64_t ps = 2) {
  SyntheticLayer sl = make_synthetic_layer(s, seed);
  if (pool) add_pooling(&sl, pool, pk, ps);
  return layer_case(sl, a);
}


}  // namespace

// About 200 random small layers (some with fused pooling) on random buffers
// between the smallest tile and a few times it, in every dataflow, with and
// without double buffering.
TEST(Tiling, RandomLayersOnSmallBuffersMeetTheClosedFormBitExactly) {
  std::mt19937_64 rng(20);
  int strips = 0, chunks = 0, by_rows = 0, runs = 0;
  for (int t = 0; t < 200; ++t) {
    int pool = 0;
    LayerSpec s = random_layer(rng, t, RandomLayerBounds{11, 3, 12, 20, 80, 4, 11}, &pool);
    s.name = "t" + std::to_string(t);
    ArchConfig a;
    a.rows = static_cast<int>(pick(rng, 2, 8));
    a.cols = static_cast<int>(pick(rng, 2, 8));
    a.dataflow = kDataflows[t % 3];
    a.dram.latency_cycles = static_cast<int>(pick(rng, 0, 30));
    a.dram.bytes_per_cycle = static_cast<int>(pick(rng, 1, 16));
    a.double_buffer_weights = t % 5 == 2;
    a.double_buffer_activations = t % 7 == 4;
    const LayerCase c = make_case(s, 500 + static_cast<uint64_t>(t), a, pool);
    // Buffers from the smallest tile to a few times it.
    LayerDescriptor d = compile_network(c.q, a).layers[0].desc;
    const uint64_t in_min = tile_input_bytes(d, a, 1, 1, 1);
    const uint64_t out_min = tile_output_bytes(d, a, static_cast<uint64_t>(a.cols), 1, 1, d.pool != PoolKind::None);
    const uint64_t w_min = (a.double_buffer_weights ? 2 : 1) *
                           weight_tile_bytes(static_cast<uint64_t>(a.rows), static_cast<uint64_t>(a.cols), a);
    a.input_buffer.capacity_bytes = smallest_buffer_capacity(pick(rng, in_min, 6 * in_min));
    a.output_buffer.capacity_bytes = smallest_buffer_capacity(pick(rng, out_min, 4 * out_min));
    a.weight_buffer.capacity_bytes = smallest_buffer_capacity(pick(rng, w_min, 3 * w_min));
    const Schedule sc = make_schedule(d, a);
    strips += sc.strips > 1, chunks += sc.chunks > 1, by_rows += sc.pool_by_rows;
    const std::string where = s.name + " (" + std::to_string(s.in_c) + "x" + std::to_string(s.in_h) + "x" +
                              std::to_string(s.in_w) + " -> " + std::to_string(s.out_m) + ", k" +
                              std::to_string(s.kh) + " s" + std::to_string(s.stride) + " p" + std::to_string(s.pad) +
                              " pool " + std::to_string(pool) + ") on " + std::to_string(a.rows) + "x" +
                              std::to_string(a.cols) + " " + to_string(a.dataflow) + ", buffers " +
                              std::to_string(a.input_buffer.capacity_bytes) + "/" +
                              std::to_string(a.output_buffer.capacity_bytes) + ": " + std::to_string(sc.bands) +
                              " bands, " + std::to_string(sc.strips) + " strips, " + std::to_string(sc.chunks) +
                              " chunks";
    run_cycle_and_fast(c, a, where);
    if (::testing::Test::HasFailure()) return;
    ++runs;
  }
  EXPECT_EQ(runs, 200);
  EXPECT_GT(strips, 20);
  EXPECT_GT(chunks, 20);
  EXPECT_GT(by_rows, 10);
}

// 12x12x6 -> 10, 3x3, pad 1, max pooling 2x2: an output buffer of one
// output row's partial sums at most cuts rows into strips, and pooling is
// staged by rows (the whole conv output would need 12 x 12 x 10 x 2 bytes).
TEST(Tiling, PoolingOnRowStrips) {
  LayerSpec s;
  s.name = "conv";
  s.in_c = 6, s.in_h = s.in_w = 12, s.kh = s.kw = 3, s.pad = 1, s.out_m = 10;
  for (Dataflow flow : kDataflows) {
    ArchConfig a;
    a.rows = a.cols = 4;
    a.dataflow = flow;
    const LayerCase c = make_case(s, 7, a, 1);
    const LayerDescriptor d = compile_network(c.q, a).layers[0].desc;
    a.output_buffer.capacity_bytes = 2 * 12 * 4 * 2 + 5 * 4 * 6;  // two conv rows staged, five pixels of sums
    const Schedule sc = make_schedule(d, a);
    EXPECT_TRUE(sc.pool_by_rows) << to_string(flow);
    EXPECT_EQ(sc.band_rows, 1u) << to_string(flow);
    EXPECT_EQ(sc.strip_cols, 5u) << to_string(flow);
    EXPECT_EQ(sc.strips, 3u) << to_string(flow);
    const LayerStats st = run_cycle_and_fast(c, a, "pool strips " + to_string(flow));
    // The output stage's cycles are those of the whole-tile staging: one per pixel, one per window element.
    EXPECT_EQ(st.cycles.output, sc.m_tiles * (144 + 36 * 4)) << to_string(flow);
  }
}

// Input-channel chunks: 5x5x40 -> 6, 3x3 with an input buffer of six
// channels' rows: one band of the three output rows, its partial sums
// accumulating across the chunks.
TEST(Tiling, InputChannelChunksAccumulateInTheOutputBuffer) {
  LayerSpec s;
  s.name = "conv";
  s.in_c = 40, s.in_h = s.in_w = 5, s.kh = s.kw = 3, s.out_m = 6;
  for (Dataflow flow : kDataflows) {
    ArchConfig a;
    a.rows = a.cols = 8;
    a.dataflow = flow;
    a.input_buffer.capacity_bytes = 10 * 3 * 5 * 2;  // ten channels of three rows
    const LayerCase c = make_case(s, 9, a);
    const Schedule sc = make_schedule(compile_network(c.q, a).layers[0].desc, a);
    EXPECT_EQ(sc.bands, 1u) << to_string(flow);
    EXPECT_EQ(sc.strips, 1u) << to_string(flow);
    EXPECT_GT(sc.chunks, 4u) << to_string(flow);
    run_cycle_and_fast(c, a, "chunks " + to_string(flow));
  }
}

// Below the smallest tile: the refusal names the buffer, the bytes, the
// capacity and the smallest capacity that works, which is exact.
TEST(Tiling, RefusalNamesTheSmallestCapacityThatWorks) {
  LayerDescriptor d;
  d.in_c = 64, d.in_h = d.in_w = 8, d.kh = d.kw = 5, d.out_m = 8;
  ArchConfig a;  // 16 x 16: k-tile 1 (rows 16-31 of K) reads 2 channels x 5 x 5 (2 bytes each)
  a.input_buffer.capacity_bytes = 99;
  try {
    make_schedule(d, a);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()),
              "input_buffer too small for one tile: the smallest tile (one output pixel of one k-tile of 16 rows of "
              "K: 2 channels x 5 x 5 inputs) needs 100 bytes of input rows, capacity_bytes is 99; the smallest "
              "input_buffer that works is 100 bytes");
  }
  a.input_buffer.capacity_bytes = 100;
  const Schedule s = make_schedule(d, a);
  EXPECT_EQ(s.strip_cols, 1u);
  EXPECT_EQ(s.chunk_ktiles, 1u);
  // Output: 16 partial sums of 6 bytes.
  a = ArchConfig{};
  a.output_buffer.capacity_bytes = 95;
  try {
    make_schedule(d, a);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("output_buffer too small for one tile: the smallest tile (one output pixel) "
                                         "needs 96 bytes (16 partial sums of 6 bytes"),
              std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find("the smallest output_buffer that works is 96 bytes"), std::string::npos);
  }
  a.output_buffer.capacity_bytes = 96;
  EXPECT_EQ(make_schedule(d, a).strip_cols, 1u);
  // Weights: one R x C tile of 5-bit codes.
  a = ArchConfig{};
  a.weight_buffer.capacity_bytes = 159;
  try {
    make_schedule(d, a);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("the smallest weight_buffer that works is 160 bytes"), std::string::npos)
        << e.what();
  }
  a.weight_buffer.capacity_bytes = 160;
  EXPECT_NO_THROW(make_schedule(d, a));
}

// Whole rows and every channel where they fit: the schedule of a layer that
// fits is the band schedule (no strips, no chunks, pooling staged whole).
TEST(Tiling, LayersThatFitKeepBandsOfWholeRows) {
  LayerDescriptor d;
  d.in_c = 16, d.in_h = d.in_w = 28, d.kh = d.kw = 5, d.out_m = 32, d.pool = PoolKind::Max;
  const Schedule s = make_schedule(d, ArchConfig{});
  EXPECT_EQ(s.strips, 1u);
  EXPECT_EQ(s.chunks, 1u);
  EXPECT_FALSE(s.pool_by_rows);
  EXPECT_EQ(s.strip_cols, d.out_w());
}

// make_schedule and closed_form keep their results by schedule_key: every
// field of the layer and the architecture changes the key, and after each
// change the kept schedule is the one computed afresh (pass_schedule, which
// keeps nothing).
TEST(Tiling, KeptSchedulesFollowEveryFieldOfTheLayerAndTheArchitecture) {
  LayerDescriptor d0;
  d0.in_c = 24, d0.in_h = d0.in_w = 20, d0.kh = d0.kw = 3, d0.out_m = 40, d0.pad_t = d0.pad_l = d0.pad_b = d0.pad_r = 1;
  d0.in_addr = 0, d0.w_addr = 1 << 20, d0.param_addr = 2 << 20, d0.out_addr = 3 << 20, d0.psum_addr = 4 << 20;
  ArchConfig a0;
  a0.input_buffer.capacity_bytes = 4096, a0.output_buffer.capacity_bytes = 8192;
  using Edit = std::function<void(LayerDescriptor&, ArchConfig&)>;
  const std::vector<Edit> edits = {
      [](LayerDescriptor& d, ArchConfig&) { d.fc = true, d.in_h = d.in_w = 1, d.kh = d.kw = 1, d.pad_t = d.pad_l = d.pad_b = d.pad_r = 0; },
      [](LayerDescriptor& d, ArchConfig&) { d.in_c = 8; },
      [](LayerDescriptor& d, ArchConfig&) { d.in_h = 30; },
      [](LayerDescriptor& d, ArchConfig&) { d.in_w = 12; },
      [](LayerDescriptor& d, ArchConfig&) { d.out_m = 70; },
      [](LayerDescriptor& d, ArchConfig&) { d.kh = 5; },
      [](LayerDescriptor& d, ArchConfig&) { d.kw = 5; },
      [](LayerDescriptor& d, ArchConfig&) { d.stride_h = 2; },
      [](LayerDescriptor& d, ArchConfig&) { d.stride_w = 2; },
      [](LayerDescriptor& d, ArchConfig&) { d.pad_t = 0; },
      [](LayerDescriptor& d, ArchConfig&) { d.pad_l = 0; },
      [](LayerDescriptor& d, ArchConfig&) { d.pad_b = 0; },
      [](LayerDescriptor& d, ArchConfig&) { d.pad_r = 0; },
      [](LayerDescriptor& d, ArchConfig&) { d.in_addr = 64; },
      [](LayerDescriptor& d, ArchConfig&) { d.w_addr += 64; },
      [](LayerDescriptor& d, ArchConfig&) { d.param_addr += 64; },
      [](LayerDescriptor& d, ArchConfig&) { d.out_addr += 64; },
      [](LayerDescriptor& d, ArchConfig&) { d.n2 = 3; },
      [](LayerDescriptor& d, ArchConfig&) { d.p = 1; },
      [](LayerDescriptor& d, ArchConfig&) { d.per_channel = true; },
      [](LayerDescriptor& d, ArchConfig&) { d.relu = true; },
      [](LayerDescriptor& d, ArchConfig&) { d.pool = PoolKind::Max; },
      [](LayerDescriptor& d, ArchConfig&) { d.pool = PoolKind::Avg, d.pool_kh = 3; },
      [](LayerDescriptor& d, ArchConfig&) { d.pool = PoolKind::Avg, d.pool_kw = 3; },
      [](LayerDescriptor& d, ArchConfig&) { d.pool = PoolKind::Max, d.pool_sh = 1; },
      [](LayerDescriptor& d, ArchConfig&) { d.pool = PoolKind::Max, d.pool_sw = 1; },
      [](LayerDescriptor& d, ArchConfig&) { d.pool = PoolKind::Max, d.pool_pt = 1; },
      [](LayerDescriptor& d, ArchConfig&) { d.pool = PoolKind::Max, d.pool_pl = 1; },
      [](LayerDescriptor& d, ArchConfig&) { d.pool = PoolKind::Max, d.pool_pb = 1; },
      [](LayerDescriptor& d, ArchConfig&) { d.pool = PoolKind::Max, d.pool_pr = 1; },
      [](LayerDescriptor& d, ArchConfig&) { d.batch = 3; },
      [](LayerDescriptor& d, ArchConfig&) { d.batch = 2, d.in_image_stride = 24 * 20 * 20 * 2 + 64; },
      [](LayerDescriptor& d, ArchConfig&) { d.batch = 2, d.out_image_stride = 40 * 20 * 20 * 2 + 64; },
      [](LayerDescriptor& d, ArchConfig&) { d.psum_addr += 64; },
      [](LayerDescriptor&, ArchConfig& a) { a.rows = 8; },
      [](LayerDescriptor&, ArchConfig& a) { a.cols = 32; },
      [](LayerDescriptor&, ArchConfig& a) { a.dataflow = Dataflow::OutputStationary; },
      [](LayerDescriptor&, ArchConfig& a) { a.dataflow = Dataflow::InputStationary; },
      [](LayerDescriptor&, ArchConfig& a) { a.pe = PeType::Fixed16; },
      [](LayerDescriptor&, ArchConfig& a) { a.weight_bits = 4; },
      [](LayerDescriptor&, ArchConfig& a) { a.datapath.act_bits = 8; },
      [](LayerDescriptor&, ArchConfig& a) { a.datapath.acc_bits = 64; },
      [](LayerDescriptor&, ArchConfig& a) { a.datapath.shift_bits = 5; },
      [](LayerDescriptor&, ArchConfig& a) { a.datapath.sqrt2_terms = 3; },
      [](LayerDescriptor&, ArchConfig& a) { a.clock_mhz = 250; },
      [](LayerDescriptor&, ArchConfig& a) { a.weight_buffer.capacity_bytes = 1024; },
      [](LayerDescriptor&, ArchConfig& a) { a.weight_buffer.word_bits = 32; },
      [](LayerDescriptor&, ArchConfig& a) { a.input_buffer.capacity_bytes = 2048; },
      [](LayerDescriptor&, ArchConfig& a) { a.input_buffer.word_bits = 128; },
      [](LayerDescriptor&, ArchConfig& a) { a.output_buffer.capacity_bytes = 3000; },
      [](LayerDescriptor&, ArchConfig& a) { a.output_buffer.word_bits = 16; },
      [](LayerDescriptor&, ArchConfig& a) { a.dram.size_bytes = 64 << 20; },
      [](LayerDescriptor&, ArchConfig& a) { a.dram.latency_cycles = 7; },
      [](LayerDescriptor&, ArchConfig& a) { a.dram.bytes_per_cycle = 3; },
      [](LayerDescriptor&, ArchConfig& a) { a.double_buffer_weights = true; },
      [](LayerDescriptor&, ArchConfig& a) { a.double_buffer_activations = true; },
      [](LayerDescriptor&, ArchConfig& a) { a.batch = 4; },
  };
  const std::string key0 = schedule_key(d0, a0);
  std::set<std::string> keys{key0};
  uint64_t differ = 0;
  for (int round = 0; round < 2; ++round) {  // the second round finds every schedule kept
    for (size_t i = 0; i < edits.size(); ++i) {
      SCOPED_TRACE("edit " + std::to_string(i));
      LayerDescriptor d = d0;
      ArchConfig a = a0;
      edits[i](d, a);
      const std::string key = schedule_key(d, a);
      EXPECT_NE(key, key0);
      if (round == 0) {
        EXPECT_TRUE(keys.insert(key).second) << "two edits give one key";
      }
      Schedule fresh, kept;
      try {
        fresh = pass_schedule(d, a);
        kept = make_schedule(d, a);
      } catch (const std::exception& e) {
        ADD_FAILURE() << e.what();
        continue;
      }
      if (d.batch == 1) {  // (larger batches may take passes: make_schedule's own choice)
        EXPECT_EQ(kept.bands, fresh.bands);
        EXPECT_EQ(kept.band_rows, fresh.band_rows);
        EXPECT_EQ(kept.strips, fresh.strips);
        EXPECT_EQ(kept.chunks, fresh.chunks);
        EXPECT_EQ(kept.m_cols, fresh.m_cols);
        EXPECT_EQ(kept.k_chunk, fresh.k_chunk);
        EXPECT_EQ(kept.spill, fresh.spill);
        EXPECT_EQ(closed_form(d, a).total(), closed_form(d, a, fresh).total());
      }
      differ += closed_form(d, a).total() != closed_form(d0, a0).total();
    }
  }
  EXPECT_GT(differ, 2 * 20u);  // most edits change the cycle count: a stale schedule would show
}
