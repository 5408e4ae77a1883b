#include "arch.h"

#include "errors.h"

namespace brsim {

std::string to_string(PeType t) { return t == PeType::BrsLog ? "brslog" : "fixed16"; }
std::string to_string(Dataflow d) {
  switch (d) {
    case Dataflow::OutputStationary: return "os";
    case Dataflow::InputStationary: return "is";
    default: return "ws";
  }
}

std::string describe(Dataflow d) {
  switch (d) {
    case Dataflow::OutputStationary: return "output stationary";
    case Dataflow::InputStationary: return "input stationary";
    default: return "weight stationary";
  }
}

PeType parse_pe_type(const std::string& s) {
  if (s == "brslog") return PeType::BrsLog;
  if (s == "fixed16") return PeType::Fixed16;
  throw ConfigError("unknown PE type '" + s + "': expected brslog or fixed16");
}

Dataflow parse_dataflow(const std::string& s) {
  if (s == "ws") return Dataflow::WeightStationary;
  if (s == "os") return Dataflow::OutputStationary;
  if (s == "is") return Dataflow::InputStationary;
  throw ConfigError("unknown dataflow '" + s +
                    "': expected ws (weight stationary), os (output stationary) or is (input stationary)");
}

namespace {
void need(bool ok, const std::string& field, const std::string& value, const std::string& expected) {
  if (!ok) throw ConfigError("invalid " + field + " " + value + ": expected " + expected);
}
void check_buffer(const BufferConfig& b, const std::string& name) {
  need(b.capacity_bytes >= 64 && b.capacity_bytes <= (1ull << 30), name + ".capacity_bytes",
       std::to_string(b.capacity_bytes), "64 .. 2^30 bytes");
  need(b.word_bits >= 8 && b.word_bits <= 1024 && b.word_bits % 8 == 0, name + ".word_bits",
       std::to_string(b.word_bits), "a multiple of 8 in [8, 1024]");
}
}  // namespace

void validate(const ArchConfig& a) {
  need(a.rows >= 1 && a.rows <= 512, "array rows", std::to_string(a.rows), "an integer in [1, 512]");
  need(a.cols >= 1 && a.cols <= 512, "array cols", std::to_string(a.cols), "an integer in [1, 512]");
  validate_bits(a.weight_bits);
  validate(a.datapath);
  need(a.batch >= 1 && a.batch <= kMaxBatch, "batch", std::to_string(a.batch),
       "an integer in [1, " + std::to_string(kMaxBatch) + "] images");
  need(a.clock_mhz > 0 && a.clock_mhz <= 10000, "clock_mhz", std::to_string(a.clock_mhz), "a frequency in (0, 10000] MHz");
  check_buffer(a.weight_buffer, "weight_buffer");
  check_buffer(a.input_buffer, "input_buffer");
  check_buffer(a.output_buffer, "output_buffer");
  need(a.dram.size_bytes >= 1024 && a.dram.size_bytes <= (4ull << 30), "dram.size_bytes",
       std::to_string(a.dram.size_bytes), "1 KiB .. 4 GiB");
  need(a.dram.latency_cycles >= 0 && a.dram.latency_cycles <= 100000, "dram.latency_cycles",
       std::to_string(a.dram.latency_cycles), "an integer in [0, 100000]");
  need(a.dram.bytes_per_cycle >= 1 && a.dram.bytes_per_cycle <= 4096, "dram.bytes_per_cycle",
       std::to_string(a.dram.bytes_per_cycle), "an integer in [1, 4096]");
  if (a.pe == PeType::Fixed16 && a.datapath.acc_bits < a.datapath.act_bits + 16)
    throw ConfigError("invalid acc_bits " + std::to_string(a.datapath.acc_bits) + " for the fixed16 PE: acc_bits >= " +
                      std::to_string(a.datapath.act_bits + 16) + " would hold its largest product");
}

int act_bytes(const ArchConfig& a) { return (a.datapath.act_bits + 7) / 8; }
int acc_bytes(const ArchConfig& a) { return (a.datapath.acc_bits + 7) / 8; }

}  // namespace brsim
