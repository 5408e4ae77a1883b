// `brsim quantize`: quantizes weights under one or more policies and reports
// the per-layer error (BRSLOG.md section 5). Without a model it quantizes a
// built-in demo tensor: seeded Laplace-distributed conv weights.
#include <algorithm>
#include <cmath>
#include <iostream>
#include <memory>
#include <sstream>

#include "cli_options.h"
#include "commands.h"
#include "errors.h"
#include "memory_limit.h"
#include "onnx_import.h"
#include "qnet.h"
#include "quant_report.h"
#include "random_weights.h"
#include "text_table.h"

namespace brsim {

namespace {

struct QuantizeArgs {
  std::string model;                  // empty: the built-in demo tensor
  std::vector<std::string> policies;  // default: all five (demo) or brslog (model)
  int bits = 5;
  int sqrt2_terms = 4;
  std::string codebook = "ideal";
  std::string rounding = "linear";
  std::string granularity = "layer";
  std::string shape = "64x32x3x3";
  double scale = 0.05;
  uint64_t seed = 1;
  std::string format = "text";
  bool histogram = false;
  bool bias_correction = false;  // models only: calibrate and report each layer's correction
  int64_t calib_images = 500;
  std::string dataset = kFashionMnistDir;
};

std::vector<int64_t> parse_shape(const std::string& text) {
  std::vector<int64_t> shape;
  std::stringstream ss(text);
  std::string part;
  while (std::getline(ss, part, 'x')) {
    size_t used = 0;
    long long v = 0;
    try {
      v = std::stoll(part, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != part.size() || part.empty() || v < 1 || v > (1 << 20))
      throw ConfigError("invalid --shape '" + text + "': expected positive dimensions joined by 'x', e.g. 64x32x3x3");
    shape.push_back(v);
  }
  if (shape.empty() || shape.size() > 4)
    throw ConfigError("invalid --shape '" + text + "': expected 1 to 4 dimensions, e.g. 64x32x3x3");
  uint64_t n = 1;
  for (int64_t d : shape) n *= static_cast<uint64_t>(d);
  if (n > (uint64_t{1} << 26)) throw ConfigError("invalid --shape '" + text + "': more than 2^26 weights");
  return shape;
}

QuantOptions options_for(const QuantizeArgs& a, const std::string& policy) {
  QuantOptions opt;
  opt.bits = a.bits;
  opt.policy = Policy::parse(policy);
  opt.codebook = parse_codebook(a.codebook);
  opt.rounding = parse_rounding(a.rounding);
  opt.granularity = parse_granularity(a.granularity);
  opt.datapath.sqrt2_terms = a.sqrt2_terms;
  validate(opt);
  return opt;
}

// Every Conv/Dense layer of an imported model, under each policy.
void run_model(const QuantizeArgs& a) {
  const Network net = import_onnx(a.model);
  check_memory(network_memory_estimate(net, 0), "brsim quantize of " + a.model);
  const std::vector<std::string> policies = a.policies.empty() ? std::vector<std::string>{"brslog"} : a.policies;
  ActivationFormats formats;  // with --bias-correction: the layers' input means
  if (a.bias_correction) {
    if (a.calib_images < 1) throw ConfigError("invalid --calib-images " + std::to_string(a.calib_images) + ": expected >= 1");
    CalibOptions co;
    co.images = a.calib_images;
    co.input_means = true;
    formats = calibrate(net, load_idx(a.dataset, "train", a.calib_images), co);
  }
  std::vector<QuantReportRow> rows;
  std::vector<std::vector<double>> corrections;  // per row, per output channel (real output units)
  for (const std::string& p : policies) {
    const QuantOptions opt = options_for(a, p);
    for (size_t i = 0; i < net.layers.size(); ++i) {
      const Layer& l = net.layers[i];
      if (!l.has_weights()) continue;
      std::vector<int64_t> shape{l.gemm_m(), l.gemm_k()};
      if (l.kind == LayerKind::Conv) shape = {l.gemm_m(), l.in.c / l.groups, l.window.kh, l.window.kw};
      rows.push_back({l.name, quantize_tensor(std::vector<double>(l.weights.begin(), l.weights.end()), shape, opt)});
      if (a.bias_correction)
        corrections.push_back(expected_output_error(l, rows.back().weights, formats.input_means[i], false));
    }
  }
  // Max |correction| and its RMS over a row's output channels.
  auto max_rms = [](const std::vector<double>& c) {
    double mx = 0, ss = 0;
    for (double v : c) mx = std::max(mx, std::fabs(v)), ss += v * v;
    return std::pair<double, double>{mx, c.empty() ? 0.0 : std::sqrt(ss / static_cast<double>(c.size()))};
  };
  if (a.format == "json") {
    nlohmann::json j = quant_json(rows);
    j["source"] = {{"kind", "onnx"}, {"model", a.model}};
    if (a.bias_correction) {
      j["bias_correction"] = true;
      j["calibration_images"] = formats.images_used;
      for (size_t r = 0; r < rows.size(); ++r) {
        const auto [mx, rms] = max_rms(corrections[r]);
        j["layers"][r]["bias_correction_max_abs"] = mx;
        j["layers"][r]["bias_correction_rms"] = rms;
      }
    }
    std::cout << j.dump(2) << "\n";
    return;
  }
  uint64_t bytes = 0, fp32 = 0;
  for (const QuantReportRow& r : rows) bytes += r.weights.storage_bytes();
  for (const Layer& l : net.layers) fp32 += 4 * l.weights.size();
  std::cout << "Model " << a.model << ": " << net.layers.size() << " layers, input " << net.input.str() << "\n"
            << a.bits << "-bit codes, K = " << a.sqrt2_terms << ", " << a.codebook << " codebook, " << a.rounding
            << " rounding, per-" << a.granularity << " parameters\n"
            << "MSE in squared weight units; SQNR = 10 log10(mean w^2 / MSE); weights (B) = storage in bytes\n\n";
  print_quant_table(rows, std::cout);
  if (policies.size() == 1)
    std::cout << "\ntotal weights: " << bytes << " B quantized vs " << fp32 << " B fp32 ("
              << fmt_fixed(static_cast<double>(fp32) / static_cast<double>(bytes), 2) << "x smaller)\n";
  if (a.bias_correction) {
    std::cout << "\nbias correction (first " << formats.images_used << " training images of " << a.dataset
              << "): the mean output error subtracted from each output channel's bias, in output units\n";
    TextTable t({"layer", "policy", "max |correction|", "RMS"}, {true, true, false, false});
    for (size_t r = 0; r < rows.size(); ++r) {
      const auto [mx, rms] = max_rms(corrections[r]);
      t.add_row({rows[r].name, rows[r].weights.options.policy.name(), fmt_general(mx, 4), fmt_general(rms, 4)});
    }
    t.print(std::cout);
  }
  if (a.histogram)
    for (const QuantReportRow& r : rows) {
      std::cout << "\n";
      print_histogram(r, std::cout);
    }
}

void run_quantize(const QuantizeArgs& a) {
  if (!a.model.empty()) return run_model(a);
  if (a.bias_correction)
    throw ConfigError("--bias-correction needs a model: it corrects each layer's bias from the activations of the calibration images");
  if (!(a.scale > 0.0 && a.scale <= 1e6))
    throw ConfigError("invalid --scale " + std::to_string(a.scale) + ": expected a Laplace scale in (0, 1e6]");
  const std::vector<int64_t> shape = parse_shape(a.shape);
  size_t n = 1;
  for (int64_t d : shape) n *= static_cast<size_t>(d);
  // The draw (double), each policy's levels, codes and report (about 40 bytes a weight).
  check_memory(static_cast<uint64_t>(n) * 40, "brsim quantize of a " + a.shape + " demo tensor");
  const std::vector<double> w = laplace_tensor(n, a.scale, a.seed);
  const std::vector<std::string> policies =
      a.policies.empty() ? std::vector<std::string>{"brslog", "seglog:n2=8", "log2", "logsqrt2", "fixed16"}
                         : a.policies;
  std::vector<QuantReportRow> rows;
  for (const std::string& p : policies) rows.push_back({"demo", quantize_tensor(w, shape, options_for(a, p))});
  if (a.format == "json") {
    nlohmann::json j = quant_json(rows);
    j["source"] = {{"kind", "demo"}, {"distribution", "laplace"}, {"scale", a.scale}, {"seed", a.seed}};
    std::cout << j.dump(2) << "\n";
    return;
  }
  std::cout << "Demo tensor 'demo': " << a.shape << " (" << n << " weights), Laplace(0, " << a.scale
            << "), seed " << a.seed << "\n"
            << a.bits << "-bit codes, K = " << a.sqrt2_terms << ", " << a.codebook << " codebook, " << a.rounding
            << " rounding, per-" << a.granularity << " parameters\n"
            << "MSE in squared weight units; SQNR = 10 log10(mean w^2 / MSE); weights (B) = storage in bytes\n\n";
  print_quant_table(rows, std::cout);
  if (a.histogram)
    for (const QuantReportRow& r : rows) {
      std::cout << "\n";
      print_histogram(r, std::cout);
    }
}

}  // namespace

void add_quantize_command(CLI::App& app) {
  auto args = std::make_shared<QuantizeArgs>();
  CLI::App* cmd = app.add_subcommand("quantize", "Quantize weights and report the error per layer and policy");
  cmd->add_option("model", args->model, "ONNX model (default: a built-in demo tensor)");
  cmd->add_option("--policy", args->policies,
                  "Policies: brslog, seglog:n2=K, log2, logsqrt2, fixed16 (repeat or comma-separate; default: all five for the demo, brslog for a model)")
      ->delimiter(',');
  cmd->add_option("--bits", args->bits, "Weight code width N in bits [3, 8]")->capture_default_str();
  cmd->add_option("--sqrt2-terms", args->sqrt2_terms, "K, terms of the sqrt2 expansion [1, 7]")
      ->capture_default_str();
  add_codebook_option(cmd, args->codebook);
  add_rounding_option(cmd, args->rounding);
  add_granularity_option(cmd, args->granularity);
  cmd->add_option("--shape", args->shape, "Demo tensor shape (axis 0 = output channels)")->capture_default_str();
  cmd->add_option("--scale", args->scale, "Laplace scale b of the demo weights")->capture_default_str();
  cmd->add_option("--seed", args->seed, "Seed of the demo weights")->capture_default_str();
  add_format_option(cmd, args->format);
  add_max_memory_option(cmd);
  cmd->add_flag("--histogram", args->histogram, "Also print the histogram of code words");
  add_bias_correction_option(cmd, args->bias_correction);
  add_calib_images_option(cmd, args->calib_images);
  cmd->add_option("--dataset", args->dataset, "Folder with the IDX files (train-*) of --bias-correction's calibration")
      ->capture_default_str();
  cmd->callback([args] { run_quantize(*args); });
}

}  // namespace brsim
