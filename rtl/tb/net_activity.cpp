#include "net_activity.h"

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>

#include "verilated_syms.h"

namespace rtlcheck {

NetActivity::NetActivity(VerilatedContext& ctx, const std::string& json, const std::string& module,
                         const std::string& instance, const std::vector<std::string>& exclude) {
  std::ifstream in(json);
  if (!in) throw std::runtime_error(json + ": cannot open the netlist");
  const nlohmann::json j = nlohmann::json::parse(in);
  if (!j.contains("modules") || !j["modules"].contains(module))
    throw std::runtime_error(json + ": no module " + module);
  const nlohmann::json& m = j["modules"][module];

  // Loads: gate input pins, and module output bits.
  std::map<int64_t, uint32_t> load;
  std::map<int64_t, int64_t> inverter;  // output bit -> input bit of $_NOT_ cells
  for (const auto& [name, cell] : m["cells"].items()) {
    for (const auto& [port, bits] : cell["connections"].items()) {
      if (cell["port_directions"][port] != "input") continue;
      for (const auto& b : bits)
        if (b.is_number()) ++load[b.get<int64_t>()];
    }
    if (cell["type"] == "$_NOT_" && cell["connections"]["A"][0].is_number() && cell["connections"]["Y"][0].is_number())
      inverter[cell["connections"]["Y"][0].get<int64_t>()] = cell["connections"]["A"][0].get<int64_t>();
  }
  for (const auto& [name, port] : m["ports"].items())
    if (port["direction"] == "output")
      for (const auto& b : port["bits"])
        if (b.is_number()) ++load[b.get<int64_t>()];

  // The Verilated scope of the instance.
  const VerilatedScope* scope = nullptr;
  for (const auto& [name, s] : *ctx.scopeNameMap()) {
    const std::string n = name;
    if (n.size() > instance.size() && n.compare(n.size() - instance.size() - 1, std::string::npos, "." + instance) == 0)
      scope = s;
  }
  if (!scope || !scope->varsp()) throw std::runtime_error("no Verilated scope for instance " + instance + " (public signals?)");

  // One reader per distinct net (a net can carry several names).
  const std::set<std::string> skip(exclude.begin(), exclude.end());
  std::map<int64_t, size_t> index;
  for (const auto& [name, net] : m["netnames"].items()) {
    if (skip.count(name)) continue;
    const auto it = scope->varsp()->find(name.c_str());
    if (it == scope->varsp()->end()) continue;  // an alias Verilator folded; another name carries the net
    const VerilatedVar& var = it->second;
    const auto& bits = net["bits"];
    for (size_t i = 0; i < bits.size(); ++i) {
      if (!bits[i].is_number()) continue;  // a constant
      const int64_t id = bits[i].get<int64_t>();
      if (index.count(id)) continue;
      Net n;
      n.data = var.datap();
      n.vltype = var.vltype();
      n.bit = static_cast<int>(i);
      n.load = load.count(id) ? load[id] : 0;
      n.name = name + "[" + std::to_string(i) + "]";
      index[id] = nets_.size();
      nets_.push_back(n);
    }
  }
  // Every net a cell drives must be readable.
  for (const auto& [name, cell] : m["cells"].items())
    for (const auto& [port, bits] : cell["connections"].items())
      if (cell["port_directions"][port] == "output")
        for (const auto& b : bits)
          if (b.is_number() && !index.count(b.get<int64_t>()))
            throw std::runtime_error(json + ": the output of cell " + name + " has no public signal in " + instance);
  for (const auto& [out, in] : inverter)
    if (index.count(out) && index.count(in)) inverters_.push_back({index[in], index[out]});
}

bool NetActivity::read(const Net& n) const {
  switch (n.vltype) {
    case VLVT_UINT8: return (*static_cast<const CData*>(n.data) >> n.bit) & 1;
    case VLVT_UINT16: return (*static_cast<const SData*>(n.data) >> n.bit) & 1;
    case VLVT_UINT32: return (*static_cast<const IData*>(n.data) >> n.bit) & 1;
    case VLVT_UINT64: return (*static_cast<const QData*>(n.data) >> n.bit) & 1;
    case VLVT_WDATA: return (static_cast<const EData*>(n.data)[n.bit / 32] >> (n.bit % 32)) & 1;
    default: throw std::runtime_error("unsupported Verilator signal type of " + n.name);
  }
}

void NetActivity::sample(bool count) {
  for (Net& n : nets_) {
    const bool v = read(n);
    if (count && v != n.value) {
      ++n.toggles;
      ++toggles_;
      load_toggles_ += n.load;
    }
    n.value = v;
  }
}

uint64_t NetActivity::total_load() const {
  uint64_t t = 0;
  for (const Net& n : nets_) t += n.load;
  return t;
}

bool NetActivity::inverters_consistent(std::string* why) const {
  for (const auto& [in, out] : inverters_)
    if (nets_[in].toggles != nets_[out].toggles) {
      if (why)
        *why = nets_[out].name + " toggled " + std::to_string(nets_[out].toggles) + " times, its inverter input " +
               nets_[in].name + " " + std::to_string(nets_[in].toggles);
      return false;
    }
  return !inverters_.empty();
}

void NetActivity::reset_counts() {
  toggles_ = load_toggles_ = 0;
  for (Net& n : nets_) n.toggles = 0;
}

}  // namespace rtlcheck
