// The pieces behind docs/reliability.md, tested directly: atomic results
// folders, the memory limit and its estimates, overflow-safe sizes, the YAML
// structure checks, synthetic layers at any activation width, and SystemC's
// coroutine stacks under AddressSanitizer.
#include <gtest/gtest.h>
#include <sys/mman.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <systemc>

#include "asan_main_stack.h"
#include "config_error.h"
#include "errors.h"
#include "layer_pipeline.h"
#include "memory_limit.h"
#include "results_dir.h"
#include "sc_kernel.h"
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

// ------------------------------------------- coroutine stacks under ASan
// docs/reliability.md "Sanitizer build": a fresh anonymous mapping (SystemC
// maps each thread's stack) starts with clean shadow memory, whatever a
// previous mapping at the same addresses left there.

#if defined(__SANITIZE_ADDRESS__)
#define BRSIM_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define BRSIM_TEST_ASAN 1
#endif
#endif
#ifdef BRSIM_TEST_ASAN
#include <sanitizer/asan_interface.h>
#endif

TEST(CoroutineStacks, AFreshMappingCarriesNoPoisonOfTheLastOneAtItsAddress) {
#ifndef BRSIM_TEST_ASAN
  GTEST_SKIP() << "needs the sanitizer build (-DBRSIM_SANITIZE=ON)";
#else
  const size_t len = 256 * 1024;
  void* const a = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(a, MAP_FAILED);
  __asan_poison_memory_region(a, len);  // as a thread's frames abandoned in wait() leave it
  ASSERT_EQ(__asan_region_is_poisoned(a, len), a);
  ASSERT_EQ(munmap(a, len), 0);
  void* const b = mmap(a, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  ASSERT_EQ(b, a) << "the address range was taken again in between";
  EXPECT_EQ(__asan_region_is_poisoned(b, len), nullptr);
  munmap(b, len);
#endif
}

namespace {

// Where the two simulations below put their 8 KiB stack buffer.
uintptr_t g_first_buffer = 0, g_second_buffer = 0;
uint64_t g_sum = 0;

__attribute__((noinline)) void escape(volatile char* p) { p[0] = 1; }

// Instrumented: reads every byte through a pointer (checked by ASan).
__attribute__((noinline)) uint64_t sum_bytes(const char* p, size_t n) {
  uint64_t s = 0;
  for (size_t i = 0; i < n; ++i) s += static_cast<unsigned char>(p[i]);
  return s;
}

// A frame whose buffer is poisoned (out of scope) while the thread waits for
// a time the simulation never reaches: the kernel is reset with the thread
// still there.
__attribute__((noinline)) void poison_and_wait() {
  {
    char buf[8192];
    g_first_buffer = reinterpret_cast<uintptr_t>(buf);
    escape(buf);
  }  // buf's shadow is now "out of scope"
  sc_core::wait(sc_core::sc_time(1, sc_core::SC_SEC));  // beyond the end of the simulation
}

// Not instrumented, like SystemC's own frames: its buffer's shadow is never
// written, so it keeps whatever the memory held before.
__attribute__((noinline, no_sanitize_address)) void fill_and_sum() {
  char buf[8192];
  for (size_t i = 0; i < sizeof buf; ++i) buf[i] = 1;
  g_second_buffer = reinterpret_cast<uintptr_t>(buf);
  g_sum = sum_bytes(buf, sizeof buf);
}

struct OneThread : sc_core::sc_module {
  SC_HAS_PROCESS(OneThread);
  void (*body)();
  OneThread(sc_core::sc_module_name n, void (*b)()) : sc_core::sc_module(n), body(b) { SC_THREAD(run); }
  void run() { body(); }
};

void simulate(void (*body)()) {
  brsim::reset_systemc_kernel();
  {
    OneThread t("t", body);
    sc_core::sc_start(sc_core::sc_time(1, sc_core::SC_MS));
    // Back on sc_main's stack: without this ASan keeps the bounds of the
    // coroutine's stack, which the reset below unmaps, and LeakSanitizer's
    // scan at exit faults there.
    brsim::asan_restore_main_stack();
  }
  brsim::reset_systemc_kernel();  // unmaps the thread's stack
}

}  // namespace

TEST(CoroutineStacks, ANewSimulationRunsCleanOnAStackAbandonedInWait) {
  // The second simulation's thread gets the first one's stack addresses
  // (the same size of mapping, just unmapped); its uninstrumented frame then
  // lies where the first thread's out-of-scope buffer was. Without clean
  // shadow for fresh mappings, ASan reports stack-use-after-scope in
  // sum_bytes. A few tries in case another mapping took the range between.
  bool overlapped = false;
  for (int attempt = 0; attempt < 8 && !overlapped; ++attempt) {
    simulate(poison_and_wait);
    simulate(fill_and_sum);
    EXPECT_EQ(g_sum, 8192u);
    const uintptr_t lo = std::max(g_first_buffer, g_second_buffer);
    const uintptr_t hi = std::min(g_first_buffer, g_second_buffer) + 8192;
    overlapped = lo < hi;
  }
  EXPECT_TRUE(overlapped) << "the second thread never ran on the first one's stack addresses";
}

// brsim layer's preparation pipeline: every layer prepared once, whatever
// order its thread takes them in, each result taken in layer order.
TEST(LayerPipeline, EveryLayerOnceAndTheResultsInLayerOrder) {
  for (const std::vector<size_t>& order : {std::vector<size_t>{0, 1, 2, 3, 4, 5}, std::vector<size_t>{5, 3, 4, 0, 2, 1}}) {
    std::mutex m;
    std::multiset<size_t> started;
    LayerPipeline<std::string> p(order, [&](size_t i) {
      std::lock_guard<std::mutex> l(m);
      started.insert(i);
      return "layer " + std::to_string(i);
    });
    for (size_t i = 0; i < 6; ++i) EXPECT_EQ(p.take(i), "layer " + std::to_string(i));
    EXPECT_EQ(started, (std::multiset<size_t>{0, 1, 2, 3, 4, 5}));
  }
}

// A failing layer's exception comes out of take() at that layer, the
// first failing one in layer order, even when a later one failed first;
// the layers before it are taken as usual.
TEST(LayerPipeline, TheFirstFailingLayerInLayerOrderIsReported) {
  LayerPipeline<size_t> p({3, 2, 1, 0}, [](size_t i) -> size_t {
    if (i == 1 || i == 3) throw std::runtime_error("layer " + std::to_string(i));
    return i * 10;
  });
  EXPECT_EQ(p.take(0), 0u);
  try {
    p.take(1);
    ADD_FAILURE() << "layer 1 did not fail";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "layer 1");
  }
}
