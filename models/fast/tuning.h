// Fast mode's tuning knobs (FastEngine). None changes a result or a count:
// each picks between paths that tests hold equal. The defaults were measured
// with brsim_bench (docs/performance.md).
#pragma once

#include <cstdint>

namespace brsim {

struct FastTuning {
  // Host threads of a weight-stationary fold: 2 lets a fold with at least
  // split_work PE-pixel steps (P x R x C) run its activation pass, its
  // missing table rows and its stream in chunks on a worker thread and the
  // caller; 1 is the calling thread only.
  int threads = 2;
  uint64_t split_work = 65536;
  // A fold (32-bit lanes, its activations kept for later m-tiles) of at
  // least defer_work PE-pixel steps streams its last pixels on the worker
  // (defer_share percent of them) while this thread goes on with the next
  // folds; the tasks are waited for when the engine returns.
  uint64_t defer_work = 16384;
  uint64_t defer_share = 50;
  // A run of one-pixel folds (a fully connected layer's m-tile at batch 1)
  // of at least this many folds takes both threads: its second half on a
  // lane of the worker's, merged in fold order.
  uint64_t split_run = 32;
  // Decode a tile in vectors when every column goes through one table of at
  // most 32 codes whose weights fit int32 (else per PE).
  bool vector_load = true;
  // Count product toggles from per-row tables when a band's rows serve at
  // least this many columns (m-tiles left x C); 0: always, UINT64_MAX: never.
  uint64_t table_reuse = 48;
};

}  // namespace brsim
