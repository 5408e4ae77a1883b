#include "progress.h"

#include <unistd.h>

#include <cstdio>

namespace brsim {

Progress::Progress(std::string label, int64_t total)
    : label_(std::move(label)), total_(total), active_(isatty(STDERR_FILENO) == 1 && total > 0) {}

Progress::~Progress() { finish(); }

void Progress::update(int64_t done) {
  if (!active_) return;
  const int64_t pct = done * 100 / total_;
  if (pct == last_shown_) return;
  last_shown_ = pct;
  const int width = 30;
  const int filled = static_cast<int>(done * width / total_);
  std::fprintf(stderr, "\r%-28s [%.*s%*s] %3lld%% %lld/%lld", label_.c_str(), filled,
               "##############################", width - filled, "", static_cast<long long>(pct),
               static_cast<long long>(done), static_cast<long long>(total_));
  std::fflush(stderr);
}

void Progress::finish() {
  if (!active_) return;
  std::fprintf(stderr, "\r%*s\r", 80, "");
  std::fflush(stderr);
  active_ = false;
}

}  // namespace brsim
