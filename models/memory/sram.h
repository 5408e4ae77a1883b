// An on-chip buffer (weights, input activations, partial sums/outputs):
// capacity in bytes and word width in bits, counting word reads and writes.
// Its contents live in the controller's typed views; this block owns the
// capacity check and the access counts the energy model multiplies.
#pragma once

#include <cstdint>
#include <string>

#include "arch.h"

namespace brsim {

// Reads and writes on cache lines of their own: in fast mode the array
// (on a host thread of its own) counts reads while the controller counts
// writes (Controller::flush_folds).
struct SramCounters {
  alignas(64) uint64_t reads = 0;  // words
  alignas(64) uint64_t writes = 0;  // words
  uint64_t peak_bytes = 0;          // largest occupancy seen
};

class Sram {
 public:
  Sram(std::string name, const BufferConfig& cfg) : name_(std::move(name)), cfg_(cfg) {}
  // Words moved by an access of `bits` bits.
  uint64_t words(uint64_t bits) const { return (bits + cfg_.word_bits - 1) / cfg_.word_bits; }
  void read_bits(uint64_t bits) { c_.reads += words(bits); }
  void write_bits(uint64_t bits) { c_.writes += words(bits); }
  void read_words(uint64_t n) { c_.reads += n; }
  void write_words(uint64_t n) { c_.writes += n; }
  // Records an occupancy; ConfigError if it exceeds the capacity.
  void occupy(uint64_t bytes);
  const SramCounters& counters() const { return c_; }
  const BufferConfig& config() const { return cfg_; }
  const std::string& name() const { return name_; }

 private:
  std::string name_;
  BufferConfig cfg_;
  SramCounters c_;
};

}  // namespace brsim
