// Fast mode's AVX-512 kernels (models/fast/kernels512.h) against their AVX2
// namesakes (models/fast/kernels.h), which the fast-mode tests hold to the
// cycle-by-cycle model: random folds, every specialisation the dispatch
// picks, registers, outputs and every count equal. Skipped where the CPU
// lacks AVX-512 (or BRSIM_SIMD asks for fewer kernels).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "dram_layout.h"
#include "kernels.h"
#include "kernels512.h"
#include "simd.h"
#include "stream_fn.h"
#include "worker.h"

namespace brsim {
namespace {

#if BRSIM_X86
struct StreamCase {
  size_t R, c8, rows, cols, out_stride, out_pixel;
  uint64_t P, p0, p1;
  int acc_bits;
  std::vector<int32_t> w, act, ps, pr;
  std::vector<int64_t> out;
};

int64_t acc_lo(int bits) { return bits >= 64 ? std::numeric_limits<int64_t>::min() : -(int64_t{1} << (bits - 1)); }
int64_t acc_hi(int bits) { return bits >= 64 ? std::numeric_limits<int64_t>::max() : (int64_t{1} << (bits - 1)) - 1; }

StreamCase random_case(std::mt19937_64& g) {
  auto pick = [&](std::initializer_list<size_t> v) { return *(v.begin() + g() % v.size()); };
  StreamCase c;
  c.R = pick({8, 16, 16, 24, 32, 40});
  c.c8 = pick({16, 16, 32, 48});
  c.rows = 1 + g() % c.R;
  c.cols = 1 + g() % c.c8;
  c.out_stride = pick({1, 1, 2});
  c.out_pixel = c.out_stride == 1 ? pick({0, 0, c.cols + 3}) : c.cols * 2;
  c.P = 1 + g() % 70;
  c.p0 = g() % c.P;
  c.p1 = c.p0 + 1 + g() % (c.P - c.p0);
  c.acc_bits = static_cast<int>(pick({20, 31, 32, 40, 48, 62, 64}));
  // Small magnitudes half the time (sums stay in range, the vector output
  // path runs); full 32-bit values otherwise (wraps in 32 bits, overflows).
  const bool small = g() % 2;
  auto v32 = [&]() {
    return small ? static_cast<int32_t>(g() % 2001) - 1000 : static_cast<int32_t>(static_cast<uint32_t>(g()));
  };
  c.w.resize(c.R * c.c8);
  for (size_t r = 0; r < c.R; ++r)
    for (size_t k = 0; k < c.c8; ++k) c.w[r * c.c8 + k] = r < c.rows && k < c.cols ? v32() : 0;
  c.act.resize(c.P * c.R);
  for (auto& x : c.act) x = v32();
  c.ps.resize(c.R * c.c8);
  c.pr.resize(c.R * c.c8);
  for (auto& x : c.ps) x = v32();
  for (auto& x : c.pr) x = v32();
  const size_t per_pixel = c.out_pixel ? c.out_pixel : c.cols;
  c.out.resize(c.P * per_pixel + c.cols * c.out_stride);
  const int64_t lo = acc_lo(c.acc_bits), hi = acc_hi(c.acc_bits);
  for (auto& x : c.out) {
    const int64_t r = static_cast<int64_t>(g() >> 1) % (small ? 100000 : std::numeric_limits<int64_t>::max());
    x = std::clamp<int64_t>(g() % 2 ? r : -r, lo, hi);
  }
  return c;
}

// Runs one kernel on a copy of the case: registers, outputs and counts after.
struct StreamResult {
  std::vector<int32_t> ps, pr;
  std::vector<int64_t> out;
  Counts32 n;
};
StreamResult run(StreamFn fn, const StreamCase& c, bool out) {
  StreamResult r{c.ps, c.pr, c.out, {}};
  const uint32_t m32 = c.acc_bits < 32 ? (uint32_t{1} << c.acc_bits) - 1 : ~0u;
  Stream32 s{r.ps.data(), r.pr.data(), c.w.data(), c.act.data(), c.R, c.rows, c.R, c.c8, r.out.data(), c.cols,
             acc_lo(c.acc_bits), acc_hi(c.acc_bits), c.acc_bits, m32};
  s.out_stride = c.out_stride;
  s.out_pixel = c.out_pixel;
  fn(s, c.p0, c.p1, &r.n, out);
  return r;
}

TEST(FastKernels, Stream512EqualsStreamAvx2OnRandomFolds) {
  if (!kHasAvx512) GTEST_SKIP() << "the CPU has no AVX-512 F/VL/BW/DQ/VPOPCNTDQ (or BRSIM_SIMD asks for fewer kernels)";
  std::mt19937_64 g(20261206);
  int pairs = 0;
  for (int iter = 0; iter < 1500; ++iter) {
    const StreamCase c = random_case(g);
    const bool masked = c.acc_bits < 32;
    for (int mode = 0; mode < 3; ++mode) {  // no activity; products counted here; products from the tables
      const bool activity = mode > 0, products = mode == 1;
      const bool out = g() % 4 != 0;
      const StreamResult a = run(stream_fn_avx2(activity, masked, products, c.c8, c.R), c, out);
      const StreamResult b = run(stream_fn512(activity, masked, products, c.c8, c.R), c, out);
      const std::string at = "iter " + std::to_string(iter) + " mode " + std::to_string(mode) + " R " +
                             std::to_string(c.R) + " c8 " + std::to_string(c.c8) + " rows " + std::to_string(c.rows) +
                             " pixels [" + std::to_string(c.p0) + ", " + std::to_string(c.p1) + ") acc_bits " +
                             std::to_string(c.acc_bits);
      ASSERT_EQ(a.ps, b.ps) << at;
      ASSERT_EQ(a.pr, b.pr) << at;
      ASSERT_EQ(a.out, b.out) << at;
      ASSERT_EQ(a.n.pop_p, b.n.pop_p) << at;
      ASSERT_EQ(a.n.pop_s, b.n.pop_s) << at;
      ASSERT_EQ(a.n.sign_p, b.n.sign_p) << at;
      ASSERT_EQ(a.n.sign_s, b.n.sign_s) << at;
      ASSERT_EQ(a.n.out_overflows, b.n.out_overflows) << at;
      pairs += mode == 2 && c.c8 == 16 && c.R % 8 == 0 && !masked && c.p1 - c.p0 >= 2;
    }
  }
  EXPECT_GT(pairs, 100);  // the two-pixel path ran
}

BRSIM_TARGET_AVX2 uint32_t fold1_with_avx2(const int32_t* tbl16, int half_mask, int code_bits, const uint8_t* codes,
                                           const int32_t* a, size_t R, size_t C, bool activity, uint32_t m32,
                                           int32_t* w32, int32_t* bottom, Counts32* n) {
  const __m256i w0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(tbl16));
  const __m256i w1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(tbl16 + 8));
  if (!activity) return fold1_avx2<false, false>(w0, w1, half_mask, code_bits, codes, a, R, C, m32, w32, bottom, n);
  if (m32 != ~0u) return fold1_avx2<true, true>(w0, w1, half_mask, code_bits, codes, a, R, C, m32, w32, bottom, n);
  return fold1_avx2<true, false>(w0, w1, half_mask, code_bits, codes, a, R, C, m32, w32, bottom, n);
}

TEST(FastKernels, Fold1Avx512EqualsFold1Avx2OnRandomFolds) {
  if (!kHasAvx512) GTEST_SKIP() << "the CPU has no AVX-512 F/VL/BW/DQ/VPOPCNTDQ (or BRSIM_SIMD asks for fewer kernels)";
  std::mt19937_64 g(6122026);
  for (int iter = 0; iter < 2000; ++iter) {
    const size_t R = 16 * (1 + g() % 3), C = 16 * (1 + g() % 3);
    const int code_bits = 2 + static_cast<int>(g() % 4), half_mask = (1 << (code_bits - 1)) - 1;
    const bool activity = g() % 4 != 0;
    const uint32_t m32 = g() % 3 == 0 ? (uint32_t{1} << (20 + g() % 12)) - 1 : ~0u;
    alignas(64) int32_t tbl[16];
    const int mag_bits = 1 + static_cast<int>(g() % 24);
    for (int32_t& x : tbl) x = static_cast<int32_t>(g() % (uint64_t{1} << mag_bits));
    std::vector<uint8_t> codes(R * C);
    for (auto& x : codes) x = static_cast<uint8_t>(g() % (1u << code_bits));
    std::vector<int32_t> a(R);
    for (auto& x : a) x = static_cast<int32_t>(static_cast<uint32_t>(g())) >> (g() % 32);
    std::vector<int32_t> w_a(R * C), w_b(R * C), bottom_a(C), bottom_b(C);
    Counts32 n_a, n_b;
    const uint32_t max_a =
        fold1_with_avx2(tbl, half_mask, code_bits, codes.data(), a.data(), R, C, activity, m32, w_a.data(), bottom_a.data(), &n_a);
    const uint32_t max_b =
        fold1_512(tbl, half_mask, code_bits, codes.data(), a.data(), R, C, activity, m32, w_b.data(), bottom_b.data(), &n_b);
    const std::string at = "iter " + std::to_string(iter) + " R " + std::to_string(R) + " C " + std::to_string(C);
    ASSERT_EQ(max_a, max_b) << at;
    ASSERT_EQ(w_a, w_b) << at;
    ASSERT_EQ(bottom_a, bottom_b) << at;
    ASSERT_EQ(n_a.pop_p, n_b.pop_p) << at;
    ASSERT_EQ(n_a.pop_s, n_b.pop_s) << at;
    ASSERT_EQ(n_a.sign_p, n_b.sign_p) << at;
    ASSERT_EQ(n_a.sign_s, n_b.sign_s) << at;
  }
}

BRSIM_TARGET_AVX2 void row_toggles_with_avx2(const int32_t* x, uint64_t P, const int32_t* w32, uint32_t m32,
                                               uint64_t ext, uint32_t* t) {
  __m256i tw[4];
  for (int v = 0; v < 4; ++v) tw[v] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w32 + 8 * v));
  row_product_toggles(x, P, tw, m32, ext, t);
}

TEST(FastKernels, RowProductToggles512EqualsAvx2) {
  if (!kHasAvx512) GTEST_SKIP() << "the CPU has no AVX-512 F/VL/BW/DQ/VPOPCNTDQ (or BRSIM_SIMD asks for fewer kernels)";
  std::mt19937_64 g(99);
  for (int iter = 0; iter < 400; ++iter) {
    const uint64_t P = g() % 300;
    std::vector<int32_t> x(P);
    for (auto& v : x) v = static_cast<int32_t>(static_cast<uint32_t>(g())) >> (g() % 32);
    alignas(64) int32_t w[32];
    for (auto& v : w) v = static_cast<int32_t>(static_cast<uint32_t>(g())) >> (g() % 32);
    const uint32_t m32 = g() % 2 ? ~0u : (uint32_t{1} << (16 + g() % 16)) - 1;
    const uint64_t ext = m32 == ~0u ? g() % 33 : 0;
    uint32_t a[32], b[32];
    row_toggles_with_avx2(x.data(), P, w, m32, ext, a);
    row_product_toggles512(x.data(), P, w, m32, ext, b);
    ASSERT_TRUE(std::equal(a, a + 32, b)) << "iter " << iter << " P " << P;
  }
}

BRSIM_TARGET_AVX2 void fold1_bits_with_avx2(const uint8_t* codes, size_t n, const uint8_t* lut16, int half_mask,
                                              int sign_bit, uint16_t* nb, uint64_t* z, uint64_t* q) {
  alignas(32) uint8_t lut[32];
  std::copy(lut16, lut16 + 16, lut), std::copy(lut16, lut16 + 16, lut + 16);
  fold1_bits_avx2(codes, n, _mm256_load_si256(reinterpret_cast<const __m256i*>(lut)), half_mask, sign_bit, nb, z, q);
}

TEST(FastKernels, Fold1Bits512EqualsAvx2) {
  if (!kHasAvx512) GTEST_SKIP() << "the CPU has no AVX-512 F/VL/BW/DQ/VPOPCNTDQ (or BRSIM_SIMD asks for fewer kernels)";
  std::mt19937_64 g(77);
  for (int iter = 0; iter < 500; ++iter) {
    const size_t n = 32 * (1 + g() % 40);
    const int code_bits = 2 + static_cast<int>(g() % 4), half_mask = (1 << (code_bits - 1)) - 1;
    uint8_t lut[16];
    for (auto& x : lut) x = static_cast<uint8_t>(g() % 8) & 0xfd;  // register bits: bit 1 is the sign's
    std::vector<uint8_t> codes(n);
    for (auto& x : codes) x = static_cast<uint8_t>(g() % (1u << code_bits));
    std::vector<uint16_t> a(n), b(n);
    uint64_t za = 0, qa = 0, zb = 0, qb = 0;
    fold1_bits_with_avx2(codes.data(), n, lut, half_mask, code_bits - 1, a.data(), &za, &qa);
    fold1_bits512(codes.data(), n, lut, half_mask, code_bits - 1, b.data(), &zb, &qb);
    ASSERT_EQ(a, b) << "iter " << iter << " n " << n;
    ASSERT_EQ(za, zb) << "iter " << iter;
    ASSERT_EQ(qa, qb) << "iter " << iter;
  }
}

// The weight registers' row differences: the scalar sums (BRSIM_SIMD=scalar's
// path, written out here) against the 512-bit ones.
TEST(FastKernels, RowDiffSums512EqualsTheScalarSums) {
  if (!kHasAvx512) GTEST_SKIP() << "the CPU has no AVX-512 F/VL/BW/DQ/VPOPCNTDQ (or BRSIM_SIMD asks for fewer kernels)";
  std::mt19937_64 g(31);
  for (int iter = 0; iter < 500; ++iter) {
    const size_t R = 2 + g() % 70, c4 = g() % 3 == 0 ? 32 * (1 + g() % 2) : 16;
    std::vector<uint16_t> w(R * c4);
    const uint16_t mask = static_cast<uint16_t>(g());
    for (auto& x : w) x = static_cast<uint16_t>(g()) & mask;
    uint64_t want_s = 0, want_t = 0;
    for (size_t j = 1; j < R; ++j) {
      uint64_t d = 0;
      for (size_t k = 0; k < c4; ++k) d += static_cast<uint64_t>(__builtin_popcount(w[j * c4 + k] ^ w[(j - 1) * c4 + k]));
      want_s += d, want_t += j * d;
    }
    uint64_t s = 0, t = 0;
    row_diff_sums512(w.data(), R, c4, &s, &t);
    ASSERT_EQ(s, want_s) << "iter " << iter << " R " << R << " c4 " << c4;
    ASSERT_EQ(t, want_t) << "iter " << iter << " R " << R << " c4 " << c4;
  }
}

TEST(FastKernels, AddOutputs512MatchesTheWrappingAdd) {
  if (!kHasAvx512) GTEST_SKIP() << "the CPU has no AVX-512 F/VL/BW/DQ/VPOPCNTDQ (or BRSIM_SIMD asks for fewer kernels)";
  std::mt19937_64 g(17);
  for (int iter = 0; iter < 3000; ++iter) {
    const int bits = 8 + static_cast<int>(g() % 55);  // 8..62
    const int64_t lo = acc_lo(bits), hi = acc_hi(bits);
    const uint64_t n = 1 + g() % 40;
    std::vector<int64_t> o(n), want, before;
    std::vector<int32_t> x(n);
    for (auto& v : o) v = lo + static_cast<int64_t>(g() % static_cast<uint64_t>(hi - lo + 1));
    for (auto& v : x) v = static_cast<int32_t>(static_cast<uint32_t>(g())) >> (g() % 32);
    want = before = o;
    uint64_t ovf = 0;
    for (uint64_t c = 0; c < n; ++c) want[c] = wrapping_add(want[c], x[c], bits, lo, hi, &ovf);
    const uint64_t done = add_outputs_avx512(o.data(), x.data(), n, lo, hi);
    for (uint64_t c = done; c < n; ++c) o[c] = wrapping_add(o[c], x[c], bits, lo, hi, &ovf);
    ASSERT_EQ(o, want) << "iter " << iter;
    // It stops only at a block of 8 holding a sum that leaves the range.
    ASSERT_TRUE(done == n || done % 8 == 0) << "iter " << iter;
    if (done < n) {
      bool leaves = false;
      for (uint64_t c = done; c < std::min(n, done + 8); ++c) {
        const int64_t exact = before[c] + x[c];  // bits <= 62: exact in int64
        leaves |= exact < lo || exact > hi;
      }
      ASSERT_TRUE(leaves) << "iter " << iter;
    }
  }
}
#endif  // BRSIM_X86

// The weight unpack (controller's loads; VBMI, BMI2 or scalar, as the CPU
// and BRSIM_SIMD allow) against the bit stream read bit by bit: every code
// width, every length up to 300 codes, and buffers that end with the last
// code or run on past it.
TEST(Unpack, EveryWidthAndLengthReadsTheBitStream) {
  std::mt19937_64 g(7);
  for (int bits = 1; bits <= 8; ++bits)
    for (uint64_t n = 0; n <= 300; ++n)
      for (uint64_t extra : {0, 1, 9, 70}) {
        const uint64_t size = (n * static_cast<uint64_t>(bits) + 7) / 8 + extra;
        std::vector<uint8_t> src(size);
        for (uint8_t& b : src) b = static_cast<uint8_t>(g());
        std::vector<uint8_t> want(n), got(n + 64, 0xAB);
        for (uint64_t i = 0; i < n; ++i)
          for (int k = 0; k < bits; ++k) {
            const uint64_t at = i * static_cast<uint64_t>(bits) + static_cast<uint64_t>(k);
            want[i] = static_cast<uint8_t>(want[i] | ((src[at / 8] >> (at % 8)) & 1) << k);
          }
        unpack_weights(src.data(), size, n, bits, got.data());
        ASSERT_TRUE(std::equal(want.begin(), want.end(), got.begin())) << bits << " bits, " << n << " codes, " << size << " bytes";
        ASSERT_TRUE(std::all_of(got.begin() + static_cast<ptrdiff_t>(n), got.end(), [](uint8_t b) { return b == 0xAB; }))
            << "wrote past the codes: " << bits << " bits, " << n << " codes";
      }
}

// The worker's tasks (deferred streams) run in the order posted, each
// once, whether the caller or the worker waits by spinning or by blocking
// (no spin at all: every wait blocks), with the ring full, and with
// run_chunks calls between them (which wait for the tasks first).
TEST(Worker, TasksRunInOrderBesideChunks) {
  for (const int spin_us : {0, 50}) {
    Worker w{std::chrono::microseconds(spin_us)};
    struct Log {
      std::vector<uint64_t> order;  // written by the worker only
      uint64_t slow = 0;
    } log;
    struct Slot {
      Log* log;
      uint64_t i;
    };
    std::vector<Slot> slots(Worker::kTasks);
    auto task = [](void* c) {
      Slot& s = *static_cast<Slot*>(c);
      if (s.i % 97 == 0)  // now and then a slow one: the ring fills up
        for (int k = 0; k < 20000; ++k) s.log->slow += static_cast<uint64_t>(k) ^ s.i;
      s.log->order.push_back(s.i);
    };
    const uint64_t n = 5000;
    uint64_t chunk_sum = 0, expect_sum = 0;
    for (uint64_t i = 0; i < n; ++i) {
      w.wait_room();
      Slot& s = slots[w.tasks_posted() % Worker::kTasks];
      s = Slot{&log, i};
      w.post(task, &s);
      if (i % 500 == 499) {  // chunks between the tasks: every task posted before them is done first
        struct Sum {
          std::atomic<uint64_t> sum{0};
        } sum;
        w.run_chunks([](void* c, uint64_t k, int) { static_cast<Sum*>(c)->sum += k + 1; }, &sum, 10);
        ASSERT_EQ(log.order.size(), i + 1) << "spin " << spin_us;
        chunk_sum += sum.sum, expect_sum += 55;
      }
    }
    w.drain();
    ASSERT_TRUE(w.idle());
    ASSERT_EQ(log.order.size(), n);
    for (uint64_t i = 0; i < n; ++i) ASSERT_EQ(log.order[i], i) << "spin " << spin_us;
    EXPECT_EQ(chunk_sum, expect_sum);
  }
}

}  // namespace
}  // namespace brsim
