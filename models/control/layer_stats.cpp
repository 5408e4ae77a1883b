#include "layer_stats.h"

#include <stdexcept>
#include <utility>

namespace brsim {

const StatSet<LayerStats>& layer_stats() {
  using L = LayerStats;
  static const StatSet<L> set = {
      BRSIM_STAT(L, cycles.weight_load, "cycles.weight_load", "cycles", "edges shifting the stationary tile in"),
      BRSIM_STAT(L, cycles.compute, "cycles.compute", "cycles", "edges streaming operands"),
      BRSIM_STAT(L, cycles.drain, "cycles.drain", "cycles", "skew fill and drain edges (os: and shift-out)"),
      BRSIM_STAT(L, cycles.stall, "cycles.stall", "cycles", "waiting for DRAM transfers"),
      BRSIM_STAT(L, cycles.output, "cycles.output", "cycles", "output stage: requantize, ReLU, pooling"),
      BRSIM_STAT(L, macs, "macs", "MACs", "useful multiply-accumulates (P x R' x C' per fold)"),
      BRSIM_STAT(L, folds, "folds", "folds", "folds run on the array"),
      BRSIM_STAT(L, array_overflows, "array.acc_overflows", "partial sums", "partial sums that wrapped in the PEs"),
      BRSIM_STAT(L, output_overflows, "output_buffer.acc_overflows", "accumulations",
                 "accumulations that wrapped in the output buffer"),
      BRSIM_STAT(L, requant.outputs, "requant.outputs", "values", "outputs requantized by the output stage"),
      BRSIM_STAT(L, requant.saturated_high, "requant.saturated_high", "values", "outputs clipped to 2^(A-1) - 1"),
      BRSIM_STAT(L, requant.saturated_low, "requant.saturated_low", "values", "outputs clipped to -2^(A-1)"),
      BRSIM_STAT(L, dram_bytes_read, "dram.bytes_read", "bytes", "bytes read from DRAM"),
      BRSIM_STAT(L, dram_bytes_written, "dram.bytes_written", "bytes", "bytes written to DRAM"),
      BRSIM_STAT(L, dram_psum_bytes_read, "dram.psum_bytes_read", "bytes",
                 "of dram.bytes_read: spilled partial sums read back"),
      BRSIM_STAT(L, dram_psum_bytes_written, "dram.psum_bytes_written", "bytes",
                 "of dram.bytes_written: partial sums spilled"),
      BRSIM_STAT(L, weight_reads, "weight_buffer.reads", "words", "weight buffer words read"),
      BRSIM_STAT(L, weight_writes, "weight_buffer.writes", "words", "weight buffer words written"),
      BRSIM_STAT(L, input_reads, "input_buffer.reads", "words", "input buffer words read"),
      BRSIM_STAT(L, input_writes, "input_buffer.writes", "words", "input buffer words written"),
      BRSIM_STAT(L, output_reads, "output_buffer.reads", "words", "output buffer words read"),
      BRSIM_STAT(L, output_writes, "output_buffer.writes", "words", "output buffer words written"),
      BRSIM_STAT(L, decodes, "array.decodes", "decodes", "weight decodes in the column decoders"),
      BRSIM_STAT(L, ae_sqrt2, "array.ae_sqrt2", "AE ops", "AE operations on the sqrt2 (shift-add) path"),
      BRSIM_STAT(L, ae_pow2, "array.ae_pow2", "AE ops", "AE operations on the power-of-two (shift) path"),
      BRSIM_STAT(L, ae_zero, "array.ae_zero", "AE ops", "AE operations gated by a zero weight"),
      BRSIM_STAT(L, fixed16_muls, "array.fixed16_muls", "multiplies", "fixed16 PE multiplies"),
      BRSIM_STAT(L, acc_adds, "array.acc_adds", "adds", "PE accumulator adds and output-buffer accumulations"),
      BRSIM_STAT(L, reg_write_bits, "array.reg_write_bits", "bits", "PE register bits written"),
      BRSIM_STAT(L, toggles_weight, "array.toggles_weight", "bit toggles", "weight register toggles"),
      BRSIM_STAT(L, toggles_act, "array.toggles_act", "bit toggles", "activation register toggles"),
      BRSIM_STAT(L, toggles_product, "array.toggles_product", "bit toggles", "product register toggles"),
      BRSIM_STAT(L, toggles_psum, "array.toggles_psum", "bit toggles", "partial-sum register toggles"),
  };
  return set;
}

void LayerStats::add(const LayerStats& o) { add_stats(layer_stats(), this, o); }

namespace {
// Each array counter's home in the layer's registry, matched by name once.
std::vector<std::pair<const StatDef<FoldCounters>*, const StatDef<LayerStats>*>> fold_to_layer() {
  std::vector<std::pair<const StatDef<FoldCounters>*, const StatDef<LayerStats>*>> m;
  for (const StatDef<FoldCounters>& f : fold_stats()) {
    const StatDef<LayerStats>* l = find_stat(layer_stats(), f.name);
    if (!l) throw std::logic_error(std::string("array counter without a layer counter: ") + f.name);
    m.emplace_back(&f, l);
  }
  return m;
}
}  // namespace

void LayerStats::take_fold_counters(const FoldCounters& f) {
  static const auto map = fold_to_layer();
  for (const auto& [fs, ls] : map) ls->ref(*this) = fs->get(f);
}

}  // namespace brsim
