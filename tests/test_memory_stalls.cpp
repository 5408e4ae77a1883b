// The memory system: SRAM word counts and capacity, DRAM back-pressure as
// stall cycles, double-buffered weights and activations, and stalls as
// bandwidth and buffer sizes change, against the closed form.
#include <gtest/gtest.h>

#include <random>

#include "accel_case.h"
#include "config_error.h"

using namespace brsim;
using namespace brsim_test;

TEST(Accelerator, RandomDramBackPressureKeepsResultsExactAndShowsAsStalls) {
  std::mt19937_64 rng(99);
  for (int t = 0; t < 8; ++t) {
    LayerSpec s;
    s.name = "bp" + std::to_string(t);
    s.in_c = 3 + t, s.in_h = 9, s.in_w = 7, s.kh = s.kw = 3, s.pad = 1, s.out_m = 5 + 3 * t;
    ArchConfig a;
    a.rows = 4 + t, a.cols = 6;
    if (t % 2) a.output_buffer.capacity_bytes = 2048;  // several bands
    const LayerCase l = layer_case(s, a, 500 + static_cast<uint64_t>(t));
    uint64_t extra = 0;
    const uint64_t seed = rng();
    const AccelRunResult r = run_accelerator(
        l.prog, l.qin, &l.expected, nullptr, true, [&](Accelerator& acc) { acc.dram.set_backpressure(seed, 37); },
        [&](Accelerator& acc) { extra = acc.dram.backpressure_cycles(); });
    ASSERT_TRUE(r.bit_exact) << r.mismatch;
    const LayerCycles& got = r.layers[0].stats.cycles;
    const LayerCycles& cf = r.layers[0].closed_form;
    EXPECT_GT(extra, 0u);
    EXPECT_EQ(got.stall, cf.stall + extra);  // every extra DRAM cycle is a stall cycle
    EXPECT_EQ(got.weight_load, cf.weight_load);
    EXPECT_EQ(got.compute, cf.compute);
    EXPECT_EQ(got.drain, cf.drain);
    EXPECT_EQ(got.output, cf.output);
  }
}

TEST(Sram, CountsWordsOfItsWidthAndRefusesOverCapacity) {
  Sram s("input_buffer", BufferConfig{1024, 64});
  s.read_bits(64);   // one word
  s.read_bits(65);   // two words
  s.write_bits(16);  // a partial word is a word
  s.write_words(3);
  EXPECT_EQ(s.counters().reads, 3u);
  EXPECT_EQ(s.counters().writes, 4u);
  s.occupy(1000);
  EXPECT_EQ(s.counters().peak_bytes, 1000u);
  EXPECT_EQ(config_error([&] { s.occupy(1025); }), "input_buffer too small: needs 1025 bytes, capacity_bytes is 1024");
  Sram wide("output_buffer", BufferConfig{4096, 256});
  wide.read_bits(48 * 5);  // five 48-bit partial sums in one 256-bit word
  EXPECT_EQ(wide.counters().reads, 1u);
}

TEST(DoubleBufferedWeights, MeetTheClosedFormAndHideWeightLoads) {
  std::mt19937_64 rng(31337);
  auto pick = [&](int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); };
  int cases = 0;
  for (int t = 0; t < 30; ++t) {
    LayerSpec s;
    s.name = "db" + std::to_string(t);
    s.fc = t % 5 == 1;
    s.in_c = s.fc ? pick(20, 300) : pick(2, 16);
    s.out_m = pick(1, 40);
    if (!s.fc) {
      s.kh = s.kw = pick(1, 3), s.in_h = pick(4, 12), s.in_w = pick(4, 12), s.pad = pick(0, s.kh - 1);
    }
    ArchConfig a;
    a.rows = static_cast<int>(pick(2, 16)), a.cols = static_cast<int>(pick(2, 16));
    a.dram.latency_cycles = static_cast<int>(pick(0, 80)), a.dram.bytes_per_cycle = static_cast<int>(pick(1, 32));
    if (t % 3 == 2) a.output_buffer.capacity_bytes = 3072;
    const SyntheticLayer sl = make_synthetic_layer(s, 7000 + static_cast<uint64_t>(t));
    const QuantizedNetwork q = quantize_network(sl.net, sl.formats, brslog_k(4));
    ArchConfig db = a;
    db.double_buffer_weights = true;
    AccelProgram ps, pd;
    try {
      ps = compile_network(q, a);
      pd = compile_network(q, db);
    } catch (const ConfigError&) {
      continue;
    }
    std::vector<ActTensor> qin;
    const auto expected = golden_per_layer(q, pd, {sl.input}, &qin);
    const AccelRunResult rs = run_accelerator(ps, qin, &expected);
    const AccelRunResult rd = run_accelerator(pd, qin, &expected);
    const AccelRunResult rf = run_accelerator(pd, qin, &expected, nullptr, true, kFast);
    ASSERT_TRUE(rs.bit_exact && rd.bit_exact && rf.bit_exact) << s.name;
    EXPECT_EQ(rd.layers[0].stats.cycles, rd.layers[0].closed_form) << s.name;
    expect_same_stats(rf.layers[0].stats, rd.layers[0].stats, s.name + " fast vs cycle, double buffered");
    // Same work, same traffic; only the waiting differs, and never for the worse.
    EXPECT_EQ(rd.layers[0].stats.dram_bytes_read, rs.layers[0].stats.dram_bytes_read);
    EXPECT_EQ(rd.layers[0].stats.cycles.compute, rs.layers[0].stats.cycles.compute);
    EXPECT_LE(rd.layers[0].stats.cycles.stall, rs.layers[0].stats.cycles.stall) << s.name;
    ++cases;
  }
  EXPECT_GE(cases, 20);
}

TEST(MemoryStalls, RiseAsBandwidthFallsAndWeightLoadsHideWhenItIsAmple) {
  LayerSpec s;
  s.in_c = 32, s.in_h = 10, s.in_w = 10, s.kh = s.kw = 3, s.pad = 1, s.out_m = 32;
  const SyntheticLayer sl = make_synthetic_layer(s, 11);
  const QuantizedNetwork q = quantize_network(sl.net, sl.formats, brslog_k(4));
  uint64_t previous = ~0ull;
  for (int bw : {1, 2, 4, 8, 16, 64, 256, 4096}) {
    ArchConfig a;
    a.rows = a.cols = 8;
    a.dram.latency_cycles = 40;
    a.dram.bytes_per_cycle = bw;
    a.double_buffer_weights = true;
    const LayerDescriptor d = compile_network(q, a).layers[0].desc;
    const LayerCycles c = closed_form(d, a);
    EXPECT_LE(c.stall, previous) << bw << " B/cycle";
    if (bw < 64) {
      EXPECT_LT(c.stall, previous) << bw << " B/cycle";
    }
    previous = c.stall;
    if (bw == 4096) {
      // Every weight tile but the first arrives during the previous fold: the
      // stalls left are the serial transfers (parameters, input bands, first
      // tile, outputs), each latency + 1 cycle at this bandwidth.
      ArchConfig serial = a;
      serial.double_buffer_weights = false;
      const Schedule sc = make_schedule(d, a);
      const uint64_t folds = sc.m_tiles * sc.bands * sc.k_tiles;
      EXPECT_EQ(closed_form(d, serial).stall - c.stall, (folds - 1) * (40 + 1));
    }
  }
}

// Double-buffered weights and activations, every dataflow: stalls fall as
// bandwidth rises, and with ample bandwidth the only stalls left are the
// layer's first fetches (parameters, first input band, first weight load)
// and its last write-back; every other transfer hides behind the folds.
TEST(MemoryStalls, NoneButTheFirstFetchAndLastWriteWhenDoubleBufferedWithAmpleBandwidth) {
  {
    LayerSpec s;
    s.name = "conv";
    s.in_c = 12, s.in_h = 12, s.in_w = 12, s.kh = s.kw = 3, s.pad = 1, s.out_m = 20;
    const SyntheticLayer sl = make_synthetic_layer(s, 5);
    const QuantizedNetwork q = quantize_network(sl.net, sl.formats, brslog_k(4));
    for (Dataflow flow : kDataflows) {
      uint64_t previous = ~0ull;
      for (int bw : {1, 2, 4, 16, 64, 4096}) {
        ArchConfig a;
        a.rows = a.cols = 8;
        a.dataflow = flow;
        a.dram.latency_cycles = 20;
        a.dram.bytes_per_cycle = bw;
        a.double_buffer_weights = a.double_buffer_activations = true;
        a.output_buffer.capacity_bytes = 6144;  // several bands
        const AccelProgram prog = compile_network(q, a);
        const LayerDescriptor& d = prog.layers[0].desc;
        const Schedule sc = make_schedule(d, a);
        ASSERT_GT(sc.bands, 1u);
        const std::string where = s.name + " " + to_string(flow) + " " + std::to_string(bw) + " B/cycle";
        std::vector<ActTensor> qin;
        const auto expected = golden_per_layer(q, prog, {sl.input}, &qin);
        const AccelRunResult r = run_accelerator(prog, qin, &expected);
        ASSERT_TRUE(r.bit_exact) << where << ": " << r.mismatch;
        const LayerCycles& c = r.layers[0].stats.cycles;
        ASSERT_EQ(c, closed_form(d, a)) << where;
        EXPECT_LT(c.stall, previous) << where;
        previous = c.stall;
        if (bw != 4096) continue;
        // Requests on a channel are pipelined: the latency once, then each
        // request's data cycles. First the parameters and the first input band
        // (issued together), then the first weight load; last the final write.
        const uint64_t L = 20;
        auto data = [&](uint64_t bytes) { return dram_cycles(bytes, a.dram) - L; };
        auto data_all = [&](const std::vector<Chunk>& chunks) {
          uint64_t n = 0;
          for (const Chunk& ch : chunks) n += data(ch.bytes);
          return n;
        };
        uint32_t y0, y1;
        band_input_rows(d, 0, sc.band_rows, &y0, &y1);
        const uint64_t first = L + data(sc.tile_cols(0) * kParamBytes) + data_all(input_band_chunks(d, a, y0, y1)) + L +
                               data_all(weight_load_chunks(d, sc, a, 0, 0));  // is: one transfer per array m-tile
        const uint64_t mt = sc.m_tiles - 1, m0 = sc.m0(mt), n = sc.tile_cols(mt);
        const uint32_t oh = d.out_h(), last0 = (sc.bands - 1) * sc.band_rows;
        const uint64_t last =
            L + data_all(output_chunks(d.out_addr, oh, d.out_w(), static_cast<uint32_t>(m0), static_cast<uint32_t>(n), last0, oh, a));
        EXPECT_EQ(c.stall, first + last) << where;
        // Serially the same layer stalls for every transfer.
        ArchConfig serial = a;
        serial.double_buffer_weights = serial.double_buffer_activations = false;
        EXPECT_GT(closed_form(d, serial).stall, 3 * c.stall) << where;
      }
    }
  }
}

// Buffer capacities limit the run: smaller input and output buffers give
// shorter bands, so input halo rows and every weight tile are fetched again
// per band: more DRAM traffic and more stall cycles, in every dataflow.
TEST(MemoryStalls, SmallerBuffersMeanMoreBandsTrafficAndStalls) {
  LayerSpec s;
  s.in_c = 16, s.in_h = s.in_w = 16, s.kh = s.kw = 3, s.pad = 1, s.out_m = 24;
  const SyntheticLayer sl = make_synthetic_layer(s, 9);
  const QuantizedNetwork q = quantize_network(sl.net, sl.formats, brslog_k(4));
  for (Dataflow flow : kDataflows) {
    uint64_t bands = 0, bytes = 0, stall = 0;
    for (uint64_t kib : {64, 8, 4}) {
      ArchConfig a;
      a.rows = a.cols = 8;
      a.dataflow = flow;
      a.input_buffer.capacity_bytes = a.output_buffer.capacity_bytes = kib * 1024;
      const AccelProgram prog = compile_network(q, a);
      std::vector<ActTensor> qin;
      const auto expected = golden_per_layer(q, prog, {sl.input}, &qin);
      const AccelRunResult r = run_accelerator(prog, qin, &expected);
      const std::string where = to_string(flow) + " " + std::to_string(kib) + " KiB";
      ASSERT_TRUE(r.bit_exact) << where << ": " << r.mismatch;
      const LayerStats& st = r.layers[0].stats;
      ASSERT_EQ(st.cycles, r.layers[0].closed_form) << where;
      const uint64_t b = make_schedule(prog.layers[0].desc, a).bands;
      EXPECT_GT(b, bands) << where;
      EXPECT_GT(st.dram_bytes_read, bytes) << where;
      EXPECT_GT(st.cycles.stall, stall) << where;
      bands = b, bytes = st.dram_bytes_read, stall = st.cycles.stall;
    }
  }
}
