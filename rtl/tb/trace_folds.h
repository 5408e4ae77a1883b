// What the RTL testbenches read from a brsim VCD besides register values:
// the array's folds (when its clock edges are) and the code words behind
// the decoded weights the trace shows.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "vcd_reader.h"

namespace rtlcheck {

// One fold of the weight-stationary array: its clock edges are the cycles
// (start, end]: R load edges, then the stream (docs/cycle-model.md "Cycle model").
struct TraceFold {
  uint64_t start = 0, end = 0;
  uint64_t edges() const { return end - start; }
};

// A fold starts at the cycle the controller's fold number changes in state
// 2 (or the state becomes 2) and ends at the next change of either. Throws
// std::runtime_error naming the file when the trace has no controller
// signals or ends inside a fold.
std::vector<TraceFold> find_folds(const VcdReader& v, const std::string& path);

// The first segment configuration (n2 ascending, then p) of `bits`-bit codes
// under which every decoded weight in `regs` (register_bits layout: bit 0
// zero, 1 sign, 2 flag, 3.. shift) is the decode of a code, and those codes.
// False when no configuration explains them all.
bool invert_decoded(const std::vector<uint64_t>& regs, int bits, std::vector<uint32_t>* codes, int* n2, int* p);

}  // namespace rtlcheck
