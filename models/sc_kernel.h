// SystemC kernel helpers: a fresh simulation context per run (so one process
// can elaborate and simulate several times: tests, comparisons) and the
// banner switched off.
#pragma once

namespace brsim {

// Deletes the current SystemC simulation context and installs a new one.
// Every module of the previous simulation must already be destroyed.
void reset_systemc_kernel();

// Silences the SystemC copyright banner (call before the first module).
void quiet_systemc_banner();

}  // namespace brsim
