// Waiting for another host thread of the simulator (fast mode's stream
// worker, the controller's fold runner): spin with pause for a while before
// blocking, since waking a sleeping thread costs tens of microseconds on the
// machines this runs on.
#pragma once

#include <chrono>

#include "simd.h"

namespace brsim {

// A hint to the core that this thread is spinning (x86 pause, Arm yield).
inline void spin_pause() {
#if BRSIM_X86
  _mm_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#endif
}

// Spins until done() holds or `limit` has passed; returns done().
template <typename Done>
bool spin_until(Done done, std::chrono::microseconds limit) {
  const auto t0 = std::chrono::steady_clock::now();
  do {
    for (int i = 0; i < 64; ++i) {
      if (done()) return true;
      spin_pause();
    }
  } while (std::chrono::steady_clock::now() - t0 < limit);
  return done();
}

}  // namespace brsim
