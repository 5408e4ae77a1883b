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
  uint64_t seen = 0, done = 0;
  auto has_work = [&] { return posted_.load(std::memory_order_acquire) != seen || tasks_pending(done); };
  for (;;) {
    if (!spin_until(has_work, spin_)) {
      std::unique_lock<std::mutex> l(m_);
      work_cv_.wait(l, [&] { return quit_ || has_work(); });
      if (!has_work()) return;  // quit
    }
    while (tasks_pending(done)) {  // in the order posted
      const Task t = tasks_[done % kTasks];
      t.fn(t.ctx);
      ++done;
      {
        std::lock_guard<std::mutex> l(m_);
        tasks_done_.store(done, std::memory_order_release);
      }
      done_cv_.notify_all();
    }
    if (posted_.load(std::memory_order_acquire) == seen) continue;
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

void Worker::wait_room() {
  const uint64_t n = tasks_posted_.load(std::memory_order_relaxed);
  auto room = [&] { return n - tasks_done_.load(std::memory_order_acquire) < kTasks; };
  if (!spin_until(room, spin_)) {
    std::unique_lock<std::mutex> l(m_);
    done_cv_.wait(l, room);
  }
}

void Worker::post(TaskFn f, void* ctx) {
  wait_room();
  const uint64_t n = tasks_posted_.load(std::memory_order_relaxed);
  tasks_[n % kTasks] = Task{f, ctx};
  {
    std::lock_guard<std::mutex> l(m_);
    tasks_posted_.store(n + 1, std::memory_order_release);
  }
  work_cv_.notify_one();
}

void Worker::drain() {
  auto done = [&] { return idle(); };
  if (!spin_until(done, spin_)) {
    std::unique_lock<std::mutex> l(m_);
    done_cv_.wait(l, done);
  }
}

uint64_t Worker::run_chunks(ChunkFn f, void* c, uint64_t chunks) {
  drain();
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
    if (front_of(st) >= back_of(st)) break;
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

}  // namespace brsim
