// Shared by the libFuzzer harnesses (docs/reliability.md "Fuzzing"): the
// input as a file for the loaders that read a path, and the rule every
// harness checks: bad input is a ConfigError (brsim's exit 2), never another
// exception, a crash or a sanitizer report.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "errors.h"

namespace brsim_fuzz {

// One file per process (in $TMPDIR), rewritten for each input.
inline const std::string& input_path(const char* ext) {
  static const std::string path = [ext] {
    const char* tmp = std::getenv("TMPDIR");
    return std::string(tmp && *tmp ? tmp : "/tmp") + "/brsim-fuzz-" + std::to_string(::getpid()) + ext;
  }();
  return path;
}

inline const std::string& as_file(const uint8_t* data, size_t size, const char* ext) {
  const std::string& p = input_path(ext);
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  return p;
}

// Runs `load`; a ConfigError is the expected answer to bad input.
template <typename F>
int expect_config_errors_only(F load) {
  try {
    load();
  } catch (const brsim::ConfigError&) {
  }
  return 0;  // any other exception escapes: libFuzzer reports it as a crash
}

}  // namespace brsim_fuzz
