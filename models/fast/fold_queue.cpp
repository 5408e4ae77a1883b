#include "fold_queue.h"

#include <stdexcept>
#include <string>

#include "fast_engine.h"

namespace brsim {

FoldQueue::FoldQueue(FastEngine* engine) : engine_(engine) {}
FoldQueue::~FoldQueue() = default;

uint8_t* FoldQueue::stage(uint64_t n) {
  staged_ = append(n);
  return const_cast<uint8_t*>(staged_);
}

void FoldQueue::push(const FoldJob& job, uint64_t edges) {
  constexpr size_t kQueue = 64;  // folds; their codes stay in the cache
  const uint64_t n = job.rows * job.cols;
  edges_ += edges;
  jobs_.push_back(job);
  if (job.codes == staged_) {  // unpacked in place (stage)
    offsets_.push_back(static_cast<size_t>(staged_ - codes_.data()));
  } else {
    offsets_.push_back(used_);
    const uint8_t* src = job.codes;  // (append may move codes_, never job.codes)
    std::copy(src, src + n, append(n));
  }
  staged_ = nullptr;
  if (jobs_.size() == kQueue) flush();
}

void FoldQueue::flush() {
  staged_ = nullptr;
  if (jobs_.empty()) return;
  for (size_t i = 0; i < jobs_.size(); ++i) jobs_[i].codes = codes_.data() + offsets_[i];
  const uint64_t expected = edges_;
  uint64_t ran = 0;
  try {
    ran = engine_->run(jobs_.data(), jobs_.size());
  } catch (...) {
    jobs_.clear(), offsets_.clear(), used_ = 0, edges_ = 0;
    throw;
  }
  jobs_.clear(), offsets_.clear(), used_ = 0, edges_ = 0;
  if (ran != expected)
    throw std::logic_error("internal: queued folds took " + std::to_string(ran) + " edges, not " +
                           std::to_string(expected));
}

}  // namespace brsim
