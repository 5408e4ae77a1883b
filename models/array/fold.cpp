#include "fold.h"

namespace brsim {

ArrayShape::ArrayShape(const ArchConfig& a)
    : R(static_cast<uint64_t>(a.rows)),
      C(static_cast<uint64_t>(a.cols)),
      flow(a.dataflow),
      pe(a.pe),
      act_bits(static_cast<uint64_t>(a.datapath.act_bits)),
      acc_bits(static_cast<uint64_t>(a.datapath.acc_bits)),
      weight_bits(a.pe == PeType::Fixed16 ? 16 : static_cast<uint64_t>(a.weight_bits)),
      weight_reg_bits(a.pe == PeType::Fixed16 ? 16 : 3 + static_cast<uint64_t>(a.datapath.shift_bits)) {}

const StatSet<FoldCounters>& fold_stats() {
  using F = FoldCounters;
  static const StatSet<F> set = {
      BRSIM_STAT(F, folds, "folds", "folds", "folds run on the array"),
      BRSIM_STAT(F, load_cycles, "cycles.weight_load", "cycles", "edges shifting the stationary tile in"),
      BRSIM_STAT(F, stream_cycles, "cycles.compute", "cycles", "edges streaming operands"),
      BRSIM_STAT(F, drain_cycles, "cycles.drain", "cycles", "skew fill and drain edges (os: and shift-out)"),
      BRSIM_STAT(F, macs, "macs", "MACs", "useful multiply-accumulates (P x R' x C' per fold)"),
      BRSIM_STAT(F, decodes, "array.decodes", "decodes", "weight decodes in the column decoders"),
      BRSIM_STAT(F, array_overflows, "array.acc_overflows", "partial sums", "partial sums that wrapped in the PEs"),
      BRSIM_STAT(F, output_overflows, "output_buffer.acc_overflows", "accumulations",
                 "accumulations that wrapped in the output buffer"),
      BRSIM_STAT(F, ae_sqrt2, "array.ae_sqrt2", "AE ops", "AE operations on the sqrt2 (shift-add) path"),
      BRSIM_STAT(F, ae_pow2, "array.ae_pow2", "AE ops", "AE operations on the power-of-two (shift) path"),
      BRSIM_STAT(F, ae_zero, "array.ae_zero", "AE ops", "AE operations gated by a zero weight"),
      BRSIM_STAT(F, fixed16_muls, "array.fixed16_muls", "multiplies", "fixed16 PE multiplies"),
      BRSIM_STAT(F, acc_adds, "array.acc_adds", "adds", "PE accumulator adds and output-buffer accumulations"),
      BRSIM_STAT(F, reg_writes, "array.reg_write_bits", "bits", "PE register bits written"),
      BRSIM_STAT(F, toggles_weight, "array.toggles_weight", "bit toggles", "weight register toggles"),
      BRSIM_STAT(F, toggles_act, "array.toggles_act", "bit toggles", "activation register toggles"),
      BRSIM_STAT(F, toggles_product, "array.toggles_product", "bit toggles", "product register toggles"),
      BRSIM_STAT(F, toggles_psum, "array.toggles_psum", "bit toggles", "partial-sum register toggles"),
  };
  return set;
}

FoldCounters operator-(const FoldCounters& a, const FoldCounters& b) { return diff_stats(fold_stats(), a, b); }

FoldTiming fold_timing(Dataflow flow, uint64_t R, uint64_t C, uint64_t rows, uint64_t cols, uint64_t pixels) {
  FoldTiming t;
  t.skew = R + C - 1;
  switch (flow) {
    case Dataflow::WeightStationary: t.load = R, t.stream = pixels; break;
    case Dataflow::InputStationary: t.load = R, t.stream = cols; break;
    case Dataflow::OutputStationary: t.stream = rows, t.shift_out = R; break;
  }
  return t;
}

uint64_t edge_write_bits(const ArrayShape& a, FoldPhase phase) {
  const uint64_t pes = a.R * a.C, w = a.weight_reg_bits, act = a.act_bits, acc = a.acc_bits;
  switch (phase) {
    case FoldPhase::Load: return pes * (a.flow == Dataflow::WeightStationary ? w : act);
    case FoldPhase::Stream:  // the stationary register is not clocked
      switch (a.flow) {
        case Dataflow::WeightStationary: return pes * (act + 2 * acc);
        case Dataflow::InputStationary: return pes * (w + 2 * acc);
        case Dataflow::OutputStationary: return pes * (act + w + 2 * acc);
      }
      break;
    case FoldPhase::ShiftOut: return pes * acc;
  }
  return 0;
}

uint64_t fold_write_bits(const ArrayShape& a, const FoldTiming& t) {
  return t.load * edge_write_bits(a, FoldPhase::Load) + t.stream_phase() * edge_write_bits(a, FoldPhase::Stream) +
         t.shift_out * edge_write_bits(a, FoldPhase::ShiftOut);
}

void count_useful_work(const ArrayShape& a, const FoldJob& j, const AePaths& paths, FoldCounters* c, uint64_t folds) {
  const uint64_t p = j.p, tile = j.rows * j.cols;
  if (a.pe == PeType::Fixed16) {
    c->fixed16_muls += folds * p * tile;
  } else {
    c->ae_zero += p * paths.zero;
    c->ae_sqrt2 += p * paths.sqrt2;
    c->ae_pow2 += p * paths.pow2;
  }
  c->acc_adds += folds * (p * tile + p * j.cols);
  c->macs += folds * p * tile;
}

void count_fold_edges(const ArrayShape& a, const FoldTiming& t, FoldCounters* c) {
  c->load_cycles += t.load;
  c->stream_cycles += t.stream;
  c->drain_cycles += t.drain();
  c->reg_writes += fold_write_bits(a, t);
}

}  // namespace brsim
