// GoogleTest entry point for test binaries that link SystemC (which owns
// main() and calls sc_main). Each test elaborates its own modules after
// reset_systemc_kernel(), so the whole binary runs in one process.
#include <gtest/gtest.h>

#include <systemc>

#include "sc_kernel.h"

int sc_main(int argc, char** argv) {
  brsim::quiet_systemc_banner();
  testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
