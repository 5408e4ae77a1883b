// libFuzzer harness: the SCALE-Sim topology CSV reader (brsim layer --topology).
#include "fuzz_input.h"
#include "synthetic_layer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string& path = brsim_fuzz::as_file(data, size, ".csv");
  return brsim_fuzz::expect_config_errors_only([&] {
    for (const brsim::LayerSpec& s : brsim::read_topology_csv(path)) (void)s.macs();
  });
}
