// `brsim layer`: single layers without a model: from shape options, a
// SCALE-Sim topology CSV, or the built-in AlexNet-shaped network; seeded
// Laplace weights, quantized, simulated cycle by cycle, and checked against
// the golden model. Same per-layer report as `brsim run`.
#include <algorithm>
#include <chrono>
#include <iostream>
#include <memory>
#include <numeric>
#include <random>

#include "accel_check.h"
#include "accel_host.h"
#include "accelerator.h"
#include "arch_options.h"
#include "cli_options.h"
#include "commands.h"
#include "errors.h"
#include "host_threads.h"
#include "energy_report.h"
#include "layer_pipeline.h"
#include "layer_report.h"
#include "trace_options.h"
#include "memory_limit.h"
#include "shape_limits.h"
#include "synthetic_layer.h"
#include "text_table.h"

namespace brsim {

namespace {

struct LayerArgs {
  ArchArgs arch;
  std::string name = "layer";
  std::string ifmap, kernel = "3x3";
  int64_t channels = 0, filters = 0, stride = 1, padding = 0;
  bool fc = false;
  std::string topology, network;
  uint64_t seed = 1;
  double scale = 0.05;
  std::string policy;
  std::string out;
  std::string energy;
  std::string format = "text";
  TraceArgs trace;
  std::string mode = "cycle";  // cycle | fast
  int threads = 2;             // fast mode's host threads
};

void pair_of(const std::string& text, const char* option, int64_t* a, int64_t* b) {
  const size_t x = text.find('x');
  size_t u1 = 0, u2 = 0;
  try {
    *a = std::stoll(text.substr(0, x), &u1);
    *b = std::stoll(text.substr(x + 1), &u2);
  } catch (const std::exception&) {
    u1 = 0;
  }
  if (x == std::string::npos || u1 != x || u2 != text.size() - x - 1 || *a < 1 || *b < 1)
    throw ConfigError(std::string("invalid ") + option + " '" + text + "': expected HxW with positive integers, e.g. 27x27");
}

std::vector<LayerSpec> specs_of(const LayerArgs& a) {
  const int sources = !a.topology.empty() + !a.network.empty() + !a.ifmap.empty();
  if (sources != 1)
    throw ConfigError("brsim layer needs exactly one of: shape options (--ifmap ...), --topology FILE.csv, --network NAME");
  if (!a.topology.empty()) return read_topology_csv(a.topology);
  if (!a.network.empty()) return builtin_network_layers(a.network);
  LayerSpec s;
  s.name = a.name;
  s.fc = a.fc;
  pair_of(a.ifmap, "--ifmap", &s.in_h, &s.in_w);
  pair_of(a.kernel, "--kernel", &s.kh, &s.kw);
  auto range = [](int64_t v, const char* option, int64_t lo, int64_t hi) {
    if (v < lo || v > hi)
      throw ConfigError(std::string("invalid ") + option + " " + std::to_string(v) + ": expected an integer in [" +
                        std::to_string(lo) + ", " + std::to_string(hi) + "]");
  };
  for (const auto& [v, option] : {std::pair<int64_t, const char*>{s.in_h, "--ifmap height"}, {s.in_w, "--ifmap width"},
                                  {s.kh, "--kernel height"}, {s.kw, "--kernel width"}})
    range(v, option, 1, kMaxSpatial);
  range(a.channels, "--channels", 1, kMaxChannels);
  range(a.filters, "--filters", 1, 65535);
  range(a.stride, "--stride", 1, kMaxSpatial);
  range(a.padding, "--padding", 0, kMaxPad);
  s.in_c = a.channels, s.out_m = a.filters, s.stride = a.stride, s.pad = a.padding;
  if (s.fc) s.kh = s.kw = 1;
  check_layer_spec(s, "layer '" + s.name + "' (--ifmap, --kernel, --channels, --filters, --stride, --padding)");
  return {s};
}

// The images of one batch: the layer's own seeded input first (what batch 1
// runs), then inputs uniform in [-1, 1) from a seed of their own.
std::vector<std::vector<float>> batch_inputs(const SyntheticLayer& sl, int batch, uint64_t seed) {
  std::vector<std::vector<float>> xs{sl.input};
  std::mt19937_64 rng(seed * 0x9E3779B97F4A7C15ull + 0xB47C4);
  for (int i = 1; i < batch; ++i) {
    std::vector<float> x(sl.input.size());
    for (float& v : x) v = static_cast<float>(static_cast<double>(rng() >> 11) * 0x1.0p-52 - 1.0);
    xs.push_back(std::move(x));
  }
  return xs;
}

// Bytes one synthetic layer holds at once: the input (float, int32 and the
// DRAM image), the weights (the Laplace draw in double, float, the
// quantizer's copy and codes), the outputs (float, golden and simulated
// int32, accumulators) and the golden model's lowered input (int32, P x K);
// all but the weights once per image of a batch.
uint64_t layer_memory_estimate(const LayerSpec& s, uint64_t batch) {
  const uint64_t in = static_cast<uint64_t>(s.in_c * s.in_h * s.in_w);
  const uint64_t oh = static_cast<uint64_t>(s.fc ? 1 : (s.in_h + 2 * s.pad - s.kh) / s.stride + 1);
  const uint64_t ow = static_cast<uint64_t>(s.fc ? 1 : (s.in_w + 2 * s.pad - s.kw) / s.stride + 1);
  const uint64_t k = s.fc ? in : static_cast<uint64_t>(s.in_c * s.kh * s.kw);
  const uint64_t m = static_cast<uint64_t>(s.out_m);
  uint64_t b = saturating_mul(in, 16);
  b = saturating_add(b, saturating_mul(saturating_mul(saturating_mul(oh, ow), m), 24));
  b = saturating_add(b, saturating_mul(saturating_mul(oh, ow), saturating_mul(k, 4)));
  return saturating_add(saturating_mul(b, batch), saturating_mul(saturating_mul(k, m), 40));
}

void run_layer_cmd(LayerArgs a) {
  set_host_threads(a.threads);  // the weights, quantizer and golden model's preparation too
  const ArchConfig arch = resolve_arch(a.arch);
  if (!(a.scale > 0 && a.scale <= 1e6))
    throw ConfigError("invalid --scale " + std::to_string(a.scale) +
                      ": expected a positive Laplace scale of the weights in (0, 1e6]");
  const std::vector<LayerSpec> specs = specs_of(a);
  uint64_t largest = 0;
  size_t largest_at = 0;
  for (size_t i = 0; i < specs.size(); ++i) {
    const uint64_t e = layer_memory_estimate(specs[i], static_cast<uint64_t>(arch.batch));
    if (e > largest) largest = e, largest_at = i;
  }
  check_memory(largest, "brsim layer '" + specs[largest_at].name + "'");
  check_layer_specs_fit(specs, arch);  // every layer's smallest tile and DRAM, before any is quantized
  NetQuantOptions o;
  o.weights.policy = Policy::parse(weight_policy(a.policy, arch));
  o.weights.bits = arch.weight_bits;
  o.weights.datapath = arch.datapath;
  const EnergyTable table = load_energy_table(a.energy.empty() ? default_energy_table_path() : a.energy);
  AccelRunResult all;
  double golden_s = 0;
  const bool fast = a.mode == "fast";
  check_trace_mode(a.trace, fast);
  // One layer's weights, quantization, program and golden output. Nothing in
  // it depends on another layer (each has its own seeded weights and input),
  // so with two host threads a thread of its own prepares the layers, the
  // ones with the most weights first, while the simulation (SystemC, this
  // thread) runs them in order and, while it waits, prepares the first layer
  // nobody has taken: the same values, the same results. Where every layer's
  // memory at once would pass the memory limit, one layer after the other.
  struct Prepared {
    AccelProgram prog;
    GoldenRun golden;
    double golden_s = 0;
  };
  const auto prepare = [&](size_t i) {
    Prepared p;
    const SyntheticLayer sl = make_synthetic_layer(specs[i], a.seed + i, a.scale, arch.datapath.act_bits);
    const QuantizedNetwork q = quantize_network(sl.net, sl.formats, o);
    p.prog = compile_network(q, arch);
    const auto g0 = std::chrono::steady_clock::now();
    p.golden = golden_run(q, p.prog, batch_inputs(sl, arch.batch, a.seed + i));
    p.golden_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - g0).count();
    return p;  // the weights, their codes and decoded copies are freed: the simulation reuses their memory
  };
  bool overlap = a.threads >= 2 && specs.size() > 1;
  uint64_t all_layers = 0;
  for (const LayerSpec& s : specs)
    all_layers = saturating_add(all_layers, layer_memory_estimate(s, static_cast<uint64_t>(arch.batch)));
  overlap &= all_layers <= memory_limit();
  std::vector<size_t> order(overlap ? specs.size() : 0);
  std::iota(order.begin(), order.end(), size_t{0});
  const auto weights = [&](size_t i) {
    const LayerSpec& s = specs[i];
    return s.out_m * (s.fc ? s.in_c * s.in_h * s.in_w : s.in_c / s.groups * s.kh * s.kw);
  };
  std::stable_sort(order.begin(), order.end(), [&](size_t x, size_t y) { return weights(x) > weights(y); });
  // The second host thread prepares: fast mode simulates on one (a second
  // would wait for time slices of a busy core at every hand-over).
  const auto setup = mode_setup(a.mode, overlap ? 1 : a.threads);
  LayerPipeline<Prepared> pipeline(order, prepare);
  for (size_t i = 0; i < specs.size(); ++i) {
    Prepared p = overlap ? pipeline.take(i) : prepare(i);
    golden_s += p.golden_s;
    std::unique_ptr<AccelTracer> tracer;
    if (specs.size() == 1)
      tracer = make_tracer(a.trace, arch, {p.prog.layers[0].name}, closed_form(p.prog.layers[0].desc, arch).total());
    else if (!a.trace.vcd.empty() || !a.trace.saif.empty())
      throw ConfigError("--vcd and --saif trace one layer: give shape options, not a topology or network");
    const AccelRunResult r =
        run_accelerator(p.prog, p.golden.inputs, &p.golden.expected, tracer.get(), true, setup);
    if (!r.bit_exact) throw ConfigError("the simulated hardware disagrees with the golden model: " + r.mismatch);
    all.layers.push_back(r.layers[0]);
    all.host_seconds += r.host_seconds;
    all.tensors_compared += r.tensors_compared;
  }
  all.images = static_cast<uint64_t>(arch.batch);
  nlohmann::json summary;
  summary["command"] = "layer";
  summary["arch_file"] = a.arch.arch_source;
  summary["arch"] = {{"rows", arch.rows}, {"cols", arch.cols}, {"dataflow", to_string(arch.dataflow)},
                     {"pe", to_string(arch.pe)}, {"double_buffer_weights", arch.double_buffer_weights},
                     {"double_buffer_activations", arch.double_buffer_activations}};
  if (arch.batch > 1) summary["arch"]["batch"] = arch.batch;  // images per batch (one batch per layer)
  summary["mode"] = a.mode;
  summary["seed"] = a.seed;
  summary["weights"] = {{"distribution", "laplace"}, {"scale", a.scale}, {"policy", o.weights.policy.name()}};
  nlohmann::json layers = nlohmann::json::array();
  const std::vector<EnergyBreakdown> energy = layer_energy(all, arch, table);
  for (size_t i = 0; i < all.layers.size(); ++i) layers.push_back(layer_json(all.layers[i], arch, energy[i]));
  summary["layers"] = layers;
  summary["totals"] = totals_json(all, arch);
  summary["energy_table"] = {{"name", table.name}, {"path", table.path}};
  summary["energy"] = energy_json(run_energy(all, arch, table), all.images);
  summary["bit_exact"] = true;
  const nlohmann::json timing = timing_json(all, golden_s);
  if (!a.out.empty()) write_results(a.out, arch, summary, all, energy, timing);
  if (a.format == "json") {
    std::cout << summary.dump(2) << "\n";
    return;
  }
  const nlohmann::json& t = timing;
  std::cout << specs.size() << " layer(s), " << (fast ? "fast mode" : "cycle by cycle") << ", on a " << arch.rows << "x" << arch.cols << " " << to_string(arch.pe)
            << " array, " << describe(arch.dataflow) << (arch.double_buffer_weights ? ", double-buffered weights" : "")
            << (arch.double_buffer_activations ? ", double-buffered activations" : "") << ", " << arch.clock_mhz << " MHz; weights Laplace(0, " << a.scale << "), seed " << a.seed
            << "; every output checked bit for bit against the golden model\n\n";
  print_layer_table(all, arch, energy, std::cout);
  std::cout << "\nsimulation: " << fmt_fixed(all.host_seconds, 2) << " s host time, "
            << fmt_general(t["simulated_macs_per_host_second"].get<double>() / 1e6, 4) << " M MAC/s, "
            << fmt_general(t["simulated_cycles_per_host_second"].get<double>() / 1e6, 4) << " M cycles/s; golden model "
            << fmt_fixed(golden_s, 2) << " s\n";
  if (!a.out.empty()) std::cout << "results: " << a.out << "/{config.yaml, summary.json, layers.csv, energy.csv, stats.txt, timing.json}\n";
}

}  // namespace

void add_layer_command(CLI::App& app) {
  auto args = std::make_shared<LayerArgs>();
  CLI::App* cmd = app.add_subcommand("layer", "Simulate single layers (shape options, a SCALE-Sim topology, or a built-in network)");
  add_arch_options(cmd, args->arch);
  cmd->add_option("--ifmap", args->ifmap, "Input feature map HxW");
  cmd->add_option("--kernel", args->kernel, "Kernel KhxKw")->capture_default_str();
  cmd->add_option("--channels", args->channels, "Input channels C");
  cmd->add_option("--filters", args->filters, "Output channels M");
  cmd->add_option("--stride", args->stride, "Stride")->capture_default_str();
  cmd->add_option("--padding", args->padding, "Zero padding on every side")->capture_default_str();
  cmd->add_flag("--fc", args->fc, "A fully connected layer (input C x H x W flattened)");
  cmd->add_option("--name", args->name, "Layer name in the report")->capture_default_str();
  cmd->add_option("--topology", args->topology, "SCALE-Sim topology CSV");
  cmd->add_option("--network", args->network, "Built-in network: alexnet, vgg16, resnet18, resnet50, mobilenet_v2, efficientnet_b0");
  cmd->add_option("--seed", args->seed, "Seed of the weights and inputs")->capture_default_str();
  cmd->add_option("--scale", args->scale, "Laplace scale of the weights")->capture_default_str();
  add_weight_policy_option(cmd, args->policy);
  cmd->add_option("--out", args->out, "Also write a results folder");
  add_simulation_options(cmd, args->trace, args->mode, args->threads, args->energy);
  add_format_option(cmd, args->format);
  cmd->callback([args] { run_layer_cmd(*args); });
}

}  // namespace brsim
