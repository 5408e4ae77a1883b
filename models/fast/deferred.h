// Fast mode's deferred streams (FastEngine::defer_stream): a fold's last
// pixels stream on the worker, in fold order, while the engine's thread
// streams the first ones and goes on with the next folds' loads. A task
// holds what the engine overwrites meanwhile (the fold's weights); the
// activations are the band's kept tiles (act_tiles_, changed only after the
// worker drains), and each task writes only its own pixels' outputs. The
// worker's counts are its own until FastEngine::sync() adds them to the
// engine's. Internal to models/fast/.
#pragma once

#include <cstdint>
#include <vector>

#include "fast_engine.h"
#include "kernels.h"
#include "stream_fn.h"
#include "worker.h"

namespace brsim {

struct FastEngine::Deferred {
  // (A cache line of its own: the engine fills the next slot while the
  // worker runs this one.)
  struct alignas(64) Task {
    Deferred* d = nullptr;
#if BRSIM_X86
    StreamFn fn = nullptr;
    Stream32 s{};
#endif
    uint64_t p0 = 0, p1 = 0;  // its pixels
    bool activity = false, by_table = false;
    std::vector<int32_t> w;  // the fold's weights, R rows of c8 lanes
  };
  Task tasks[Worker::kTasks];   // task i in slot i % kTasks (Worker::wait_room)
  std::vector<int32_t> ps, pr;  // the worker's registers, a cache line clear of other data
  // The array's shape and widths (the engine's, set once).
  size_t R = 0, c8 = 0, last32 = 0;
  uint32_t m32 = 0;
  uint64_t ext = 0;
  bool pending = false;  // tasks posted since the last sync() (the engine's)
  const int64_t* out = nullptr;  // their outputs and pixels (a fold of other ones waits for them)
  uint64_t P = 0, mid = 0;
  // The tasks' counts (written by the worker only until sync(); a line of their own).
  alignas(64) uint64_t tp = 0;
  uint64_t ts = 0, overflows = 0;

  // On the worker: the task's pixels through its registers (set up from the
  // pixel before), then the fold's end as fast_stream32 counts it: every
  // register but PE (R-1, C-1) clears.
  static void run(void* c) {
#if BRSIM_X86
    Task& t = *static_cast<Task*>(c);
    Deferred& d = *t.d;
    Counts32 n;
    uint64_t at = ~uint64_t{0};
    const Stream32 s = t.s;  // (the kernel reads its fields throughout)
    stream_chunk(t.fn, s, t.p0, t.p1, &at, &n);
    if (t.activity) {
      uint64_t negp = 0, negs = 0;
      const int32_t lp = t.s.pr[d.last32], ls = t.s.ps[d.last32];
      if (!t.by_table) {  // (by the tables: the engine counted the products)
        clear_toggles_avx2(t.s.pr, d.R * d.c8, d.m32, &n.pop_p, &negp);
        n.pop_p -= static_cast<uint64_t>(__builtin_popcount(static_cast<uint32_t>(lp) & d.m32));
        negp -= lp < 0;
      }
      clear_toggles_avx2(t.s.ps, d.R * d.c8, d.m32, &n.pop_s, &negs);
      n.pop_s -= static_cast<uint64_t>(__builtin_popcount(static_cast<uint32_t>(ls) & d.m32));
      negs -= ls < 0;
      d.tp += n.products(d.ext) + d.ext * negp;
      d.ts += n.psums(d.ext) + d.ext * negs;
    }
    d.overflows += n.out_overflows;
#else
    (void)c;
#endif
  }
};

}  // namespace brsim
