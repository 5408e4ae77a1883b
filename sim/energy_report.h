// Energy of simulated layers: the PE array's and buffers' action counts
// (LayerStats) mapped onto the energy model's actions, per layer and for a
// whole run, and their JSON form.
#pragma once

#include <nlohmann/json.hpp>
#include <vector>

#include "accel_host.h"
#include "energy.h"

namespace brsim {

ActionCounts actions_of(const LayerStats& s);
// Both with the table's buffers scaled to the architecture's (for_arch).
// One breakdown per layer of the run (over all its images).
std::vector<EnergyBreakdown> layer_energy(const AccelRunResult& r, const ArchConfig& a, const EnergyTable& t);
// The whole run: the layers' counts, cycles and MACs added up.
EnergyBreakdown run_energy(const AccelRunResult& r, const ArchConfig& a, const EnergyTable& t);
// {"total_pj_per_image", "dynamic_pj_per_image", "leakage_pj_per_image", "pj_per_mac",
//  "avg_power_mw", "area_um2", "components": {name: pj_per_image}}
nlohmann::json energy_json(const EnergyBreakdown& e, uint64_t images);

}  // namespace brsim
