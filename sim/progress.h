// A one-line progress indicator on stderr, shown only on a terminal.
#pragma once

#include <cstdint>
#include <string>

namespace brsim {

class Progress {
 public:
  Progress(std::string label, int64_t total);
  ~Progress();
  void update(int64_t done);  // thread-safe enough: called by one thread
  void finish();

 private:
  std::string label_;
  int64_t total_;
  int64_t last_shown_ = -1;
  bool active_;
};

}  // namespace brsim
