#include "sc_kernel.h"

#include <cstdlib>
#include <systemc>

#include "asan.h"

#ifdef BRSIM_ASAN
#include <dlfcn.h>
#include <sanitizer/asan_interface.h>
#include <sys/mman.h>
#include <sys/types.h>
#endif

namespace sc_core {
// The kernel's globals (sc_simcontext.cpp); SystemC 2.3 has no public reset.
extern sc_simcontext* sc_curr_simcontext;
extern sc_simcontext* sc_default_global_context;
}  // namespace sc_core

#ifdef BRSIM_ASAN
// SystemC's coroutine stacks and AddressSanitizer (docs/reliability.md
// "Sanitizer build"). SystemC maps each SC_THREAD's stack with mmap and
// unmaps it when the simulation context is deleted. A thread still blocked
// in wait() at that point never unwinds, so the shadow of its live frames
// keeps their redzone poison, and munmap does not clear shadow memory
// (GCC 12's libasan intercepts mmap but not munmap). A later simulation in
// the same process that gets the same address range for a new stack then
// runs on stale poison, and ASan reports stack-use-after-scope or
// stack-buffer-overflow in whatever frame lands on it. A fresh anonymous
// mapping holds zeros and nothing lives in it yet: its shadow is made clean
// here, before anyone uses it. This definition takes precedence over
// libasan's and libc's mmap for every library of the program (libsystemc
// calls mmap through the PLT); the next one in the lookup order does the
// mapping. It is linked into every program that runs SystemC, since each
// calls quiet_systemc_banner() or reset_systemc_kernel() of this file.
namespace {
template <typename Fn>
Fn next_definition(const char* name) {
  return reinterpret_cast<Fn>(dlsym(RTLD_NEXT, name));
}

void* unpoisoned(void* p, size_t length, int flags) {
  if (p != MAP_FAILED && (flags & MAP_ANONYMOUS) && (flags & MAP_PRIVATE))
    __asan_unpoison_memory_region(p, length);
  return p;
}
}  // namespace

extern "C" void* mmap(void* addr, size_t length, int prot, int flags, int fd, off_t offset) noexcept {
  static const auto real = next_definition<decltype(&mmap)>("mmap");
  return unpoisoned(real(addr, length, prot, flags, fd, offset), length, flags);
}

extern "C" void* mmap64(void* addr, size_t length, int prot, int flags, int fd, off64_t offset) noexcept {
  static const auto real = next_definition<decltype(&mmap64)>("mmap64");
  return unpoisoned(real(addr, length, prot, flags, fd, offset), length, flags);
}
#endif  // BRSIM_ASAN

namespace brsim {

void reset_systemc_kernel() {
  // Never delete the start-up context: static kernel objects (sc_event::none)
  // refer to it until the program exits.
  static sc_core::sc_simcontext* const first = sc_core::sc_get_curr_simcontext();
  if (sc_core::sc_curr_simcontext != first) delete sc_core::sc_curr_simcontext;
  sc_core::sc_curr_simcontext = new sc_core::sc_simcontext;
  sc_core::sc_default_global_context = sc_core::sc_curr_simcontext;
}

namespace {
// SystemC's own main() prints the banner before sc_main runs: switch it off
// during static initialization, which comes first.
const bool kBannerOff = (setenv("SC_COPYRIGHT_MESSAGE", "DISABLE", 1), true);
}  // namespace

void quiet_systemc_banner() {
  setenv("SC_COPYRIGHT_MESSAGE", "DISABLE", 1);
  // sc_stop() ends every run; its info message is noise for users.
  sc_core::sc_report_handler::set_actions("/OSCI/SystemC", sc_core::SC_INFO, sc_core::SC_DO_NOTHING);
}

}  // namespace brsim
