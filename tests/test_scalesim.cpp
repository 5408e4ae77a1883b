// brsim's cycle model against SCALE-Sim v2's closed form (docs/dataflows.md
// "Validation against SCALE-Sim"): with buffers that hold a whole layer
// (one band, one os strip, one is m-range: what SCALE-Sim assumes), every
// dataflow has SCALE-Sim's folds, and each brsim fold takes exactly one
// cycle more than SCALE-Sim's (after os's R-edge accumulator shift-out,
// which SCALE-Sim does not count). Held on random shapes and on the
// topologies of data/topologies/ (AlexNet, ResNet-18, MobileNet and the
// shipped LeNet) on 16x16 and 32x32; BRSIM_SCALESIM_TABLE=file writes the
// table of docs/dataflows.md.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "layer_plan.h"

using namespace brsim;

namespace {

uint64_t ceil_div(uint64_t a, uint64_t b) { return (a + b - 1) / b; }

// SCALE-Sim v2 (scalesim/compute/systolic_compute_{ws,os,is}.py): the
// operand matrices are Sr x T and T x Sc; a fold maps an R x C block of
// Sr x Sc, and its demand matrices last
//   ws (Sr = K, Sc = M, T = P), is (Sr = K, Sc = P, T = M): 2R + C + T - 2
//   os (Sr = P, Sc = M, T = K):                             R + C + T - 2
// cycles (R fill of the stationary operand, T streamed, R + C - 2 skew).
struct ScaleSim {
  uint64_t folds = 0, cycles = 0;
};
ScaleSim scalesim(Dataflow f, uint64_t R, uint64_t C, uint64_t P, uint64_t K, uint64_t M) {
  uint64_t Sr = K, Sc = M, T = P, fill = R;
  if (f == Dataflow::OutputStationary) Sr = P, Sc = M, T = K, fill = 0;
  if (f == Dataflow::InputStationary) Sr = K, Sc = P, T = M;
  ScaleSim s;
  s.folds = ceil_div(Sr, R) * ceil_div(Sc, C);
  s.cycles = s.folds * (fill + R + C + T - 2);
  return s;
}

// An architecture whose buffers hold any of these layers whole.
ArchConfig ample(Dataflow f, int R, int C) {
  ArchConfig a;
  a.rows = R, a.cols = C, a.dataflow = f;
  a.weight_buffer.capacity_bytes = a.input_buffer.capacity_bytes = a.output_buffer.capacity_bytes = uint64_t{1} << 30;
  return a;
}

LayerDescriptor conv(uint32_t h, uint32_t w, uint32_t kh, uint32_t kw, uint32_t c, uint32_t m, uint32_t s) {
  LayerDescriptor d;
  d.fc = h == 1 && w == 1 && kh == 1 && kw == 1;
  d.in_c = c, d.in_h = h, d.in_w = w, d.out_m = m, d.kh = kh, d.kw = kw, d.stride_h = d.stride_w = s;
  d.n2 = 2, d.p = 1;
  return d;
}

// brsim's folds and array cycles (stationary load, stream, skew, os shift-out) of a layer.
struct Brsim {
  uint64_t folds = 0, cycles = 0, shift_out = 0;
};
Brsim brsim_cycles(const LayerDescriptor& d, const ArchConfig& a) {
  const LayerPlan plan(d, a);
  const Schedule& s = plan.s;
  Brsim b;
  for (uint32_t band = 0; band < s.bands; ++band)
    b.folds += s.m_tiles * s.loads * ceil_div(plan.band_pixels(band), s.pixel_tile(plan.band_pixels(band)));
  const LayerCycles c = closed_form(d, a);
  b.cycles = c.weight_load + c.compute + c.drain;
  if (a.dataflow == Dataflow::OutputStationary) b.shift_out = b.folds * static_cast<uint64_t>(a.rows);
  return b;
}

struct Topology {
  std::string name, file;
};
const Topology kTopologies[] = {{"AlexNet", "alexnet.csv"},
                                {"ResNet-18", "resnet18.csv"},
                                {"MobileNet", "mobilenet.csv"},
                                {"fashion LeNet", "fashion_lenet.csv"}};

std::vector<std::pair<std::string, LayerDescriptor>> load_topology(const std::string& file) {
  std::ifstream in(std::string(BRSIM_DATA_DIR) + "/topologies/" + file);
  EXPECT_TRUE(in) << file;
  std::vector<std::pair<std::string, LayerDescriptor>> out;
  std::string line;
  bool header = true;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    if (header) {
      header = false;
      continue;
    }
    std::stringstream ss(line);
    std::string name, f;
    std::getline(ss, name, ',');
    uint32_t v[7];
    for (uint32_t& x : v) {
      std::getline(ss, f, ',');
      x = static_cast<uint32_t>(std::stoul(f));
    }
    out.push_back({name, conv(v[0], v[1], v[2], v[3], v[4], v[5], v[6])});
  }
  return out;
}

const Dataflow kFlows[] = {Dataflow::WeightStationary, Dataflow::OutputStationary, Dataflow::InputStationary};

}  // namespace

TEST(ScaleSim, EveryDataflowIsOneCyclePerFoldAboveItOnRandomShapes) {
  std::mt19937_64 rng(15);
  auto pick = [&](uint32_t lo, uint32_t hi) { return std::uniform_int_distribution<uint32_t>(lo, hi)(rng); };
  for (int t = 0; t < 300; ++t) {
    const uint32_t k = pick(1, 7), h = pick(k, 40), w = pick(k, 40);
    const LayerDescriptor d = t % 9 == 4 ? conv(1, 1, 1, 1, pick(1, 2000), pick(1, 1200), 1)
                                         : conv(h, w, k, k, pick(1, 80), pick(1, 200), pick(1, 3));
    const int R = static_cast<int>(pick(2, 64)), C = static_cast<int>(pick(2, 64));
    for (Dataflow f : kFlows) {
      const ArchConfig a = ample(f, R, C);
      const ScaleSim ss = scalesim(f, static_cast<uint64_t>(R), static_cast<uint64_t>(C), d.gemm_p(), d.gemm_k(), d.gemm_m());
      const Brsim b = brsim_cycles(d, a);
      const std::string where = "P K M " + std::to_string(d.gemm_p()) + " " + std::to_string(d.gemm_k()) + " " +
                                std::to_string(d.gemm_m()) + " on " + std::to_string(R) + "x" + std::to_string(C) + " " +
                                to_string(f);
      ASSERT_EQ(b.folds, ss.folds) << where;
      ASSERT_EQ(b.cycles - b.shift_out, ss.cycles + b.folds) << where;
    }
  }
}

TEST(ScaleSim, TopologiesOn16x16And32x32MatchFoldForFold) {
  const char* table = std::getenv("BRSIM_SCALESIM_TABLE");
  std::ostringstream md;
  md << "| network | array | dataflow | folds | SCALE-Sim v2 | brsim array cycles | os shift-out | difference |\n"
     << "|---|---|---|---:|---:|---:|---:|---:|\n";
  for (const Topology& topo : kTopologies) {
    const auto layers = load_topology(topo.file);
    ASSERT_FALSE(layers.empty()) << topo.file;
    for (int n : {16, 32})
      for (Dataflow f : kFlows) {
        uint64_t folds = 0, ss_total = 0, b_total = 0, shift = 0;
        for (const auto& [name, d] : layers) {
          const ArchConfig a = ample(f, n, n);
          const ScaleSim ss = scalesim(f, static_cast<uint64_t>(n), static_cast<uint64_t>(n), d.gemm_p(), d.gemm_k(), d.gemm_m());
          const Brsim b = brsim_cycles(d, a);
          ASSERT_EQ(b.folds, ss.folds) << topo.name << " " << name << " " << to_string(f);
          ASSERT_EQ(b.cycles - b.shift_out - ss.cycles, b.folds) << topo.name << " " << name << " " << to_string(f);
          folds += b.folds, ss_total += ss.cycles, b_total += b.cycles, shift += b.shift_out;
        }
        md << "| " << topo.name << " | " << n << "x" << n << " | " << to_string(f) << " | " << folds << " | " << ss_total
           << " | " << b_total << " | " << shift << " | +" << (b_total - shift - ss_total) << " |\n";
      }
  }
  if (table) std::ofstream(table) << md.str();
}
