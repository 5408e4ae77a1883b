// `brsim hw-report`: the hardware evidence of docs/hardware.md: cell and
// transistor counts of the synthesized AE, decoder and 16-bit multiplier,
// their area ratios, the gate-level switching per operation on a real
// layer, next to the seed's published figures. --check holds a fresh
// measurement (rtl/measure.sh) to the committed one; --write-energy derives
// an energy table from the results.
#include <fstream>
#include <iostream>
#include <memory>

#include "cli_options.h"
#include "commands.h"
#include "energy.h"
#include "errors.h"
#include "hw_report.h"
#include "paths.h"

namespace brsim {

namespace {

struct HwReportArgs {
  std::string results;  // default: data/hw/hw_results.json
  std::string check;
  std::string write_energy;
  std::string anchor;   // default: the shipped 45 nm table
  std::string format = "text";
};

// data/... for files of the shipped data folder (stable in the outputs).
std::string shown(const std::string& path) {
  const std::string d = data_dir() + "/";
  return path.rfind(d, 0) == 0 ? "data/" + path.substr(d.size()) : path;
}

void run_hw_report(const HwReportArgs& a) {
  const std::string path = a.results.empty() ? data_dir() + "/hw/hw_results.json" : a.results;
  const HwResults r = load_hw_results(path);
  const std::string anchor_path = a.anchor.empty() ? default_energy_table_path() : a.anchor;
  const EnergyTable anchor = load_energy_table(anchor_path);
  if (a.format == "json") std::cout << hw_report_json(r).dump(2) << "\n";
  else print_hw_report(r, shown(path), anchor, std::cout);
  if (!a.write_energy.empty()) {
    std::ofstream o(a.write_energy);
    o << derived_energy_table(r, anchor, shown(path), shown(anchor_path));
    if (!o) throw ConfigError("--write-energy " + a.write_energy + ": cannot write the file");
    std::cerr << "wrote the derived energy table " << a.write_energy << "\n";
  }
  if (!a.check.empty()) {
    const HwResults committed = load_hw_results(a.check);
    bool identical = false;
    const std::string why = compare_hw_results(r, committed, &identical);
    if (!why.empty())
      throw ConfigError("the hardware results differ from the committed ones: " + why +
                        " (after an intended change of the RTL or the flow, copy the new results over " + a.check +
                        " and regenerate the derived table: see docs/hardware.md)");
    std::cerr << "check: " << path << (identical ? " is identical to " : " is within 0.03 of the ratios of ") << a.check
              << (identical ? "" : " (another Yosys: " + r.yosys + " vs " + committed.yosys + ")") << "\n";
  }
}

}  // namespace

void add_hw_report_command(CLI::App& app) {
  auto args = std::make_shared<HwReportArgs>();
  CLI::App* cmd = app.add_subcommand(
      "hw-report", "Synthesized area and gate-level switching of the AE vs the 16-bit multiplier, beside the seed's figures");
  cmd->add_option("--results", args->results, "Hardware results JSON (default: data/hw/hw_results.json)");
  cmd->add_option("--check", args->check, "Fail (exit 2) unless the results reproduce this committed results file");
  cmd->add_option("--write-energy", args->write_energy, "Write the energy table derived from the results (YAML)");
  cmd->add_option("--anchor", args->anchor, "Energy table whose 16-bit multiplier anchors the derived one (default: data/energy/default_45nm.yaml)");
  add_format_option(cmd, args->format, "Terminal output format");
  cmd->callback([args] { run_hw_report(*args); });
}

}  // namespace brsim
