#include "arch_yaml.h"

#include <yaml-cpp/yaml.h>

#include <set>
#include <sstream>

#include "errors.h"
#include "paths.h"
#include "yaml_reader.h"

namespace brsim {

namespace {

using Reader = YamlReader;

void buffer(const Reader& r, const YAML::Node& n, const std::string& name, BufferConfig* b) {
  if (!n) return;
  r.keys(n, "buffers." + name, {"capacity_bytes", "word_bits"});
  r.get(n, "capacity_bytes", "buffers." + name + ".capacity_bytes", &b->capacity_bytes);
  r.get(n, "word_bits", "buffers." + name + ".word_bits", &b->word_bits);
}

}  // namespace

std::string default_arch_path() { return data_dir() + "/presets/default.yaml"; }

ArchConfig load_arch_yaml(const std::string& path) {
  const YAML::Node root = load_yaml_file(path, "architecture file");
  const Reader r(path);
  ArchConfig a;
  if (!root || root.IsNull()) return a;
  r.keys(root, "", {"array", "dataflow", "pe", "weight_bits", "sqrt2_terms", "act_bits", "acc_bits", "shift_bits",
                    "clock_mhz", "buffers", "dram", "double_buffer_weights",
                    "double_buffer_activations", "batch"});
  if (const YAML::Node arr = root["array"]) {
    r.keys(arr, "array", {"rows", "cols"});
    r.get(arr, "rows", "array.rows", &a.rows);
    r.get(arr, "cols", "array.cols", &a.cols);
  }
  std::string s;
  if (root["dataflow"]) {
    r.get(root, "dataflow", "dataflow", &s);
    try {
      a.dataflow = parse_dataflow(s);
    } catch (const ConfigError& e) {
      r.fail("dataflow", e.what());
    }
  }
  if (root["pe"]) {
    r.get(root, "pe", "pe", &s);
    try {
      a.pe = parse_pe_type(s);
    } catch (const ConfigError& e) {
      r.fail("pe", e.what());
    }
  }
  r.get(root, "weight_bits", "weight_bits", &a.weight_bits);
  r.get(root, "sqrt2_terms", "sqrt2_terms", &a.datapath.sqrt2_terms);
  r.get(root, "act_bits", "act_bits", &a.datapath.act_bits);
  r.get(root, "acc_bits", "acc_bits", &a.datapath.acc_bits);
  r.get(root, "shift_bits", "shift_bits", &a.datapath.shift_bits);
  r.get(root, "clock_mhz", "clock_mhz", &a.clock_mhz);
  r.get(root, "double_buffer_weights", "double_buffer_weights", &a.double_buffer_weights);
  r.get(root, "double_buffer_activations", "double_buffer_activations", &a.double_buffer_activations);
  r.get(root, "batch", "batch", &a.batch);
  if (const YAML::Node b = root["buffers"]) {
    r.keys(b, "buffers", {"weight", "input", "output"});
    buffer(r, b["weight"], "weight", &a.weight_buffer);
    buffer(r, b["input"], "input", &a.input_buffer);
    buffer(r, b["output"], "output", &a.output_buffer);
  }
  if (const YAML::Node d = root["dram"]) {
    r.keys(d, "dram", {"size_bytes", "latency_cycles", "bytes_per_cycle"});
    r.get(d, "size_bytes", "dram.size_bytes", &a.dram.size_bytes);
    r.get(d, "latency_cycles", "dram.latency_cycles", &a.dram.latency_cycles);
    r.get(d, "bytes_per_cycle", "dram.bytes_per_cycle", &a.dram.bytes_per_cycle);
  }
  try {
    validate(a);
  } catch (const ConfigError& e) {
    throw ConfigError(path + ": " + e.what());
  }
  return a;
}

std::string arch_to_yaml(const ArchConfig& a) {
  std::ostringstream o;
  auto buf = [&](const char* n, const BufferConfig& b) {
    o << "  " << n << ": {capacity_bytes: " << b.capacity_bytes << ", word_bits: " << b.word_bits << "}\n";
  };
  o << "array:\n  rows: " << a.rows << "\n  cols: " << a.cols << "\n"
    << "dataflow: " << to_string(a.dataflow) << "\n"
    << "pe: " << to_string(a.pe) << "\n"
    << "weight_bits: " << a.weight_bits << "\n"
    << "sqrt2_terms: " << a.datapath.sqrt2_terms << "\n"
    << "act_bits: " << a.datapath.act_bits << "\n"
    << "acc_bits: " << a.datapath.acc_bits << "\n"
    << "shift_bits: " << a.datapath.shift_bits << "\n"
    << "clock_mhz: " << a.clock_mhz << "\n"
    << "double_buffer_weights: " << (a.double_buffer_weights ? "true" : "false") << "\n"
    << "double_buffer_activations: " << (a.double_buffer_activations ? "true" : "false") << "\n"
    << (a.batch != 1 ? "batch: " + std::to_string(a.batch) + "\n" : std::string())  // (batch 1: as before)
    << "buffers:\n";
  buf("weight", a.weight_buffer);
  buf("input", a.input_buffer);
  buf("output", a.output_buffer);
  o << "dram:\n  size_bytes: " << a.dram.size_bytes << "\n  latency_cycles: " << a.dram.latency_cycles
    << "\n  bytes_per_cycle: " << a.dram.bytes_per_cycle << "\n";
  return o.str();
}

}  // namespace brsim
