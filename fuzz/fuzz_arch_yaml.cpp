// libFuzzer harness: the architecture YAML loader (--arch).
#include "arch_yaml.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string& path = brsim_fuzz::as_file(data, size, ".yaml");
  return brsim_fuzz::expect_config_errors_only([&] { brsim::load_arch_yaml(path); });
}
