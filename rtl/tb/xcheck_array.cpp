// RTL array = SystemC array on a layer: replays a VCD that `brsim layer` (or
// `brsim run`) wrote of every PE of a 4x4 weight-stationary array, drives
// the RTL array of xcheck_top.v with the same weights and activations on
// the same clock edges, and compares every PE register (weight, activation,
// product, partial sum) and the array's outputs with the VCD, cycle by
// cycle, over the whole trace.
//
// From the VCD: a fold starts at the cycle the controller's fold number
// changes (state 2) and its array edges are the cycles after it up to the
// next change of state or fold: R load edges (the last clears the
// activation, product and partial-sum registers), then the stream edges
// (docs/cycle-model.md "Cycle model"). On a load edge the code entering column c is the
// one whose decode is the VCD's decoder_c<c> output: the testbench inverts
// the decoder under the first segment configuration (n2, p) that explains
// every weight of that column's fold, and loads that configuration into the
// RTL decoder's reconfiguration register before the fold.
//
// The RTL starts from reset; a trace of one layer of a run starts with the
// registers the previous layer left. So a register is compared from the
// edge that first defines it from the trace: row r's weights after r + 1
// load edges, activations, products and partial sums after the first
// clearing edge.
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

#include "Vxcheck_top.h"
#include "brslog.h"
#include "trace_folds.h"
#include "vcd_reader.h"
#include "vl_bits.h"
#include "xcheck.h"

namespace rtlcheck {

namespace {

constexpr int kR = 4, kC = 4;

struct ArrayInst {
  int index;
  bool fixed;
  int bits, k, a, acc;
};
// The arrays of xcheck_top.v (shift field 4 bits).
const ArrayInst kArrays[] = {{0, false, 5, 4, 16, 48}, {1, true, 0, 0, 16, 48}, {2, false, 4, 6, 16, 40}};

struct Fold : TraceFold {
  std::vector<uint32_t> codes;  // BRSLog: R load edges x C columns
  std::vector<int> n2, p;       // per column
};

std::string pe(int r, int c) { return "accelerator.array.pe_r" + std::to_string(r) + "_c" + std::to_string(c) + "."; }

void tick(Vxcheck_top& m) {
  m.clk = 0;
  m.eval();
  m.clk = 1;
  m.eval();
}

}  // namespace

int run_array(const std::string& path, int bits, int k) {
  const VcdReader v(path);
  int R = 0, C = 0;
  while (v.find("accelerator.array.boundary.act_in_r" + std::to_string(R)) >= 0) ++R;
  while (v.find("accelerator.array.boundary.psum_out_c" + std::to_string(C)) >= 0) ++C;
  if (R != kR || C != kC)
    throw std::runtime_error(path + ": a " + std::to_string(R) + "x" + std::to_string(C) +
                             " array; the RTL array is 4x4 (run brsim with --array 4x4 --vcd-pes all)");
  const bool fixed = v.find(pe(0, 0) + "w_q") >= 0;
  const int A = v.signals()[static_cast<size_t>(v.require("accelerator.array.boundary.act_in_r0"))].width;
  const int acc = v.signals()[static_cast<size_t>(v.require("accelerator.array.boundary.psum_out_c0"))].width;
  const ArrayInst* inst = nullptr;
  for (const ArrayInst& a : kArrays)
    if (a.fixed == fixed && a.a == A && a.acc == acc && (fixed || (a.bits == bits && a.k == k))) inst = &a;
  if (!inst)
    throw std::runtime_error(path + ": no RTL array for " + (fixed ? std::string("fixed16") : "BRSLog N = " +
                             std::to_string(bits) + ", K = " + std::to_string(k)) + ", A = " + std::to_string(A) +
                             ", acc " + std::to_string(acc) + " bits (xcheck_top.v lists the ones there are)");
  if (!fixed && v.signals()[static_cast<size_t>(v.require(pe(0, 0) + "w_shift"))].width != 4)
    throw std::runtime_error(path + ": the RTL arrays have a 4-bit shift field");

  // Signals.
  std::vector<int> act_in(kR), psum_out(kC), dz(kC), ds(kC), df(kC), dsh(kC);
  for (int r = 0; r < kR; ++r) act_in[r] = v.require("accelerator.array.boundary.act_in_r" + std::to_string(r));
  for (int c = 0; c < kC; ++c) {
    psum_out[c] = v.require("accelerator.array.boundary.psum_out_c" + std::to_string(c));
    if (fixed) continue;
    const std::string d = "accelerator.array.decoder_c" + std::to_string(c) + ".";
    dz[c] = v.require(d + "zero"), ds[c] = v.require(d + "sign"), df[c] = v.require(d + "flag"),
    dsh[c] = v.require(d + "shift");
  }
  struct PeSig { int w[4], act, prod, psum; };
  std::vector<PeSig> ps(kR * kC);
  for (int r = 0; r < kR; ++r)
    for (int c = 0; c < kC; ++c) {
      PeSig& s = ps[r * kC + c];
      if (fixed) {
        s.w[0] = v.require(pe(r, c) + "w_q");
      } else {
        s.w[0] = v.require(pe(r, c) + "w_zero"), s.w[1] = v.require(pe(r, c) + "w_sign");
        s.w[2] = v.require(pe(r, c) + "w_flag"), s.w[3] = v.require(pe(r, c) + "w_shift");
      }
      s.act = v.require(pe(r, c) + "act"), s.prod = v.require(pe(r, c) + "product"), s.psum = v.require(pe(r, c) + "psum");
    }

  // Pass 1: the folds, and the weights entering row 0 on their load edges.
  std::vector<Fold> folds;
  for (const TraceFold& f : find_folds(v, path)) {
    Fold g;
    g.start = f.start, g.end = f.end;
    folds.push_back(g);
  }
  if (folds.empty()) throw std::runtime_error(path + ": no fold in the trace (controller state 2)");
  {
    VcdState s(v);
    for (Fold& f : folds) {
      if (f.end - f.start < static_cast<uint64_t>(2 * kR + kC))
        throw std::runtime_error(path + ": the fold at cycle " + std::to_string(f.start) + " has " +
                                 std::to_string(f.end - f.start) + " edges, fewer than R load edges and a stream");
      std::vector<std::vector<uint64_t>> col(kC);
      for (int e = 1; e <= kR; ++e) {
        s.advance_to(f.start + e);
        for (int c = 0; c < kC; ++c) {
          if (fixed) {
            col[c].push_back(s.value(ps[c].w[0]));
          } else {
            col[c].push_back(s.value(dz[c]) | s.value(ds[c]) << 1 | s.value(df[c]) << 2 | s.value(dsh[c]) << 3);
          }
        }
      }
      f.codes.assign(kR * kC, 0);
      f.n2.assign(kC, 0);
      f.p.assign(kC, 0);
      for (int c = 0; c < kC; ++c) {
        std::vector<uint32_t> codes;
        if (fixed) {
          for (uint64_t w : col[c]) codes.push_back(static_cast<uint32_t>(w));
        } else if (!invert_decoded(col[c], bits, &codes, &f.n2[c], &f.p[c])) {
          throw std::runtime_error(path + ": the weights entering column " + std::to_string(c) + " in the fold at cycle " +
                                   std::to_string(f.start) + " are not the decode of any code under any (n2, p)");
        }
        for (int e = 0; e < kR; ++e) f.codes[e * kC + c] = codes[e];
      }
    }
  }

  // Pass 2: the RTL array clocked every cycle of the trace, compared every cycle.
  Vxcheck_top m;
  const int i = inst->index;
  const uint8_t bit = static_cast<uint8_t>(1u << i);
  const int WR = fixed ? 16 : 7;
  m.arr_rst = bit;
  tick(m);
  m.arr_rst = 0;
  VcdState s(v);
  Tally t;
  uint64_t load_edges = 0, stream_edges = 0, skipped = 0;
  bool cleared = false;  // the first clearing edge has been
  size_t fi = 0;
  const uint64_t first = v.changes().front().cycle, last = v.last_cycle();
  for (uint64_t cyc = first; cyc <= last; ++cyc) {
    s.advance_to(cyc);
    m.arr_cfg_we = 0, m.arr_wload = 0, m.arr_clr = 0, m.arr_stream = 0;
    while (fi < folds.size() && folds[fi].end < cyc) ++fi;
    if (fi < folds.size() && cyc == folds[fi].start && !fixed) {
      m.arr_cfg_we = bit;
      for (int c = 0; c < kC; ++c) {
        set_bits(&m.arr_cfg_n2, c * 4, 4, static_cast<uint64_t>(folds[fi].n2[c]));
        set_bits(&m.arr_cfg_p, c, 1, static_cast<uint64_t>(folds[fi].p[c]));
      }
    } else if (fi < folds.size() && cyc > folds[fi].start && cyc <= folds[fi].end) {
      const uint64_t e = cyc - folds[fi].start;
      if (e <= static_cast<uint64_t>(kR)) {
        m.arr_wload = bit;
        if (e == static_cast<uint64_t>(kR)) m.arr_clr = bit, cleared = true;
        // Load edge e brings tile row R - e into row 0 (it ends in row R - e).
        for (int c = 0; c < kC; ++c) set_bits(&m.arr_w_in, c * 16, 16, folds[fi].codes[(e - 1) * kC + c]);
        ++load_edges;
      } else {
        m.arr_stream = bit;
        for (int r = 0; r < kR; ++r) set_bits(&m.arr_act_in, r * 16, 16, s.value(act_in[r]));
        ++stream_edges;
      }
    }
    tick(m);
    auto cmp = [&](int sig, uint64_t got, const std::string& what, bool defined) {
      if (!s.known(sig)) return;
      if (!defined) {
        ++skipped;
        return;
      }
      const uint64_t want = s.value(sig);
      t.check(got == want, true, [&] {
        return "cycle " + std::to_string(cyc) + " " + what + ": rtl " + std::to_string(got) + ", vcd " + std::to_string(want);
      });
    };
    for (int r = 0; r < kR; ++r)
      for (int c = 0; c < kC; ++c) {
        const int j = i * 16 + r * kC + c;
        const PeSig& p = ps[r * kC + c];
        const uint64_t w = get_bits(m.arr_pe_w, j * 16, WR);
        const std::string n = pe(r, c);
        const bool wdef = load_edges >= static_cast<uint64_t>(r + 1);
        if (fixed) {
          cmp(p.w[0], w, n + "w_q", wdef);
        } else {
          cmp(p.w[0], w & 1, n + "w_zero", wdef);
          cmp(p.w[1], (w >> 1) & 1, n + "w_sign", wdef);
          cmp(p.w[2], (w >> 2) & 1, n + "w_flag", wdef);
          cmp(p.w[3], w >> 3, n + "w_shift", wdef);
        }
        cmp(p.act, get_bits(m.arr_pe_act, j * 16, A), n + "act", cleared);
        cmp(p.prod, get_bits(m.arr_pe_prod, j * 48, acc), n + "product", cleared);
        cmp(p.psum, get_bits(m.arr_pe_psum, j * 48, acc), n + "psum", cleared);
      }
    for (int c = 0; c < kC; ++c) {
      cmp(psum_out[c], get_bits(m.arr_psum_out, (i * 4 + c) * 48, acc), "psum_out_c" + std::to_string(c), cleared);
      if (!fixed) {  // decoder_c<c> shows what row 0 took from the decoder
        const uint64_t w = get_bits(m.arr_pe_w, (i * 16 + c) * 16, WR);
        const bool wdef = load_edges >= 1;
        cmp(dz[c], w & 1, "decoder_c" + std::to_string(c) + ".zero", wdef);
        cmp(ds[c], (w >> 1) & 1, "decoder_c" + std::to_string(c) + ".sign", wdef);
        cmp(df[c], (w >> 2) & 1, "decoder_c" + std::to_string(c) + ".flag", wdef);
        cmp(dsh[c], w >> 3, "decoder_c" + std::to_string(c) + ".shift", wdef);
      }
    }
  }
  m.final();
  std::printf("RTL 4x4 array vs the SystemC array's VCD %s\n", path.c_str());
  std::printf("  %s, A = %d, acc %d bits: %zu folds, %llu load + %llu stream edges, cycles %llu..%llu\n",
              fixed ? "fixed16" : ("BRSLog N = " + std::to_string(bits) + ", K = " + std::to_string(k)).c_str(), A, acc,
              folds.size(), static_cast<unsigned long long>(load_edges), static_cast<unsigned long long>(stream_edges),
              static_cast<unsigned long long>(first), static_cast<unsigned long long>(last));
  std::printf("  %llu register values compared cycle by cycle (%llu before the trace defined them), %llu mismatches\n",
              static_cast<unsigned long long>(t.checks), static_cast<unsigned long long>(skipped),
              static_cast<unsigned long long>(t.bad));
  const bool ok = t.bad == 0 && stream_edges > 0;
  std::printf("%s\n", ok ? "bit and cycle exact" : "FAILED");
  return ok ? 0 : 1;
}

}  // namespace rtlcheck
