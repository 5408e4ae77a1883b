// `brsim accuracy`: top-1 accuracy on the Fashion-MNIST test set of the float
// network and of each requested quantized variant (policy x bits x K x
// codebook), computed by the bit-exact golden model.
#include <algorithm>
#include <atomic>
#include <nlohmann/json.hpp>
#include <iostream>
#include <memory>
#include <thread>

#include "cli_options.h"
#include "commands.h"
#include "errors.h"
#include "image_options.h"
#include "memory_limit.h"
#include "float_infer.h"
#include "onnx_import.h"
#include "paths.h"
#include "progress.h"
#include "qnet.h"
#include "text_table.h"

namespace brsim {

namespace {

struct AccuracyArgs {
  std::string model;
  std::string dataset = kFashionMnistDir;
  int64_t images = 10000;
  std::vector<std::string> policies{"fixed16", "brslog"};
  std::vector<int> bits{5};
  std::vector<std::string> sqrt2_terms{"4"};
  std::vector<std::string> codebooks{"ideal"};
  std::string rounding = "linear";
  std::string granularity = "layer";
  int act_bits = 16;
  int64_t calib_images = 500;
  double calib_percentile = 100.0;
  bool bias_correction = false;
  int jobs = 0;
  std::string format = "text";
};

struct Result {
  std::string policy, codebook, sqrt2;
  int bits = 0;
  int64_t correct = 0;
  InferStats stats;
  uint64_t bias_saturated = 0;
};

std::vector<NetQuantOptions> variants(const AccuracyArgs& a) {
  std::vector<NetQuantOptions> out;
  std::vector<std::string> seen;
  for (const std::string& p : a.policies)
    for (int b : a.bits)
      for (const std::string& k : a.sqrt2_terms)
        for (const std::string& cb : a.codebooks) {
          NetQuantOptions o;
          o.weights.policy = Policy::parse(p);
          o.weights.bits = b;
          o.weights.rounding = parse_rounding(a.rounding);
          o.weights.granularity = parse_granularity(a.granularity);
          o.weights.codebook = parse_codebook(cb);
          if (k == "exact") {
            o.exact_sqrt2 = true;
            if (o.weights.codebook == CodebookKind::Hardware) continue;  // no hardware codebook for the real sqrt2
          } else {
            size_t used = 0;
            int v = 0;
            try {
              v = std::stoi(k, &used);
            } catch (const std::exception&) {
              used = 0;
            }
            if (used == 0 || used != k.size() || v < 1 || v > 7)
              throw ConfigError("invalid --sqrt2-terms '" + k + "': expected an integer in [1, 7] or 'exact'");
            o.weights.datapath.sqrt2_terms = v;
          }
          o.weights.datapath.act_bits = a.act_bits;
          o.bias_correction = a.bias_correction;
          validate(o.weights);
          const std::string key = o.label();
          if (std::find(seen.begin(), seen.end(), key) != seen.end()) continue;
          seen.push_back(key);
          out.push_back(o);
        }
  return out;
}

int job_count(int jobs) {
  if (jobs > 0) return jobs;
  const unsigned hw = std::thread::hardware_concurrency();
  return hw ? static_cast<int>(hw) : 1;
}

// Runs `per_image(i, worker)` over all images on `jobs` threads, images
// interleaved; each worker keeps its own counters, merged in worker order.
template <typename F>
void parallel_images(int64_t n, int jobs, const std::string& label, F per_image) {
  Progress progress(label, n);
  std::atomic<int64_t> done{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < jobs; ++t)
    pool.emplace_back([&, t] {
      for (int64_t i = t; i < n; i += jobs) {
        per_image(i, t);
        const int64_t d = ++done;
        if (t == 0) progress.update(d);
      }
    });
  for (std::thread& th : pool) th.join();
  progress.finish();
}

void run_accuracy(AccuracyArgs a) {
  if (a.model.empty()) a.model = default_model_path();
  check_image_counts(a.images, a.calib_images);
  if (a.jobs < 0 || a.jobs > 256)
    throw ConfigError("invalid --jobs " + std::to_string(a.jobs) + ": expected an integer in [0, 256] (0 = one per core)");
  if (a.act_bits < 2 || a.act_bits > 32)
    throw ConfigError("invalid --act-bits " + std::to_string(a.act_bits) + ": expected an integer in [2, 32]");
  if (!(a.calib_percentile > 0 && a.calib_percentile <= 100))
    throw ConfigError("invalid --calib-percentile " + std::to_string(a.calib_percentile) + ": expected a number in (0, 100]");
  const int jobs = job_count(a.jobs);
  auto net = std::make_shared<const Network>(import_onnx(a.model));
  // The test images and each worker's float and integer inference of one image.
  check_memory(network_memory_estimate(*net, static_cast<uint64_t>(jobs) * 4) +
                   static_cast<uint64_t>(a.images) * static_cast<uint64_t>(net->input.numel()),
               "brsim accuracy of " + a.model + " on " + std::to_string(a.images) + " images");
  const std::vector<NetQuantOptions> vars = variants(a);
  if (net->output().numel() < 10) throw ConfigError(a.model + ": the network has fewer than 10 outputs");
  const ImageSet test = load_test_images(a.dataset, a.images, *net);
  CalibOptions co;
  co.act_bits = a.act_bits;
  co.images = a.calib_images;
  co.percentile = a.calib_percentile;
  co.input_means = a.bias_correction;
  const ActivationFormats formats = calibrate(*net, load_idx(a.dataset, "train", a.calib_images), co);
  const int64_t n = test.count;
  const size_t px = static_cast<size_t>(test.rows * test.cols);

  std::vector<Result> results;
  {
    std::vector<int64_t> correct(static_cast<size_t>(jobs), 0);
    parallel_images(n, jobs, "float", [&](int64_t i, int t) {
      const std::vector<float> logits = run_float(*net, image_to_input(test.image(i), px));
      correct[static_cast<size_t>(t)] += argmax(logits) == test.labels[static_cast<size_t>(i)];
    });
    Result r;
    r.policy = "float";
    for (int64_t c : correct) r.correct += c;
    results.push_back(r);
  }
  for (const NetQuantOptions& o : vars) {
    const QuantizedNetwork q = quantize_network(net, formats, o);
    std::vector<int64_t> correct(static_cast<size_t>(jobs), 0);
    std::vector<InferStats> stats(static_cast<size_t>(jobs));
    parallel_images(n, jobs, o.label(), [&](int64_t i, int t) {
      const ActTensor out = run_quantized(q, image_to_input(test.image(i), px), &stats[static_cast<size_t>(t)]);
      const size_t best = static_cast<size_t>(std::max_element(out.data.begin(), out.data.end()) - out.data.begin());
      correct[static_cast<size_t>(t)] += best == test.labels[static_cast<size_t>(i)];
    });
    Result r;
    r.policy = o.weights.policy.name();
    const bool fixed = o.weights.policy.kind == PolicyKind::Fixed16;
    r.bits = fixed ? 16 : o.weights.bits;
    r.sqrt2 = fixed ? "" : (o.exact_sqrt2 ? "exact" : std::to_string(o.weights.datapath.sqrt2_terms));
    r.codebook = fixed ? "" : to_string(o.weights.codebook);
    for (size_t t = 0; t < stats.size(); ++t) {
      r.correct += correct[t];
      r.stats.merge(stats[t]);
    }
    for (const QLayer& l : q.layers) r.bias_saturated += l.bias_saturated;
    results.push_back(r);
  }

  if (a.format == "json") {
    nlohmann::json res = nlohmann::json::array();
    for (const Result& r : results) {
      nlohmann::json j;
      j["policy"] = r.policy;
      j["bits"] = r.policy == "float" ? nlohmann::json(32) : nlohmann::json(r.bits);
      j["sqrt2_terms"] = r.sqrt2.empty() ? nlohmann::json(nullptr) : (r.sqrt2 == "exact" ? nlohmann::json("exact") : nlohmann::json(std::stoi(r.sqrt2)));
      j["codebook"] = r.codebook.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.codebook);
      j["top1"] = static_cast<double>(r.correct) / static_cast<double>(n);
      j["correct"] = r.correct;
      if (r.policy != "float") {
        j["acc_overflows"] = r.stats.mac.acc_overflows;
        j["output_saturations"] = r.stats.requant.saturated();
        j["input_saturations"] = r.stats.input_saturated;
        j["bias_saturations"] = r.bias_saturated;
        j["macs"] = r.stats.mac.macs;
      }
      res.push_back(j);
    }
    nlohmann::json out{{"model", a.model},
                       {"dataset", a.dataset},
                       {"images", n},
                       {"calibration", {{"images", formats.images_used}, {"percentile", co.percentile},
                                        {"act_bits", co.act_bits}}},
                       {"results", res}};
    if (a.bias_correction) out["calibration"]["bias_correction"] = true;
    std::cout << out.dump(2) << "\n";
    return;
  }
  std::cout << "Model " << a.model << ": " << net->layers.size() << " layers, " << net->macs() << " MACs per image\n"
            << "Test set " << a.dataset << " (t10k): " << n << " images; calibration: first " << formats.images_used
            << " training images, " << (co.percentile >= 100 ? std::string("max |x|") : fmt_general(co.percentile, 6) + " percentile of |x|")
            << ", " << co.act_bits << "-bit activations" << (a.bias_correction ? "; bias correction on" : "") << "\n\n";
  TextTable t({"policy", "bits", "K", "codebook", "top-1 (%)", "vs float (points)", "acc overflows", "saturations"},
              {true, false, false, true, false, false, false, false});
  const double float_top1 = 100.0 * static_cast<double>(results[0].correct) / static_cast<double>(n);
  for (const Result& r : results) {
    const double top1 = 100.0 * static_cast<double>(r.correct) / static_cast<double>(n);
    const bool is_float = r.policy == "float";
    t.add_row({r.policy, is_float ? "32 (fp)" : std::to_string(r.bits), r.sqrt2.empty() ? "-" : r.sqrt2,
               r.codebook.empty() ? "-" : r.codebook, fmt_fixed(top1, 2),
               is_float ? "-" : fmt_fixed(top1 - float_top1, 2),
               is_float ? "-" : std::to_string(r.stats.mac.acc_overflows),
               is_float ? "-" : std::to_string(r.stats.requant.saturated() + r.stats.input_saturated + r.bias_saturated)});
  }
  t.print(std::cout);
}

}  // namespace

void add_accuracy_command(CLI::App& app) {
  auto args = std::make_shared<AccuracyArgs>();
  CLI::App* cmd = app.add_subcommand("accuracy", "Top-1 accuracy of float and quantized variants on the test set");
  add_model_argument(cmd, args->model);
  add_test_set_options(cmd, args->images, args->dataset);
  cmd->add_option("--policy", args->policies, "Policies: brslog, seglog:n2=K, log2, logsqrt2, fixed16")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--bits", args->bits, "Weight code widths to evaluate")->delimiter(',')->capture_default_str();
  cmd->add_option("--sqrt2-terms", args->sqrt2_terms, "K values: 1..7 or 'exact' (float reference)")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--codebook", args->codebooks, "Codebooks: ideal, hardware")->delimiter(',')->capture_default_str();
  add_rounding_option(cmd, args->rounding);
  add_granularity_option(cmd, args->granularity);
  cmd->add_option("--act-bits", args->act_bits, "Activation width A in bits")->capture_default_str();
  add_calib_images_option(cmd, args->calib_images);
  add_bias_correction_option(cmd, args->bias_correction);
  cmd->add_option("--calib-percentile", args->calib_percentile, "Calibration bound: 100 = max |x|, or a percentile")
      ->capture_default_str();
  cmd->add_option("-j,--jobs", args->jobs, "Worker threads (0 = one per core)")->capture_default_str();
  add_max_memory_option(cmd);
  add_format_option(cmd, args->format);
  cmd->callback([args] { run_accuracy(*args); });
}

}  // namespace brsim
