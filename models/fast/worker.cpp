#include "worker.h"

#include "spin_wait.h"

namespace brsim {

Worker::Worker(std::chrono::microseconds spin) : spin_(spin), thread_([this] { loop(); }) {}

Worker::~Worker() {
  {
    std::lock_guard<std::mutex> l(m_);
    quit_ = true;
  }
  work_cv_.notify_all();
  thread_.join();
}

void Worker::loop() {
  uint64_t seen = 0;
  auto has_chunks = [&] { return posted_.load(std::memory_order_acquire) != seen; };
  auto has_work = [&] { return has_chunks() || busy_.load(std::memory_order_acquire); };
  for (;;) {
    if (!spin_until(has_work, spin_)) {
      std::unique_lock<std::mutex> l(m_);
      work_cv_.wait(l, [&] { return quit_ || has_work(); });
      if (!has_work()) return;  // quit
    }
    if (busy_.load(std::memory_order_acquire)) {
      run_task();
      continue;
    }
    seen = posted_.load(std::memory_order_acquire);
    for (;;) {
      uint64_t st = state_.load(std::memory_order_acquire);
      if (gen_of(st) != seen || front_of(st) >= back_of(st)) break;
      if (!state_.compare_exchange_weak(st, st + (uint64_t{1} << kSide), std::memory_order_acq_rel)) continue;
      fn_(ctx_, front_of(st), 1);
      {
        std::lock_guard<std::mutex> l(m_);
        completed_.fetch_add(1, std::memory_order_release);
      }
      done_cv_.notify_all();
    }
  }
}

uint64_t Worker::run_chunks(ChunkFn f, void* c, uint64_t chunks, uint64_t min_back) {
  fn_ = f, ctx_ = c;
  completed_.store(0, std::memory_order_relaxed);
  uint64_t gen = (posted_.load(std::memory_order_relaxed) + 1) & ((uint64_t{1} << (64 - 2 * kSide)) - 1);
  if (gen == 0) gen = 1;
  state_.store(pack(gen, 0, chunks), std::memory_order_release);
  {
    std::lock_guard<std::mutex> l(m_);
    posted_.store(gen, std::memory_order_release);
  }
  work_cv_.notify_one();
  for (;;) {
    uint64_t st = state_.load(std::memory_order_acquire);
    if (front_of(st) >= back_of(st) || back_of(st) <= min_back) break;
    if (!state_.compare_exchange_weak(st, st - 1, std::memory_order_acq_rel)) continue;
    f(c, back_of(st) - 1, 0);
  }
  // The chunks below `front` are the worker's: wait until it has claimed
  // and run the last of them.
  uint64_t front = 0;
  auto done = [&] {
    const uint64_t st = state_.load(std::memory_order_acquire);
    front = front_of(st);
    return front >= back_of(st) && completed_.load(std::memory_order_acquire) == front;
  };
  if (!spin_until(done, spin_)) {
    std::unique_lock<std::mutex> l(m_);
    done_cv_.wait(l, done);
  }
  return front;
}

void Worker::post(std::function<void()> task) {
  {
    std::lock_guard<std::mutex> l(m_);
    task_ = std::move(task);
    error_ = nullptr;
    busy_.store(true, std::memory_order_release);
  }
  work_cv_.notify_one();
}

void Worker::run_task() {
  std::function<void()> task;
  {
    std::lock_guard<std::mutex> l(m_);
    task = std::move(task_);
  }
  std::exception_ptr e;
  try {
    task();
  } catch (...) {
    e = std::current_exception();
  }
  {
    std::lock_guard<std::mutex> l(m_);
    error_ = e;
    busy_.store(false, std::memory_order_release);
  }
  done_cv_.notify_all();
}

void Worker::wait() {
  if (!spin_until([this] { return !busy_.load(std::memory_order_acquire); }, spin_)) {
    std::unique_lock<std::mutex> l(m_);
    done_cv_.wait(l, [this] { return !busy_.load(std::memory_order_acquire); });
  }
  std::exception_ptr e;
  {
    std::lock_guard<std::mutex> l(m_);
    std::swap(e, error_);
  }
  if (e) std::rethrow_exception(e);
}

}  // namespace brsim
