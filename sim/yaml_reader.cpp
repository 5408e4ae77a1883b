#include "yaml_reader.h"

namespace brsim {

YAML::Node load_yaml_file(const std::string& path, const std::string& what) {
  try {
    return YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    throw ConfigError(path + ": cannot open the " + what);
  } catch (const YAML::ParserException& e) {
    throw ConfigError(path + ": not valid YAML: " + e.what());
  }
}

}  // namespace brsim
