// The brsim subcommands. Each registers itself on the CLI11 app; its
// callback throws ConfigError on bad input (main prints it, exits 2).
#pragma once

#include <CLI/CLI.hpp>

namespace brsim {

void add_codebook_command(CLI::App& app);
void add_quantize_command(CLI::App& app);
void add_accuracy_command(CLI::App& app);
void add_run_command(CLI::App& app);
void add_layer_command(CLI::App& app);
void add_sweep_command(CLI::App& app);
void add_hw_report_command(CLI::App& app);

}  // namespace brsim
