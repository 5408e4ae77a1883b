// Tiling as a user meets it (docs/tiling.md): a run below the smallest tile
// fails before calibration and quantization (in well under a second) with
// status 2, naming the layer, the buffer, the bytes and the smallest
// capacity that works; a layer that needs strips and chunks runs, and
// layers.csv and summary.json show its schedule.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli_runner.h"
#include "temp_dir.h"

namespace {

double timed(const std::string& args, CliResult* r) {
  const auto t0 = std::chrono::steady_clock::now();
  *r = run_brsim(args);
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

std::string slurp(const std::string& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

}  // namespace

// The shipped model's conv1 needs 16 partial sums of 6 bytes per output
// pixel; a 64-byte output buffer cannot hold them. Calibration and
// quantization alone take longer than the whole refusal.
TEST(TilingCli, ADoomedRunFailsBeforeQuantization) {
  const brsim_test::TempDir tmp("tiling");
  const std::string arch = tmp.write("tiny.yaml", "buffers:\n  output: {capacity_bytes: 64}\n");
  CliResult r;
  const double s = timed("run --images 1 --arch " + arch, &r);
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_LT(s, 1.0) << r.out;
  EXPECT_NE(r.out.find("fashion_lenet.onnx: layer '/conv1/Conv': "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("output_buffer too small for one tile"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("the smallest tile (one output pixel) needs 96 bytes (16 partial sums of 6 bytes), "
                       "capacity_bytes is 64; the smallest output_buffer that works is 96 bytes"),
            std::string::npos)
      << r.out;
  EXPECT_EQ(r.out.find("calibrat"), std::string::npos) << r.out;
  // brsim layer checks every layer before the first one runs: AlexNet's fc6
  // (9216 inputs) on a 16x16 array needs no more than conv1, but conv1's
  // 11x11 window over 3 channels needs 2 x 11 x 11 x 2 bytes of input.
  const std::string in = tmp.write("in.yaml", "buffers:\n  input: {capacity_bytes: 400}\n");
  const double s2 = timed("layer --network alexnet --mode fast --arch " + in, &r);
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_LT(s2, 1.0) << r.out;
  EXPECT_NE(r.out.find("layer 'conv1': input_buffer too small for one tile"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("the smallest input_buffer that works is 484 bytes"), std::string::npos) << r.out;
}

// A batch whose activations do not fit the DRAM is refused from the shapes,
// before any weight is drawn or quantized and before the passes of the batch
// are planned: with the number of bytes the compiled program would occupy
// (AlexNet's conv1: its weights and parameters, then two regions of 256
// images of its 96 x 55 x 55 output).
TEST(TilingCli, ABatchBeyondTheDramFailsBeforeQuantization) {
  CliResult r;
  const double s = timed("layer --network alexnet --mode fast --batch 256", &r);
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_LT(s, 1.0) << r.out;
  EXPECT_NE(r.out.find("layer 'conv1': needs 297392960 bytes of DRAM (with the activations of a batch of 256 "
                       "images); dram.size_bytes is 268435456"),
            std::string::npos)
      << r.out;
}

// 32x32x16 -> 8, 3x3 on a 512-byte input buffer: one output row of every
// channel's three input rows needs 16 x 3 x 32 x 2 = 3072 bytes, so the
// rows are cut into input-channel chunks; the run is bit exact and its
// cycles are the closed form's.
TEST(TilingCli, ASmallInputBufferRunsInChunks) {
  const brsim_test::TempDir tmp("tiling");
  const std::string arch = tmp.write("small.yaml", "buffers:\n  input: {capacity_bytes: 512}\n");
  const CliResult r = run_brsim("layer --ifmap 32x32 --kernel 3x3 --channels 16 --filters 8 --format json --out " +
                                tmp.path() + "/out --arch " + arch);
  ASSERT_EQ(r.status, 0) << r.out;
  const nlohmann::json l = nlohmann::json::parse(r.out.substr(0, r.out.rfind("results:")))["layers"][0];
  EXPECT_EQ(l["cycles"]["total"], l["closed_form_cycles"]);
  EXPECT_GT(l["schedule"]["chunks"].get<int>(), 1) << l["schedule"];
  const std::string csv = slurp(tmp.path() + "/out/layers.csv");
  EXPECT_NE(csv.find(",bands,strips,chunks,pool_by_rows,spill,dram_psum_bytes_read,dram_psum_bytes_written\n"),
            std::string::npos)
      << csv;
  const std::string row = csv.substr(csv.find('\n') + 1);
  const std::string tail = "," + std::to_string(l["schedule"]["bands"].get<int>()) + "," +
                           std::to_string(l["schedule"]["strips"].get<int>()) + "," +
                           std::to_string(l["schedule"]["chunks"].get<int>()) + ",0,0,0,0\n";  // no spilling
  EXPECT_EQ(row.substr(row.size() - tail.size()), tail) << row;
}
