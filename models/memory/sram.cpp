#include "sram.h"

#include <algorithm>

#include "errors.h"

namespace brsim {

void Sram::occupy(uint64_t bytes) {
  if (bytes > cfg_.capacity_bytes)
    throw ConfigError(name_ + " too small: needs " + std::to_string(bytes) + " bytes, capacity_bytes is " +
                      std::to_string(cfg_.capacity_bytes));
  c_.peak_bytes = std::max(c_.peak_bytes, bytes);
}

}  // namespace brsim
