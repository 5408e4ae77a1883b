// One fold of the PE array (ARCHITECTURE.md "The PE array and its timing";
// docs/cycle-model.md): the work the controller hands the array, what it
// counts, and the rules every implementation of a fold shares. This file is
// the one home of the fold's timing (its load, stream, skew and shift-out
// edges), of the register bits written per edge, and of the useful work a
// fold counts; the fold reference (fold_reference.h), the SystemC array,
// fast mode's engine, the controller and the closed form all take them
// from here. Pure C++.
#pragma once

#include <cstdint>

#include "arch.h"
#include "brslog.h"
#include "stats.h"

namespace brsim {

// One fold's work, set up by the controller in the buffers.
// ws and is: an R' x C' weight tile; os: a strip of R' = K' rows (several
// k-tiles) x C' columns, streamed through the column decoders.
struct FoldJob {
  uint64_t rows = 0, cols = 0;             // R' (K rows of W), C' <= C (output channels)
  const uint8_t* codes = nullptr;          // BRSLog: R' x C' code words (at most 8 bits), row-major
  const int16_t* fixed = nullptr;          // fixed16: R' x C' w_q, row-major
  const SegmentConfig* col_cfg = nullptr;  // BRSLog: segment config of each column (C')
  int sqrt2_terms = 4;                     // K of this layer
  const int32_t* act = nullptr;            // A[p][k0 + r] = act[(p0 + p) * act_stride + k0 + r]
  uint64_t act_stride = 0, k0 = 0;
  uint64_t p0 = 0, p = 0;                  // the fold's pixels [p0, p0 + p) of the band
  int64_t* out = nullptr;                  // band pixels x C' accumulators, row-major (wrapping)
  uint64_t load_id = 0;                    // folds of one weight load share it (0: unknown); a simulation cache key
  // The activations' identity (0: unknown): folds with the same act_id see
  // the same act values; act_reuse: how many m-tiles' folds will (a hint
  // for fast mode's per-activation caches). Simulation cache keys.
  uint64_t act_id = 0, act_reuse = 1;
};

// What the array counts (sums over folds). The register-level rules behind
// each count are in fold_reference.cpp; fast mode reaches the same numbers.
struct FoldCounters {
  uint64_t folds = 0;
  uint64_t load_cycles = 0, stream_cycles = 0, drain_cycles = 0;
  uint64_t macs = 0;               // useful MACs: P x R' x C' per fold
  uint64_t decodes = 0;            // weight decodes (R' x C' per fold)
  uint64_t array_overflows = 0;    // partial sums that wrapped inside the array
  uint64_t output_overflows = 0;   // accumulations that wrapped in the output buffer
  // Actions (useful work: P per PE holding a tile weight, per fold).
  uint64_t ae_sqrt2 = 0, ae_pow2 = 0, ae_zero = 0;  // BRSLog AE ops by path; zero = gated
  uint64_t fixed16_muls = 0;                         // fixed16 PE multiplies
  uint64_t acc_adds = 0;     // PE accumulator adds + output-buffer accumulations
  uint64_t reg_writes = 0;   // PE register bits written (fold_write_bits)
  // Switching activity: bit toggles between consecutive register values,
  // summed over all PEs (activation A bits, product and partial sum
  // acc_bits, weight register: the decoded fields or the 16-bit w_q).
  uint64_t toggles_weight = 0, toggles_act = 0, toggles_product = 0, toggles_psum = 0;
};
// The registry of the array's counters (stats.h): names, units and
// descriptions, shared with the layer's registry (layer_stats.h) for the
// counters a layer takes from its folds.
const StatSet<FoldCounters>& fold_stats();
// Counter by counter: what a stretch of folds counted (after - before).
FoldCounters operator-(const FoldCounters& after, const FoldCounters& before);

// The array's fixed shape and widths, as a fold's rules need them.
struct ArrayShape {
  uint64_t R = 16, C = 16;
  Dataflow flow = Dataflow::WeightStationary;
  PeType pe = PeType::BrsLog;
  uint64_t act_bits = 16, acc_bits = 48;
  uint64_t weight_bits = 5;      // bits of a stored weight: the code width, or 16 (fixed16)
  uint64_t weight_reg_bits = 7;  // a PE's weight register: zero, sign, flag and the shift field; 16 for fixed16
  explicit ArrayShape(const ArchConfig& a);
  ArrayShape() = default;
};

// The edges of one fold, by phase (docs/cycle-model.md "Cycle model"):
//   load       the stationary tile shifts in from the top: R edges (ws:
//              weights, is: activations); none for os
//   stream     one edge per streamed operand: the fold's pixels (ws), the
//              m-tile's C' weight columns (is), the strip's K' rows (os)
//   skew       the last operand crosses the array: R + C - 1 edges
//   shift_out  os: the R rows of accumulators shift down out of the array
struct FoldTiming {
  uint64_t load = 0, stream = 0, skew = 0, shift_out = 0;
  uint64_t drain() const { return skew + shift_out; }
  uint64_t stream_phase() const { return stream + skew; }  // edges of the stream phase
  uint64_t edges() const { return load + stream + skew + shift_out; }
};
FoldTiming fold_timing(Dataflow flow, uint64_t R, uint64_t C, uint64_t rows, uint64_t cols, uint64_t pixels);
inline FoldTiming fold_timing(const ArrayShape& a, const FoldJob& j) {
  return fold_timing(a.flow, a.R, a.C, j.rows, j.cols, j.p);
}

// PE register bits written on one edge of each phase: every PE's registers
// that the phase clocks (load: the stationary register; stream and skew:
// the streamed operand, product and partial sum; shift_out: the partial sum).
enum class FoldPhase { Load, Stream, ShiftOut };
uint64_t edge_write_bits(const ArrayShape& a, FoldPhase phase);
// Over a whole fold.
uint64_t fold_write_bits(const ArrayShape& a, const FoldTiming& t);

// A fold's weights by the AE path they take.
struct AePaths {
  uint64_t zero = 0, sqrt2 = 0, pow2 = 0;
};

// The useful work of a fold: its AE operations by path (P per tile weight;
// fixed16: multiplies), accumulator adds (P per tile weight in the PEs and P
// per column in the output buffer) and MACs. With `folds` > 1: that many
// folds of j's shape, `paths` summed over them.
void count_useful_work(const ArrayShape& a, const FoldJob& j, const AePaths& paths, FoldCounters* c, uint64_t folds = 1);
// A fold's cycles by phase (load, stream, skew and shift-out as drain) and
// its register writes, all at once (fast mode; the cycle-by-cycle array
// counts them edge by edge with edge_write_bits).
void count_fold_edges(const ArrayShape& a, const FoldTiming& t, FoldCounters* c);

}  // namespace brsim
