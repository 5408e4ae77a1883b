// Switching activity of a gate-level netlist simulated by Verilator: every
// net of a Yosys netlist (its JSON, write_json) is read from the Verilated
// model's public signals after each input vector, and its bit changes are
// counted, raw and weighted by the net's load (the gate inputs it drives,
// plus one per module output bit it drives), a proxy for its capacitance:
// switching energy ~ sum over nets of toggles x C. Zero-delay: each net
// changes at most once per vector (no glitches).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "verilated.h"

namespace rtlcheck {

class NetActivity {
 public:
  // `json`: the netlist; `module`: its module; `instance`: the instance name
  // of that module under the Verilated top. Nets named in `exclude` (the
  // clock) are not counted. Throws std::runtime_error naming what is missing.
  NetActivity(VerilatedContext& ctx, const std::string& json, const std::string& module, const std::string& instance,
              const std::vector<std::string>& exclude);

  // Reads every net; with count, adds the changes since the last sample.
  void sample(bool count);
  uint64_t toggles() const { return toggles_; }
  uint64_t load_toggles() const { return load_toggles_; }
  size_t nets() const { return nets_.size(); }
  uint64_t total_load() const;  // sum of the nets' loads
  // Self-check of the reading: every inverter's output toggled exactly as
  // often as its input. False (with the first offender in *why) otherwise.
  bool inverters_consistent(std::string* why) const;
  void reset_counts();

 private:
  struct Net {
    const void* data = nullptr;
    int vltype = 0;  // VerilatedVarType
    int bit = 0;
    uint32_t load = 0;
    bool value = false;
    uint64_t toggles = 0;
    std::string name;
  };
  bool read(const Net& n) const;
  std::vector<Net> nets_;
  std::vector<std::pair<size_t, size_t>> inverters_;  // (input net, output net)
  uint64_t toggles_ = 0, load_toggles_ = 0;
};

}  // namespace rtlcheck
