// Architecture options shared by `brsim run` and `brsim layer`: a YAML file
// (--arch, default data/presets/default.yaml) and overrides on top of it.
#pragma once

#include <CLI/CLI.hpp>
#include <limits>
#include <string>

#include "arch.h"

namespace brsim {

// An override not given on the command line keeps this value (every
// given value, 0 and negatives included, is range-checked).
constexpr long long kUnsetOption = std::numeric_limits<long long>::min();

struct ArchArgs {
  std::string file;   // empty: the default preset
  std::string array;  // "RxC"
  long long bits = kUnsetOption, sqrt2_terms = kUnsetOption, act_bits = kUnsetOption, acc_bits = kUnsetOption;
  std::string pe, dataflow;
  double clock_mhz = std::numeric_limits<double>::quiet_NaN();
  long long dram_latency = kUnsetOption, dram_bytes_per_cycle = kUnsetOption;
  long long batch = kUnsetOption;  // images per batch
  bool double_buffer = false, double_buffer_acts = false;
  std::string arch_source;  // filled by resolve_arch: which file was read
};

void add_arch_options(CLI::App* cmd, ArchArgs& a);
ArchConfig resolve_arch(ArchArgs& a);

}  // namespace brsim
