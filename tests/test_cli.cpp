// The command line as a user meets it: `brsim codebook` CSV layout and values
// (checked against BRSLOG.md's formula evaluated here), `brsim quantize` JSON
// layout, and bad input giving a clear message and a non-zero exit.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <sstream>
#include <vector>

#include "cli_runner.h"

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
