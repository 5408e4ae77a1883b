#include "cli_options.h"

#include "memory_limit.h"

namespace brsim {

void add_format_option(CLI::App* cmd, std::string& format, const std::string& help,
                       const std::vector<std::string>& choices) {
  cmd->add_option("--format", format, help)->check(CLI::IsMember(choices))->capture_default_str();
}

void add_model_argument(CLI::App* cmd, std::string& model) {
  cmd->add_option("model", model, "ONNX model (default: the shipped Fashion-MNIST model)");
}

void add_test_set_options(CLI::App* cmd, int64_t& images, std::string& dataset) {
  cmd->add_option("--images", images, "Number of test images (the first N)")->capture_default_str();
  cmd->add_option("--dataset", dataset, "Folder with the IDX files (t10k-*, train-*)")->capture_default_str();
}

void add_calib_images_option(CLI::App* cmd, int64_t& calib_images) {
  cmd->add_option("--calib-images", calib_images, "Training images used for calibration")->capture_default_str();
}

void add_bias_correction_option(CLI::App* cmd, bool& bias_correction) {
  cmd->add_flag("--bias-correction", bias_correction,
                "Subtract each layer's mean output error (quantized vs float weights, over the calibration images) from its bias");
}

void add_codebook_option(CLI::App* cmd, std::string& codebook) {
  cmd->add_option("--codebook", codebook, "ideal (exact sqrt2) or hardware (A_K) levels")
      ->check(CLI::IsMember({"ideal", "hardware"}))
      ->capture_default_str();
}

void add_rounding_option(CLI::App* cmd, std::string& rounding) {
  cmd->add_option("--rounding", rounding, "Weight rounding: nearest level in the linear or log domain")
      ->check(CLI::IsMember({"linear", "log"}))
      ->capture_default_str();
}

void add_granularity_option(CLI::App* cmd, std::string& granularity) {
  cmd->add_option("--granularity", granularity, "Segment parameters per layer or per output channel")
      ->check(CLI::IsMember({"layer", "channel"}))
      ->capture_default_str();
}

void add_weight_policy_option(CLI::App* cmd, std::string& policy) {
  cmd->add_option("--policy", policy, "Weight policy (default: brslog, or fixed16 on a fixed16 array)");
}

std::string weight_policy(const std::string& policy, const ArchConfig& arch) {
  if (!policy.empty()) return policy;
  return arch.pe == PeType::Fixed16 ? "fixed16" : "brslog";
}

void add_simulation_options(CLI::App* cmd, TraceArgs& trace, std::string& mode, int& threads, std::string& energy) {
  add_trace_options(cmd, trace);
  add_mode_option(cmd, mode);
  add_threads_option(cmd, threads);
  add_quant_cache_option(cmd);
  add_max_memory_option(cmd);
  cmd->add_option("--energy", energy, "Energy table YAML (default: data/energy/default_45nm.yaml)");
}

}  // namespace brsim
