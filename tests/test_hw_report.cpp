// The hardware evidence (sim/hw_report.h, docs/hardware.md) without the RTL
// tools: the committed synthesis and gate-level results read and summarize
// consistently, the committed derived energy table is exactly what they
// give, --compare fixed16 with that table reproduces the measured AE vs
// multiplier ratios, fresh results are held to the committed ones, bad
// files are refused by name, and `brsim hw-report` prints the comparison
// with the seed's figures. (The RTL tier, rtl/CMakeLists.txt, measures.)
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <functional>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "energy.h"
#include "errors.h"
#include "hw_report.h"
#include "paths.h"
#include "temp_dir.h"

namespace brsim {
namespace {

std::string results_path() { return data_dir() + "/hw/hw_results.json"; }
std::string derived_path() { return data_dir() + "/energy/synthesized_45nm.yaml"; }

std::string read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// A copy of the committed results with one change, as DIR/NAME.
std::string edited_results(const brsim_test::TempDir& dir, const std::string& name,
                           const std::function<void(nlohmann::json&)>& edit) {
  nlohmann::json j = nlohmann::json::parse(read(results_path()));
  edit(j);
  return dir.write(name, j.dump(1));
}

struct Cli {
  int status = -1;
  std::string out;
};
Cli run_brsim(const std::string& args) {
  Cli r;
  FILE* p = popen((std::string(BRSIM_BINARY) + " " + args + " 2>&1").c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  const int st = pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

TEST(HwResults, CommittedResultsAreConsistent) {
  const HwResults r = load_hw_results(results_path());
  EXPECT_EQ(r.bits, 5);
  EXPECT_EQ(r.sqrt2_terms, 4);
  // Every traced PE did the same useful operations in both arrays, and the
  // whole array did the layer's MACs.
  EXPECT_EQ(r.ae_total().ops, r.mul.ops);
  const uint64_t pes = 16 * 16;
  EXPECT_EQ(r.mul.ops / r.pes_traced * pes, r.layer_macs);
  EXPECT_GT(r.ae[kAeSqrt2].ops, 0u);
  EXPECT_GT(r.ae[kAePow2].ops, 0u);
  EXPECT_GT(r.vectors_checked, r.mul.ops);
  // Weighted toggles are at least the raw ones (every counted net has a load).
  EXPECT_GE(r.mul.load_toggles, r.mul.toggles);
  const HwFigures f = hw_figures(r);
  EXPECT_EQ(f.fixed_decoders, 32);  // one hard-wired decoder per (n2, p) of 5-bit codes
  EXPECT_GT(f.area_ae, 0.0);
  EXPECT_LT(f.area_ae, f.area_ae_dec);  // the decoder adds area
  EXPECT_LT(f.area_ae_dec, 1.0);
  EXPECT_GT(f.reconfig_t, 0.0);
  EXPECT_LT(f.fixed_dec_max, f.dec_t);
  EXPECT_GT(f.power_ratio, 0.0);
  EXPECT_LT(f.power_ratio, 1.0);
  // The AE grows with K: more shift-add terms.
  for (int k = 2; k <= 7; ++k) EXPECT_GT(f.ae_by_k[k], f.ae_by_k[k - 1]) << "K = " << k;
}

TEST(HwResults, DerivedTableIsWhatTheResultsGive) {
  const HwResults r = load_hw_results(results_path());
  const EnergyTable anchor = load_energy_table(default_energy_table_path());
  EXPECT_EQ(derived_energy_table(r, anchor, "data/hw/hw_results.json", "data/energy/default_45nm.yaml"),
            read(derived_path()))
      << "regenerate: build/brsim hw-report --write-energy data/energy/synthesized_45nm.yaml";
}

TEST(HwResults, DerivedTableCarriesTheMeasuredRatios) {
  const HwResults r = load_hw_results(results_path());
  const HwFigures f = hw_figures(r);
  const EnergyTable t = load_energy_table(derived_path());
  const EnergyTable d = load_energy_table(default_energy_table_path());
  EXPECT_EQ(t.name, "synthesized-45nm");
  auto near = [](double a, double b) { return std::fabs(a - b) <= 1e-6 * std::fabs(b); };
  const double mul_area = t.cost(Component::Fixed16Mul).area_um2;
  EXPECT_TRUE(near(t.cost(Component::BrslogAe).area_um2 / mul_area, f.area_ae));
  EXPECT_TRUE(near(t.cost(Component::BrslogAe).leakage_uw / t.cost(Component::Fixed16Mul).leakage_uw, f.area_ae));
  const double u = mul_area / f.mul_t;
  EXPECT_TRUE(near(t.cost(Component::Reconfig).area_um2, u * f.reconfig_t));
  EXPECT_TRUE(near(t.cost(Component::WeightDecoder).area_um2, u * f.fixed_dec_mean));
  const double per_load = t.energy(Action::Fixed16Mul) / r.mul.load_per_op();
  EXPECT_TRUE(near(t.energy(Action::AeOpSqrt2), per_load * r.ae[kAeSqrt2].load_per_op()));
  EXPECT_TRUE(near(t.energy(Action::AeOpPow2), per_load * r.ae[kAePow2].load_per_op()));
  EXPECT_TRUE(near(t.energy(Action::AeOpZero), per_load * r.ae[kAeZero].load_per_op()));
  EXPECT_TRUE(near(t.energy(Action::WeightDecode), per_load * r.decoder.load_per_op()));
  // What the RTL did not measure is the anchor's.
  for (Action a : {Action::AccAdd, Action::RegWrite, Action::Toggle, Action::DramByte, Action::Fixed16Mul})
    EXPECT_TRUE(near(t.energy(a), d.energy(a))) << action_name(a);
  for (Component c : {Component::Accumulator, Component::PeRegisters, Component::WeightBuffer, Component::Controller})
    EXPECT_TRUE(near(t.cost(c).area_um2, d.cost(c).area_um2)) << component_name(c);
}

// The energy model with the derived table: the layer's AE operations (its
// mix of paths) against as many 16-bit multiplies give the measured ratio.
TEST(HwResults, CompareFixed16WithTheDerivedTableGivesTheMeasuredRatio) {
  const HwResults r = load_hw_results(results_path());
  const EnergyTable t = load_energy_table(derived_path());
  ArchConfig a;
  ActionCounts brslog, fixed16;
  brslog[Action::AeOpSqrt2] = r.ae[kAeSqrt2].ops;
  brslog[Action::AeOpPow2] = r.ae[kAePow2].ops;
  brslog[Action::AeOpZero] = r.ae[kAeZero].ops;
  fixed16[Action::Fixed16Mul] = r.mul.ops;
  ArchInstanceCounts ib, i16;
  ib[Component::BrslogAe] = 1;
  i16[Component::Fixed16Mul] = 1;
  const EnergyBreakdown eb = compute_energy(brslog, t, ib, 0, a.clock_mhz, r.mul.ops);
  const EnergyBreakdown e16 = compute_energy(fixed16, t, i16, 0, a.clock_mhz, r.mul.ops);
  EXPECT_NEAR(eb.dynamic_total_pj / e16.dynamic_total_pj, hw_figures(r).power_ratio, 1e-6);
  EXPECT_NEAR(eb.area_total_um2 / e16.area_total_um2, hw_figures(r).area_ae, 1e-6);
}

TEST(HwResults, FreshResultsAreHeldToTheCommittedOnes) {
  const HwResults c = load_hw_results(results_path());
  bool identical = false;
  EXPECT_EQ(compare_hw_results(c, c, &identical), "");
  EXPECT_TRUE(identical);
  // One transistor more in the AE: named.
  HwResults f = c;
  f.designs["brslog_ae"].transistors += 1;
  EXPECT_NE(compare_hw_results(f, c, &identical).find("designs.brslog_ae.transistors"), std::string::npos);
  // One toggle more: named.
  f = c;
  f.mul.toggles += 1;
  EXPECT_NE(compare_hw_results(f, c, &identical).find("switching.fixed16_mul.toggles"), std::string::npos);
  // A design missing: named.
  f = c;
  f.designs.erase("brslog_pe");
  EXPECT_NE(compare_hw_results(f, c, &identical).find("designs.brslog_pe"), std::string::npos);
  // Another Yosys: small changes pass on the ratios, large ones do not.
  f = c;
  f.yosys = "Yosys 9.99";
  f.designs["brslog_ae"].transistors += c.design("brslog_ae").transistors / 100;
  EXPECT_EQ(compare_hw_results(f, c, &identical), "");
  EXPECT_FALSE(identical);
  f.designs["brslog_ae"].transistors += c.design("brslog_ae").transistors / 5;
  EXPECT_NE(compare_hw_results(f, c, &identical).find("AE / multiplier area"), std::string::npos);
}

TEST(HwResults, BadFilesAreRefusedByName) {
  try {
    load_hw_results("/nonexistent/hw.json");
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/hw.json"), std::string::npos);
  }
  const brsim_test::TempDir tmp;
  const std::string missing =
      edited_results(tmp, "missing.json", [](nlohmann::json& j) { j["switching"].erase("fixed16_mul"); });
  try {
    load_hw_results(missing);
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("switching.fixed16_mul"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(missing), std::string::npos) << e.what();
  }
  const std::string negative =
      edited_results(tmp, "negative.json", [](nlohmann::json& j) { j["designs"]["brslog_ae"]["transistors"] = -3; });
  try {
    load_hw_results(negative);
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("designs.brslog_ae.transistors"), std::string::npos) << e.what();
  }
}

TEST(HwReportCli, PrintsTheComparisonWithTheSeed) {
  const Cli r = run_brsim("hw-report");
  ASSERT_EQ(r.status, 0) << r.out;
  const HwFigures f = hw_figures(load_hw_results(results_path()));
  for (const std::string s : {"50.42 % smaller", "55.60 % lower", "22.96 um^2, 2.6 uW", "transistors", "toggles/op",
                              "fixed16_mul", "brslog_ae_dec", "data/hw/hw_results.json"})
    EXPECT_NE(r.out.find(s), std::string::npos) << s << "\n" << r.out;
  char measured[64];
  std::snprintf(measured, sizeof measured, "%.1f %% smaller (%.3fx)", 100 * (1 - f.area_ae), f.area_ae);
  EXPECT_NE(r.out.find(measured), std::string::npos) << measured << "\n" << r.out;
  std::snprintf(measured, sizeof measured, "%.1f %% lower (%.3fx", 100 * (1 - f.power_ratio), f.power_ratio);
  EXPECT_NE(r.out.find(measured), std::string::npos) << measured << "\n" << r.out;

  const Cli j = run_brsim("hw-report --format json");
  ASSERT_EQ(j.status, 0) << j.out;
  const nlohmann::json js = nlohmann::json::parse(j.out);
  EXPECT_NEAR(js["area_ratios"]["ae_over_multiplier"].get<double>(), f.area_ae, 1e-12);
  EXPECT_NEAR(js["power_ratio_load_weighted"].get<double>(), f.power_ratio, 1e-12);
}

TEST(HwReportCli, CheckAndErrors) {
  const Cli same = run_brsim("hw-report --results " + results_path() + " --check " + results_path());
  EXPECT_EQ(same.status, 0) << same.out;
  EXPECT_NE(same.out.find("identical"), std::string::npos) << same.out;
  const brsim_test::TempDir tmp;
  const std::string changed =
      edited_results(tmp, "changed.json", [](nlohmann::json& j) { j["designs"]["fixed16_mul"]["transistors"] = 1; });
  const Cli diff = run_brsim("hw-report --results " + changed + " --check " + results_path());
  EXPECT_EQ(diff.status, 2) << diff.out;
  EXPECT_NE(diff.out.find("designs.fixed16_mul.transistors"), std::string::npos) << diff.out;
  const Cli missing = run_brsim("hw-report --results /nonexistent/hw.json");
  EXPECT_EQ(missing.status, 2) << missing.out;
  EXPECT_NE(missing.out.find("/nonexistent/hw.json"), std::string::npos) << missing.out;
  const Cli unwritable = run_brsim("hw-report --write-energy /nonexistent/dir/t.yaml");
  EXPECT_EQ(unwritable.status, 2) << unwritable.out;
  EXPECT_NE(unwritable.out.find("--write-energy /nonexistent/dir/t.yaml"), std::string::npos) << unwritable.out;
}

}  // namespace
}  // namespace brsim
