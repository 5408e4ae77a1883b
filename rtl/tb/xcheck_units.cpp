// RTL = C++ on every code: the Verilated decoders, AEs, fixed16 multipliers
// and PEs of xcheck_top.v against the simulator's pure numerics
// (brslog.h, sqrt2.h, datapath.h), exhaustively over code words and
// segment configurations, with activations at the edges of their range and
// seeded random ones.
#include <array>
#include <cstdio>
#include <random>
#include <vector>

#include "Vxcheck_top.h"
#include "brslog.h"
#include "datapath.h"
#include "sqrt2.h"
#include "vl_bits.h"
#include "xcheck.h"

namespace rtlcheck {

namespace {

void tick(Vxcheck_top& m) {
  m.clk = 0;
  m.eval();
  m.clk = 1;
  m.eval();
}

// Activations at the edges of every width under test, then random ones.
std::vector<uint64_t> activations(const std::vector<int>& widths, int randoms, std::mt19937_64& rng) {
  std::vector<uint64_t> v;
  for (int a : widths) {
    const int64_t lo = brsim::act_min(a), hi = brsim::act_max(a);
    for (int64_t x : {lo, lo + 1, int64_t{-1}, int64_t{0}, int64_t{1}, hi - 1, hi}) v.push_back(static_cast<uint64_t>(x));
  }
  for (int i = 0; i < randoms; ++i) v.push_back(rng());
  return v;
}

void decoders(Vxcheck_top& m, Tally& t) {
  struct Inst { int n, sb; };
  std::vector<Inst> inst;
  for (int i = 0; i < kDecoders; ++i) {
    const uint64_t par = get_bits(m.dec_par, i * 8, 8);
    inst.push_back({static_cast<int>(par & 15), static_cast<int>(par >> 4)});
  }
  for (int n2 = 0; n2 < 128; ++n2)
    for (int p = 0; p < 2; ++p) {
      m.cfg_n2 = static_cast<uint8_t>(n2);
      m.cfg_p = static_cast<uint8_t>(p);
      m.cfg_we = 1;
      tick(m);
      // The register holds without cfg_we, whatever the inputs do.
      m.cfg_we = 0;
      m.cfg_n2 = static_cast<uint8_t>(n2 ^ 0x55);
      m.cfg_p = static_cast<uint8_t>(!p);
      tick(m);
      for (int code = 0; code < 256; ++code) {
        m.code = static_cast<uint8_t>(code);
        m.eval();
        for (int i = 0; i < kDecoders; ++i) {
          const Inst& d = inst[static_cast<size_t>(i)];
          if (n2 > brsim::num_levels(d.n) || code >= (1 << d.n)) continue;
          const brsim::SegmentConfig cfg{d.n, n2, p, 0};
          const brsim::DecodedWeight w = brsim::decode(static_cast<uint32_t>(code), cfg);
          // The shift field keeps SHIFT_BITS bits: exact for every
          // configuration the datapath accepts, the low bits otherwise.
          const uint64_t want = static_cast<uint64_t>(w.zero) | (uint64_t{w.sign} << 1) | (uint64_t{w.flag} << 2) |
                                (uint64_t{w.shift & mask_bits(d.sb)} << 3);
          const uint64_t got = get_bits(m.dec_out, i * 9, 9);
          const bool within = brsim::max_shift(cfg) <= (1 << d.sb) - 1;
          t.check(got == want, within, [&] {
            char b[200];
            std::snprintf(b, sizeof b, "decoder N=%d SHIFT_BITS=%d n2=%d p=%d code=%d: rtl 0x%llx, c++ 0x%llx", d.n,
                          d.sb, n2, p, code, static_cast<unsigned long long>(got),
                          static_cast<unsigned long long>(want));
            return std::string(b);
          });
        }
      }
    }
}

void aes(Vxcheck_top& m, Tally& t, std::mt19937_64& rng, int randoms) {
  struct Inst { int a, k, sb, acc; };
  std::vector<Inst> inst;
  for (int i = 0; i < kAes; ++i) {
    const uint64_t par = get_bits(m.ae_par, i * 32, 32);
    inst.push_back({static_cast<int>(par & 255), static_cast<int>((par >> 8) & 255), static_cast<int>((par >> 16) & 255),
                    static_cast<int>(par >> 24)});
  }
  std::array<brsim::Sqrt2Approx, 8> approx;
  for (int k = 1; k <= 7; ++k) approx[static_cast<size_t>(k)] = brsim::sqrt2_approx(k);
  // Whether instance i with shift s is within the datapath limits.
  std::vector<std::array<bool, 64>> limits(inst.size());
  for (size_t i = 0; i < inst.size(); ++i)
    for (int s = 0; s < 64; ++s) {
      const brsim::DatapathConfig dp{inst[i].a, inst[i].acc, inst[i].sb, inst[i].k};
      limits[i][static_cast<size_t>(s)] = s < (1 << inst[i].sb) && brsim::min_acc_bits(s, dp) <= inst[i].acc;
    }
  for (uint64_t a : activations({2, 3, 8, 16, 17, 32}, randoms, rng)) {
    m.ae_a = static_cast<uint32_t>(a);
    for (int f = 0; f < 8; ++f)
      for (int shift = 0; shift < 64; ++shift) {
        brsim::DecodedWeight d;
        d.zero = f & 1, d.sign = (f >> 1) & 1, d.flag = static_cast<uint8_t>((f >> 2) & 1);
        d.shift = static_cast<uint8_t>(shift);
        m.ae_zero = d.zero, m.ae_sign = d.sign, m.ae_flag = d.flag, m.ae_shift = d.shift;
        m.eval();
        for (int i = 0; i < kAes; ++i) {
          const Inst& e = inst[static_cast<size_t>(i)];
          if (shift >= (1 << e.sb)) continue;
          const int64_t ai = sign_extend(a, e.a);
          // ae_product works modulo 2^64, so its low ACC bits are the RTL's
          // for every input; within the datapath limits they are exact.
          const uint64_t want =
              static_cast<uint64_t>(brsim::ae_product(ai, d, approx[static_cast<size_t>(e.k)])) & mask_bits(e.acc);
          const uint64_t got = get_bits(m.ae_out, i * 64, e.acc);
          const bool within = limits[static_cast<size_t>(i)][static_cast<size_t>(shift)];
          t.check(got == want, within, [&] {
            char b[240];
            std::snprintf(b, sizeof b, "AE A=%d K=%d SHIFT_BITS=%d ACC=%d a=%lld zero=%d sign=%d flag=%d shift=%d: rtl 0x%llx, c++ 0x%llx",
                          e.a, e.k, e.sb, e.acc, static_cast<long long>(ai), d.zero, d.sign, d.flag, shift,
                          static_cast<unsigned long long>(got), static_cast<unsigned long long>(want));
            return std::string(b);
          });
        }
      }
  }
}

void multipliers(Vxcheck_top& m, Tally& t, std::mt19937_64& rng, int randoms) {
  std::vector<uint64_t> ws = activations({16}, randoms, rng);
  for (uint64_t a : activations({2, 8, 16, 32}, randoms, rng)) {
    m.mul_a = static_cast<uint32_t>(a);
    for (uint64_t w : ws) {
      m.mul_w = static_cast<uint16_t>(w);
      m.eval();
      for (int i = 0; i < kMuls; ++i) {
        const uint64_t par = get_bits(m.mul_par, i * 16, 16);
        const int A = static_cast<int>(par & 255), acc = static_cast<int>(par >> 8);
        const int64_t ai = sign_extend(a, A);
        const int16_t wq = static_cast<int16_t>(static_cast<uint16_t>(w));
        const uint64_t want = static_cast<uint64_t>(brsim::fixed16_product(ai, wq)) & mask_bits(acc);
        const uint64_t got = get_bits(m.mul_out, i * 64, acc);
        t.check(got == want, true, [&] {
          return "fixed16_mul A=" + std::to_string(A) + " ACC=" + std::to_string(acc) + " a=" + std::to_string(ai) +
                 " w=" + std::to_string(wq) + ": rtl " + std::to_string(got) + ", c++ " + std::to_string(want);
        });
      }
    }
  }
}

// The PE registers as brslog_pe / fixed16_pe define them, in C++.
struct PeModel {
  uint64_t w = 1;  // BRSLog: register_bits (zero weight); fixed16: w_q
  int64_t act = 0, prod = 0, psum = 0;
};

void pes(Vxcheck_top& m, Tally& t, std::mt19937_64& rng, int steps) {
  struct Inst { bool fixed; int a, k, sb, acc; };
  std::vector<Inst> inst;
  for (int i = 0; i < kBrslogPes; ++i) {
    const uint64_t par = get_bits(m.bpe_par, i * 32, 32);
    inst.push_back({false, static_cast<int>(par & 255), static_cast<int>((par >> 8) & 255),
                    static_cast<int>((par >> 16) & 255), static_cast<int>(par >> 24)});
  }
  for (int i = 0; i < kFixedPes; ++i) {
    const uint64_t par = get_bits(m.fpe_par, i * 16, 16);
    inst.push_back({true, static_cast<int>(par & 255), 0, 0, static_cast<int>(par >> 8)});
  }
  std::vector<PeModel> pe(inst.size());
  std::array<brsim::Sqrt2Approx, 8> approx;
  for (int k = 1; k <= 7; ++k) approx[static_cast<size_t>(k)] = brsim::sqrt2_approx(k);
  const std::vector<uint64_t> edges = activations({3, 8, 16, 32}, 0, rng);
  for (int step = 0; step < steps; ++step) {
    const bool rst = step == 0 || rng() % 97 == 0;
    const bool load = rng() % 4 == 0, clr = rng() % 8 == 0, stream = rng() % 3 != 0;
    const uint64_t wf = rng() & 0x1FF, wq = rng() & 0xFFFF;
    const uint64_t a = rng() % 4 == 0 ? edges[rng() % edges.size()] : rng();
    const uint64_t psum_in = rng() % 8 == 0 ? uint64_t{1} << (rng() % 64) : rng();
    m.pe_rst = rst, m.pe_wload = load, m.pe_clr = clr, m.pe_stream = stream;
    m.pe_wfields = static_cast<uint16_t>(wf);
    m.pe_wq = static_cast<uint16_t>(wq);
    m.pe_a = static_cast<uint32_t>(a);
    m.pe_psum_in = psum_in;
    // C++ next state, from the registers before the edge.
    for (size_t i = 0; i < inst.size(); ++i) {
      const Inst& e = inst[i];
      PeModel& s = pe[i];
      int64_t p = 0;
      if (e.fixed) {
        p = brsim::wrap_to_bits(brsim::fixed16_product(s.act, static_cast<int16_t>(s.w)), e.acc);
      } else {
        brsim::DecodedWeight d;
        d.zero = s.w & 1, d.sign = (s.w >> 1) & 1, d.flag = static_cast<uint8_t>((s.w >> 2) & 1);
        d.shift = static_cast<uint8_t>(s.w >> 3);
        p = brsim::wrap_to_bits(brsim::ae_product(s.act, d, approx[static_cast<size_t>(e.k)]), e.acc);
      }
      if (rst) {
        s = PeModel{};
        s.w = e.fixed ? 0 : 1;
        continue;
      }
      if (load) s.w = e.fixed ? wq : (wf & 7) | (((wf >> 3) & mask_bits(e.sb)) << 3);
      if (clr) {
        s.act = s.prod = s.psum = 0;
      } else if (stream) {
        s.prod = p;
        s.psum = brsim::wrap_to_bits(static_cast<__int128>(sign_extend(psum_in, e.acc)) + p, e.acc);
        s.act = sign_extend(a, e.a);
      }
    }
    tick(m);
    for (size_t i = 0; i < inst.size(); ++i) {
      const Inst& e = inst[i];
      const PeModel& s = pe[i];
      const int j = static_cast<int>(e.fixed ? i - kBrslogPes : i);
      uint64_t w, act, prod, psum;
      if (e.fixed) {
        w = get_bits(m.fpe_w, j * 16, 16), act = get_bits(m.fpe_act, j * 32, 32);
        prod = get_bits(m.fpe_prod, j * 64, 64), psum = get_bits(m.fpe_psum, j * 64, 64);
      } else {
        w = get_bits(m.bpe_w, j * 9, 9), act = get_bits(m.bpe_act, j * 32, 32);
        prod = get_bits(m.bpe_prod, j * 64, 64), psum = get_bits(m.bpe_psum, j * 64, 64);
      }
      const bool ok = w == s.w && act == (static_cast<uint64_t>(s.act) & mask_bits(e.a)) &&
                      prod == (static_cast<uint64_t>(s.prod) & mask_bits(e.acc)) &&
                      psum == (static_cast<uint64_t>(s.psum) & mask_bits(e.acc));
      t.check(ok, true, [&] {
        return std::string(e.fixed ? "fixed16_pe" : "brslog_pe") + " A=" + std::to_string(e.a) + " K=" +
               std::to_string(e.k) + " ACC=" + std::to_string(e.acc) + " step " + std::to_string(step) +
               ": rtl w/act/prod/psum " + std::to_string(w) + "/" + std::to_string(act) + "/" + std::to_string(prod) +
               "/" + std::to_string(psum) + ", c++ " + std::to_string(s.w) + "/" + std::to_string(s.act) + "/" +
               std::to_string(s.prod) + "/" + std::to_string(s.psum);
      });
    }
  }
}

}  // namespace

int run_units(uint64_t seed, int randoms, int pe_steps) {
  Vxcheck_top m;
  std::mt19937_64 rng(seed);
  std::printf("RTL vs C++ (seed %llu)\n", static_cast<unsigned long long>(seed));
  Tally dec, ae, mul, pe;
  decoders(m, dec);
  dec.print("decoders (N 3..8 x SHIFT_BITS 1..6, every n2, p, code)");
  aes(m, ae, rng, randoms);
  ae.print("AEs (K 1..7 x 6 widths x 3 shift/acc widths, zero/sign/flag x every shift, edge + random a)");
  multipliers(m, mul, rng, randoms);
  mul.print("fixed16 multipliers (4 widths x 2 product widths, edge + random a and w)");
  pes(m, pe, rng, pe_steps);
  pe.print("PEs (4 BRSLog, 2 fixed16; random load/clear/stream/reset sequences)");
  m.final();
  const uint64_t bad = dec.bad + ae.bad + mul.bad + pe.bad;
  std::printf("%s\n", bad ? "FAILED" : "all equal");
  return bad ? 1 : 0;
}

}  // namespace rtlcheck
