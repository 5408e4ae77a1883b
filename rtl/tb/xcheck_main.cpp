// rtl_xcheck: the Verilated RTL against the simulator.
//   rtl_xcheck units [--seed S] [--random N] [--pe-steps N]
//       decoders, AEs, multipliers and PEs against the C++ numerics
//   rtl_xcheck array --vcd FILE [--bits N] [--sqrt2-terms K]
//       the 4x4 RTL array against a brsim VCD of every PE, cycle by cycle
// Exit status 0 when everything matches, 1 on a mismatch, 2 on bad input.
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include "verilated.h"
#include "xcheck.h"

namespace {
int usage() {
  std::fprintf(stderr,
               "usage: rtl_xcheck units [--seed S] [--random N] [--pe-steps N]\n"
               "       rtl_xcheck array --vcd FILE [--bits N] [--sqrt2-terms K]\n");
  return 2;
}
}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return usage();
  const std::string mode = argv[1];
  uint64_t seed = 1;
  int randoms = 64, pe_steps = 20000, bits = 5, k = 4;
  std::string vcd;
  try {
    for (int i = 2; i < argc; ++i) {
      const std::string a = argv[i];
      if (i + 1 >= argc) return usage();
      const std::string v = argv[++i];
      if (a == "--seed") seed = std::stoull(v);
      else if (a == "--random") randoms = std::stoi(v);
      else if (a == "--pe-steps") pe_steps = std::stoi(v);
      else if (a == "--vcd") vcd = v;
      else if (a == "--bits") bits = std::stoi(v);
      else if (a == "--sqrt2-terms") k = std::stoi(v);
      else return usage();
    }
    if (mode == "units") return rtlcheck::run_units(seed, randoms, pe_steps);
    if (mode == "array" && !vcd.empty()) return rtlcheck::run_array(vcd, bits, k);
    return usage();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "rtl_xcheck: error: %s\n", e.what());
    return 2;
  }
}
