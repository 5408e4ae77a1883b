// rtl_gl_power: the synthesis results and the gate-level switching of the
// AE, the 16-bit multiplier and the weight decoder, in one JSON file that
// `brsim hw-report` prints.
//
//   rtl_gl_power --netlists DIR --brslog-vcd FILE --fixed16-vcd FILE
//                --summary FILE --layer NAME --model FILE --out FILE
//                [--quantize FILE --quantize-layer NAME]
//
// DIR holds rtl/synth/synth.sh's output: every design's statistics
// (*.stat.json) and the netlists, Verilated here with public nets. The two
// VCDs are brsim runs of the same layer on a BRSLog and a fixed16 array
// (blocks controller, decoder, array; a few PEs): each traced PE's weight
// and activation registers, cycle by cycle, drive the AE (BRSLog) or the
// multiplier (fixed16) netlist, as the PE's registers drive them in the
// array; the codes entering each column on its load edges drive the
// decoder. Every vector's netlist output is checked against the C++
// numerics. Toggles are normalized by the useful operations: a PE holding
// a tile weight does P_b of them per fold (P_b = the fold's stream edges
// minus R + C - 1), attributed to the weight's path (zero, base-2, sqrt2);
// the layer's MACs in summary.json must equal that count over the whole
// array (full tiles), or the run stops. The codes behind the decoded
// weights are those of the layer's segment configuration as `brsim
// quantize --format json` reports it (or, without it, of the first
// configuration that explains every decoded weight).
#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "Vgl_top.h"
#include "brslog.h"
#include "datapath.h"
#include "net_activity.h"
#include "sqrt2.h"
#include "trace_folds.h"
#include "vcd_reader.h"
#include "vl_bits.h"

namespace rtlcheck {
namespace {

using nlohmann::json;

struct Args {
  std::string netlists, brslog_vcd, fixed16_vcd, summary, layer, model, out;
  std::string quantize, quantize_layer;  // brsim quantize --format json, and the layer's name there
};

// A traced PE's register values at every cycle one of them changed.
struct PeVector {
  uint64_t cycle;
  uint64_t act;
  uint64_t w;  // BRSLog: register_bits; fixed16: w_q
};

struct Trace {
  int R = 0, C = 0;
  std::vector<TraceFold> folds;
  uint64_t stream_ops_per_pe = 0;  // sum over folds of P_b
  std::vector<std::vector<PeVector>> pes;
  std::vector<std::vector<uint64_t>> weight_in_fold;  // per PE, per fold: the weight it holds for the stream
  std::vector<std::vector<uint64_t>> decoder;          // BRSLog: per column, the decoded weight of every load edge
};

std::string pe_prefix(int r, int c) {
  return "accelerator.array.pe_r" + std::to_string(r) + "_c" + std::to_string(c) + ".";
}

Trace read_trace(const std::string& path, bool fixed) {
  const VcdReader v(path);
  Trace t;
  while (v.find("accelerator.array.boundary.act_in_r" + std::to_string(t.R)) >= 0) ++t.R;
  while (v.find("accelerator.array.boundary.psum_out_c" + std::to_string(t.C)) >= 0) ++t.C;
  if (!t.R || !t.C) throw std::runtime_error(path + ": no array boundary signals (trace the array block)");
  t.folds = find_folds(v, path);
  if (t.folds.empty()) throw std::runtime_error(path + ": no fold in the trace");
  for (const TraceFold& f : t.folds) {
    if (f.edges() < static_cast<uint64_t>(2 * t.R + t.C))
      throw std::runtime_error(path + ": a fold of " + std::to_string(f.edges()) + " edges");
    t.stream_ops_per_pe += f.edges() - static_cast<uint64_t>(2 * t.R + t.C - 1);
  }
  struct Sig { int act, w[4]; };
  std::vector<Sig> sig;
  for (int r = 0; r < t.R; ++r)
    for (int c = 0; c < t.C; ++c) {
      const std::string p = pe_prefix(r, c);
      if (v.find(p + "act") < 0) continue;
      Sig s{v.require(p + "act"), {-1, -1, -1, -1}};
      if (fixed) {
        s.w[0] = v.require(p + "w_q");
      } else {
        s.w[0] = v.require(p + "w_zero"), s.w[1] = v.require(p + "w_sign");
        s.w[2] = v.require(p + "w_flag"), s.w[3] = v.require(p + "w_shift");
      }
      sig.push_back(s);
    }
  if (sig.empty()) throw std::runtime_error(path + ": no PE traced");
  std::vector<std::array<int, 4>> dec;
  if (!fixed)
    for (int c = 0; c < t.C; ++c) {
      const std::string d = "accelerator.array.decoder_c" + std::to_string(c) + ".";
      dec.push_back({v.require(d + "zero"), v.require(d + "sign"), v.require(d + "flag"), v.require(d + "shift")});
    }
  t.pes.resize(sig.size());
  t.weight_in_fold.resize(sig.size());
  t.decoder.resize(dec.size());
  auto weight = [&](const VcdState& s, const int* w) {
    return fixed ? s.value(w[0]) : s.value(w[0]) | s.value(w[1]) << 1 | s.value(w[2]) << 2 | s.value(w[3]) << 3;
  };
  // Each PE's registers at every cycle one of them changes (they hold in between).
  VcdState s(v);
  for (uint64_t c = s.next_cycle(); c != UINT64_MAX; c = s.next_cycle()) {
    s.advance_to(c);
    for (size_t i = 0; i < sig.size(); ++i) {
      const Sig& g = sig[i];
      bool known = s.known(g.act);
      for (int k = 0; k < (fixed ? 1 : 4); ++k) known &= s.known(g.w[k]);
      if (!known) continue;
      const PeVector pv{c, s.value(g.act), weight(s, g.w)};
      std::vector<PeVector>& seq = t.pes[i];
      if (seq.empty() || seq.back().act != pv.act || seq.back().w != pv.w) seq.push_back(pv);
    }
  }
  // The weight each PE holds for each fold's stream, and the decoders' loads.
  VcdState s2(v);
  for (const TraceFold& f : t.folds) {
    for (int e = 1; e <= t.R; ++e) {
      s2.advance_to(f.start + static_cast<uint64_t>(e));
      for (size_t c = 0; c < dec.size(); ++c) {
        const auto& d = dec[c];
        t.decoder[c].push_back(s2.value(d[0]) | s2.value(d[1]) << 1 | s2.value(d[2]) << 2 | s2.value(d[3]) << 3);
      }
    }
    for (size_t i = 0; i < sig.size(); ++i) t.weight_in_fold[i].push_back(weight(s2, sig[i].w));
  }
  return t;
}

uint64_t layer_macs(const std::string& summary, const std::string& layer) {
  std::ifstream in(summary);
  if (!in) throw std::runtime_error(summary + ": cannot open");
  const json j = json::parse(in);
  for (const json& l : j.at("layers"))
    if (l.at("name") == layer) return l.at("macs").get<uint64_t>();
  throw std::runtime_error(summary + ": no layer " + layer);
}

int path_of(uint64_t w) { return (w & 1) ? 0 : ((w >> 2) & 1) ? 2 : 1; }  // zero, pow2, sqrt2
const char* kPath[] = {"zero", "pow2", "sqrt2"};

void tick(Vgl_top& m) {
  m.clk = 0;
  m.eval();
  m.clk = 1;
  m.eval();
}

json activity_json(const NetActivity& a) {
  return {{"nets", a.nets()}, {"total_load", a.total_load()}};
}

int run(const Args& a) {
  // Synthesis statistics.
  json designs = json::object();
  for (const auto& e : std::filesystem::directory_iterator(a.netlists)) {
    const std::string f = e.path().filename().string();
    const std::string suffix = ".stat.json";
    if (f.size() <= suffix.size() || f.compare(f.size() - suffix.size(), suffix.size(), suffix) != 0) continue;
    std::ifstream in(e.path());
    const json d = json::parse(in).at("design");
    json cells = d.at("num_cells_by_type");
    designs[f.substr(0, f.size() - suffix.size())] = {
        {"cells", d.at("num_cells")},
        {"flip_flops", cells.value("$_DFF_P_", 0)},
        {"transistors", std::stoull(d.at("estimated_num_transistors").get<std::string>())},
        {"cell_types", cells}};
  }
  std::string yosys;
  std::getline(std::ifstream(a.netlists + "/yosys_version.txt"), yosys);

  VerilatedContext ctx;
  Vgl_top m(&ctx);
  NetActivity ae(ctx, a.netlists + "/brslog_ae_gl.json", "brslog_ae_gl", "ae", {});
  NetActivity mul(ctx, a.netlists + "/fixed16_mul_gl.json", "fixed16_mul_gl", "mul", {});
  NetActivity dec(ctx, a.netlists + "/brslog_decoder_gl.json", "brslog_decoder_gl", "dec", {"clk"});
  const brsim::Sqrt2Approx approx = brsim::sqrt2_approx(4);
  uint64_t checked = 0, wrong = 0;
  auto check = [&](bool ok, const std::string& what) {
    ++checked;
    if (!ok && ++wrong <= 10) std::printf("  MISMATCH %s\n", what.c_str());
  };

  // BRSLog AE.
  const Trace tb = read_trace(a.brslog_vcd, false);
  const uint64_t macs = layer_macs(a.summary, a.layer);
  if (macs != tb.stream_ops_per_pe * static_cast<uint64_t>(tb.R * tb.C))
    throw std::runtime_error("layer " + a.layer + ": " + std::to_string(macs) + " MACs, but " +
                             std::to_string(tb.stream_ops_per_pe) + " stream operations per PE on a " +
                             std::to_string(tb.R) + "x" + std::to_string(tb.C) +
                             " array: its tiles are not full, so toggles per operation would be wrong; pick a layer whose K and M the array divides");
  uint64_t ops[3] = {0, 0, 0}, tog[3] = {0, 0, 0}, ltog[3] = {0, 0, 0};
  for (size_t i = 0; i < tb.pes.size(); ++i) {
    for (size_t f = 0; f < tb.folds.size(); ++f)
      ops[path_of(tb.weight_in_fold[i][f])] += tb.folds[f].edges() - static_cast<uint64_t>(2 * tb.R + tb.C - 1);
    bool first = true;
    for (const PeVector& v : tb.pes[i]) {
      brsim::DecodedWeight d;
      d.zero = v.w & 1, d.sign = (v.w >> 1) & 1, d.flag = static_cast<uint8_t>((v.w >> 2) & 1);
      d.shift = static_cast<uint8_t>(v.w >> 3);
      m.ae_a = static_cast<uint16_t>(v.act), m.ae_zero = d.zero, m.ae_sign = d.sign, m.ae_flag = d.flag;
      m.ae_shift = d.shift;
      m.eval();
      const uint64_t t0 = ae.toggles(), l0 = ae.load_toggles();
      ae.sample(!first);
      first = false;
      const int p = path_of(v.w);
      tog[p] += ae.toggles() - t0, ltog[p] += ae.load_toggles() - l0;
      const int64_t act = sign_extend(v.act, 16);
      const uint64_t want = static_cast<uint64_t>(brsim::ae_product(act, d, approx)) & mask_bits(48);
      check(m.ae_product == want, "AE netlist at cycle " + std::to_string(v.cycle) + ": a = " + std::to_string(act));
    }
  }

  // fixed16 multiplier.
  const Trace tf = read_trace(a.fixed16_vcd, true);
  if (tf.stream_ops_per_pe != tb.stream_ops_per_pe || tf.pes.size() != tb.pes.size())
    throw std::runtime_error("the fixed16 trace has another schedule or other PEs than the BRSLog trace");
  uint64_t mul_ops = 0;
  for (size_t i = 0; i < tf.pes.size(); ++i) {
    mul_ops += tf.stream_ops_per_pe;
    bool first = true;
    for (const PeVector& v : tf.pes[i]) {
      m.mul_a = static_cast<uint16_t>(v.act), m.mul_w = static_cast<uint16_t>(v.w);
      m.eval();
      mul.sample(!first);
      first = false;
      const int64_t want = brsim::fixed16_product(sign_extend(v.act, 16), static_cast<int16_t>(v.w));
      check(m.mul_product == (static_cast<uint64_t>(want) & mask_bits(48)),
            "multiplier netlist at cycle " + std::to_string(v.cycle));
    }
  }

  // Weight decoder: one layer-wide configuration explains every load.
  std::vector<uint64_t> all;
  for (const auto& col : tb.decoder) all.insert(all.end(), col.begin(), col.end());
  std::vector<uint32_t> codes;
  int n2 = 0, p = 0;
  if (!a.quantize.empty()) {
    std::ifstream in(a.quantize);
    if (!in) throw std::runtime_error(a.quantize + ": cannot open");
    const json q = json::parse(in);
    bool found = false;
    for (const json& l : q.at("layers"))
      if (l.at("name") == a.quantize_layer) {
        n2 = l.at("n2").get<int>(), p = l.at("p").get<int>(), found = true;
        if (l.at("bits").get<int>() != 5) throw std::runtime_error(a.quantize + ": the netlists decode 5-bit codes");
      }
    if (!found) throw std::runtime_error(a.quantize + ": no layer " + a.quantize_layer);
    const brsim::SegmentConfig cfg{5, n2, p, 0};
    std::map<uint64_t, uint32_t> inv;
    for (uint32_t code = 0; code < 32; ++code) inv.emplace(brsim::register_bits(brsim::decode(code, cfg)), code);
    for (uint64_t r : all) {
      if (!inv.count(r))
        throw std::runtime_error(a.brslog_vcd + ": a decoded weight that n2 = " + std::to_string(n2) + ", p = " +
                                 std::to_string(p) + " (" + a.quantize + ") does not produce");
      codes.push_back(inv[r]);
    }
  } else if (!invert_decoded(all, 5, &codes, &n2, &p)) {
    throw std::runtime_error(a.brslog_vcd + ": no single segment configuration explains the layer's decoded weights");
  }
  m.dec_cfg_we = 1, m.dec_cfg_n2 = static_cast<uint8_t>(n2), m.dec_cfg_p = static_cast<uint8_t>(p);
  tick(m);
  m.dec_cfg_we = 0;
  const brsim::SegmentConfig cfg{5, n2, p, 0};
  uint64_t decodes = 0;
  size_t k = 0;
  for (const auto& col : tb.decoder) {
    bool first = true;
    for (size_t e = 0; e < col.size(); ++e, ++k) {
      m.dec_code = static_cast<uint8_t>(codes[k]);
      m.eval();
      dec.sample(!first);
      first = false;
      ++decodes;
      const uint64_t got = uint64_t{m.dec_zero} | uint64_t{m.dec_sign} << 1 | uint64_t{m.dec_flag} << 2 |
                           uint64_t{m.dec_shift} << 3;
      check(got == brsim::register_bits(brsim::decode(codes[k], cfg)), "decoder netlist, code " + std::to_string(codes[k]));
    }
  }
  std::string why;
  for (const NetActivity* n : {&ae, &mul, &dec})
    if (!n->inverters_consistent(&why)) throw std::runtime_error("gate-level net reading is inconsistent: " + why);

  if (wrong) {
    std::printf("gate-level run: %llu of %llu vectors differ from the C++ numerics; no results written\n",
                static_cast<unsigned long long>(wrong), static_cast<unsigned long long>(checked));
    return 1;
  }
  json sw = {{"model", a.model}, {"layer", a.layer}, {"images", 1},
             {"array", std::to_string(tb.R) + "x" + std::to_string(tb.C)}, {"pes_traced", tb.pes.size()},
             {"folds", tb.folds.size()}, {"layer_macs", macs}, {"vectors_checked", checked},
             {"segment_config", {{"n2", n2}, {"p", p}}}};
  json j_ae = activity_json(ae);
  for (int q = 0; q < 3; ++q) {
    j_ae["ops"][kPath[q]] = ops[q];
    j_ae["toggles"][kPath[q]] = tog[q];
    j_ae["load_toggles"][kPath[q]] = ltog[q];
  }
  sw["brslog_ae"] = j_ae;
  json j_mul = activity_json(mul);
  j_mul["ops"] = mul_ops, j_mul["toggles"] = mul.toggles(), j_mul["load_toggles"] = mul.load_toggles();
  sw["fixed16_mul"] = j_mul;
  json j_dec = activity_json(dec);
  j_dec["decodes"] = decodes, j_dec["toggles"] = dec.toggles(), j_dec["load_toggles"] = dec.load_toggles();
  sw["brslog_decoder"] = j_dec;

  json out = {{"format", "brsim-hw-results-1"},
              {"tools", {{"yosys", yosys}, {"verilator", std::string(Verilated::productName()) + " " +
                                                          Verilated::productVersion()}}},
              {"flow", "rtl/synth/synth.sh: synth -flatten; dfflegalize $_DFF_P_; abc -g cmos; stat -tech cmos"},
              {"datapath", {{"bits", 5}, {"sqrt2_terms", 4}, {"act_bits", 16}, {"shift_bits", 4}, {"acc_bits", 48}}},
              {"designs", designs},
              {"switching", sw}};
  std::ofstream o(a.out);
  o << out.dump(2) << "\n";
  if (!o) throw std::runtime_error(a.out + ": cannot write");
  m.final();
  std::printf("gate-level run: %llu vectors checked against the C++ numerics, all equal; results in %s\n",
              static_cast<unsigned long long>(checked), a.out.c_str());
  std::printf("  AE: %llu useful ops, %llu toggles; multiplier: %llu ops, %llu toggles; decoder: %llu decodes, %llu toggles\n",
              static_cast<unsigned long long>(ops[0] + ops[1] + ops[2]),
              static_cast<unsigned long long>(tog[0] + tog[1] + tog[2]), static_cast<unsigned long long>(mul_ops),
              static_cast<unsigned long long>(mul.toggles()), static_cast<unsigned long long>(decodes),
              static_cast<unsigned long long>(dec.toggles()));
  return 0;
}

}  // namespace
}  // namespace rtlcheck

int main(int argc, char** argv) {
  rtlcheck::Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--netlists") a.netlists = v;
    else if (k == "--brslog-vcd") a.brslog_vcd = v;
    else if (k == "--fixed16-vcd") a.fixed16_vcd = v;
    else if (k == "--summary") a.summary = v;
    else if (k == "--layer") a.layer = v;
    else if (k == "--model") a.model = v;
    else if (k == "--out") a.out = v;
    else if (k == "--quantize") a.quantize = v;
    else if (k == "--quantize-layer") a.quantize_layer = v;
    else {
      std::fprintf(stderr, "rtl_gl_power: unknown option %s\n", k.c_str());
      return 2;
    }
  }
  if (a.netlists.empty() || a.brslog_vcd.empty() || a.fixed16_vcd.empty() || a.summary.empty() || a.layer.empty() ||
      a.out.empty() || argc % 2 == 0) {
    std::fprintf(stderr,
                 "usage: rtl_gl_power --netlists DIR --brslog-vcd FILE --fixed16-vcd FILE --summary FILE --layer NAME "
                 "--model FILE --out FILE [--quantize FILE --quantize-layer NAME]\n");
    return 2;
  }
  try {
    return rtlcheck::run(a);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "rtl_gl_power: error: %s\n", e.what());
    return 2;
  }
}
