// The dataflows' loop orders (docs/dataflows.md): input stationary keeps an
// activation tile while every filter of its m-range streams through, splits
// the m-range only where the buffers cannot hold it, and the cycle model
// (cycle by cycle and fast mode) meets the closed form bit exactly either way.
#include <gtest/gtest.h>

#include "accel_case.h"
#include "accel_host.h"
#include "accelerator.h"
#include "errors.h"
#include "qnet.h"
#include "sc_kernel.h"
#include "synthetic_layer.h"

using namespace brsim;

using namespace brsim_test;

// 9x9x10 -> 40, 3x3 (P = 49, K = 90, M = 40) on 8x8: one m-range of all 40
// filters; each of the 12 k-tiles x 7 pixel tiles folds streams them all:
// R load + M stream + R + C - 1 skew edges.
TEST(InputStationary, EveryFilterStreamsThroughEachActivationTile) {
  LayerSpec s;
  s.name = "is";
  s.in_c = 10, s.in_h = s.in_w = 9, s.kh = s.kw = 3, s.out_m = 40;
  ArchConfig a;
  a.rows = a.cols = 8;
  a.dataflow = Dataflow::InputStationary;
  const LayerCase c = layer_case(s, a, 21);
  const LayerDescriptor d = compile_network(c.q, a).layers[0].desc;
  const Schedule sc = make_schedule(d, a);
  ASSERT_EQ(sc.m_tiles, 1u);
  EXPECT_EQ(sc.m_cols, 40u);
  EXPECT_FALSE(sc.m_split());
  const uint64_t R = 8, C = 8, folds = 12 * 7;
  const LayerStats st = run_cycle_and_fast(c, a, "is");
  EXPECT_EQ(st.folds, folds);
  EXPECT_EQ(st.cycles.weight_load, folds * R);
  EXPECT_EQ(st.cycles.compute, folds * 40);
  EXPECT_EQ(st.cycles.drain, folds * (R + C - 1));
  EXPECT_EQ(st.cycles.output, 49u * 5);  // 40 channels through the output stage's 8 lanes
  EXPECT_EQ(st.decodes, 90u * 40 * 7);   // each weight once per pixel tile
  EXPECT_EQ(st.macs, 49u * 90 * 40);
}

// The same layer with an output buffer that holds one output row of only 24
// channels' partial sums (7 x 24 x 6 bytes): the m-range is split into m-ranges of
// 24 and 16 filters (whole array m-tiles), each reading the input again.
TEST(InputStationary, SplitsTheMRangeWhereTheOutputBufferCannotHoldIt) {
  LayerSpec s;
  s.name = "is";
  s.in_c = 10, s.in_h = s.in_w = 9, s.kh = s.kw = 3, s.out_m = 40;
  ArchConfig a;
  a.rows = a.cols = 8;
  a.dataflow = Dataflow::InputStationary;
  a.output_buffer.capacity_bytes = 7 * 24 * static_cast<uint64_t>(acc_bytes(a));
  const LayerCase c = layer_case(s, a, 21);
  const LayerDescriptor d = compile_network(c.q, a).layers[0].desc;
  const Schedule sc = make_schedule(d, a);
  EXPECT_TRUE(sc.m_split());
  EXPECT_EQ(sc.m_cols, 24u);
  EXPECT_EQ(sc.m_tiles, 2u);
  EXPECT_EQ(sc.tile_cols(1), 16u);
  EXPECT_EQ(sc.band_rows, 1u);
  const LayerStats st = run_cycle_and_fast(c, a, "is split");
  const uint64_t folds_per_range = 12 * 7;  // one row per band: 7 bands of one 7-pixel tile
  EXPECT_EQ(st.folds, 2 * folds_per_range);
  EXPECT_EQ(st.cycles.compute, folds_per_range * (24 + 16));
  EXPECT_EQ(st.cycles.weight_load, 2 * folds_per_range * 8);
  // ws and os keep C-wide m-tiles whatever the buffers.
  for (Dataflow f : {Dataflow::WeightStationary, Dataflow::OutputStationary}) {
    ArchConfig b = a;
    b.dataflow = f;
    EXPECT_EQ(make_schedule(d, b).m_cols, 8u) << to_string(f);
    EXPECT_FALSE(make_schedule(d, b).m_split()) << to_string(f);
  }
}

// The weight buffer limits the m-range too: R x m_cols weights (two loads
// when double buffered) must fit.
TEST(InputStationary, SplitsTheMRangeWhereTheWeightBufferCannotHoldIt) {
  LayerSpec s;
  s.name = "is";
  s.in_c = 10, s.in_h = s.in_w = 9, s.kh = s.kw = 3, s.out_m = 40;
  ArchConfig a;
  a.rows = a.cols = 8;
  a.dataflow = Dataflow::InputStationary;
  a.double_buffer_weights = true;
  a.weight_buffer.capacity_bytes = 2 * 3 * weight_tile_bytes(8, 8, a);  // two loads of three array m-tiles
  const LayerCase c = layer_case(s, a, 22);
  const LayerDescriptor d = compile_network(c.q, a).layers[0].desc;
  const Schedule sc = make_schedule(d, a);
  EXPECT_EQ(sc.m_cols, 24u);
  EXPECT_EQ(sc.m_tiles, 2u);
  run_cycle_and_fast(c, a, "is weight-limited");
}
