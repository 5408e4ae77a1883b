// Architecture files (YAML, yaml-cpp): load with every field checked (type,
// range, unknown keys) and errors naming the file and the field; write the
// resolved configuration next to the results.
#pragma once

#include <string>

#include "arch.h"

namespace brsim {

ArchConfig load_arch_yaml(const std::string& path);
std::string arch_to_yaml(const ArchConfig& a);
std::string default_arch_path();  // data/presets/default.yaml

}  // namespace brsim
