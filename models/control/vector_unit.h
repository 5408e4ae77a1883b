// The post-processing (vector) unit beside the output stage: the layers of a
// graph network that are not a GEMM (residual add, channel concat, squeeze
// and excite scaling, activation functions, pooling that does not follow a
// Conv/FC; channel slices and shuffles, which only move data). It reads its operands from DRAM, streams them through `lanes`
// lanes (one element per lane and cycle; a pooling window element per lane
// and cycle) and writes the result back to DRAM. Element arithmetic:
// vector_ops.h (bit exact, shared with the golden model's numerics);
// pooling: the output stage's pool_tile().
//
// Timing (closed form, the unit is not pipelined with the array): operand
// loads and the result's store are DRAM transactions, one per operand
// (latency + bytes / bytes_per_cycle each: the `stall` cycles), the lanes'
// work is the `output` cycles. Buffer traffic: every operand word is written
// into and read from the input buffer, every result word written into and
// read from the output buffer; each element operation is counted as an
// accumulator add (the energy table's adder of the same width). A channel
// slice or shuffle does no element operation: its lanes only copy (one
// element per lane and cycle); a slice reads only the channels from its
// first to its last (the span it keeps, every step-th channel of it).
#pragma once

#include <cstdint>
#include <vector>

#include "arch.h"
#include "layer_schedule.h"
#include "requant.h"
#include "vector_ops.h"

namespace brsim {

enum class VecOp : uint8_t { Add, Mul, Concat, Relu, Clip, Function, Pool, Slice, Shuffle };

struct VectorDescriptor {
  VecOp op = VecOp::Add;
  VecFunc fn = VecFunc::Sigmoid;
  uint32_t c = 1, h = 1, w = 1;      // output tensor C x H x W
  struct Operand {
    uint64_t addr = 0;
    uint32_t c = 1, h = 1, w = 1;
    int f = 0;                        // its activation format
  };
  std::vector<Operand> in;           // Add, Mul: 2 (Mul: the second may be C x 1 x 1); Concat: n; others: 1
                                     // (Slice: the span of channels it reads)
  uint64_t out_addr = 0;
  int f_out = 0;
  bool relu = false;
  int32_t lo_q = 0, hi_q = 0;        // Clip bounds in the operand's format
  float alpha = 0, beta = 0;         // HardSigmoid
  uint32_t ch_step = 1;              // Slice: output channel k is operand channel k ch_step
  uint32_t groups = 1;               // Shuffle: output channel k is operand channel shuffle_channel(k, c, groups)
  LayerDescriptor pool;              // Pool: the window (pool*), over a 1x1-kernel "layer" of the input's shape
  uint64_t out_elements() const { return uint64_t{c} * h * w; }
};

struct VectorCost {
  uint64_t lane_cycles = 0, dram_cycles = 0;
  uint64_t dram_bytes_read = 0, dram_bytes_written = 0;
  uint64_t input_words = 0, output_words = 0, element_ops = 0;
};
VectorCost vector_cost(const VectorDescriptor& d, const ArchConfig& a);

// The unit's output for the given operands (decoded A-bit values, in the
// order of d.in); requantization counters in `st`.
std::vector<int32_t> vector_compute(const VectorDescriptor& d, const std::vector<std::vector<int32_t>>& operands,
                                    int act_bits, RequantStats* st);

}  // namespace brsim
