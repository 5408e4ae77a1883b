// Switching activity, VCD and SAIF of the cycle-by-cycle array, against the
// documented WS timing evaluated independently here: pixel p's activation
// enters row r at stream edge p + r, sits in PE (r, c) after edge p + r + c,
// and is multiplied there at edge p + r + c + 1 (product register), adding
// to the partial sum coming from PE (r - 1, c).
#include <gtest/gtest.h>

#include "temp_dir.h"
#include "vcd_reader.h"

#include <cstdlib>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include "accel_host.h"
#include "accel_tracer.h"
#include "datapath.h"
#include "errors.h"
#include "golden.h"
#include "qnet.h"
#include "synthetic_layer.h"

using namespace brsim;

namespace {

// One fold's register sequences for every PE, from the timing equations.
struct Expected {
  int R, C;
  uint64_t P, edges;
  // [edge][r][c] after each stream edge
  std::vector<std::vector<int64_t>> act, prod, psum;
  uint64_t toggles_act = 0, toggles_prod = 0, toggles_psum = 0, toggles_weight = 0;
};

uint64_t pop(uint64_t v, int bits) { return static_cast<uint64_t>(__builtin_popcountll(bits >= 64 ? v : v & ((1ull << bits) - 1))); }

Expected expect_single_fold(const std::vector<int32_t>& A, uint64_t P, uint64_t K, const std::vector<int64_t>& w,
                            const std::vector<uint64_t>& wbits, uint64_t M, const ArchConfig& arch) {
  Expected e;
  e.R = arch.rows, e.C = arch.cols, e.P = P;
  e.edges = P + static_cast<uint64_t>(e.R + e.C - 1);
  const int Abits = arch.datapath.act_bits, acc = arch.datapath.acc_bits;
  const size_t n = static_cast<size_t>(e.R * e.C);
  auto weight = [&](int r, int c) -> int64_t {
    return (static_cast<uint64_t>(r) < K && static_cast<uint64_t>(c) < M) ? w[static_cast<size_t>(r) * M + c] : 0;
  };
  // Weight registers: R load edges; after edge i, row r holds tile row r - (R - 1 - i) (rows shift down).
  std::vector<uint64_t> wreg(n, 1);  // reset: every weight register holds a zero weight (zero flag set)
  for (int i = 0; i < e.R; ++i) {
    // Load edge i: row 0 takes tile row R-1-i and every row below takes the
    // one above, so after edge i row r <= i holds tile row R-1-i+r.
    std::vector<uint64_t> next = wreg;
    for (int r = 0; r <= i; ++r)
      for (int c = 0; c < e.C; ++c) {
        const uint64_t tr = static_cast<uint64_t>(e.R - 1 - i + r);
        next[static_cast<size_t>(r * e.C + c)] =
            (tr < K && static_cast<uint64_t>(c) < M) ? wbits[tr * M + static_cast<uint64_t>(c)] : 1;
      }
    for (size_t j = 0; j < n; ++j) e.toggles_weight += pop(next[j] ^ wreg[j], 64);
    wreg = next;
  }
  auto act_after = [&](uint64_t s, int r, int c) -> int64_t {  // activation in PE (r, c) after edge s
    const int64_t p = static_cast<int64_t>(s) - r - c;
    return (p >= 0 && static_cast<uint64_t>(p) < P && static_cast<uint64_t>(r) < K) ? A[static_cast<size_t>(p) * K + r] : 0;
  };
  std::vector<int64_t> prev_act(n, 0), prev_prod(n, 0), prev_psum(n, 0);
  for (uint64_t s = 0; s < e.edges; ++s) {
    std::vector<int64_t> a(n), pr(n), ps(n);
    for (int r = 0; r < e.R; ++r)
      for (int c = 0; c < e.C; ++c) {
        const size_t i = static_cast<size_t>(r * e.C + c);
        a[i] = act_after(s, r, c);
        pr[i] = s == 0 ? 0 : act_after(s - 1, r, c) * weight(r, c);
        ps[i] = (r ? prev_psum[static_cast<size_t>((r - 1) * e.C + c)] : 0) + pr[i];
        e.toggles_act += pop(static_cast<uint64_t>(a[i] ^ prev_act[i]), Abits);
        e.toggles_prod += pop(static_cast<uint64_t>(pr[i] ^ prev_prod[i]), acc);
        e.toggles_psum += pop(static_cast<uint64_t>(ps[i] ^ prev_psum[i]), acc);
      }
    e.act.push_back(a), e.prod.push_back(pr), e.psum.push_back(ps);
    prev_act = a, prev_prod = pr, prev_psum = ps;
  }
  return e;
}

struct Case {
  QuantizedNetwork q;
  AccelProgram prog;
  ActTensor input;
  std::vector<int32_t> A;  // im2col [P x K]
  std::vector<int64_t> w;  // [K x M] effective weights
  std::vector<uint64_t> wbits;
  uint64_t P, K, M;
};

Case single_fold_case(const ArchConfig& arch) {
  LayerSpec s;
  s.name = "tiny";
  s.in_c = 1, s.in_h = 4, s.in_w = 4, s.kh = 2, s.kw = 2, s.out_m = 3;  // K = 4, P = 9, M = 3
  const SyntheticLayer sl = make_synthetic_layer(s, 7);
  NetQuantOptions o;
  o.weights.datapath = arch.datapath;
  Case c;
  c.q = quantize_network(sl.net, sl.formats, o);
  c.prog = compile_network(c.q, arch);
  c.input = quantize_input(c.q, sl.input, nullptr);
  Conv2dShape cs;
  cs.kh = cs.kw = 2;
  int64_t oh, ow;
  c.A = im2col(c.input, cs, &oh, &ow);
  c.P = static_cast<uint64_t>(oh * ow), c.K = 4, c.M = 3;
  const IntWeights& iw = c.q.layers[0].iw;
  const Sqrt2Approx approx = sqrt2_approx(arch.datapath.sqrt2_terms);
  for (uint64_t k = 0; k < c.K; ++k)
    for (uint64_t m = 0; m < c.M; ++m) {
      const DecodedWeight d = decode(iw.codes[k * c.M + m], iw.config_of_column(static_cast<int64_t>(m)));
      c.w.push_back(ae_effective_weight(d, approx));
      c.wbits.push_back(uint64_t{d.zero} | (uint64_t{d.sign} << 1) | (uint64_t{d.flag} << 2) | (uint64_t{d.shift} << 3));
    }
  return c;
}

ArchConfig small_arch() {
  ArchConfig a;
  a.rows = a.cols = 4;
  return a;
}

using brsim_test::read_file;
using brsim_test::read_vcd;
using brsim_test::sign_extend;
using brsim_test::VcdFile;

}  // namespace

TEST(Activity, ToggleCountsEqualTheTimingEquations) {
  const ArchConfig arch = small_arch();
  const Case c = single_fold_case(arch);
  const Expected e = expect_single_fold(c.A, c.P, c.K, c.w, c.wbits, c.M, arch);
  const AccelRunResult r = run_accelerator(c.prog, {c.input}, nullptr);
  const LayerStats& s = r.layers[0].stats;
  EXPECT_EQ(s.folds, 1u);
  EXPECT_EQ(s.toggles_act, e.toggles_act);
  EXPECT_EQ(s.toggles_product, e.toggles_prod);
  EXPECT_EQ(s.toggles_psum, e.toggles_psum);
  EXPECT_EQ(s.toggles_weight, e.toggles_weight);
  EXPECT_GT(e.toggles_psum, 0u);
  // Useful AE ops: P per tile weight, split by path.
  uint64_t zero = 0, sqrt2 = 0, pow2 = 0;
  for (uint64_t b : c.wbits) (b & 1) ? ++zero : (b & 4) ? ++sqrt2 : ++pow2;
  EXPECT_EQ(s.ae_zero, c.P * zero);
  EXPECT_EQ(s.ae_sqrt2, c.P * sqrt2);
  EXPECT_EQ(s.ae_pow2, c.P * pow2);
}

TEST(Traces, VcdPartialSumsAndSaifTogglesMatchTheModel) {
  const ArchConfig arch = small_arch();
  const Case c = single_fold_case(arch);
  const Expected e = expect_single_fold(c.A, c.P, c.K, c.w, c.wbits, c.M, arch);
  const brsim_test::TempDir tmp;
  const std::string dir = tmp.path() + "/";
  TraceOptions o;
  o.vcd_path = dir + "act.vcd";
  o.saif_path = dir + "act.saif";
  o.select = TraceSelection::parse("all", "all", "all", "");
  o.expected_cycles = closed_form(c.prog.layers[0].desc, arch).total();
  AccelRunResult r;
  {
    AccelTracer tracer(o, arch, {c.prog.layers[0].name});
    r = run_accelerator(c.prog, {c.input}, nullptr, &tracer);
  }
  const LayerStats& s = r.layers[0].stats;
  const VcdFile v = read_vcd(o.vcd_path);
  // The fold starts when the controller enters state 2; the array's first
  // load edge is the next cycle, its first stream edge R cycles later.
  const std::string key = "accelerator.controller.state";
  ASSERT_TRUE(v.has(key)) << "no controller.state in the VCD";
  uint64_t t_fold = 0;
  v.first_time(key, 2, &t_fold);
  ASSERT_GT(t_fold, 0u);
  const uint64_t tpc = 2;  // 500 MHz in 1 ns ticks
  for (int pr = 0; pr < arch.rows; ++pr)
    for (int pc = 0; pc < arch.cols; ++pc)
      for (uint64_t edge = 0; edge < e.edges; edge += 3) {
        const uint64_t cycle = t_fold / tpc + 1 + static_cast<uint64_t>(arch.rows) + edge;
        const std::string pe = "accelerator.array.pe_r" + std::to_string(pr) + "_c" + std::to_string(pc);
        EXPECT_EQ(sign_extend(v.at(pe + ".psum", cycle * tpc), 48),
                  e.psum[edge][static_cast<size_t>(pr * arch.cols + pc)])
            << pe << " stream edge " << edge;
        EXPECT_EQ(sign_extend(v.at(pe + ".act", cycle * tpc), 16), e.act[edge][static_cast<size_t>(pr * arch.cols + pc)]);
      }
  // SAIF: parentheses balance, and the nets' TC add up to the activity report.
  const std::string saif = read_file(o.saif_path);
  int depth = 0;
  for (char ch : saif) {
    depth += ch == '(' ? 1 : ch == ')' ? -1 : 0;
    ASSERT_GE(depth, 0);
  }
  EXPECT_EQ(depth, 0);
  EXPECT_NE(saif.find("(SAIFVERSION \"2.0\")"), std::string::npos);
  uint64_t tc = 0;
  const std::regex re("\\(TC ([0-9]+)\\)");
  for (auto it = std::sregex_iterator(saif.begin(), saif.end(), re); it != std::sregex_iterator(); ++it)
    tc += std::stoull((*it)[1].str());
  EXPECT_EQ(tc, s.toggles_weight + s.toggles_act + s.toggles_product + s.toggles_psum);
  // Every VCD converts with GTKWave's vcd2fst.
  if (std::system("command -v vcd2fst > /dev/null 2>&1") == 0) {
    EXPECT_EQ(std::system(("vcd2fst " + o.vcd_path + " " + dir + "act.fst > /dev/null 2>&1").c_str()), 0);
  }
  EXPECT_NE(read_file(dir + "act.gtkw").find("[dumpfile] \"" + o.vcd_path + "\""), std::string::npos);
}

TEST(Traces, SelectionAndWindowLimitTheFile) {
  const ArchConfig arch = small_arch();
  const Case c = single_fold_case(arch);
  const brsim_test::TempDir tmp;
  const std::string dir = tmp.path() + "/";
  TraceOptions o;
  o.vcd_path = dir + "sel.vcd";
  o.select = TraceSelection::parse("controller", "r1,c2", "150-200", "");
  o.expected_cycles = closed_form(c.prog.layers[0].desc, arch).total();
  {
    AccelTracer tracer(o, arch, {c.prog.layers[0].name});
    run_accelerator(c.prog, {c.input}, nullptr, &tracer);
  }
  const VcdFile v = read_vcd(o.vcd_path);
  for (const auto& [name, var] : v.vars) {
    const bool ok = name.rfind("accelerator.controller.", 0) == 0 || name.rfind("accelerator.array.pe_r1_c2.", 0) == 0;
    EXPECT_TRUE(ok) << name;
    for (const brsim_test::VcdChange& c : var.changes) {
      EXPECT_GE(c.time, 150u * 2) << name;
      EXPECT_LT(c.time, 200u * 2) << name;
    }
  }
  EXPECT_TRUE(v.has("accelerator.array.pe_r1_c2.psum"));
  // The size limit refuses a large trace unless forced.
  o.vcd_path = dir + "big.vcd";
  o.select = TraceSelection::parse("all", "all", "all", "");
  o.limit.max_bytes = 1000;
  try {
    AccelTracer tracer(o, arch, {"tiny"});
    FAIL() << "a VCD over the limit was accepted";
  } catch (const ConfigError& err) {
    EXPECT_NE(std::string(err.what()).find("pass --vcd-force"), std::string::npos) << err.what();
  }
  o.limit.force = true;
  EXPECT_NO_THROW(AccelTracer(o, arch, {"tiny"}));
}

// Every dataflow: the SAIF file, sampled from the PE registers after every
// array edge, toggles exactly as often as the array's activity counters
// say, on a layer of several folds (double buffered too); the run is bit
// exact and the VCD holds the os accumulators' dot products.
TEST(Traces, SaifTogglesMatchTheModelInEveryDataflow) {
  for (Dataflow flow : {Dataflow::WeightStationary, Dataflow::OutputStationary, Dataflow::InputStationary}) {
    ArchConfig arch = small_arch();
    arch.dataflow = flow;
    arch.double_buffer_weights = flow == Dataflow::InputStationary;
    LayerSpec s;
    s.name = "multi";
    s.in_c = 3, s.in_h = 5, s.in_w = 5, s.kh = s.kw = 2, s.out_m = 6;  // K = 12, P = 16, M = 6
    const SyntheticLayer sl = make_synthetic_layer(s, 11);
    NetQuantOptions qo;
    qo.weights.datapath = arch.datapath;
    const QuantizedNetwork q = quantize_network(sl.net, sl.formats, qo);
    const AccelProgram prog = compile_network(q, arch);
    const GoldenRun g = golden_run(q, prog, {sl.input});
    const brsim_test::TempDir tmp(to_string(flow));
    const std::string dir = tmp.file(to_string(flow));
    TraceOptions o;
    o.vcd_path = dir + ".vcd";
    o.saif_path = dir + ".saif";
    o.select = TraceSelection::parse("all", "all", "all", "");
    o.expected_cycles = closed_form(prog.layers[0].desc, arch).total();
    AccelRunResult r;
    {
      AccelTracer tracer(o, arch, {prog.layers[0].name});
      r = run_accelerator(prog, g.inputs, &g.expected, &tracer);
    }
    ASSERT_TRUE(r.bit_exact) << to_string(flow) << ": " << r.mismatch;
    const LayerStats& st = r.layers[0].stats;
    EXPECT_GT(st.folds, 2u) << to_string(flow);
    const std::string saif = read_file(o.saif_path);
    uint64_t tc = 0;
    const std::regex re("\\(TC ([0-9]+)\\)");
    for (auto it = std::sregex_iterator(saif.begin(), saif.end(), re); it != std::sregex_iterator(); ++it)
      tc += std::stoull((*it)[1].str());
    EXPECT_EQ(tc, st.toggles_weight + st.toggles_act + st.toggles_product + st.toggles_psum) << to_string(flow);
    EXPECT_GT(st.toggles_weight, 0u);
    EXPECT_GT(st.toggles_act, 0u);
    if (flow != Dataflow::OutputStationary) continue;
    // os, first fold (pixels 0..3, channels 0..3, all K = 12 in one strip):
    // PE (r, c) holds sum_k A[r][k] W[k][c] after the last stream edge,
    // K + R + C - 1 edges after the fold starts.
    Conv2dShape cs;
    cs.kh = cs.kw = 2;
    int64_t oh, ow;
    const std::vector<int32_t> A = im2col(g.inputs[0], cs, &oh, &ow);
    const IntWeights& iw = q.layers[0].iw;
    const Sqrt2Approx approx = sqrt2_approx(arch.datapath.sqrt2_terms);
    const VcdFile v = read_vcd(o.vcd_path);
    uint64_t t_fold = 0;
    v.first_time("accelerator.controller.state", 2, &t_fold);
    const uint64_t tpc = 2, K = 12;
    const uint64_t last_edge_cycle = t_fold / tpc + 1 + K + 4 + 4 - 2;
    for (int r = 0; r < 4; ++r)
      for (int c = 0; c < 4; ++c) {
        int64_t dot = 0;
        for (uint64_t k = 0; k < K; ++k)
          dot += int64_t{A[static_cast<size_t>(r) * K + k]} *
                 ae_effective_weight(decode(iw.codes[k * 6 + static_cast<uint64_t>(c)], iw.config_of_column(c)), approx);
        const std::string pe = "accelerator.array.pe_r" + std::to_string(r) + "_c" + std::to_string(c);
        EXPECT_EQ(sign_extend(v.at(pe + ".psum", last_edge_cycle * tpc), 48), dot) << pe;
      }
  }
}
