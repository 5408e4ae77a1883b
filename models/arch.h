// The accelerator's architecture parameters (ARCHITECTURE.md "default
// architecture"): one typed struct with defaults and units, validated in one
// place. sim/ loads it from YAML and writes the resolved values with results.
#pragma once

#include <cstdint>
#include <string>

#include "datapath.h"

namespace brsim {

enum class PeType { BrsLog, Fixed16 };
// What stays in the PEs during a fold (docs/cycle-model.md "Cycle model"): the weight
// tile (ws), each PE's output (os) or the input-activation tile (is).
enum class Dataflow { WeightStationary, OutputStationary, InputStationary };

std::string to_string(PeType t);    // "brslog" | "fixed16"
std::string to_string(Dataflow d);  // "ws" | "os" | "is"
std::string describe(Dataflow d);   // "weight stationary" | "output stationary" | "input stationary"
PeType parse_pe_type(const std::string& s);      // ConfigError listing the choices
Dataflow parse_dataflow(const std::string& s);

struct BufferConfig {
  uint64_t capacity_bytes = 64 * 1024;  // bytes
  int word_bits = 64;                   // bits moved per read or write
};

struct DramConfig {
  uint64_t size_bytes = 256ull << 20;  // bytes of modelled memory
  int latency_cycles = 100;            // cycles from request to first byte
  int bytes_per_cycle = 16;            // bytes per cycle once streaming
};

constexpr int kMaxBatch = 256;  // images per batch (ArchConfig::batch)

struct ArchConfig {
  int rows = 16;  // PE array rows R (the GEMM's K dimension)
  int cols = 16;  // PE array columns C (the GEMM's M dimension)
  Dataflow dataflow = Dataflow::WeightStationary;
  PeType pe = PeType::BrsLog;
  int weight_bits = 5;      // BRSLog code width N
  DatapathConfig datapath;  // activation, accumulator, shift widths; sqrt2 terms K
  double clock_mhz = 500.0; // MHz
  BufferConfig weight_buffer, input_buffer, output_buffer;
  DramConfig dram;
  // Double-buffered weights: the next fold's weight tile loads from DRAM
  // while the current fold computes (the weight buffer holds two tiles).
  bool double_buffer_weights = false;
  // Double-buffered activations: the next band's input rows (and the next
  // m-tile's parameters) load while this band computes (the input buffer
  // holds two bands), and outputs are written back while the next band
  // computes (the output buffer also stages one band's outputs).
  bool double_buffer_activations = false;
  // Images per batch: N images go through each layer together (weights
  // loaded once per batch; docs/cycle-model.md "Batches").
  int batch = 1;
  int output_lanes() const { return cols; }  // output stage values per cycle
};

// ConfigError naming the field and the expected range.
void validate(const ArchConfig& a);

// Bytes of one activation word (ceil(A / 8)) and of one accumulator word.
int act_bytes(const ArchConfig& a);
int acc_bytes(const ArchConfig& a);

}  // namespace brsim
