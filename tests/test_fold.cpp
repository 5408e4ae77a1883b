// One fold of the PE array, three ways (models/array/fold.h): the pure C++
// fold reference stepping edge by edge, fast mode's engine taking the fold
// at once, and the SystemC PeArray clocking it in simulated time. Random
// folds in every dataflow and PE type, run back to back on one array (the
// registers, and with them the toggles, carry from fold to fold): the
// engine and the SystemC array must give the reference's outputs, edges,
// every registered counter, buffer accesses and final PE registers.
// Also the stats registries (stats.h) the counters are declared in.
#include <gtest/gtest.h>

#include <systemc>

#include <cstdint>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "arch.h"
#include "array_state.h"
#include "asan_main_stack.h"
#include "fast_engine.h"
#include "fold.h"
#include "fold_reference.h"
#include "layer_stats.h"
#include "pe_array.h"
#include "sc_kernel.h"
#include "sram.h"

using namespace brsim;

namespace {

// ------------------------------------------------------- random folds --

struct FoldData {
  FoldJob job;
  std::vector<uint8_t> codes;
  std::vector<int16_t> fixed;
  std::vector<SegmentConfig> cfg;
  std::vector<int32_t> act;
};

ArchConfig arch_for(Dataflow flow, PeType pe, int R, int C, int act_bits) {
  ArchConfig a;
  a.rows = R;
  a.cols = C;
  a.dataflow = flow;
  a.pe = pe;
  a.datapath.act_bits = act_bits;
  return a;
}

// A fold the controller could hand the array: ws and is hold an R' x C'
// tile (is streams C' weight columns past up to C pixels); os streams K'
// rows into up to R pixels x C' columns.
FoldData random_fold(const ArchConfig& a, std::mt19937_64& rng) {
  auto pick = [&](uint64_t lo, uint64_t hi) { return lo + rng() % (hi - lo + 1); };
  const uint64_t R = static_cast<uint64_t>(a.rows), C = static_cast<uint64_t>(a.cols);
  FoldData f;
  FoldJob& j = f.job;
  switch (a.dataflow) {
    case Dataflow::WeightStationary: j.rows = pick(1, R), j.cols = pick(1, C), j.p = pick(1, 40); break;
    case Dataflow::InputStationary: j.rows = pick(1, R), j.cols = pick(1, C), j.p = pick(1, C); break;
    case Dataflow::OutputStationary: j.rows = pick(1, 3 * R), j.cols = pick(1, C), j.p = pick(1, R); break;
  }
  j.p0 = a.dataflow == Dataflow::WeightStationary ? 0 : pick(0, 3);
  j.k0 = pick(0, 2);
  j.act_stride = j.k0 + j.rows + pick(0, 2);
  const int64_t amax = (int64_t{1} << (a.datapath.act_bits - 1)) - 1;
  f.act.resize((j.p0 + j.p) * j.act_stride);
  const bool small = rng() % 2;  // half the folds with small activations (the engine's narrow lanes)
  for (int32_t& x : f.act) x = static_cast<int32_t>(static_cast<int64_t>(rng() % (2 * amax + 1)) - amax) / (small ? 64 : 1);
  if (a.pe == PeType::Fixed16) {
    f.fixed.resize(j.rows * j.cols);
    for (int16_t& w : f.fixed) w = static_cast<int16_t>(rng() % 5 == 0 ? 0 : static_cast<int16_t>(rng()));
    j.fixed = f.fixed.data();
  } else {
    const int bits = a.weight_bits;
    f.cfg.resize(j.cols);
    for (SegmentConfig& s : f.cfg) {
      s.bits = bits;
      s.n2 = static_cast<int>(pick(0, static_cast<uint64_t>(num_levels(bits))));
      s.p = static_cast<int>(rng() % 2);
      s.e_base = -static_cast<int>(pick(4, 12));
    }
    f.codes.resize(j.rows * j.cols);
    for (uint8_t& c : f.codes) c = static_cast<uint8_t>(rng() % (1u << bits));
    j.codes = f.codes.data();
    j.col_cfg = f.cfg.data();
    j.sqrt2_terms = a.datapath.sqrt2_terms;
  }
  j.act = f.act.data();
  return f;
}

uint64_t out_size(const FoldJob& j) { return (j.p0 + j.p) * j.cols; }

// One array's worth of state, driven by the reference or the engine.
struct Rig {
  ArrayState state;
  FoldCounters counters;
  Sram wbuf{"w", {}}, ibuf{"i", {}}, obuf{"o", {}};
  explicit Rig(const ArchConfig& a) : state(ArrayShape(a)) {}
};

std::string counters_diff(const FoldCounters& want, const FoldCounters& got) {
  std::string d;
  for (const StatDef<FoldCounters>& s : fold_stats())
    if (s.get(want) != s.get(got))
      d += std::string(" ") + s.name + " " + std::to_string(s.get(got)) + " (want " + std::to_string(s.get(want)) + ")";
  return d;
}

std::string sram_diff(const Sram& want, const Sram& got) {
  if (want.counters().reads == got.counters().reads && want.counters().writes == got.counters().writes) return "";
  return " " + got.name() + " buffer reads/writes " + std::to_string(got.counters().reads) + "/" +
         std::to_string(got.counters().writes) + " (want " + std::to_string(want.counters().reads) + "/" +
         std::to_string(want.counters().writes) + ")";
}

// The PE registers a trace shows: partial sums, activations, weights.
std::string registers_diff(const ArrayState& want, const ArrayState& got) {
  std::string d;
  if (want.psum != got.psum) d += " psum registers";
  want.sync_weights();
  got.sync_weights();
  if (want.weff != got.weff) d += " weight registers";
  for (int r = 0; r < want.R; ++r)
    for (int c = 0; c < want.C; ++c)
      if (want.act_at(r, c) != got.act_at(r, c)) return d + " activation register (" + std::to_string(r) + "," +
                                                          std::to_string(c) + ")";
  return d;
}

struct Config {
  Dataflow flow;
  PeType pe;
  bool activity;
};

std::string name_of(const Config& c) {
  return to_string(c.flow) + (c.pe == PeType::Fixed16 ? " fixed16" : " brslog") +
         (c.activity ? " with activity" : " without activity");
}

const std::vector<Config>& configs() {
  static const std::vector<Config> all = [] {
    std::vector<Config> v;
    for (Dataflow f : {Dataflow::WeightStationary, Dataflow::InputStationary, Dataflow::OutputStationary})
      for (PeType p : {PeType::BrsLog, PeType::Fixed16})
        for (bool act : {true, false}) v.push_back({f, p, act});
    return v;
  }();
  return all;
}

}  // namespace

// ------------------------------------------------------------ registry --

TEST(StatsRegistry, EveryArrayCounterIsRegisteredOnceWithAUnitAndADescription) {
  const StatSet<FoldCounters>& set = fold_stats();
  EXPECT_EQ(set.size() * sizeof(uint64_t), sizeof(FoldCounters)) << "a FoldCounters member is not in fold_stats()";
  std::set<std::string> names;
  FoldCounters probe;
  std::set<const uint64_t*> members;
  for (const StatDef<FoldCounters>& s : set) {
    EXPECT_TRUE(names.insert(s.name).second) << "duplicate " << s.name;
    EXPECT_STRNE(s.unit, "") << s.name;
    EXPECT_STRNE(s.desc, "") << s.name;
    EXPECT_TRUE(members.insert(&s.ref(probe)).second) << s.name << " refers to a member already registered";
  }
}

TEST(StatsRegistry, EveryLayerCounterIsRegisteredAndTheArraysMapOntoIt) {
  const StatSet<LayerStats>& set = layer_stats();
  EXPECT_EQ(set.size() * sizeof(uint64_t), sizeof(LayerStats)) << "a LayerStats member is not in layer_stats()";
  std::set<std::string> names;
  LayerStats probe;
  std::set<const uint64_t*> members;
  for (const StatDef<LayerStats>& s : set) {
    EXPECT_TRUE(names.insert(s.name).second) << "duplicate " << s.name;
    EXPECT_STRNE(s.unit, "") << s.name;
    EXPECT_STRNE(s.desc, "") << s.name;
    EXPECT_TRUE(members.insert(&s.ref(probe)).second) << s.name;
  }
  for (const StatDef<FoldCounters>& f : fold_stats()) {
    const StatDef<LayerStats>* l = find_stat(set, f.name);
    ASSERT_NE(l, nullptr) << f.name << " has no layer counter";
    EXPECT_STREQ(l->unit, f.unit) << f.name;
  }
}

TEST(StatsRegistry, DifferenceSumAndCopyTouchEveryCounterAndOnlyIt) {
  FoldCounters a, b;
  uint64_t v = 1;
  for (const StatDef<FoldCounters>& s : fold_stats()) s.ref(a) = 1000 * v, s.ref(b) = v++;
  const FoldCounters d = a - b;
  v = 1;
  for (const StatDef<FoldCounters>& s : fold_stats()) EXPECT_EQ(s.get(d), 999 * v++) << s.name;

  LayerStats l;
  l.take_fold_counters(a);
  for (const StatDef<FoldCounters>& s : fold_stats()) EXPECT_EQ(find_stat(layer_stats(), s.name)->get(l), s.get(a));
  // The counters the array does not keep stay as they were.
  EXPECT_EQ(l.cycles.stall, 0u);
  EXPECT_EQ(l.dram_bytes_read, 0u);

  LayerStats x, y;
  v = 1;
  for (const StatDef<LayerStats>& s : layer_stats()) s.ref(x) = v, s.ref(y) = 100 * v++;
  x.add(y);
  v = 1;
  for (const StatDef<LayerStats>& s : layer_stats()) EXPECT_EQ(s.get(x), 101 * v++) << s.name;
}

// --------------------------------------------------- engine vs reference --

TEST(FoldEngines, FastEngineGivesTheReferencesFoldsInEveryDataflow) {
  for (const Config& cfg : configs())
    for (int shape = 0; shape < 3; ++shape) {
      std::mt19937_64 rng(1000 + 10 * shape + static_cast<int>(cfg.flow));
      const int R = shape == 0 ? 4 : shape == 1 ? 8 : 16, C = shape == 0 ? 4 : shape == 1 ? 16 : 8;
      const ArchConfig a = arch_for(cfg.flow, cfg.pe, R, C, shape == 2 ? 8 : 16);
      Rig ref_rig(a), fast_rig(a);
      FoldReference ref(a, &ref_rig.state, &ref_rig.counters, &ref_rig.wbuf, &ref_rig.ibuf, &ref_rig.obuf);
      FastEngine fast(a, &fast_rig.state, &fast_rig.counters, &fast_rig.wbuf, &fast_rig.ibuf, &fast_rig.obuf);
      ref.set_activity(cfg.activity);
      fast.set_activity(cfg.activity);
      for (int n = 0; n < 12; ++n) {
        FoldData f = random_fold(a, rng);
        std::vector<int64_t> out_ref(out_size(f.job)), out_fast(out_size(f.job));
        for (size_t i = 0; i < out_ref.size(); ++i) out_ref[i] = out_fast[i] = static_cast<int64_t>(rng() % 2001) - 1000;
        FoldJob jr = f.job, jf = f.job;
        jr.out = out_ref.data();
        jf.out = out_fast.data();
        jr.load_id = jf.load_id = static_cast<uint64_t>(n + 1);
        const FoldResult want = ref.run(jr);
        const uint64_t edges = fast.run(jf);
        const std::string where = name_of(cfg) + ", " + std::to_string(R) + "x" + std::to_string(C) + " array, fold " +
                                  std::to_string(n) + " (" + std::to_string(f.job.rows) + "x" +
                                  std::to_string(f.job.cols) + ", " + std::to_string(f.job.p) + " pixels)";
        EXPECT_EQ(edges, want.edges) << where;
        EXPECT_EQ(edges, fold_timing(ArrayShape(a), f.job).edges()) << where;
        EXPECT_EQ(out_fast, out_ref) << where;
        EXPECT_EQ(counters_diff(ref_rig.counters, fast_rig.counters), "") << where;
        EXPECT_EQ(sram_diff(ref_rig.wbuf, fast_rig.wbuf) + sram_diff(ref_rig.ibuf, fast_rig.ibuf) +
                      sram_diff(ref_rig.obuf, fast_rig.obuf),
                  "")
            << where;
        if (cfg.activity) {
          EXPECT_EQ(registers_diff(ref_rig.state, fast_rig.state), "") << where;
        }
      }
    }
}

// ------------------------------------------------ SystemC vs reference --

namespace {

// Hands the array folds one after the other and notes when each ends.
struct FoldDriver : sc_core::sc_module {
  PeArray* array;
  std::vector<FoldJob> jobs;
  std::vector<sc_core::sc_time> ends;
  sc_core::sc_time started;
  SC_HAS_PROCESS(FoldDriver);
  FoldDriver(sc_core::sc_module_name n, PeArray* a) : sc_core::sc_module(n), array(a) { SC_THREAD(drive); }
  void drive() {
    started = sc_core::sc_time_stamp();
    for (const FoldJob& j : jobs) {
      array->start(j);
      sc_core::wait(array->done());
      ends.push_back(sc_core::sc_time_stamp());
    }
  }
};

}  // namespace

TEST(FoldEngines, SystemCArrayClocksTheReferencesFoldsInEveryDataflow) {
  for (const Config& cfg : configs()) {
    if (!cfg.activity) continue;  // the SystemC array's traced path counts activity
    for (bool fast_mode : {false, true}) {
      std::mt19937_64 rng(77 + static_cast<int>(cfg.flow) + (cfg.pe == PeType::Fixed16 ? 10 : 0));
      const ArchConfig a = arch_for(cfg.flow, cfg.pe, 8, 4, 16);
      const uint64_t kFolds = 6;
      std::vector<FoldData> data;
      for (uint64_t n = 0; n < kFolds; ++n) data.push_back(random_fold(a, rng));
      // The reference, back to back.
      Rig ref_rig(a);
      FoldReference ref(a, &ref_rig.state, &ref_rig.counters, &ref_rig.wbuf, &ref_rig.ibuf, &ref_rig.obuf);
      std::vector<std::vector<int64_t>> out_ref, out_sc;
      std::vector<uint64_t> edges;
      for (uint64_t n = 0; n < kFolds; ++n) {
        out_ref.emplace_back(out_size(data[n].job), 0);
        out_sc.emplace_back(out_size(data[n].job), 0);
        FoldJob j = data[n].job;
        j.out = out_ref.back().data();
        j.load_id = n + 1;
        edges.push_back(ref.run(j).edges);
      }
      // The SystemC array, in simulated time.
      reset_systemc_kernel();
      Sram wbuf("w", {}), ibuf("i", {}), obuf("o", {});
      const sc_core::sc_time period(2, sc_core::SC_NS);
      {
        PeArray array("array", a, period, &wbuf, &ibuf, &obuf);
        array.set_fast(fast_mode);
        FoldDriver drv("driver", &array);
        for (uint64_t n = 0; n < kFolds; ++n) {
          FoldJob j = data[n].job;
          j.out = out_sc[n].data();
          j.load_id = n + 1;
          drv.jobs.push_back(j);
        }
        sc_core::sc_start();
        asan_restore_main_stack();  // back on sc_main's stack (asan_main_stack.h)
        const std::string where = name_of(cfg) + (fast_mode ? ", fast mode" : ", cycle by cycle");
        ASSERT_EQ(drv.ends.size(), kFolds) << where;
        sc_core::sc_time t = drv.started;
        for (uint64_t n = 0; n < kFolds; ++n) {
          // A fold started on an edge ends `edges` periods later.
          EXPECT_EQ((drv.ends[n] - t) / period, static_cast<double>(edges[n])) << where << ", fold " << n;
          t = drv.ends[n];
          EXPECT_EQ(out_sc[n], out_ref[n]) << where << ", fold " << n;
        }
        EXPECT_EQ(counters_diff(ref_rig.counters, array.counters()), "") << where;
        EXPECT_EQ(sram_diff(ref_rig.wbuf, wbuf) + sram_diff(ref_rig.ibuf, ibuf) + sram_diff(ref_rig.obuf, obuf), "")
            << where;
        EXPECT_EQ(array.psum(), ref_rig.state.psum) << where;
      }
      reset_systemc_kernel();
    }
  }
}
