#include "fold_queue.h"

#include <time.h>

#include <chrono>
#include <stdexcept>
#include <string>

#include "fast_engine.h"
#include "worker.h"

namespace brsim {

namespace {
double thread_cpu_seconds() {  // the calling thread's CPU time
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}
}  // namespace

FoldQueue::FoldQueue(FastEngine* engine) : engine_(engine) {}
FoldQueue::~FoldQueue() = default;

uint8_t* FoldQueue::stage(uint64_t n) {
  staged_ = queued_.append(n);
  return const_cast<uint8_t*>(staged_);
}

void FoldQueue::push(const FoldJob& job, uint64_t edges) {
  constexpr size_t kQueue = 64;  // folds; their codes stay in the cache
  const uint64_t n = job.rows * job.cols;
  queued_.edges += edges;
  queued_.jobs.push_back(job);
  queued_.jobs.back().codes = nullptr;  // set from queued_.codes when run
  if (job.codes == staged_) {  // unpacked in place (stage)
    queued_.offsets.push_back(static_cast<size_t>(staged_ - queued_.codes.data()));
  } else {
    queued_.offsets.push_back(queued_.used);
    std::copy(job.codes, job.codes + n, queued_.append(n));
  }
  staged_ = nullptr;
  if (queued_.jobs.size() == kQueue) flush(false);
}

void FoldQueue::finish_batch() {
  if (running_.jobs.empty()) return;
  if (running_async_) {
    try {
      worker_->wait();
    } catch (...) {
      running_.clear();
      running_async_ = false;
      throw;
    }
    running_async_ = false;
    // From post to done, the worker off its core for longer than the spin
    // window (a host with more runnable threads than cores): each such
    // handoff costs scheduler time slices, far more than the batch. After
    // a few in a row the next kInlineBatches batches run on this thread.
    const auto wall = std::chrono::steady_clock::now() - posted_at_;
    const auto off_core = wall - std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                     std::chrono::duration<double>(running_.cpu_seconds));
    slow_waits_ = off_core > kSpin ? slow_waits_ + 1 : 0;
    if (slow_waits_ >= kSlowWaits) slow_waits_ = 0, inline_left_ = kInlineBatches, ++stalls_;
  }
  const uint64_t ran = running_.ran, expected = running_.edges;
  running_.clear();
  if (ran != expected)
    throw std::logic_error("internal: queued folds took " + std::to_string(ran) + " edges, not " +
                           std::to_string(expected));
}

void FoldQueue::flush(bool wait) {
  finish_batch();  // the batch before: at most one is on the worker
  staged_ = nullptr;
  if (queued_.jobs.empty()) return;
  std::swap(queued_, running_);
  for (size_t i = 0; i < running_.jobs.size(); ++i) running_.jobs[i].codes = running_.codes.data() + running_.offsets[i];
  // On the worker: folds of one pixel (fully connected layers at batch 1),
  // where the controller's share of the work is as large as the array's.
  // (Measured: larger folds gain little and lose the cache to the move.)
  bool async = !wait && threads_ > 1 && inline_left_ == 0;
  for (const FoldJob& j : running_.jobs) async = async && j.p == 1;
  if (!wait && threads_ > 1 && inline_left_ > 0) --inline_left_;
  auto task = [this] {
    const double c0 = thread_cpu_seconds();
    running_.ran = engine_->run(running_.jobs.data(), running_.jobs.size());
    running_.cpu_seconds = thread_cpu_seconds() - c0;
  };
  if (async) {
    // A batch takes tens of microseconds, and waking a sleeping thread about
    // as long: both sides spin up to a millisecond before they sleep.
    if (!worker_) worker_ = std::make_unique<Worker>(kSpin);
    posted_at_ = std::chrono::steady_clock::now();
    worker_->post(task);
    running_async_ = true;
    ++worker_batches_;
    return;
  }
  task();
  finish_batch();
}

}  // namespace brsim
