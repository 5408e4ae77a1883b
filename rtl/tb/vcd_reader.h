// A reader for the VCD files brsim writes (docs/traces.md): the signal
// declarations and every value change, for the RTL testbenches that replay
// the simulator's per-cycle registers. Values are up to 64 bits; x and z
// read as unknown. Plain C++, no Verilator or SystemC.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace rtlcheck {

struct VcdSignal {
  std::string name;  // dotted scope path: "accelerator.array.pe_r0_c1.psum"
  int width = 1;
};

struct VcdChange {
  uint64_t cycle = 0;  // time / ticks per cycle
  int signal = 0;
  uint64_t value = 0;
  bool known = false;  // false for x or z bits
};

class VcdReader {
 public:
  // Reads the whole file; throws std::runtime_error naming the file and line
  // on a malformed file, a value wider than 64 bits, or a time that is not a
  // whole number of cycles.
  explicit VcdReader(const std::string& path);

  const std::vector<VcdSignal>& signals() const { return signals_; }
  int find(const std::string& name) const;  // -1 if absent
  int require(const std::string& name) const;  // throws if absent
  // Changes in file order (time order); the cycle of a time is time divided
  // by the clock period the file states in its $comment ("one clock cycle =
  // ... = 2 x 1 ns"), or else by the greatest common divisor of its times.
  const std::vector<VcdChange>& changes() const { return changes_; }
  uint64_t ticks_per_cycle() const { return ticks_; }
  uint64_t last_cycle() const { return changes_.empty() ? 0 : changes_.back().cycle; }

 private:
  std::vector<VcdSignal> signals_;
  std::map<std::string, int> by_name_;
  std::vector<VcdChange> changes_;
  uint64_t ticks_ = 1;
};

// Replays a VcdReader cycle by cycle: value(s) after advance_to(c) is the
// signal's value at cycle c (its last change at or before c).
class VcdState {
 public:
  explicit VcdState(const VcdReader& r) : r_(r), value_(r.signals().size(), 0), known_(r.signals().size(), false) {}
  // Applies every change up to and including cycle c; returns how many.
  size_t advance_to(uint64_t cycle);
  uint64_t value(int s) const { return value_[static_cast<size_t>(s)]; }
  bool known(int s) const { return known_[static_cast<size_t>(s)]; }
  // Cycle of the next change not yet applied (UINT64_MAX at the end).
  uint64_t next_cycle() const;

 private:
  const VcdReader& r_;
  size_t next_ = 0;
  std::vector<uint64_t> value_;
  std::vector<bool> known_;
};

}  // namespace rtlcheck
