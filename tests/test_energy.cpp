// The energy model (sim/energy.h): table loading and validation, energy,
// leakage, power and area against hand-computed values, and the shipped
// default table against the published AE vs 16-bit multiplier figures.
#include <gtest/gtest.h>

#include <memory>

#include "temp_dir.h"
#include <unistd.h>

#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "energy.h"
#include "errors.h"

namespace brsim {
namespace {

namespace fs = std::filesystem;

// The shortest text that reads back as exactly x.
std::string num(double x) {
  char buf[64];
  return std::string(buf, std::to_chars(buf, buf + sizeof buf, x).ptr);
}

// A tiny table with round numbers; every entry times k. Units vary so the
// conversions are exercised: 10 fJ = 0.01 pJ, 0.03 nJ = 30 pJ, 10 nW =
// 0.01 uW, 0.1 mW = 100 uW, 0.001 mm^2 = 1000 um^2.
std::string tiny_table(double k = 1.0) {
  std::ostringstream o;
  o << "# a tiny table for hand computation\nname: tiny\ntechnology_nm: 45\nactions:\n";
  auto act = [&](const char* n, double e, const char* u) {
    o << "  " << n << ": {energy: " << num(e * k) << ", unit: " << u << "}\n";
  };
  act("ae_op_sqrt2", 0.5, "pJ");
  act("ae_op_pow2", 0.25, "pJ");
  act("ae_op_zero", 10, "fJ");
  act("acc_add", 0.1, "pJ");
  act("weight_decode", 0.02, "pJ");
  act("reg_write", 5, "fJ");
  act("toggle", 1, "fJ");
  act("fixed16_mul", 2, "pJ");
  act("weight_buffer_read", 20, "pJ");
  act("weight_buffer_write", 0, "pJ");
  act("input_buffer_read", 10, "pJ");
  act("input_buffer_write", 0, "pJ");
  act("output_buffer_read", 0, "pJ");
  act("output_buffer_write", 0.03, "nJ");
  act("dram_byte", 100, "pJ");
  o << "components:\n";
  auto comp = [&](const char* n, double l, const char* lu, double a, const char* au) {
    o << "  " << n << ": {leakage: " << num(l * k) << ", leakage_unit: " << lu << ", area: " << num(a * k)
      << ", area_unit: " << au << "}\n";
  };
  comp("brslog_ae", 2, "uW", 100, "um^2");
  comp("fixed16_mul", 4, "uW", 200, "um^2");
  comp("accumulator", 1, "uW", 50, "um^2");
  comp("pe_registers", 10, "nW", 5, "um^2");
  comp("weight_decoder", 0.5, "uW", 20, "um^2");
  comp("reconfig", 0, "uW", 0, "um^2");
  comp("weight_buffer", 0.1, "mW", 0.001, "mm^2");
  comp("input_buffer", 0.1, "mW", 0.001, "mm^2");
  comp("output_buffer", 0.1, "mW", 0.001, "mm^2");
  comp("controller", 50, "uW", 2000, "um^2");
  comp("dram_interface", 20, "uW", 3000, "um^2");
  return o.str();
}

class EnergyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tmp_ = std::make_unique<brsim_test::TempDir>();
    dir_ = tmp_->path();
  }
  void TearDown() override { tmp_.reset(); }

  std::string write(const std::string& name, const std::string& text) const {
    const std::string p = (dir_ / name).string();
    std::ofstream(p) << text;
    return p;
  }

  // Loading `text` fails with a ConfigError naming the file and every one of `parts`.
  void expect_error(const std::string& text, const std::vector<std::string>& parts) const {
    const std::string p = write("bad.yaml", text);
    try {
      load_energy_table(p);
      ADD_FAILURE() << "no error for:\n" << text;
    } catch (const ConfigError& e) {
      const std::string m = e.what();
      EXPECT_NE(m.find(p), std::string::npos) << m;
      for (const std::string& s : parts) EXPECT_NE(m.find(s), std::string::npos) << "'" << s << "' not in: " << m;
    }
  }

  std::unique_ptr<brsim_test::TempDir> tmp_;  // a fresh folder per test (tests/temp_dir.h)
  fs::path dir_;
};

std::string replaced(std::string s, const std::string& from, const std::string& to) {
  const size_t at = s.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) s.replace(at, from.size(), to);
  return s;
}

// A 2 x 2 BRSLog array with 10 register bits per PE.
ArchInstanceCounts tiny_instances() {
  ArchInstanceCounts n;
  n[Component::BrslogAe] = 4;
  n[Component::Accumulator] = 4;
  n[Component::PeRegisters] = 40;
  n[Component::WeightDecoder] = 2;
  n[Component::Reconfig] = 2;
  n[Component::WeightBuffer] = 1;
  n[Component::InputBuffer] = 1;
  n[Component::OutputBuffer] = 1;
  n[Component::Controller] = 1;
  n[Component::DramInterface] = 1;
  return n;
}

ActionCounts tiny_counts() {
  ActionCounts c;
  c[Action::AeOpSqrt2] = 3;
  c[Action::AeOpPow2] = 4;
  c[Action::AeOpZero] = 1;
  c[Action::AccAdd] = 8;
  c[Action::WeightDecode] = 4;
  c[Action::RegWrite] = 100;
  c[Action::Toggle] = 37;
  c[Action::WeightBufferRead] = 2;
  c[Action::InputBufferRead] = 5;
  c[Action::OutputBufferWrite] = 2;
  c[Action::DramByte] = 64;
  return c;
}

double rel(double x) { return 1e-12 * std::fabs(x); }

TEST_F(EnergyTest, TinyLayerHandComputed) {
  const EnergyTable t = load_energy_table(write("tiny.yaml", tiny_table()));
  EXPECT_EQ(t.name, "tiny");
  // 1000 cycles at 500 MHz = 2 us; 8 MACs.
  const EnergyBreakdown b = compute_energy(tiny_counts(), t, tiny_instances(), 1000, 500.0, 8);
  EXPECT_EQ(b.table, "tiny");
  EXPECT_DOUBLE_EQ(b.time_us(), 2.0);
  // Dynamic, per component: AE 3 x 0.5 + 4 x 0.25 + 1 x 0.01 = 2.51;
  // accumulator 8 x 0.1 = 0.8; decoder 4 x 0.02 = 0.08; registers
  // 100 x 0.005 + 37 x 0.001 = 0.537; weight buffer 2 x 20 = 40; input
  // buffer 5 x 10 = 50; output buffer 2 x 30 = 60; DRAM 64 x 100 = 6400.
  EXPECT_NEAR(b.dynamic_pj[to_index(Component::BrslogAe)], 2.51, rel(2.51));
  EXPECT_NEAR(b.dynamic_pj[to_index(Component::Accumulator)], 0.8, rel(0.8));
  EXPECT_NEAR(b.dynamic_pj[to_index(Component::WeightDecoder)], 0.08, rel(0.08));
  EXPECT_NEAR(b.dynamic_pj[to_index(Component::PeRegisters)], 0.537, rel(0.537));
  EXPECT_NEAR(b.dynamic_pj[to_index(Component::OutputBuffer)], 60.0, rel(60.0));
  EXPECT_NEAR(b.action_pj[to_index(Action::Toggle)], 0.037, rel(0.037));
  EXPECT_NEAR(b.action_pj[to_index(Action::DramByte)], 6400.0, rel(6400.0));
  EXPECT_EQ(b.dynamic_pj[to_index(Component::Fixed16Mul)], 0.0);
  // 2.51 + 0.8 + 0.08 + 0.537 + 40 + 50 + 60 + 6400
  EXPECT_NEAR(b.dynamic_total_pj, 6553.927, rel(6553.927));
  // Leakage = instances x uW x 2 us: AE 4 x 2 x 2 = 16; accumulator 4 x 1 x 2
  // = 8; registers 40 x 0.01 x 2 = 0.8; decoders 2 x 0.5 x 2 = 2; buffers
  // 3 x 100 x 2 = 600; controller 50 x 2 = 100; DMA 20 x 2 = 40.
  EXPECT_NEAR(b.leakage_pj[to_index(Component::BrslogAe)], 16.0, rel(16.0));
  EXPECT_NEAR(b.leakage_pj[to_index(Component::PeRegisters)], 0.8, rel(0.8));
  EXPECT_NEAR(b.leakage_pj[to_index(Component::InputBuffer)], 200.0, rel(200.0));
  EXPECT_EQ(b.leakage_pj[to_index(Component::Fixed16Mul)], 0.0);
  EXPECT_NEAR(b.leakage_total_pj, 766.8, rel(766.8));
  // 6553.927 + 766.8
  EXPECT_NEAR(b.total_pj, 7320.727, rel(7320.727));
  EXPECT_NEAR(b.component_pj(Component::BrslogAe), 18.51, rel(18.51));
  // 7320.727 / 8 MACs
  EXPECT_NEAR(b.pj_per_mac, 915.090875, rel(915.090875));
  // 7320.727 pJ / 2 us = 3660.3635 uW = 3.6603635 mW
  EXPECT_NEAR(b.avg_power_mw, 3.6603635, rel(3.6603635));
  // Area: 4 x 100 + 4 x 50 + 40 x 5 + 2 x 20 + 3 x 1000 + 2000 + 3000
  EXPECT_NEAR(b.area_total_um2, 8840.0, rel(8840.0));
  EXPECT_NEAR(b.area_um2[to_index(Component::WeightBuffer)], 1000.0, rel(1000.0));
}

TEST_F(EnergyTest, ZeroWeightCostsTheGatedEnergy) {
  ArchInstanceCounts one_ae;
  one_ae[Component::BrslogAe] = 1;
  ActionCounts zeros;
  zeros[Action::AeOpZero] = 1000;
  const EnergyTable tiny = load_energy_table(write("tiny.yaml", tiny_table()));
  // No cycles: dynamic energy only. 1000 x 10 fJ = 10 pJ.
  const EnergyBreakdown b = compute_energy(zeros, tiny, one_ae, 0, 500.0, 1000);
  EXPECT_NEAR(b.total_pj, 10.0, rel(10.0));
  EXPECT_NEAR(b.component_pj(Component::BrslogAe), 10.0, rel(10.0));
  EXPECT_EQ(b.avg_power_mw, 0.0);

  const EnergyTable def = load_energy_table(default_energy_table_path());
  const EnergyBreakdown d = compute_energy(zeros, def, one_ae, 0, 500.0, 1000);
  EXPECT_NEAR(d.total_pj, 1000 * 0.003496056, 1e-12);
  // Gating is what makes a zero cheap: below both real AE ops.
  EXPECT_LT(def.energy(Action::AeOpZero), def.energy(Action::AeOpPow2));
  EXPECT_LT(def.energy(Action::AeOpPow2), def.energy(Action::AeOpSqrt2));
}

void expect_doubled(const EnergyBreakdown& a, const EnergyBreakdown& b) {
  for (int i = 0; i < kNumActions; ++i) EXPECT_DOUBLE_EQ(b.action_pj[i], 2 * a.action_pj[i]) << i;
  for (int i = 0; i < kNumComponents; ++i) {
    EXPECT_DOUBLE_EQ(b.dynamic_pj[i], 2 * a.dynamic_pj[i]) << i;
    EXPECT_DOUBLE_EQ(b.leakage_pj[i], 2 * a.leakage_pj[i]) << i;
    EXPECT_DOUBLE_EQ(b.area_um2[i], 2 * a.area_um2[i]) << i;
  }
  EXPECT_DOUBLE_EQ(b.dynamic_total_pj, 2 * a.dynamic_total_pj);
  EXPECT_DOUBLE_EQ(b.leakage_total_pj, 2 * a.leakage_total_pj);
  EXPECT_DOUBLE_EQ(b.total_pj, 2 * a.total_pj);
  EXPECT_DOUBLE_EQ(b.pj_per_mac, 2 * a.pj_per_mac);
  EXPECT_DOUBLE_EQ(b.avg_power_mw, 2 * a.avg_power_mw);
  EXPECT_DOUBLE_EQ(b.area_total_um2, 2 * a.area_total_um2);
}

TEST_F(EnergyTest, DoublingTheTableDoublesEveryFigure) {
  // The same table written with every number doubled.
  const EnergyTable t1 = load_energy_table(write("t1.yaml", tiny_table(1.0)));
  const EnergyTable t2 = load_energy_table(write("t2.yaml", tiny_table(2.0)));
  const EnergyBreakdown a = compute_energy(tiny_counts(), t1, tiny_instances(), 1000, 500.0, 8);
  const EnergyBreakdown b = compute_energy(tiny_counts(), t2, tiny_instances(), 1000, 500.0, 8);
  EXPECT_GT(a.dynamic_total_pj, 0.0);
  EXPECT_GT(a.leakage_total_pj, 0.0);
  expect_doubled(a, b);

  // The shipped table doubled in memory, on the default architecture.
  const EnergyTable d1 = load_energy_table(default_energy_table_path());
  EnergyTable d2 = d1;
  for (double& e : d2.energy_pj) e *= 2;
  for (ComponentCost& c : d2.components) {
    c.leakage_uw *= 2;
    c.area_um2 *= 2;
  }
  ActionCounts c = tiny_counts();
  c[Action::AccAdd] = 4096;
  const ArchInstanceCounts inst = instance_counts(ArchConfig{});
  expect_doubled(compute_energy(c, d1, inst, 12345, 500.0, 4096), compute_energy(c, d2, inst, 12345, 500.0, 4096));
}

// One op on one AE against one multiply on one multiplier, one cycle each.
struct SingleUnit {
  EnergyBreakdown ae, mul;
};
SingleUnit single_unit(const EnergyTable& t) {
  ArchInstanceCounts one_ae, one_mul;
  one_ae[Component::BrslogAe] = 1;
  one_mul[Component::Fixed16Mul] = 1;
  ActionCounts ae_op, mul_op;
  ae_op[Action::AeOpSqrt2] = 1;
  mul_op[Action::Fixed16Mul] = 1;
  return {compute_energy(ae_op, t, one_ae, 1, 500.0, 1), compute_energy(mul_op, t, one_mul, 1, 500.0, 1)};
}

TEST_F(EnergyTest, SingleAeRatiosEqualTheTables) {
  const EnergyTable t = load_energy_table(write("tiny.yaml", tiny_table()));
  const SingleUnit s = single_unit(t);
  // Tiny table: AE 0.5 pJ + 2 uW x 0.002 us = 0.504 pJ; multiplier 2 pJ +
  // 4 uW x 0.002 us = 2.008 pJ; areas 100 and 200 um^2.
  EXPECT_NEAR(s.ae.total_pj, 0.504, rel(0.504));
  EXPECT_NEAR(s.mul.total_pj, 2.008, rel(2.008));
  const EnergyRatios r = energy_ratios(s.ae, s.mul);
  EXPECT_NEAR(r.energy, 0.504 / 2.008, 1e-12);
  EXPECT_NEAR(r.power, 0.504 / 2.008, 1e-12);
  EXPECT_NEAR(r.area, 0.5, 1e-12);
}

TEST_F(EnergyTest, ShippedTableReproducesThePublishedFigures) {
  const EnergyTable t = load_energy_table(default_energy_table_path());
  const SingleUnit s = single_unit(t);
  // BRSLOG.md: the AE uses 55.60% less power and is 50.42% smaller than a
  // 16-bit fixed-point multiplier.
  const EnergyRatios r = energy_ratios(s.ae, s.mul);
  EXPECT_NEAR(r.energy, 1 - 0.5560, 1e-9);
  EXPECT_NEAR(r.power, 1 - 0.5560, 1e-9);
  EXPECT_NEAR(r.area, 1 - 0.5042, 1e-9);
  // Dynamic and leakage each keep the ratio, so it holds at any activity.
  EXPECT_NEAR(t.energy(Action::AeOpSqrt2) / t.energy(Action::Fixed16Mul), 1 - 0.5560, 1e-9);
  EXPECT_NEAR(t.cost(Component::BrslogAe).leakage_uw / t.cost(Component::Fixed16Mul).leakage_uw, 1 - 0.5560, 1e-9);
  EXPECT_NEAR(t.cost(Component::BrslogAe).area_um2 / t.cost(Component::Fixed16Mul).area_um2, 1 - 0.5042, 1e-9);
  // The reconfiguration overhead: 22.96 um^2 and 2.6 uW.
  EXPECT_DOUBLE_EQ(t.cost(Component::Reconfig).area_um2, 22.96);
  EXPECT_DOUBLE_EQ(t.cost(Component::Reconfig).leakage_uw, 2.6);
}

TEST_F(EnergyTest, ShippedTableLoads) {
  const EnergyTable t = load_energy_table(default_energy_table_path());
  EXPECT_EQ(t.name, "default-45nm");
  EXPECT_EQ(t.technology_nm, 45);
  EXPECT_EQ(t.path, default_energy_table_path());
  for (Action a : all_actions()) EXPECT_TRUE(std::isfinite(t.energy(a)) && t.energy(a) > 0) << action_name(a);
  for (Component c : all_components()) EXPECT_GT(t.cost(c).area_um2, 0.0) << component_name(c);
  // Horowitz anchors and the derived numbers the table states.
  EXPECT_NEAR(t.energy(Action::Fixed16Mul), std::sqrt(0.2 * 3.1), 1e-5);  // geometric mean of 8- and 32-bit
  EXPECT_NEAR(t.energy(Action::AccAdd), 0.03 + 40 * 0.07 / 24, 1e-6);     // 48-bit add, linear in bits
  EXPECT_NEAR(t.energy(Action::WeightBufferRead), 10 * std::sqrt(8.0), 1e-4);
  EXPECT_DOUBLE_EQ(t.energy(Action::DramByte), 1950.0 / 8);
  EXPECT_NEAR(t.energy(Action::RegWrite), 0.0089325, 1e-15);                // written in fJ
  EXPECT_NEAR(t.cost(Component::PeRegisters).leakage_uw, 0.089325, 1e-15);  // written in nW
  EXPECT_NEAR(t.cost(Component::WeightBuffer).area_um2, 259148.0, 1e-6);    // written in mm^2
}

TEST_F(EnergyTest, InstanceCountsFollowTheArchitecture) {
  ArchConfig a;  // 16 x 16 BRSLog, shift 4, act 16, acc 48
  EXPECT_EQ(pe_register_bits(a), 7 + 16 + 48 + 48);
  ArchInstanceCounts n = instance_counts(a);
  EXPECT_EQ(n[Component::BrslogAe], 256u);
  EXPECT_EQ(n[Component::Fixed16Mul], 0u);
  EXPECT_EQ(n[Component::Accumulator], 256u);
  EXPECT_EQ(n[Component::PeRegisters], 256u * 119);
  EXPECT_EQ(n[Component::WeightDecoder], 16u);
  EXPECT_EQ(n[Component::Reconfig], 16u);
  EXPECT_EQ(n[Component::OutputBuffer], 1u);
  // Input stationary: the decoders sit at the rows' entries.
  ArchConfig is = a;
  is.dataflow = Dataflow::InputStationary;
  is.rows = 8;
  EXPECT_EQ(instance_counts(is)[Component::WeightDecoder], 8u);
  EXPECT_EQ(instance_counts(is)[Component::Reconfig], 8u);
  a.pe = PeType::Fixed16;
  a.rows = 8;
  EXPECT_EQ(pe_register_bits(a), 16 + 16 + 48 + 48);
  n = instance_counts(a);
  EXPECT_EQ(n[Component::BrslogAe], 0u);
  EXPECT_EQ(n[Component::Fixed16Mul], 128u);
  EXPECT_EQ(n[Component::WeightDecoder], 0u);
  EXPECT_EQ(n[Component::Reconfig], 0u);
  EXPECT_EQ(n[Component::Controller], 1u);
}

TEST_F(EnergyTest, LayersAddUp) {
  const EnergyTable t = load_energy_table(write("tiny.yaml", tiny_table()));
  ActionCounts c1 = tiny_counts(), c2;
  c2[Action::AeOpPow2] = 17;
  c2[Action::DramByte] = 3;
  const EnergyBreakdown a = compute_energy(c1, t, tiny_instances(), 1000, 500.0, 8);
  const EnergyBreakdown b = compute_energy(c2, t, tiny_instances(), 250, 500.0, 17);
  ActionCounts sum = c1;
  sum += c2;
  EXPECT_EQ(sum[Action::AeOpPow2], 21u);
  const EnergyBreakdown s = compute_energy(sum, t, tiny_instances(), 1250, 500.0, 25);
  EXPECT_NEAR(s.total_pj, a.total_pj + b.total_pj, rel(s.total_pj));
  EXPECT_NEAR(s.leakage_total_pj, a.leakage_total_pj + b.leakage_total_pj, rel(s.leakage_total_pj));
}

TEST_F(EnergyTest, CountingBugsAndBadClocksAreRefused) {
  const EnergyTable t = load_energy_table(write("tiny.yaml", tiny_table()));
  ArchConfig f;
  f.pe = PeType::Fixed16;
  ActionCounts c;
  c[Action::AeOpSqrt2] = 1;  // an AE op on a fixed16 array
  EXPECT_THROW(compute_energy(c, t, instance_counts(f), 10, 500.0, 1), std::logic_error);
  EXPECT_THROW(compute_energy(ActionCounts{}, t, tiny_instances(), 10, 0.0, 1), std::invalid_argument);
  EXPECT_THROW(compute_energy(ActionCounts{}, t, tiny_instances(), 10, NAN, 1), std::invalid_argument);
}

TEST_F(EnergyTest, CsvHasAFixedLayout) {
  const EnergyTable t = load_energy_table(write("tiny.yaml", tiny_table()));
  const EnergyBreakdown b = compute_energy(tiny_counts(), t, tiny_instances(), 1000, 500.0, 8);
  const std::string csv = energy_csv({{"conv1", b}, {"fc,2", b}});
  std::istringstream in(csv);
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  ASSERT_EQ(lines.size(), 1u + 2 * (kNumActions + kNumComponents + 1));
  EXPECT_EQ(lines[0], "layer,component,action,count,energy_pj");
  EXPECT_EQ(lines[1], "conv1,brslog_ae,ae_op_sqrt2,3,1.5");
  EXPECT_EQ(lines[kNumActions], "conv1,dram_interface,dram_byte,64,6400");
  EXPECT_EQ(lines[kNumActions + 1], "conv1,brslog_ae,leakage,4,16");
  EXPECT_EQ(lines[kNumActions + kNumComponents + 1].rfind("conv1,total,total,1000,7320.72", 0), 0u);
  EXPECT_EQ(lines[kNumActions + kNumComponents + 2], "\"fc,2\",brslog_ae,ae_op_sqrt2,3,1.5");
}

// Loading errors: each names the file (checked by expect_error) and the field.

// Buffers scale with the architecture (for_arch): access energy by
// sqrt(capacity / reference) x word bits / reference, leakage and area by
// capacity / reference; the reference SRAM is the table's (default 64 KiB,
// 64-bit words). Nothing else changes; the default architecture is the
// reference, so the shipped table's figures stand as written.
TEST_F(EnergyTest, BuffersScaleWithCapacityAndWordWidth) {
  const EnergyTable t = load_energy_table(write("tiny.yaml", tiny_table()));
  EXPECT_EQ(t.buffer_ref_bytes, 65536u);
  EXPECT_EQ(t.buffer_ref_word_bits, 64);
  const ArchConfig def;
  const EnergyTable same = for_arch(t, def);
  EXPECT_EQ(same.energy_pj, t.energy_pj);
  for (Component c : all_components()) {
    EXPECT_EQ(same.cost(c).leakage_uw, t.cost(c).leakage_uw);
    EXPECT_EQ(same.cost(c).area_um2, t.cost(c).area_um2);
  }
  ArchConfig a;
  a.weight_buffer = {4 * 65536, 128};  // 4x the cells, 2x the word: 2 x 2 per access
  a.input_buffer = {16384, 64};       // a quarter: half per access
  const EnergyTable s = for_arch(t, a);
  EXPECT_DOUBLE_EQ(s.energy(Action::WeightBufferRead), 20 * 4.0);
  EXPECT_DOUBLE_EQ(s.cost(Component::WeightBuffer).area_um2, 1000 * 4.0);
  EXPECT_DOUBLE_EQ(s.cost(Component::WeightBuffer).leakage_uw, 100 * 4.0);
  EXPECT_DOUBLE_EQ(s.energy(Action::InputBufferRead), 10 * 0.5);
  EXPECT_DOUBLE_EQ(s.cost(Component::InputBuffer).area_um2, 1000 * 0.25);
  EXPECT_DOUBLE_EQ(s.energy(Action::OutputBufferWrite), 30.0);  // the output buffer is the reference
  EXPECT_DOUBLE_EQ(s.energy(Action::DramByte), 100.0);
  EXPECT_DOUBLE_EQ(s.cost(Component::BrslogAe).area_um2, 100.0);
  // Another reference SRAM in the table: 32 KiB of 32-bit words.
  const EnergyTable r = load_energy_table(
      write("ref.yaml", replaced(tiny_table(), "technology_nm: 45\n",
                                 "technology_nm: 45\nbuffer_reference: {capacity_bytes: 32768, word_bits: 32}\n")));
  const EnergyTable rs = for_arch(r, def);  // 2x the cells, 2x the word
  EXPECT_DOUBLE_EQ(rs.energy(Action::WeightBufferRead), 20 * std::sqrt(2.0) * 2);
  EXPECT_DOUBLE_EQ(rs.cost(Component::OutputBuffer).area_um2, 2000.0);
  // Bigger buffers: more area and leakage in a run's breakdown.
  ActionCounts n;
  n[Action::WeightBufferRead] = 10;
  const EnergyBreakdown small = compute_energy(n, for_arch(t, def), instance_counts(def), 500, 500, 1);
  const EnergyBreakdown big = compute_energy(n, s, instance_counts(a), 500, 500, 1);
  EXPECT_GT(big.area_total_um2, small.area_total_um2);
  EXPECT_DOUBLE_EQ(big.action_pj[to_index(Action::WeightBufferRead)], 4 * small.action_pj[to_index(Action::WeightBufferRead)]);
}

TEST_F(EnergyTest, MalformedBufferReferenceIsRefused) {
  const std::string head = "technology_nm: 45\n";
  expect_error(replaced(tiny_table(), head, head + "buffer_reference: {capacity_bytes: 0, word_bits: 64}\n"),
               {"buffer_reference.capacity_bytes", "positive whole number"});
  expect_error(replaced(tiny_table(), head, head + "buffer_reference: {capacity_bytes: 65536, word_bits: 6.5}\n"),
               {"buffer_reference.word_bits", "whole number"});
  expect_error(replaced(tiny_table(), head, head + "buffer_reference: {capacity_bytes: 65536}\n"),
               {"buffer_reference.word_bits", "missing"});
  expect_error(replaced(tiny_table(), head, head + "buffer_reference: {capacity_bytes: 65536, word_bits: 64, banks: 2}\n"),
               {"buffer_reference.banks", "unknown key"});
}

TEST_F(EnergyTest, UnknownActionIsRefused) {
  expect_error(replaced(tiny_table(), "  toggle:", "  togle:"),
               {"actions.togle", "unknown key", "ae_op_sqrt2", "toggle", "dram_byte"});
}

TEST_F(EnergyTest, UnknownComponentIsRefused) {
  expect_error(replaced(tiny_table(), "  reconfig:", "  reconfiguration:"),
               {"components.reconfiguration", "unknown key", "brslog_ae", "reconfig"});
}

TEST_F(EnergyTest, MissingUnitIsRefused) {
  expect_error(replaced(tiny_table(), "acc_add: {energy: 0.1, unit: pJ}", "acc_add: {energy: 0.1}"),
               {"actions.acc_add.unit", "missing", "pJ"});
  expect_error(replaced(tiny_table(), "controller: {leakage: 50, leakage_unit: uW,", "controller: {leakage: 50,"),
               {"components.controller.leakage_unit", "missing"});
  expect_error(replaced(tiny_table(), ", area: 2000, area_unit: um^2}", ", area: 2000}"),
               {"components.controller.area_unit", "missing"});
}

TEST_F(EnergyTest, NegativeEnergyIsRefused) {
  expect_error(replaced(tiny_table(), "acc_add: {energy: 0.1", "acc_add: {energy: -0.1"),
               {"actions.acc_add.energy", "negative"});
  expect_error(replaced(tiny_table(), "controller: {leakage: 50", "controller: {leakage: -50"),
               {"components.controller.leakage", "negative"});
  expect_error(replaced(tiny_table(), "acc_add: {energy: 0.1", "acc_add: {energy: .inf"),
               {"actions.acc_add.energy", "finite"});
  expect_error(replaced(tiny_table(), "acc_add: {energy: 0.1", "acc_add: {energy: lots"),
               {"actions.acc_add.energy", "expected a number", "lots"});
}

TEST_F(EnergyTest, BadUnitIsRefused) {
  expect_error(replaced(tiny_table(), "unit: fJ}\n  toggle", "unit: fj}\n  toggle"),
               {"actions.reg_write.unit", "unknown unit 'fj'", "fJ, nJ, pJ"});
  expect_error(replaced(tiny_table(), "leakage: 2, leakage_unit: uW", "leakage: 2, leakage_unit: W"),
               {"components.brslog_ae.leakage_unit", "unknown unit 'W'", "mW, nW, uW"});
  expect_error(replaced(tiny_table(), "area: 100, area_unit: um^2", "area: 100, area_unit: cm^2"),
               {"components.brslog_ae.area_unit", "unknown unit 'cm^2'", "mm^2, um^2"});
}

TEST_F(EnergyTest, MissingEntriesAreRefused) {
  std::string text = tiny_table();
  const size_t at = text.find("  toggle:");
  text.erase(at, text.find('\n', at) - at + 1);
  expect_error(text, {"actions", "missing action(s): toggle"});
  text = tiny_table();
  const size_t c = text.find("  dram_interface:");
  text.erase(c, text.find('\n', c) - c + 1);
  expect_error(text, {"components", "missing component(s): dram_interface"});
  expect_error("name: x\ncomponents: {}\n", {"actions", "missing"});
}

TEST_F(EnergyTest, MalformedFilesAreRefused) {
  expect_error("actions: {ae_op_sqrt2: {energy: 1, unit: pJ}\n", {"not valid YAML"});
  expect_error("- just\n- a list\n", {"(top level)", "expected a mapping"});
  expect_error("", {"empty"});
  expect_error(replaced(tiny_table(), "technology_nm: 45", "technology_nm: 45\nvoltage: 0.9"),
               {"voltage", "unknown key", "technology_nm"});
  expect_error(replaced(tiny_table(), "  acc_add: {energy: 0.1, unit: pJ}", "  acc_add: 0.1"),
               {"actions.acc_add", "expected a mapping"});
  expect_error(replaced(tiny_table(), "  acc_add: {energy: 0.1, unit: pJ}",
                        "  acc_add: {energy: 0.1, unit: pJ}\n  acc_add: {energy: 0.2, unit: pJ}"),
               {"actions.acc_add", "duplicate"});
}

TEST_F(EnergyTest, MissingFileIsRefused) {
  const std::string p = (dir_ / "no_such_table.yaml").string();
  try {
    load_energy_table(p);
    ADD_FAILURE() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("cannot open"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace brsim
