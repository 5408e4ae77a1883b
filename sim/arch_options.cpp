#include "arch_options.h"

#include <cmath>
#include <filesystem>

#include "arch_yaml.h"
#include "errors.h"

namespace brsim {

namespace {

// A given integer override within [lo, hi], else ConfigError naming the option.
int option_in_range(long long v, const char* option, long long lo, long long hi, const char* unit) {
  if (v < lo || v > hi)
    throw ConfigError(std::string("invalid ") + option + " " + std::to_string(v) + ": expected an integer in [" +
                      std::to_string(lo) + ", " + std::to_string(hi) + "]" + unit);
  return static_cast<int>(v);
}

}  // namespace

void add_arch_options(CLI::App* cmd, ArchArgs& a) {
  cmd->add_option("--arch", a.file, "Architecture YAML file (default: data/presets/default.yaml)");
  cmd->add_option("--array", a.array, "Override the PE array shape, ROWSxCOLS (e.g. 32x16)");
  cmd->add_option("--bits", a.bits, "Override the weight code width N");
  cmd->add_option("--sqrt2-terms", a.sqrt2_terms, "Override K, the sqrt2 expansion terms (1..7)");
  cmd->add_option("--dataflow", a.dataflow, "Override the dataflow: ws (weight), os (output) or is (input stationary)");
  cmd->add_option("--pe", a.pe, "Override the PE type: brslog or fixed16");
  cmd->add_option("--act-bits", a.act_bits, "Override the activation width A");
  cmd->add_option("--acc-bits", a.acc_bits, "Override the accumulator width");
  cmd->add_option("--clock-mhz", a.clock_mhz, "Override the clock frequency, MHz");
  cmd->add_option("--dram-latency", a.dram_latency, "Override the DRAM latency, cycles");
  cmd->add_option("--dram-bandwidth", a.dram_bytes_per_cycle, "Override the DRAM bandwidth, bytes per cycle");
  cmd->add_flag("--double-buffer", a.double_buffer, "Double-buffered weights: load the next weight tile (os: strip) while the array computes");
  cmd->add_flag("--double-buffer-acts", a.double_buffer_acts,
                "Double-buffered activations: prefetch the next input band, write outputs behind");
  cmd->add_option("--batch", a.batch,
                  "Override the batch: images that go through each layer together (weights loaded once per batch)");
}

ArchConfig resolve_arch(ArchArgs& a) {
  a.arch_source = a.file.empty() ? default_arch_path() : a.file;
  ArchConfig c = load_arch_yaml(a.arch_source);
  if (!a.array.empty()) {
    const size_t x = a.array.find('x');
    size_t u1 = 0, u2 = 0;
    long long r = 0, k = 0;
    try {
      r = std::stoll(a.array.substr(0, x), &u1);
      k = std::stoll(a.array.substr(x + 1), &u2);
    } catch (const std::exception&) {
      u1 = 0;
    }
    if (x == std::string::npos || u1 != x || u2 != a.array.size() - x - 1)
      throw ConfigError("invalid --array '" + a.array + "': expected ROWSxCOLS, e.g. 32x16");
    for (const auto& [v, what] : {std::pair<long long, const char*>{r, "rows"}, {k, "cols"}})
      if (v < 1 || v > 512)
        throw ConfigError("invalid --array '" + a.array + "': array " + what + " " + std::to_string(v) +
                          " outside [1, 512]");
    c.rows = static_cast<int>(r);
    c.cols = static_cast<int>(k);
  }
  // The ranges of ArchConfig's validate() (models/arch.cpp, datapath.h), checked
  // here so that the message names the option rather than the field.
  if (a.bits != kUnsetOption) c.weight_bits = option_in_range(a.bits, "--bits", 3, 8, " (weight code width)");
  if (a.sqrt2_terms != kUnsetOption)
    c.datapath.sqrt2_terms = option_in_range(a.sqrt2_terms, "--sqrt2-terms", 1, 7, " (terms of the sqrt2 expansion)");
  if (!a.pe.empty()) c.pe = parse_pe_type(a.pe);
  if (!a.dataflow.empty()) c.dataflow = parse_dataflow(a.dataflow);
  if (a.act_bits != kUnsetOption) c.datapath.act_bits = option_in_range(a.act_bits, "--act-bits", 2, 32, " bits");
  if (a.acc_bits != kUnsetOption) c.datapath.acc_bits = option_in_range(a.acc_bits, "--acc-bits", 8, 64, " bits");
  if (!std::isnan(a.clock_mhz)) {
    if (!(a.clock_mhz > 0 && a.clock_mhz <= 10000))
      throw ConfigError("invalid --clock-mhz " + std::to_string(a.clock_mhz) + ": expected a frequency in (0, 10000] MHz");
    c.clock_mhz = a.clock_mhz;
  }
  if (a.dram_latency != kUnsetOption)
    c.dram.latency_cycles = option_in_range(a.dram_latency, "--dram-latency", 0, 100000, " cycles");
  if (a.dram_bytes_per_cycle != kUnsetOption)
    c.dram.bytes_per_cycle = option_in_range(a.dram_bytes_per_cycle, "--dram-bandwidth", 1, 4096, " bytes per cycle");
  if (a.double_buffer) c.double_buffer_weights = true;
  if (a.double_buffer_acts) c.double_buffer_activations = true;
  if (a.batch != kUnsetOption) c.batch = option_in_range(a.batch, "--batch", 1, kMaxBatch, " images");
  validate(c);
  return c;
}

}  // namespace brsim
