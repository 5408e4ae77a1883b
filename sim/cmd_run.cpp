// `brsim run [MODEL.onnx]`: the whole network on the cycle-accurate
// accelerator over test images, every layer checked bit for bit against the
// golden model; per-layer cycles, the accuracy the simulated hardware
// reaches, and a results folder (config.yaml, summary.json, layers.csv).
#include <algorithm>
#include <chrono>
#include <iostream>
#include <memory>

#include "accel_host.h"
#include "arch_options.h"
#include "commands.h"
#include "errors.h"
#include "float_infer.h"
#include "layer_report.h"
#include "onnx_import.h"
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
  std::string out = "results/run";
  std::string format = "text";
};

size_t argmax_int(const std::vector<int32_t>& v) {
  return static_cast<size_t>(std::max_element(v.begin(), v.end()) - v.begin());
}

void run_run(RunArgs a) {
  if (a.model.empty()) a.model = default_model_path();
  if (a.images < 1) throw ConfigError("invalid --images " + std::to_string(a.images) + ": expected >= 1");
  const ArchConfig arch = resolve_arch(a.arch);
  auto net = std::make_shared<const Network>(import_onnx(a.model));
  NetQuantOptions o;
  o.weights.policy = Policy::parse(a.policy.empty() ? (arch.pe == PeType::Fixed16 ? "fixed16" : "brslog") : a.policy);
  o.weights.bits = arch.weight_bits;
  o.weights.codebook = parse_codebook(a.codebook);
  o.weights.granularity = parse_granularity(a.granularity);
  o.weights.datapath = arch.datapath;
  CalibOptions co;
  co.act_bits = arch.datapath.act_bits;
  co.images = a.calib_images;
  const ActivationFormats formats = calibrate(*net, load_idx(a.dataset, "train", a.calib_images), co);
  const QuantizedNetwork q = quantize_network(net, formats, o);
  const AccelProgram prog = compile_network(q, arch);
  const ImageSet test = load_idx(a.dataset, "t10k", a.images);
  const size_t px = static_cast<size_t>(test.rows * test.cols);

  // Golden model (timed on its own) and the float reference.
  std::vector<ActTensor> inputs;
  std::vector<std::vector<ActTensor>> expected;
  int64_t float_ok = 0, golden_ok = 0;
  const auto g0 = std::chrono::steady_clock::now();
  for (int64_t i = 0; i < test.count; ++i) {
    const std::vector<float> x = image_to_input(test.image(i), px);
    std::vector<ActTensor> outs;
    run_quantized(q, x, nullptr, &outs);
    std::vector<ActTensor> per;
    for (const AccelLayer& l : prog.layers) per.push_back(outs[l.output_index]);
    golden_ok += argmax_int(per.back().data) == test.labels[static_cast<size_t>(i)];
    expected.push_back(std::move(per));
    inputs.push_back(quantize_input(q, x, nullptr));
  }
  const double golden_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - g0).count();
  for (int64_t i = 0; i < test.count; ++i)
    float_ok += argmax(run_float(*net, image_to_input(test.image(i), px))) == test.labels[static_cast<size_t>(i)];

  const AccelRunResult r = run_accelerator(prog, inputs, &expected);
  int64_t hw_ok = 0;
  for (size_t i = 0; i < r.outputs.size(); ++i) hw_ok += argmax_int(r.outputs[i]) == test.labels[i];
  const double n = static_cast<double>(test.count);

  nlohmann::json summary;
  summary["command"] = "run";
  summary["model"] = a.model;
  summary["arch_file"] = a.arch.arch_source;
  summary["mode"] = "cycle";
  summary["quantization"] = {{"policy", o.weights.policy.name()}, {"bits", o.weights.bits},
                             {"sqrt2_terms", o.weights.datapath.sqrt2_terms}, {"codebook", a.codebook},
                             {"granularity", a.granularity}, {"calibration_images", formats.images_used}};
  summary["images"] = test.count;
  nlohmann::json layers = nlohmann::json::array();
  for (const LayerRunStats& l : r.layers) layers.push_back(layer_json(l, arch));
  summary["layers"] = layers;
  summary["totals"] = totals_json(r, arch);
  summary["totals"]["golden_host_seconds"] = golden_s;
  summary["accuracy"] = {{"images", test.count},
                         {"float_top1", float_ok / n},
                         {"golden_top1", golden_ok / n},
                         {"hardware_top1", hw_ok / n},
                         {"bit_exact", r.bit_exact},
                         {"tensors_compared", r.tensors_compared}};
  if (!r.bit_exact) summary["accuracy"]["first_mismatch"] = r.mismatch;
  write_results(a.out, arch, summary, r);

  if (a.format == "json") {
    std::cout << summary.dump(2) << "\n";
  } else {
    const nlohmann::json& t = summary["totals"];
    std::cout << "Model " << a.model << " on a " << arch.rows << "x" << arch.cols << " " << to_string(arch.pe)
              << " array (" << (arch.pe == PeType::Fixed16 ? std::string("16-bit weights")
                                                           : std::to_string(arch.weight_bits) + "-bit BRSLog, K = " +
                                                                 std::to_string(arch.datapath.sqrt2_terms))
              << "), " << arch.clock_mhz << " MHz; " << test.count << " test images, cycle-accurate\n\n";
    print_layer_table(r, arch, std::cout);
    std::cout << "\nlatency: " << t["cycles_per_image"].get<uint64_t>() << " cycles per image = "
              << fmt_fixed(t["latency_us_per_image"].get<double>(), 2) << " us at " << arch.clock_mhz << " MHz\n"
              << "accuracy on " << test.count << " images: float " << fmt_fixed(100.0 * float_ok / n, 2)
              << " %, golden model " << fmt_fixed(100.0 * golden_ok / n, 2) << " %, simulated hardware "
              << fmt_fixed(100.0 * hw_ok / n, 2) << " %\n"
              << "scoreboard: " << (r.bit_exact ? "bit exact, " : "MISMATCH, ") << r.tensors_compared
              << " layer outputs compared with the golden model\n"
              << "simulation: " << fmt_fixed(r.host_seconds, 2) << " s host time, "
              << fmt_general(t["simulated_macs_per_host_second"].get<double>() / 1e6, 4) << " M MAC/s, "
              << fmt_general(t["simulated_cycles_per_host_second"].get<double>() / 1e6, 4)
              << " M cycles/s; golden model " << fmt_fixed(golden_s, 2) << " s\n"
              << "results: " << a.out << "/{config.yaml, summary.json, layers.csv}\n";
  }
  if (!r.bit_exact) throw ConfigError("the simulated hardware disagrees with the golden model: " + r.mismatch);
}

}  // namespace

void add_run_command(CLI::App& app) {
  auto args = std::make_shared<RunArgs>();
  CLI::App* cmd = app.add_subcommand("run", "Run a network on the cycle-accurate accelerator, checked against the golden model");
  cmd->add_option("model", args->model, "ONNX model (default: the shipped Fashion-MNIST model)");
  add_arch_options(cmd, args->arch);
  cmd->add_option("--images", args->images, "Number of test images (the first N)")->capture_default_str();
  cmd->add_option("--dataset", args->dataset, "Folder with the IDX files")->capture_default_str();
  cmd->add_option("--policy", args->policy, "Weight policy (default: brslog, or fixed16 on a fixed16 array)");
  cmd->add_option("--codebook", args->codebook, "ideal or hardware")->check(CLI::IsMember({"ideal", "hardware"}))
      ->capture_default_str();
  cmd->add_option("--granularity", args->granularity, "layer or channel")->check(CLI::IsMember({"layer", "channel"}))
      ->capture_default_str();
  cmd->add_option("--calib-images", args->calib_images, "Training images used for calibration")->capture_default_str();
  cmd->add_option("--out", args->out, "Results folder")->capture_default_str();
  cmd->add_option("--format", args->format, "Terminal output format")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  cmd->callback([args] { run_run(*args); });
}

}  // namespace brsim
