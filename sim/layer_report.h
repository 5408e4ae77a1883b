// Per-layer accelerator reports shared by `brsim run` and `brsim layer`: the
// terminal table, the JSON layer objects and the fixed-header layers.csv
// (docs/outputs.md "Results folder"). Cycles, MACs, DRAM bytes and buffer accesses
// are per image (the timing is data independent); overflow and saturation
// counts are totals over the images run.
#pragma once

#include <nlohmann/json.hpp>
#include <ostream>
#include <string>

#include "accel_host.h"
#include "arch.h"
#include "energy.h"

namespace brsim {

double utilization(const LayerRunStats& l, const ArchConfig& a);  // MACs / (R C cycles)
// `energy` (one breakdown per layer, over all images) adds the energy columns.
void print_layer_table(const AccelRunResult& r, const ArchConfig& a, const std::vector<EnergyBreakdown>& energy,
                       std::ostream& os);
nlohmann::json layer_json(const LayerRunStats& l, const ArchConfig& a, const EnergyBreakdown& e);
// Per image and run totals; nothing that depends on the host (deterministic).
nlohmann::json totals_json(const AccelRunResult& r, const ArchConfig& a);
// Host time and simulation speed (timing.json; varies from run to run).
nlohmann::json timing_json(const AccelRunResult& r, double golden_seconds);
std::string layers_csv(const AccelRunResult& r, const ArchConfig& a, const std::vector<EnergyBreakdown>& energy);
// stats.txt: every counter of the layer registry (layer_stats.h), per layer
// and for the run, totals over the images run, each with its unit and
// description (gem5's stats.txt, in small).
std::string stats_txt(const AccelRunResult& r);
// Writes config.yaml, summary.json, layers.csv, energy.csv, stats.txt (the same inputs
// give the same bytes) and timing.json into `dir`, atomically (results_dir.h).
void write_results(const std::string& dir, const ArchConfig& a, const nlohmann::json& summary,
                   const AccelRunResult& r, const std::vector<EnergyBreakdown>& energy, const nlohmann::json& timing);

}  // namespace brsim
