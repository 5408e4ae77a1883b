// VCD writer, size estimate and limit (vcd_writer.h).
#include "vcd_writer.h"

#include <cerrno>
#include <charconv>
#include <cstring>
#include <map>
#include <stdexcept>

#include "errors.h"

namespace brsim {
namespace {

constexpr size_t kFlushBytes = size_t{1} << 20;
// Upper bound of the fixed header text ($date, $version, $comment,
// $timescale, $enddefinitions) that estimate_vcd_bytes adds.
constexpr uint64_t kFixedHeaderBytes = 512;
constexpr uint64_t kTimestampBytes = 22;  // '#', up to 20 digits, '\n'

// "00000000" .. "11111111": the binary digits of each byte value.
struct ByteBits {
  char bits[256][8];
  ByteBits() {
    for (int v = 0; v < 256; ++v)
      for (int b = 0; b < 8; ++b) bits[v][b] = static_cast<char>('0' + ((v >> (7 - b)) & 1));
  }
};
const ByteBits kByteBitsTable;
const char (*const kByteBits)[8] = kByteBitsTable.bits;

void check_name(const std::string& what, const std::string& name) {
  if (name.empty()) throw std::logic_error("VcdWriter: empty " + what + " name");
  for (char ch : name) {
    if (ch <= ' ' || ch > '~' || ch == '.')
      throw std::logic_error("VcdWriter: " + what + " name '" + name +
                             "' must be printable ASCII without spaces or dots");
  }
}

uint64_t digits(uint64_t v) {
  uint64_t n = 1;
  while (v >= 10) {
    v /= 10;
    ++n;
  }
  return n;
}

// Scope tree in order of first use, for the $scope/$upscope nesting.
struct ScopeNode {
  std::string name;
  std::vector<ScopeNode> children;
  std::map<std::string, size_t> child_index;  // name -> position in children
  std::vector<size_t> signals;
};

void insert(ScopeNode& root, const std::vector<std::string>& path, size_t signal) {
  ScopeNode* node = &root;
  for (const std::string& part : path) {
    auto it = node->child_index.find(part);
    if (it == node->child_index.end()) {
      it = node->child_index.emplace(part, node->children.size()).first;
      node->children.push_back(ScopeNode{part, {}, {}, {}});
    }
    node = &node->children[it->second];
  }
  node->signals.push_back(signal);
}

}  // namespace

std::string TraceSignal::full_name() const {
  std::string s;
  for (const std::string& part : scope) s += part + ".";
  return s + name;
}

std::string TraceSignal::gtkwave_name() const {
  if (width == 1) return full_name();
  return full_name() + "[" + std::to_string(width - 1) + ":0]";
}

TraceTimescale TraceTimescale::for_period_ps(uint64_t period_ps) {
  if (period_ps == 0) throw ConfigError("trace clock period must be at least 1 ps");
  static const char* const kUnits[] = {"s", "ms", "us", "ns", "ps"};
  // Unit sizes in ps, largest first: 1 s = 10^12 ps.
  uint64_t unit_ps = 1000000000000ull;
  for (const char* unit : kUnits) {
    for (uint64_t mult : {100ull, 10ull, 1ull}) {
      const uint64_t size = unit_ps * mult;
      if (period_ps % size == 0) {
        TraceTimescale t;
        t.text = std::to_string(mult) + " " + unit;
        t.ticks_per_cycle = period_ps / size;
        return t;
      }
    }
    unit_ps /= 1000;
  }
  return TraceTimescale{};  // not reached: 1 ps divides any period
}

std::string vcd_id_code(size_t index) {
  std::string s;
  do {
    s += static_cast<char>('!' + index % 94);
    index /= 94;
  } while (index > 0);
  return s;
}

VcdWriter::~VcdWriter() {
  try {
    close();
  } catch (...) {
    // A destructor must not throw; an explicit close() reports errors.
  }
}

void VcdWriter::open(const std::string& path, uint64_t clock_period_ps) {
  if (file_) throw std::logic_error("VcdWriter: already open");
  timescale_ = TraceTimescale::for_period_ps(clock_period_ps);
  period_ps_ = clock_period_ps;
  file_ = std::fopen(path.c_str(), "wb");
  if (!file_)
    throw ConfigError("--vcd: cannot open '" + path + "' for writing: " + std::strerror(errno));
  path_ = path;
  buf_.reserve(kFlushBytes + 4096);
}

int VcdWriter::add_signal(const std::vector<std::string>& scope, const std::string& name, int width,
                          TraceRadix radix) {
  if (started_)
    throw std::logic_error("VcdWriter: signals must be declared before the first cycle");
  if (width < 1 || width > 64)
    throw std::logic_error("VcdWriter: signal '" + name + "' width must be 1..64");
  if (scope.empty()) throw std::logic_error("VcdWriter: signal '" + name + "' needs a scope");
  for (const std::string& s : scope) check_name("scope", s);
  check_name("signal", name);
  signals_.push_back(TraceSignal{scope, name, width, radix});
  ids_.push_back(vcd_id_code(signals_.size() - 1));
  Slot slot;
  slot.mask = width == 64 ? ~uint64_t{0} : (uint64_t{1} << width) - 1;
  slots_.push_back(slot);
  return static_cast<int>(signals_.size() - 1);
}

void VcdWriter::write_header() {
  buf_ += "$date\n  brsim\n$end\n$version\n  brsim\n$end\n";
  buf_ += "$comment\n  one clock cycle = " + std::to_string(period_ps_) +
          " ps = " + std::to_string(timescale_.ticks_per_cycle) + " x " + timescale_.text +
          "\n$end\n";
  buf_ += "$timescale\n  " + timescale_.text + "\n$end\n";
  ScopeNode root;
  for (size_t i = 0; i < signals_.size(); ++i) insert(root, signals_[i].scope, i);
  struct Emit {
    VcdWriter& w;
    void operator()(const ScopeNode& n) {
      w.buf_ += "$scope module " + n.name + " $end\n";
      for (size_t i : n.signals) {
        const TraceSignal& s = w.signals_[i];
        w.buf_ += "$var wire " + std::to_string(s.width) + " " + w.ids_[i] + " " + s.name;
        if (s.width > 1) w.buf_ += " [" + std::to_string(s.width - 1) + ":0]";
        w.buf_ += " $end\n";
      }
      for (const ScopeNode& c : n.children) (*this)(c);
      w.buf_ += "$upscope $end\n";
    }
  } emit{*this};
  for (const ScopeNode& c : root.children) emit(c);
  buf_ += "$enddefinitions $end\n";
}

void VcdWriter::append_time(uint64_t cycle) {
  char tmp[24];
  tmp[0] = '#';
  auto r = std::to_chars(tmp + 1, tmp + sizeof(tmp) - 1, cycle * timescale_.ticks_per_cycle);
  *r.ptr++ = '\n';
  buf_.append(tmp, static_cast<size_t>(r.ptr - tmp));
}

void VcdWriter::append_value(size_t id, uint64_t value, bool known) {
  const std::string& code = ids_[id];
  if (signals_[id].width == 1) {
    buf_ += known ? static_cast<char>('0' + (value & 1)) : 'x';
  } else if (!known) {
    buf_ += "bx ";
  } else {
    // Leading zeros are dropped: VCD zero-extends a shorter binary value.
    char tmp[72];
    char* p = tmp;
    *p++ = 'b';
    if (value == 0) {
      *p++ = '0';
    } else {
      int bit = 63 - __builtin_clzll(value);
      for (; bit >= 0 && bit % 8 != 7; --bit)  // the top partial byte
        *p++ = static_cast<char>('0' + ((value >> bit) & 1));
      for (; bit >= 0; bit -= 8) {  // whole bytes through the table
        std::memcpy(p, kByteBits[(value >> (bit - 7)) & 0xFF], 8);
        p += 8;
      }
    }
    *p++ = ' ';
    buf_.append(tmp, static_cast<size_t>(p - tmp));
  }
  buf_ += code;
  buf_ += '\n';
}

void VcdWriter::write_dumpvars() {
  append_time(cycle_);
  buf_ += "$dumpvars\n";
  for (size_t i = 0; i < slots_.size(); ++i) append_value(i, slots_[i].last, slots_[i].known);
  buf_ += "$end\n";
  time_written_ = true;
  dumpvars_pending_ = false;
}

void VcdWriter::begin_cycle(uint64_t cycle) {
  if (!file_) throw std::logic_error("VcdWriter: begin_cycle before open");
  if (!started_) {
    write_header();
    started_ = true;
    dumpvars_pending_ = true;
    cycle_ = cycle;
    return;
  }
  if (cycle <= cycle_)
    throw std::logic_error("VcdWriter: cycle " + std::to_string(cycle) + " after cycle " +
                           std::to_string(cycle_));
  if (dumpvars_pending_) write_dumpvars();
  cycle_ = cycle;
  time_written_ = false;
  flush_if_full();
}

void VcdWriter::write_change(int id, uint64_t value) {
  if (!started_ || !file_) throw std::logic_error("VcdWriter: set outside begin_cycle ... close");
  Slot& s = slots_[static_cast<size_t>(id)];
  s.last = value;
  s.known = true;
  if (dumpvars_pending_) return;  // becomes part of $dumpvars
  if (!time_written_) {
    append_time(cycle_);
    time_written_ = true;
  }
  append_value(static_cast<size_t>(id), value, true);
}

void VcdWriter::flush_if_full() {
  if (buf_.size() >= kFlushBytes) flush();
}

void VcdWriter::flush() {
  if (buf_.empty() || !file_) return;
  if (std::fwrite(buf_.data(), 1, buf_.size(), file_) != buf_.size())
    throw std::runtime_error("--vcd: writing '" + path_ + "' failed: " + std::strerror(errno));
  bytes_ += buf_.size();
  buf_.clear();
}

void VcdWriter::close() {
  if (!file_) return;
  if (!started_) write_header();  // no cycle traced: a valid, empty dump
  if (started_) {
    if (dumpvars_pending_) write_dumpvars();
    append_time(cycle_ + 1);  // the end of the last cycle, so it shows full width
  }
  std::FILE* f = file_;
  flush();
  file_ = nullptr;
  if (std::fclose(f) != 0)
    throw std::runtime_error("--vcd: closing '" + path_ + "' failed: " + std::strerror(errno));
}

// ---- size estimate and limit

uint64_t estimate_vcd_bytes(const std::vector<TraceSignal>& signals, uint64_t cycles) {
  uint64_t header = kFixedHeaderBytes, dumpvars = kTimestampBytes + 16, per_cycle = 0;
  for (size_t i = 0; i < signals.size(); ++i) {
    const TraceSignal& s = signals[i];
    const uint64_t id_len = vcd_id_code(i).size();
    const uint64_t w = static_cast<uint64_t>(s.width);
    for (const std::string& part : s.scope) header += 20 + part.size() + 14;  // $scope + $upscope
    header += 10 + digits(w) + 1 + id_len + 1 + s.name.size() + 6;
    if (s.width > 1) header += 5 + digits(w - 1);
    const uint64_t line = w + id_len + 3;
    dumpvars += line;
    per_cycle += line;
  }
  return header + dumpvars + cycles * (kTimestampBytes + per_cycle) + kTimestampBytes;
}

std::string describe_vcd_size(uint64_t bytes, size_t signals, uint64_t cycles) {
  const double mb = static_cast<double>(bytes) / 1e6;
  char num[64];
  std::snprintf(num, sizeof(num), mb < 100 ? "%.1f" : "%.0f", mb);
  return std::string("about ") + num + " MB (" + std::to_string(signals) + " signals x " +
         std::to_string(cycles) + " cycles)";
}

void check_vcd_size(uint64_t bytes, size_t signals, uint64_t cycles, const TraceLimit& limit) {
  if (limit.force || bytes <= limit.max_bytes) return;
  char lim[64];
  std::snprintf(lim, sizeof(lim), "%.0f", static_cast<double>(limit.max_bytes) / 1e6);
  throw ConfigError("the VCD would be " + describe_vcd_size(bytes, signals, cycles) +
                    ", over the limit of " + lim +
                    " MB; narrow the selection (--vcd-pes, --vcd-cycles, --vcd-layer) or pass "
                    "--vcd-force");
}

}  // namespace brsim
