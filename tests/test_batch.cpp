// Batches (docs/cycle-model.md "Batches"): N images go through each layer
// together, the weights loaded once per batch. The closed form, the cycle
// model and fast mode agree on every counter for random layers in every
// dataflow with batches 1-8; a batch's outputs equal those of N batch-1
// runs, image by image; fully connected layers take fewer cycles per image
// as the batch grows (weight reuse), by the closed form.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <cstdio>
#include <random>

#include "accel_case.h"
#include "cli_runner.h"
#include "idx_dataset.h"
#include "onnx_import.h"
#include "layer_plan.h"
#include "registers.h"
#include "tiling.h"

using namespace brsim;
using namespace brsim_test;

namespace {


// The layer's descriptor as compiled for `a`, programmed for `batch` images.
LayerDescriptor descriptor(const LayerCase& c, const ArchConfig& a, uint32_t batch) {
  LayerDescriptor d = compile_network(c.q, a).layers[0].desc;
  d.batch = batch;
  return d;
}

}  // namespace

// 90 random small layers (conv and FC, some with fused pooling), batches
// 1-8, every dataflow, some on buffers between the smallest tile of the
// batch and a few times it (so that some run in passes of fewer images):
// one batch of N images, bit exact per image, the cycle model's cycles
// equal to the closed form and every counter equal in cycle and fast mode
// (run_cycle_and_fast), and never more cycles than N batch-1 runs.
TEST(Batch, RandomLayersMeetTheClosedFormInEveryDataflow) {
  std::mt19937_64 rng(15);
  int runs = 0, small = 0, tiled = 0, passes = 0;
  for (int t = 0; t < 90; ++t) {
    int pool = 0;
    LayerSpec s = random_layer(rng, t, RandomLayerBounds{}, &pool);
    s.name = "b" + std::to_string(t);
    ArchConfig a;
    a.rows = static_cast<int>(pick(rng, 2, 8));
    a.cols = static_cast<int>(pick(rng, 2, 8));
    a.dataflow = kDataflows[t % 3];
    a.batch = 1 + (t / 3) % 8;
    a.dram.latency_cycles = static_cast<int>(pick(rng, 0, 30));
    a.dram.bytes_per_cycle = static_cast<int>(pick(rng, 1, 16));
    a.double_buffer_weights = t % 5 == 1;
    a.double_buffer_activations = t % 7 == 4;
    LayerCase c = batch_case(s, 900 + static_cast<uint64_t>(t), a, a.batch, pool);
    if (t % 2 == 1) {  // buffers from the batch's smallest tile to a few times it
      const LayerDescriptor d = descriptor(c, a, static_cast<uint32_t>(a.batch));
      const uint64_t in_min = tile_input_bytes(d, a, 1, 1, 1);
      const uint64_t out_min = tile_output_bytes(d, a, static_cast<uint64_t>(a.cols), 1, 1, d.pool != PoolKind::None);
      a.input_buffer.capacity_bytes = smallest_buffer_capacity(pick(rng, in_min, 4 * in_min));
      a.output_buffer.capacity_bytes = smallest_buffer_capacity(pick(rng, out_min, 3 * out_min));
      ++small;
    }
    const Schedule sc = make_schedule(descriptor(c, a, static_cast<uint32_t>(a.batch)), a);
    tiled += sc.bands > 1 || sc.strips > 1 || sc.chunks > 1;
    passes += sc.passes > 1;
    const std::string where = s.name + " (" + std::to_string(s.in_c) + "x" + std::to_string(s.in_h) + "x" +
                              std::to_string(s.in_w) + " -> " + std::to_string(s.out_m) + (s.fc ? " fc" : "") +
                              ", pool " + std::to_string(pool) + ") on " + std::to_string(a.rows) + "x" +
                              std::to_string(a.cols) + " " + to_string(a.dataflow) + ", batch " +
                              std::to_string(a.batch);
    const LayerStats st = run_cycle_and_fast(c, a, where);
    EXPECT_EQ(st.macs, descriptor(c, a, 1).macs() * static_cast<uint64_t>(a.batch)) << where;
    // Never more cycles than its images one at a time (passes of one image are a candidate).
    ArchConfig a1 = a;
    a1.batch = 1;
    EXPECT_LE(st.cycles.total(), closed_form(descriptor(c, a1, 1), a1).total() * static_cast<uint64_t>(a.batch)) << where;
    if (::testing::Test::HasFailure()) return;
    ++runs;
  }
  EXPECT_EQ(runs, 90);
  EXPECT_GT(small, 40);
  EXPECT_GT(tiled, 10);
  EXPECT_GT(passes, 0);
  std::printf("%d of 90 layers tiled, %d in several passes\n", tiled, passes);
}

// A batch's outputs are those of its images run one at a time, bit for
// bit, in every dataflow; 7 images in batches of 3 run as 3 + 3 + 1 (the
// last batch programmed for one image), and their cycles are the closed
// form of two full batches and one of one image.
TEST(Batch, OutputsEqualBatchOneRunsImageByImage) {
  struct Shape {
    LayerSpec s;
    int pool;
  };
  std::vector<Shape> shapes(3);
  shapes[0].s.in_c = 3, shapes[0].s.in_h = shapes[0].s.in_w = 8, shapes[0].s.kh = shapes[0].s.kw = 3;
  shapes[0].s.pad = 1, shapes[0].s.out_m = 11, shapes[0].pool = 1;
  shapes[1].s.fc = true, shapes[1].s.in_c = 50, shapes[1].s.out_m = 21, shapes[1].pool = 0;
  shapes[2].s.in_c = 5, shapes[2].s.in_h = 7, shapes[2].s.in_w = 9, shapes[2].s.kh = shapes[2].s.kw = 2;
  shapes[2].s.stride = 2, shapes[2].s.out_m = 6, shapes[2].pool = 0;
  for (size_t k = 0; k < shapes.size(); ++k) {
    for (Dataflow f : kDataflows) {
      ArchConfig a1;
      a1.rows = 8, a1.cols = 4, a1.dataflow = f;
      ArchConfig a3 = a1;
      a3.batch = 3;
      const LayerCase c = batch_case(shapes[k].s, 40 + k, a3, 7, shapes[k].pool);
      const std::string where = "shape " + std::to_string(k) + " " + to_string(f);
      const AccelRunResult one = run_accelerator(compile_network(c.q, a1), c.qin, &c.expected);
      const AccelRunResult three = run_accelerator(compile_network(c.q, a3), c.qin, &c.expected);
      const AccelRunResult fast = run_accelerator(compile_network(c.q, a3), c.qin, &c.expected, nullptr, true, kFast);
      EXPECT_TRUE(one.bit_exact && three.bit_exact && fast.bit_exact) << where;
      ASSERT_EQ(three.outputs.size(), 7u) << where;
      EXPECT_EQ(three.outputs, one.outputs) << where;
      EXPECT_EQ(fast.outputs, one.outputs) << where;
      EXPECT_EQ(three.tensors_compared, 7u) << where;
      const LayerRunStats& l = three.layers[0];
      EXPECT_EQ(l.images, 7u) << where;
      EXPECT_EQ(l.batches, 3u) << where;
      EXPECT_EQ(l.stats.cycles.total(), 2 * closed_form(descriptor(c, a3, 3), a3).total() +
                                            closed_form(descriptor(c, a3, 1), a3).total())
          << where;
      EXPECT_EQ(l.stats.macs, one.layers[0].stats.macs) << where;
      expect_same_stats(fast.layers[0].stats, l.stats, where);
    }
  }
}

// A fully connected layer streams one pixel per fold at batch 1; a batch
// of N streams N pixels through the same weight tile. By the closed form:
// the weight loads, drains, folds and weight transfers of a batch are those
// of one image, the compute N times one image's, so cycles per image fall
// strictly with N; the cycle model (both modes) meets it for N = 1..8.
TEST(Batch, FullyConnectedCyclesPerImageFallWithTheBatch) {
  LayerSpec s;
  s.name = "fc";
  s.fc = true, s.in_c = 200, s.out_m = 40;
  for (Dataflow f : kDataflows) {
    ArchConfig a;
    a.dataflow = f;
    a.batch = 8;
    const LayerCase c8 = batch_case(s, 3, a, 8);
    const LayerDescriptor d1 = descriptor(c8, a, 1);
    ArchConfig a1 = a;
    a1.batch = 1;
    const LayerCycles one = closed_form(d1, a1);
    double last = 1e300;
    for (int n = 1; n <= 8; ++n) {
      ArchConfig an = a;
      an.batch = n;
      const LayerDescriptor dn = descriptor(c8, an, static_cast<uint32_t>(n));
      const LayerCycles cf = closed_form(dn, an);
      const std::string where = to_string(f) + " batch " + std::to_string(n);
      if (f == Dataflow::WeightStationary) {
        EXPECT_EQ(cf.weight_load, one.weight_load) << where;  // weights loaded once per batch
        EXPECT_EQ(cf.drain, one.drain) << where;
        EXPECT_EQ(cf.compute, one.compute * static_cast<uint64_t>(n)) << where;
      }
      const double per_image = static_cast<double>(cf.total()) / n;
      EXPECT_LT(per_image, last) << where;
      last = per_image;
      LayerCase cn = c8;  // the first n images
      cn.qin.resize(static_cast<size_t>(n));
      cn.expected.resize(static_cast<size_t>(n));
      const LayerStats st = run_cycle_and_fast(cn, an, where);
      EXPECT_EQ(st.cycles, cf) << where;
      // The weights cross DRAM once per batch whatever N.
      const AccelRunResult r1 = run_accelerator(compile_network(c8.q, a1), {c8.qin[0]}, nullptr, nullptr, false);
      EXPECT_EQ(st.folds, r1.layers[0].stats.folds) << where;
      EXPECT_EQ(st.decodes, r1.layers[0].stats.decodes) << where;
    }
  }
}

// Convolutions stream N x P pixels per weight tile: with buffers that hold
// the batch's bands (the default 64 KiB), a weight-stationary batch loads
// each weight tile once, and its weight transfers are those of one image.
TEST(Batch, ConvolutionLoadsEachWeightTileOncePerBatch) {
  LayerSpec s;
  s.in_c = 6, s.in_h = s.in_w = 10, s.kh = s.kw = 3, s.out_m = 20;
  ArchConfig a;
  a.batch = 4;
  const LayerCase c = batch_case(s, 8, a, 4);
  ArchConfig a1 = a;
  a1.batch = 1;
  const LayerDescriptor d1 = descriptor(c, a1, 1), d4 = descriptor(c, a, 4);
  const Schedule s1 = make_schedule(d1, a1), s4 = make_schedule(d4, a);
  ASSERT_EQ(s1.bands, 1u);
  ASSERT_EQ(s4.bands, 1u);
  const LayerCycles one = closed_form(d1, a1), four = closed_form(d4, a);
  EXPECT_EQ(four.weight_load, one.weight_load);
  EXPECT_EQ(four.drain, one.drain);
  EXPECT_EQ(four.compute, 4 * one.compute);
  EXPECT_EQ(four.output, 4 * one.output);
  const LayerStats st = run_cycle_and_fast(c, a, "conv batch 4");
  EXPECT_EQ(st.cycles, four);
  LayerCase c1 = c;
  c1.qin.resize(1), c1.expected.resize(1);
  const LayerStats st1 = run_cycle_and_fast(c1, a1, "conv batch 1");
  EXPECT_EQ(st.folds, st1.folds);
  EXPECT_EQ(st.weight_writes, st1.weight_writes);  // weight buffer fills: once per batch
  EXPECT_EQ(st.macs, 4 * st1.macs);
}

// The register map carries the batch (BATCH: images - 1 in bits 7:0) and
// the images' strides (IN_STRIDE, OUT_STRIDE; 0: packed).
TEST(Batch, RegistersCarryTheBatch) {
  LayerDescriptor d;
  d.batch = 256, d.in_image_stride = 4096, d.out_image_stride = 640;
  int k = 4;
  RegisterFile regs{};
  for (const auto& [addr, value] : descriptor_registers(d, k)) regs[addr / 4] = value;
  EXPECT_EQ(regs[reg::kBatch / 4], 255u);
  const LayerDescriptor back = descriptor_from_registers(regs, &k);
  EXPECT_EQ(back.batch, 256u);
  EXPECT_EQ(back.in_image_stride, 4096u);
  EXPECT_EQ(back.out_image_stride, 640u);
  regs = RegisterFile{};  // the reset values: one image, packed
  const LayerDescriptor reset = descriptor_from_registers(regs, &k);
  EXPECT_EQ(reset.batch, 1u);
  EXPECT_EQ(reset.in_image_stride, 0u);
  EXPECT_EQ(reset.out_image_stride, 0u);
  // Packed: an image's own bytes apart.
  LayerDescriptor p;
  p.in_c = 3, p.in_h = 5, p.in_w = 7, p.out_m = 4;
  EXPECT_EQ(p.in_image_step(2), 3u * 5 * 7 * 2);
  EXPECT_EQ(p.out_image_step(2), 4u * 5 * 7 * 2);
}

// The command line: --batch and batch: in the architecture file, the
// per-batch report fields, and a refusal out of range.
TEST(BatchCli, LayerReportsPerImageAndPerBatch) {
  const CliResult r = run_brsim("layer --fc --ifmap 1x1 --channels 300 --filters 40 --batch 4 --mode fast --format json");
  ASSERT_EQ(r.status, 0) << r.out;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["arch"]["batch"], 4);
  const nlohmann::json& l = j["layers"][0];
  EXPECT_EQ(l["images"], 4);
  EXPECT_EQ(l["batch"]["images_per_batch"], 4);
  EXPECT_EQ(l["batch"]["batches"], 1);
  EXPECT_EQ(l["batch"]["cycles_per_batch"], l["closed_form_cycles"]);
  EXPECT_EQ(l["batch"]["cycles_per_batch"].get<uint64_t>() / 4, l["cycles"]["total"].get<uint64_t>());
  EXPECT_EQ(l["batch"]["macs_per_batch"].get<uint64_t>(), 4u * l["macs"].get<uint64_t>());
  EXPECT_EQ(j["totals"]["batch"], 4);
  EXPECT_EQ(j["totals"]["cycles_per_batch"], l["batch"]["cycles_per_batch"]);
  // Batch 1 reports no batch fields (the reports stay as they were).
  const CliResult r1 = run_brsim("layer --fc --ifmap 1x1 --channels 300 --filters 40 --mode fast --format json");
  ASSERT_EQ(r1.status, 0) << r1.out;
  const nlohmann::json j1 = nlohmann::json::parse(r1.out);
  EXPECT_FALSE(j1["arch"].contains("batch"));
  EXPECT_FALSE(j1["layers"][0].contains("batch"));
  EXPECT_LT(l["cycles"]["total"].get<uint64_t>(), j1["layers"][0]["cycles"]["total"].get<uint64_t>());
}

TEST(BatchCli, ArchitectureFileKeyAndRefusal) {
  const std::string dir = ::testing::TempDir() + "brsim_batch_cli";
  std::filesystem::create_directories(dir);
  const std::string arch = dir + "/batch3.yaml", bad = dir + "/batch0.yaml";
  std::ofstream(arch) << "batch: 3\n";
  std::ofstream(bad) << "batch: 0\n";
  const CliResult r = run_brsim("layer --ifmap 6x6 --channels 2 --filters 5 --arch " + arch + " --out " + dir + "/res");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("cycles/batch"), std::string::npos) << r.out;
  std::ifstream csv(dir + "/res/layers.csv");
  std::string head;
  std::getline(csv, head);
  EXPECT_NE(head.find(",batch,batches,cycles_per_batch,macs_per_batch,dram_bytes_read_per_batch,"
                      "dram_bytes_written_per_batch"),
            std::string::npos)
      << head;
  std::ifstream cfg(dir + "/res/config.yaml");
  const std::string config((std::istreambuf_iterator<char>(cfg)), std::istreambuf_iterator<char>());
  EXPECT_NE(config.find("batch: 3\n"), std::string::npos) << config;
  const CliResult no = run_brsim("layer --ifmap 6x6 --channels 2 --filters 5 --arch " + bad);
  EXPECT_EQ(no.status, 2);
  EXPECT_NE(no.out.find(bad + ": invalid batch 0: expected an integer in [1, 256] images"), std::string::npos) << no.out;
  const CliResult over = run_brsim("layer --ifmap 6x6 --channels 2 --filters 5 --batch 300");
  EXPECT_EQ(over.status, 2);
  EXPECT_NE(over.out.find("invalid --batch 300: expected an integer in [1, 256] images"), std::string::npos) << over.out;
}

// `brsim run --images 6 --batch 4`: two batches, the last of 2 images,
// every image's layer outputs checked.
TEST(BatchCli, RunsAPartialLastBatch) {
  const CliResult r = run_brsim("run --images 6 --batch 4 --mode fast --format json --out " + ::testing::TempDir() +
                                "brsim_batch_run");
  ASSERT_EQ(r.status, 0) << r.out;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["arch"]["batch"], 4);
  EXPECT_EQ(j["accuracy"]["bit_exact"], true);
  EXPECT_EQ(j["accuracy"]["tensors_compared"], 6 * j["layers"].size());
  for (const nlohmann::json& l : j["layers"]) {
    EXPECT_EQ(l["images"], 6) << l["name"];
    EXPECT_EQ(l["batch"]["batches"], 2) << l["name"];
    EXPECT_EQ(l["batch"]["macs_per_batch"].get<uint64_t>(), 3 * l["macs"].get<uint64_t>()) << l["name"];
  }
}

// A graph network (the shipped residual model: depthwise and grouped convs
// as one GEMM per group, residual adds and pooling on the vector unit)
// in batches of 3: 7 images give the outputs of 7 batch-1 runs, bit exact
// against the golden model image by image; each group reads and writes
// its channel slice of every image (IN_STRIDE, OUT_STRIDE), each vector
// step runs once per image.
TEST(Batch, GraphNetworkBatchesEqualBatchOneRuns) {
  auto net = std::make_shared<const Network>(import_onnx(std::string(BRSIM_DATA_DIR) + "/models/fashion_dsresnet.onnx"));
  ASSERT_FALSE(net->is_chain());
  const QuantizedNetwork q =
      quantize_network(net, calibrate(*net, load_idx(kFashionMnistDir, "train", 20), CalibOptions{}), brslog_k(4));
  const ImageSet test = load_idx(kFashionMnistDir, "t10k", 7);
  std::vector<std::vector<float>> xs;
  for (int64_t i = 0; i < test.count; ++i) xs.push_back(image_to_input(test.image(i), net->input.numel()));
  ArchConfig a1, a3;
  a3.batch = 3;
  const AccelProgram p1 = compile_network(q, a1), p3 = compile_network(q, a3);
  const GoldenRun g = golden_run(q, p3, xs);
  const AccelRunResult one = run_accelerator(p1, g.inputs, &g.expected, nullptr, true, kFast);
  const AccelRunResult three = run_accelerator(p3, g.inputs, &g.expected, nullptr, true, kFast);
  EXPECT_TRUE(one.bit_exact) << one.mismatch;
  EXPECT_TRUE(three.bit_exact) << three.mismatch;
  EXPECT_EQ(three.outputs, one.outputs);
  EXPECT_EQ(three.tensors_compared, one.tensors_compared);
  bool grouped = false, vector = false;
  for (size_t i = 0; i < three.layers.size(); ++i) {
    const LayerRunStats& l = three.layers[i];
    EXPECT_EQ(l.images, 7u) << l.name;
    EXPECT_EQ(l.batches, 3u) << l.name;
    EXPECT_EQ(l.stats.macs, one.layers[i].stats.macs) << l.name;
    grouped |= l.groups > 1, vector |= l.vector;
    if (l.vector) {
      EXPECT_EQ(l.stats.cycles, one.layers[i].stats.cycles) << l.name;  // per image either way
    }
  }
  EXPECT_TRUE(grouped);
  EXPECT_TRUE(vector);
}
