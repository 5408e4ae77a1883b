// libFuzzer harness: the ONNX importer on arbitrary bytes.
#include "fuzz_input.h"
#include "onnx_import.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  return brsim_fuzz::expect_config_errors_only([&] { brsim::import_onnx_bytes(bytes, "fuzz.onnx"); });
}
