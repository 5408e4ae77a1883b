// `brsim sweep`: grid expansion (order, fixed16 collapse, dedupe), the
// Pareto flags on a hand-made set, malformed sweep files naming the field,
// and, through the binary, a small grid's rows, failing points, determinism,
// and shard + merge giving the unsharded CSV byte for byte.
#include <gtest/gtest.h>

#include "temp_dir.h"
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli_runner.h"
#include "errors.h"
#include "sweep.h"

namespace fs = std::filesystem;
using namespace brsim;

namespace {

// A fresh folder per test (tests/temp_dir.h).
using brsim_test::read_file;
using brsim_test::TempDir;

std::string write(const std::string& dir, const std::string& name, const std::string& text) {
  const std::string p = dir + "/" + name;
  std::ofstream(p) << text;
  return p;
}

// RFC 4180 rows (quoted cells may hold commas).
std::vector<std::vector<std::string>> csv(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    std::vector<std::string> cells{""};
    bool quoted = false;
    for (size_t i = 0; i < line.size(); ++i) {
      const char c = line[i];
      if (quoted && c == '"' && i + 1 < line.size() && line[i + 1] == '"') cells.back() += '"', ++i;
      else if (c == '"') quoted = !quoted;
      else if (c == ',' && !quoted) cells.emplace_back();
      else cells.back() += c;
    }
    rows.push_back(cells);
  }
  return rows;
}

std::map<std::string, std::string> row_map(const std::vector<std::string>& head, const std::vector<std::string>& row) {
  std::map<std::string, std::string> m;
  for (size_t i = 0; i < head.size() && i < row.size(); ++i) m[head[i]] = row[i];
  return m;
}

const char* kTinyLayer = "workload: {layer: {ifmap: 8x8, kernel: 3x3, channels: 4, filters: 6}}\n";

std::string load_error(const std::string& dir, const std::string& yaml) {
  const std::string p = write(dir, "bad.yaml", yaml);
  try {
    load_sweep(p);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(accepted)";
}

}  // namespace

TEST(SweepExpand, GridOrderFixed16CollapseAndDedupe) {
  const TempDir tmp("expand");
  const std::string& d = tmp.path();
  const SweepSpec s = load_sweep(write(d, "s.yaml", std::string("name: e\n") + kTinyLayer + R"(
grid:
  dram_bytes_per_cycle: [8, 16]      # order in the file does not matter
  bits: [4, 5]
  pe: [brslog, fixed16]
  policy: [brslog, fixed16, log2]
points:
  - {bits: 4, dram_bytes_per_cycle: 8}                # = grid point 0
  - {array: 8x4, pe: fixed16}
)"));
  // brslog: bits x {brslog, log2} x dram = 8; fixed16: one per dram = 2; then one new point.
  ASSERT_EQ(s.points.size(), 11u);
  std::vector<std::string> got;
  for (const SweepPoint& p : s.points) {
    const std::vector<std::string> c = point_params(p);
    got.push_back(c[2] + "/" + c[4] + "/" + c[5] + "/" + c[6] + "/" + c[10]);  // pe/bits/K/policy/dram
    EXPECT_EQ(p.index, static_cast<int>(got.size()) - 1);
  }
  const std::vector<std::string> want = {
      "brslog/4/4/brslog/8",    "brslog/4/4/brslog/16",    "brslog/4/4/log2/8", "brslog/4/4/log2/16",
      "brslog/5/4/brslog/8",    "brslog/5/4/brslog/16",    "brslog/5/4/log2/8", "brslog/5/4/log2/16",
      "fixed16/16//fixed16/8",  "fixed16/16//fixed16/16", "fixed16/16//fixed16/16"};
  EXPECT_EQ(got, want);
  EXPECT_EQ(s.points[10].arch.rows, 8);
  EXPECT_EQ(s.points[10].arch.cols, 4);
  EXPECT_EQ(s.hash.size(), 16u);
  EXPECT_EQ(sweep_csv_header(),
            "point,status,error,rows,cols,pe,dataflow,bits,sqrt2_terms,policy,weight_buffer_kib,input_buffer_kib,"
            "output_buffer_kib,dram_bytes_per_cycle,dram_latency_cycles,clock_mhz,double_buffer_weights,double_buffer_activations,batch,cycles_per_image,latency_us,"
            "energy_pj_per_image,pj_per_mac,avg_power_mw,area_um2,utilization,macs_per_image,top1,pareto");
}

TEST(SweepExpand, RowsAndColsMakeAProduct) {
  const TempDir tmp("rowscols");
  const SweepSpec s = load_sweep(write(tmp.path(), "s.yaml", std::string(kTinyLayer) + "grid: {cols: [4, 8], rows: [2, 3]}\n"));
  std::vector<std::string> got;
  for (const SweepPoint& p : s.points) got.push_back(std::to_string(p.arch.rows) + "x" + std::to_string(p.arch.cols));
  EXPECT_EQ(got, (std::vector<std::string>{"2x4", "2x8", "3x4", "3x8"}));
  EXPECT_EQ(s.name, "s");  // the file's stem when no name is given
}

TEST(SweepPareto, HandMadeSetWithTiesAndDuplicates) {
  const std::vector<Objectives> pts = {
      {1, 10, 5},  // 0: fastest
      {2, 5, 5},   // 1: dominated by 5 (same latency and area, more energy)
      {2, 4, 5},   // 2: optimal, equal to 5 -> both optimal
      {3, 3, 1},   // 3: optimal (smallest area)
      {4, 4, 2},   // 4: dominated by 3 in all three
      {2, 4, 5},   // 5: duplicate of 2
      {1, 10, 6},  // 6: dominated by 0 (tie in latency and energy, larger area)
      {9, 1, 9},   // 7: optimal (least energy)
  };
  const std::vector<bool> want = {true, false, true, true, false, true, false, true};
  EXPECT_EQ(pareto_flags(pts), want);
  EXPECT_TRUE(pareto_flags({}).empty());
  EXPECT_EQ(pareto_flags({{1, 1, 1}}), std::vector<bool>{true});
}

TEST(SweepFile, MalformedFilesNameTheField) {
  const TempDir tmp("bad");
  const std::string& d = tmp.path();
  const std::string w = kTinyLayer;
  const std::vector<std::pair<std::string, std::string>> cases = {
      {w + "grid: {array: [8x8]}\nthreads: 4\n", "field 'threads': unknown key"},
      {w + "grid: {arrays: [8x8]}\n", "field 'grid.arrays': unknown key"},
      {w + "grid: {array: [8x8, 16by16]}\n", "field 'grid.array[1]': expected a ROWSxCOLS string"},
      {w + "grid: {array: 16x16}\n", "field 'grid.array': expected a non-empty list of ROWSxCOLS strings"},
      {w + "grid: {}\n", "field 'grid': empty"},
      {w + "grid: {bits: []}\n", "field 'grid.bits': expected a non-empty list"},
      {w + "grid: {dram_bytes_per_cycle: [8, -16]}\n", "field 'grid.dram_bytes_per_cycle[1]': expected a positive integer"},
      {w + "grid: {weight_buffer_kib: [0]}\n", "field 'grid.weight_buffer_kib[0]': expected a positive size in KiB"},
      {w + "grid: {pe: [brslog, int8]}\n", "field 'grid.pe[1]': unknown PE type 'int8'"},
      {w + "grid: {policy: [brslog, log3]}\n", "field 'grid.policy[1]'"},
      {w + "grid: {bits: [five]}\n", "field 'grid.bits[0]': expected a positive integer"},
      {w + "points: [{array: 8x8, colour: red}]\n", "field 'points[0].colour': unknown key"},
      {w + "points: [{pe: brslog, policy: fixed16}]\n", "field 'points[0].policy': policy fixed16 runs only on pe fixed16"},
      {w + "grid: {policy: [fixed16]}\n", "field 'grid': expands to no runnable point"},
      {w, "field 'grid': missing"},
      {"grid: {bits: [4]}\n", "field 'workload': missing"},
      {"workload: {network: vgg}\ngrid: {bits: [4]}\n", "field 'workload.network': expected alexnet"},
      {"workload: {layer: {ifmap: 8x8, channels: 4}}\ngrid: {bits: [4]}\n", "field 'workload.layer.filters': missing"},
      {"workload: {network: alexnet, images: 3}\ngrid: {bits: [4]}\n", "field 'workload.images': only with workload.model"},
      {"workload: {model: nowhere.onnx}\ngrid: {bits: [4]}\n", "field 'workload.model': no file 'nowhere.onnx'"},
      {w + "grid: {bits: [4]}\nseed: -1\n", "field 'seed': expected a non-negative integer"},
      {w + "grid: {bits: [4]}\nname: ../up\n", "field 'name': expected letters, digits"},
      {w + "grid: {bits: [4]}\nmode: turbo\n", "field 'mode': expected fast or cycle"},
      {w + "grid: {array: [8x8], cols: [4]}\n", "field 'grid.cols': give either array (ROWSxCOLS) or rows and cols"},
      {w + "grid: {rows: [0]}\n", "field 'grid.rows[0]': expected a positive integer"},
  };
  for (const auto& [yaml, want] : cases) {
    const std::string e = load_error(d, yaml);
    EXPECT_NE(e.find("bad.yaml: " + want), std::string::npos) << "for:\n" << yaml << "got: " << e;
  }
}

TEST(SweepFile, ShardSpecIsValidated) {
  EXPECT_EQ(parse_shard("0/8").index, 0);
  EXPECT_EQ(parse_shard("7/8").count, 8);
  for (const char* bad : {"8/8", "1/0", "-1/4", "1", "a/b", "1/2/3", "/4", "2/"})
    EXPECT_THROW(parse_shard(bad), ConfigError) << bad;
}

TEST(SweepRun, SmallGridGivesOneOkRowPerPointWithTheRequestedParameters) {
  const TempDir tmp("grid");
  const std::string& d = tmp.path();
  const std::string f = write(d, "grid.yaml", std::string("name: grid\n") + kTinyLayer + R"(
grid:
  array: [4x4, 8x4]
  pe: [brslog, fixed16]
  bits: [4, 5]
  dram_bytes_per_cycle: [8, 16]
  weight_buffer_kib: [32]
)");
  const CliResult r = run_brsim("sweep " + f + " -j 2 --out " + d + "/out");
  ASSERT_EQ(r.status, 0) << r.out;
  const auto rows = csv(read_file(d + "/out/sweep.csv"));
  ASSERT_EQ(rows.size(), 1u + 12u);  // brslog 2 x 2 x 2, fixed16 2 x 2
  const std::vector<std::string>& head = rows[0];
  int pareto = 0;
  for (size_t i = 1; i < rows.size(); ++i) {
    auto m = row_map(head, rows[i]);
    EXPECT_EQ(m["point"], std::to_string(i - 1));
    EXPECT_EQ(m["status"], "ok") << m["error"];
    EXPECT_EQ(m["weight_buffer_kib"], "32");
    EXPECT_EQ(m["input_buffer_kib"], "64");  // the base architecture's
    EXPECT_GT(std::stod(m["cycles_per_image"]), 0);
    EXPECT_GT(std::stod(m["energy_pj_per_image"]), 0);
    EXPECT_GT(std::stod(m["area_um2"]), 0);
    EXPECT_EQ(m["macs_per_image"], "7776");  // 6x6 outputs x 6 filters x 36
    EXPECT_EQ(m["top1"], "");
    pareto += m["pareto"] == "1";
  }
  EXPECT_GE(pareto, 1);
  auto p0 = row_map(head, rows[1]), p5 = row_map(head, rows[6]), p11 = row_map(head, rows[12]);
  EXPECT_EQ(p0["rows"] + "x" + p0["cols"] + " " + p0["pe"] + " " + p0["bits"] + " " + p0["dram_bytes_per_cycle"],
            "4x4 brslog 4 8");
  EXPECT_EQ(p5["rows"] + "x" + p5["cols"] + " " + p5["pe"] + " " + p5["bits"] + " " + p5["dram_bytes_per_cycle"],
            "4x4 fixed16 16 16");
  EXPECT_EQ(p11["rows"] + "x" + p11["cols"] + " " + p11["pe"] + " " + p11["policy"], "8x4 fixed16 fixed16");
  // Every point shares the sweep's quantizer search folder.
  EXPECT_NE(read_file(d + "/out/points/0001/command.txt").find("--quant-cache " + d + "/out/quant_cache"), std::string::npos)
      << read_file(d + "/out/points/0001/command.txt");
  // The arch.yaml of a point holds its parameters; the plots are SVG.
  const std::string arch = read_file(d + "/out/points/0001/arch.yaml");
  EXPECT_NE(arch.find("bytes_per_cycle: 16"), std::string::npos) << arch;
  EXPECT_NE(arch.find("weight: {capacity_bytes: 32768"), std::string::npos) << arch;
  for (const char* svg : {"energy_vs_latency.svg", "utilization_per_layer.svg"}) {
    const std::string t = read_file(d + "/out/" + svg);
    EXPECT_EQ(t.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0), 0u) << svg;
    EXPECT_NE(t.find("</svg>"), std::string::npos) << svg;
  }
  EXPECT_NE(read_file(d + "/out/energy_vs_latency.svg").find("Pareto-optimal"), std::string::npos);
}

TEST(SweepRun, FailingPointsGetTheirReasonAndTheSweepGoesOn) {
  const TempDir tmp("fail");
  const std::string& d = tmp.path();
  const std::string f = write(d, "fail.yaml", std::string("name: fail\n") + kTinyLayer + R"(
grid:
  array: [4x4]
  bits: [4, 7]                     # 7-bit codes need a 5-bit shift field
points:
  - {array: 512x512}               # a 512x512 weight tile does not fit 64 KiB
)");
  const CliResult r = run_brsim("sweep " + f + " -j 2 --out " + d + "/out");
  ASSERT_EQ(r.status, 0) << r.out;
  const auto rows = csv(read_file(d + "/out/sweep.csv"));
  ASSERT_EQ(rows.size(), 4u);
  auto ok = row_map(rows[0], rows[1]), bits = row_map(rows[0], rows[2]), big = row_map(rows[0], rows[3]);
  EXPECT_EQ(ok["status"], "ok");
  EXPECT_EQ(ok["pareto"], "1");
  EXPECT_EQ(bits["status"], "error");
  EXPECT_NE(bits["error"].find("7-bit weights is realizable"), std::string::npos) << bits["error"];
  EXPECT_EQ(bits["cycles_per_image"], "");
  EXPECT_EQ(big["status"], "error");
  EXPECT_NE(big["error"].find("weight_buffer too small for one tile"), std::string::npos) << big["error"];
  EXPECT_EQ(big["rows"], "512");
  EXPECT_NE(r.out.find("1 ok, 2 failed"), std::string::npos) << r.out;
}

TEST(SweepRun, ShardsMergeIntoTheUnshardedCsvAndSameInputsGiveTheSameCsv) {
  const TempDir tmp("shard");
  const std::string& d = tmp.path();
  const std::string body = std::string(kTinyLayer) + R"(
grid:
  array: [4x4, 8x8, 8x4]
  bits: [4, 5]
  dram_bytes_per_cycle: [4, 16]
points:
  - {array: 512x512}
)";
  const std::string f = write(d, "s.yaml", "name: s\n" + body);
  ASSERT_EQ(run_brsim("sweep " + f + " -j 2 --out " + d + "/all").status, 0);
  ASSERT_EQ(run_brsim("sweep " + f + " -j 1 --out " + d + "/again").status, 0);
  const std::string all = read_file(d + "/all/sweep.csv");
  EXPECT_EQ(csv(all).size(), 14u);
  EXPECT_EQ(all, read_file(d + "/again/sweep.csv")) << "the same sweep twice must give the same CSV";
  for (int i = 0; i < 3; ++i) {
    const CliResult r = run_brsim("sweep " + f + " -j 2 --shard " + std::to_string(i) + "/3 --out " + d + "/shard_" +
                                  std::to_string(i));
    ASSERT_EQ(r.status, 0) << r.out;
  }
  const std::string shards = d + "/shard_0 " + d + "/shard_1 " + d + "/shard_2";
  const CliResult m = run_brsim("sweep merge --out " + d + "/merged " + shards);
  ASSERT_EQ(m.status, 0) << m.out;
  EXPECT_EQ(read_file(d + "/merged/sweep.csv"), all) << "merged shards must equal the unsharded sweep byte for byte";
  EXPECT_TRUE(fs::is_regular_file(d + "/merged/points/0012/arch.yaml"));
  EXPECT_TRUE(fs::is_regular_file(d + "/merged/energy_vs_latency.svg"));
  // A shard's own Pareto flags cover its points only; the merge recomputes them.
  EXPECT_NE(read_file(d + "/shard_1/sweep.csv"), "");

  const CliResult overlap = run_brsim("sweep merge --out " + d + "/m2 " + shards + " " + d + "/shard_1");
  EXPECT_EQ(overlap.status, 2);
  EXPECT_NE(overlap.out.find("overlapping shards"), std::string::npos) << overlap.out;
  const CliResult missing = run_brsim("sweep merge --out " + d + "/m3 " + d + "/shard_0 " + d + "/shard_2");
  EXPECT_EQ(missing.status, 2);
  EXPECT_NE(missing.out.find("points missing"), std::string::npos) << missing.out;
  // The same grid under another name is another sweep.
  const std::string g = write(d, "other.yaml", "name: other\n" + body);
  ASSERT_EQ(run_brsim("sweep " + g + " --shard 1/3 --out " + d + "/other_1").status, 0);
  const CliResult other =
      run_brsim("sweep merge --out " + d + "/m4 " + d + "/shard_0 " + d + "/other_1 " + d + "/shard_2");
  EXPECT_EQ(other.status, 2);
  EXPECT_NE(other.out.find("from a different sweep"), std::string::npos) << other.out;
}
