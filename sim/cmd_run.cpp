// `brsim run [MODEL.onnx]`: the whole network on the cycle-accurate
// accelerator over test images, every layer checked bit for bit against the
// golden model; per-layer cycles, the accuracy the simulated hardware
// reaches, and a results folder (config.yaml, summary.json, layers.csv).
#include <algorithm>
#include <chrono>
#include <iostream>
#include <memory>

#include "text_table.h"

#include "accel_host.h"
#include "accelerator.h"
#include "arch_options.h"
#include "cli_options.h"
#include "commands.h"
#include "errors.h"
#include "host_threads.h"
#include "float_infer.h"
#include "energy_report.h"
#include "layer_report.h"
#include "trace_options.h"
#include "onnx_import.h"
#include "accel_check.h"
#include "input_source.h"
#include "image_options.h"
#include "memory_limit.h"
#include "paths.h"
#include "text_table.h"

namespace brsim {

namespace {

struct RunArgs {
  std::string model;
  ArchArgs arch;
  int64_t images = 100;
  std::string dataset = kFashionMnistDir;
  std::string policy;  // default: brslog (fixed16 on a fixed16 array)
  std::string codebook = "ideal";
  std::string granularity = "layer";
  int64_t calib_images = 500;
  bool bias_correction = false;
  std::string out = "results/run";
  std::string energy;   // energy table (default: the shipped 45 nm table)
  std::string compare;  // "fixed16": the same network on the fixed16 PE array
  std::string format = "text";
  TraceArgs trace;
  std::string mode = "cycle";  // cycle | fast
  int threads = 2;             // fast mode's host threads
  std::string inputs;          // "random" or FILE.npy; empty: the IDX dataset
  uint64_t seed = 1;           // of --inputs random
};

size_t argmax_int(const std::vector<int32_t>& v) {
  return static_cast<size_t>(std::max_element(v.begin(), v.end()) - v.begin());
}

void run_run(RunArgs a) {
  set_host_threads(a.threads);  // the weights, quantizer and golden model's preparation too
  if (a.model.empty()) a.model = default_model_path();
  check_image_counts(a.images, a.calib_images);
  const ArchConfig arch = resolve_arch(a.arch);
  auto net = std::make_shared<const Network>(import_onnx(a.model));
  check_memory(network_memory_estimate(*net, static_cast<uint64_t>(a.images) * (a.compare.empty() ? 1 : 2)),
               "brsim run of " + a.model + " on " + std::to_string(a.images) + " images");
  check_network_fits(*net, arch);  // buffers and DRAM, before calibration and quantization
  NetQuantOptions o;
  o.weights.policy = Policy::parse(weight_policy(a.policy, arch));
  o.weights.bits = arch.weight_bits;
  o.weights.codebook = parse_codebook(a.codebook);
  o.weights.granularity = parse_granularity(a.granularity);
  o.weights.datapath = arch.datapath;
  o.bias_correction = a.bias_correction;
  CalibOptions co;
  co.input_means = a.bias_correction;
  co.act_bits = arch.datapath.act_bits;
  co.images = a.calib_images;
  // The inputs: the IDX test set (labelled), or --inputs random / FILE.npy
  // (no labels; calibration on the first --calib-images of them).
  const bool labelled = a.inputs.empty();
  std::vector<std::vector<float>> xs;
  ImageSet test;
  ActivationFormats formats;
  if (labelled) {
    test = load_test_images(a.dataset, a.images, *net);  // the input shape, before calibration
    formats = calibrate(*net, load_idx(a.dataset, "train", a.calib_images), co);
    const size_t px = static_cast<size_t>(test.rows * test.cols);
    for (int64_t i = 0; i < test.count; ++i) xs.push_back(image_to_input(test.image(i), px));
  } else {
    xs = a.inputs == "random" ? random_inputs(*net, a.images, a.seed) : load_npy_inputs(a.inputs, *net, a.images);
    formats = calibrate(*net, xs, co);
    test.count = a.images;
  }
  if (!a.compare.empty() && a.compare != "fixed16")
    throw ConfigError("invalid --compare '" + a.compare + "': expected fixed16");
  if (!a.compare.empty() && arch.pe == PeType::Fixed16)
    throw ConfigError("--compare fixed16 compares a BRSLog array with the fixed16 baseline; this array is already fixed16");
  const EnergyTable table = load_energy_table(a.energy.empty() ? default_energy_table_path() : a.energy);
  const QuantizedNetwork q = quantize_network(net, formats, o);
  const AccelProgram prog = compile_network(q, arch);

  // Golden model (timed on its own) and the float reference.
  int64_t float_ok = 0, golden_ok = 0;
  const auto g0 = std::chrono::steady_clock::now();
  const GoldenRun golden = golden_run(q, prog, xs);
  const std::vector<ActTensor>& inputs = golden.inputs;
  const std::vector<std::vector<ActTensor>>& expected = golden.expected;
  const double golden_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - g0).count();
  if (labelled) {
    for (int64_t i = 0; i < test.count; ++i)
      golden_ok += argmax_int(expected[static_cast<size_t>(i)].back().data) == test.labels[static_cast<size_t>(i)];
    for (int64_t i = 0; i < test.count; ++i)
      float_ok += argmax(run_float(*net, xs[static_cast<size_t>(i)])) == test.labels[static_cast<size_t>(i)];
  }

  std::vector<std::string> names;
  uint64_t expected_cycles = 0;
  for (const AccelLayer& l : prog.layers) {
    names.push_back(l.name);
    if (l.vector) continue;
    // Full batches of arch.batch images, and the last with the rest.
    const uint64_t count = static_cast<uint64_t>(test.count), b = l.desc.batch, rest = count % b;
    expected_cycles += closed_form(l.desc, arch).total() * (count / b);
    if (rest) {
      LayerDescriptor d = l.desc;
      d.batch = static_cast<uint32_t>(rest);
      expected_cycles += closed_form(d, arch).total();
    }
  }
  const bool fast = a.mode == "fast";
  check_trace_mode(a.trace, fast);
  if (prog.graph && (!a.trace.vcd.empty() || !a.trace.saif.empty()))
    throw ConfigError("--vcd and --saif trace chain networks only; " + a.model + " is a graph network");
  const std::unique_ptr<AccelTracer> tracer = make_tracer(a.trace, arch, names, expected_cycles);
  const auto setup = mode_setup(a.mode, a.threads);
  const AccelRunResult r = run_accelerator(prog, inputs, &expected, tracer.get(), true, setup);
  const std::vector<EnergyBreakdown> energy = layer_energy(r, arch, table);
  const EnergyBreakdown total_e = run_energy(r, arch, table);
  int64_t hw_ok = 0;
  if (labelled)
    for (size_t i = 0; i < r.outputs.size(); ++i) hw_ok += argmax_int(r.outputs[i]) == test.labels[i];
  const double n = static_cast<double>(test.count);

  nlohmann::json summary;
  summary["command"] = "run";
  summary["model"] = a.model;
  summary["arch_file"] = a.arch.arch_source;
  summary["arch"] = {{"rows", arch.rows}, {"cols", arch.cols}, {"dataflow", to_string(arch.dataflow)},
                     {"pe", to_string(arch.pe)}, {"double_buffer_weights", arch.double_buffer_weights},
                     {"double_buffer_activations", arch.double_buffer_activations}};
  if (arch.batch > 1) summary["arch"]["batch"] = arch.batch;  // images per batch
  summary["mode"] = a.mode;
  summary["quantization"] = {{"policy", o.weights.policy.name()}, {"bits", o.weights.bits},
                             {"sqrt2_terms", o.weights.datapath.sqrt2_terms}, {"codebook", a.codebook},
                             {"granularity", a.granularity}, {"calibration_images", formats.images_used}};
  if (a.bias_correction) summary["quantization"]["bias_correction"] = true;
  summary["images"] = test.count;
  nlohmann::json layers = nlohmann::json::array();
  for (size_t i = 0; i < r.layers.size(); ++i) layers.push_back(layer_json(r.layers[i], arch, energy[i]));
  summary["layers"] = layers;
  summary["totals"] = totals_json(r, arch);
  summary["energy_table"] = {{"name", table.name}, {"path", table.path}};
  summary["energy"] = energy_json(total_e, r.images);

  // The same network, images and memory system on the fixed16 baseline.
  std::unique_ptr<AccelRunResult> r16;
  EnergyBreakdown e16;
  int64_t hw16_ok = 0;
  if (!a.compare.empty()) {
    ArchConfig a16 = arch;
    a16.pe = PeType::Fixed16;
    a16.datapath.acc_bits = std::max(a16.datapath.acc_bits, a16.datapath.act_bits + 16);
    NetQuantOptions o16 = o;
    o16.weights.policy = Policy::parse("fixed16");
    o16.weights.datapath = a16.datapath;
    const QuantizedNetwork q16 = quantize_network(net, formats, o16);
    const AccelProgram p16 = compile_network(q16, a16);
    const GoldenRun g16 = golden_run(q16, p16, xs);
    r16 = std::make_unique<AccelRunResult>(run_accelerator(p16, g16.inputs, &g16.expected, nullptr, true, setup));
    if (!r16->bit_exact) throw ConfigError("fixed16 baseline disagrees with the golden model: " + r16->mismatch);
    if (labelled)
      for (size_t i = 0; i < r16->outputs.size(); ++i) hw16_ok += argmax_int(r16->outputs[i]) == test.labels[i];
    e16 = run_energy(*r16, a16, table);
    const EnergyRatios ratio = energy_ratios(total_e, e16);
    const std::vector<EnergyBreakdown> le16 = layer_energy(*r16, a16, table);
    nlohmann::json cl = nlohmann::json::array();
    for (size_t i = 0; i < r.layers.size(); ++i)
      cl.push_back({{"name", r.layers[i].name},
                    {"brslog_pj_per_image", energy[i].total_pj / n},
                    {"fixed16_pj_per_image", le16[i].total_pj / n},
                    {"energy_ratio", le16[i].total_pj > 0 ? energy[i].total_pj / le16[i].total_pj : 0.0},
                    {"brslog_cycles_per_image", r.layers[i].stats.cycles.total() / r.layers[i].images},
                    {"fixed16_cycles_per_image", r16->layers[i].stats.cycles.total() / r16->layers[i].images}});
    summary["compare"] = {{"baseline", "fixed16"},
                          {"fixed16_energy", energy_json(e16, r16->images)},
                          {"fixed16_hardware_top1", hw16_ok / n},
                          {"fixed16_cycles_per_image", totals_json(*r16, a16)["cycles_per_image"]},
                          {"ratio_brslog_over_fixed16",
                           {{"energy", ratio.energy}, {"power", ratio.power}, {"area", ratio.area},
                            {"pj_per_mac", ratio.pj_per_mac}}},
                          {"layers", cl}};
  }
  if (labelled) {
    summary["accuracy"] = {{"images", test.count},
                           {"float_top1", float_ok / n},
                           {"golden_top1", golden_ok / n},
                           {"hardware_top1", hw_ok / n},
                           {"bit_exact", r.bit_exact},
                           {"tensors_compared", r.tensors_compared}};
  } else {
    summary["inputs"] = {{"source", a.inputs}, {"seed", a.seed}, {"labels", false}};
    summary["accuracy"] = {{"images", test.count}, {"bit_exact", r.bit_exact}, {"tensors_compared", r.tensors_compared}};
  }
  // A run that disagrees with the golden model fails before it writes a
  // results folder, so no folder with a summary.json stands for it.
  if (!r.bit_exact) throw ConfigError("the simulated hardware disagrees with the golden model: " + r.mismatch);
  const nlohmann::json timing = timing_json(r, golden_s);
  write_results(a.out, arch, summary, r, energy, timing);

  if (a.format == "json") {
    std::cout << summary.dump(2) << "\n";
  } else {
    const nlohmann::json& t = timing;
    std::cout << "Model " << a.model << " on a " << arch.rows << "x" << arch.cols << " " << to_string(arch.pe)
              << " array (" << (arch.pe == PeType::Fixed16 ? std::string("16-bit weights")
                                                           : std::to_string(arch.weight_bits) + "-bit BRSLog, K = " +
                                                                 std::to_string(arch.datapath.sqrt2_terms))
              << "), " << describe(arch.dataflow) << (arch.double_buffer_weights ? ", double-buffered weights" : "")
            << (arch.double_buffer_activations ? ", double-buffered activations" : "") << ", " << arch.clock_mhz << " MHz; " << test.count << (labelled ? " test images" : a.inputs == "random" ? " random inputs (seed " + std::to_string(a.seed) + ")" : " inputs from " + a.inputs) << ", " << (fast ? "fast mode" : "cycle by cycle") << "\n\n";
    print_layer_table(r, arch, energy, std::cout);
    std::cout << "\nlatency: " << summary["totals"]["cycles_per_image"].get<uint64_t>() << " cycles per image = "
              << fmt_fixed(summary["totals"]["latency_us_per_image"].get<double>(), 2) << " us at " << arch.clock_mhz << " MHz\n";
    if (arch.batch > 1) {
      const int64_t b = arch.batch, batches = (test.count + b - 1) / b;
      std::cout << "batches: " << batches << " of " << b << " images" << (test.count % b ? " (the last of " + std::to_string(test.count % b) + ")" : "")
                << ", " << summary["totals"]["cycles_per_batch"].get<uint64_t>() << " cycles per batch (mean over the batches run)\n";
    }
    if (labelled)
      std::cout << "accuracy on " << test.count << " images" << (a.bias_correction ? " (bias correction on)" : "")
                << ": float " << fmt_fixed(100.0 * float_ok / n, 2)
                << " %, golden model " << fmt_fixed(100.0 * golden_ok / n, 2) << " %, simulated hardware "
                << fmt_fixed(100.0 * hw_ok / n, 2) << " %\n";
    std::cout << "energy: " << fmt_fixed(total_e.total_pj / n / 1e3, 2) << " nJ per image ("
              << fmt_fixed(total_e.pj_per_mac, 3) << " pJ/MAC), average power " << fmt_fixed(total_e.avg_power_mw, 2)
              << " mW, array and buffers " << fmt_fixed(total_e.area_total_um2 / 1e6, 3) << " mm^2; energy table "
              << table.name << " (" << table.path << ")\n"
              << "scoreboard: " << (r.bit_exact ? "bit exact, " : "MISMATCH, ") << r.tensors_compared
              << " layer outputs compared with the golden model\n"
              << "simulation: " << fmt_fixed(r.host_seconds, 2) << " s host time, "
              << fmt_general(t["simulated_macs_per_host_second"].get<double>() / 1e6, 4) << " M MAC/s, "
              << fmt_general(t["simulated_cycles_per_host_second"].get<double>() / 1e6, 4)
              << " M cycles/s; golden model " << fmt_fixed(golden_s, 2) << " s\n"
              << "results: " << a.out << "/{config.yaml, summary.json, layers.csv, energy.csv, stats.txt, timing.json}\n";
    if (!a.trace.vcd.empty()) std::cout << "trace: " << a.trace.vcd << " (open with: gtkwave -a " << a.trace.vcd.substr(0, a.trace.vcd.rfind('.')) << ".gtkw)\n";
    if (!a.trace.saif.empty()) std::cout << "activity: " << a.trace.saif << " (SAIF 2.0)\n";
    if (r16) {
      const EnergyRatios ratio = energy_ratios(total_e, e16);
      std::cout << "\nBRSLog vs the fixed16 baseline (same network, images, array shape and memory):\n";
      TextTable t({"", "BRSLog", "fixed16", "BRSLog / fixed16"}, {true, false, false, false});
      t.add_row({"energy per image (nJ)", fmt_fixed(total_e.total_pj / n / 1e3, 2), fmt_fixed(e16.total_pj / n / 1e3, 2),
                 fmt_fixed(ratio.energy, 4)});
      t.add_row({"energy per MAC (pJ)", fmt_fixed(total_e.pj_per_mac, 3), fmt_fixed(e16.pj_per_mac, 3),
                 fmt_fixed(ratio.pj_per_mac, 4)});
      t.add_row({"average power (mW)", fmt_fixed(total_e.avg_power_mw, 2), fmt_fixed(e16.avg_power_mw, 2),
                 fmt_fixed(ratio.power, 4)});
      t.add_row({"area (mm^2)", fmt_fixed(total_e.area_total_um2 / 1e6, 4), fmt_fixed(e16.area_total_um2 / 1e6, 4),
                 fmt_fixed(ratio.area, 4)});
      t.add_row({"cycles per image", std::to_string(summary["totals"]["cycles_per_image"].get<uint64_t>()),
                 std::to_string(summary["compare"]["fixed16_cycles_per_image"].get<uint64_t>()), ""});
      t.add_row({"hardware top-1 (%)", fmt_fixed(100.0 * hw_ok / n, 2), fmt_fixed(100.0 * hw16_ok / n, 2), ""});
      t.print(std::cout);
    }
  }
}

}  // namespace

void add_run_command(CLI::App& app) {
  auto args = std::make_shared<RunArgs>();
  CLI::App* cmd = app.add_subcommand("run", "Run a network on the cycle-accurate accelerator, checked against the golden model");
  add_model_argument(cmd, args->model);
  add_arch_options(cmd, args->arch);
  add_test_set_options(cmd, args->images, args->dataset);
  cmd->add_option("--inputs", args->inputs,
                  "Unlabelled inputs instead of the dataset: random (seeded, the model's input shape) or FILE.npy "
                  "(N x C x H x W float32)");
  cmd->add_option("--seed", args->seed, "Seed of --inputs random")->capture_default_str();
  add_weight_policy_option(cmd, args->policy);
  add_codebook_option(cmd, args->codebook);
  add_granularity_option(cmd, args->granularity);
  add_calib_images_option(cmd, args->calib_images);
  add_bias_correction_option(cmd, args->bias_correction);
  cmd->add_option("--out", args->out, "Results folder")->capture_default_str();
  add_simulation_options(cmd, args->trace, args->mode, args->threads, args->energy);
  cmd->add_option("--compare", args->compare, "Also run the fixed16 baseline and report the ratios: fixed16");
  add_format_option(cmd, args->format, "Terminal output format");
  cmd->callback([args] { run_run(*args); });
}

}  // namespace brsim
