// The layers of `brsim layer` prepared on a second thread while the
// simulation runs them in order (sim/cmd_layer.cpp; docs/performance.md
// "Whole process").
#pragma once

#include <algorithm>
#include <condition_variable>
#include <cstddef>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace brsim {

// prepare(i) for every layer, once each: a thread of its own takes the
// layers in `order` (the costliest first) and, while take(i) waits for
// result i, the waiting thread takes the first one nobody has. take(i)
// returns result i or rethrows its exception (after a failure no later
// layer is started, every earlier one is). The destructor lets the layers
// in hand finish.
template <typename T>
class LayerPipeline {
 public:
  LayerPipeline(std::vector<size_t> order, std::function<T(size_t)> prepare)
      : results_(order.size()), errors_(order.size()), claimed_(order.size(), false), done_(order.size(), false),
        order_(std::move(order)), failed_at_(order_.size()), prepare_(std::move(prepare)) {
    if (!order_.empty()) thread_ = std::thread([this] { run(); });
  }
  ~LayerPipeline() {
    {
      std::lock_guard<std::mutex> l(m_);
      stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }
  T take(size_t i) {
    std::unique_lock<std::mutex> l(m_);
    while (!done_[i]) {
      size_t j = i;
      while (j < failed_at_ && claimed_[j]) ++j;
      if (j < failed_at_) {
        claimed_[j] = true;
        l.unlock();
        work(j);
        l.lock();
      } else {
        cv_.wait(l);
      }
    }
    if (errors_[i]) std::rethrow_exception(errors_[i]);
    T t = std::move(*results_[i]);
    results_[i].reset();
    return t;
  }

 private:
  void work(size_t j) {
    std::optional<T> r;
    std::exception_ptr e;
    try {
      r.emplace(prepare_(j));
    } catch (...) {
      e = std::current_exception();
    }
    std::lock_guard<std::mutex> l(m_);
    results_[j] = std::move(r);
    errors_[j] = e;
    if (e) failed_at_ = std::min(failed_at_, j);
    done_[j] = true;
    cv_.notify_all();
  }
  void run() {
    std::unique_lock<std::mutex> l(m_);
    for (size_t next = 0; next < order_.size() && !stop_; ++next) {
      const size_t j = order_[next];
      if (claimed_[j] || j >= failed_at_) continue;
      claimed_[j] = true;
      l.unlock();
      work(j);
      l.lock();
    }
  }
  std::vector<std::optional<T>> results_;
  std::vector<std::exception_ptr> errors_;
  std::vector<bool> claimed_, done_;
  std::vector<size_t> order_;
  size_t failed_at_;
  std::function<T(size_t)> prepare_;
  std::mutex m_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace brsim
