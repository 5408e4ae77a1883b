#include "file_io.h"

#include <fstream>
#include <sstream>

#include "errors.h"

namespace brsim {

void write_file(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary);
  f << text;
  if (!f) throw ConfigError(path + ": cannot write");
}

std::string read_text(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

}  // namespace brsim
