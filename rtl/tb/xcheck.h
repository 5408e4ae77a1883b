// The RTL cross-check program (rtl_xcheck): shared pieces of its two modes,
// `units` (xcheck_units.cpp) and `array` (xcheck_array.cpp).
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

namespace rtlcheck {

// Instance counts of xcheck_top.v.
constexpr int kDecoders = 36, kAes = 126, kMuls = 8, kBrslogPes = 4, kFixedPes = 2;

// Counts checks and mismatches; prints the first few mismatches.
struct Tally {
  uint64_t checks = 0, within = 0, bad = 0;
  template <typename Describe>
  void check(bool ok, bool within_limits, Describe describe) {
    ++checks;
    within += within_limits;
    if (ok) return;
    if (++bad <= 10) std::printf("  MISMATCH %s\n", describe().c_str());
  }
  void print(const char* what) const {
    std::printf("  %-100s %10llu checks (%llu within the datapath limits), %llu mismatches\n", what,
                static_cast<unsigned long long>(checks), static_cast<unsigned long long>(within),
                static_cast<unsigned long long>(bad));
  }
};

int run_units(uint64_t seed, int randoms, int pe_steps);
int run_array(const std::string& vcd_path, int bits, int k);

}  // namespace rtlcheck
