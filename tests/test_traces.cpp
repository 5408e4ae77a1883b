// Tier 1 tests of the trace writers (issue 5 items 4-5): VCD read back value
// by value and converted by gtkwave's vcd2fst, the trace selection options,
// the size estimate and limit, SAIF activity against independently counted
// toggles, and the GTKWave save file.
#include <gtest/gtest.h>

#include "temp_dir.h"
#include "vcd_reader.h"
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "errors.h"
#include "gtkw_writer.h"
#include "saif_writer.h"
#include "trace_select.h"
#include "vcd_writer.h"

namespace fs = std::filesystem;
using namespace brsim;

namespace {

// ---------------------------------------------------------------- helpers

using brsim_test::read_file;
using brsim_test::TempDir;  // a fresh folder per test (tests/temp_dir.h)
using brsim_test::read_vcd;
using brsim_test::VcdChange;
using brsim_test::VcdFile;
using brsim_test::VcdVar;

uint64_t mask(int width) { return width == 64 ? ~uint64_t{0} : (uint64_t{1} << width) - 1; }

bool have_tool(const char* tool) {
  return std::system((std::string("command -v ") + tool + " >/dev/null 2>&1").c_str()) == 0;
}

// Runs a shell command; returns its exit status and its stderr.
int run(const std::string& cmd, const std::string& err_file, std::string& err) {
  const int rc = std::system((cmd + " 2>" + err_file).c_str());
  err = read_file(err_file);
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

// A deterministic workload: per signal, a value per cycle that holds with
// probability `hold` and otherwise takes a random value (negative ones too).
struct Workload {
  std::vector<TraceSignal> signals;
  std::vector<std::vector<uint64_t>> values;  // [signal][cycle], masked
};

Workload make_workload(int n_signals, int cycles, double hold, uint32_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> wdist(1, 64);
  std::uniform_real_distribution<double> u(0, 1);
  Workload w;
  for (int i = 0; i < n_signals; ++i) {
    TraceSignal s;
    s.scope = {"accelerator", "array",
               "pe_r" + std::to_string(i / 8) + "_c" + std::to_string(i % 8)};
    s.name = "sig" + std::to_string(i);
    s.width = wdist(rng);
    w.signals.push_back(s);
    std::vector<uint64_t> seq;
    uint64_t v = rng() & mask(s.width);
    for (int c = 0; c < cycles; ++c) {
      if (c > 0 && u(rng) >= hold) v = rng() & mask(s.width);
      seq.push_back(v);
    }
    w.values.push_back(seq);
  }
  return w;
}

void write_workload(const Workload& w, const std::string& path, uint64_t period_ps,
                    uint64_t first_cycle = 0) {
  VcdWriter vcd;
  vcd.open(path, period_ps);
  std::vector<int> ids;
  for (const TraceSignal& s : w.signals) ids.push_back(vcd.add_signal(s.scope, s.name, s.width));
  const size_t cycles = w.values.empty() ? 0 : w.values[0].size();
  for (size_t c = 0; c < cycles; ++c) {
    vcd.begin_cycle(first_cycle + c);
    for (size_t i = 0; i < ids.size(); ++i) vcd.set(ids[i], w.values[i][c]);
  }
  vcd.close();
}

// ---------------------------------------------------------------- a small PE trace

// Signals of a PE-like block over 40 cycles with a known sequence.
struct KnownTrace {
  static constexpr int kCycles = 40;
  std::vector<uint64_t> valid, state, act, psum, wide;  // masked values per cycle

  KnownTrace() {
    int64_t acc = 0;
    for (int c = 0; c < kCycles; ++c) {
      valid.push_back((c / 3) % 2);                         // holds 3 cycles
      state.push_back(static_cast<uint64_t>(c / 7) & 0xF);  // holds 7 cycles
      const int64_t a = (c % 5 == 0) ? -(c * 37) : (c * 11) % 300;
      act.push_back(static_cast<uint64_t>(a) & 0xFFFF);
      acc += a * (c % 2 ? -97 : 131);
      psum.push_back(static_cast<uint64_t>(acc) & mask(48));
      wide.push_back(c % 4 == 0 ? ~uint64_t{0} - static_cast<uint64_t>(c) : uint64_t(c) << 40);
    }
  }

  void write(const std::string& path, uint64_t period_ps, uint64_t first_cycle) const {
    VcdWriter vcd;
    vcd.open(path, period_ps);
    const int v = vcd.add_signal({"accelerator", "controller"}, "valid", 1);
    const int s = vcd.add_signal({"accelerator", "controller"}, "state", 4, TraceRadix::Dec);
    const int a =
        vcd.add_signal({"accelerator", "array", "pe_r0_c0"}, "act_in", 16, TraceRadix::Signed);
    const int p =
        vcd.add_signal({"accelerator", "array", "pe_r0_c0"}, "psum", 48, TraceRadix::Signed);
    const int w = vcd.add_signal({"accelerator", "array", "pe_r0_c0"}, "wide", 64);
    for (int c = 0; c < kCycles; ++c) {
      vcd.begin_cycle(first_cycle + static_cast<uint64_t>(c));
      vcd.set(v, valid[c]);
      vcd.set(s, state[c]);
      vcd.set_signed(a, static_cast<int64_t>(act[c] >= 0x8000 ? act[c] - 0x10000 : act[c]));
      vcd.set(p, psum[c]);
      vcd.set(w, wide[c]);
    }
    vcd.close();
    EXPECT_EQ(vcd.bytes_written(), fs::file_size(path));
  }

  static int changes(const std::vector<uint64_t>& seq) {
    int n = 0;
    for (size_t i = 1; i < seq.size(); ++i) n += seq[i] != seq[i - 1];
    return n;
  }
};

}  // namespace

// ================================================================= VCD

TEST(VcdWriter, ReadBackGivesEverySignalsValueAtEveryCycle) {
  TempDir dir;
  const std::string path = dir.file("known.vcd");
  const KnownTrace t;
  const uint64_t first = 100;
  t.write(path, 2000, first);  // 500 MHz: 1 ns timescale, 2 ticks per cycle

  const VcdFile f = read_vcd(path);
  EXPECT_EQ(f.timescale, "1 ns");
  const std::map<std::string, const std::vector<uint64_t>*> expected = {
      {"accelerator.controller.valid", &t.valid},
      {"accelerator.controller.state", &t.state},
      {"accelerator.array.pe_r0_c0.act_in", &t.act},
      {"accelerator.array.pe_r0_c0.psum", &t.psum},
      {"accelerator.array.pe_r0_c0.wide", &t.wide}};
  for (const auto& [name, seq] : expected) {
    for (int c = 0; c < KnownTrace::kCycles; ++c) {
      uint64_t v = 0;
      ASSERT_TRUE(f.value_at(name, (first + c) * 2, v)) << name << " cycle " << c;
      EXPECT_EQ(v, (*seq)[c]) << name << " cycle " << c;
      // Mid-cycle the value still holds.
      ASSERT_TRUE(f.value_at(name, (first + c) * 2 + 1, v));
      EXPECT_EQ(v, (*seq)[c]) << name << " cycle " << c << " + 1 ns";
    }
    // One line in $dumpvars plus one per change: unchanged values write nothing.
    EXPECT_EQ(static_cast<int>(f.var(name).changes.size()), 1 + KnownTrace::changes(*seq)) << name;
  }
  EXPECT_EQ(f.var("accelerator.array.pe_r0_c0.psum").range, "[47:0]");
  EXPECT_EQ(f.var("accelerator.array.pe_r0_c0.psum").width, 48);
  EXPECT_EQ(f.var("accelerator.controller.valid").range, "");
  // The file ends with the end of the last cycle.
  EXPECT_EQ(f.times.back(), (first + KnownTrace::kCycles) * 2);
}

TEST(VcdWriter, TimestampOnlyWhenSomethingChanges) {
  TempDir dir;
  const std::string path = dir.file("sparse.vcd");
  VcdWriter vcd;
  vcd.open(path, 1000);
  const int a = vcd.add_signal({"top"}, "a", 8);
  const int b = vcd.add_signal({"top"}, "b", 1);
  for (uint64_t c = 0; c < 10; ++c) {
    vcd.begin_cycle(c);
    vcd.set(a, c < 5 ? 3 : 4);
    vcd.set(b, 1);
  }
  vcd.close();
  const VcdFile f = read_vcd(path);
  EXPECT_EQ(f.times, (std::vector<uint64_t>{0, 5, 10}));
  EXPECT_EQ(f.var("top.a").changes.size(), 2u);
  EXPECT_EQ(f.var("top.b").changes.size(), 1u);
  const std::string text = read_file(path);
  EXPECT_NE(text.find("$timescale\n  1 ns\n$end"), std::string::npos);
  EXPECT_NE(text.find("$version\n  brsim\n$end"), std::string::npos);
  EXPECT_NE(text.find("#5\nb100 !\n#10\n"), std::string::npos) << text;
}

TEST(VcdWriter, BytesAreDeterministic) {
  TempDir dir;
  const KnownTrace t;
  t.write(dir.file("one.vcd"), 2000, 0);
  t.write(dir.file("two.vcd"), 2000, 0);
  EXPECT_EQ(read_file(dir.file("one.vcd")), read_file(dir.file("two.vcd")));
}

TEST(VcdWriter, SignalsNotSetInTheFirstCycleStartUnknown) {
  TempDir dir;
  const std::string path = dir.file("x.vcd");
  VcdWriter vcd;
  vcd.open(path, 1000);
  const int a = vcd.add_signal({"top"}, "a", 4);
  const int b = vcd.add_signal({"top"}, "b", 1);
  vcd.begin_cycle(0);
  vcd.set(a, 5);
  vcd.begin_cycle(1);
  vcd.set(b, 0);
  vcd.close();
  const VcdFile f = read_vcd(path);
  uint64_t v = 0;
  EXPECT_FALSE(f.value_at("top.b", 0, v));
  EXPECT_TRUE(f.value_at("top.b", 1, v));
  EXPECT_EQ(v, 0u);
}

TEST(VcdWriter, IdentifierCodesAreCompactAndUnique) {
  EXPECT_EQ(vcd_id_code(0), "!");
  EXPECT_EQ(vcd_id_code(93), "~");
  EXPECT_EQ(vcd_id_code(94).size(), 2u);
  EXPECT_EQ(vcd_id_code(94 * 94 - 1).size(), 2u);
  EXPECT_EQ(vcd_id_code(94 * 94).size(), 3u);
  std::set<std::string> seen;
  for (size_t i = 0; i < 20000; ++i) {
    const std::string c = vcd_id_code(i);
    for (char ch : c) ASSERT_TRUE(ch >= 33 && ch <= 126);
    ASSERT_TRUE(seen.insert(c).second) << i;
  }
}

TEST(VcdWriter, TimescaleIsTheLargestUnitDividingThePeriod) {
  auto ts = [](uint64_t ps) { return TraceTimescale::for_period_ps(ps); };
  EXPECT_EQ(ts(2000).text, "1 ns");
  EXPECT_EQ(ts(2000).ticks_per_cycle, 2u);
  EXPECT_EQ(ts(10000).text, "10 ns");
  EXPECT_EQ(ts(10000).ticks_per_cycle, 1u);
  EXPECT_EQ(ts(1500).text, "100 ps");
  EXPECT_EQ(ts(1500).ticks_per_cycle, 15u);
  EXPECT_EQ(ts(3).text, "1 ps");
  EXPECT_EQ(ts(1000000000000ull).text, "1 s");
  EXPECT_THROW(ts(0), ConfigError);
}

TEST(VcdWriter, RejectsMisuse) {
  TempDir dir;
  VcdWriter vcd;
  EXPECT_THROW(vcd.begin_cycle(0), std::logic_error);
  vcd.open(dir.file("m.vcd"), 1000);
  EXPECT_THROW(vcd.add_signal({"top"}, "w", 65), std::logic_error);
  EXPECT_THROW(vcd.add_signal({"top"}, "has space", 1), std::logic_error);
  EXPECT_THROW(vcd.add_signal({}, "noscope", 1), std::logic_error);
  vcd.add_signal({"top"}, "a", 1);
  vcd.begin_cycle(5);
  EXPECT_THROW(vcd.add_signal({"top"}, "late", 1), std::logic_error);
  EXPECT_THROW(vcd.begin_cycle(5), std::logic_error);
  vcd.close();
  EXPECT_THROW(vcd.set(0, 1), std::logic_error);
  EXPECT_THROW(VcdWriter().open(dir.file("no/such/dir/x.vcd"), 1000), ConfigError);
}

// Every produced VCD converts with gtkwave's vcd2fst, and the FST holds the
// same values (read back through fst2vcd).
TEST(VcdWriter, Vcd2FstConvertsItAndKeepsTheValues) {
  if (!have_tool("vcd2fst") || !have_tool("fst2vcd")) GTEST_SKIP() << "gtkwave tools not installed";
  TempDir dir;
  const KnownTrace t;
  t.write(dir.file("known.vcd"), 2000, 7);
  std::string err;
  ASSERT_EQ(run("vcd2fst " + dir.file("known.vcd") + " " + dir.file("known.fst") + " >/dev/null",
                dir.file("err.txt"), err),
            0)
      << err;
  EXPECT_EQ(err, "");  // vcd2fst exits 0 even on garbage: the read-back below is the check
  ASSERT_EQ(run("fst2vcd " + dir.file("known.fst") + " > " + dir.file("back.vcd"),
                dir.file("err.txt"), err),
            0)
      << err;
  const VcdFile back = read_vcd(dir.file("back.vcd"));
  for (int c = 0; c < KnownTrace::kCycles; ++c) {
    uint64_t v = 0;
    ASSERT_TRUE(back.value_at("accelerator.array.pe_r0_c0.psum", (7 + c) * 2, v));
    EXPECT_EQ(v, t.psum[c]) << c;
    ASSERT_TRUE(back.value_at("accelerator.controller.valid", (7 + c) * 2, v));
    EXPECT_EQ(v, t.valid[c]) << c;
  }
}

TEST(VcdWriter, Vcd2FstConvertsAThousandSignalsOverAHundredCycles) {
  if (!have_tool("vcd2fst") || !have_tool("fst2vcd")) GTEST_SKIP() << "gtkwave tools not installed";
  TempDir dir;
  const Workload w = make_workload(1000, 100, 0.6, 42);
  write_workload(w, dir.file("big.vcd"), 2000);
  std::string err;
  ASSERT_EQ(run("vcd2fst " + dir.file("big.vcd") + " " + dir.file("big.fst") + " >/dev/null",
                dir.file("err.txt"), err),
            0)
      << err;
  EXPECT_EQ(err, "");  // vcd2fst exits 0 even on garbage: the read-back below is the check
  ASSERT_EQ(run("fst2vcd " + dir.file("big.fst") + " > " + dir.file("back.vcd"),
                dir.file("err.txt"), err),
            0)
      << err;
  const VcdFile back = read_vcd(dir.file("back.vcd"));
  ASSERT_EQ(back.vars.size(), 1000u);
  for (size_t i = 0; i < w.signals.size(); i += 7) {
    for (size_t c = 0; c < 100; c += 3) {
      uint64_t v = 0;
      ASSERT_TRUE(back.value_at(w.signals[i].full_name(), c * 2, v));
      ASSERT_EQ(v, w.values[i][c]) << w.signals[i].full_name() << " cycle " << c;
    }
  }
}

// ================================================================= selection

TEST(TraceSelect, Blocks) {
  EXPECT_EQ(parse_trace_blocks("").size(), 4u);
  EXPECT_EQ(parse_trace_blocks("all").size(), 4u);
  EXPECT_TRUE(parse_trace_blocks("none").empty());
  EXPECT_EQ(parse_trace_blocks(" DMA , decoder"),
            (std::vector<TraceBlock>{TraceBlock::Dma, TraceBlock::Decoder}));
  const TraceSelection s = TraceSelection::parse("controller,array", "", "", "");
  EXPECT_TRUE(s.block_selected(TraceBlock::Controller));
  EXPECT_TRUE(s.block_selected(TraceBlock::Array));
  EXPECT_FALSE(s.block_selected(TraceBlock::Dma));
  EXPECT_FALSE(s.block_selected(TraceBlock::Decoder));
  try {
    parse_trace_blocks("controller,alu");
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("--vcd-blocks"), std::string::npos) << m;
    EXPECT_NE(m.find("unknown block 'alu'"), std::string::npos) << m;
    EXPECT_NE(m.find("controller,dma,decoder,array"), std::string::npos) << m;
  }
  EXPECT_THROW(parse_trace_blocks("dma,,decoder"), ConfigError);
}

TEST(TraceSelect, PeRanges) {
  const PeSelection a = parse_pe_selection("r0-r3,c0-c7");
  EXPECT_TRUE(a.contains(0, 0));
  EXPECT_TRUE(a.contains(3, 7));
  EXPECT_FALSE(a.contains(4, 0));
  EXPECT_FALSE(a.contains(0, 8));
  EXPECT_EQ(a.count(16, 16), 32);
  const PeSelection b = parse_pe_selection("r2,c5");
  EXPECT_EQ(b.count(16, 16), 1);
  EXPECT_TRUE(b.contains(2, 5));
  EXPECT_FALSE(b.contains(2, 4));
  EXPECT_EQ(parse_pe_selection("r1-2").count(16, 16), 32);  // all columns
  EXPECT_EQ(parse_pe_selection("c3").count(16, 8), 16);     // all rows
  EXPECT_EQ(parse_pe_selection("C1-C2, R0").count(4, 4), 2);
  EXPECT_EQ(parse_pe_selection("all").count(16, 16), 256);
  EXPECT_EQ(parse_pe_selection("").count(4, 4), 16);
  EXPECT_EQ(parse_pe_selection("none").count(16, 16), 0);
  EXPECT_FALSE(parse_pe_selection("none").contains(0, 0));
  EXPECT_EQ(parse_pe_selection("r10-r20").count(16, 16), 6 * 16);  // clipped to the array

  for (const char* bad : {"r3-r1", "x1", "r0,r1", "r-1", "r0-", "rc", "r1;c2", "r1,,c2",
                          "c0-c1,r0,c2", "r99999999999"}) {
    try {
      parse_pe_selection(bad);
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const ConfigError& e) {
      const std::string m = e.what();
      EXPECT_NE(m.find("--vcd-pes"), std::string::npos) << m;
      EXPECT_NE(m.find(std::string("'") + bad + "'"), std::string::npos) << m;
      EXPECT_NE(m.find("r0-r3,c0-c7"), std::string::npos) << m;
    }
  }
}

TEST(TraceSelect, PeRangeMustFitTheArray) {
  TraceSelection s = TraceSelection::parse("", "r0-r20,c0", "", "");
  try {
    s.check_array(16, 16);
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("--vcd-pes"), std::string::npos) << m;
    EXPECT_NE(m.find("16 x 16"), std::string::npos) << m;
  }
  EXPECT_THROW(TraceSelection::parse("", "c16", "", "").check_array(16, 16), ConfigError);
  EXPECT_NO_THROW(TraceSelection::parse("", "r15,c15", "", "").check_array(16, 16));
  EXPECT_NO_THROW(TraceSelection::parse("", "all", "", "").check_array(16, 16));
  EXPECT_NO_THROW(TraceSelection::parse("", "none", "", "").check_array(4, 4));
}

TEST(TraceSelect, CycleWindowIsInclusiveExclusive) {
  const CycleWindow w = parse_cycle_window("1000-2000");
  EXPECT_FALSE(w.contains(999));
  EXPECT_TRUE(w.contains(1000));
  EXPECT_TRUE(w.contains(1999));
  EXPECT_FALSE(w.contains(2000));
  EXPECT_EQ(w.cycles_within(1500), 500u);
  EXPECT_EQ(w.cycles_within(5000), 1000u);
  EXPECT_EQ(w.cycles_within(500), 0u);
  const CycleWindow open = parse_cycle_window("1000-");
  EXPECT_TRUE(open.contains(1000000000000ull));
  EXPECT_FALSE(open.contains(999));
  EXPECT_TRUE(parse_cycle_window("").contains(0));
  EXPECT_TRUE(parse_cycle_window("all").contains(123456));
  for (const char* bad : {"2000-1000", "10-10", "abc", "1000", "-5", "1e3-2e3", "5-x"}) {
    try {
      parse_cycle_window(bad);
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const ConfigError& e) {
      const std::string m = e.what();
      EXPECT_NE(m.find("--vcd-cycles"), std::string::npos) << m;
      EXPECT_NE(m.find("end exclusive"), std::string::npos) << m;
    }
  }
}

TEST(TraceSelect, LayerByNameOrIndex) {
  const std::vector<std::string> layers = {"conv1", "conv2", "fc1"};
  EXPECT_EQ(TraceSelection::parse("", "", "", "").resolve_layer(layers), -1);
  EXPECT_EQ(TraceSelection::parse("", "", "", "conv2").resolve_layer(layers), 1);
  EXPECT_EQ(TraceSelection::parse("", "", "", "2").resolve_layer(layers), 2);
  const TraceSelection s = TraceSelection::parse("", "", "", "conv2");
  EXPECT_TRUE(s.layer_selected(1, "conv2"));
  EXPECT_FALSE(s.layer_selected(0, "conv1"));
  EXPECT_TRUE(TraceSelection::parse("", "", "", "0").layer_selected(0, "conv1"));
  EXPECT_TRUE(TraceSelection::parse("", "", "", "all").layer_selected(2, "fc1"));
  try {
    TraceSelection::parse("", "", "", "conv9").resolve_layer(layers);
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("--vcd-layer"), std::string::npos) << m;
    EXPECT_NE(m.find("conv1, conv2, fc1"), std::string::npos) << m;
  }
  EXPECT_THROW(TraceSelection::parse("", "", "", "3").resolve_layer(layers), ConfigError);
  EXPECT_THROW(parse_layer_selector("-1"), ConfigError);
  EXPECT_THROW(parse_layer_selector("conv 1"), ConfigError);
}

// The PE and window options limit the file: only the chosen PEs' scopes and
// only times inside the window appear.
TEST(TraceSelect, SelectionLimitsTheVcd) {
  TempDir dir;
  const int rows = 4, cols = 4, cycles = 100;
  auto trace = [&](const TraceSelection& sel, const std::string& path) {
    VcdWriter vcd;
    vcd.open(path, 1000);
    std::map<std::pair<int, int>, int> ids;
    for (int r = 0; r < rows; ++r)
      for (int c = 0; c < cols; ++c)
        if (sel.pe_selected(r, c))
          ids[{r, c}] = vcd.add_signal(
              {"accelerator", "array", "pe_r" + std::to_string(r) + "_c" + std::to_string(c)},
              "psum", 48, TraceRadix::Signed);
    for (uint64_t t = 0; t < static_cast<uint64_t>(cycles); ++t) {
      if (!sel.cycle_selected(t)) continue;
      vcd.begin_cycle(t);
      for (const auto& [rc, id] : ids) vcd.set(id, t * 1000 + rc.first * 10 + rc.second);
    }
    vcd.close();
    return vcd.bytes_written();
  };
  const uint64_t full = trace(TraceSelection{}, dir.file("full.vcd"));
  const TraceSelection sel = TraceSelection::parse("", "r1-r2,c0", "10-20", "");
  const uint64_t part = trace(sel, dir.file("part.vcd"));
  EXPECT_LT(part * 20, full);

  const VcdFile f = read_vcd(dir.file("part.vcd"));
  std::set<std::string> pes;
  for (const std::string& s : f.scopes)
    if (s.rfind("accelerator.array.", 0) == 0) pes.insert(s);
  EXPECT_EQ(pes,
            (std::set<std::string>{"accelerator.array.pe_r1_c0", "accelerator.array.pe_r2_c0"}));
  ASSERT_FALSE(f.times.empty());
  EXPECT_EQ(f.times.front(), 10u);
  EXPECT_EQ(f.times.back(), 20u);  // end of cycle 19
  uint64_t v = 0;
  ASSERT_TRUE(f.value_at("accelerator.array.pe_r2_c0.psum", 15, v));
  EXPECT_EQ(v, 15u * 1000 + 20);
}

// ================================================================= size

TEST(VcdSize, EstimateBoundsTheRealSize) {
  TempDir dir;
  for (uint32_t seed : {1u, 2u, 3u}) {
    const double hold = seed == 3 ? 0.0 : 0.5;  // seed 3: everything changes every cycle
    const Workload w = make_workload(200, 300, hold, seed);
    const std::string path = dir.file("w" + std::to_string(seed) + ".vcd");
    write_workload(w, path, 2000, 5000000);
    const uint64_t real = fs::file_size(path);
    const uint64_t est = estimate_vcd_bytes(w.signals, 300);
    EXPECT_LE(real, est) << "seed " << seed;
    EXPECT_GE(real * 4, est) << "seed " << seed << ": the bound is loose";
  }
  // Worst case: all-ones values change every cycle at full width.
  Workload w;
  for (int i = 0; i < 50; ++i) {
    w.signals.push_back(
        TraceSignal{{"top", "blk"}, "s" + std::to_string(i), 1 + i % 64, TraceRadix::Auto});
    std::vector<uint64_t> seq;
    for (int c = 0; c < 100; ++c)
      seq.push_back(c % 2 ? mask(1 + i % 64) : (mask(1 + i % 64) >> 1 | uint64_t{1} << (i % 64)));
    w.values.push_back(seq);
  }
  write_workload(w, dir.file("worst.vcd"), 2000, 99999999);
  EXPECT_LE(fs::file_size(dir.file("worst.vcd")), estimate_vcd_bytes(w.signals, 100));
}

TEST(VcdSize, LimitRefusesWithTheMessage) {
  const uint64_t gb3 = 3000000000ull;
  try {
    check_vcd_size(gb3, 1280, 100000, TraceLimit{});
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("the VCD would be about 3000 MB (1280 signals x 100000 cycles)"),
              std::string::npos)
        << m;
    EXPECT_NE(m.find("narrow the selection (--vcd-pes, --vcd-cycles, --vcd-layer) or pass "
                     "--vcd-force"),
              std::string::npos)
        << m;
  }
  EXPECT_NO_THROW(check_vcd_size(gb3, 1280, 100000, TraceLimit{uint64_t{2} << 30, true}));
  EXPECT_NO_THROW(check_vcd_size(uint64_t{2} << 30, 1, 1, TraceLimit{}));  // at the limit
  // A configured limit applied to a real selection: 16 x 16 PEs, 5 registers.
  std::vector<TraceSignal> sigs;
  for (int p = 0; p < 256; ++p)
    for (int width : {1, 16, 32, 48, 48})
      sigs.push_back(TraceSignal{
          {"accelerator", "array", "pe" + std::to_string(p)}, "r", width, TraceRadix::Auto});
  const uint64_t est = estimate_vcd_bytes(sigs, 1000000);
  EXPECT_GT(est, uint64_t{2} << 30);
  EXPECT_THROW(check_vcd_size(est, sigs.size(), 1000000, TraceLimit{}), ConfigError);
  EXPECT_EQ(describe_vcd_size(123456, 3, 10), "about 0.1 MB (3 signals x 10 cycles)");
}

// ================================================================= SAIF

namespace {

// A minimal S-expression reader for SAIF: lists, atoms (with backslash
// escapes kept out of the name) and quoted strings.
struct SExpr {
  std::string atom;
  std::vector<SExpr> list;
  bool is_list = false;
};

SExpr parse_sexpr(const std::string& text, size_t& pos) {
  auto skip_ws = [&] {
    while (pos < text.size() && std::isspace(static_cast<unsigned char>(text[pos]))) ++pos;
  };
  skip_ws();
  if (pos >= text.size()) throw std::runtime_error("unexpected end");
  SExpr e;
  if (text[pos] == '(') {
    e.is_list = true;
    ++pos;
    for (;;) {
      skip_ws();
      if (pos >= text.size()) throw std::runtime_error("unbalanced '('");
      if (text[pos] == ')') {
        ++pos;
        return e;
      }
      e.list.push_back(parse_sexpr(text, pos));
    }
  }
  if (text[pos] == ')') throw std::runtime_error("unbalanced ')'");
  if (text[pos] == '"') {
    ++pos;
    while (pos < text.size() && text[pos] != '"') e.atom += text[pos++];
    if (pos >= text.size()) throw std::runtime_error("unterminated string");
    ++pos;
    return e;
  }
  while (pos < text.size() && !std::isspace(static_cast<unsigned char>(text[pos])) &&
         text[pos] != '(' && text[pos] != ')') {
    if (text[pos] == '\\' && pos + 1 < text.size()) ++pos;  // escaped character
    e.atom += text[pos++];
  }
  return e;
}

struct SaifNet {
  uint64_t t0 = 0, t1 = 0, tx = 0, tc = 0;
};

struct SaifFile {
  uint64_t duration = 0;
  std::string timescale;
  std::map<std::string, SaifNet> nets;  // "accelerator/array/pe_r0_c0/psum[3]"
};

void walk_instance(const SExpr& inst, const std::string& prefix, SaifFile& f) {
  const std::string path = prefix + inst.list.at(1).atom + "/";
  for (size_t i = 2; i < inst.list.size(); ++i) {
    const SExpr& child = inst.list[i];
    ASSERT_TRUE(child.is_list);
    const std::string& head = child.list.at(0).atom;
    if (head == "INSTANCE") {
      walk_instance(child, path, f);
    } else if (head == "NET") {
      for (size_t n = 1; n < child.list.size(); ++n) {
        const SExpr& net = child.list[n];
        SaifNet v;
        for (size_t k = 1; k < net.list.size(); ++k) {
          const std::string& key = net.list[k].list.at(0).atom;
          const uint64_t val = std::stoull(net.list[k].list.at(1).atom);
          if (key == "T0") v.t0 = val;
          if (key == "T1") v.t1 = val;
          if (key == "TX") v.tx = val;
          if (key == "TC") v.tc = val;
        }
        f.nets[path + net.list.at(0).atom] = v;
      }
    }
  }
}

SaifFile read_saif(const std::string& text) {
  size_t pos = 0;
  const SExpr root = parse_sexpr(text, pos);
  while (pos < text.size() && std::isspace(static_cast<unsigned char>(text[pos]))) ++pos;
  if (pos != text.size()) throw std::runtime_error("text after the SAIFILE form");
  if (!root.is_list || root.list.at(0).atom != "SAIFILE") throw std::runtime_error("not SAIF");
  SaifFile f;
  for (size_t i = 1; i < root.list.size(); ++i) {
    const SExpr& e = root.list[i];
    const std::string& head = e.list.at(0).atom;
    if (head == "DURATION") f.duration = std::stoull(e.list.at(1).atom);
    if (head == "TIMESCALE") f.timescale = e.list.at(1).atom + " " + e.list.at(2).atom;
    if (head == "INSTANCE") walk_instance(e, "", f);
  }
  return f;
}

}  // namespace

TEST(Saif, TogglesAndTimesMatchTheKnownSequence) {
  const KnownTrace t;
  const uint64_t first = 5;
  SaifRecorder rec(2000);  // 1 ns timescale, 2 ticks per cycle
  const int v = rec.add_signal({"accelerator", "controller"}, "valid", 1);
  const int a = rec.add_signal({"accelerator", "array", "pe_r0_c0"}, "act_in", 16);
  const int p = rec.add_signal({"accelerator", "array", "pe_r0_c0"}, "psum", 48);
  const int w = rec.add_signal({"accelerator", "array", "pe_r0_c0"}, "wide", 64);
  for (int c = 0; c < KnownTrace::kCycles; ++c) {
    rec.begin_cycle(first + static_cast<uint64_t>(c));
    rec.sample(v, t.valid[c]);
    rec.sample(a, t.act[c]);
    rec.sample(p, t.psum[c]);
    rec.sample(w, t.wide[c]);
  }
  rec.finish();
  const std::string text = rec.render();
  EXPECT_EQ(text, rec.render());  // deterministic
  const SaifFile f = read_saif(text);
  EXPECT_EQ(f.duration, KnownTrace::kCycles * 2u);
  EXPECT_EQ(f.timescale, "1 ns");
  EXPECT_NE(text.find("(SAIFVERSION \"2.0\")"), std::string::npos);
  EXPECT_NE(text.find("(DIRECTION \"backward\")"), std::string::npos);
  EXPECT_NE(text.find("(DIVIDER / )"), std::string::npos);
  EXPECT_NE(text.find("(psum\\[47\\]"), std::string::npos);

  struct Reg {
    std::string path;
    int width;
    const std::vector<uint64_t>* seq;
    int id;
  };
  const std::vector<Reg> regs = {{"accelerator/controller/valid", 1, &t.valid, v},
                                 {"accelerator/array/pe_r0_c0/act_in", 16, &t.act, a},
                                 {"accelerator/array/pe_r0_c0/psum", 48, &t.psum, p},
                                 {"accelerator/array/pe_r0_c0/wide", 64, &t.wide, w}};
  size_t nets = 0;
  for (const Reg& r : regs) {
    uint64_t reg_toggles = 0;
    for (int b = 0; b < r.width; ++b) {
      // Counted here from the sequence, independently of the recorder.
      uint64_t tc = 0, ones = 0;
      for (int c = 0; c < KnownTrace::kCycles; ++c) {
        const uint64_t bit = ((*r.seq)[c] >> b) & 1;
        ones += bit;
        if (c > 0) tc += bit != (((*r.seq)[c - 1] >> b) & 1);
      }
      reg_toggles += tc;
      const std::string name = r.width == 1 ? r.path : r.path + "[" + std::to_string(b) + "]";
      ASSERT_TRUE(f.nets.count(name)) << name;
      const SaifNet& n = f.nets.at(name);
      EXPECT_EQ(n.tc, tc) << name;
      EXPECT_EQ(n.t1, ones * 2) << name;
      EXPECT_EQ(n.tx, 0u) << name;
      EXPECT_EQ(n.t0 + n.t1, f.duration) << name;
      ++nets;
    }
    EXPECT_EQ(rec.toggles(r.id), reg_toggles) << r.path;
  }
  EXPECT_EQ(f.nets.size(), nets);
}

// Sampling only on change gives the same activity as sampling every cycle;
// a register first sampled late is unknown (TX) before that.
TEST(Saif, HeldValuesAndLateSignals) {
  const KnownTrace t;
  SaifRecorder every(1000), sparse(1000);
  const int e = every.add_signal({"top"}, "psum", 48);
  const int s = sparse.add_signal({"top"}, "psum", 48);
  const int late = sparse.add_signal({"top"}, "late", 4);
  for (int c = 0; c < KnownTrace::kCycles; ++c) {
    every.begin_cycle(static_cast<uint64_t>(c));
    every.sample(e, t.psum[c]);
    if (c == 0 || t.psum[c] != t.psum[c - 1] || c == 30) {
      sparse.begin_cycle(static_cast<uint64_t>(c));
      sparse.sample(s, t.psum[c]);
      if (c == 30) sparse.sample(late, 0xA);
    }
  }
  every.finish(KnownTrace::kCycles);
  sparse.finish(KnownTrace::kCycles);
  for (int b = 0; b < 48; ++b) {
    const SaifBitActivity x = every.bit_activity(e, b), y = sparse.bit_activity(s, b);
    EXPECT_EQ(x.t0, y.t0);
    EXPECT_EQ(x.t1, y.t1);
    EXPECT_EQ(x.tc, y.tc);
  }
  const SaifFile f = read_saif(sparse.render());
  const SaifNet& n = f.nets.at("top/late[1]");
  EXPECT_EQ(n.tx, 30u);
  EXPECT_EQ(n.t1, 10u);
  EXPECT_EQ(n.t0 + n.t1 + n.tx, f.duration);
  EXPECT_EQ(n.tc, 0u);
}

// SAIF toggle counts equal the toggles seen in the VCD of the same samples.
TEST(Saif, AgreesWithTheVcd) {
  TempDir dir;
  const Workload w = make_workload(30, 200, 0.5, 9);
  write_workload(w, dir.file("w.vcd"), 2000);
  SaifRecorder rec(2000);
  for (const TraceSignal& s : w.signals) rec.add_signal(s.scope, s.name, s.width);
  for (size_t c = 0; c < 200; ++c) {
    rec.begin_cycle(c);
    for (size_t i = 0; i < w.signals.size(); ++i) rec.sample(static_cast<int>(i), w.values[i][c]);
  }
  rec.finish();
  const VcdFile f = read_vcd(dir.file("w.vcd"));
  for (size_t i = 0; i < w.signals.size(); ++i) {
    const auto& ch = f.var(w.signals[i].full_name()).changes;
    uint64_t toggles = 0;
    for (size_t k = 1; k < ch.size(); ++k)
      toggles += static_cast<uint64_t>(__builtin_popcountll(ch[k].value ^ ch[k - 1].value));
    EXPECT_EQ(rec.toggles(static_cast<int>(i)), toggles) << w.signals[i].full_name();
  }
  rec.write(dir.file("w.saif"));
  EXPECT_EQ(read_file(dir.file("w.saif")), rec.render());
}

// ================================================================= GTKWave

TEST(Gtkw, NamesTheDumpFileAndEverySignalInGroups) {
  TempDir dir;
  const std::string vcd_path = dir.file("run.vcd"), gtkw_path = dir.file("run.gtkw");
  VcdWriter vcd;
  vcd.open(vcd_path, 2000);
  vcd.add_signal({"accelerator", "controller"}, "state", 4, TraceRadix::Dec);
  vcd.add_signal({"accelerator", "controller"}, "busy", 1);
  vcd.add_signal({"accelerator", "dma"}, "addr", 32);
  for (const char* pe : {"pe_r0_c0", "pe_r0_c1"}) {
    vcd.add_signal({"accelerator", "array", pe}, "w_zero", 1);
    vcd.add_signal({"accelerator", "array", pe}, "w_shift", 4, TraceRadix::Dec);
    vcd.add_signal({"accelerator", "array", pe}, "act_in", 16, TraceRadix::Signed);
    vcd.add_signal({"accelerator", "array", pe}, "psum", 48, TraceRadix::Signed);
  }
  for (uint64_t c = 1000; c < 1010; ++c) {
    vcd.begin_cycle(c);
    for (int i = 0; i < 11; ++i) vcd.set(i, c * (i + 1));
  }
  vcd.close();
  GtkwOptions opt;
  opt.time_start = 1000 * vcd.timescale().ticks_per_cycle;
  write_gtkw(gtkw_path, vcd_path, vcd.signals(), opt);
  const std::string text = read_file(gtkw_path);

  EXPECT_NE(
      text.find("[dumpfile] \"" + fs::absolute(vcd_path).lexically_normal().string() + "\"\n"),
      std::string::npos)
      << text;
  EXPECT_NE(text.find("[timestart] 2000\n"), std::string::npos);

  // Read it the way GTKWave does: '@' sets the flags for what follows, '-'
  // lines open/close groups under the group flags, other lines are traces.
  const VcdFile f = read_vcd(vcd_path);
  std::set<std::string> vcd_names;  // as GTKWave names VCD variables
  for (const auto& [name, var] : f.vars) vcd_names.insert(name + var.range);
  std::istringstream in(text);
  std::string line, group;
  uint64_t flags = 0;
  int depth = 0, groups = 0;
  std::map<std::string, std::pair<uint64_t, std::string>> traces;  // name -> flags, group
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '[' || line[0] == '*') continue;
    if (line[0] == '@') {
      flags = std::stoull(line.substr(1), nullptr, 16);
    } else if (line[0] == '-') {
      if (flags & 0x800000) {
        ASSERT_EQ(depth, 0) << "nested group";
        ++depth;
        ++groups;
        group = line.substr(1);
      } else if (flags & 0x1000000) {
        ASSERT_EQ(depth, 1);
        EXPECT_EQ(line.substr(1), group);
        --depth;
      }
    } else {
      EXPECT_EQ(depth, 1) << line << " outside a group";
      EXPECT_TRUE(vcd_names.count(line)) << line << " is not a VCD variable";
      EXPECT_TRUE(traces.emplace(line, std::make_pair(flags, group)).second) << "twice: " << line;
    }
  }
  EXPECT_EQ(depth, 0);
  EXPECT_EQ(groups, 4);  // controller, dma, two PEs
  ASSERT_EQ(traces.size(), vcd.signals().size());
  for (const TraceSignal& s : vcd.signals()) ASSERT_TRUE(traces.count(s.gtkwave_name()));
  EXPECT_EQ(traces.at("accelerator.array.pe_r0_c1.psum[47:0]"),
            std::make_pair(uint64_t{0x420}, std::string("array.pe_r0_c1")));
  EXPECT_EQ(traces.at("accelerator.controller.busy").first, 0x28u);
  EXPECT_EQ(traces.at("accelerator.controller.state[3:0]").first, 0x24u);
  EXPECT_EQ(traces.at("accelerator.dma.addr[31:0]"),
            std::make_pair(uint64_t{0x22}, std::string("dma")));
  // Deterministic for the same inputs.
  EXPECT_EQ(text, render_gtkw(gtkw_path, vcd_path, vcd.signals(), opt));
}

// GTKWave itself loads the save file and finds every signal (needs a display:
// runs under xvfb-run when it is installed, else skips).
TEST(Gtkw, GtkwaveLoadsItWithEverySignal) {
  if (!have_tool("gtkwave") || !have_tool("xvfb-run") || !have_tool("timeout"))
    GTEST_SKIP() << "gtkwave or xvfb-run not installed";
  TempDir dir;
  const std::string vcd_path = dir.file("t.vcd"), gtkw_path = dir.file("t.gtkw");
  const KnownTrace t;
  t.write(vcd_path, 2000, 0);
  VcdWriter names;  // the same declarations, to get the signal list
  names.add_signal({"accelerator", "controller"}, "valid", 1);
  names.add_signal({"accelerator", "controller"}, "state", 4, TraceRadix::Dec);
  names.add_signal({"accelerator", "array", "pe_r0_c0"}, "act_in", 16, TraceRadix::Signed);
  names.add_signal({"accelerator", "array", "pe_r0_c0"}, "psum", 48, TraceRadix::Signed);
  names.add_signal({"accelerator", "array", "pe_r0_c0"}, "wide", 64);
  write_gtkw(gtkw_path, vcd_path, names.signals());
  {
    std::ofstream tcl(dir.file("list.tcl"));
    tcl << "set n [gtkwave::getTotalNumTraces]\n"
           "for {set i 0} {$i < $n} {incr i} {\n"
           "  puts \"TRACE [gtkwave::getTraceNameFromIndex $i] "
           "[format %x [gtkwave::getTraceFlagsFromIndex $i]]\"\n"
           "}\n"
           "gtkwave::/File/Quit\n";
  }
  std::string err;
  ASSERT_EQ(run("timeout 60 xvfb-run -a gtkwave -S " + dir.file("list.tcl") + " " + gtkw_path +
                    " > " + dir.file("out.txt"),
                dir.file("err.txt"), err),
            0)
      << err;
  std::istringstream out(read_file(dir.file("out.txt")));
  std::vector<std::string> traces;
  std::string line;
  while (std::getline(out, line))
    if (line.rfind("TRACE ", 0) == 0) traces.push_back(line.substr(6));
  EXPECT_EQ(traces, (std::vector<std::string>{"controller 800200", "valid 28", "state[3:0] 24",
                                              "controller 1000200", "array.pe_r0_c0 800200",
                                              "act_in[15:0] 420", "psum[47:0] 420", "wide[63:0] 22",
                                              "array.pe_r0_c0 1000200"}));
}
