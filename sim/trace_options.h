// Trace options shared by `brsim run` and `brsim layer`: --vcd with its
// selection (blocks, PEs, cycle window, layer) and size limit, and --saif.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "accel_tracer.h"

namespace brsim {

class Accelerator;

struct TraceArgs {
  std::string vcd, saif;
  std::string blocks = "all";
  std::string pes = "r0-r1,c0-c1";
  std::string cycles = "all";
  std::string layer;
  bool force = false;
  double limit_mb = 2048;
};

void add_trace_options(CLI::App* cmd, TraceArgs& t);
// --mode cycle|fast (docs/commands.md "brsim run").
void add_mode_option(CLI::App* cmd, std::string& mode);
// --threads 1|2: host threads of fast mode (docs/fast-mode.md "Two threads").
void add_threads_option(CLI::App* cmd, int& threads);
// --quant-cache DIR: the weight quantizer's search results (set_search_cache).
void add_quant_cache_option(CLI::App* cmd);
// The accelerator setup of --mode and --threads, for run_accelerator.
std::function<void(Accelerator&)> mode_setup(const std::string& mode, int threads);
// ConfigError when traces are asked for in fast mode.
void check_trace_mode(const TraceArgs& t, bool fast);
// nullptr when neither --vcd nor --saif is given. States the VCD's expected
// size on stderr; ConfigError past the limit unless --vcd-force.
std::unique_ptr<AccelTracer> make_tracer(const TraceArgs& t, const ArchConfig& arch,
                                         const std::vector<std::string>& layer_names, uint64_t expected_cycles);

}  // namespace brsim
