// brsim: the command-line program. Subcommands live in cmd_*.cpp.
#include <iostream>
#include <new>
#include <systemc>

#include "accel_host.h"
#include "commands.h"
#include "errors.h"
#include "sc_kernel.h"

int sc_main(int argc, char** argv) {
  brsim::use_transparent_huge_pages(argv);
  brsim::quiet_systemc_banner();
  brsim::keep_freed_host_memory();
  CLI::App app{
      "brsim: a SystemC simulator of a log-quantized (BRSLog) DNN inference accelerator.\n"
      "Run 'brsim COMMAND --help' for the options of a command."};
  app.require_subcommand(1);
  app.set_version_flag("--version", "brsim 0.1.0");
  brsim::add_codebook_command(app);
  brsim::add_quantize_command(app);
  brsim::add_accuracy_command(app);
  brsim::add_run_command(app);
  brsim::add_layer_command(app);
  brsim::add_sweep_command(app);
  brsim::add_hw_report_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const brsim::ConfigError& e) {
    std::cerr << "brsim: error: " << e.what() << "\n";
    return 2;
  } catch (const std::bad_alloc&) {
    std::cerr << "brsim: error: out of memory: the inputs need more memory than the machine gave (see --max-memory "
                 "and docs/reliability.md)\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "brsim: internal error: " << e.what() << "\n";
    return 3;
  }
  return 0;
}
