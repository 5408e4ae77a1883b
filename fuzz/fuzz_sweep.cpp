// libFuzzer harness: the sweep file loader and its expansion (brsim sweep).
#include "fuzz_input.h"
#include "memory_limit.h"
#include "sweep.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  brsim::set_memory_limit(64ull << 20);  // the fuzzer's own memory stays small
  const std::string& path = brsim_fuzz::as_file(data, size, ".yaml");
  return brsim_fuzz::expect_config_errors_only([&] { brsim::load_sweep(path); });
}
