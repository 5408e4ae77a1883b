// Error type for invalid user input (configurations, shapes, files).
// Every message names what was wrong, the field and what was expected.
#pragma once

#include <stdexcept>
#include <string>

namespace brsim {

// Thrown for bad input: an invalid configuration value, an impossible shape,
// a malformed file. The CLI prints what() and exits non-zero.
class ConfigError : public std::invalid_argument {
 public:
  explicit ConfigError(const std::string& what) : std::invalid_argument(what) {}
};

}  // namespace brsim
