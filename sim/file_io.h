// Whole-file reads and writes of the results a command writes outside a
// ResultsDir (sweep folders, plots).
#pragma once

#include <string>

namespace brsim {

void write_file(const std::string& path, const std::string& text);  // ConfigError "PATH: cannot write"
std::string read_text(const std::string& path);                   // "" when it cannot be read

}  // namespace brsim
