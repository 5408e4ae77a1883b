// Fast mode's fold queue (docs/fast-mode.md "Fold queue"): a temporally
// decoupled controller queues its weight-stationary folds here, their codes
// unpacked straight into the queue, and the engine runs them in batches of
// 64 (their codes stay in the cache). A batch of one-pixel folds (fully
// connected layers at batch 1) runs on a worker thread while the controller
// goes on with the next batch's DMA and unpacking; larger folds run on the
// caller's thread. The engine sees the same folds in the same order, so
// every result and count is the unqueued one's.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

#include "fold.h"

namespace brsim {

class FastEngine;
class Worker;

class FoldQueue {
 public:
  explicit FoldQueue(FastEngine* engine);
  ~FoldQueue();

  // Worker threads for the batches (FastTuning::threads; fixed per layer).
  void set_threads(int n) { threads_ = n; }
  // Where a weight load's n codes go: into the queue, where the next push()
  // finds them without a copy.
  uint8_t* stage(uint64_t n);
  // Queues a fold whose edges (fold_timing) are `edges`; its codes are the
  // staged ones or are copied in. A full queue is flushed (not waited for).
  void push(const FoldJob& job, uint64_t edges);
  // Runs what is queued; wait: returns when every queued fold has run (the
  // output stage reads their sums), rethrowing what the batch threw, and
  // checks that the engine ran the edges expected.
  void flush(bool wait);
  uint64_t worker_batches() const { return worker_batches_; }  // batches run on the worker thread so far
  // Times the batches went back to the caller's thread for a while because
  // the worker was not running when waited for (an overloaded host).
  uint64_t stalls() const { return stalls_; }

 private:
  // Until run, only the worker touches the engine; of the buffers' counters
  // it adds reads (and the output buffer's writes), the controller the input
  // and weight buffers' writes (Sram keeps them on separate cache lines).
  struct alignas(64) Batch {
    std::vector<FoldJob> jobs;
    std::vector<size_t> offsets;  // each job's codes at codes[offset]
    std::vector<uint8_t> codes;   // (grown, never shrunk: `used` of them hold codes)
    size_t used = 0;
    uint64_t edges = 0, ran = 0;  // edges expected, and as the engine ran them
    double cpu_seconds = 0;       // the running thread's CPU time for the batch
    void clear() { jobs.clear(), offsets.clear(), used = 0, edges = ran = 0, cpu_seconds = 0; }
    uint8_t* append(size_t n) {
      if (used + n > codes.size()) codes.resize(std::max(2 * codes.size(), used + n));
      used += n;
      return codes.data() + used - n;
    }
  };
  void finish_batch();  // waits for the batch on the worker, checks its edges

  FastEngine* engine_;
  Batch queued_, running_;
  const uint8_t* staged_ = nullptr;  // stage()'s last place in queued_
  std::unique_ptr<Worker> worker_;
  int threads_ = 1;
  uint64_t worker_batches_ = 0;
  static constexpr std::chrono::microseconds kSpin{1000};  // both sides spin this long before they sleep
  static constexpr int kSlowWaits = 4;                     // handoffs in a row that slept
  static constexpr int kInlineBatches = 256;               // batches on the caller's thread then
  bool running_async_ = false;                             // running_ is on the worker, posted then:
  std::chrono::steady_clock::time_point posted_at_;
  int slow_waits_ = 0, inline_left_ = 0;
  uint64_t stalls_ = 0;
};

}  // namespace brsim
