// Spilling partial sums to DRAM (docs/tiling.md "Spilling partial sums"):
// the planner takes the loop order with the weight loads outside the
// tiles, each tile's partial sums written to a DRAM scratch area and read
// back between loads, where it takes fewer cycles by the closed form (serial
// memory, every dataflow). Layers that spill are bit exact against the golden model in
// cycle and fast mode, both modes meet the closed form, and the DRAM
// traffic is exactly the spill traffic on top of the rest.
#include <gtest/gtest.h>

#include <iostream>
#include <random>

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

// 16 x 6 x 6 -> 32, 3x3 (K = 144: 5 k-tiles of 32 rows, 4 x 4 = 16 output
// pixels) on a 32 x 32 array whose output buffer holds one pixel's 32
// partial sums of 6 bytes: 16 one-pixel tiles. DRAM latency `latency`, 4 bytes per cycle.
LayerSpec one_pixel_layer() {
  LayerSpec s;
  s.name = "conv";
  s.in_c = 16, s.in_h = s.in_w = 6, s.kh = s.kw = 3, s.out_m = 32;
  return s;
}

ArchConfig one_pixel_arch(int latency) {
  ArchConfig a;
  a.rows = a.cols = 32;
  a.output_buffer.capacity_bytes = 32 * 6;        // one pixel's partial sums
  a.input_buffer.capacity_bytes = 256;            // one k-tile of one pixel: at most 5 channels x 3 x 3 x 2 bytes
  a.weight_buffer.capacity_bytes = 32 * 32 * 5 / 8;  // one weight tile
  a.dram.latency_cycles = latency;
  a.dram.bytes_per_cycle = 4;
  return a;
}

// The planner's spilling candidate built by hand: the chunked tiling's
// tiles, one chunk per k-tile, spilling.
Schedule spilling(const LayerDescriptor& d, const ArchConfig& a, Schedule s) {
  uint64_t k_chunk = 1;
  const Tiling t = chunked_tiling(d, a, s.psum_width(), &k_chunk);
  s.band_rows = t.band_rows, s.bands = t.bands, s.strip_cols = t.strip_cols, s.strips = t.strips;
  s.pool_by_rows = t.pool_by_rows;
  s.chunk_ktiles = 1, s.chunks = s.k_tiles, s.k_chunk = 1, s.loads = s.k_tiles;
  s.spill = true;
  return s;
}

}  // namespace

// (a) A layer that spills: per k-tile, the weight tile (640 bytes, 164
// cycles at 4 latency + 160) is fetched once instead of once per pixel,
// and each pixel's 32 sums (192 bytes) go out and come back (2 x 52 cycles).
TEST(Spill, OnePixelTilesOnA32x32ArraySpillBitExactlyAndMeetTheClosedForm) {
  const ArchConfig a = one_pixel_arch(4);
  const LayerCase c = layer_case(one_pixel_layer(), a, 31);
  const LayerDescriptor d = compile_network(c.q, a).layers[0].desc;
  const Schedule s = make_schedule(d, a);
  ASSERT_TRUE(s.spill);
  EXPECT_EQ(s.bands, 4u);
  EXPECT_EQ(s.strips, 4u);
  EXPECT_EQ(s.k_tiles, 5u);
  EXPECT_EQ(s.chunks, 5u);
  // The order without spilling takes more cycles.
  Schedule plain = s;
  plain.spill = false;
  EXPECT_GT(closed_form(d, a, plain).total(), closed_form(d, a, s).total());

  const LayerStats st = run_cycle_and_fast(c, a, "one-pixel tiles");  // bit exact, cycles = closed form, both modes
  if (::testing::Test::HasFailure()) return;

  // The traffic, counted independently: 4 of the 5 loads spill every pixel's
  // 32 sums of 6 bytes and read them back.
  const uint64_t P = 16, C = 32, acc = 6, act = 2;
  const uint64_t spilled = (5 - 1) * P * C * acc;
  EXPECT_EQ(spilled, 12288u);
  EXPECT_EQ(st.dram_psum_bytes_written, spilled);
  EXPECT_EQ(st.dram_psum_bytes_read, spilled);
  // Weights once: 4 tiles of 32 x 32 and one of 16 x 32 5-bit codes; the
  // parameter table; each pixel's input per k-tile (the channels its 32
  // rows of K span, 3 x 3 values each); the 32 x 16 outputs.
  const uint64_t weights = 4 * (32 * 32 * 5 / 8) + 16 * 32 * 5 / 8, params = C * 16;
  uint64_t input = 0;
  for (uint64_t j = 0; j < 5; ++j) {
    const uint64_t c0 = j * 32 / 9, c1 = (std::min<uint64_t>(144, (j + 1) * 32) + 8) / 9;
    input += P * (c1 - c0) * 9 * act;
  }
  EXPECT_EQ(st.dram_bytes_read, weights + params + input + spilled);
  EXPECT_EQ(st.dram_bytes_written, C * P * act + spilled);
  // The program's DRAM holds the scratch area: one pass's 16 pixels x 32 sums.
  const AccelProgram prog = compile_network(c.q, a);
  EXPECT_EQ(prog.dram_bytes_used, prog.layers[0].desc.psum_addr + P * C * acc);
  EXPECT_EQ(spill_scratch_bytes(d, a), P * C * acc);
}

// (c) The same layer with the default DRAM latency (100 cycles): a spill
// and a read-back (2 x 148 cycles) cost more than re-fetching the weight
// tile (260 cycles), so the planner keeps the weights inside the tiles.
TEST(Spill, NotTakenWhereItWouldBeSlower) {
  const ArchConfig a = one_pixel_arch(100);
  const LayerCase c = layer_case(one_pixel_layer(), a, 31);
  const LayerDescriptor d = compile_network(c.q, a).layers[0].desc;
  const Schedule s = make_schedule(d, a);
  EXPECT_FALSE(s.spill);
  EXPECT_GT(closed_form(d, a, spilling(d, a, s)).total(), closed_form(d, a, s).total());
  const LayerStats st = run_cycle_and_fast(c, a, "latency 100");
  EXPECT_EQ(st.dram_psum_bytes_written, 0u);
  EXPECT_EQ(st.dram_psum_bytes_read, 0u);
  EXPECT_EQ(spill_scratch_bytes(d, a), 0u);
  const AccelProgram prog = compile_network(c.q, a);
  EXPECT_EQ(prog.dram_bytes_used, prog.act_addr[1] + prog.act_region_bytes);  // no scratch area
}

// (b) 200 random layers (some with fused pooling, some FC, a fifth in
// batches of 2) on random small buffers of 12-32 x 8-32 arrays with fast
// DRAM, in every dataflow: the planner spills some of them; every
// layer is bit exact in cycle and fast mode, both equal the closed form on
// every counter, and spill traffic appears exactly when the schedule spills.
TEST(Spill, RandomLayersOnSmallBuffersOfLargeArrays) {
  std::mt19937_64 rng(2020);
  int spilled = 0, pooled = 0, batched = 0, runs = 0, by_flow[3] = {0, 0, 0};
  for (int t = 0; t < 200; ++t) {
    int pool = 0;
    LayerSpec s = random_layer(rng, t, RandomLayerBounds{11, 3, 24, 40, 80, 3, 8}, &pool);
    s.name = "s" + std::to_string(t);
    ArchConfig a;
    a.dataflow = kDataflows[t % 3];
    a.rows = static_cast<int>(pick(rng, 12, 32));
    a.cols = static_cast<int>(pick(rng, 8, 32));
    a.dram.latency_cycles = static_cast<int>(pick(rng, 0, 8));
    a.dram.bytes_per_cycle = static_cast<int>(pick(rng, 1, 8));
    a.batch = t % 5 == 4 ? 2 : 1;
    const LayerCase c = batch_case(s, 900 + static_cast<uint64_t>(t), a, a.batch, pool);
    const LayerDescriptor d = compile_network(c.q, a).layers[0].desc;
    const uint64_t in_min = tile_input_bytes(d, a, 1, 1, 1);
    const uint64_t out_min = tile_output_bytes(d, a, static_cast<uint64_t>(a.cols), 1, 1, d.pool != PoolKind::None);
    const uint64_t w_min = weight_tile_bytes(static_cast<uint64_t>(a.rows), static_cast<uint64_t>(a.cols), a);
    a.input_buffer.capacity_bytes = smallest_buffer_capacity(pick(rng, in_min, 4 * in_min));
    a.output_buffer.capacity_bytes = smallest_buffer_capacity(pick(rng, out_min, 2 * out_min));
    a.weight_buffer.capacity_bytes = smallest_buffer_capacity(pick(rng, w_min, 2 * w_min));
    const Schedule sc = make_schedule(d, a);
    const std::string where = s.name + " (" + std::to_string(s.in_c) + "x" + std::to_string(s.in_h) + "x" +
                              std::to_string(s.in_w) + " -> " + std::to_string(s.out_m) + ", k" +
                              std::to_string(s.kh) + " s" + std::to_string(s.stride) + " p" + std::to_string(s.pad) +
                              " pool " + std::to_string(pool) + ", batch " + std::to_string(a.batch) + ") on " +
                              std::to_string(a.rows) + "x" + std::to_string(a.cols) + " " + to_string(a.dataflow) + ", buffers " +
                              std::to_string(a.input_buffer.capacity_bytes) + "/" +
                              std::to_string(a.output_buffer.capacity_bytes) + ", spill " + std::to_string(sc.spill);
    const LayerStats st = run_cycle_and_fast(c, a, where);
    if (::testing::Test::HasFailure()) return;
    if (sc.spill) {
      ++spilled, pooled += pool != 0, ++by_flow[t % 3], batched += a.batch > 1;
      // Every pixel's sums of every m-tile (all M channels), spilled and read back after each load but the last.
      const uint64_t acc = static_cast<uint64_t>(acc_bytes(a)), n = d.gemm_p() * d.batch * d.out_m * acc;
      ASSERT_TRUE(sc.passes == 1 || d.batch % sc.pass_images == 0) << where;  // every pass spills alike
      EXPECT_EQ(st.dram_psum_bytes_written, (sc.loads - 1) * n) << where;
      EXPECT_EQ(st.dram_psum_bytes_read, (sc.loads - 1) * n) << where;
      EXPECT_LT(closed_form(d, a, sc).total(), closed_form(d, a, [&] {
                                                       Schedule x = sc;
                                                       x.spill = false;
                                                       return x;
                                                     }()).total())
          << where;
    } else {
      EXPECT_EQ(st.dram_psum_bytes_written + st.dram_psum_bytes_read, 0u) << where;
    }
    ++runs;
  }
  EXPECT_EQ(runs, 200);
  EXPECT_GT(spilled, 10);
  for (int f = 0; f < 3; ++f) EXPECT_GT(by_flow[f], 1) << to_string(kDataflows[f]);
  EXPECT_GT(pooled, 2);
  EXPECT_GE(batched, 1);
  EXPECT_LT(spilled, 200);
  std::cout << spilled << " of 200 layers spill (" << pooled << " with pooling, " << batched
            << " in batches of 2; ws " << by_flow[0] << ", os " << by_flow[1] << ", is " << by_flow[2] << ")\n";
}

// Every dataflow spills the one-pixel layer with serial memory (bit
// exact, the closed form in both modes); double-buffered memory keeps the
// loop order whose weight loads and inputs are fetched ahead.
TEST(Spill, EveryDataflowSpillsWithSerialMemoryOnly) {
  for (Dataflow f : kDataflows) {
    ArchConfig a = one_pixel_arch(4);
    a.dataflow = f;
    const LayerCase c = layer_case(one_pixel_layer(), a, 31);
    const LayerDescriptor d = compile_network(c.q, a).layers[0].desc;
    EXPECT_TRUE(make_schedule(d, a).spill) << to_string(f);
    const LayerStats st = run_cycle_and_fast(c, a, "one-pixel tiles " + to_string(f));
    EXPECT_EQ(st.dram_psum_bytes_written, 12288u) << to_string(f);
    EXPECT_EQ(st.dram_psum_bytes_read, 12288u) << to_string(f);
    ArchConfig b = a;
    b.double_buffer_weights = true;
    b.weight_buffer.capacity_bytes = 2 * 640;
    EXPECT_FALSE(make_schedule(d, b).spill) << to_string(f);
    b = a;
    b.double_buffer_activations = true;
    b.input_buffer.capacity_bytes = 512;
    b.output_buffer.capacity_bytes = 32 * 6 + 32 * 2;  // the sums and the write-behind staging
    EXPECT_FALSE(make_schedule(d, b).spill) << to_string(f);
  }
}

// A batch of 2 images: 32 x 6 x 6 -> 64, 3x3 (K = 288: 5 k-tiles) on a
// 64 x 64 array whose output buffer holds 2 x 64 sums of 6 bytes. Per tile
// and load a weight re-fetch costs 4 + 2560 / 4 = 644 cycles, a spill and
// a refill of 2 pixels 2 x (4 + 768 / 4) = 392. The planner runs the batch
// in 2 passes of one image (tiles of 2 pixels of one image take half the
// input transfers of one pixel of each image), each spilling; every
// image's sums cross DRAM after every load but the last.
TEST(Spill, ABatchSpillsEveryImageOfItsTiles) {
  LayerSpec s;
  s.name = "conv";
  s.in_c = 32, s.in_h = s.in_w = 6, s.kh = s.kw = 3, s.out_m = 64;
  ArchConfig a;
  a.rows = a.cols = 64;
  a.batch = 2;
  a.output_buffer.capacity_bytes = 2 * 64 * 6;
  a.input_buffer.capacity_bytes = 512;
  a.weight_buffer.capacity_bytes = 64 * 64 * 5 / 8;
  a.dram.latency_cycles = 4;
  a.dram.bytes_per_cycle = 4;
  const LayerCase c = batch_case(s, 12, a, 2);
  const LayerDescriptor d = compile_network(c.q, a).layers[0].desc;
  const Schedule sc = make_schedule(d, a);
  ASSERT_TRUE(sc.spill);
  EXPECT_EQ(sc.passes, 2u);
  EXPECT_EQ(sc.pass_images, 1u);
  EXPECT_EQ(sc.strip_cols, 2u);
  const LayerStats st = run_cycle_and_fast(c, a, "batch of 2");
  const uint64_t spilled = (5 - 1) * 16 * 2 * 64 * 6;  // loads but the last x pixels x images x sums x bytes
  EXPECT_EQ(st.dram_psum_bytes_written, spilled);
  EXPECT_EQ(st.dram_psum_bytes_read, spilled);
  EXPECT_EQ(spill_scratch_bytes(d, a), 16u * 64 * 6);  // one pass's
}

// 16-bit multiplier PEs store 16-bit weights, so spilling moves fewer bytes
// than re-fetching a weight tile already on a 16 x 16 array (p < 16 x 16 /
// 96 pixels): 8 x 6 x 6 -> 16, 3x3 (K = 72: 5 k-tiles) with one pixel's 16
// sums in the output buffer spills, bit exact in cycle and fast mode.
TEST(Spill, Fixed16WeightsSpillOnA16x16Array) {
  LayerSpec s;
  s.name = "conv";
  s.in_c = 8, s.in_h = s.in_w = 6, s.kh = s.kw = 3, s.out_m = 16;
  ArchConfig a;
  a.pe = PeType::Fixed16;
  a.output_buffer.capacity_bytes = 16 * 6;
  a.input_buffer.capacity_bytes = 256;
  a.weight_buffer.capacity_bytes = 16 * 16 * 2;
  a.dram.latency_cycles = 4;
  a.dram.bytes_per_cycle = 4;
  const SyntheticLayer sl = make_synthetic_layer(s, 5);
  LayerCase c;
  c.q = quantize_network(sl.net, sl.formats, brslog_k(4, PolicyKind::Fixed16));
  c.prog = compile_network(c.q, a);
  c.expected = golden_per_layer(c.q, c.prog, {sl.input}, &c.qin);
  ASSERT_TRUE(make_schedule(c.prog.layers[0].desc, a).spill);
  const LayerStats st = run_cycle_and_fast(c, a, "fixed16");
  EXPECT_EQ(st.dram_psum_bytes_written, (5 - 1) * 16u * 16 * 6);
  EXPECT_EQ(st.dram_psum_bytes_read, (5 - 1) * 16u * 16 * 6);
  EXPECT_EQ(st.cycles.total(), 12840u);  // brsim layer --pe fixed16 (docs/tiling.md)
}

// A descriptor whose scratch area overlaps the layer's own operands is a
// bad descriptor (ERROR_CODE 1) naming PSUM_ADDR and what it overlaps.
TEST(Spill, AScratchAreaOverlappingTheWeightsIsRefused) {
  const ArchConfig a = one_pixel_arch(4);
  const LayerCase c = layer_case(one_pixel_layer(), a, 31);
  AccelProgram prog = compile_network(c.q, a);
  prog.layers[0].desc.psum_addr = prog.layers[0].desc.w_addr + 64;
  try {
    run_accelerator(prog, c.qin, &c.expected);
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("accelerator error 1: PSUM_ADDR: the layer spills partial sums to DRAM"),
              std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find("its scratch area of 3072 bytes at 64 overlaps the weights at W_ADDR (2880 "
                                         "bytes at 0)"),
              std::string::npos)
        << e.what();
  }
}
