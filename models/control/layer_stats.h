// What one layer counted (summed over the images run): its cycles by
// category, the array's counters taken from its folds, requantization,
// DRAM traffic and buffer accesses. The registry (layer_stats()) names every
// counter with its unit and description; reports, energy and the stats.txt
// dump read it. Pure C++.
#pragma once

#include <cstdint>

#include "fold.h"
#include "layer_schedule.h"
#include "requant.h"
#include "stats.h"

namespace brsim {

struct LayerStats {
  LayerCycles cycles;
  uint64_t macs = 0;
  uint64_t folds = 0;
  uint64_t array_overflows = 0, output_overflows = 0;
  RequantStats requant;
  uint64_t dram_bytes_read = 0, dram_bytes_written = 0;
  uint64_t dram_psum_bytes_read = 0, dram_psum_bytes_written = 0;  // of them: spilled partial sums
  uint64_t weight_reads = 0, input_reads = 0, input_writes = 0, output_reads = 0, output_writes = 0;  // words
  uint64_t weight_writes = 0, decodes = 0;
  // Actions and switching activity of the PE array (FoldCounters).
  uint64_t ae_sqrt2 = 0, ae_pow2 = 0, ae_zero = 0, fixed16_muls = 0, acc_adds = 0, reg_write_bits = 0;
  uint64_t toggles_weight = 0, toggles_act = 0, toggles_product = 0, toggles_psum = 0;
  void add(const LayerStats& o);  // sums every counter of the registry
  // Sets every counter the array's registry shares with the layer's (same
  // name): the folds' cycles, MACs, overflows, actions and toggles.
  void take_fold_counters(const FoldCounters& f);
};

// The registry of a layer's counters, in the order stats.txt lists them.
const StatSet<LayerStats>& layer_stats();

}  // namespace brsim
