#include "energy_report.h"

namespace brsim {

ActionCounts actions_of(const LayerStats& s) {
  ActionCounts n;
  n[Action::AeOpSqrt2] = s.ae_sqrt2;
  n[Action::AeOpPow2] = s.ae_pow2;
  n[Action::AeOpZero] = s.ae_zero;
  n[Action::AccAdd] = s.acc_adds;
  n[Action::WeightDecode] = s.decodes;
  n[Action::RegWrite] = s.reg_write_bits;
  n[Action::Toggle] = s.toggles_weight + s.toggles_act + s.toggles_product + s.toggles_psum;
  n[Action::Fixed16Mul] = s.fixed16_muls;
  n[Action::WeightBufferRead] = s.weight_reads;
  n[Action::WeightBufferWrite] = s.weight_writes;
  n[Action::InputBufferRead] = s.input_reads;
  n[Action::InputBufferWrite] = s.input_writes;
  n[Action::OutputBufferRead] = s.output_reads;
  n[Action::OutputBufferWrite] = s.output_writes;
  n[Action::DramByte] = s.dram_bytes_read + s.dram_bytes_written;
  return n;
}

std::vector<EnergyBreakdown> layer_energy(const AccelRunResult& r, const ArchConfig& a, const EnergyTable& table) {
  const EnergyTable t = for_arch(table, a);
  std::vector<EnergyBreakdown> out;
  for (const LayerRunStats& l : r.layers)
    out.push_back(compute_energy(actions_of(l.stats), t, instance_counts(a), l.stats.cycles.total(), a.clock_mhz,
                                 l.stats.macs));
  return out;
}

EnergyBreakdown run_energy(const AccelRunResult& r, const ArchConfig& a, const EnergyTable& table) {
  const EnergyTable t = for_arch(table, a);
  LayerStats all;
  for (const LayerRunStats& l : r.layers) all.add(l.stats);
  return compute_energy(actions_of(all), t, instance_counts(a), all.cycles.total(), a.clock_mhz, all.macs);
}

nlohmann::json energy_json(const EnergyBreakdown& e, uint64_t images) {
  const double n = images ? static_cast<double>(images) : 1.0;
  nlohmann::json comps = nlohmann::json::object();
  for (Component c : all_components())
    if (e.instances[static_cast<size_t>(to_index(c))]) comps[component_name(c)] = e.component_pj(c) / n;
  return {{"total_pj_per_image", e.total_pj / n},
          {"dynamic_pj_per_image", e.dynamic_total_pj / n},
          {"leakage_pj_per_image", e.leakage_total_pj / n},
          {"pj_per_mac", e.pj_per_mac},
          {"avg_power_mw", e.avg_power_mw},
          {"area_um2", e.area_total_um2},
          {"components_pj_per_image", comps}};
}

}  // namespace brsim
