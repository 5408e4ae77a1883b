// Switching activity of traced registers as a SAIF 2.0 "backward" file
// (issue 5 item 4), the form power tools read to annotate a gate-level power
// run: per bit, time at 0 (T0), at 1 (T1), unknown (TX) and toggle count (TC).
// Fed with the same per-cycle samples as the VCD writer; no SystemC.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "vcd_writer.h"  // TraceSignal, TraceTimescale

namespace brsim {

// The free-text header fields. DATE is a fixed text so the file is
// byte-for-byte reproducible.
struct SaifHeader {
  std::string design;  // empty: "(DESIGN )"
  std::string date = "not recorded (reproducible output)";
  std::string vendor = "brsim";
  std::string program = "brsim";
  std::string version = "0.1.0";
};

// Activity of one bit over the recorded duration, in clock cycles.
// t0 + t1 + tx == duration; tc counts 0->1 and 1->0 changes between
// consecutive sampled cycles (the first sample sets the start value and is
// not a toggle). Before a signal's first sample its value is unknown (tx).
struct SaifBitActivity {
  uint64_t t0 = 0, t1 = 0, tx = 0, tc = 0;
};

class SaifRecorder {
 public:
  explicit SaifRecorder(uint64_t clock_period_ps);

  // Declares a register before the first cycle; returns its id (0, 1, ...).
  int add_signal(const std::vector<std::string>& scope, const std::string& name, int width);

  // Starts a cycle; cycles must increase. A value holds until it is sampled
  // again, so signals need only be sampled when they may have changed, and
  // cycles skipped between two begin_cycle() calls count at the held value.
  void begin_cycle(uint64_t cycle);

  // The value of register `id` in the current cycle (truncated to its width).
  void sample(int id, uint64_t value) {
    Slot& s = slots_[static_cast<size_t>(id)];
    value &= s.mask;
    if (s.seen && s.value == value) return;
    change(s, value);
  }

  // Ends the recording at `end_cycle` (exclusive; default: last cycle + 1).
  // DURATION = end_cycle - first cycle. No samples after this.
  void finish();
  void finish(uint64_t end_cycle);

  // Results (after finish()).
  uint64_t duration_cycles() const { return end_ - start_; }
  SaifBitActivity bit_activity(int id, int bit) const;
  uint64_t toggles(int id) const;  // TC summed over the register's bits
  const std::vector<TraceSignal>& signals() const { return signals_; }
  const TraceTimescale& timescale() const { return timescale_; }

  // The SAIF text (times in the timescale's ticks) and writing it to a file
  // (ConfigError if the file cannot be written).
  std::string render(const SaifHeader& header = {}) const;
  void write(const std::string& path, const SaifHeader& header = {}) const;

 private:
  struct Slot {
    uint64_t mask = 0;
    uint64_t value = 0;
    uint64_t since = 0;  // cycle of the last change
    uint64_t first = 0;  // cycle of the first sample
    bool seen = false;
    size_t bit_base = 0;  // index of bit 0 in high_ / toggles_
  };

  void change(Slot& s, uint64_t value);
  void accumulate_high(Slot& s, uint64_t until);
  void require_finished(const char* what) const;

  TraceTimescale timescale_;
  std::vector<TraceSignal> signals_;
  std::vector<Slot> slots_;
  std::vector<uint64_t> high_;     // per bit: cycles at 1 up to slot.since
  std::vector<uint64_t> toggles_;  // per bit: toggle count
  bool started_ = false, finished_ = false;
  uint64_t start_ = 0, cycle_ = 0, end_ = 0;
};

}  // namespace brsim
