// AddressSanitizer and SystemC's coroutines (docs/reliability.md "Sanitizer
// build"): Debian's SystemC 2.3.4 tells ASan about each switch between
// coroutine stacks, but on the way back to sc_main it leaves ASan with wrong
// bounds for the main stack. ASan then ignores every later exception's
// unwinding there ("ASan is ignoring requested __asan_handle_no_return") and
// the unwound frames' stale poison is reported as stack-use-after-scope or
// stack-buffer-overflow by whatever runs next at those addresses: false
// reports, reproduced without any brsim code (a sc_main that runs one
// SC_THREAD, then throws and catches twice). Calling this after sc_start
// returns gives ASan the main thread's real stack bounds again. Without ASan
// it compiles to nothing.
#pragma once

#include "asan.h"

#ifdef BRSIM_ASAN
#include <pthread.h>
#include <sanitizer/common_interface_defs.h>
#endif

namespace brsim {

inline void asan_restore_main_stack() {
#ifdef BRSIM_ASAN
  pthread_attr_t attr;
  if (pthread_getattr_np(pthread_self(), &attr) != 0) return;
  void* low = nullptr;
  size_t size = 0;
  pthread_attr_getstack(&attr, &low, &size);
  pthread_attr_destroy(&attr);
  void* fake_stack = nullptr;
  __sanitizer_start_switch_fiber(&fake_stack, low, size);  // "switch" to the stack we are on
  __sanitizer_finish_switch_fiber(fake_stack, nullptr, nullptr);
#endif
}

}  // namespace brsim
