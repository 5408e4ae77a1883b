// GoogleTest entry point for test binaries that link SystemC (which owns
// main() and calls sc_main). Each test elaborates its own modules after
// reset_systemc_kernel(), so the whole binary runs in one process.
#include <gtest/gtest.h>

#include <systemc>

#include "asan_main_stack.h"
#include "sc_kernel.h"

namespace {
// Each test starts with ASan's true main-stack bounds, whatever the previous
// test simulated (asan_main_stack.h).
struct AsanMainStack : testing::EmptyTestEventListener {
  void OnTestStart(const testing::TestInfo&) override { brsim::asan_restore_main_stack(); }
};
}  // namespace

int sc_main(int argc, char** argv) {
  brsim::quiet_systemc_banner();
  testing::InitGoogleTest(&argc, argv);
  testing::UnitTest::GetInstance()->listeners().Append(new AsanMainStack);
  return RUN_ALL_TESTS();
}
