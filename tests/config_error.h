// The message of the ConfigError a call throws, for tests of error
// messages: EXPECT_NE(config_error([&] { validate(a); }).find("rows"), npos).
#pragma once

#include <functional>
#include <string>

#include "errors.h"

namespace brsim_test {

// What `f` throws as a brsim::ConfigError, or "no error" when it returns.
inline std::string config_error(const std::function<void()>& f) {
  try {
    f();
  } catch (const brsim::ConfigError& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace brsim_test
