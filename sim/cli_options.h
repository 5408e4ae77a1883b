// Options that several subcommands take, each declared here once (name,
// help text, check); each command keeps its own defaults in its argument
// struct (the help shows them). The architecture options are
// arch_options.h's, the trace options trace_options.h's.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "arch.h"
#include "trace_options.h"

namespace brsim {

// --format, one of `choices` (text and json unless given otherwise).
void add_format_option(CLI::App* cmd, std::string& format, const std::string& help = "Output format",
                       const std::vector<std::string>& choices = {"text", "json"});

// The ONNX model argument of `run` and `accuracy`, and their test set:
// --images (the first N) and --dataset (the IDX folder).
void add_model_argument(CLI::App* cmd, std::string& model);
void add_test_set_options(CLI::App* cmd, int64_t& images, std::string& dataset);
// --calib-images: training images used for calibration.
void add_calib_images_option(CLI::App* cmd, int64_t& calib_images);

// --bias-correction (a flag, off by default): each Conv/Dense layer's bias
// less its expected output error over the calibration images.
void add_bias_correction_option(CLI::App* cmd, bool& bias_correction);

// The weight quantizer's choices, one value each: --codebook, --rounding,
// --granularity.
void add_codebook_option(CLI::App* cmd, std::string& codebook);
void add_rounding_option(CLI::App* cmd, std::string& rounding);
void add_granularity_option(CLI::App* cmd, std::string& granularity);

// --policy of the simulating commands (`run`, `layer`), and what it
// stands for: the given policy, or brslog (fixed16 on a fixed16 array).
void add_weight_policy_option(CLI::App* cmd, std::string& policy);
std::string weight_policy(const std::string& policy, const ArchConfig& arch);

// The options of a simulation (`run`, `layer`) after the command's own:
// the traces, --mode, --threads, --quant-cache, --max-memory, --energy.
void add_simulation_options(CLI::App* cmd, TraceArgs& trace, std::string& mode, int& threads, std::string& energy);

}  // namespace brsim
