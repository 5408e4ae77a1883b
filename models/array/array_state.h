// The PE array's registers (ARCHITECTURE.md "The PE array and its timing"):
// flat arrays of PE state, shared by the fold reference that steps them edge
// by edge and by fast mode's engine, which jumps them a fold at a time. Both
// leave the registers as the hardware would, so traces, tests and either
// engine can take over after the other. Pure C++.
#pragma once

#include <cstdint>
#include <vector>

#include "brslog.h"
#include "fold.h"

namespace brsim {

struct ArrayState;

// Weights held outside the registers until someone reads them (fast mode
// keeps a tile's weights in its own form and fills weff and dec on demand).
class WeightSource {
 public:
  virtual ~WeightSource() = default;
  virtual void materialize(const ArrayState& s) const = 0;  // fills s.weff and s.dec
};

struct ArrayState {
  explicit ArrayState(const ArrayShape& shape);

  ArrayShape shape;
  int R = 0, C = 0;
  // Weight register per PE: the decoded fields and the effective weight the
  // AE multiplies by (fixed16: w_q, with dec.zero = (w_q == 0)). Read them
  // after sync_weights().
  mutable std::vector<int64_t> weff;
  mutable std::vector<DecodedWeight> dec;
  // Activation registers. ws: row r's C registers are the window
  // act_ring[r * ring_len + base .. + C) (a shift right is base - 1);
  // is, os: act_reg, one per PE.
  std::vector<int32_t> act_ring;
  size_t ring_len = 0, base = 0;
  std::vector<int64_t> act_reg;
  std::vector<int64_t> psum, prod;  // partial-sum and product registers per PE
  std::vector<int64_t> feed;        // what entered each row on the last edge
  std::vector<int64_t> zero_row;    // C zeros: the partial sums above row 0
  // is, os: every register is empty but PE (R-1, C-1)'s product and partial
  // sum (a fast fold ended; the next fold's start clears only those).
  bool df_clear = false;
  // Bumped whenever the weight registers change edge by edge: fast mode's
  // copies of a tile are stale when it moved on.
  uint64_t weight_edits = 0;
  mutable const WeightSource* lazy_weights = nullptr;

  void sync_weights() const {
    if (lazy_weights) {
      const WeightSource* s = lazy_weights;
      lazy_weights = nullptr;
      s->materialize(*this);
    }
  }
  int64_t act_at(int r, int c) const {  // activation register of PE (r, c)
    if (shape.flow != Dataflow::WeightStationary) return act_reg[static_cast<size_t>(r * C + c)];
    return act_ring[static_cast<size_t>(r) * ring_len + base + static_cast<size_t>(c)];
  }
  // The bits PE i's weight register holds: the decoded fields (zero, sign,
  // flag, shift; register_bits) for BRSLog, the 16-bit w_q for fixed16.
  // After sync_weights().
  uint64_t weight_bits(size_t i) const {
    if (shape.pe == PeType::Fixed16) return static_cast<uint64_t>(weff[i]) & 0xFFFFu;
    return register_bits(dec[i]);
  }
  // The weight register's bits between operands (a gated zero for BRSLog).
  uint64_t empty_weight_bits() const { return shape.pe == PeType::Fixed16 ? 0 : register_bits(DecodedWeight{}); }
  // The activation and accumulator registers' widths as masks.
  uint64_t act_mask() const { return shape.act_bits >= 64 ? ~0ull : (1ull << shape.act_bits) - 1; }
  uint64_t acc_mask() const { return shape.acc_bits >= 64 ? ~0ull : (1ull << shape.acc_bits) - 1; }

  // The start of a ws fold's stream (after its load): the activation,
  // product and partial-sum registers clear, their toggles counted when
  // `activity`.
  void clear_for_ws_stream(bool activity, FoldCounters* c);
  // The start of an is/os fold's stream: the streamed registers, products
  // and partial sums clear (is keeps its stationary activations), their
  // toggles counted when `activity`.
  void clear_for_df_stream(bool activity, FoldCounters* c);
};

}  // namespace brsim
