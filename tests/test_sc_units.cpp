// Tier 2: the weight decoder and the AE as clocked SystemC blocks, alone and
// chained (BRSLOG.md sections 3, 6 and 8), against the pure numerics and an
// independent 128-bit reference. Each test elaborates its own testbench.
#include <gtest/gtest.h>

#include <systemc>

#include <functional>
#include <random>
#include <string>
#include <vector>

#include "popcount.h"
#include "asan_main_stack.h"
#include "brslog.h"
#include "config_error.h"
#include "datapath.h"
#include "errors.h"
#include "sc_arithmetic_element.h"
#include "sc_kernel.h"
#include "sc_weight_decoder.h"
#include "sqrt2.h"

using namespace brsim;
using sc_core::sc_time;
using sc_core::SC_NS;

namespace {

// Mismatches found inside the simulation, reported by the test body after
// sc_start (no gtest assertions inside SystemC processes).
struct Mismatches {
  uint64_t count = 0;
  std::string first;
  void add(const std::string& m) {
    if (count++ < 8) first += m + "\n";
  }
};

// Runs the bench's driver to completion: the driver pauses the kernel when done.
// The bound only stops a broken driver from running forever.
template <class Bench>
void run(Bench& tb, uint64_t max_cycles) {
  sc_core::sc_start(sc_time(2.0 * static_cast<double>(max_cycles + 16), SC_NS));
  brsim::asan_restore_main_stack();  // back on sc_main's stack (asan_main_stack.h)
  EXPECT_TRUE(tb.finished) << "the driver did not finish within " << max_cycles << " cycles";
}

// Common testbench skeleton: a 2 ns clock and a driver thread running
// `body`, which steps with cycle() (the next falling edge, so the driver never
// races the DUT's rising-edge sampling) or rise() (the next rising edge).
struct BenchBase : sc_core::sc_module {
  sc_core::sc_clock clk{"clk", sc_time(2, SC_NS)};
  std::function<void()> body;
  bool finished = false;
  bool stop_when_done = true;  // end the simulation after body (one bench per simulation)

  SC_HAS_PROCESS(BenchBase);
  explicit BenchBase(sc_core::sc_module_name n) : sc_core::sc_module(n) { SC_THREAD(driver); }
  void cycle() { sc_core::wait(clk.negedge_event()); }
  void rise() { sc_core::wait(clk.posedge_event()); }
  void driver() {
    cycle();
    body();
    finished = true;
    if (stop_when_done) sc_core::sc_pause();  // sc_start returns (quietly, unlike sc_stop)
  }
};

// ---------------------------------------------------------------- decoder --

struct DecoderBench : BenchBase {
  sc_core::sc_signal<bool> valid{"valid"}, out_valid{"out_valid"}, zero{"zero"}, sign{"sign"}, flag{"flag"};
  sc_core::sc_signal<sc_dt::sc_uint<8>> code{"code"};
  sc_core::sc_signal<sc_dt::sc_uint<6>> shift{"shift"};
  WeightDecoder dut;
  DecodedWeight held{false, false, 0, 0};  // the data registers' expected content (reset: all 0)

  DecoderBench(sc_core::sc_module_name n, const SegmentConfig& seg, const DatapathConfig& dp)
      : BenchBase(n), dut("dut", seg, dp) {
    dut.clk(clk);
    dut.in_valid(valid);
    dut.in_code(code);
    dut.out_valid(out_valid);
    dut.out_zero(zero);
    dut.out_sign(sign);
    dut.out_flag(flag);
    dut.out_shift(shift);
  }
  // One cycle: drive, then one cycle later check the registered outputs
  // against `expected` (the decode of the driven word) or, when not valid,
  // against the held registers.
  void step(bool v, uint32_t c, const DecodedWeight& expected, Mismatches& mm) {
    valid.write(v);
    code.write(c);
    cycle();
    if (v) held = expected;
    const DecodedWeight got{zero.read(), sign.read(), static_cast<uint8_t>(shift.read().to_uint()),
                            static_cast<uint8_t>(flag.read())};
    if (out_valid.read() != v || !(got == held))
      mm.add("code " + std::to_string(c) + " valid " + std::to_string(v) + " under " + to_string(dut.segment()) +
             " bits " + std::to_string(dut.segment().bits) + ": got zero/sign/shift/flag " +
             std::to_string(got.zero) + std::to_string(got.sign) + "/" + std::to_string(got.shift) + "/" +
             std::to_string(got.flag) + " out_valid " + std::to_string(out_valid.read()));
  }
};

TEST(ScWeightDecoder, EveryCodeOfEveryConfigurationOneCycleLater) {
  reset_systemc_kernel();
  // Wide shift field and accumulator, 2-bit activations: as many segment
  // configurations as possible are realizable (the count is checked below).
  const DatapathConfig dp{2, 64, 6, 1};
  DecoderBench tb("tb", SegmentConfig{}, dp);
  Mismatches mm;
  std::mt19937_64 rng(31);
  uint64_t decodes = 0, configs = 0, skipped = 0, refused_ok = 0;
  tb.body = [&] {
    for (int bits = kMinWeightBits; bits <= kMaxWeightBits; ++bits) {
      for (int n2 = 0; n2 <= num_levels(bits); ++n2) {
        for (int p = 0; p <= 1; ++p) {
          const SegmentConfig seg{bits, n2, p, -3};
          if (!realizable(seg, dp)) {
            ++skipped;  // the block must refuse what the datapath cannot realize
            try {
              tb.dut.configure(seg, dp);
            } catch (const ConfigError&) {
              ++refused_ok;
            }
            continue;
          }
          // Drain one cycle (in_valid low, garbage on the bus), then write the register.
          tb.step(false, static_cast<uint32_t>(rng() & 0xff), {}, mm);
          tb.dut.configure(seg, dp);
          ++configs;
          for (uint32_t c = 0; c < (1u << bits); ++c) {
            if (rng() % 11 == 0)  // a bubble (garbage on the bus): the outputs must hold
              tb.step(false, static_cast<uint32_t>(rng() & 0xff), {}, mm);
            tb.step(true, c, decode(c, seg), mm);
            ++decodes;
          }
        }
      }
    }
  };
  run(tb, 200000);
  EXPECT_EQ(mm.count, 0u) << mm.first;
  EXPECT_EQ(tb.dut.decodes(), decodes);
  EXPECT_EQ(tb.dut.reconfigurations(), configs);
  EXPECT_EQ(refused_ok, skipped);
  // Every split was either streamed or refused: sum over N of 2 (L + 1).
  EXPECT_EQ(configs + skipped, 2u * (4 + 8 + 16 + 32 + 64 + 128));
  // Realizable: every 3..6-bit split (120); 125 of the 128 7-bit splits (the
  // three whose largest shift is 62 would need a 65-bit accumulator); no 8-bit
  // split (127 levels span at least 63 octaves: shift 63, a 2^64 product).
  EXPECT_EQ(configs, 245u);
}

TEST(ScWeightDecoder, ReconfigurationBetweenStreamsChangesTheResult) {
  reset_systemc_kernel();
  const DatapathConfig dp;  // section 6 defaults
  const SegmentConfig a{5, 4, 0, -8}, b{5, 12, 1, -8};
  DecoderBench tb("tb", a, dp);
  Mismatches mm;
  int changed = 0, busy_reports = 0;
  SegmentConfig seg_after_busy;
  tb.body = [&] {
    for (const SegmentConfig& seg : {a, b}) {
      if (seg != a) {
        tb.step(false, 0, {}, mm);  // drain, then the register write
        tb.dut.configure(seg, dp);
      }
      for (uint32_t c = 0; c < 32; ++c) tb.step(true, c, decode(c, seg), mm);
    }
    for (uint32_t c = 0; c < 32; ++c) changed += !(decode(c, a) == decode(c, b));
    // A write while a word is on the bus (in_valid high) is refused.
    tb.valid.write(true);
    tb.cycle();
    try {
      tb.dut.configure(a, dp);
    } catch (const sc_core::sc_report& r) {
      busy_reports += std::string(r.get_msg_type()) == kWeightDecoderMsgId;
    }
    seg_after_busy = tb.dut.segment();
  };
  run(tb, 200);
  EXPECT_EQ(mm.count, 0u) << mm.first;
  EXPECT_GT(changed, 10);  // the two splits really decode differently
  EXPECT_EQ(busy_reports, 1);
  EXPECT_EQ(seg_after_busy, b);
  EXPECT_EQ(tb.dut.reconfigurations(), 1u);
  EXPECT_EQ(tb.dut.decodes(), 64u + 1u);
}

// -------------------------------------------------------------------- AE --

// The section 6 product in 128 bits from BRSLOG.md's table of c_K / 2^q_K,
// independent of sqrt2_approx() and ae_product().
__int128 reference_product(int64_t a, const DecodedWeight& d, int k) {
  static const int64_t c_table[] = {0, 1, 3, 23, 91, 181, 11585};
  static const int q_table[] = {0, 0, 1, 4, 6, 7, 13};
  if (d.zero) return 0;
  const __int128 one = 1;
  const __int128 v = d.flag ? static_cast<__int128>(a) * c_table[k] * (one << d.shift)
                            : static_cast<__int128>(a) * (one << (q_table[k] + d.shift));
  return d.sign ? -v : v;
}

__int128 acc_hi(int bits) { return (static_cast<__int128>(1) << (bits - 1)) - 1; }
__int128 acc_lo(int bits) { return -(static_cast<__int128>(1) << (bits - 1)); }

// Two's complement wrap by modular arithmetic (not the shift-and-mask of wrap_to_bits).
int64_t reference_wrap(__int128 v, int bits) {
  const __int128 m = static_cast<__int128>(1) << bits;
  __int128 r = v % m;
  if (r < 0) r += m;
  if (r > acc_hi(bits)) r -= m;
  return static_cast<int64_t>(r);
}

struct AeBench : BenchBase {
  sc_core::sc_signal<bool> valid{"valid"}, zero{"zero"}, sign{"sign"}, flag{"flag"}, out_valid{"out_valid"};
  sc_core::sc_signal<sc_dt::sc_int<32>> act{"act"};
  sc_core::sc_signal<sc_dt::sc_uint<6>> shift{"shift"};
  sc_core::sc_signal<sc_dt::sc_int<16>> fixed{"fixed"};
  sc_core::sc_signal<sc_dt::sc_int<64>> psum_in{"psum_in"}, psum_out{"psum_out"};
  ArithmeticElement dut;
  int64_t held = 0;
  uint64_t expected_overflows = 0;

  AeBench(sc_core::sc_module_name n, const DatapathConfig& dp, bool fixed16)
      : BenchBase(n), dut("dut", dp, fixed16) {
    dut.clk(clk);
    dut.in_valid(valid);
    dut.act(act);
    dut.w_zero(zero);
    dut.w_sign(sign);
    dut.w_flag(flag);
    dut.w_shift(shift);
    dut.w_fixed(fixed);
    dut.psum_in(psum_in);
    dut.out_valid(out_valid);
    dut.psum_out(psum_out);
  }
  // One MAC: drive, then one cycle later check psum_out against the
  // reference for the active mode (BRSLog with K, or fixed16).
  void mac(bool v, int64_t a, const DecodedWeight& d, int16_t wq, int64_t psum, Mismatches& mm) {
    valid.write(v);
    act.write(a);
    zero.write(d.zero);
    sign.write(d.sign);
    flag.write(d.flag != 0);
    shift.write(d.shift);
    fixed.write(wq);
    psum_in.write(psum);
    const DatapathConfig& dp = dut.datapath();
    const __int128 s = psum + (dut.fixed16() ? static_cast<__int128>(a) * wq : reference_product(a, d, dp.sqrt2_terms));
    cycle();
    if (v) {
      held = reference_wrap(s, dp.acc_bits);
      expected_overflows += (s > acc_hi(dp.acc_bits) || s < acc_lo(dp.acc_bits));
    }
    if (out_valid.read() != v || psum_out.read().to_int64() != held)
      mm.add(std::string(dut.fixed16() ? "fixed16" : "brslog K=" + std::to_string(dp.sqrt2_terms)) + " a " +
             std::to_string(a) + " zero/sign/shift/flag " + std::to_string(d.zero) + std::to_string(d.sign) + "/" +
             std::to_string(d.shift) + "/" + std::to_string(d.flag) + " w_q " + std::to_string(wq) + " psum_in " +
             std::to_string(psum) + ": psum_out " + std::to_string(psum_out.read().to_int64()) + " expected " +
             std::to_string(held) + " out_valid " + std::to_string(out_valid.read()));
  }
  // Drain one cycle, then write the configuration register.
  void reconfigure(const DatapathConfig& dp, bool fixed16, Mismatches& mm) {
    mac(false, 0, {}, 0, 0, mm);
    dut.configure(dp, fixed16);
  }
};

std::vector<int64_t> edge_and_random_activations(int act_bits, std::mt19937_64& rng, int n_random) {
  const int64_t lo = act_min(act_bits), hi = act_max(act_bits);
  std::vector<int64_t> v = {0, 1, -1, lo, hi};
  std::uniform_int_distribution<int64_t> dist(lo, hi);
  for (int i = 0; i < n_random; ++i) v.push_back(dist(rng));
  return v;
}

TEST(ScArithmeticElement, EveryCodeTimesEveryKTimesEdgeAndRandomActivations) {
  reset_systemc_kernel();
  AeBench tb("tb", DatapathConfig{}, false);
  Mismatches mm;
  std::mt19937_64 rng(7);
  AeCounters want;
  tb.body = [&] {
    for (int k = 1; k <= 6; ++k) {
      const DatapathConfig dp{16, 48, 4, k};
      tb.reconfigure(dp, false, mm);
      ++want.reconfigurations;
      std::uniform_int_distribution<int64_t> psum(act_min(48), act_max(48));
      for (int n2 = 0; n2 <= 15; ++n2) {
        for (int p = 0; p <= 1; ++p) {
          const SegmentConfig seg{5, n2, p, -10};
          for (uint32_t code = 0; code < 32; ++code) {
            const DecodedWeight d = decode(code, seg);
            for (int64_t a : edge_and_random_activations(16, rng, 3)) {
              if (rng() % 13 == 0) tb.mac(false, a, d, 0, psum(rng), mm);  // bubble: psum_out holds
              tb.mac(true, a, d, 0, psum(rng), mm);
              ++(d.zero ? want.ops_zero : d.flag ? want.ops_sqrt2 : want.ops_base2);
            }
          }
        }
      }
    }
  };
  run(tb, 80000);
  EXPECT_EQ(mm.count, 0u) << mm.first;
  const AeCounters& got = tb.dut.counters();
  EXPECT_EQ(got.ops_sqrt2, want.ops_sqrt2);
  EXPECT_EQ(got.ops_base2, want.ops_base2);
  EXPECT_EQ(got.ops_zero, want.ops_zero);
  EXPECT_EQ(got.fixed16_mults, 0u);
  EXPECT_EQ(got.reconfigurations, want.reconfigurations);
  EXPECT_EQ(got.overflows, tb.expected_overflows);
}

TEST(ScArithmeticElement, OverflowsCountedExactlyAtTheAccumulatorBoundary) {
  reset_systemc_kernel();
  // A 24-bit accumulator: only shift-limited splits are realizable.
  AeBench tb("tb", DatapathConfig{16, 24, 4, 1}, false);
  Mismatches mm;
  std::mt19937_64 rng(11);
  int limits_ok = 0, kinds = 0;
  std::string k6_error;
  uint64_t wrapped_high = 0, wrapped_low = 0;
  const int64_t hi = act_max(24), lo = act_min(24);
  tb.body = [&] {
    // K = 6 (c_6 = 11585) needs 30 bits for even a shift-0 product: refused.
    tb.mac(false, 0, {}, 0, 0, mm);
    try {
      tb.dut.configure(DatapathConfig{16, 24, 4, 6}, false);
    } catch (const ConfigError& e) {
      k6_error = e.what();
    }
    for (int k = 1; k <= 5; ++k) {
      const DatapathConfig dp{16, 24, 4, k};
      tb.reconfigure(dp, false, mm);
      // The AE's shift limit: the largest s with 2^15 max(c_K, 2^q_K) 2^s < 2^23.
      int s = 0;
      while (reference_product(act_min(16), {false, true, static_cast<uint8_t>(s + 1), 1}, k) <= acc_hi(24) &&
             reference_product(act_min(16), {false, true, static_cast<uint8_t>(s + 1), 0}, k) <= acc_hi(24))
        ++s;
      limits_ok += tb.dut.shift_limit() == s;
      for (int bits = 3; bits <= 5; ++bits) {
        for (int n2 = 0; n2 <= num_levels(bits); ++n2) {
          for (int p = 0; p <= 1; ++p) {
            const SegmentConfig seg{bits, n2, p, 0};
            if (!realizable(seg, dp)) continue;
            ++kinds;
            for (uint32_t code = 0; code < (1u << bits); ++code) {
              const DecodedWeight d = decode(code, seg);
              for (int64_t a : edge_and_random_activations(16, rng, 1)) {
                const __int128 prod = reference_product(a, d, k);
                // Partial sums exactly at, and one past, each end of the range.
                for (__int128 target : {__int128{hi}, __int128{hi} + 1, __int128{lo}, __int128{lo} - 1}) {
                  const __int128 psum = target - prod;
                  if (psum < lo || psum > hi) continue;
                  wrapped_high += target > hi;
                  wrapped_low += target < lo;
                  tb.mac(true, a, d, 0, static_cast<int64_t>(psum), mm);
                }
              }
            }
          }
        }
      }
    }
  };
  run(tb, 200000);
  EXPECT_EQ(mm.count, 0u) << mm.first;
  EXPECT_NE(k6_error.find("acc_bits >= 30 would work"), std::string::npos) << k6_error;
  EXPECT_EQ(limits_ok, 5);
  EXPECT_GT(kinds, 5);
  EXPECT_GT(wrapped_high, 100u);
  EXPECT_GT(wrapped_low, 100u);
  EXPECT_EQ(tb.expected_overflows, wrapped_high + wrapped_low);
  EXPECT_EQ(tb.dut.counters().overflows, wrapped_high + wrapped_low);
}

TEST(ScArithmeticElement, Fixed16ModeMultipliesAndSwitchesBack) {
  reset_systemc_kernel();
  // acc_bits = A + 16, the narrowest that holds (-2^15) x (-2^15).
  const DatapathConfig dp{16, 32, 4, 4};
  AeBench tb("tb", dp, true);
  Mismatches mm;
  std::mt19937_64 rng(5);
  uint64_t mults = 0, brslog_ops = 0;
  bool brslog_ok = false;
  tb.body = [&] {
    std::uniform_int_distribution<int64_t> psum(act_min(32), act_max(32));
    std::vector<int64_t> weights = edge_and_random_activations(16, rng, 12);
    for (int64_t w : weights) {
      for (int64_t a : edge_and_random_activations(16, rng, 12)) {
        // Decoded-weight inputs carry garbage: fixed16 mode ignores them.
        const DecodedWeight junk{false, (rng() & 1) != 0, static_cast<uint8_t>(rng() % 16), 1};
        for (int64_t ps : {psum(rng), act_max(32), act_min(32)}) {
          tb.mac(true, a, junk, static_cast<int16_t>(w), ps, mm);
          ++mults;
        }
      }
    }
    // Back to BRSLog at the next layer: the same inputs now mean a BRSLog weight
    // (a split whose largest shift, 8, a 32-bit accumulator holds).
    tb.reconfigure(dp, false, mm);
    const SegmentConfig seg{5, 3, 1, 0};
    brslog_ok = realizable(seg, dp);
    for (uint32_t code = 0; code < 32; ++code) {
      tb.mac(true, -1234, decode(code, seg), 32767, 99, mm);
      ++brslog_ops;
    }
  };
  run(tb, 20000);
  EXPECT_EQ(mm.count, 0u) << mm.first;
  const AeCounters& c = tb.dut.counters();
  EXPECT_EQ(c.fixed16_mults, mults);
  EXPECT_EQ(c.ops_sqrt2 + c.ops_base2 + c.ops_zero, brslog_ops);
  EXPECT_EQ(c.ops(), mults + brslog_ops);
  EXPECT_EQ(c.overflows, tb.expected_overflows);
  EXPECT_GT(c.overflows, 0u);
  EXPECT_EQ(c.reconfigurations, 1u);
  EXPECT_TRUE(brslog_ok);
}

// ----------------------------------------------------------------- chain --

// Decoder -> AE through signals, as a PE wires them; the activation and
// psum arrive one cycle after the code (the PE's activation register).
struct ChainBench : BenchBase {
  sc_core::sc_signal<bool> valid{"valid"}, w_valid{"w_valid"}, zero{"zero"}, sign{"sign"}, flag{"flag"};
  sc_core::sc_signal<bool> out_valid{"out_valid"};
  sc_core::sc_signal<sc_dt::sc_uint<8>> code{"code"};
  sc_core::sc_signal<sc_dt::sc_uint<6>> shift{"shift"};
  sc_core::sc_signal<sc_dt::sc_int<32>> act{"act"};
  sc_core::sc_signal<sc_dt::sc_int<16>> fixed{"fixed"};
  sc_core::sc_signal<sc_dt::sc_int<64>> psum_in{"psum_in"}, psum_out{"psum_out"};
  WeightDecoder dec;
  ArithmeticElement ae;

  ChainBench(sc_core::sc_module_name n, const SegmentConfig& seg, const DatapathConfig& dp)
      : BenchBase(n), dec("dec", seg, dp), ae("ae", dp, false) {
    dec.clk(clk);
    dec.in_valid(valid);
    dec.in_code(code);
    dec.out_valid(w_valid);
    dec.out_zero(zero);
    dec.out_sign(sign);
    dec.out_flag(flag);
    dec.out_shift(shift);
    ae.clk(clk);
    ae.in_valid(w_valid);
    ae.act(act);
    ae.w_zero(zero);
    ae.w_sign(sign);
    ae.w_flag(flag);
    ae.w_shift(shift);
    ae.w_fixed(fixed);
    ae.psum_in(psum_in);
    ae.out_valid(out_valid);
    ae.psum_out(psum_out);
  }
};

TEST(ScUnitChain, DecoderFeedsArithmeticElementLikeAPe) {
  reset_systemc_kernel();
  struct Layer {
    SegmentConfig seg;
    DatapathConfig dp;
  };
  const std::vector<Layer> layers = {{{5, 6, 0, -9}, {16, 48, 4, 4}},
                                     {{5, 11, 1, -7}, {16, 48, 4, 2}},
                                     {{4, 0, 0, -3}, {12, 32, 3, 5}}};
  ChainBench tb("tb", layers[0].seg, layers[0].dp);
  Mismatches mm;
  std::mt19937_64 rng(3);
  uint64_t checked = 0, macs = 0;
  struct Item {
    bool valid;
    uint32_t code;
    int64_t a, psum;
  };
  tb.body = [&] {
    tb.rise();  // this driver works on rising edges, as the PE array's feeder will
    for (size_t li = 0; li < layers.size(); ++li) {
      const Layer& l = layers[li];
      if (li > 0) {  // the stream has drained: write both configuration registers
        tb.dec.configure(l.seg, l.dp);
        tb.ae.configure(l.dp, false);
      }
      const Sqrt2Approx approx = sqrt2_approx(l.dp.sqrt2_terms);
      std::uniform_int_distribution<int64_t> act(act_min(l.dp.act_bits), act_max(l.dp.act_bits));
      std::uniform_int_distribution<int64_t> psum(act_min(l.dp.acc_bits - 2), act_max(l.dp.acc_bits - 2));
      std::vector<Item> items;
      for (int i = 0; i < 600; ++i)
        items.push_back({rng() % 7 != 0, static_cast<uint32_t>(rng() % (1u << l.seg.bits)), act(rng), psum(rng)});
      int64_t held = tb.psum_out.read().to_int64();
      // Edge i: code of item i in; activation and psum of item i-1 in (its
      // decoded weight is on the wires now); read the AE's output of item i-3.
      for (size_t i = 0; i < items.size() + 3; ++i) {
        tb.valid.write(i < items.size() && items[i].valid);
        tb.code.write(i < items.size() ? items[i].code : 0);
        if (i >= 1 && i - 1 < items.size()) {
          tb.act.write(items[i - 1].a);
          tb.psum_in.write(items[i - 1].psum);
        }
        if (i >= 3) {
          const Item& it = items[i - 3];
          if (it.valid) {
            const int64_t p = ae_product(it.a, decode(it.code, l.seg), approx);
            held = wrap_to_bits(static_cast<__int128>(it.psum) + p, l.dp.acc_bits);
            ++macs;
          }
          ++checked;
          if (tb.out_valid.read() != it.valid || tb.psum_out.read().to_int64() != held)
            mm.add("layer " + std::to_string(li) + " item " + std::to_string(i - 3) + " code " +
                   std::to_string(it.code) + " a " + std::to_string(it.a) + ": psum_out " +
                   std::to_string(tb.psum_out.read().to_int64()) + " expected " + std::to_string(held));
        }
        tb.rise();
      }
    }
  };
  run(tb, 3000);
  EXPECT_EQ(mm.count, 0u) << mm.first;
  EXPECT_EQ(checked, 3u * 600u);
  EXPECT_EQ(tb.dec.decodes(), macs);
  EXPECT_EQ(tb.ae.counters().ops(), macs);
  EXPECT_EQ(tb.dec.reconfigurations(), 2u);
  EXPECT_EQ(tb.ae.counters().reconfigurations, 2u);
  EXPECT_EQ(tb.ae.counters().overflows, 0u);
}

// ------------------------------------------------------- bad configurations --

using brsim_test::config_error;  // tests/config_error.h

// EXPECT_HAS(message, part): gtest without gmock.
#define EXPECT_HAS(message, part)                                          \
  do {                                                                     \
    const std::string m_ = (message);                                      \
    EXPECT_NE(m_.find(part), std::string::npos) << "message: " << m_;      \
  } while (0)

TEST(ScUnitConfig, BadConfigurationsAreRefusedWithAClearMessage) {
  reset_systemc_kernel();
  const DatapathConfig dp;
  DatapathConfig k0 = dp;
  k0.sqrt2_terms = 0;
  WeightDecoder dec("dec", SegmentConfig{5, 3, 0, 0}, dp);
  ArithmeticElement ae("ae", dp, false);
  // 6-bit codes with 31 base-2 levels shift by 30: a 4-bit shift field cannot.
  EXPECT_HAS(config_error([&] { dec.configure({6, 31, 0, 0}, dp); }),
             "4-bit shift field (max 15); shift_bits >= 5 would work");
  EXPECT_HAS(config_error([&] { dec.configure({5, 0, 0, 0}, DatapathConfig{16, 24, 4, 4}); }),
             "24-bit accumulator; acc_bits >= 30 would work");
  EXPECT_HAS(config_error([&] { dec.configure({5, 16, 0, 0}, dp); }), "invalid n2 16");
  EXPECT_HAS(config_error([&] { dec.configure({5, 3, 0, 0}, k0); }), "invalid sqrt2_terms (K) 0");
  EXPECT_HAS(config_error([&] { WeightDecoder bad("bad", SegmentConfig{7, 63, 1, 0}, dp); }),
             "shift_bits >= 6 would work");
  EXPECT_EQ(dec.segment(), (SegmentConfig{5, 3, 0, 0}));  // refused writes change nothing
  EXPECT_EQ(dec.reconfigurations(), 0u);

  EXPECT_HAS(config_error([&] { ae.configure(k0, false); }), "invalid sqrt2_terms (K) 0");
  EXPECT_HAS(config_error([&] { ae.configure(DatapathConfig{16, 31, 4, 4}, true); }),
             "acc_bits >= 32 would hold its largest product");
  EXPECT_HAS(config_error([&] { ae.configure(DatapathConfig{16, 20, 4, 4}, false); }),
             "acc_bits >= 23 would work");
  EXPECT_HAS(config_error([&] { ArithmeticElement bad("bad", k0, false); }), "(K) 0");
  EXPECT_EQ(ae.datapath().acc_bits, 48);
  EXPECT_EQ(ae.counters().reconfigurations, 0u);
}

// Inputs no correct upstream block produces are SC_ERRORs with the block's
// message id, never silently computed; with the action set to do nothing,
// the op is dropped (out_valid low) and the error still counted.
TEST(ScUnitProtocol, OutOfRangeInputsAreReportedAndDropped) {
  reset_systemc_kernel();
  using sc_core::sc_report_handler;
  sc_report_handler::set_actions(kWeightDecoderMsgId, sc_core::SC_ERROR, sc_core::SC_DO_NOTHING);
  sc_report_handler::set_actions(kArithmeticElementMsgId, sc_core::SC_ERROR, sc_core::SC_DO_NOTHING);
  const int dec0 = sc_report_handler::get_count(kWeightDecoderMsgId);
  const int ae0 = sc_report_handler::get_count(kArithmeticElementMsgId);
  DecoderBench dtb("dtb", SegmentConfig{5, 3, 0, 0}, DatapathConfig{});
  AeBench atb("atb", DatapathConfig{16, 24, 4, 4}, false);
  std::vector<bool> dec_dropped, ae_dropped;
  Mismatches mm;  // the reference does not model dropping: its complaints are ignored here
  dtb.stop_when_done = false;  // atb's driver ends the simulation
  dtb.body = [&] {
    dtb.step(true, 40, {}, mm);  // does not fit 5 bits
    dec_dropped.push_back(!dtb.out_valid.read());
    dtb.step(true, 9, decode(9, dtb.dut.segment()), mm);
    dec_dropped.push_back(!dtb.out_valid.read());
    dtb.step(false, 0, {}, mm);
  };
  atb.body = [&] {
    atb.mac(true, 40000, {false, false, 0, 0}, 0, 0, mm);             // activation beyond 16 bits
    ae_dropped.push_back(!atb.out_valid.read());
    atb.mac(true, 1, {false, false, 0, 0}, 0, int64_t{1} << 23, mm);  // psum_in beyond 24 bits
    ae_dropped.push_back(!atb.out_valid.read());
    atb.mac(true, 1, {false, false, 2, 0}, 0, 0, mm);                 // shift 2 > limit 1 at K = 4
    ae_dropped.push_back(!atb.out_valid.read());
    atb.mac(true, 1, {true, false, 0, 0}, 0, 0, mm);                  // a legal zero op; in_valid stays high
    ae_dropped.push_back(!atb.out_valid.read());
    atb.dut.configure(DatapathConfig{16, 24, 4, 1}, false);           // busy: the write is dropped
    ae_dropped.push_back(atb.dut.datapath().sqrt2_terms == 4);
  };
  sc_core::sc_start(sc_time(40, SC_NS));
  brsim::asan_restore_main_stack();
  sc_report_handler::set_actions(kWeightDecoderMsgId, sc_core::SC_ERROR, sc_core::SC_UNSPECIFIED);
  sc_report_handler::set_actions(kArithmeticElementMsgId, sc_core::SC_ERROR, sc_core::SC_UNSPECIFIED);
  EXPECT_TRUE(dtb.finished && atb.finished);
  EXPECT_EQ(dec_dropped, (std::vector<bool>{true, false}));
  EXPECT_EQ(ae_dropped, (std::vector<bool>{true, true, true, false, true}));
  EXPECT_EQ(sc_report_handler::get_count(kWeightDecoderMsgId) - dec0, 1);
  EXPECT_EQ(sc_report_handler::get_count(kArithmeticElementMsgId) - ae0, 4);
  EXPECT_EQ(dtb.dut.decodes(), 1u);
  EXPECT_EQ(atb.dut.counters().ops(), 1u);
  EXPECT_EQ(atb.dut.counters().ops_zero, 1u);
}

}  // namespace

#if BRSIM_X86
// The fast mode's carry-save bit counter (popcount.h) against scalar
// popcounts: random vectors, and runs of all-ones and sign-only vectors
// that carry through every plane.
namespace {
struct ScalarCounts {
  uint64_t pop = 0, sign = 0;
};
__attribute__((target("avx2"))) void csa_count(const std::vector<uint32_t>& lanes, uint64_t* pop, uint64_t* sign) {
  brsim::CsaCounter c;
  size_t i = 0;
  for (size_t b = 0; b < lanes.size() / 128; ++b)
    c.add16([&]() __attribute__((target("avx2"))) {
      const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(&lanes[i]));
      i += 8;
      return v;
    });
  c.totals(pop, sign);
}
}  // namespace

TEST(Avx2Popcount, CarrySaveCounterMatchesScalarPopcounts) {
  if (!__builtin_cpu_supports("avx2")) GTEST_SKIP() << "no AVX2 on this host";
  std::mt19937 rng(7);
  for (int pattern = 0; pattern < 4; ++pattern)
    for (size_t blocks : {size_t{1}, size_t{3}, size_t{17}, size_t{200}}) {
      std::vector<uint32_t> lanes(blocks * 128);
      for (uint32_t& x : lanes) x = pattern == 0 ? rng() : pattern == 1 ? ~0u : pattern == 2 ? 0x80000000u : rng() & rng();
      ScalarCounts want;
      for (uint32_t x : lanes) want.pop += static_cast<uint64_t>(__builtin_popcount(x)), want.sign += x >> 31;
      uint64_t pop = 5, sign = 3;  // totals() adds to what is there
      csa_count(lanes, &pop, &sign);
      EXPECT_EQ(pop, want.pop + 5) << "pattern " << pattern << ", " << blocks << " blocks";
      EXPECT_EQ(sign, want.sign + 3) << "pattern " << pattern << ", " << blocks << " blocks";
    }
}
#endif  // BRSIM_X86
