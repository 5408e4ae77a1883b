// The pieces behind docs/reliability.md, tested directly: atomic results
// folders, the memory limit and its estimates, overflow-safe sizes, the YAML
// structure checks, and synthetic layers at any activation width.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "config_error.h"
#include "errors.h"
#include "memory_limit.h"
#include "results_dir.h"
#include "shape_limits.h"
#include "synthetic_layer.h"
#include "temp_dir.h"
#include "yaml_reader.h"

namespace fs = std::filesystem;
using namespace brsim;

namespace {

std::string read(const std::string& p) { return brsim_test::read_file(p); }
std::string error_of(const std::function<void()>& f) { return brsim_test::config_error(f); }

size_t entries(const std::string& dir) {
  size_t n = 0;
  for (const auto& e : fs::directory_iterator(dir)) n += !e.path().empty();
  return n;
}

}  // namespace

TEST(ResultsDir, AFailedWriteLeavesNothingBehind) {
  const brsim_test::TempDir tmp;
  const std::string out = tmp.file("results");
  {
    ResultsDir r(out);
    r.write("config.yaml", "a: 1\n");
    r.write("summary.json", "{}\n");
    EXPECT_FALSE(fs::exists(out));  // nothing in place before commit()
  }  // destroyed without commit(): the run failed
  EXPECT_FALSE(fs::exists(out));
  EXPECT_EQ(entries(tmp.path()), 0u);  // and no temporary folder is left
}

TEST(ResultsDir, ANewFolderAppearsWholeAtCommit) {
  const brsim_test::TempDir tmp;
  const std::string out = tmp.file("a/b/results/");  // missing parents, trailing slash
  ResultsDir r(out);
  r.write("summary.json", "{\"x\": 1}\n");
  r.write("layers.csv", "layer\n");
  r.commit();
  EXPECT_EQ(read(tmp.file("a/b/results/summary.json")), "{\"x\": 1}\n");
  EXPECT_EQ(read(tmp.file("a/b/results/layers.csv")), "layer\n");
  EXPECT_EQ(entries(tmp.file("a/b")), 1u);
  EXPECT_EQ(entries(tmp.file("a/b/results")), 2u);
}

TEST(ResultsDir, AnExistingFolderKeepsItsOtherFilesAndGetsTheNewSet) {
  const brsim_test::TempDir tmp;
  const std::string out = tmp.file("point");
  fs::create_directories(out);
  std::ofstream(out + "/arch.yaml") << "array: {rows: 4}\n";
  std::ofstream(out + "/summary.json") << "old\n";
  std::ofstream(out + "/layers.csv") << "old\n";
  {
    ResultsDir failed(out);
    failed.write("summary.json", "new\n");
  }  // a failed run: the old complete set stays as it was
  EXPECT_EQ(read(out + "/summary.json"), "old\n");
  EXPECT_EQ(entries(out), 3u);
  ResultsDir r(out);
  r.write("summary.json", "new\n");
  r.write("layers.csv", "new\n");
  r.commit();
  EXPECT_EQ(read(out + "/arch.yaml"), "array: {rows: 4}\n");
  EXPECT_EQ(read(out + "/summary.json"), "new\n");
  EXPECT_EQ(read(out + "/layers.csv"), "new\n");
  EXPECT_EQ(entries(out), 3u);  // no temporary folder left inside
}

TEST(ResultsDir, AFileInTheWayIsRefusedByName) {
  const brsim_test::TempDir tmp;
  const std::string f = tmp.write("taken", "x");
  EXPECT_EQ(error_of([&] { ResultsDir r(f); }), "--out " + f + ": exists and is not a folder");
}

TEST(MemoryLimit, SizesParseInPowersOf1024AndBadOnesNameTheOption) {
  EXPECT_EQ(parse_memory_size("1M"), 1ull << 20);
  EXPECT_EQ(parse_memory_size("4G"), 4ull << 30);
  EXPECT_EQ(parse_memory_size("1.5GiB"), 3ull << 29);
  EXPECT_EQ(parse_memory_size("2T"), 2ull << 40);
  EXPECT_EQ(parse_memory_size("3145728"), 3ull << 20);
  EXPECT_EQ(parse_memory_size("512MB"), 512ull << 20);
  for (const char* bad : {"", "G", "-1G", "0.5M", "1025T", "4Q", "nanG", "1e400"})
    EXPECT_NE(error_of([&] { parse_memory_size(bad); }).find(std::string("invalid --max-memory '") + bad + "'"),
              std::string::npos)
        << bad;
  EXPECT_EQ(format_bytes(512), "512 B");
  EXPECT_EQ(format_bytes(3ull << 29), "1.50 GiB");
  EXPECT_EQ(format_bytes(UINT64_MAX), "more than 16 EiB");
}

TEST(MemoryLimit, CheckRefusesAboveTheLimitWithTheEstimate) {
  const uint64_t before = memory_limit();
  set_memory_limit(64ull << 20);
  EXPECT_NO_THROW(check_memory(64ull << 20, "x"));
  EXPECT_EQ(error_of([] { check_memory((64ull << 20) + 1, "brsim thing"); }),
            "brsim thing needs about 64.0 MiB of memory, above the limit of 64.0 MiB: use smaller inputs, or raise the "
            "limit with --max-memory SIZE");
  set_memory_limit(before);
  EXPECT_GE(default_memory_limit(), 1ull << 20);
  EXPECT_LE(default_memory_limit(), 8ull << 30);
}

TEST(MemoryLimit, NetworkEstimateGrowsWithImagesAndSaturates) {
  Network net;
  net.input = {1, 28, 28};
  Layer l;
  l.kind = LayerKind::Dense;
  l.in = {784, 1, 1};
  l.out = {10, 1, 1};
  l.weights.assign(7840, 0.0f);
  l.bias.assign(10, 0.0f);
  net.layers.push_back(l);
  const uint64_t one = network_memory_estimate(net, 1), two = network_memory_estimate(net, 2);
  EXPECT_EQ(two - one, (784 + 10) * 4 + 784 * 4);  // per image: every tensor as int32, the float input
  EXPECT_GE(one, 7850u * 20);
  EXPECT_EQ(network_memory_estimate(net, UINT64_MAX), UINT64_MAX);
}

TEST(ShapeLimits, ProductsNeverWrapAround) {
  EXPECT_EQ(checked_product({3, 4, 5}), 60);
  EXPECT_EQ(checked_product({0, INT64_MAX, INT64_MAX}), 0);
  EXPECT_EQ(checked_product({int64_t{1} << 31, 1}), int64_t{1} << 31);
  EXPECT_EQ(checked_product({(int64_t{1} << 31) + 1}), -1);
  EXPECT_EQ(checked_product({int64_t{1} << 32, int64_t{1} << 32}, INT64_MAX), -1);  // 2^64 would wrap to 0
  EXPECT_EQ(checked_product({4000000000, 4000000000, 4000000000}, INT64_MAX), -1);
  EXPECT_EQ(checked_product({-1, 5}), -1);
  EXPECT_EQ(saturating_mul(UINT64_MAX / 2, 3), UINT64_MAX);
  EXPECT_EQ(saturating_add(UINT64_MAX - 1, 5), UINT64_MAX);
}

TEST(YamlStructure, DuplicateAndNonScalarKeysAliasBombsAndDeepNestingAreRefused) {
  EXPECT_NO_THROW(parse_yaml_text("a: {b: 1, c: [1, 2]}\nd: &x 3\ne: *x\n", "f.yaml"));
  EXPECT_EQ(error_of([] { parse_yaml_text("a: 1\nb: {c: 1, c: 2}\n", "f.yaml"); }),
            "f.yaml: field 'b.c': duplicate key (each key may appear once)");
  EXPECT_EQ(error_of([] { parse_yaml_text("l: [{k: 1, k: 1}]\n", "f.yaml"); }),
            "f.yaml: field 'l[0].k': duplicate key (each key may appear once)");
  EXPECT_EQ(error_of([] { parse_yaml_text("? [1]\n: 2\n", "f.yaml"); }),
            "f.yaml: field '(top level)': a key is a list: expected a plain name");
  std::string bomb = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i < 7; ++i) {
    bomb += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [";
    for (int j = 0; j < 10; ++j) bomb += (j ? ", *a" : "*a") + std::to_string(i - 1);
    bomb += "]\n";
  }
  EXPECT_NE(error_of([&] { parse_yaml_text(bomb, "f.yaml"); }).find("more than 1000000 YAML nodes"), std::string::npos);
  EXPECT_NO_THROW(parse_yaml_text("a: " + std::string(64, '[') + std::string(64, ']') + "\n", "f.yaml"));
  EXPECT_NE(error_of([] { parse_yaml_text("a: " + std::string(65, '[') + std::string(65, ']') + "\n", "f.yaml"); })
                .find("brackets nested more than 64 deep"),
            std::string::npos);
  // Brackets inside quotes and comments are text.
  EXPECT_NO_THROW(parse_yaml_text("a: '" + std::string(100, '[') + "' # " + std::string(100, '{') + "\n", "f.yaml"));
}

TEST(SyntheticLayer, ActivationFormatsFollowTheRequestedWidth) {
  LayerSpec s;
  s.in_c = 2, s.in_h = 5, s.in_w = 5, s.out_m = 3, s.kh = s.kw = 3;
  for (int a : {4, 8, 16, 24}) {
    const SyntheticLayer l = make_synthetic_layer(s, 1, 0.05, a);
    EXPECT_EQ(l.formats.act_bits, a);
    EXPECT_EQ(l.formats.input_frac, a - 2);  // bound 1: the largest f with round(2^f) <= 2^(a-1) - 1
  }
  s.pad = 256;
  EXPECT_EQ(error_of([&] { make_synthetic_layer(s, 1); }),
            "layer 'layer': invalid padding 256: expected an integer in [0, 255]");
}
