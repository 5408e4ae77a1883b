// Where brsim finds its shipped data: $BRSIM_DATA if set, else the source
// tree's data/ folder (compiled in), so a build runs from any directory.
#pragma once

#include <string>

namespace brsim {

std::string data_dir();
std::string default_model_path();  // data/models/fashion_lenet.onnx

}  // namespace brsim
