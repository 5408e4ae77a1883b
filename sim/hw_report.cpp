// The hardware report and the derived energy table (hw_report.h).
#include "hw_report.h"

#include <cstdio>
#include <sstream>

#include "text_table.h"

namespace brsim {

namespace {

std::string num(double v) {  // the YAML's numbers: 7 significant digits
  char b[64];
  std::snprintf(b, sizeof b, "%.7g", v);
  return b;
}

std::string ratio(double v) { return fmt_fixed(v, 3); }
std::string pct_smaller(double r) { return fmt_fixed(100.0 * (1.0 - r), 1) + " %"; }

// um^2, uW per transistor and pJ per load-weighted toggle, from the
// anchor's 16-bit multiplier and the measured one.
struct Scale {
  double um2_per_t, uw_per_t, pj_per_load;
};
Scale scale_of(const HwResults& r, const EnergyTable& anchor) {
  const HwFigures f = hw_figures(r);
  const ComponentCost& m = anchor.cost(Component::Fixed16Mul);
  return {m.area_um2 / f.mul_t, m.leakage_uw / f.mul_t, anchor.energy(Action::Fixed16Mul) / r.mul.load_per_op()};
}

}  // namespace

void print_hw_report(const HwResults& r, const std::string& shown_path, const EnergyTable& anchor, std::ostream& os) {
  const HwFigures f = hw_figures(r);
  const Scale s = scale_of(r, anchor);
  os << "BRSLog hardware from RTL (docs/hardware.md): rtl/src synthesized by " << r.yosys
     << " to generic static CMOS gates (abc -g cmos), gate-level runs by " << r.verilator << "; datapath N = "
     << r.bits << ", K = " << r.sqrt2_terms << ", A = " << r.act_bits << ", shift field " << r.shift_bits << " bits, "
     << r.acc_bits << "-bit products; results " << shown_path << "\n\n";

  os << "Area: cells, flip-flops and transistors (Yosys's estimate for static CMOS: NOT 2, NAND/NOR 4, AOI3/OAI3 6, "
        "AOI4/OAI4 8, NMUX 10, MUX/XOR/XNOR 12, flip-flop 16)\n";
  TextTable t({"design", "cells", "flip-flops", "transistors", "vs multiplier"}, {true, false, false, false, false});
  auto row = [&](const std::string& what, const char* name) {
    const HwDesign& d = r.design(name);
    t.add_row({what + " (" + name + ")", std::to_string(d.cells), std::to_string(d.flip_flops),
               std::to_string(d.transistors), ratio(static_cast<double>(d.transistors) / f.mul_t)});
  };
  row("16-bit fixed-point multiplier", "fixed16_mul");
  row("BRSLog AE", "brslog_ae");
  row("BRSLog AE with its weight decoder", "brslog_ae_dec");
  row("weight decoder, reconfigurable", "brslog_decoder");
  if (f.fixed_decoders)
    t.add_row({"weight decoder, hard-wired: mean of " + std::to_string(f.fixed_decoders) + " splits (" +
                   fmt_fixed(f.fixed_dec_min, 0) + "-" + fmt_fixed(f.fixed_dec_max, 0) + ")",
               "", "0", fmt_fixed(f.fixed_dec_mean, 1), ratio(f.fixed_dec_mean / f.mul_t)});
  t.print(os);
  os << "AE by K (transistors, vs multiplier):";
  for (int k = 1; k <= 7; ++k)
    if (f.ae_by_k[static_cast<size_t>(k)] > 0)
      os << " K=" << k << " " << fmt_fixed(f.ae_by_k[static_cast<size_t>(k)], 0) << " ("
         << ratio(f.ae_by_k[static_cast<size_t>(k)] / f.mul_t) << ")";
  os << "\nPEs (weight, activation and partial-sum registers, the AE or multiplier, the 48-bit adder): BRSLog "
     << fmt_fixed(f.pe_brslog_t, 0) << " vs fixed16 " << fmt_fixed(f.pe_fixed16_t, 0) << " transistors = "
     << ratio(f.area_pe) << "x\n\n";

  const HwSwitching ae = r.ae_total();
  os << "Switching on " << r.layer << " of " << r.model << " (1 image, " << r.array << " array, " << r.pes_traced
     << " PEs traced, " << r.folds << " folds; zero-delay gate level; load = gate inputs a net drives)\n";
  TextTable w({"netlist", "operations", "toggles/op", "load-weighted toggles/op", "vs multiplier"},
              {true, false, false, false, false});
  auto srow = [&](const std::string& what, const HwSwitching& x) {
    w.add_row({what, std::to_string(x.ops), fmt_fixed(x.toggles_per_op(), 2), fmt_fixed(x.load_per_op(), 2),
               ratio(x.load_per_op() / r.mul.load_per_op())});
  };
  srow("16-bit multiplier", r.mul);
  srow("BRSLog AE, all operations", ae);
  srow("  sqrt2 path (flag = 1)", r.ae[kAeSqrt2]);
  srow("  base-2 path", r.ae[kAePow2]);
  srow("  zero weight (operands gated)", r.ae[kAeZero]);
  srow("weight decoder, per decode", r.decoder);
  w.print(os);
  os << r.vectors_checked << " gate-level input vectors, every netlist output equal to the C++ numerics\n\n";

  os << "Against the seed's published figures (UMC 55 nm)\n";
  TextTable c({"figure", "measured here", "seed"}, {true, true, true});
  c.add_row({"AE area vs 16-bit multiplier", pct_smaller(f.area_ae) + " smaller (" + ratio(f.area_ae) + "x)",
             fmt_fixed(kSeedAeAreaSmallerPct, 2) + " % smaller (" + fmt_fixed(1 - kSeedAeAreaSmallerPct / 100, 4) + "x)"});
  c.add_row({"AE with decoder vs multiplier", pct_smaller(f.area_ae_dec) + " smaller (" + ratio(f.area_ae_dec) + "x)",
             "-"});
  c.add_row({"AE switching power vs multiplier",
             pct_smaller(f.power_ratio) + " lower (" + ratio(f.power_ratio) + "x load-weighted, " +
                 ratio(f.toggle_ratio) + "x toggles)",
             fmt_fixed(kSeedAePowerLowerPct, 2) + " % lower (" + fmt_fixed(1 - kSeedAePowerLowerPct / 100, 4) + "x)"});
  c.add_row({"reconfigurability (n2, p register)",
             fmt_fixed(f.reconfig_t, 1) + " transistors = " + fmt_fixed(f.reconfig_t * s.um2_per_t, 2) + " um^2, " +
                 fmt_fixed(f.reconfig_t * s.uw_per_t, 3) + " uW leakage",
             fmt_fixed(kSeedReconfigAreaUm2, 2) + " um^2, " + fmt_fixed(kSeedReconfigPowerUw, 1) + " uW"});
  c.print(os);
  os << "um^2 and uW from transistors at the 16-bit multiplier of " << anchor.name << " (" << fmt_fixed(s.um2_per_t, 4)
     << " um^2 and " << fmt_fixed(s.uw_per_t * 1000.0, 3) << " nW per transistor, 45 nm; data/energy/synthesized_45nm.yaml)\n";
}

nlohmann::json hw_report_json(const HwResults& r) {
  const HwFigures f = hw_figures(r);
  nlohmann::json designs = nlohmann::json::object();
  for (const auto& [name, d] : r.designs)
    designs[name] = {{"cells", d.cells}, {"flip_flops", d.flip_flops}, {"transistors", d.transistors}};
  auto sw = [](const HwSwitching& x) {
    return nlohmann::json{{"ops", x.ops}, {"toggles_per_op", x.toggles_per_op()}, {"load_toggles_per_op", x.load_per_op()}};
  };
  return {{"results", r.path},
          {"tools", {{"yosys", r.yosys}, {"verilator", r.verilator}}},
          {"designs", designs},
          {"area_ratios", {{"ae_over_multiplier", f.area_ae}, {"ae_with_decoder_over_multiplier", f.area_ae_dec},
                           {"brslog_pe_over_fixed16_pe", f.area_pe}}},
          {"reconfig_transistors", f.reconfig_t},
          {"hardwired_decoder_transistors_mean", f.fixed_dec_mean},
          {"switching", {{"layer", r.layer}, {"model", r.model}, {"multiplier", sw(r.mul)}, {"ae", sw(r.ae_total())},
                         {"ae_sqrt2", sw(r.ae[kAeSqrt2])}, {"ae_pow2", sw(r.ae[kAePow2])}, {"ae_zero", sw(r.ae[kAeZero])},
                         {"decoder", sw(r.decoder)}}},
          {"power_ratio_load_weighted", f.power_ratio},
          {"power_ratio_toggles", f.toggle_ratio},
          {"seed", {{"ae_area_smaller_pct", kSeedAeAreaSmallerPct}, {"ae_power_lower_pct", kSeedAePowerLowerPct},
                    {"reconfig_area_um2", kSeedReconfigAreaUm2}, {"reconfig_power_uw", kSeedReconfigPowerUw}}}};
}

std::string derived_energy_table(const HwResults& r, const EnergyTable& anchor, const std::string& results_shown,
                                 const std::string& anchor_shown) {
  const HwFigures f = hw_figures(r);
  const Scale s = scale_of(r, anchor);
  const double mul_e = anchor.energy(Action::Fixed16Mul);
  const ComponentCost& mul = anchor.cost(Component::Fixed16Mul);
  std::ostringstream y;
  y << "# brsim energy table derived from synthesis (docs/hardware.md), written by\n"
    << "#   brsim hw-report --results " << results_shown << " --write-energy FILE\n"
    << "# from the hardware results " << results_shown << " (" << r.yosys << ", generic\n"
    << "# static CMOS gates; gate-level switching on " << r.layer << " of\n"
    << "# " << r.model << ") and the anchor table " << anchor_shown << " (" << anchor.name << ").\n"
    << "# Use it like any table: brsim run --compare fixed16 --energy data/energy/synthesized_45nm.yaml\n"
    << "#\n"
    << "# Anchor: the 16-bit fixed-point multiplier keeps the anchor's figures (" << num(mul_e) << " pJ per\n"
    << "# multiply, " << num(mul.area_um2) << " um^2, " << num(mul.leakage_uw) << " uW). The BRSLog blocks are set relative\n"
    << "# to it by what the RTL measured, not by the published ratios:\n"
    << "#   area and leakage ~ transistors (Yosys's estimate): the multiplier has " << num(f.mul_t) << ",\n"
    << "#     so " << num(s.um2_per_t) << " um^2 and " << num(s.uw_per_t) << " uW per transistor;\n"
    << "#   energy per operation ~ load-weighted toggles per operation (net bit changes x the\n"
    << "#     gate inputs each net drives: the switched capacitance), zero-delay: the multiplier\n"
    << "#     switches " << num(r.mul.load_per_op()) << " per multiply, so " << num(s.pj_per_load) << " pJ per unit.\n"
    << "# Measured: AE " << num(f.ae_t) << " transistors (" << num(f.area_ae) << "x the multiplier), reconfigurable\n"
    << "# decoder " << num(f.dec_t) << ", hard-wired decoders " << num(f.fixed_dec_mean) << " on average over "
    << f.fixed_decoders << " splits;\n"
    << "# AE load-weighted toggles per op " << num(r.ae_total().load_per_op()) << " (" << num(f.power_ratio)
    << "x the multiplier): sqrt2 path\n"
    << "# " << num(r.ae[kAeSqrt2].load_per_op()) << ", base-2 path " << num(r.ae[kAePow2].load_per_op())
    << ", zero weight " << num(r.ae[kAeZero].load_per_op()) << " (the toggles of each input change are\n"
    << "# charged to the path of the weight the AE then holds); decoder " << num(r.decoder.load_per_op())
    << " per decode.\n"
    << "# Every other entry (adder, registers, buffers, DRAM, controller) is the anchor's: the RTL\n"
    << "# measured only the blocks that differ between BRSLog and fixed16 PEs.\n"
    << "name: synthesized-45nm\n"
    << "technology_nm: " << num(anchor.technology_nm) << "\n"
    << "buffer_reference: {capacity_bytes: " << anchor.buffer_ref_bytes << ", word_bits: " << anchor.buffer_ref_word_bits
    << "}\n\nactions:\n";
  auto action = [&](Action a, double pj, const std::string& why) {
    if (!why.empty()) y << "  # " << why << "\n";
    y << "  " << action_name(a) << ": {energy: " << num(pj) << ", unit: pJ}\n";
  };
  for (Action a : all_actions()) {
    const double per = s.pj_per_load;
    switch (a) {
      case Action::AeOpSqrt2:
        action(a, per * r.ae[kAeSqrt2].load_per_op(), num(s.pj_per_load) + " x " + num(r.ae[kAeSqrt2].load_per_op()));
        break;
      case Action::AeOpPow2:
        action(a, per * r.ae[kAePow2].load_per_op(), num(s.pj_per_load) + " x " + num(r.ae[kAePow2].load_per_op()));
        break;
      case Action::AeOpZero:
        action(a, per * r.ae[kAeZero].load_per_op(), num(s.pj_per_load) + " x " + num(r.ae[kAeZero].load_per_op()));
        break;
      case Action::WeightDecode:
        action(a, per * r.decoder.load_per_op(), num(s.pj_per_load) + " x " + num(r.decoder.load_per_op()));
        break;
      case Action::Fixed16Mul:
        action(a, mul_e, "the anchor");
        break;
      default:
        action(a, anchor.energy(a), "");
    }
  }
  y << "\ncomponents:\n";
  auto component = [&](Component c, double uw, double um2, const std::string& why) {
    if (!why.empty()) y << "  # " << why << "\n";
    const bool big = um2 >= 1e5;  // buffers in mm^2, as the anchor writes them
    y << "  " << component_name(c) << ": {leakage: " << num(uw) << ", leakage_unit: uW, area: " << num(big ? um2 / 1e6 : um2)
      << ", area_unit: " << (big ? "mm^2" : "um^2") << "}\n";
  };
  for (Component c : all_components()) {
    switch (c) {
      case Component::BrslogAe:
        component(c, s.uw_per_t * f.ae_t, s.um2_per_t * f.ae_t, num(f.ae_t) + " transistors");
        break;
      case Component::WeightDecoder:
        component(c, s.uw_per_t * f.fixed_dec_mean, s.um2_per_t * f.fixed_dec_mean,
                  "a hard-wired decoder: " + num(f.fixed_dec_mean) + " transistors (mean over the splits)");
        break;
      case Component::Reconfig:
        component(c, s.uw_per_t * f.reconfig_t, s.um2_per_t * f.reconfig_t,
                  "reconfigurable minus hard-wired decoder: " + num(f.dec_t) + " - " + num(f.fixed_dec_mean) + " = " +
                      num(f.reconfig_t) + " transistors (the (n2, p) register, clock-gated: leakage only)");
        break;
      case Component::Fixed16Mul:
        component(c, mul.leakage_uw, mul.area_um2, "the anchor");
        break;
      default:
        component(c, anchor.cost(c).leakage_uw, anchor.cost(c).area_um2, "");
    }
  }
  return y.str();
}

}  // namespace brsim
