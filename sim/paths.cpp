#include "paths.h"

#include <cstdlib>

namespace brsim {

std::string data_dir() {
  const char* env = std::getenv("BRSIM_DATA");
  return env && *env ? std::string(env) : std::string(BRSIM_SOURCE_DATA_DIR);
}

std::string default_model_path() { return data_dir() + "/models/fashion_lenet.onnx"; }

}  // namespace brsim
