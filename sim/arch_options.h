// Architecture options shared by `brsim run` and `brsim layer`: a YAML file
// (--arch, default data/presets/default.yaml) and overrides on top of it.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "arch.h"

namespace brsim {

struct ArchArgs {
  std::string file;   // empty: the default preset
  std::string array;  // "RxC"
  int bits = 0, sqrt2_terms = 0, act_bits = 0, acc_bits = 0;
  std::string pe, dataflow;
  double clock_mhz = 0;
  int dram_latency = -1, dram_bytes_per_cycle = 0;
  bool double_buffer = false, double_buffer_acts = false;
  std::string arch_source;  // filled by resolve_arch: which file was read
};

void add_arch_options(CLI::App* cmd, ArchArgs& a);
ArchConfig resolve_arch(ArchArgs& a);

}  // namespace brsim
