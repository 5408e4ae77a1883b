#include "energy.h"

#include <yaml-cpp/yaml.h>

#include <charconv>
#include <cmath>
#include <map>
#include <set>
#include <stdexcept>

#include "errors.h"
#include "paths.h"
#include "yaml_reader.h"

namespace brsim {

namespace {

struct ActionInfo {
  const char* name;
  Component component;
};
// In enum order.
constexpr ActionInfo kActions[kNumActions] = {
    {"ae_op_sqrt2", Component::BrslogAe},
    {"ae_op_pow2", Component::BrslogAe},
    {"ae_op_zero", Component::BrslogAe},
    {"acc_add", Component::Accumulator},
    {"weight_decode", Component::WeightDecoder},
    {"reg_write", Component::PeRegisters},
    {"toggle", Component::PeRegisters},
    {"fixed16_mul", Component::Fixed16Mul},
    {"weight_buffer_read", Component::WeightBuffer},
    {"weight_buffer_write", Component::WeightBuffer},
    {"input_buffer_read", Component::InputBuffer},
    {"input_buffer_write", Component::InputBuffer},
    {"output_buffer_read", Component::OutputBuffer},
    {"output_buffer_write", Component::OutputBuffer},
    {"dram_byte", Component::DramInterface},
};
constexpr const char* kComponents[kNumComponents] = {
    "brslog_ae",     "fixed16_mul",  "accumulator",   "pe_registers", "weight_decoder", "reconfig",
    "weight_buffer", "input_buffer", "output_buffer", "controller",   "dram_interface",
};

// Units accepted in a table and their factor to the internal unit.
const std::map<std::string, double> kEnergyUnits = {{"pJ", 1.0}, {"nJ", 1e3}, {"fJ", 1e-3}};
const std::map<std::string, double> kLeakageUnits = {{"uW", 1.0}, {"mW", 1e3}, {"nW", 1e-3}};
const std::map<std::string, double> kAreaUnits = {{"um^2", 1.0}, {"mm^2", 1e6}};

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const std::string& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

std::string unit_list(const std::map<std::string, double>& units) {
  std::vector<std::string> v;
  for (const auto& kv : units) v.push_back(kv.first);
  return join(v);
}

// Reads one table file; every error names the file and the field.
class TableReader {
 public:
  explicit TableReader(std::string file) : file_(std::move(file)) {}

  [[noreturn]] void fail(const std::string& field, const std::string& what) const {
    throw ConfigError(file_ + ": field '" + field + "': " + what);
  }

  // A mapping whose keys are all in `allowed` and appear once.
  void mapping(const YAML::Node& n, const std::string& field, const std::vector<std::string>& allowed) const {
    if (!n.IsMap()) fail(field, "expected a mapping");
    std::set<std::string> seen;
    for (const auto& kv : n) {
      const std::string k = kv.first.as<std::string>();
      bool known = false;
      for (const std::string& a : allowed) known = known || a == k;
      const std::string f = field == "(top level)" ? k : field + "." + k;
      if (!known) fail(f, "unknown key (expected one of: " + join(allowed) + ")");
      if (!seen.insert(k).second) fail(f, "duplicate key");
    }
  }

  std::string string(const YAML::Node& n, const std::string& key, const std::string& field) const {
    const YAML::Node v = n[key];
    if (!v) fail(field, "missing");
    if (!v.IsScalar()) fail(field, "expected a string");
    return v.Scalar();
  }

  // A finite, non-negative number.
  double number(const YAML::Node& n, const std::string& key, const std::string& field) const {
    const YAML::Node v = n[key];
    if (!v) fail(field, "missing");
    double x = 0;
    try {
      x = v.as<double>();
    } catch (const YAML::Exception&) {
      fail(field, "expected a number, got '" + (v.IsScalar() ? v.Scalar() : std::string("a non-scalar")) + "'");
    }
    if (!std::isfinite(x)) fail(field, "must be finite, got '" + v.Scalar() + "'");
    if (x < 0) fail(field, "must not be negative, got " + v.Scalar());
    return x;
  }

  // number(key) x the factor of unit(unit_key), which must be one of `units`.
  double quantity(const YAML::Node& n, const std::string& key, const std::string& unit_key, const std::string& where,
                  const std::map<std::string, double>& units) const {
    const double x = number(n, key, where + "." + key);
    if (!n[unit_key]) fail(where + "." + unit_key, "missing (one of: " + unit_list(units) + ")");
    const std::string u = string(n, unit_key, where + "." + unit_key);
    const auto it = units.find(u);
    if (it == units.end())
      fail(where + "." + unit_key, "unknown unit '" + u + "' (expected one of: " + unit_list(units) + ")");
    return x * it->second;
  }

 private:
  std::string file_;
};

std::string format_double(double x) {
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, x);  // shortest round-trip form
  return std::string(buf, r.ptr);
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

}  // namespace

const char* action_name(Action a) { return kActions[to_index(a)].name; }
const char* component_name(Component c) { return kComponents[to_index(c)]; }
Component component_of(Action a) { return kActions[to_index(a)].component; }

std::vector<Action> all_actions() {
  std::vector<Action> v;
  for (int i = 0; i < kNumActions; ++i) v.push_back(static_cast<Action>(i));
  return v;
}

std::vector<Component> all_components() {
  std::vector<Component> v;
  for (int i = 0; i < kNumComponents; ++i) v.push_back(static_cast<Component>(i));
  return v;
}

ActionCounts& ActionCounts::operator+=(const ActionCounts& o) {
  for (int i = 0; i < kNumActions; ++i) n[i] += o.n[i];
  return *this;
}

int pe_register_bits(const ArchConfig& a) {
  const int weight = a.pe == PeType::BrsLog ? 3 + a.datapath.shift_bits : 16;  // zero, sign, flag + shift
  return weight + a.datapath.act_bits + 2 * a.datapath.acc_bits;  // + product and partial sum
}

ArchInstanceCounts instance_counts(const ArchConfig& a) {
  const uint64_t pes = static_cast<uint64_t>(a.rows) * static_cast<uint64_t>(a.cols);
  const bool brslog = a.pe == PeType::BrsLog;
  ArchInstanceCounts n;
  n[Component::BrslogAe] = brslog ? pes : 0;
  n[Component::Fixed16Mul] = brslog ? 0 : pes;
  n[Component::Accumulator] = pes;
  n[Component::PeRegisters] = pes * static_cast<uint64_t>(pe_register_bits(a));
  // One weight decoder (and its reconfiguration register) per column; input
  // stationary decodes the weights where they enter, one per row.
  const uint64_t decoders = static_cast<uint64_t>(a.dataflow == Dataflow::InputStationary ? a.rows : a.cols);
  n[Component::WeightDecoder] = brslog ? decoders : 0;
  n[Component::Reconfig] = brslog ? decoders : 0;
  n[Component::WeightBuffer] = 1;
  n[Component::InputBuffer] = 1;
  n[Component::OutputBuffer] = 1;
  n[Component::Controller] = 1;
  n[Component::DramInterface] = 1;
  return n;
}

std::string default_energy_table_path() { return data_dir() + "/energy/default_45nm.yaml"; }

namespace {

// The table in a parsed file, checked field by field.
EnergyTable read_table(const std::string& path, const YAML::Node& root) {
  const TableReader r(path);
  if (!root || root.IsNull())
    r.fail("(top level)", "the file is empty (expected a mapping with actions and components)");
  r.mapping(root, "(top level)", {"name", "technology_nm", "buffer_reference", "actions", "components"});

  EnergyTable t;
  t.path = path;
  t.name = root["name"] ? r.string(root, "name", "name") : path;
  if (root["technology_nm"]) t.technology_nm = r.number(root, "technology_nm", "technology_nm");
  if (const YAML::Node b = root["buffer_reference"]) {
    r.mapping(b, "buffer_reference", {"capacity_bytes", "word_bits"});
    for (const char* k : {"capacity_bytes", "word_bits"})
      if (!b[k]) r.fail(std::string("buffer_reference.") + k, "missing (the SRAM the buffer entries describe)");
    const double cap = r.number(b, "capacity_bytes", "buffer_reference.capacity_bytes");
    const double word = r.number(b, "word_bits", "buffer_reference.word_bits");
    if (!(cap >= 1) || cap != std::floor(cap) || cap > 1e15)
      r.fail("buffer_reference.capacity_bytes", "expected a positive whole number of bytes, got " + format_double(cap));
    if (!(word >= 1) || word != std::floor(word) || word > 4096)
      r.fail("buffer_reference.word_bits", "expected a whole number of bits in [1, 4096], got " + format_double(word));
    t.buffer_ref_bytes = static_cast<uint64_t>(cap), t.buffer_ref_word_bits = static_cast<int>(word);
  }

  std::vector<std::string> action_names, component_names;
  for (Action a : all_actions()) action_names.push_back(action_name(a));
  for (Component c : all_components()) component_names.push_back(component_name(c));

  const YAML::Node actions = root["actions"];
  if (!actions) r.fail("actions", "missing (every action needs an energy: " + join(action_names) + ")");
  r.mapping(actions, "actions", action_names);
  std::vector<std::string> missing_actions, missing_components;
  for (Action a : all_actions()) {
    const std::string key = action_name(a);
    const YAML::Node e = actions[key];
    if (!e) {
      missing_actions.push_back(key);
      continue;
    }
    const std::string where = "actions." + key;
    r.mapping(e, where, {"energy", "unit"});
    t.energy_pj[to_index(a)] = r.quantity(e, "energy", "unit", where, kEnergyUnits);
  }
  if (!missing_actions.empty())
    r.fail("actions",
           "missing action(s): " + join(missing_actions) + " (every action is required; write 0 to neglect one)");

  const YAML::Node comps = root["components"];
  if (!comps) r.fail("components", "missing (every component needs leakage and area: " + join(component_names) + ")");
  r.mapping(comps, "components", component_names);
  for (Component c : all_components()) {
    const std::string key = component_name(c);
    const YAML::Node e = comps[key];
    if (!e) {
      missing_components.push_back(key);
      continue;
    }
    const std::string where = "components." + key;
    r.mapping(e, where, {"leakage", "leakage_unit", "area", "area_unit"});
    t.components[to_index(c)].leakage_uw = r.quantity(e, "leakage", "leakage_unit", where, kLeakageUnits);
    t.components[to_index(c)].area_um2 = r.quantity(e, "area", "area_unit", where, kAreaUnits);
  }
  if (!missing_components.empty())
    r.fail("components", "missing component(s): " + join(missing_components) +
                             " (every component is required; write 0 to neglect one)");
  return t;
}

}  // namespace

EnergyTable load_energy_table(const std::string& path) {
  const YAML::Node root = load_yaml_file(path, "energy table");
  try {
    return read_table(path, root);
  } catch (const YAML::Exception& e) {  // e.g. a key that is not a string
    throw ConfigError(path + ": malformed energy table: " + e.what());
  }
}

EnergyTable for_arch(const EnergyTable& t, const ArchConfig& a) {
  EnergyTable s = t;
  struct Buf {
    const BufferConfig& cfg;
    Action read, write;
    Component comp;
  };
  const Buf bufs[] = {{a.weight_buffer, Action::WeightBufferRead, Action::WeightBufferWrite, Component::WeightBuffer},
                      {a.input_buffer, Action::InputBufferRead, Action::InputBufferWrite, Component::InputBuffer},
                      {a.output_buffer, Action::OutputBufferRead, Action::OutputBufferWrite, Component::OutputBuffer}};
  for (const Buf& b : bufs) {
    const double cells = static_cast<double>(b.cfg.capacity_bytes) / static_cast<double>(t.buffer_ref_bytes);
    const double access = std::sqrt(cells) * b.cfg.word_bits / t.buffer_ref_word_bits;
    s.energy_pj[to_index(b.read)] *= access;
    s.energy_pj[to_index(b.write)] *= access;
    s.components[to_index(b.comp)].leakage_uw *= cells;
    s.components[to_index(b.comp)].area_um2 *= cells;
  }
  return s;
}

EnergyBreakdown compute_energy(const ActionCounts& counts, const EnergyTable& table, const ArchInstanceCounts& inst,
                               uint64_t cycles, double clock_mhz, uint64_t macs) {
  if (!(clock_mhz > 0) || !std::isfinite(clock_mhz))
    throw std::invalid_argument("compute_energy: clock_mhz must be positive and finite, got " +
                                format_double(clock_mhz));
  EnergyBreakdown b;
  b.table = table.name;
  b.cycles = cycles;
  b.macs = macs;
  b.clock_mhz = clock_mhz;
  b.counts = counts.n;
  b.instances = inst.n;
  for (Action a : all_actions()) {
    const uint64_t n = counts[a];
    const Component c = component_of(a);
    if (n > 0 && inst[c] == 0)
      throw std::logic_error(std::string("compute_energy: ") + std::to_string(n) + " '" + action_name(a) +
                             "' actions counted but the architecture has no '" + component_name(c) + "'");
    const double e = static_cast<double>(n) * table.energy(a);
    b.action_pj[to_index(a)] = e;
    b.dynamic_pj[to_index(c)] += e;
  }
  const double time_us = b.time_us();
  for (Component c : all_components()) {
    const int i = to_index(c);
    const double instances = static_cast<double>(inst[c]);
    b.leakage_pj[i] = instances * table.cost(c).leakage_uw * time_us;  // uW x us = pJ
    b.area_um2[i] = instances * table.cost(c).area_um2;
    b.dynamic_total_pj += b.dynamic_pj[i];
    b.leakage_total_pj += b.leakage_pj[i];
    b.area_total_um2 += b.area_um2[i];
  }
  b.total_pj = b.dynamic_total_pj + b.leakage_total_pj;
  b.pj_per_mac = macs > 0 ? b.total_pj / static_cast<double>(macs) : 0.0;
  b.avg_power_mw = time_us > 0 ? b.total_pj / time_us / 1000.0 : 0.0;  // pJ/us = uW
  return b;
}

EnergyRatios energy_ratios(const EnergyBreakdown& a, const EnergyBreakdown& b) {
  auto div = [](double x, double y) { return y != 0 ? x / y : 0.0; };
  EnergyRatios r;
  r.energy = div(a.total_pj, b.total_pj);
  r.power = div(a.avg_power_mw, b.avg_power_mw);
  r.area = div(a.area_total_um2, b.area_total_um2);
  r.pj_per_mac = div(a.pj_per_mac, b.pj_per_mac);
  return r;
}

std::string energy_csv(const std::vector<std::pair<std::string, EnergyBreakdown>>& layers) {
  std::string s = "layer,component,action,count,energy_pj\n";
  for (const auto& [layer, b] : layers) {
    const std::string l = csv_field(layer);
    for (Action a : all_actions())
      s += l + "," + component_name(component_of(a)) + "," + action_name(a) + "," +
           std::to_string(b.counts[to_index(a)]) + "," + format_double(b.action_pj[to_index(a)]) + "\n";
    for (Component c : all_components())
      s += l + "," + component_name(c) + ",leakage," + std::to_string(b.instances[to_index(c)]) + "," +
           format_double(b.leakage_pj[to_index(c)]) + "\n";
    s += l + ",total,total," + std::to_string(b.cycles) + "," + format_double(b.total_pj) + "\n";
  }
  return s;
}

}  // namespace brsim
