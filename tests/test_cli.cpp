// The command line as a user meets it: `brsim codebook` CSV layout and values
// (checked against BRSLOG.md's formula evaluated here), `brsim quantize` JSON
// layout, and bad input giving a clear message and a non-zero exit.
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>

#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <nlohmann/json.hpp>
#include <sstream>
#include <vector>

#include "cli_runner.h"
#include "temp_dir.h"

namespace {

std::vector<std::vector<std::string>> csv_rows(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    std::vector<std::string> cells;
    std::istringstream ls(line);
    std::string cell;
    while (std::getline(ls, cell, ',')) cells.push_back(cell);
    rows.push_back(cells);
  }
  return rows;
}

}  // namespace

TEST(CliCodebook, CsvHasTheDocumentedColumnsAndEveryCodeWord) {
  const CliResult r = run_brsim("codebook --bits 5 --n2 6 --p 0 --e-base -10 --sqrt2-terms 4 --format csv");
  ASSERT_EQ(r.status, 0) << r.out;
  const auto rows = csv_rows(r.out);
  ASSERT_EQ(rows.size(), 33u);
  EXPECT_EQ(r.out.substr(0, r.out.find('\n')), "code,sign,j,h,shift,flag,ideal,hardware");
  const double a4 = 91.0 / 64.0;
  for (int code = 0; code < 32; ++code) {
    const auto& c = rows[static_cast<size_t>(code) + 1];
    ASSERT_EQ(c.size(), 8u);
    const int sign = code >> 4, j = code & 15;
    EXPECT_EQ(std::stoi(c[0]), code);
    EXPECT_EQ(std::stoi(c[1]), sign);
    EXPECT_EQ(std::stoi(c[2]), j);
    if (j == 0) {
      EXPECT_EQ(c[6], "0");
      EXPECT_EQ(c[7], "0");
      continue;
    }
    // Section 2 with n2 = 6, p = 0: h = 2(j-1) up to j = 6, then 10 + 1 + (j - 7).
    const int h = j <= 6 ? 2 * (j - 1) : 11 + (j - 7);
    EXPECT_EQ(std::stoi(c[3]), h);
    EXPECT_EQ(std::stoi(c[4]), h / 2);
    EXPECT_EQ(std::stoi(c[5]), h % 2);
    const double s = sign ? -1.0 : 1.0;
    const double ideal = s * std::pow(2.0, -10 + h / 2.0);
    const double hw = s * std::ldexp(h % 2 ? a4 : 1.0, -10 + h / 2);
    EXPECT_NEAR(std::stod(c[6]), ideal, std::fabs(ideal) * 1e-13) << "code " << code;
    EXPECT_EQ(std::stod(c[7]), hw) << "code " << code;  // dyadic: printed exactly
  }
}

TEST(CliCodebook, TextTableNamesTheApproximation) {
  const CliResult r = run_brsim("codebook --n2 3 --sqrt2-terms 2");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("A_K = 1 + 2^-1 = 1.5 = 3/2^1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("base-sqrt2"), std::string::npos);
}

TEST(CliQuantize, DemoJsonHasOneEntryPerPolicy) {
  const CliResult r = run_brsim("quantize --format json --shape 16x8x3x3 --policy brslog,log2,fixed16");
  ASSERT_EQ(r.status, 0) << r.out;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["layers"].size(), 3u);
  EXPECT_EQ(j["layers"][0]["policy"], "brslog");
  EXPECT_EQ(j["layers"][1]["n2"], 15);
  EXPECT_EQ(j["layers"][1]["n1"], 0);
  EXPECT_EQ(j["layers"][2]["bits"], 16);
  EXPECT_EQ(j["layers"][0]["weight_bytes"], (16 * 8 * 9 * 5 + 7) / 8);
  for (const auto& l : j["layers"]) {
    EXPECT_GT(l["sqnr_db"].get<double>(), 0.0);
    EXPECT_GE(l["mse"].get<double>(), 0.0);
  }
  // Same seed, same bytes.
  EXPECT_EQ(run_brsim("quantize --format json --shape 16x8x3x3 --policy brslog,log2,fixed16").out, r.out);
}

TEST(CliQuantize, PerChannelJsonListsEveryChannel) {
  const CliResult r = run_brsim("quantize --format json --shape 6x4x3x3 --policy brslog --granularity channel");
  ASSERT_EQ(r.status, 0) << r.out;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["layers"][0]["channels"].size(), 6u);
  EXPECT_TRUE(j["layers"][0]["n2"].is_null());
  EXPECT_TRUE(j["layers"][0]["channels"][5]["e_base"].is_number_integer());
}

// A depthwise convolution's weight tensor is M x (C / groups) x kh x kw.
TEST(CliQuantize, DepthwiseLayersOfAModelHaveTheirGroupedShape) {
  const CliResult r = run_brsim(std::string("quantize --format json ") + BRSIM_SOURCE_DIR +
                                "/data/models/fashion_dsresnet.onnx");
  ASSERT_EQ(r.status, 0) << r.out;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  bool seen_depthwise = false;
  for (const auto& l : j["layers"]) {
    if (l["name"] != "/block1/dw/Conv") continue;
    seen_depthwise = true;
    EXPECT_EQ(l["shape"], nlohmann::json::array({24, 1, 3, 3}));
    EXPECT_EQ(l["fp32_bytes"], 24 * 9 * 4);
  }
  EXPECT_TRUE(seen_depthwise) << r.out;
}

struct BadInput {
  const char* args;
  const char* message;
};

class CliBadInput : public ::testing::TestWithParam<BadInput> {};

TEST_P(CliBadInput, ExitsNonZeroWithAClearMessage) {
  const CliResult r = run_brsim(GetParam().args);
  EXPECT_NE(r.status, 0) << r.out;
  EXPECT_NE(r.out.find(GetParam().message), std::string::npos) << r.out;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, CliBadInput,
    ::testing::Values(BadInput{"codebook --bits 9", "invalid weight bits 9: expected an integer in [3, 8]"},
                      BadInput{"codebook --bits 2", "invalid weight bits 2"},
                      BadInput{"codebook --n2 16", "n2 in [0, L] = [0, 15]"},
                      BadInput{"codebook --p 3", "invalid p 3"},
                      BadInput{"codebook --sqrt2-terms 0", "invalid sqrt2_terms (K) 0: expected an integer in [1, 7]"},
                      BadInput{"codebook --sqrt2-terms 8", "expected an integer in [1, 7]"},
                      BadInput{"codebook --bits 6 --n2 31", "shift_bits >= 5 would work"},
                      BadInput{"codebook --n2 15 --acc-bits 30", "acc_bits >= 37 would work"},
                      BadInput{"codebook --format xml", "--format"},
                      BadInput{"codebook --bits five", "--bits"},
                      BadInput{"quantize --policy seglog:n2=16", "seglog"},
                      BadInput{"quantize --policy magic", "brslog"},
                      BadInput{"quantize --shape 0x3", "invalid --shape '0x3'"},
                      BadInput{"quantize --sqrt2-terms 9", "expected an integer in [1, 7]"},
                      BadInput{"quantize no_such_model.onnx", "no_such_model.onnx: cannot open the model file"}));

TEST(CliLayer, ShapeOptionsGiveTheClosedFormAndTheMacs) {
  const CliResult r = run_brsim("layer --ifmap 8x8 --kernel 3x3 --channels 4 --filters 6 --array 4x4 --format json");
  ASSERT_EQ(r.status, 0) << r.out;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["layers"].size(), 1u);
  const auto& l = j["layers"][0];
  EXPECT_EQ(l["macs"], 6 * 6 * 36 * 6);  // 6x6 outputs, K = 4*3*3, M = 6
  EXPECT_EQ(l["cycles"]["total"], l["closed_form_cycles"]);
  const auto& c = l["cycles"];
  EXPECT_EQ(c["total"].get<uint64_t>(), c["weight_load"].get<uint64_t>() + c["compute"].get<uint64_t>() +
                                            c["drain"].get<uint64_t>() + c["stall"].get<uint64_t>() +
                                            c["output"].get<uint64_t>());
  // K = 36 on 4 rows: 9 k-tiles; M = 6 on 4 columns: 2 m-tiles; 36 pixels.
  EXPECT_EQ(c["compute"], 2 * 9 * 36);
  EXPECT_EQ(j["bit_exact"], true);
}

// --quant-cache: a layer of 65,536+ weights leaves one search file and the
// second run gives the same report from it; a folder that cannot be written
// is named in one warning and the run goes on.
TEST(CliLayer, QuantCacheKeepsTheSearchAndWarnsWhenItCannot) {
  const brsim_test::TempDir tmp;
  const std::string dir = tmp.file("qc");
  const std::string layer = "layer --ifmap 6x6 --kernel 3x3 --channels 128 --filters 64 --mode fast --format json";
  const CliResult a = run_brsim(layer + " --quant-cache " + dir);
  ASSERT_EQ(a.status, 0) << a.out;
  size_t files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) files += e.path().extension() == ".txt";
  EXPECT_EQ(files, 1u);  // 3 x 3 x 128 x 64 = 73,728 weights
  const CliResult b = run_brsim(layer + " --quant-cache " + dir);
  ASSERT_EQ(b.status, 0) << b.out;
  const auto strip = [](nlohmann::json j) {
    j.erase("host_seconds"), j.erase("simulation");
    return j;
  };
  EXPECT_EQ(strip(nlohmann::json::parse(a.out))["layers"], strip(nlohmann::json::parse(b.out))["layers"]);
  const CliResult c = run_brsim(layer + " --quant-cache /etc/hostname/qc");
  ASSERT_EQ(c.status, 0) << c.out;
  EXPECT_NE(c.out.find("warning: --quant-cache /etc/hostname/qc: cannot write"), std::string::npos) << c.out;
  std::filesystem::remove_all(dir);
}

// Each dataflow from the command line: the report names it (text and
// JSON), the run is bit exact and meets its closed form, the compute cycles
// follow the dataflow's fold table, and fast mode gives the same report.
TEST(CliLayer, DataflowOptionIsNamedAndMeetsItsClosedForm) {
  // 6x6 outputs (P = 36), K = 36 on 4 rows (9 k-tiles), M = 6 on 4 columns (m-tiles of 4 and 2).
  const std::map<std::string, uint64_t> compute = {{"ws", 2 * 9 * 36}, {"os", 2 * 9 * 36}, {"is", 9 * 9 * (4 + 2)}};
  for (const auto& [flow, cycles] : compute) {
    const std::string args = "layer --ifmap 8x8 --kernel 3x3 --channels 4 --filters 6 --array 4x4 --dataflow " + flow +
                             " --double-buffer --double-buffer-acts";
    const CliResult r = run_brsim(args + " --format json");
    ASSERT_EQ(r.status, 0) << r.out;
    const nlohmann::json j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["arch"]["dataflow"], flow);
    EXPECT_EQ(j["arch"]["double_buffer_activations"], true);
    EXPECT_EQ(j["bit_exact"], true);
    const auto& l = j["layers"][0];
    EXPECT_EQ(l["cycles"]["total"], l["closed_form_cycles"]) << flow;
    EXPECT_EQ(l["cycles"]["compute"].get<uint64_t>(), cycles) << flow;
    const CliResult fast = run_brsim(args + " --format json --mode fast");
    ASSERT_EQ(fast.status, 0) << fast.out;
    nlohmann::json jf = nlohmann::json::parse(fast.out);
    EXPECT_EQ(jf["layers"], j["layers"]) << flow;
    const CliResult text = run_brsim(args);
    const std::string name = flow == "ws" ? "weight stationary" : flow == "os" ? "output stationary" : "input stationary";
    EXPECT_NE(text.out.find(name + ", double-buffered weights, double-buffered activations"), std::string::npos) << text.out;
  }
}

// Input stationary streams all of a layer's filters through each activation
// tile; where the output buffer holds an output row of only 24 of 40
// filters' partial sums (7 x 24 x 6 bytes), the report says the m-range is split.
TEST(CliLayer, InputStationaryReportsAnMRangeSplit) {
  const brsim_test::TempDir tmp;
  const std::string arch = tmp.write("a.yaml", "array: {rows: 8, cols: 8}\nbuffers:\n  output: {capacity_bytes: 1008}\n");
  const std::string args = "layer --arch " + arch + " --ifmap 9x9 --kernel 3x3 --channels 10 --filters 40 --dataflow ";
  const CliResult text = run_brsim(args + "is");
  ASSERT_EQ(text.status, 0) << text.out;
  EXPECT_NE(text.out.find("note: layer: input stationary m-range split"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("hold m = 24 of its 40 filters, so it runs as 2 m-ranges"), std::string::npos) << text.out;
  const CliResult js = run_brsim(args + "is --format json");
  ASSERT_EQ(js.status, 0) << js.out;
  const nlohmann::json l = nlohmann::json::parse(js.out)["layers"][0];
  EXPECT_EQ(l["m_ranges"]["count"], 2);
  EXPECT_EQ(l["m_ranges"]["filters"], 24);
  EXPECT_EQ(l["m_ranges"]["split"], true);
  EXPECT_EQ(l["cycles"]["total"], l["closed_form_cycles"]);
  const CliResult ws = run_brsim(args + "ws --format json");  // ws and os: C-wide m-tiles, no m-ranges
  ASSERT_EQ(ws.status, 0) << ws.out;
  EXPECT_FALSE(nlohmann::json::parse(ws.out)["layers"][0].contains("m_ranges"));
}

TEST(CliLayer, TopologyCsvRunsEveryLayer) {
  const brsim_test::TempDir tmp;
  const std::string csv = tmp.write("topo.csv",
                                     "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, "
                                     "Num Filter, Strides,\nConv1, 12, 12, 3, 3, 4, 8, 1,\nConv2, 10, 10, 3, 3, 8, 5, 2,\n");
  const CliResult r = run_brsim("layer --topology " + csv + " --format json");
  ASSERT_EQ(r.status, 0) << r.out;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["layers"].size(), 2u);
  EXPECT_EQ(j["layers"][0]["name"], "Conv1");
  EXPECT_EQ(j["layers"][1]["macs"], 4 * 4 * 72 * 5);  // 10x10, 3x3 stride 2 -> 4x4
}

// With two host threads each next layer is prepared while the current one
// simulates; with one, layer after layer: the same results folder.
TEST(CliLayer, OverlappedPreparationWritesTheSameResults) {
  const brsim_test::TempDir tmp;
  const std::string csv = tmp.write("topo.csv",
                                     "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, "
                                     "Num Filter, Strides,\nConv1, 12, 12, 3, 3, 4, 8, 1,\nConv2, 10, 10, 3, 3, 8, 5, 2,\n"
                                     "Conv3, 9, 9, 1, 1, 20, 33, 1,\n");
  for (const std::string mode : {"fast", "cycle"}) {
    std::string results[2];
    for (int threads = 1; threads <= 2; ++threads) {
      const std::string out = tmp.file(mode + std::to_string(threads));
      const CliResult r = run_brsim("layer --topology " + csv + " --mode " + mode + " --threads " +
                                    std::to_string(threads) + " --out " + out);
      ASSERT_EQ(r.status, 0) << r.out;
      for (const char* f : {"/layers.csv", "/summary.json", "/stats.txt", "/energy.csv"})
        results[threads - 1] += brsim_test::read_file(out + f);
    }
    EXPECT_NE(results[0].find("Conv3"), std::string::npos);
    EXPECT_EQ(results[0], results[1]) << mode;
  }
}

TEST(CliRun, WritesTheResultsFolder) {
  const brsim_test::TempDir tmp;
  const std::string out = tmp.file("run_out");
  const CliResult r = run_brsim("run --images 3 --out " + out + " --format json");
  ASSERT_EQ(r.status, 0) << r.out;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["accuracy"]["bit_exact"], true);
  EXPECT_EQ(j["accuracy"]["tensors_compared"], 12);
  ASSERT_EQ(j["layers"].size(), 4u);
  std::ifstream csv(out + "/layers.csv");
  std::string header;
  std::getline(csv, header);
  EXPECT_EQ(header.substr(0, 60), "layer,kind,in_c,in_h,in_w,out_m,kh,kw,stride,pad,pool,P,K,M,");
  int rows = 0;
  for (std::string line; std::getline(csv, line);) ++rows;
  EXPECT_EQ(rows, 4);
  std::ifstream summary(out + "/summary.json");
  EXPECT_EQ(nlohmann::json::parse(summary), j);
  std::ifstream cfg(out + "/config.yaml");
  std::string text((std::istreambuf_iterator<char>(cfg)), {});
  EXPECT_NE(text.find("rows: 16"), std::string::npos);
  // Same inputs, same bytes: everything but timing.json.
  const CliResult again = run_brsim("run --images 3 --out " + out + "2 --format json");
  EXPECT_EQ(again.out, r.out);
  for (const char* f : {"/summary.json", "/layers.csv", "/energy.csv", "/config.yaml"}) {
    std::ifstream x(out + f), y(out + "2" + f);
    const std::string a((std::istreambuf_iterator<char>(x)), {}), b((std::istreambuf_iterator<char>(y)), {});
    EXPECT_FALSE(a.empty()) << f;
    EXPECT_EQ(a, b) << f;
  }
  std::ifstream timing(out + "/timing.json");
  EXPECT_GT(nlohmann::json::parse(timing)["host_seconds"].get<double>(), 0.0);
}

TEST(CliRun, BadArchitectureInputs) {
  const brsim_test::TempDir tmp;
  const std::string unknown = tmp.write("unknown.yaml", "array: {rows: 8, colz: 8}\n");
  CliResult r = run_brsim("run --images 1 --arch " + unknown);
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find(unknown + ": field 'array.colz': unknown key"), std::string::npos) << r.out;
  const std::string type = tmp.write("type.yaml", "clock_mhz: fast\n");
  r = run_brsim("run --images 1 --arch " + type);
  EXPECT_NE(r.out.find("field 'clock_mhz': expected a number, got 'fast'"), std::string::npos) << r.out;
  const std::string tiny = tmp.write("tiny.yaml", "buffers:\n  input: {capacity_bytes: 64}\n");
  r = run_brsim("layer --ifmap 32x32 --kernel 5x5 --channels 16 --filters 8 --arch " + tiny);
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("input_buffer too small for one tile"), std::string::npos) << r.out;
  r = run_brsim("run --images 1 --arch /no/such.yaml");
  EXPECT_NE(r.out.find("/no/such.yaml: cannot open the architecture file"), std::string::npos) << r.out;
  const std::string flow = tmp.write("flow.yaml", "dataflow: rs\n");
  r = run_brsim("run --images 1 --arch " + flow);
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find(flow + ": field 'dataflow': unknown dataflow 'rs': expected ws (weight stationary), os (output "
                              "stationary) or is (input stationary)"),
            std::string::npos)
      << r.out;
  const std::string dba = tmp.write("dba.yaml", "double_buffer_activations: maybe\n");
  r = run_brsim("run --images 1 --arch " + dba);
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("field 'double_buffer_activations'"), std::string::npos) << r.out;
  // Two input tiles must fit when activations are double buffered.
  const std::string two = tmp.write("two.yaml", "double_buffer_activations: true\nbuffers:\n  input: {capacity_bytes: 128}\n");
  r = run_brsim("layer --ifmap 32x32 --kernel 5x5 --channels 16 --filters 8 --arch " + two);
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("input_buffer too small for one tile"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("two tiles, double buffered"), std::string::npos) << r.out;
}

INSTANTIATE_TEST_SUITE_P(
    RunAndLayer, CliBadInput,
    ::testing::Values(BadInput{"run --array 0x16", "invalid --array '0x16': array rows 0 outside [1, 512]"},
                      BadInput{"run --array 16", "invalid --array '16': expected ROWSxCOLS"},
                      BadInput{"run --pe int8", "unknown PE type 'int8': expected brslog or fixed16"},
                      BadInput{"run --dataflow xs", "unknown dataflow 'xs': expected ws"},
                      BadInput{"run --mode fast --threads 3", "--threads: Value 3 not in range 1 to 2"},
                      BadInput{"run --images 0", "invalid --images 0"},
                      BadInput{"run --pe fixed16 --policy brslog", "does not run on the fixed16 PE array"},
                      BadInput{"layer --ifmap 4x4 --kernel 5x5 --channels 1 --filters 1", "larger than the padded input"},
                      BadInput{"layer --ifmap 4x4 --channels 0 --filters 1", "invalid --channels 0: expected an integer in [1, 1048576]"},
                      BadInput{"layer --network vgg", "unknown --network 'vgg'"},
                      BadInput{"layer", "needs exactly one of"},
                      BadInput{"layer --topology /no/topo.csv", "/no/topo.csv: cannot open the topology file"}));

TEST(CliEnergy, RunReportsEnergyAndTheFixed16Comparison) {
  const brsim_test::TempDir tmp;
  const std::string out = tmp.file("energy_out");
  const CliResult r = run_brsim("run --images 2 --compare fixed16 --out " + out + " --format json");
  ASSERT_EQ(r.status, 0) << r.out;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["energy_table"]["name"], "default-45nm");
  const double total = j["energy"]["total_pj_per_image"];
  double layers = 0;
  for (const auto& l : j["layers"]) layers += l["energy"]["total_pj_per_image"].get<double>();
  EXPECT_NEAR(layers, total, total * 1e-9);
  const auto& ratio = j["compare"]["ratio_brslog_over_fixed16"];
  EXPECT_GT(ratio["energy"].get<double>(), 0.0);
  EXPECT_LT(ratio["energy"].get<double>(), 1.0);  // BRSLog saves energy on this network
  EXPECT_LT(ratio["area"].get<double>(), 1.0);
  // energy.csv: the fixed layout, 27 rows per layer plus the header.
  std::ifstream csv(out + "/energy.csv");
  std::string header;
  std::getline(csv, header);
  EXPECT_EQ(header, "layer,component,action,count,energy_pj");
  int rows = 0;
  for (std::string line; std::getline(csv, line);) ++rows;
  EXPECT_EQ(rows, 4 * 27);
}

TEST(CliEnergy, DoublingTheTableDoublesTheEnergy) {
  std::ifstream in(std::string(BRSIM_SOURCE_DIR) + "/data/energy/default_45nm.yaml");
  std::string text((std::istreambuf_iterator<char>(in)), {}), doubled;
  // Double every number after "energy:", "leakage:" and "area:".
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    for (const char* key : {"energy: ", "leakage: ", "area: "}) {
      size_t at = 0;
      while ((at = line.find(key, at)) != std::string::npos) {
        at += std::strlen(key);
        size_t used = 0;
        const double v = std::stod(line.substr(at), &used);
        std::ostringstream os;
        os.precision(17);
        os << 2 * v;
        line.replace(at, used, os.str());
      }
    }
    doubled += line + "\n";
  }
  const brsim_test::TempDir tmp;
  const std::string path = tmp.write("doubled.yaml", doubled);
  const std::string shape = "layer --ifmap 8x8 --kernel 3x3 --channels 4 --filters 6 --format json";
  const nlohmann::json a = nlohmann::json::parse(run_brsim(shape).out);
  const CliResult r2 = run_brsim(shape + " --energy " + path);
  ASSERT_EQ(r2.status, 0) << r2.out;
  const nlohmann::json b = nlohmann::json::parse(r2.out);
  const double e1 = a["energy"]["total_pj_per_image"], e2 = b["energy"]["total_pj_per_image"];
  EXPECT_NEAR(e2, 2 * e1, e1 * 1e-9);
  EXPECT_NEAR(b["energy"]["area_um2"].get<double>(), 2 * a["energy"]["area_um2"].get<double>(), 1e-6);
}

TEST(CliTrace, VcdSizeIsStatedAndLimited) {
  const brsim_test::TempDir tmp;
  const std::string vcd = tmp.file("cli.vcd");
  const std::string shape = "layer --ifmap 8x8 --kernel 3x3 --channels 4 --filters 6 --array 4x4 --vcd " + vcd;
  CliResult r = run_brsim(shape + " --vcd-pes all --vcd-limit-mb 0.01");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("narrow the selection (--vcd-pes, --vcd-cycles, --vcd-layer) or pass --vcd-force"),
            std::string::npos) << r.out;
  r = run_brsim(shape + " --vcd-pes all --vcd-limit-mb 0.01 --vcd-force");
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("the VCD will be about"), std::string::npos);
  std::ifstream gtkw(tmp.file("cli.gtkw"));
  EXPECT_TRUE(gtkw.good());
  r = run_brsim(shape + " --vcd-pes r9,c0");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("--vcd-pes"), std::string::npos) << r.out;
}

INSTANTIATE_TEST_SUITE_P(
    Energy, CliBadInput,
    ::testing::Values(BadInput{"layer --ifmap 4x4 --channels 1 --filters 1 --energy /no/table.yaml", "/no/table.yaml"},
                      BadInput{"run --compare int8", "invalid --compare 'int8': expected fixed16"},
                      BadInput{"run --pe fixed16 --compare fixed16", "already fixed16"},
                      BadInput{"layer --ifmap 4x4 --channels 1 --filters 1 --vcd /nonexistent-brsim-dir/x.vcd --vcd-cycles 9-3", "--vcd-cycles"}));

TEST(CliFastMode, LayerReportEqualsTheCycleModeReport) {
  const std::string shape = "layer --ifmap 10x9 --kernel 3x3 --channels 5 --filters 7 --array 4x6 --format json";
  const CliResult c = run_brsim(shape);
  const CliResult f = run_brsim(shape + " --mode fast");
  ASSERT_EQ(c.status, 0) << c.out;
  ASSERT_EQ(f.status, 0) << f.out;
  nlohmann::json a = nlohmann::json::parse(c.out), b = nlohmann::json::parse(f.out);
  EXPECT_EQ(b["mode"], "fast");
  for (auto* x : {&a, &b}) {
    x->erase("mode");
    for (const char* k : {"host_seconds", "golden_host_seconds", "simulated_macs_per_host_second",
                          "simulated_cycles_per_host_second"})
      (*x)["totals"].erase(k);
  }
  EXPECT_EQ(a.dump(), b.dump());
  const brsim_test::TempDir tmp;
  const CliResult t = run_brsim(shape + " --mode fast --vcd " + tmp.file("fast.vcd"));
  EXPECT_FALSE(std::filesystem::exists(tmp.file("fast.vcd")));
  EXPECT_EQ(t.status, 2);
  EXPECT_NE(t.out.find("need --mode cycle"), std::string::npos) << t.out;
}

// Synthetic layers take the architecture's activation width (they were fixed
// at 16 bits, so every other --act-bits failed): each runs bit exact.
TEST(CliLayer, EveryActivationWidthRunsBitExact) {
  for (const char* a : {"8", "12", "24"}) {
    const CliResult r = run_brsim(std::string("layer --ifmap 6x6 --kernel 3x3 --channels 3 --filters 5 --array 4x4 "
                                              "--format json --act-bits ") + a);
    ASSERT_EQ(r.status, 0) << a << ": " << r.out;
    EXPECT_EQ(nlohmann::json::parse(r.out)["bit_exact"], true) << a;
  }
}

// Results folders are written atomically: a run that fails leaves no folder;
// a run into an existing folder keeps its other files and leaves no
// temporary folder behind.
TEST(CliLayer, ResultsFolderAppearsOnlyForACompleteRun) {
  const brsim_test::TempDir tmp;
  const std::string shape = "layer --ifmap 6x6 --kernel 3x3 --channels 3 --filters 5 --array 4x4 --out ";
  CliResult r = run_brsim(shape + tmp.file("failed") + " --energy " + tmp.file("no_table.yaml"));
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_FALSE(std::filesystem::exists(tmp.file("failed")));
  const std::string point = tmp.file("point");
  std::filesystem::create_directories(point);
  tmp.write("point/arch.yaml", "array: {rows: 4, cols: 4}\n");
  tmp.write("point/summary.json", "stale\n");
  r = run_brsim(shape + point);
  ASSERT_EQ(r.status, 0) << r.out;
  std::set<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(point)) names.insert(e.path().filename().string());
  EXPECT_EQ(names, (std::set<std::string>{"arch.yaml", "config.yaml", "energy.csv", "layers.csv", "stats.txt",
                                          "summary.json", "timing.json"}));
  std::ifstream s(point + "/summary.json");
  const nlohmann::json summary = nlohmann::json::parse(s);
  EXPECT_EQ(summary["command"], "layer");
  // stats.txt: "name value unit # description"; its totals are the summary's.
  std::ifstream st(point + "/stats.txt");
  std::map<std::string, uint64_t> stats;
  std::map<std::string, std::string> units;
  for (std::string line; std::getline(st, line);) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream in(line);
    std::string name, unit;
    uint64_t v = 0;
    ASSERT_TRUE(in >> name >> v >> unit) << line;
    stats[name] = v;
    units[name] = unit;
  }
  EXPECT_EQ(stats.at("total.macs"), summary["totals"]["simulated_macs"].get<uint64_t>());
  EXPECT_EQ(stats.at("total.cycles.weight_load") + stats.at("total.cycles.compute") + stats.at("total.cycles.drain") +
                stats.at("total.cycles.stall") + stats.at("total.cycles.output"),
            summary["totals"]["simulated_cycles"].get<uint64_t>());
  EXPECT_EQ(units.at("total.dram.bytes_read"), "bytes");
}
