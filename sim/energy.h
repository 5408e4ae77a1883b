// The energy, power and area model (ARCHITECTURE.md "Power and activity";
// STYLE.md practice 7): action counts gathered during simulation times an
// energy table read from YAML, plus leakage and area per component instance.
// Pure C++ (no SystemC), in the spirit of Accelergy's energy reference tables.
//
// Actions (the names used in tables and reports), each with its unit of count:
//   ae_op_sqrt2          BRSLog AE op with flag = 1 (x A_K through the
//                        shift-add path of BRSLOG.md section 4), per op
//   ae_op_pow2           BRSLog AE op with flag = 0 (shifts only), per op
//   ae_op_zero           AE op on a zero weight, operand-gated, per op
//   acc_add              accumulator add (acc_bits wide), per add
//   weight_decode        one code word through a column decoder (section 3)
//   reg_write            one PE register *bit* clocked with a write (the
//                        flip-flop's clock/internal energy, data independent)
//   toggle               one PE register bit that changes value (the
//                        data-dependent switching energy; activity-based)
//   fixed16_mul          16-bit fixed-point multiply (baseline PE, section 8)
//   weight_buffer_read / _write, input_buffer_read / _write,
//   output_buffer_read / _write
//                        one word of that buffer's word width
//   dram_byte            one byte moved between DRAM and the chip
//
// Components (leakage in uW and area in um^2 per instance; actions charge the
// component shown):
//   brslog_ae      the AE's product datapath   <- ae_op_sqrt2, ae_op_pow2, ae_op_zero
//   fixed16_mul    the baseline's 16-bit multiplier <- fixed16_mul
//   accumulator    the PE's acc_bits adder (same in both PE types) <- acc_add
//   pe_registers   one PE register bit          <- reg_write, toggle
//   weight_decoder a column's weight decoder    <- weight_decode
//   reconfig       a decoder's per-layer configuration state (n2, p): the
//                  published cost of reconfigurability, no actions
//   weight_buffer, input_buffer, output_buffer <- their reads and writes
//   controller     register map, FSM and counters, no actions
//   dram_interface the DMA engine               <- dram_byte
// The adder is its own component so that brslog_ae vs fixed16_mul compares
// exactly what the published figures compare (AE vs 16-bit multiplier).
//
// Energies (all in pJ, power in mW, time in us, area in um^2):
//   dynamic(action)      = count x energy
//   leakage(component)   = instances x leakage_uW x cycles / clock_MHz
//                          (1 uW for 1 us is 1 pJ)
//   total                = sum of dynamic and leakage
//   energy per MAC       = total / MACs
//   average power (mW)   = total_pJ / (cycles / clock_MHz) / 1000
//   area                 = sum over components of instances x area
// Every figure is linear in the table, so the breakdown of a network equals
// the sum over its layers, and scaling the table scales every figure.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "arch.h"

namespace brsim {

enum class Action {
  AeOpSqrt2,
  AeOpPow2,
  AeOpZero,
  AccAdd,
  WeightDecode,
  RegWrite,
  Toggle,
  Fixed16Mul,
  WeightBufferRead,
  WeightBufferWrite,
  InputBufferRead,
  InputBufferWrite,
  OutputBufferRead,
  OutputBufferWrite,
  DramByte,
};
constexpr int kNumActions = 15;
static_assert(static_cast<int>(Action::DramByte) + 1 == kNumActions, "kNumActions");

enum class Component {
  BrslogAe,
  Fixed16Mul,
  Accumulator,
  PeRegisters,
  WeightDecoder,
  Reconfig,
  WeightBuffer,
  InputBuffer,
  OutputBuffer,
  Controller,
  DramInterface,
};
constexpr int kNumComponents = 11;
static_assert(static_cast<int>(Component::DramInterface) + 1 == kNumComponents, "kNumComponents");

inline int to_index(Action a) { return static_cast<int>(a); }
inline int to_index(Component c) { return static_cast<int>(c); }
const char* action_name(Action a);        // "ae_op_sqrt2", ...
const char* component_name(Component c);  // "brslog_ae", ...
Component component_of(Action a);         // the component an action charges
std::vector<Action> all_actions();        // in enum order (the report order)
std::vector<Component> all_components();

// Actions counted during a layer (or a run: add the layers with +=).
struct ActionCounts {
  std::array<uint64_t, kNumActions> n{};
  uint64_t& operator[](Action a) { return n[to_index(a)]; }
  uint64_t operator[](Action a) const { return n[to_index(a)]; }
  ActionCounts& operator+=(const ActionCounts& o);
};

// How many of each component the architecture has.
struct ArchInstanceCounts {
  std::array<uint64_t, kNumComponents> n{};
  uint64_t& operator[](Component c) { return n[to_index(c)]; }
  uint64_t operator[](Component c) const { return n[to_index(c)]; }
};

// Register bits of one PE: the weight register (BRSLog: decoded zero, sign,
// flag and shift_bits of shift; fixed16: 16), the activation register
// (act_bits), the product register and the partial-sum register (acc_bits each).
int pe_register_bits(const ArchConfig& a);

// Instances for an architecture: BRSLog has R*C AEs and accumulators, C
// decoders with their reconfiguration state, no multipliers; fixed16 has
// R*C multipliers and accumulators and no decoders. R*C*pe_register_bits
// register bits; one of each buffer, one controller, one DMA engine.
ArchInstanceCounts instance_counts(const ArchConfig& a);

// One energy table, converted to pJ, uW and um^2.
struct ComponentCost {
  double leakage_uw = 0;  // uW per instance, drawn every cycle
  double area_um2 = 0;    // um^2 per instance
};
struct EnergyTable {
  std::string name;          // `name:` of the file (the path if absent)
  double technology_nm = 0;  // `technology_nm:`, informative (0 if absent)
  std::string path;          // the file it was loaded from
  std::array<double, kNumActions> energy_pj{};
  std::array<ComponentCost, kNumComponents> components{};
  // The SRAM the buffer entries describe (`buffer_reference:`, default 64
  // KiB of 64-bit words): for_arch() scales them to each buffer's size.
  uint64_t buffer_ref_bytes = 64 * 1024;
  int buffer_ref_word_bits = 64;
  double energy(Action a) const { return energy_pj[to_index(a)]; }
  const ComponentCost& cost(Component c) const { return components[to_index(c)]; }
};

// Loads and validates a table. ConfigError naming the file and the field
// for: a missing file, invalid YAML, a non-mapping, an unknown key, action or
// component (the known ones listed), a missing action or component (every one
// is required; write 0 to neglect one), a missing unit, a unit not in
// pJ|nJ|fJ (energy), uW|mW|nW (leakage), um^2|mm^2 (area), and a negative or
// non-finite number.
EnergyTable load_energy_table(const std::string& path);

// The table for an architecture's buffers: each buffer's read and write
// energy scaled by sqrt(capacity / reference capacity) x word_bits /
// reference word bits (R3 of the shipped table: access energy ~ sqrt of the
// capacity, and the bits moved), its leakage and area by capacity /
// reference capacity (bit cells). Everything else as in `t`.
EnergyTable for_arch(const EnergyTable& t, const ArchConfig& a);
std::string default_energy_table_path();  // data/energy/default_45nm.yaml

// The energy, power and area of a layer (or a run).
struct EnergyBreakdown {
  std::string table;  // the table's name: reports say which table was used
  uint64_t cycles = 0, macs = 0;
  double clock_mhz = 0;
  std::array<uint64_t, kNumActions> counts{};
  std::array<double, kNumActions> action_pj{};  // count x energy
  std::array<uint64_t, kNumComponents> instances{};
  std::array<double, kNumComponents> dynamic_pj{}, leakage_pj{}, area_um2{};
  double dynamic_total_pj = 0, leakage_total_pj = 0, total_pj = 0;
  double pj_per_mac = 0;      // 0 when macs == 0
  double avg_power_mw = 0;    // 0 when cycles == 0
  double area_total_um2 = 0;  // of the components with instances
  double time_us() const { return clock_mhz > 0 ? static_cast<double>(cycles) / clock_mhz : 0.0; }
  double component_pj(Component c) const { return dynamic_pj[to_index(c)] + leakage_pj[to_index(c)]; }
};

// Throws std::invalid_argument for a clock that is not positive and finite,
// and std::logic_error when an action is counted on a component the
// architecture does not have (e.g. AE ops on a fixed16 array): a counting bug.
EnergyBreakdown compute_energy(const ActionCounts& counts, const EnergyTable& table, const ArchInstanceCounts& inst,
                               uint64_t cycles, double clock_mhz, uint64_t macs);

// Ratios a / b (e.g. BRSLog / fixed16 on the same network); 0 where b is 0.
struct EnergyRatios {
  double energy = 0, power = 0, area = 0, pj_per_mac = 0;
};
EnergyRatios energy_ratios(const EnergyBreakdown& a, const EnergyBreakdown& b);

// energy.csv: header `layer,component,action,count,energy_pj`; per layer,
// in a fixed order: one row per action (count = actions, energy = dynamic
// pJ), one `leakage` row per component (count = instances, energy = leakage
// pJ over the layer's cycles), and a `total,total` row (count = cycles,
// energy = total pJ). Every row is present even when zero, so scripts can
// rely on the layout. Layer names with commas or quotes are quoted.
std::string energy_csv(const std::vector<std::pair<std::string, EnergyBreakdown>>& layers);

}  // namespace brsim
