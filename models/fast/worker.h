// A host thread beside the simulation's own (fast mode): it works on
// chunks of a task together with its caller (run_chunks: a fold's pixels,
// its activation pass, its table rows). Results never depend on which
// thread ran what: chunks write disjoint data and count into their
// thread's own counts, added up afterwards.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

namespace brsim {

class Worker {
 public:
  // `spin`: how long either side spins before it sleeps (waking a sleeping
  // thread costs tens of microseconds on the machines this runs on).
  explicit Worker(std::chrono::microseconds spin);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // chunk(ctx, i, thread) runs chunk i on thread 0 (the caller) or 1 (the
  // worker). run_chunks runs chunks [0, n) on both threads: the worker
  // claims them from the front, the caller from the back (one atomic word),
  // so the caller never waits for a worker that has not started; it returns
  // when all are done, with the number the worker ran.
  // (Waits for the posted tasks first.)
  using ChunkFn = void (*)(void* ctx, uint64_t i, int thread);
  uint64_t run_chunks(ChunkFn chunk, void* ctx, uint64_t n);

  // Tasks the worker runs in the order posted while the caller goes on
  // (a fold's second half of pixels, fast_stream32): post() returns at once
  // unless kTasks are pending, drain() returns when every posted task is done.
  static constexpr uint64_t kTasks = 16;
  using TaskFn = void (*)(void* ctx);
  void post(TaskFn task, void* ctx);
  void drain();
  // Returns when fewer than kTasks are pending: task tasks_posted()'s slot
  // (tasks_posted() % kTasks of the caller's) is free to fill then.
  void wait_room();
  uint64_t tasks_posted() const { return tasks_posted_.load(std::memory_order_relaxed); }
  bool idle() const { return tasks_done_.load(std::memory_order_acquire) == tasks_posted_.load(std::memory_order_relaxed); }

 private:
  static constexpr int kSide = 20;  // bits of front and back; the generation above
  static constexpr uint64_t kSideMask = (uint64_t{1} << kSide) - 1;
  static uint64_t pack(uint64_t gen, uint64_t front, uint64_t back) { return gen << (2 * kSide) | front << kSide | back; }
  static uint64_t gen_of(uint64_t s) { return s >> (2 * kSide); }
  static uint64_t front_of(uint64_t s) { return (s >> kSide) & kSideMask; }
  static uint64_t back_of(uint64_t s) { return s & kSideMask; }
  void loop();

  std::chrono::microseconds spin_;
  std::mutex m_;
  std::condition_variable work_cv_, done_cv_;
  bool quit_ = false;  // under m_
  // Chunks: the current generation (0: none yet), pack(generation, front,
  // back), and the chunks the worker finished this generation. The chunk
  // function is set before its generation is posted; the worker reads it
  // only after claiming a chunk of that generation.
  std::atomic<uint64_t> posted_{0}, state_{0}, completed_{0};
  ChunkFn fn_ = nullptr;
  void* ctx_ = nullptr;
  // Tasks: slot i % kTasks holds task i (written by the caller before it
  // posts i + 1, read by the worker after it sees that).
  struct Task {
    TaskFn fn = nullptr;
    void* ctx = nullptr;
  };
  Task tasks_[kTasks];
  alignas(64) std::atomic<uint64_t> tasks_posted_{0};  // (lines of their own: each is written by one side)
  alignas(64) std::atomic<uint64_t> tasks_done_{0};
  bool tasks_pending(uint64_t done) const { return tasks_posted_.load(std::memory_order_acquire) != done; }
  std::thread thread_;
};

}  // namespace brsim
