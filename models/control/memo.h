// A process-wide table of a pure function's results by key (make_schedule,
// closed_form): a layer's schedule and cycle count are asked for by the host,
// the controller and every sweep point of the same shape, and computing them
// walks the whole plan. Thread safe; bounded (cleared when full).
#pragma once

#include <cstddef>
#include <mutex>
#include <string>
#include <unordered_map>

namespace brsim {

template <class V>
class Memo {
 public:
  bool find(const std::string& key, V* v) {
    std::lock_guard<std::mutex> g(m_);
    const auto it = map_.find(key);
    if (it == map_.end()) return false;
    *v = it->second;
    return true;
  }
  void put(const std::string& key, const V& v) {
    std::lock_guard<std::mutex> g(m_);
    if (map_.size() >= kMaxEntries) map_.clear();
    map_.emplace(key, v);
  }

 private:
  static constexpr size_t kMaxEntries = 4096;
  std::mutex m_;
  std::unordered_map<std::string, V> map_;
};

}  // namespace brsim
