// The cycle-accurate accelerator end to end: bit exact against the golden
// model (shipped network and random layers), cycle counts equal to the
// closed form on random shapes and array sizes, the register map over
// TLM-2.0, and bad configurations rejected.
#include <gtest/gtest.h>

#include <tlm_utils/simple_initiator_socket.h>

#include <random>

#include "accel_host.h"
#include "asan_main_stack.h"
#include "accelerator.h"
#include "errors.h"
#include "float_infer.h"
#include "idx_dataset.h"
#include "onnx_import.h"
#include "qnet.h"
#include "sc_kernel.h"
#include "synthetic_layer.h"

using namespace brsim;

namespace {

const Dataflow kDataflows[] = {Dataflow::WeightStationary, Dataflow::OutputStationary, Dataflow::InputStationary};

NetQuantOptions brslog_k(int k, PolicyKind kind = PolicyKind::BrsLog) {
  NetQuantOptions o;
  o.weights.policy.kind = kind;
  o.weights.datapath.sqrt2_terms = k;
  return o;
}

// Golden outputs of each accelerator layer for each input.
std::vector<std::vector<ActTensor>> golden_per_layer(const QuantizedNetwork& q, const AccelProgram& p,
                                                     const std::vector<std::vector<float>>& inputs,
                                                     std::vector<ActTensor>* quantized_inputs) {
  GoldenRun g = golden_run(q, p, inputs);
  *quantized_inputs = g.inputs;
  return g.expected;
}

}  // namespace

TEST(Accelerator, ShippedModelIsBitExactAndMeetsTheClosedForm) {
  auto net = std::make_shared<const Network>(import_onnx(std::string(BRSIM_DATA_DIR) + "/models/fashion_lenet.onnx"));
  const ActivationFormats f = calibrate(*net, load_idx(kFashionMnistDir, "train", 100), CalibOptions{});
  const ImageSet test = load_idx(kFashionMnistDir, "t10k", 3);
  const QuantizedNetwork q = quantize_network(net, f, brslog_k(4));
  const ArchConfig arch;
  const AccelProgram prog = compile_network(q, arch);
  ASSERT_EQ(prog.layers.size(), 4u);  // conv1+pool, conv2+pool, fc1, fc2
  std::vector<std::vector<float>> inputs;
  for (int64_t i = 0; i < test.count; ++i) inputs.push_back(image_to_input(test.image(i), 784));
  std::vector<ActTensor> qin;
  const auto expected = golden_per_layer(q, prog, inputs, &qin);
  const AccelRunResult r = run_accelerator(prog, qin, &expected);
  EXPECT_TRUE(r.bit_exact) << r.mismatch;
  EXPECT_EQ(r.images, 3u);
  EXPECT_EQ(r.tensors_compared, 12u);
  for (const LayerRunStats& l : r.layers) {
    const LayerCycles& cf = l.closed_form;
    EXPECT_EQ(l.stats.cycles.weight_load, 3 * cf.weight_load) << l.name;
    EXPECT_EQ(l.stats.cycles.compute, 3 * cf.compute) << l.name;
    EXPECT_EQ(l.stats.cycles.drain, 3 * cf.drain) << l.name;
    EXPECT_EQ(l.stats.cycles.stall, 3 * cf.stall) << l.name;
    EXPECT_EQ(l.stats.cycles.output, 3 * cf.output) << l.name;
    EXPECT_EQ(l.stats.macs, 3 * l.desc.macs()) << l.name;
  }
  // The hardware's logits pick the golden model's class.
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(r.outputs[i], expected[i].back().data);
}

TEST(Accelerator, RandomLayersAndArraysMeetTheClosedFormBitExactly) {
  std::mt19937_64 rng(4242);
  auto pick = [&](int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); };
  int cases = 0, k_below_r = 0, m_below_c = 0, one_by_one = 0, banded = 0, flows[3] = {0, 0, 0};
  for (int t = 0; t < 60; ++t) {
    LayerSpec s;
    s.name = "rand" + std::to_string(t);
    s.fc = t % 7 == 3;
    s.in_c = pick(1, 20);
    s.out_m = pick(1, 40);
    if (!s.fc) {
      s.kh = s.kw = (t % 5 == 0) ? 1 : pick(1, 5);
      s.in_h = pick(s.kh, 14);
      s.in_w = pick(s.kw, 14);
      s.stride = pick(1, 3);
      s.pad = pick(0, s.kh - 1);
    } else {
      s.in_c = pick(1, 300);
    }
    ArchConfig a;
    a.rows = static_cast<int>(pick(2, 24));
    a.cols = static_cast<int>(pick(2, 24));
    a.dram.latency_cycles = static_cast<int>(pick(0, 60));
    a.dram.bytes_per_cycle = static_cast<int>(pick(1, 32));
    if (t % 4 == 1) a.output_buffer.capacity_bytes = 4096;  // forces several output-row bands
    const bool fixed = t % 6 == 5;
    if (fixed) a.pe = PeType::Fixed16;
    a.datapath.sqrt2_terms = static_cast<int>(pick(1, 6));
    const SyntheticLayer sl = make_synthetic_layer(s, 1000 + static_cast<uint64_t>(t));
    NetQuantOptions o = brslog_k(a.datapath.sqrt2_terms, fixed ? PolicyKind::Fixed16 : PolicyKind::BrsLog);
    if (t % 3 == 2) o.weights.granularity = Granularity::Channel;
    const QuantizedNetwork q = quantize_network(sl.net, sl.formats, o);
    AccelProgram prog;
    try {
      prog = compile_network(q, a);
    } catch (const ConfigError& e) {
      continue;  // a tile that cannot fit this small buffer: rejected up front
    }
    std::vector<ActTensor> qin;
    const auto expected = golden_per_layer(q, prog, {sl.input}, &qin);
    for (Dataflow flow : kDataflows) {
      a.dataflow = flow;
      a.double_buffer_weights = t % 8 == 7 || t % 8 == 5;
      a.double_buffer_activations = t % 8 == 6 || t % 8 == 5;
      const std::string where = s.name + " on " + std::to_string(a.rows) + "x" + std::to_string(a.cols) + " " + to_string(flow);
      AccelProgram p2;
      try {
        p2 = compile_network(q, a);
      } catch (const ConfigError&) {
        continue;
      }
      const AccelRunResult r = run_accelerator(p2, qin, &expected);
      ASSERT_TRUE(r.bit_exact) << where << ": " << r.mismatch;
      const LayerRunStats& l = r.layers[0];
      ASSERT_EQ(l.stats.cycles, l.closed_form) << where << ": total " << l.stats.cycles.total() << " vs "
                                               << l.closed_form.total() << ", compute " << l.stats.cycles.compute
                                               << " vs " << l.closed_form.compute << ", stall " << l.stats.cycles.stall
                                               << " vs " << l.closed_form.stall;
      EXPECT_EQ(l.stats.macs, l.desc.macs()) << where;
      ++flows[static_cast<int>(flow)];
    }
    ++cases;
    const LayerDescriptor& desc = prog.layers[0].desc;
    k_below_r += desc.gemm_k() < static_cast<uint64_t>(a.rows);
    m_below_c += desc.gemm_m() < static_cast<uint64_t>(a.cols);
    one_by_one += desc.kh == 1 && desc.kw == 1;
    banded += make_schedule(desc, a).bands > 1;
  }
  EXPECT_GE(cases, 50);
  EXPECT_GT(k_below_r, 0);
  EXPECT_GT(m_below_c, 0);
  EXPECT_GT(one_by_one, 0);
  EXPECT_GT(banded, 0);
  for (int f : flows) EXPECT_GE(f, 50);
}

TEST(Accelerator, ScoreboardNamesTheFirstMismatch) {
  ActTensor want;
  want.c = 2, want.h = 3, want.w = 4;
  want.data.assign(24, 7);
  std::vector<int32_t> got(24, 7);
  EXPECT_EQ(first_mismatch("L", want, got), "");
  got[1 * 12 + 2 * 4 + 3] = 9;
  EXPECT_EQ(first_mismatch("L", want, got), "L: first mismatch at channel 1, row 2, column 3: hardware 9, golden 7");
}

namespace {

// A bare initiator for register-map tests.
struct RegProbe : sc_core::sc_module {
  SC_HAS_PROCESS(RegProbe);
  tlm_utils::simple_initiator_socket<RegProbe> socket{"socket"};
  tlm_utils::simple_initiator_socket<RegProbe> mem{"mem"};  // bound, unused
  std::function<void(RegProbe&)> body;
  explicit RegProbe(sc_core::sc_module_name n) : sc_module(n) { SC_THREAD(run); }
  void run() { body(*this); }
  tlm::tlm_response_status access(tlm::tlm_command cmd, uint64_t addr, uint32_t* v, unsigned len = 4) {
    tlm::tlm_generic_payload t;
    sc_core::sc_time d = sc_core::SC_ZERO_TIME;
    t.set_command(cmd);
    t.set_address(addr);
    t.set_data_ptr(reinterpret_cast<uint8_t*>(v));
    t.set_data_length(len);
    t.set_streaming_width(len);
    socket->b_transport(t, d);
    return t.get_response_status();
  }
};

}  // namespace

TEST(RegisterMap, ReadsBackWhatWasWrittenAndRejectsOutsideAccesses) {
  reset_systemc_kernel();
  {
    Accelerator acc("acc", ArchConfig{});
    RegProbe probe("probe");
    probe.socket.bind(acc.reg_socket());
    probe.mem.bind(acc.mem_socket());
    bool done = false;
    probe.body = [&](RegProbe& p) {
      uint32_t v = 0;
      EXPECT_EQ(p.access(tlm::TLM_READ_COMMAND, reg::kId, &v), tlm::TLM_OK_RESPONSE);
      EXPECT_EQ(v, reg::kIdValue);
      for (uint32_t a = reg::kLayerCfg; a < reg::kMapBytes; a += 4) {
        uint32_t w = 0xA5000000u ^ (a * 2654435761u);
        EXPECT_EQ(p.access(tlm::TLM_WRITE_COMMAND, a, &w), tlm::TLM_OK_RESPONSE);
      }
      for (uint32_t a = reg::kLayerCfg; a < reg::kMapBytes; a += 4) {
        uint32_t r = 0;
        EXPECT_EQ(p.access(tlm::TLM_READ_COMMAND, a, &r), tlm::TLM_OK_RESPONSE);
        EXPECT_EQ(r, 0xA5000000u ^ (a * 2654435761u)) << "register 0x" << std::hex << a;
      }
      uint32_t w = 1;
      EXPECT_EQ(p.access(tlm::TLM_WRITE_COMMAND, reg::kMapBytes, &w), tlm::TLM_ADDRESS_ERROR_RESPONSE);
      EXPECT_EQ(p.access(tlm::TLM_READ_COMMAND, 0x1000, &w), tlm::TLM_ADDRESS_ERROR_RESPONSE);
      EXPECT_EQ(p.access(tlm::TLM_READ_COMMAND, reg::kInC + 2, &w), tlm::TLM_ADDRESS_ERROR_RESPONSE);
      EXPECT_EQ(p.access(tlm::TLM_READ_COMMAND, reg::kInC, &w, 2), tlm::TLM_BURST_ERROR_RESPONSE);
      EXPECT_EQ(p.access(tlm::TLM_WRITE_COMMAND, reg::kId, &w), tlm::TLM_COMMAND_ERROR_RESPONSE);
      EXPECT_EQ(p.access(tlm::TLM_WRITE_COMMAND, reg::kStatus, &w), tlm::TLM_COMMAND_ERROR_RESPONSE);
      // The descriptor round-trips through the registers.
      LayerDescriptor d;
      d.in_c = 7, d.in_h = 9, d.in_w = 11, d.out_m = 13, d.kh = 3, d.kw = 5, d.stride_h = 2, d.stride_w = 1;
      d.pad_t = 1, d.pad_l = 2, d.pad_b = 0, d.pad_r = 4, d.in_addr = 0x100, d.w_addr = 0x2000, d.n2 = 6, d.p = 1;
      d.relu = true, d.pool = PoolKind::Avg, d.pool_kh = 3, d.pool_sh = 2;
      for (const auto& [a, val] : descriptor_registers(d, 5)) {
        uint32_t x = val;
        p.access(tlm::TLM_WRITE_COMMAND, a, &x);
      }
      std::array<uint32_t, reg::kMapBytes / 4> regs{};
      for (uint32_t a = 0; a < reg::kMapBytes; a += 4) p.access(tlm::TLM_READ_COMMAND, a, &regs[a / 4]);
      int k = 0;
      const LayerDescriptor back = descriptor_from_registers(regs, &k);
      EXPECT_EQ(k, 5);
      EXPECT_EQ(back.in_c, 7u);
      EXPECT_EQ(back.kw, 5u);
      EXPECT_EQ(back.pad_r, 4u);
      EXPECT_EQ(back.w_addr, 0x2000u);
      EXPECT_EQ(back.n2, 6);
      EXPECT_EQ(back.p, 1);
      EXPECT_TRUE(back.relu);
      EXPECT_EQ(back.pool, PoolKind::Avg);
      EXPECT_EQ(back.pool_kh, 3u);
      done = true;
      sc_core::sc_stop();
    };
    sc_core::sc_start();
    brsim::asan_restore_main_stack();  // back on sc_main's stack (asan_main_stack.h)
    EXPECT_TRUE(done);
  }
  reset_systemc_kernel();
}

TEST(ArchValidation, RejectsBadConfigurationsWithClearMessages) {
  auto message = [](ArchConfig a) {
    try {
      validate(a);
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  ArchConfig a;
  a.rows = 0;
  EXPECT_NE(message(a).find("invalid array rows 0"), std::string::npos);
  a = ArchConfig{};
  a.cols = -4;
  EXPECT_NE(message(a).find("invalid array cols -4"), std::string::npos);
  a = ArchConfig{};
  a.dram.bytes_per_cycle = 0;
  EXPECT_NE(message(a).find("dram.bytes_per_cycle"), std::string::npos);
  EXPECT_THROW(parse_pe_type("int8"), ConfigError);
  try {
    parse_pe_type("int8");
  } catch (const ConfigError& e) {
    EXPECT_STREQ(e.what(), "unknown PE type 'int8': expected brslog or fixed16");
  }
  // A weight tile larger than the weight buffer.
  a = ArchConfig{};
  a.rows = a.cols = 64;
  a.weight_buffer.capacity_bytes = 1024;
  LayerDescriptor d;
  d.in_c = 64, d.out_m = 64, d.fc = true;
  try {
    make_schedule(d, a);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("weight_buffer too small for one tile: a 64x64 weight tile needs 2560 bytes"),
              std::string::npos)
        << e.what();
  }
  // An input row band larger than the input buffer.
  a = ArchConfig{};
  a.input_buffer.capacity_bytes = 1024;
  d = LayerDescriptor{};
  d.in_c = 64, d.in_h = 8, d.in_w = 8, d.kh = d.kw = 3, d.out_m = 8;
  try {
    make_schedule(d, a);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("input_buffer too small for one tile"), std::string::npos) << e.what();
  }
}

TEST(AlexNetShapes, FiveConvAndThreeFcLayersAt227) {
  const std::vector<LayerSpec> l = alexnet_layers();
  ASSERT_EQ(l.size(), 8u);
  // MACs = output pixels x (C kh kw) x M, by hand from AlexNet's shapes.
  const uint64_t want[] = {55ull * 55 * 363 * 96,   27ull * 27 * 2400 * 256, 13ull * 13 * 2304 * 384,
                           13ull * 13 * 3456 * 384, 13ull * 13 * 3456 * 256, 9216ull * 4096,
                           4096ull * 4096,          4096ull * 1000};
  for (size_t i = 0; i < 8; ++i) EXPECT_EQ(l[i].macs(), want[i]) << l[i].name;
  EXPECT_EQ(want[1], 447897600u);
}

TEST(Accelerator, RandomDramBackPressureKeepsResultsExactAndShowsAsStalls) {
  std::mt19937_64 rng(99);
  for (int t = 0; t < 8; ++t) {
    LayerSpec s;
    s.name = "bp" + std::to_string(t);
    s.in_c = 3 + t, s.in_h = 9, s.in_w = 7, s.kh = s.kw = 3, s.pad = 1, s.out_m = 5 + 3 * t;
    ArchConfig a;
    a.rows = 4 + t, a.cols = 6;
    if (t % 2) a.output_buffer.capacity_bytes = 2048;  // several bands
    const SyntheticLayer sl = make_synthetic_layer(s, 500 + static_cast<uint64_t>(t));
    const QuantizedNetwork q = quantize_network(sl.net, sl.formats, brslog_k(4));
    const AccelProgram prog = compile_network(q, a);
    std::vector<ActTensor> qin;
    const auto expected = golden_per_layer(q, prog, {sl.input}, &qin);
    uint64_t extra = 0;
    const uint64_t seed = rng();
    const AccelRunResult r = run_accelerator(
        prog, qin, &expected, nullptr, true, [&](Accelerator& acc) { acc.dram.set_backpressure(seed, 37); },
        [&](Accelerator& acc) { extra = acc.dram.backpressure_cycles(); });
    ASSERT_TRUE(r.bit_exact) << r.mismatch;
    const LayerCycles& got = r.layers[0].stats.cycles;
    const LayerCycles& cf = r.layers[0].closed_form;
    EXPECT_GT(extra, 0u);
    EXPECT_EQ(got.stall, cf.stall + extra);  // every extra DRAM cycle is a stall cycle
    EXPECT_EQ(got.weight_load, cf.weight_load);
    EXPECT_EQ(got.compute, cf.compute);
    EXPECT_EQ(got.drain, cf.drain);
    EXPECT_EQ(got.output, cf.output);
  }
}

namespace {

// Every field of two layers' statistics.
void expect_same_stats(const LayerStats& a, const LayerStats& b, const std::string& what) {
  EXPECT_EQ(a.cycles, b.cycles) << what;
  const uint64_t fa[] = {a.macs, a.folds, a.array_overflows, a.output_overflows, a.requant.saturated(),
                         a.dram_bytes_read, a.dram_bytes_written, a.weight_reads, a.weight_writes, a.input_reads,
                         a.input_writes, a.output_reads, a.output_writes, a.decodes, a.ae_sqrt2, a.ae_pow2,
                         a.ae_zero, a.fixed16_muls, a.acc_adds, a.reg_write_bits, a.toggles_weight, a.toggles_act,
                         a.toggles_product, a.toggles_psum};
  const uint64_t fb[] = {b.macs, b.folds, b.array_overflows, b.output_overflows, b.requant.saturated(),
                         b.dram_bytes_read, b.dram_bytes_written, b.weight_reads, b.weight_writes, b.input_reads,
                         b.input_writes, b.output_reads, b.output_writes, b.decodes, b.ae_sqrt2, b.ae_pow2,
                         b.ae_zero, b.fixed16_muls, b.acc_adds, b.reg_write_bits, b.toggles_weight, b.toggles_act,
                         b.toggles_product, b.toggles_psum};
  for (size_t i = 0; i < sizeof fa / sizeof fa[0]; ++i) EXPECT_EQ(fa[i], fb[i]) << what << " field " << i;
}

const auto kFast = [](Accelerator& acc) { acc.array.set_fast(true); };

// A synthetic layer quantized for the activation and accumulator widths of
// `a` (the input and output formats follow A), compiled for `a`, with its
// quantized input and the golden model's layer outputs.
struct WidthLayer {
  QuantizedNetwork q;
  AccelProgram prog;
  std::vector<ActTensor> qin;
  std::vector<std::vector<ActTensor>> expected;
};

// False when the layer does not fit the configuration.
bool prepare_with_widths(const LayerSpec& s, const ArchConfig& a, uint64_t seed, WidthLayer* l) {
  const int A = a.datapath.act_bits;
  SyntheticLayer sl = make_synthetic_layer(s, seed);
  sl.formats.act_bits = A;
  sl.formats.input_frac = frac_bits_for(1.0, A);
  sl.formats.layer_frac = {frac_bits_for(sl.formats.input_range_and_layers[1], A)};
  NetQuantOptions o = brslog_k(4);
  o.weights.datapath.act_bits = A, o.weights.datapath.acc_bits = a.datapath.acc_bits;
  try {
    l->q = quantize_network(sl.net, sl.formats, o);
    l->prog = compile_network(l->q, a);
  } catch (const ConfigError&) {
    return false;
  }
  l->expected = golden_per_layer(l->q, l->prog, {sl.input}, &l->qin);
  return true;
}

}  // namespace

TEST(FastMode, ShippedModelGivesTheCycleModelsAnswers) {
  auto net = std::make_shared<const Network>(import_onnx(std::string(BRSIM_DATA_DIR) + "/models/fashion_lenet.onnx"));
  const ActivationFormats f = calibrate(*net, load_idx(kFashionMnistDir, "train", 100), CalibOptions{});
  const ImageSet test = load_idx(kFashionMnistDir, "t10k", 3);
  const QuantizedNetwork q = quantize_network(net, f, brslog_k(4));
  std::vector<std::vector<float>> inputs;
  for (int64_t i = 0; i < test.count; ++i) inputs.push_back(image_to_input(test.image(i), 784));
  for (int variant = 0; variant < 6; ++variant) {
    const Dataflow flow = kDataflows[variant % 3];
    ArchConfig arch;
    arch.dataflow = flow;
    arch.double_buffer_weights = arch.double_buffer_activations = variant >= 3;  // pooling layers too
    const AccelProgram prog = compile_network(q, arch);
    std::vector<ActTensor> qin;
    const auto expected = golden_per_layer(q, prog, inputs, &qin);
    const AccelRunResult cyc = run_accelerator(prog, qin, &expected);
    const AccelRunResult fast = run_accelerator(prog, qin, &expected, nullptr, true, kFast);
    EXPECT_TRUE(cyc.bit_exact) << to_string(flow) << ": " << cyc.mismatch;
    EXPECT_TRUE(fast.bit_exact) << to_string(flow) << ": " << fast.mismatch;
    EXPECT_EQ(fast.outputs, cyc.outputs);
    ASSERT_EQ(fast.layers.size(), cyc.layers.size());
    for (size_t l = 0; l < cyc.layers.size(); ++l) {
      expect_same_stats(fast.layers[l].stats, cyc.layers[l].stats, to_string(flow) + " " + cyc.layers[l].name);
      EXPECT_EQ(cyc.layers[l].stats.cycles.total(), 3 * cyc.layers[l].closed_form.total()) << to_string(flow);
    }
  }
}

TEST(FastMode, RandomLayersAndArraysGiveIdenticalCountsAndOutputs) {
  std::mt19937_64 rng(777);
  auto pick = [&](int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); };
  int cases = 0, flows[3] = {0, 0, 0};
  uint64_t vector_loads = 0, table_folds = 0;
  for (int t = 0; t < 60; ++t) {
    LayerSpec s;
    s.name = "fast" + std::to_string(t);
    s.fc = t % 6 == 2;
    s.in_c = s.fc ? pick(1, 200) : pick(1, 12);
    s.out_m = pick(1, 30);
    if (!s.fc) {
      s.kh = s.kw = pick(1, 4);
      s.in_h = pick(s.kh, 12), s.in_w = pick(s.kw, 12), s.stride = pick(1, 2), s.pad = pick(0, s.kh - 1);
    }
    ArchConfig a;
    a.rows = static_cast<int>(pick(2, 20)), a.cols = static_cast<int>(pick(2, 20));
    a.dram.latency_cycles = static_cast<int>(pick(0, 50)), a.dram.bytes_per_cycle = static_cast<int>(pick(1, 16));
    if (t % 5 == 4) a.pe = PeType::Fixed16;
    if (t % 4 == 1) a.output_buffer.capacity_bytes = 3072;
    a.datapath.sqrt2_terms = static_cast<int>(pick(1, 6));
    if (t % 7 == 6) a.datapath.acc_bits = 32;  // narrow accumulators: overflows in both modes
    const SyntheticLayer sl = make_synthetic_layer(s, 3000 + static_cast<uint64_t>(t));
    NetQuantOptions o = brslog_k(a.datapath.sqrt2_terms, a.pe == PeType::Fixed16 ? PolicyKind::Fixed16 : PolicyKind::BrsLog);
    o.weights.datapath.acc_bits = a.datapath.acc_bits;
    AccelProgram prog;
    QuantizedNetwork q;
    try {
      q = quantize_network(sl.net, sl.formats, o);
      prog = compile_network(q, a);
    } catch (const ConfigError&) {
      continue;
    }
    std::vector<ActTensor> qin;
    const auto expected = golden_per_layer(q, prog, {sl.input}, &qin);
    for (Dataflow flow : kDataflows) {
      a.dataflow = flow;
      a.double_buffer_weights = t % 8 == 3 || t % 8 == 4;
      a.double_buffer_activations = t % 8 == 4 || t % 8 == 6;
      AccelProgram p2;
      try {
        p2 = compile_network(q, a);
      } catch (const ConfigError&) {
        continue;
      }
      const std::string where = s.name + " on " + std::to_string(a.rows) + "x" + std::to_string(a.cols) + " " + to_string(flow);
      // Fast mode's decode per PE or in vectors, product toggles per PE or
      // from the per-row tables; the weight registers left after the run.
      std::vector<int64_t> w_cyc, w_fast;
      std::vector<DecodedWeight> d_cyc, d_fast;
      const AccelRunResult cyc = run_accelerator(p2, qin, &expected, nullptr, true, nullptr, [&](Accelerator& acc) {
        w_cyc = acc.array.weights(), d_cyc = acc.array.decoded();
      });
      const auto fast_setup = [t](Accelerator& acc) {
        acc.array.set_fast(true);
        FastTuning tune;
        tune.vector_load = t % 3 != 0;
        tune.table_reuse = t % 2 ? 0 : FastTuning{}.table_reuse;
        acc.array.fast_engine().set_tuning(tune);
      };
      const AccelRunResult fast = run_accelerator(p2, qin, &expected, nullptr, true, fast_setup, [&](Accelerator& acc) {
        w_fast = acc.array.weights(), d_fast = acc.array.decoded();
        vector_loads += acc.array.fast_engine().stats().vector_loads, table_folds += acc.array.fast_engine().stats().table_folds;
      });
      ASSERT_TRUE(cyc.bit_exact && fast.bit_exact) << where << ": " << cyc.mismatch << fast.mismatch;
      EXPECT_EQ(fast.outputs, cyc.outputs) << where;
      expect_same_stats(fast.layers[0].stats, cyc.layers[0].stats, where);
      if (flow == Dataflow::WeightStationary) {
        EXPECT_EQ(w_fast, w_cyc) << where;
        EXPECT_TRUE(d_fast == d_cyc) << where;
      }
      ++flows[static_cast<int>(flow)];
    }
    ++cases;
  }
  EXPECT_GE(cases, 50);
  for (int f : flows) EXPECT_GE(f, 50);
  EXPECT_GT(vector_loads, 100u);  // both decodes and both product-toggle counts were held against the cycle model
  EXPECT_GT(table_folds, 100u);
}

// Fast mode's 32-bit lanes, their masked (acc_bits < 32) and sign-extended
// (acc_bits > 32) toggle counts and the 64-bit fallback (when a fold's sums
// may not fit int32) against the cycle model, over activation and
// accumulator widths, with activity counting on and off.
TEST(FastMode, ActivationAndAccumulatorWidthsGiveIdenticalCounts) {
  std::mt19937_64 rng(4242);
  auto pick = [&](int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); };
  const int widths[][2] = {{6, 16}, {8, 20}, {8, 24}, {12, 28}, {16, 31}, {16, 40}, {24, 48}, {32, 64}, {20, 64}};
  int cases = 0;
  for (int t = 0; t < 27; ++t) {
    const int A = widths[t % 9][0], acc = widths[t % 9][1];
    LayerSpec s;
    s.name = "width" + std::to_string(t);
    s.fc = t % 4 == 3;
    s.in_c = s.fc ? pick(1, 120) : pick(1, 10);
    s.out_m = pick(1, 24);
    if (!s.fc) s.kh = s.kw = pick(1, 3), s.in_h = pick(s.kh, 10), s.in_w = pick(s.kw, 10), s.pad = pick(0, s.kh - 1);
    ArchConfig a;
    a.rows = static_cast<int>(pick(2, 20)), a.cols = static_cast<int>(pick(2, 20));
    a.datapath.act_bits = A, a.datapath.acc_bits = acc;
    WidthLayer wl;
    if (!prepare_with_widths(s, a, 9100 + static_cast<uint64_t>(t), &wl)) continue;
    for (Dataflow flow : kDataflows) {  // each dataflow's 32-bit lanes and their 64-bit fallbacks
      a.dataflow = flow;
      const AccelProgram p2 = compile_network(wl.q, a);
      const AccelRunResult cyc = run_accelerator(p2, wl.qin, &wl.expected);
      const AccelRunResult fast = run_accelerator(p2, wl.qin, &wl.expected, nullptr, true, kFast);
      const AccelRunResult off = run_accelerator(p2, wl.qin, &wl.expected, nullptr, false);
      const AccelRunResult fast_off = run_accelerator(p2, wl.qin, &wl.expected, nullptr, false, kFast);
      const std::string what = s.name + " A=" + std::to_string(A) + " acc=" + std::to_string(acc) + " " + to_string(flow);
      ASSERT_TRUE(cyc.bit_exact && fast.bit_exact && fast_off.bit_exact) << what;
      EXPECT_EQ(fast.outputs, cyc.outputs) << what;
      expect_same_stats(fast.layers[0].stats, cyc.layers[0].stats, what);
      expect_same_stats(fast_off.layers[0].stats, off.layers[0].stats, what + ", activity off");
    }
    ++cases;
  }
  EXPECT_GE(cases, 20);
}

// Fast mode's temporally decoupled controller sees the DRAM's back-pressure
// (annotated on each transaction's delay) exactly as the synchronized one.
// A 32-bit accumulator over 144 k-tiles: every fold fits the 32-bit lanes
// but the output buffer's accumulations wrap now and then; fast mode wraps
// and counts them where the cycle model does (the vector add of a pixel's
// outputs hands a group that leaves the range to the per-output wrap).
TEST(FastMode, OutputBufferWrapsInThe32BitStreamAsInTheCycleModel) {
  // A conv layer (16 pixels per fold) and a fully connected one (one pixel
  // per fold: the one-pass kernel, on the controller's second thread).
  for (bool fc : {false, true}) {
    LayerSpec s;
    s.name = fc ? "wraps_fc" : "wraps";
    s.fc = fc;
    s.in_c = 256, s.in_h = s.in_w = fc ? 3 : 6, s.kh = s.kw = fc ? 1 : 3, s.out_m = 16;
    ArchConfig a;
    a.datapath.acc_bits = 32;
    WidthLayer wl;
    ASSERT_TRUE(prepare_with_widths(s, a, 77, &wl)) << s.name;
    const AccelRunResult cyc = run_accelerator(wl.prog, wl.qin, &wl.expected);
    const AccelRunResult fast = run_accelerator(wl.prog, wl.qin, &wl.expected, nullptr, true, kFast);
    ASSERT_TRUE(cyc.bit_exact && fast.bit_exact) << s.name << ": " << cyc.mismatch << fast.mismatch;
    EXPECT_GT(cyc.layers[0].stats.output_overflows, 0u) << s.name;
    EXPECT_EQ(cyc.layers[0].stats.array_overflows, 0u) << s.name;
    EXPECT_EQ(fast.outputs, cyc.outputs) << s.name;
    expect_same_stats(fast.layers[0].stats, cyc.layers[0].stats, s.name + ", acc_bits 32");
  }
}

TEST(FastMode, DramBackPressureGivesTheCycleModelsStalls) {
  for (int t = 0; t < 4; ++t) {
    LayerSpec s;
    s.name = "fbp" + std::to_string(t);
    s.fc = t == 3;
    s.in_c = s.fc ? 90 : 3 + t, s.out_m = 7 + 5 * t;
    if (!s.fc) s.in_h = 9, s.in_w = 7, s.kh = s.kw = 3, s.pad = 1;
    ArchConfig a;
    a.rows = 4 + t, a.cols = 6;
    if (t % 2) a.output_buffer.capacity_bytes = 2048;  // several bands
    const SyntheticLayer sl = make_synthetic_layer(s, 800 + static_cast<uint64_t>(t));
    const QuantizedNetwork q = quantize_network(sl.net, sl.formats, brslog_k(4));
    const AccelProgram prog = compile_network(q, a);
    std::vector<ActTensor> qin;
    const auto expected = golden_per_layer(q, prog, {sl.input}, &qin);
    uint64_t extra_cyc = 0, extra_fast = 0;
    const auto bp = [&](Accelerator& acc) { acc.dram.set_backpressure(1234 + static_cast<uint64_t>(t), 37); };
    const AccelRunResult cyc = run_accelerator(prog, qin, &expected, nullptr, true, bp,
                                               [&](Accelerator& acc) { extra_cyc = acc.dram.backpressure_cycles(); });
    const AccelRunResult fast = run_accelerator(
        prog, qin, &expected, nullptr, true,
        [&](Accelerator& acc) {
          bp(acc);
          acc.array.set_fast(true);
        },
        [&](Accelerator& acc) { extra_fast = acc.dram.backpressure_cycles(); });
    ASSERT_TRUE(cyc.bit_exact && fast.bit_exact) << s.name;
    EXPECT_GT(extra_cyc, 0u);
    EXPECT_EQ(extra_fast, extra_cyc) << s.name;
    expect_same_stats(fast.layers[0].stats, cyc.layers[0].stats, s.name + " with back-pressure");
  }
}

// Fast mode's two-thread stream (PeArray::set_threads): folds split into
// pixel chunks streamed on two threads give the cycle model's and the
// single-threaded fast mode's outputs and counts, the same on every run
// whichever thread streams which chunk. Split work 0 splits every fold of
// two or more pixels; the last case splits with the default threshold.
TEST(FastMode, TwoThreadStreamGivesOneThreadsCountsOnEveryRun) {
  std::mt19937_64 rng(2468);
  auto pick = [&](int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); };
  const int widths[][2] = {{8, 48}, {8, 32}, {6, 24}, {12, 28}};
  int cases = 0;
  for (int t = 0; t < 13; ++t) {
    const bool big = t == 12;
    const int A = widths[t % 4][0], acc = widths[t % 4][1];
    LayerSpec s;
    s.name = "threads" + std::to_string(t);
    s.in_c = big ? 8 : pick(1, 10);
    s.out_m = big ? 20 : pick(1, 24);
    s.kh = s.kw = big ? 3 : pick(1, 3);
    s.in_h = big ? 26 : pick(s.kh + 2, 16), s.in_w = big ? 26 : pick(s.kw + 2, 16), s.pad = pick(0, s.kh - 1);
    ArchConfig a;
    a.rows = big ? 16 : static_cast<int>(pick(2, 20)), a.cols = big ? 16 : static_cast<int>(pick(2, 20));
    a.datapath.act_bits = A, a.datapath.acc_bits = acc;
    if (t % 3 == 1) a.output_buffer.capacity_bytes = 4096;  // several bands
    WidthLayer wl;
    if (!prepare_with_widths(s, a, 7700 + static_cast<uint64_t>(t), &wl)) continue;
    const std::string what = s.name + " on " + std::to_string(a.rows) + "x" + std::to_string(a.cols) +
                             " acc=" + std::to_string(acc);
    for (bool activity : {true, false}) {
      const AccelRunResult cyc = run_accelerator(wl.prog, wl.qin, &wl.expected, nullptr, activity);
      const AccelRunResult one = run_accelerator(wl.prog, wl.qin, &wl.expected, nullptr, activity, [](Accelerator& acc_) {
        acc_.array.set_fast(true);
        acc_.array.fast_engine().set_threads(1);
      });
      ASSERT_TRUE(cyc.bit_exact && one.bit_exact) << what;
      expect_same_stats(one.layers[0].stats, cyc.layers[0].stats, what + ", one thread");
      // Runs 0 and 1 as they come; runs 2 and 3 with the worker streaming
      // (at least) the first chunk of every split fold.
      for (int run = 0; run < 4; ++run) {
        uint64_t split = 0, worker_chunks = 0;
        const AccelRunResult two = run_accelerator(
            wl.prog, wl.qin, &wl.expected, nullptr, activity,
            [&](Accelerator& acc_) {
              acc_.array.set_fast(true);
              FastTuning tune = acc_.array.fast_engine().tuning();
              EXPECT_EQ(tune.threads, 2);  // the default
              if (!big) tune.split_work = 0;
              tune.leave_first_chunk = run >= 2;
              acc_.array.fast_engine().set_tuning(tune);
            },
            [&](Accelerator& acc_) {
              split = acc_.array.fast_engine().stats().split_folds;
              worker_chunks = acc_.array.fast_engine().stats().worker_chunks;
            });
        const std::string w = what + (activity ? "" : ", activity off") + ", two threads, run " + std::to_string(run);
        ASSERT_TRUE(two.bit_exact) << w << ": " << two.mismatch;
        EXPECT_GT(split, 0u) << w;
        if (run >= 2) {
          EXPECT_GE(worker_chunks, split) << w;
        }
        EXPECT_EQ(two.outputs, cyc.outputs) << w;
        expect_same_stats(two.layers[0].stats, cyc.layers[0].stats, w);
      }
    }
    ++cases;
  }
  EXPECT_GE(cases, 10);
}

// Fully connected layers at batch 1 (folds of one pixel): with two threads
// the controller hands full queues of folds to its second host thread and
// goes on with the DMA; every count and output is still the cycle model's.
TEST(FastMode, FoldsOnTheControllersSecondThreadGiveTheCycleModelsCounts) {
  std::mt19937_64 rng(1357);
  auto pick = [&](int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); };
  const int widths[][2] = {{8, 48}, {8, 32}, {6, 24}};
  int cases = 0;
  for (int t = 0; t < 6; ++t) {
    LayerSpec s;
    s.name = "fc" + std::to_string(t);
    s.fc = true;
    s.in_c = pick(1100, 2500), s.out_m = pick(20, 70);  // at least 69 k-tiles: full queues of 64 folds
    ArchConfig a;
    a.rows = static_cast<int>(pick(4, 16)), a.cols = static_cast<int>(pick(4, 16));
    a.datapath.act_bits = widths[t % 3][0], a.datapath.acc_bits = widths[t % 3][1];
    a.double_buffer_weights = t % 2 == 1;
    WidthLayer wl;
    if (!prepare_with_widths(s, a, 9100 + static_cast<uint64_t>(t), &wl)) continue;
    const std::string what = s.name + " " + std::to_string(s.in_c) + "->" + std::to_string(s.out_m) + " on " +
                             std::to_string(a.rows) + "x" + std::to_string(a.cols);
    for (bool activity : {true, false}) {
      const AccelRunResult cyc = run_accelerator(wl.prog, wl.qin, &wl.expected, nullptr, activity);
      uint64_t batches = 0;
      const AccelRunResult two = run_accelerator(
          wl.prog, wl.qin, &wl.expected, nullptr, activity, [](Accelerator& acc_) { acc_.array.set_fast(true); },
          [&](Accelerator& acc_) { batches = acc_.controller.runner_batches(); });
      uint64_t batches_one = 0;
      const AccelRunResult one = run_accelerator(
          wl.prog, wl.qin, &wl.expected, nullptr, activity,
          [](Accelerator& acc_) {
            acc_.array.set_fast(true);
            acc_.array.fast_engine().set_threads(1);
          },
          [&](Accelerator& acc_) { batches_one = acc_.controller.runner_batches(); });
      ASSERT_TRUE(cyc.bit_exact && two.bit_exact && one.bit_exact) << what;
      EXPECT_GT(batches, 0u) << what;
      EXPECT_EQ(batches_one, 0u) << what;
      EXPECT_EQ(two.outputs, cyc.outputs) << what;
      expect_same_stats(two.layers[0].stats, cyc.layers[0].stats, what + ", two threads");
      expect_same_stats(one.layers[0].stats, cyc.layers[0].stats, what + ", one thread");
    }
    ++cases;
  }
  EXPECT_GE(cases, 5);
}

// Fully connected layers at batch 1 on arrays whose tiles the one-pass
// kernel takes (R a multiple of 16, C of 8): decode and stream fused, the
// register bits by bytes. Narrow accumulators make some folds' products
// and sums overflow the 32-bit bound; those folds go back to the two-step
// load and the 64-bit stream. Every count as the cycle model's.
TEST(FastMode, OnePixelFoldsInOnePassGiveTheCycleModelsCounts) {
  std::mt19937_64 rng(2468);
  auto pick = [&](int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); };
  const int shapes[][2] = {{16, 16}, {16, 8}, {32, 24}, {16, 24}};
  const int widths[][2] = {{8, 48}, {12, 26}, {8, 22}, {16, 40}};
  uint64_t one_pass = 0, fallbacks = 0;
  for (int t = 0; t < 8; ++t) {
    LayerSpec s;
    s.name = "fc1pass" + std::to_string(t);
    s.fc = true;
    s.in_c = pick(200, 700), s.out_m = pick(9, 40);
    ArchConfig a;
    a.rows = shapes[t % 4][0], a.cols = shapes[t % 4][1];
    a.datapath.act_bits = widths[(t / 2) % 4][0], a.datapath.acc_bits = widths[(t / 2) % 4][1];
    a.double_buffer_weights = t % 3 == 1;
    WidthLayer wl;
    ASSERT_TRUE(prepare_with_widths(s, a, 5100 + static_cast<uint64_t>(t), &wl)) << s.name;
    const std::string what = s.name + " " + std::to_string(s.in_c) + "->" + std::to_string(s.out_m) + " on " +
                             std::to_string(a.rows) + "x" + std::to_string(a.cols) + " A=" +
                             std::to_string(a.datapath.act_bits) + " acc=" + std::to_string(a.datapath.acc_bits);
    for (bool activity : {true, false})
      for (int threads : {1, 2}) {
        const AccelRunResult cyc = run_accelerator(wl.prog, wl.qin, &wl.expected, nullptr, activity);
        const AccelRunResult fast = run_accelerator(
            wl.prog, wl.qin, &wl.expected, nullptr, activity,
            [&](Accelerator& acc_) {
              acc_.array.set_fast(true);
              acc_.array.fast_engine().set_threads(threads);
            },
            [&](Accelerator& acc_) {
              one_pass += acc_.array.fast_engine().stats().one_pass_folds;
              fallbacks += acc_.array.fast_engine().stats().one_pass_fallbacks;
            });
        ASSERT_TRUE(cyc.bit_exact && fast.bit_exact) << what;
        EXPECT_EQ(fast.outputs, cyc.outputs) << what;
        expect_same_stats(fast.layers[0].stats, cyc.layers[0].stats,
                          what + (activity ? "" : ", activity off") + ", threads " + std::to_string(threads));
      }
  }
  EXPECT_GT(one_pass, 500u);  // (828 and 168 when written)
  EXPECT_GT(fallbacks, 50u);
}

// A tile of far more than 255 x 32 codes (256 x 256, 2048 vectors of
// codes): the one-pass kernel's per-byte counts of zero and sqrt2 paths
// must not wrap. Against the per-PE decode (set_vector_load(false), which
// the other tests hold to the cycle model; the cycle model itself is slow
// on an array this size).
TEST(FastMode, OnePixelFoldsOnALargeArrayGiveThePerPeDecodesCounts) {
  LayerSpec s;
  s.name = "fc_large";
  s.fc = true;
  s.in_c = 600, s.out_m = 300;
  ArchConfig a;
  a.rows = a.cols = 256;
  a.datapath.act_bits = 8;  // sums of 256 products within 32 bits
  WidthLayer wl;
  ASSERT_TRUE(prepare_with_widths(s, a, 5200, &wl)) << s.name;
  uint64_t one_pass = 0, per_pe_one_pass = 0;
  const AccelRunResult fast = run_accelerator(wl.prog, wl.qin, &wl.expected, nullptr, true, kFast,
                                              [&](Accelerator& acc_) { one_pass = acc_.array.fast_engine().stats().one_pass_folds; });
  const AccelRunResult per_pe = run_accelerator(
      wl.prog, wl.qin, &wl.expected, nullptr, true,
      [](Accelerator& acc_) {
        acc_.array.set_fast(true);
        FastTuning tune;
        tune.vector_load = false;
        acc_.array.fast_engine().set_tuning(tune);
      },
      [&](Accelerator& acc_) { per_pe_one_pass = acc_.array.fast_engine().stats().one_pass_folds; });
  ASSERT_TRUE(fast.bit_exact && per_pe.bit_exact) << s.name;
  EXPECT_GT(one_pass, 0u);
  EXPECT_EQ(per_pe_one_pass, 0u);
  EXPECT_EQ(fast.outputs, per_pe.outputs);
  expect_same_stats(fast.layers[0].stats, per_pe.layers[0].stats, s.name + " on 256x256");
}

// Every weight serves every pixel once whatever the dataflow: the useful AE
// operations by path (zero-gated, base-2, sqrt2) and the MACs of a layer are
// the same in ws, os and is (each dataflow counts them its own way: ws per
// fold from the decoded tile, os and is once per weight load).
TEST(FastMode, UsefulAeOperationsAreTheSameInEveryDataflow) {
  std::mt19937_64 rng(8642);
  auto pick = [&](int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); };
  for (int t = 0; t < 6; ++t) {
    LayerSpec s;
    s.name = "ae" + std::to_string(t);
    s.fc = t % 3 == 2;
    s.in_c = s.fc ? pick(40, 300) : pick(2, 12);
    s.out_m = pick(5, 40);
    if (!s.fc) s.kh = s.kw = pick(1, 3), s.in_h = pick(s.kh, 12), s.in_w = pick(s.kw, 12), s.pad = pick(0, s.kh - 1);
    ArchConfig a;
    a.rows = static_cast<int>(pick(4, 16)), a.cols = static_cast<int>(pick(4, 16));
    WidthLayer wl;
    ASSERT_TRUE(prepare_with_widths(s, a, 7300 + static_cast<uint64_t>(t), &wl)) << s.name;
    LayerStats ws;
    for (Dataflow flow : kDataflows) {
      a.dataflow = flow;
      const AccelRunResult r = run_accelerator(compile_network(wl.q, a), wl.qin, &wl.expected, nullptr, true, kFast);
      ASSERT_TRUE(r.bit_exact) << s.name << " " << to_string(flow);
      const LayerStats& st = r.layers[0].stats;
      if (flow == Dataflow::WeightStationary) {
        ws = st;
        EXPECT_GT(st.ae_pow2 + st.ae_sqrt2, 0u) << s.name;
        continue;
      }
      EXPECT_EQ(st.macs, ws.macs) << s.name << " " << to_string(flow);
      EXPECT_EQ(st.ae_zero, ws.ae_zero) << s.name << " " << to_string(flow);
      EXPECT_EQ(st.ae_pow2, ws.ae_pow2) << s.name << " " << to_string(flow);
      EXPECT_EQ(st.ae_sqrt2, ws.ae_sqrt2) << s.name << " " << to_string(flow);
    }
  }
}

TEST(Sram, CountsWordsOfItsWidthAndRefusesOverCapacity) {
  Sram s("input_buffer", BufferConfig{1024, 64});
  s.read_bits(64);   // one word
  s.read_bits(65);   // two words
  s.write_bits(16);  // a partial word is a word
  s.write_words(3);
  EXPECT_EQ(s.counters().reads, 3u);
  EXPECT_EQ(s.counters().writes, 4u);
  s.occupy(1000);
  EXPECT_EQ(s.counters().peak_bytes, 1000u);
  try {
    s.occupy(1025);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_STREQ(e.what(), "input_buffer too small: needs 1025 bytes, capacity_bytes is 1024");
  }
  Sram wide("output_buffer", BufferConfig{4096, 256});
  wide.read_bits(48 * 5);  // five 48-bit partial sums in one 256-bit word
  EXPECT_EQ(wide.counters().reads, 1u);
}

TEST(DoubleBufferedWeights, MeetTheClosedFormAndHideWeightLoads) {
  std::mt19937_64 rng(31337);
  auto pick = [&](int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); };
  int cases = 0;
  for (int t = 0; t < 30; ++t) {
    LayerSpec s;
    s.name = "db" + std::to_string(t);
    s.fc = t % 5 == 1;
    s.in_c = s.fc ? pick(20, 300) : pick(2, 16);
    s.out_m = pick(1, 40);
    if (!s.fc) {
      s.kh = s.kw = pick(1, 3), s.in_h = pick(4, 12), s.in_w = pick(4, 12), s.pad = pick(0, s.kh - 1);
    }
    ArchConfig a;
    a.rows = static_cast<int>(pick(2, 16)), a.cols = static_cast<int>(pick(2, 16));
    a.dram.latency_cycles = static_cast<int>(pick(0, 80)), a.dram.bytes_per_cycle = static_cast<int>(pick(1, 32));
    if (t % 3 == 2) a.output_buffer.capacity_bytes = 3072;
    const SyntheticLayer sl = make_synthetic_layer(s, 7000 + static_cast<uint64_t>(t));
    const QuantizedNetwork q = quantize_network(sl.net, sl.formats, brslog_k(4));
    ArchConfig db = a;
    db.double_buffer_weights = true;
    AccelProgram ps, pd;
    try {
      ps = compile_network(q, a);
      pd = compile_network(q, db);
    } catch (const ConfigError&) {
      continue;
    }
    std::vector<ActTensor> qin;
    const auto expected = golden_per_layer(q, pd, {sl.input}, &qin);
    const AccelRunResult rs = run_accelerator(ps, qin, &expected);
    const AccelRunResult rd = run_accelerator(pd, qin, &expected);
    const AccelRunResult rf = run_accelerator(pd, qin, &expected, nullptr, true, kFast);
    ASSERT_TRUE(rs.bit_exact && rd.bit_exact && rf.bit_exact) << s.name;
    EXPECT_EQ(rd.layers[0].stats.cycles, rd.layers[0].closed_form) << s.name;
    expect_same_stats(rf.layers[0].stats, rd.layers[0].stats, s.name + " fast vs cycle, double buffered");
    // Same work, same traffic; only the waiting differs, and never for the worse.
    EXPECT_EQ(rd.layers[0].stats.dram_bytes_read, rs.layers[0].stats.dram_bytes_read);
    EXPECT_EQ(rd.layers[0].stats.cycles.compute, rs.layers[0].stats.cycles.compute);
    EXPECT_LE(rd.layers[0].stats.cycles.stall, rs.layers[0].stats.cycles.stall) << s.name;
    ++cases;
  }
  EXPECT_GE(cases, 20);
}

TEST(MemoryStalls, RiseAsBandwidthFallsAndWeightLoadsHideWhenItIsAmple) {
  LayerSpec s;
  s.in_c = 32, s.in_h = 10, s.in_w = 10, s.kh = s.kw = 3, s.pad = 1, s.out_m = 32;
  const SyntheticLayer sl = make_synthetic_layer(s, 11);
  const QuantizedNetwork q = quantize_network(sl.net, sl.formats, brslog_k(4));
  uint64_t previous = ~0ull;
  for (int bw : {1, 2, 4, 8, 16, 64, 256, 4096}) {
    ArchConfig a;
    a.rows = a.cols = 8;
    a.dram.latency_cycles = 40;
    a.dram.bytes_per_cycle = bw;
    a.double_buffer_weights = true;
    const LayerDescriptor d = compile_network(q, a).layers[0].desc;
    const LayerCycles c = closed_form(d, a);
    EXPECT_LE(c.stall, previous) << bw << " B/cycle";
    if (bw < 64) {
      EXPECT_LT(c.stall, previous) << bw << " B/cycle";
    }
    previous = c.stall;
    if (bw == 4096) {
      // Every weight tile but the first arrives during the previous fold: the
      // stalls left are the serial transfers (parameters, input bands, first
      // tile, outputs), each latency + 1 cycle at this bandwidth.
      ArchConfig serial = a;
      serial.double_buffer_weights = false;
      const Schedule sc = make_schedule(d, a);
      const uint64_t folds = sc.m_tiles * sc.bands * sc.k_tiles;
      EXPECT_EQ(closed_form(d, serial).stall - c.stall, (folds - 1) * (40 + 1));
    }
  }
}

// Double-buffered weights and activations, every dataflow: stalls fall as
// bandwidth rises, and with ample bandwidth the only stalls left are the
// layer's first fetches (parameters, first input band, first weight load)
// and its last write-back; every other transfer hides behind the folds.
TEST(MemoryStalls, NoneButTheFirstFetchAndLastWriteWhenDoubleBufferedWithAmpleBandwidth) {
  {
    LayerSpec s;
    s.name = "conv";
    s.in_c = 12, s.in_h = 12, s.in_w = 12, s.kh = s.kw = 3, s.pad = 1, s.out_m = 20;
    const SyntheticLayer sl = make_synthetic_layer(s, 5);
    const QuantizedNetwork q = quantize_network(sl.net, sl.formats, brslog_k(4));
    for (Dataflow flow : kDataflows) {
      uint64_t previous = ~0ull;
      for (int bw : {1, 2, 4, 16, 64, 4096}) {
        ArchConfig a;
        a.rows = a.cols = 8;
        a.dataflow = flow;
        a.dram.latency_cycles = 20;
        a.dram.bytes_per_cycle = bw;
        a.double_buffer_weights = a.double_buffer_activations = true;
        a.output_buffer.capacity_bytes = 6144;  // several bands
        const AccelProgram prog = compile_network(q, a);
        const LayerDescriptor& d = prog.layers[0].desc;
        const Schedule sc = make_schedule(d, a);
        ASSERT_GT(sc.bands, 1u);
        const std::string where = s.name + " " + to_string(flow) + " " + std::to_string(bw) + " B/cycle";
        std::vector<ActTensor> qin;
        const auto expected = golden_per_layer(q, prog, {sl.input}, &qin);
        const AccelRunResult r = run_accelerator(prog, qin, &expected);
        ASSERT_TRUE(r.bit_exact) << where << ": " << r.mismatch;
        const LayerCycles& c = r.layers[0].stats.cycles;
        ASSERT_EQ(c, closed_form(d, a)) << where;
        EXPECT_LT(c.stall, previous) << where;
        previous = c.stall;
        if (bw != 4096) continue;
        // Requests on a channel are pipelined: the latency once, then each
        // request's data cycles. First the parameters and the first input band
        // (issued together), then the first weight load; last the final write.
        const uint64_t L = 20;
        auto data = [&](uint64_t bytes) { return dram_cycles(bytes, a.dram) - L; };
        auto data_all = [&](const std::vector<Chunk>& chunks) {
          uint64_t n = 0;
          for (const Chunk& ch : chunks) n += data(ch.bytes);
          return n;
        };
        uint32_t y0, y1;
        band_input_rows(d, 0, sc.band_rows, &y0, &y1);
        const uint64_t first = L + data(sc.tile_cols(0) * kParamBytes) + data_all(input_band_chunks(d, a, y0, y1)) + L +
                               data_all(weight_load_chunks(d, sc, a, 0, 0));  // is: one transfer per array m-tile
        const uint64_t mt = sc.m_tiles - 1, m0 = sc.m0(mt), n = sc.tile_cols(mt);
        const uint32_t oh = d.out_h(), last0 = (sc.bands - 1) * sc.band_rows;
        const uint64_t last =
            L + data_all(output_chunks(d.out_addr, oh, d.out_w(), static_cast<uint32_t>(m0), static_cast<uint32_t>(n), last0, oh, a));
        EXPECT_EQ(c.stall, first + last) << where;
        // Serially the same layer stalls for every transfer.
        ArchConfig serial = a;
        serial.double_buffer_weights = serial.double_buffer_activations = false;
        EXPECT_GT(closed_form(d, serial).stall, 3 * c.stall) << where;
      }
    }
  }
}

// Buffer capacities limit the run: smaller input and output buffers give
// shorter bands, so input halo rows and every weight tile are fetched again
// per band: more DRAM traffic and more stall cycles, in every dataflow.
TEST(MemoryStalls, SmallerBuffersMeanMoreBandsTrafficAndStalls) {
  LayerSpec s;
  s.in_c = 16, s.in_h = s.in_w = 16, s.kh = s.kw = 3, s.pad = 1, s.out_m = 24;
  const SyntheticLayer sl = make_synthetic_layer(s, 9);
  const QuantizedNetwork q = quantize_network(sl.net, sl.formats, brslog_k(4));
  for (Dataflow flow : kDataflows) {
    uint64_t bands = 0, bytes = 0, stall = 0;
    for (uint64_t kib : {64, 8, 4}) {
      ArchConfig a;
      a.rows = a.cols = 8;
      a.dataflow = flow;
      a.input_buffer.capacity_bytes = a.output_buffer.capacity_bytes = kib * 1024;
      const AccelProgram prog = compile_network(q, a);
      std::vector<ActTensor> qin;
      const auto expected = golden_per_layer(q, prog, {sl.input}, &qin);
      const AccelRunResult r = run_accelerator(prog, qin, &expected);
      const std::string where = to_string(flow) + " " + std::to_string(kib) + " KiB";
      ASSERT_TRUE(r.bit_exact) << where << ": " << r.mismatch;
      const LayerStats& st = r.layers[0].stats;
      ASSERT_EQ(st.cycles, r.layers[0].closed_form) << where;
      const uint64_t b = make_schedule(prog.layers[0].desc, a).bands;
      EXPECT_GT(b, bands) << where;
      EXPECT_GT(st.dram_bytes_read, bytes) << where;
      EXPECT_GT(st.cycles.stall, stall) << where;
      bands = b, bytes = st.dram_bytes_read, stall = st.cycles.stall;
    }
  }
}

// docs/cycle-model.md's example in every dataflow, by the fold table: 10x10x20 -> 24,
// 3x3 (P = 64, K = 180, M = 24) on 16x16: 2 m-tiles (is: one m-range), 12 k-tiles, one band.
// Also what each dataflow reads and decodes: every weight comes from DRAM
// once per band; ws decodes each weight once, os once per R pixels, is once
// per C pixels.
TEST(Dataflows, FoldTableOnTheDocumentedExample) {
  LayerSpec s;
  s.name = "example";
  s.in_c = 20, s.in_h = s.in_w = 10, s.kh = s.kw = 3, s.out_m = 24;
  const SyntheticLayer sl = make_synthetic_layer(s, 1);
  const QuantizedNetwork q = quantize_network(sl.net, sl.formats, brslog_k(4));
  struct Want {
    Dataflow flow;
    uint64_t load, compute, drain, decodes, total;
  };
  const uint64_t P = 64, K = 180, M = 24, R = 16, C = 16;
  const Want want[] = {
      {Dataflow::WeightStationary, 2 * 12 * R, 2 * 12 * P, 2 * 12 * (R + C - 1), K * M, 6678},
      {Dataflow::OutputStationary, 0, 2 * (P / R) * K, 2 * (P / R) * (R + C - 1 + R), K * M * (P / R), 3630},
      // is: one m-range of all 24 filters, each fold streaming them (M + R + C - 1 edges).
      {Dataflow::InputStationary, 12 * (P / C) * R, 12 * (P / C) * M, 12 * (P / C) * (R + C - 1), K * M * (P / C), 6872},
  };
  for (const Want& w : want) {
    ArchConfig a;
    a.dataflow = w.flow;
    const AccelProgram prog = compile_network(q, a);
    const Schedule sc = make_schedule(prog.layers[0].desc, a);
    ASSERT_EQ(sc.bands, 1u);
    EXPECT_EQ(sc.loads, w.flow == Dataflow::OutputStationary ? 1u : 12u);
    std::vector<ActTensor> qin;
    const auto expected = golden_per_layer(q, prog, {sl.input}, &qin);
    const AccelRunResult r = run_accelerator(prog, qin, &expected);
    ASSERT_TRUE(r.bit_exact) << to_string(w.flow) << ": " << r.mismatch;
    const LayerStats& st = r.layers[0].stats;
    EXPECT_EQ(st.cycles.weight_load, w.load) << to_string(w.flow);
    EXPECT_EQ(st.cycles.compute, w.compute) << to_string(w.flow);
    EXPECT_EQ(st.cycles.drain, w.drain) << to_string(w.flow);
    EXPECT_EQ(st.cycles.output, 2 * P) << to_string(w.flow);
    EXPECT_EQ(st.cycles.total(), w.total) << to_string(w.flow);
    EXPECT_EQ(st.cycles, closed_form(prog.layers[0].desc, a)) << to_string(w.flow);
    EXPECT_EQ(st.decodes, w.decodes) << to_string(w.flow);
    EXPECT_EQ(st.macs, P * K * M);
    // DRAM reads: parameters, the input band once per m-tile (is: once), every weight tile once.
    EXPECT_EQ(sc.m_tiles, w.flow == Dataflow::InputStationary ? 1u : 2u);
    EXPECT_EQ(st.dram_bytes_read, M * kParamBytes + sc.m_tiles * (20 * 10 * 10 * 2) + weight_bytes(prog.layers[0].desc, a));
  }
}
