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

FoldCounters operator-(const FoldCounters& a, const FoldCounters& b) {
  FoldCounters d;
  d.folds = a.folds - b.folds;
  d.load_cycles = a.load_cycles - b.load_cycles;
  d.stream_cycles = a.stream_cycles - b.stream_cycles;
  d.drain_cycles = a.drain_cycles - b.drain_cycles;
  d.macs = a.macs - b.macs;
  d.decodes = a.decodes - b.decodes;
  d.array_overflows = a.array_overflows - b.array_overflows;
  d.output_overflows = a.output_overflows - b.output_overflows;
  d.ae_sqrt2 = a.ae_sqrt2 - b.ae_sqrt2;
  d.ae_pow2 = a.ae_pow2 - b.ae_pow2;
  d.ae_zero = a.ae_zero - b.ae_zero;
  d.fixed16_muls = a.fixed16_muls - b.fixed16_muls;
  d.acc_adds = a.acc_adds - b.acc_adds;
  d.reg_writes = a.reg_writes - b.reg_writes;
  d.toggles_weight = a.toggles_weight - b.toggles_weight;
  d.toggles_act = a.toggles_act - b.toggles_act;
  d.toggles_product = a.toggles_product - b.toggles_product;
  d.toggles_psum = a.toggles_psum - b.toggles_psum;
  return d;
}

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

void count_useful_work(const ArrayShape& a, const FoldJob& j, const AePaths& paths, FoldCounters* c) {
  const uint64_t p = j.p, tile = j.rows * j.cols;
  if (a.pe == PeType::Fixed16) {
    c->fixed16_muls += p * tile;
  } else {
    c->ae_zero += p * paths.zero;
    c->ae_sqrt2 += p * paths.sqrt2;
    c->ae_pow2 += p * paths.pow2;
  }
  c->acc_adds += p * tile + p * j.cols;
  c->macs += p * tile;
}

void count_fold_edges(const ArrayShape& a, const FoldTiming& t, FoldCounters* c) {
  c->load_cycles += t.load;
  c->stream_cycles += t.stream;
  c->drain_cycles += t.drain();
  c->reg_writes += fold_write_bits(a, t);
}

}  // namespace brsim
