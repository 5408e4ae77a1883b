// libFuzzer harness: the energy table loader (--energy).
#include "energy.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string& path = brsim_fuzz::as_file(data, size, ".yaml");
  return brsim_fuzz::expect_config_errors_only([&] { brsim::load_energy_table(path); });
}
