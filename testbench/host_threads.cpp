#include "host_threads.h"

#include <sched.h>

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "errors.h"

namespace brsim {

namespace {

int usable_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) return std::max(1, CPU_COUNT(&set));
  return std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
}

std::atomic<int> g_threads{0};            // 0: not set, usable_cpus()
thread_local bool t_in_parallel = false;  // inside a parallel_for's f: nested calls run serially

}  // namespace

void set_host_threads(int n) {
  if (n < 1) throw ConfigError("host threads: " + std::to_string(n) + ": expected >= 1");
  g_threads = n;
}

int host_threads() {
  const int n = g_threads.load();
  return n > 0 ? n : usable_cpus();
}

void parallel_for(size_t count, const std::function<void(size_t)>& f) {
  const size_t threads = std::min(count, static_cast<size_t>(host_threads()));
  if (threads <= 1 || t_in_parallel) {
    for (size_t i = 0; i < count; ++i) f(i);
    return;
  }
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex mu;
  size_t err_index = count;
  std::exception_ptr err;
  auto work = [&] {
    t_in_parallel = true;
    // Indices are claimed in ascending order and claiming stops after a
    // failure, so every index below a failed one has run: the smallest
    // failing index is the one a serial loop would have stopped at.
    for (size_t i; !failed.load(std::memory_order_relaxed) && (i = next.fetch_add(1)) < count;) {
      try {
        f(i);
      } catch (...) {
        std::lock_guard<std::mutex> lock(mu);
        if (i < err_index) err_index = i, err = std::current_exception();
        failed = true;
      }
    }
    t_in_parallel = false;
  };
  std::vector<std::thread> pool;
  for (size_t t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (std::thread& th : pool) th.join();
  if (err) std::rethrow_exception(err);
}

}  // namespace brsim
