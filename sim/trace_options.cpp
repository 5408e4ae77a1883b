#include "trace_options.h"

#include <iostream>

#include "accelerator.h"
#include "errors.h"
#include "quantizer.h"

namespace brsim {

void add_trace_options(CLI::App* cmd, TraceArgs& t) {
  cmd->add_option("--vcd", t.vcd, "Write a VCD of the cycle-by-cycle run (and a .gtkw save file beside it)");
  cmd->add_option("--vcd-blocks", t.blocks, "Blocks to trace: all, none, or controller,dma,decoder,array")
      ->capture_default_str();
  cmd->add_option("--vcd-pes", t.pes, "PEs to trace: all, none, rA-rB,cC-cD (inclusive)")->capture_default_str();
  cmd->add_option("--vcd-cycles", t.cycles, "Cycle window A-B (A included, B excluded), A-, or all")
      ->capture_default_str();
  cmd->add_option("--vcd-layer", t.layer, "Trace only this layer (name or index); the window counts from its start");
  cmd->add_flag("--vcd-force", t.force, "Write the VCD even when it is estimated above the limit");
  cmd->add_option("--vcd-limit-mb", t.limit_mb, "Refuse VCDs estimated above this size, MB")->capture_default_str();
  cmd->add_option("--saif", t.saif, "Write a SAIF 2.0 activity file of every PE's registers");
}

void add_mode_option(CLI::App* cmd, std::string& mode) {
  cmd->add_option("--mode", mode, "cycle: one kernel activation per clock (traceable); fast: a fold per "
                                  "activation, identical results and counts")
      ->check(CLI::IsMember({"cycle", "fast"}))
      ->capture_default_str();
}

void add_threads_option(CLI::App* cmd, int& threads) {
  cmd->add_option("--threads", threads, "Host threads (1 or 2): fast mode's large folds stream their pixels on two; weight generation, "
                                   "the quantizer and the golden model's preparation use as many")
      ->check(CLI::Range(1, 2))
      ->capture_default_str();
}

void add_quant_cache_option(CLI::App* cmd) {
  cmd->add_option_function<std::string>(
      "--quant-cache", [](const std::string& dir) { set_search_cache(dir); },
      "Folder of weight-quantizer search results, shared by runs of the same weights (sweeps set it)");
}

std::function<void(Accelerator&)> mode_setup(const std::string& mode, int threads) {
  const bool fast = mode == "fast";
  return [fast, threads](Accelerator& acc) {
    acc.array.set_fast(fast);
    acc.array.fast_engine().set_threads(threads);
  };
}

void check_trace_mode(const TraceArgs& t, bool fast) {
  if (fast && (!t.vcd.empty() || !t.saif.empty()))
    throw ConfigError("--vcd and --saif need --mode cycle (fast mode has no per-cycle state to trace)");
}

std::unique_ptr<AccelTracer> make_tracer(const TraceArgs& t, const ArchConfig& arch,
                                         const std::vector<std::string>& layer_names, uint64_t expected_cycles) {
  if (t.vcd.empty() && t.saif.empty()) return nullptr;
  if (!(t.limit_mb > 0)) throw ConfigError("invalid --vcd-limit-mb: expected a positive size in MB");
  TraceOptions o;
  o.vcd_path = t.vcd;
  o.saif_path = t.saif;
  o.select = TraceSelection::parse(t.blocks, t.pes, t.cycles, t.layer);
  o.limit.max_bytes = static_cast<uint64_t>(t.limit_mb * 1e6);
  o.limit.force = t.force;
  o.expected_cycles = expected_cycles;
  auto tracer = std::make_unique<AccelTracer>(o, arch, layer_names);
  if (!t.vcd.empty()) std::cerr << "brsim: the VCD will be " << tracer->describe_estimate() << " at most\n";
  return tracer;
}

}  // namespace brsim
