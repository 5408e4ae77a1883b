// Hardware evidence (docs/hardware.md): the results of synthesizing the RTL
// (rtl/) with Yosys and simulating its netlists at gate level on a real
// layer, as rtl/measure.sh writes them (data/hw/hw_results.json is the
// committed copy); the figures `brsim hw-report` prints beside the seed's
// published ones; the check of a fresh measurement against the committed
// one; and the energy table derived from them.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>

#include "energy.h"

namespace brsim {

// The seed's published figures (BRSLOG.md, intro; UMC 55 nm).
constexpr double kSeedAeAreaSmallerPct = 50.42;
constexpr double kSeedAePowerLowerPct = 55.60;
constexpr double kSeedReconfigAreaUm2 = 22.96;
constexpr double kSeedReconfigPowerUw = 2.6;

// One synthesized design (Yosys `stat -tech cmos`).
struct HwDesign {
  uint64_t cells = 0, flip_flops = 0, transistors = 0;  // transistors: Yosys's estimate
  std::map<std::string, uint64_t> cell_types;
};

// One netlist's switching over the measured layer (zero-delay gate level).
struct HwSwitching {
  uint64_t ops = 0;           // useful operations (decodes for the decoder)
  uint64_t toggles = 0;       // net bit changes
  uint64_t load_toggles = 0;  // changes x the net's load (gate inputs driven)
  double toggles_per_op() const { return ops ? static_cast<double>(toggles) / static_cast<double>(ops) : 0.0; }
  double load_per_op() const { return ops ? static_cast<double>(load_toggles) / static_cast<double>(ops) : 0.0; }
};

enum AePath { kAeZero = 0, kAePow2 = 1, kAeSqrt2 = 2 };

struct HwResults {
  std::string path;                          // the file it was read from
  std::string yosys, verilator, flow;        // tool versions and the synthesis flow
  int bits = 0, sqrt2_terms = 0, act_bits = 0, shift_bits = 0, acc_bits = 0;
  std::map<std::string, HwDesign> designs;   // by design name (rtl/synth/synth.sh)
  std::string model, layer, array;           // the measured layer
  uint64_t pes_traced = 0, folds = 0, layer_macs = 0, vectors_checked = 0;
  int n2 = 0, p = 0;                         // the layer's segment configuration
  std::array<HwSwitching, 3> ae{};           // by AePath
  HwSwitching mul, decoder;
  HwSwitching ae_total() const;
  const HwDesign& design(const std::string& name) const;  // ConfigError naming the file if absent
};

// Reads a results file; ConfigError naming the file and the field.
HwResults load_hw_results(const std::string& path);

// The figures of the report.
struct HwFigures {
  double mul_t = 0, ae_t = 0, ae_dec_t = 0, dec_t = 0;  // transistors
  double fixed_dec_mean = 0, fixed_dec_min = 0, fixed_dec_max = 0;
  int fixed_decoders = 0;                  // hard-wired decoders synthesized (one per split)
  double reconfig_t = 0;                   // reconfigurable decoder - mean hard-wired one
  double pe_brslog_t = 0, pe_fixed16_t = 0;
  double area_ae = 0, area_ae_dec = 0, area_pe = 0;  // transistor ratios (PE: BRSLog / fixed16 PE)
  double toggle_ratio = 0, power_ratio = 0;         // AE / multiplier per operation: toggles, load-weighted
  std::array<double, 8> ae_by_k{};                  // AE transistors by K (0: not synthesized)
};
HwFigures hw_figures(const HwResults& r);

// The report; um^2 and uW of the reconfiguration from the anchor table's multiplier.
void print_hw_report(const HwResults& r, const std::string& shown_path, const EnergyTable& anchor, std::ostream& os);
nlohmann::json hw_report_json(const HwResults& r);

// "" when `fresh` reproduces `committed`: every count identical when both
// come from the same Yosys (*identical = true); with another Yosys, the
// area and power ratios within 0.03 (*identical = false). Otherwise the
// first difference, named.
std::string compare_hw_results(const HwResults& fresh, const HwResults& committed, bool* identical);

// The energy table derived from the results (YAML text, loadable by
// load_energy_table): the anchor's 16-bit multiplier (energy per multiply,
// area, leakage) scaled by the measured ratios for the AE ops (load-weighted
// toggles per op of each path), the weight decode, the AE, decoder and
// reconfiguration areas and leakages (transistors); every other entry as in
// the anchor. Its comments give the derivation with the numbers.
std::string derived_energy_table(const HwResults& r, const EnergyTable& anchor, const std::string& results_shown,
                                 const std::string& anchor_shown);

}  // namespace brsim
