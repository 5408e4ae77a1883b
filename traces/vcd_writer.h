// VCD (IEEE 1364 value change dump) writer for the cycle-by-cycle model
// (ARCHITECTURE.md "Outputs of a run", issue 5 items 5-6). The simulator
// declares its signals, then per clock cycle calls begin_cycle() and set();
// only changed values are written. No SystemC dependency.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace brsim {

// How GTKWave should show a signal (the VCD itself has no signedness).
enum class TraceRadix {
  Auto,    // binary for 1 bit, hexadecimal otherwise
  Hex,
  Dec,     // unsigned decimal (counters)
  Signed,  // two's complement decimal (activations, products, partial sums)
  Bin,
};

// One traced register or wire: {"accelerator","array","pe_r3_c7"}, "psum", 48.
struct TraceSignal {
  std::vector<std::string> scope;
  std::string name;
  int width = 1;  // 1..64 bits
  TraceRadix radix = TraceRadix::Auto;

  std::string full_name() const;     // "accelerator.array.pe_r3_c7.psum"
  std::string gtkwave_name() const;  // "accelerator.array.pe_r3_c7.psum[47:0]"
};

// The time unit of a trace: the largest of 1/10/100 {fs, ps, ns, us, ms, s}
// that divides the clock period, so one cycle is a whole number of ticks
// (500 MHz: "1 ns", 2 ticks per cycle). Shared by the VCD and SAIF writers.
struct TraceTimescale {
  std::string text = "1 ps";     // "$timescale" / "(TIMESCALE ...)" text
  uint64_t ticks_per_cycle = 1;  // clock period in units of `text`

  static TraceTimescale for_period_ps(uint64_t period_ps);  // period_ps >= 1
};

// The VCD identifier code of signal `index`: base 94 over '!'..'~'.
std::string vcd_id_code(size_t index);

class VcdWriter {
 public:
  VcdWriter() = default;
  ~VcdWriter();
  VcdWriter(const VcdWriter&) = delete;
  VcdWriter& operator=(const VcdWriter&) = delete;

  // Opens `path` for writing (ConfigError if it cannot). Cycle c is written
  // at time c * ticks_per_cycle of the chosen timescale.
  void open(const std::string& path, uint64_t clock_period_ps);

  // Declares a signal before the first cycle; returns its id (0, 1, ...).
  // Scopes appear in the file in order of first use.
  int add_signal(const std::vector<std::string>& scope, const std::string& name, int width,
                 TraceRadix radix = TraceRadix::Auto);

  // Starts a cycle; cycles must increase (gaps allowed: values hold across
  // them). The first call writes the header; the first cycle's values become
  // the $dumpvars block (signals not set in it start as x).
  void begin_cycle(uint64_t cycle);

  // The value of signal `id` in the current cycle, truncated to its width
  // (negative numbers: pass static_cast<uint64_t>(v) or use set_signed).
  // Writes a line only when the value differs from the last written one.
  // Call at most once per signal per cycle.
  void set(int id, uint64_t value) {
    Slot& s = slots_[static_cast<size_t>(id)];
    value &= s.mask;
    if (s.known && s.last == value) return;
    write_change(id, value);
  }
  void set_signed(int id, int64_t value) { set(id, static_cast<uint64_t>(value)); }

  // Writes the end time (last cycle + 1) and closes the file. Idempotent;
  // the destructor calls it.
  void close();

  bool is_open() const { return file_ != nullptr; }
  uint64_t bytes_written() const { return bytes_ + buf_.size(); }
  const std::vector<TraceSignal>& signals() const { return signals_; }
  const TraceTimescale& timescale() const { return timescale_; }
  const std::string& path() const { return path_; }

 private:
  struct Slot {
    uint64_t mask = 0;
    uint64_t last = 0;
    bool known = false;  // false until a value is dumped (x before that)
  };

  void write_change(int id, uint64_t value);
  void write_header();
  void write_dumpvars();
  void append_value(size_t id, uint64_t value, bool known);
  void append_time(uint64_t cycle);
  void flush_if_full();
  void flush();

  std::FILE* file_ = nullptr;
  std::string path_;
  TraceTimescale timescale_;
  uint64_t period_ps_ = 1;
  std::vector<TraceSignal> signals_;
  std::vector<std::string> ids_;
  std::vector<Slot> slots_;
  std::string buf_;
  uint64_t bytes_ = 0;
  bool started_ = false;           // header written
  bool dumpvars_pending_ = false;  // inside the first cycle
  bool time_written_ = false;      // "#t" written for the current cycle
  uint64_t cycle_ = 0;
};

// ---- Size estimate and limit (issue 5 item 5: state the size, refuse past a limit)

// An upper bound of the VCD's size in bytes: the header, the $dumpvars block,
// and per cycle a timestamp plus, for every signal, a full-width change line
// (width + id length + 3 bytes), i.e. as if every signal changed every cycle.
// Real files are smaller: unchanged values write nothing and leading zeros
// are dropped.
uint64_t estimate_vcd_bytes(const std::vector<TraceSignal>& signals, uint64_t cycles);

// "about 12.3 MB (40 signals x 1000 cycles)", MB = 10^6 bytes.
std::string describe_vcd_size(uint64_t bytes, size_t signals, uint64_t cycles);

struct TraceLimit {
  uint64_t max_bytes = uint64_t{2} << 30;  // 2 GiB
  bool force = false;                      // --vcd-force: write anyway
};

// Throws ConfigError "the VCD would be about N MB (S signals x C cycles);
// narrow the selection (--vcd-pes, --vcd-cycles, --vcd-layer) or pass
// --vcd-force" when bytes > limit.max_bytes and the limit is not forced.
void check_vcd_size(uint64_t bytes, size_t signals, uint64_t cycles, const TraceLimit& limit);

}  // namespace brsim
