// Fast mode's fold queue (docs/fast-mode.md "Fold queue"): a temporally
// decoupled controller queues its weight-stationary folds here, their codes
// unpacked straight into the queue, and the engine runs them in batches of
// 64 on the caller's thread (their codes stay in the cache). The engine
// sees the same folds in the same order, so every result and count is the
// unqueued one's.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "fold.h"

namespace brsim {

class FastEngine;

class FoldQueue {
 public:
  explicit FoldQueue(FastEngine* engine);
  ~FoldQueue();

  // Where a weight load's n codes go: into the queue, where the next push()
  // finds them without a copy.
  uint8_t* stage(uint64_t n);
  // Queues a fold whose edges (fold_timing) are `edges`; its codes are the
  // staged ones or are copied in. A full queue is run.
  void push(const FoldJob& job, uint64_t edges);
  // Runs what is queued (the output stage reads their sums), and checks
  // that the engine ran the edges expected.
  void flush();

 private:
  FastEngine* engine_;
  std::vector<FoldJob> jobs_;
  std::vector<size_t> offsets_;  // each job's codes at codes_[offset]
  std::vector<uint8_t> codes_;   // (grown, never shrunk: used_ of them hold codes)
  size_t used_ = 0;
  uint64_t edges_ = 0;                // edges expected
  const uint8_t* staged_ = nullptr;  // stage()'s last place in codes_
  uint8_t* append(size_t n) {
    if (used_ + n > codes_.size()) codes_.resize(std::max(2 * codes_.size(), used_ + n));
    used_ += n;
    return codes_.data() + used_ - n;
  }
};

}  // namespace brsim
