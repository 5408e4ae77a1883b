#include "sc_kernel.h"

#include <cstdlib>
#include <systemc>

namespace sc_core {
// The kernel's globals (sc_simcontext.cpp); SystemC 2.3 has no public reset.
extern sc_simcontext* sc_curr_simcontext;
extern sc_simcontext* sc_default_global_context;
}  // namespace sc_core

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
