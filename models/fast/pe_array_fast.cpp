// Fast mode's BRSLog weight load and 32-bit stream (pe_array.h, "fast mode's
// own state"): the same register values, counts and outputs as the
// cycle-by-cycle array (tests FastMode.*), computed per fold with table
// lookups, word-wide popcounts and 8 PEs per AVX2 vector.
#include <immintrin.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>
#include <type_traits>

#include "avx2_popcount.h"
#include "datapath.h"
#include "pe_array.h"
#include "spin_wait.h"

namespace brsim {

namespace {

const bool kAvx2 = __builtin_cpu_supports("avx2");

// row_diff_sums() 16 lanes per vector (c4 a multiple of 16, R <= 64: the
// 16-bit sums below stay under 16 x 64 x 63 / 2): rows from the bottom up,
// the running sum of d_j added once per row gives sum_j j d_j.
__attribute__((target("avx2"))) void row_diff_sums_avx2(const uint16_t* w, size_t R, size_t c4, uint64_t* sum,
                                                        uint64_t* weighted) {
  const __m256i ones8 = _mm256_set1_epi8(1), ones16 = _mm256_set1_epi16(1);
  __m256i s32 = _mm256_setzero_si256(), t32 = s32;
  for (size_t k = 0; k < c4; k += 16) {
    __m256i acc = _mm256_setzero_si256(), wsum = acc;  // 16-bit lanes
    __m256i below = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(&w[(R - 1) * c4 + k]));
    for (size_t j = R - 1; j >= 1; --j) {
      const __m256i above = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(&w[(j - 1) * c4 + k]));
      acc = _mm256_add_epi16(acc, _mm256_maddubs_epi16(popcount_bytes(_mm256_xor_si256(below, above)), ones8));
      wsum = _mm256_add_epi16(wsum, acc);
      below = above;
    }
    s32 = _mm256_add_epi32(s32, _mm256_madd_epi16(acc, ones16));
    t32 = _mm256_add_epi32(t32, _mm256_madd_epi16(wsum, ones16));
  }
  alignas(32) uint32_t a[8], b[8];
  _mm256_store_si256(reinterpret_cast<__m256i*>(a), s32);
  _mm256_store_si256(reinterpret_cast<__m256i*>(b), t32);
  uint64_t S = 0, T = 0;
  for (int i = 0; i < 8; ++i) S += a[i], T += b[i];
  *sum = S, *weighted = T;
}

// Rows of c4 16-bit lanes (four PEs per 64-bit word; padding lanes zero):
// d_j = popcount(row j ^ row j-1) for j in [1, R); *sum = sum of d_j,
// *weighted = sum of j * d_j (see fast_load: how often each is seen).
void row_diff_sums(const uint16_t* w, size_t R, size_t c4, uint64_t* sum, uint64_t* weighted) {
  if (kAvx2 && c4 % 16 == 0 && R >= 2 && R <= 64) return row_diff_sums_avx2(w, R, c4, sum, weighted);
  uint64_t s = 0, t = 0;
  for (size_t j = 1; j < R; ++j) {
    uint64_t d = 0;
    for (size_t k = 0; k < c4; k += 4) {
      uint64_t a, b;
      std::memcpy(&a, &w[j * c4 + k], 8);
      std::memcpy(&b, &w[(j - 1) * c4 + k], 8);
      d += static_cast<uint64_t>(__builtin_popcountll(a ^ b));
    }
    s += d;
    t += d * j;
  }
  *sum = s, *weighted = t;
}

// popcount(row a ^ row b) over c4 16-bit lanes.
uint64_t row_diff(const uint16_t* a, const uint16_t* b, size_t c4) {
  uint64_t d = 0;
  for (size_t k = 0; k < c4; k += 4) {
    uint64_t x, y;
    std::memcpy(&x, &a[k], 8);
    std::memcpy(&y, &b[k], 8);
    d += static_cast<uint64_t>(__builtin_popcountll(x ^ y));
  }
  return d;
}

// One fold's pixels through the array in 32-bit lanes.
struct Stream32 {
  int32_t *ps, *pr;             // R rows of c8 lanes: the registers after the previous pixel
  const int32_t* w;             // R rows of c8 lanes (zero padded)
  const int32_t* act;           // pixel p, row r: act[p * act_stride + r]
  uint64_t act_stride, rows, R, c8;
  int64_t* out;                 // pixel p, column c < cols: out[p * out_pixel + c * out_stride]
  uint64_t cols;
  int64_t acc_lo, acc_hi;
  int acc_bits;
  uint32_t m32;                 // the low min(acc_bits, 32) bits
  uint64_t out_stride = 1, out_pixel = 0;  // out_pixel: pixel p's outputs at out[p * out_pixel + ...] (0: cols)
};

struct Counts32 {
  uint64_t pop_p = 0, pop_s = 0;    // popcount((x ^ y) & m32), products and partial sums
  uint64_t sign_p = 0, sign_s = 0;  // sign bits of x ^ y (each stands for acc_bits - 32 toggles)
  uint64_t out_overflows = 0;
  // The registers' toggles, with ext = acc_bits - 32 (0 when masked).
  uint64_t products(uint64_t ext) const { return pop_p + ext * sign_p; }
  uint64_t psums(uint64_t ext) const { return pop_s + ext * sign_s; }
};

__attribute__((target("avx2"))) inline uint64_t sum_u64_lanes(__m256i v) {
  alignas(32) uint64_t l[4];
  _mm256_store_si256(reinterpret_cast<__m256i*>(l), v);
  return l[0] + l[1] + l[2] + l[3];
}

// Pixels [p0, p1): row r of pixel p takes product a[p][r] * w and partial sum
// (row r - 1's sum of pixel p) + product, rows top to bottom, and the toggles
// against the registers' previous (pixel p - 1) values are counted. The
// sum of the bottom row goes to the output buffer (a wrapping accumulation).
// A partial sum only flows down its column, so each block of 8 columns runs
// through the rows with the sum from above kept in a register.
// With sign-extended 32-bit values, the acc_bits-bit register toggles
// popcount((x ^ y) & m32) + (acc_bits - 32) * sign(x ^ y) bits.
// Registers x[0..n) clearing to zero: sum of popcount(x & m32) and the
// count of negative values (each stands for acc_bits - 32 more toggles).
__attribute__((target("avx2"))) void clear_toggles_avx2(const int32_t* x, size_t n, uint32_t m32, uint64_t* pop,
                                                        uint64_t* neg) {
  const __m256i zero = _mm256_setzero_si256();
  const __m256i m = _mm256_set1_epi32(static_cast<int>(m32));
  __m256i acc = zero;
  uint64_t sign = 0;
  for (size_t i = 0; i < n; i += 8) {  // n is a multiple of 8
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + i));
    sign += static_cast<uint64_t>(__builtin_popcount(_mm256_movemask_ps(_mm256_castsi256_ps(v))));
    acc = _mm256_add_epi64(acc, _mm256_sad_epu8(popcount_bytes(_mm256_and_si256(v, m)), zero));
  }
  *pop += sum_u64_lanes(acc);
  *neg += sign;
}

// Adds the counts in *neg's 32-bit lanes (each minus a count) to *count; clears them.
__attribute__((target("avx2"))) inline void flush_negatives(__m256i* neg, uint64_t* count) {
  alignas(32) int32_t l[8];
  _mm256_store_si256(reinterpret_cast<__m256i*>(l), *neg);
  for (int k = 0; k < 8; ++k) *count += static_cast<uint32_t>(-l[k]);
  *neg = _mm256_setzero_si256();
}

// o[c] += x[c] for c from 0, four at a time while no sum leaves [lo, hi]
// (acc_bits <= 62: the sum of an accumulator value and an int32 is exact in
// int64); returns the first c not done (the caller wraps and counts from
// there, one at a time).
__attribute__((target("avx2"))) inline uint64_t add_outputs_avx2(int64_t* o, const int32_t* x, uint64_t n, int64_t lo,
                                                                 int64_t hi) {
  const __m256i lo4 = _mm256_set1_epi64x(lo), hi4 = _mm256_set1_epi64x(hi);
  uint64_t c = 0;
  for (; c + 4 <= n; c += 4) {
    __m256i* oc = reinterpret_cast<__m256i*>(o + c);
    const __m256i sum = _mm256_add_epi64(_mm256_loadu_si256(oc),
                                         _mm256_cvtepi32_epi64(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x + c))));
    const __m256i out = _mm256_or_si256(_mm256_cmpgt_epi64(sum, hi4), _mm256_cmpgt_epi64(lo4, sum));
    if (!_mm256_testz_si256(out, out)) break;
    _mm256_storeu_si256(oc, sum);
  }
  return c;
}

// kMasked: acc_bits < 32 (only then does m32 clear bits).
// out: false leaves the output buffer alone (a pixel that only sets the
// registers up for the pixels after it).
// kProducts: false leaves the product registers to product_toggles() (no
// counts, pr untouched).
// kC8: c8 known at compile time (16: the default 16 columns), so every
// register's offset is a constant (0: c8 from s).
template <bool kActivity, bool kMasked, bool kProducts = true, size_t kC8 = 0, size_t kR = 0>
__attribute__((target("avx2"))) void stream32_avx2(const Stream32& s, uint64_t p0, uint64_t p1, Counts32* n,
                                                   bool out) {
  // Locals: the stores below could alias the fields of s.
  int32_t* const ps = s.ps;
  int32_t* const pr = s.pr;
  const int32_t* const w = s.w;
  const size_t R = kR ? kR : s.R, rows = s.rows, c8 = kC8 ? kC8 : s.c8, n8 = c8 / 8;
  const __m256i zero = _mm256_setzero_si256();
  const __m256i m = _mm256_set1_epi32(static_cast<int>(s.m32));
  __m256i accp = zero, accs = zero;  // 64-bit lanes: popcounts
  uint64_t sign_p = 0, sign_s = 0, out_overflows = 0;
  __m256i negp = zero, negs = zero;  // 32-bit lanes: minus the count of sign bits of x ^ y
  CsaCounter csa_s;                  // partial-sum toggles of full blocks of 16 rows
  for (uint64_t p = p0; p < p1; ++p) {
    const int32_t* a = &s.act[p * s.act_stride];
    for (size_t v = 0; v < n8; ++v) {
      __m256i above = zero;
      for (size_t r0 = 0; r0 < R; r0 += 16) {
        __m256i cp = zero, cs = zero;  // byte lanes: at most 8 per row, 16 rows
        const size_t r1 = std::min(R, r0 + 16);
        // Row r: its product and partial sum for pixel p; returns the sum's
        // change (x ^ y, masked).
        // (Checked: the row may lie past the tile's, whose products are zero.)
        auto row = [&](size_t r, auto checked) __attribute__((target("avx2"), always_inline)) {
          const size_t i = r * c8 + 8 * v;
          const __m256i prod =
              !decltype(checked)::value || r < rows
                  ? _mm256_mullo_epi32(_mm256_set1_epi32(a[r]), _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + i)))
                  : zero;
          const __m256i next = _mm256_add_epi32(above, prod);
          if (kActivity && kProducts) {
            __m256i dp = _mm256_xor_si256(prod, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(pr + i)));
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(pr + i), prod);
            negp = _mm256_add_epi32(negp, _mm256_srai_epi32(dp, 31));
            if (kMasked) dp = _mm256_and_si256(dp, m);
            cp = _mm256_add_epi8(cp, popcount_bytes(dp));
          }
          __m256i ds = zero;
          if (kActivity) {
            ds = _mm256_xor_si256(next, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ps + i)));
            if (kMasked) ds = _mm256_and_si256(ds, m);
          }
          _mm256_storeu_si256(reinterpret_cast<__m256i*>(ps + i), next);
          above = next;
          return ds;
        };
        if (kActivity && r1 - r0 == 16) {  // carry-save counting, signs included
          size_t r = r0;
          if (r1 <= rows) csa_s.add16([&]() __attribute__((target("avx2"), always_inline)) { return row(r++, std::false_type{}); });
          else csa_s.add16([&]() __attribute__((target("avx2"), always_inline)) { return row(r++, std::true_type{}); });
        } else {
          for (size_t r = r0; r < r1; ++r) {
            const __m256i ds = row(r, std::true_type{});
            if (kActivity) {
              negs = _mm256_add_epi32(negs, _mm256_srai_epi32(ds, 31));
              cs = _mm256_add_epi8(cs, popcount_bytes(ds));
            }
          }
        }
        if (kActivity) {
          if (kProducts) accp = _mm256_add_epi64(accp, _mm256_sad_epu8(cp, zero));
          accs = _mm256_add_epi64(accs, _mm256_sad_epu8(cs, zero));
        }
      }
    }
    if (((p - p0) & 4095) == 4095) flush_negatives(&negp, &sign_p), flush_negatives(&negs, &sign_s);  // 32-bit lanes: 4096 x R at most
    // The bottom row's sums for pixel p go to the output buffer. Both terms
    // lie within the accumulator range, so only 64-bit accumulators can
    // leave int64.
    if (!out) continue;
    const int32_t* bottom = &ps[(R - 1) * c8];
    int64_t* o = &s.out[p * (s.out_pixel ? s.out_pixel : s.cols)];
    uint64_t c = 0;
    if (s.out_stride == 1 && s.acc_bits <= 62) c = add_outputs_avx2(o, bottom, s.cols, s.acc_lo, s.acc_hi);
    for (; c < s.cols; ++c) {
      int64_t& x = o[c * s.out_stride];
      x = wrapping_add(x, bottom[c], s.acc_bits, s.acc_lo, s.acc_hi, &out_overflows);
    }
  }
  n->pop_p += sum_u64_lanes(accp);
  n->pop_s += sum_u64_lanes(accs);
  flush_negatives(&negp, &sign_p), flush_negatives(&negs, &sign_s);
  if (kActivity) csa_s.totals(&n->pop_s, &sign_s);
  // Sign bits count only above 32 bits (kMasked: acc_bits <= 32, none).
  if (!kMasked) n->sign_p += sign_p, n->sign_s += sign_s;
  n->out_overflows += out_overflows;
}

// One output-stationary PE row (one pixel) over the fold's len reduction
// steps in 32-bit lanes: PE (r, c) accumulates a[k] w[k][c] in its own
// register, from zero; toggles of its product and sum registers between
// consecutive steps (as stream32_avx2 counts them) into n; the last values
// into pr and ac (c8 lanes). w: len rows of c8 lanes, zero padded. Every
// product must fit int32; false when a sum left int32 (n, pr and ac are
// then meaningless: the caller counts the fold in 64 bits).
template <bool kActivity, bool kMasked>
__attribute__((target("avx2"))) bool os_row_avx2(const int32_t* a, uint64_t len, const int32_t* w, size_t c8,
                                                 uint32_t m32, int32_t* pr, int32_t* ac, Counts32* n) {
  const __m256i zero = _mm256_setzero_si256(), m = _mm256_set1_epi32(static_cast<int>(m32));
  __m256i accp = zero, accs = zero, negp = zero, negs = zero, ovf = zero;
  uint64_t sign_p = 0, sign_s = 0;
  for (size_t c0 = 0; c0 < c8; c0 += 8) {
    __m256i p_reg = zero, s_reg = zero, cp = zero, cs = zero;
    for (uint64_t k = 0; k < len; ++k) {
      const __m256i p = _mm256_mullo_epi32(_mm256_set1_epi32(a[k]),
                                           _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + k * c8 + c0)));
      const __m256i x = _mm256_add_epi32(s_reg, p);
      // Signed overflow: both terms' signs differ from the sum's.
      ovf = _mm256_or_si256(ovf, _mm256_and_si256(_mm256_xor_si256(x, s_reg), _mm256_xor_si256(x, p)));
      if (kActivity) {
        __m256i dp = _mm256_xor_si256(p, p_reg), ds = _mm256_xor_si256(x, s_reg);
        negp = _mm256_add_epi32(negp, _mm256_srai_epi32(dp, 31));
        negs = _mm256_add_epi32(negs, _mm256_srai_epi32(ds, 31));
        if (kMasked) dp = _mm256_and_si256(dp, m), ds = _mm256_and_si256(ds, m);
        cp = _mm256_add_epi8(cp, popcount_bytes(dp));
        cs = _mm256_add_epi8(cs, popcount_bytes(ds));
        if ((k & 15) == 15) {  // byte lanes: at most 8 per step
          accp = _mm256_add_epi64(accp, _mm256_sad_epu8(cp, zero));
          accs = _mm256_add_epi64(accs, _mm256_sad_epu8(cs, zero));
          cp = cs = zero;
        }
        if ((k & 4095) == 4095) flush_negatives(&negp, &sign_p), flush_negatives(&negs, &sign_s);
      }
      p_reg = p, s_reg = x;
    }
    if (kActivity) {
      accp = _mm256_add_epi64(accp, _mm256_sad_epu8(cp, zero));
      accs = _mm256_add_epi64(accs, _mm256_sad_epu8(cs, zero));
    }
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(pr + c0), p_reg);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(ac + c0), s_reg);
  }
  if (_mm256_movemask_ps(_mm256_castsi256_ps(ovf)) != 0) return false;
  if (!kActivity) return true;
  flush_negatives(&negp, &sign_p), flush_negatives(&negs, &sign_s);
  n->pop_p += sum_u64_lanes(accp);
  n->pop_s += sum_u64_lanes(accs);
  if (!kMasked) n->sign_p += sign_p, n->sign_s += sign_s;
  return true;
}

// The product register of a PE with weight w(code) over one activation row
// x[0..P), from zero and back to zero: toggles sum over p of the bits of
// x_p w ^ x_(p-1) w (x_-1 = x_P = 0), low 32 bits masked by m32, plus ext
// per negative difference, for the 32 codes of tw (4 vectors) at once, into
// t[code]. Products in 32 bits (exact for every code whose products fit).
__attribute__((target("avx2"))) void row_product_toggles(const int32_t* x, uint64_t P, const __m256i tw[4],
                                                         uint32_t m32, uint64_t ext, uint32_t* t) {
  const __m256i zero = _mm256_setzero_si256(), m = _mm256_set1_epi32(static_cast<int>(m32));
  const __m256i ones8 = _mm256_set1_epi8(1), ones16 = _mm256_set1_epi16(1);
  __m256i prev[4], cnt[4], acc[4], neg[4];
  for (int v = 0; v < 4; ++v) prev[v] = cnt[v] = acc[v] = neg[v] = zero;
  for (uint64_t p = 0; p <= P; ++p) {
    const __m256i a = _mm256_set1_epi32(p < P ? x[p] : 0);
    for (int v = 0; v < 4; ++v) {
      const __m256i cur = _mm256_mullo_epi32(a, tw[v]);
      const __m256i d = _mm256_xor_si256(cur, prev[v]);
      prev[v] = cur;
      neg[v] = _mm256_sub_epi32(neg[v], _mm256_srai_epi32(d, 31));
      cnt[v] = _mm256_add_epi8(cnt[v], popcount_bytes(_mm256_and_si256(d, m)));
    }
    if (p % 31 == 30 || p == P)  // byte lanes hold 31 steps of at most 8
      for (int v = 0; v < 4; ++v) {
        acc[v] = _mm256_add_epi32(acc[v], _mm256_madd_epi16(_mm256_maddubs_epi16(cnt[v], ones8), ones16));
        cnt[v] = zero;
      }
  }
  alignas(32) uint32_t pc[32], ng[32];
  for (int v = 0; v < 4; ++v) {
    _mm256_store_si256(reinterpret_cast<__m256i*>(pc + 8 * v), acc[v]);
    _mm256_store_si256(reinterpret_cast<__m256i*>(ng + 8 * v), neg[v]);
  }
  for (int c = 0; c < 32; ++c) t[c] = static_cast<uint32_t>(pc[c] + ext * ng[c]);  // P < 2^24 (product_toggles)
}

// A fold of one pixel (fully connected layers, batch 1): every register
// goes 0 -> value -> 0, so each toggles twice its bits (popcount of the
// low 32 bits masked, plus acc_bits - 32 per negative value), but PE
// (R-1, C-1), whose product and sum stay until the next fold (counted there
// once). Pops and signs of every PE once, and the bottom row, into n and
// bottom; no register arrays. a: the pixel's rows values; w: R rows of c8
// lanes (zero padded).
template <bool kActivity>
__attribute__((target("avx2"))) void stream1_avx2(const int32_t* a, const int32_t* w, size_t rows, size_t R, size_t c8,
                                                   uint32_t m32, Counts32* n, int32_t* bottom) {
  const __m256i zero = _mm256_setzero_si256();
  const __m256i m = _mm256_set1_epi32(static_cast<int>(m32));
  __m256i accp = zero, accs = zero;
  uint64_t sign_p = 0, sign_s = 0;
  CsaCounter csa_p, csa_s;  // blocks of 16 rows inside the tile
  for (size_t c0 = 0; c0 < c8; c0 += 8) {
    __m256i above = zero;
    for (size_t r0 = 0; r0 < R; r0 += 16) {
      __m256i cp = zero, cs = zero;  // byte lanes: at most 8 per row, 16 rows
      const size_t r1 = std::min(R, r0 + 16);
      if (kActivity && r1 - r0 == 16 && r1 <= rows) {  // products counted as made, sums after (masked)
        __m256i sums[16];
        size_t r = r0;
        csa_p.add16([&]() __attribute__((target("avx2"), always_inline)) {
          const __m256i prod =
              _mm256_mullo_epi32(_mm256_set1_epi32(a[r]), _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + r * c8 + c0)));
          above = _mm256_add_epi32(above, prod);
          sums[r++ - r0] = _mm256_and_si256(above, m);
          return _mm256_and_si256(prod, m);
        });
        size_t k = 0;
        csa_s.add16([&]() __attribute__((target("avx2"), always_inline)) { return sums[k++]; });
        continue;
      }
      for (size_t r = r0; r < r1; ++r) {
        const __m256i av = _mm256_set1_epi32(r < rows ? a[r] : 0);
        const __m256i prod =
            _mm256_mullo_epi32(av, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + r * c8 + c0)));
        above = _mm256_add_epi32(above, prod);
        if (kActivity) {
          sign_p += static_cast<uint64_t>(__builtin_popcount(_mm256_movemask_ps(_mm256_castsi256_ps(prod))));
          sign_s += static_cast<uint64_t>(__builtin_popcount(_mm256_movemask_ps(_mm256_castsi256_ps(above))));
          cp = _mm256_add_epi8(cp, popcount_bytes(_mm256_and_si256(prod, m)));
          cs = _mm256_add_epi8(cs, popcount_bytes(_mm256_and_si256(above, m)));
        }
      }
      if (kActivity) {
        accp = _mm256_add_epi64(accp, _mm256_sad_epu8(cp, zero));
        accs = _mm256_add_epi64(accs, _mm256_sad_epu8(cs, zero));
      }
    }
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(bottom + c0), above);
  }
  n->pop_p += sum_u64_lanes(accp);
  n->pop_s += sum_u64_lanes(accs);
  if (kActivity) csa_p.totals(&n->pop_p, &sign_p), csa_s.totals(&n->pop_s, &sign_s);
  n->sign_p += sign_p, n->sign_s += sign_s;
}

// One pass over a fold's activations (rows of `rows` values, P of them),
// pixels [p0, p1): the largest |a| and the toggles of one activation
// register the stream (0, A[0], .., A[P-1], 0) passes through, summed over
// the rows: the changes into pixels p0 .. p1 - 1 and, when p1 = P, the
// last one back to zero (so the passes of consecutive ranges add up).
__attribute__((target("avx2"))) uint64_t act_pass_avx2(const int32_t* act, uint64_t stride, uint64_t p0, uint64_t p1,
                                                       uint64_t P, uint64_t rows, uint32_t mask, uint64_t* amax) {
  const __m256i zero = _mm256_setzero_si256();
  const __m256i m = _mm256_set1_epi32(static_cast<int>(mask));
  __m256i acc = zero, mx = zero;
  const uint64_t last = p1 == P ? P : p1 - 1;  // the last step: pixel p1 - 1, or the zero after pixel P - 1
  for (uint64_t r0 = 0; r0 < rows; r0 += 8) {
    // Lanes past the last row load nothing (zero): no toggles, no magnitude.
    alignas(32) int32_t lane_on[8];
    for (uint64_t k = 0; k < 8; ++k) lane_on[k] = r0 + k < rows ? -1 : 0;
    const __m256i on = _mm256_load_si256(reinterpret_cast<const __m256i*>(lane_on));
    __m256i prev = p0 > 0 ? _mm256_maskload_epi32(&act[(p0 - 1) * stride + r0], on) : zero;
    __m256i cnt = zero;  // byte lanes, flushed every 31 pixels
    for (uint64_t p = p0; p <= last; ++p) {
      const __m256i x = p < P ? _mm256_maskload_epi32(&act[p * stride + r0], on) : zero;
      cnt = _mm256_add_epi8(cnt, popcount_bytes(_mm256_and_si256(_mm256_xor_si256(x, prev), m)));
      mx = _mm256_max_epu32(mx, _mm256_abs_epi32(x));  // |INT32_MIN| = 2^31 as unsigned
      prev = x;
      if ((p - p0) % 31 == 30) {
        acc = _mm256_add_epi64(acc, _mm256_sad_epu8(cnt, zero));
        cnt = zero;
      }
    }
    acc = _mm256_add_epi64(acc, _mm256_sad_epu8(cnt, zero));
  }
  alignas(32) uint32_t l[8];
  _mm256_store_si256(reinterpret_cast<__m256i*>(l), mx);
  *amax = *std::max_element(l, l + 8);
  return sum_u64_lanes(acc);
}

constexpr std::chrono::microseconds kWorkerSpin{20};  // the stream worker's hand-overs

using StreamFn = void (*)(const Stream32&, uint64_t, uint64_t, Counts32*, bool);

// stream32_avx2 for a fold: activity counted or not, masked (acc_bits < 32)
// or sign-extended, products counted here or from the tables.
StreamFn stream_fn(bool activity, bool masked, bool products, size_t c8, size_t R) {
  if (!activity) return stream32_avx2<false, false>;
  if (c8 == 16 && R == 16 && !masked)
    return products ? stream32_avx2<true, false, true, 16, 16> : stream32_avx2<true, false, false, 16, 16>;
  if (c8 == 16 && !masked) return products ? stream32_avx2<true, false, true, 16> : stream32_avx2<true, false, false, 16>;
  if (products) return masked ? stream32_avx2<true, true> : stream32_avx2<true, false>;
  return masked ? stream32_avx2<true, true, false> : stream32_avx2<true, false, false>;
}

// Pixels [p0, p1) through registers that hold pixel *at (~0: none yet).
void stream_chunk(StreamFn fn, const Stream32& st, uint64_t p0, uint64_t p1, uint64_t* at, Counts32* n) {
  if (*at != p0 - 1 || p0 == 0) {
    if (p0 == 0) {  // the fold's registers start from zero
      std::fill(st.ps, st.ps + st.R * st.c8, 0);
      std::fill(st.pr, st.pr + st.R * st.c8, 0);
    } else {  // set up with pixel p0 - 1: uncounted, no output
      Counts32 setup;
      fn(st, p0 - 1, p0, &setup, false);
    }
  }
  fn(st, p0, p1, n, true);
  *at = p1 - 1;
}

}  // namespace

// The second thread of a fast-mode fold (PeArray::set_threads): runs a
// task's chunks with the calling thread. The worker claims chunks from the
// front, the caller from the back, one atomic word (generation, front,
// back) deciding who runs which. So the caller never waits for a worker
// that has not started (a busy machine): it runs the whole task itself, and
// waits only for the chunks the worker did claim. A fold's chunks write
// disjoint data and each thread its own counts, added up afterwards, so
// which thread runs which chunk changes nothing.
struct PeArray::StreamWorker {
  // A task: chunk(ctx, i, thread) runs chunk i on thread 0 (the caller) or 1.
  using ChunkFn = void (*)(void* ctx, uint64_t i, int thread);
  static constexpr int kSide = 20;  // bits of front and back; the generation above
  static constexpr uint64_t kSideMask = (uint64_t{1} << kSide) - 1;
  static uint64_t pack(uint64_t gen, uint64_t front, uint64_t back) {
    return gen << (2 * kSide) | front << kSide | back;
  }
  static uint64_t gen_of(uint64_t s) { return s >> (2 * kSide); }
  static uint64_t front_of(uint64_t s) { return (s >> kSide) & kSideMask; }
  static uint64_t back_of(uint64_t s) { return s & kSideMask; }

  std::mutex m;
  std::condition_variable work_cv, done_cv;
  std::atomic<uint64_t> posted{0};     // the current task's generation (0: none yet)
  std::atomic<uint64_t> state{0};      // pack(generation, front, back)
  std::atomic<uint64_t> completed{0};  // chunks the worker finished this generation
  bool quit = false;                   // under m
  // The task, set before its generation is posted; the worker reads it only
  // after claiming a chunk of that generation.
  ChunkFn fn = nullptr;
  void* ctx = nullptr;
  std::thread thread;

  StreamWorker() : thread([this] { loop(); }) {}
  ~StreamWorker() {
    {
      std::lock_guard<std::mutex> l(m);
      quit = true;
    }
    work_cv.notify_one();
    thread.join();
  }
  void loop() {
    uint64_t seen = 0;
    auto has_work = [&] { return posted.load(std::memory_order_acquire) != seen; };
    for (;;) {
      if (!spin_until(has_work, kWorkerSpin)) {
        std::unique_lock<std::mutex> l(m);
        work_cv.wait(l, [&] { return quit || has_work(); });
        if (!has_work()) return;  // quit
      }
      seen = posted.load(std::memory_order_acquire);
      for (;;) {
        uint64_t st = state.load(std::memory_order_acquire);
        if (gen_of(st) != seen || front_of(st) >= back_of(st)) break;
        if (!state.compare_exchange_weak(st, st + (uint64_t{1} << kSide), std::memory_order_acq_rel)) continue;
        fn(ctx, front_of(st), 1);
        {
          std::lock_guard<std::mutex> l(m);
          completed.fetch_add(1, std::memory_order_release);
        }
        done_cv.notify_one();
      }
    }
  }
  // Runs chunks [0, chunks) of task (f, c) on both threads; returns when all
  // are done, with the number the worker ran. min_back 1: the caller leaves
  // chunk 0 to the worker (tests).
  uint64_t run(ChunkFn f, void* c, uint64_t chunks, uint64_t min_back) {
    fn = f, ctx = c;
    completed.store(0, std::memory_order_relaxed);
    uint64_t gen = (posted.load(std::memory_order_relaxed) + 1) & ((uint64_t{1} << (64 - 2 * kSide)) - 1);
    if (gen == 0) gen = 1;
    state.store(pack(gen, 0, chunks), std::memory_order_release);
    {
      std::lock_guard<std::mutex> l(m);
      posted.store(gen, std::memory_order_release);
    }
    work_cv.notify_one();
    for (;;) {
      uint64_t st = state.load(std::memory_order_acquire);
      if (front_of(st) >= back_of(st) || back_of(st) <= min_back) break;
      if (!state.compare_exchange_weak(st, st - 1, std::memory_order_acq_rel)) continue;
      f(c, back_of(st) - 1, 0);
    }
    // The chunks below `front` are the worker's: wait until it has claimed
    // and run the last of them.
    uint64_t front = 0;
    auto done = [&] {
      const uint64_t st = state.load(std::memory_order_acquire);
      front = front_of(st);
      return front >= back_of(st) && completed.load(std::memory_order_acquire) == front;
    };
    if (!spin_until(done, kWorkerSpin)) {
      std::unique_lock<std::mutex> l(m);
      done_cv.wait(l, done);
    }
    return front;
  }
};

void PeArray::StreamWorkerDeleter::operator()(StreamWorker* w) const { delete w; }

PeArray::~PeArray() = default;

// The decoder table of `cfg` under this fold's K (built on first use).
const PeArray::CodeTable& PeArray::code_table(const SegmentConfig& cfg) {
  for (const CodeTable& t : code_tables_)
    if (t.terms == approx_terms_ && t.cfg == cfg) return t;
  CodeTable t;
  t.cfg = cfg;
  t.terms = approx_terms_;
  const size_t n = size_t{1} << cfg.bits;
  t.e.resize(n);
  t.vec = n <= 32;
  for (uint32_t code = 0; code < n; ++code) {
    CodeEntry& e = t.e[code];
    e.d = decode(code, cfg);
    e.w = ae_effective_weight(e.d, approx_);
    e.mag = e.w < 0 ? 0 - static_cast<uint64_t>(e.w) : static_cast<uint64_t>(e.w);
    e.bits = static_cast<uint16_t>(register_bits(e.d));
    const int path = e.d.zero ? kPathZero : e.d.flag ? kPathSqrt2 : kPathPow2;
    e.path_one = uint64_t{1} << (kPathShift * path);
    t.vec &= e.mag <= INT32_MAX;
    t.max_mag = static_cast<uint32_t>(std::min<uint64_t>(std::max<uint64_t>(t.max_mag, e.mag), UINT32_MAX));
    if (code < 32) t.w32[code] = static_cast<int32_t>(e.w), t.bits32[code] = e.bits;
  }
  const uint32_t half = static_cast<uint32_t>(n / 2);
  t.sym = t.vec && half >= 1;
  for (uint32_t c = 0; t.sym && c < half; ++c)
    t.sym = t.w32[c + half] == -t.w32[c] && (t.bits32[c] & 2) == 0 && t.bits32[c + half] == (t.bits32[c] | 2);
  t.packed = t.sym && half <= 16;
  for (uint32_t c = 0; t.packed && c < half; ++c) {
    t.packed = t.w32[c] >= 0 && t.w32[c] < (1 << 24) && t.bits32[c] >= 0 && t.bits32[c] < (1 << 8);
    t.wb32[c] = t.w32[c] | (t.bits32[c] << 24);
    t.bits8[c] = t.bits8[c + 16] = static_cast<int8_t>(t.bits32[c]);
  }
  code_tables_.push_back(std::move(t));
  return code_tables_.back();
}

// weff_ and dec_ of the tile the last vector load left in w32_ and
// wbits16_ (fast_load_vec): each PE's decoded fields are its register bits
// (register_bits: zero, sign, flag, shift), its weight fits int32.
void PeArray::sync_weights() const {
  if (!weights_stale_) return;
  const size_t C = static_cast<size_t>(C_);
  for (size_t r = 0; r < static_cast<size_t>(R_); ++r)
    for (size_t c = 0; c < C; ++c) {
      const uint16_t b = wbits16_[r * c4_ + c];
      DecodedWeight& d = dec_[r * C + c];
      d.zero = b & 1, d.sign = (b >> 1) & 1, d.flag = static_cast<uint8_t>((b >> 2) & 1), d.shift = static_cast<uint8_t>(b >> 3);
      weff_[r * C + c] = w32_[r * c8_ + c];
    }
  weights_stale_ = false;
}

// Entries idx (0..31) of a 32-entry table held in four vectors of 8.
__attribute__((target("avx2"))) inline __m256i lookup32(const __m256i t[4], __m256i idx) {
  const __m256 b3 = _mm256_castsi256_ps(_mm256_slli_epi32(idx, 28));  // bit 3 of idx as the sign
  const __m256 b4 = _mm256_castsi256_ps(_mm256_slli_epi32(idx, 27));  // bit 4
  const __m256 lo = _mm256_blendv_ps(_mm256_castsi256_ps(_mm256_permutevar8x32_epi32(t[0], idx)),
                                     _mm256_castsi256_ps(_mm256_permutevar8x32_epi32(t[1], idx)), b3);
  const __m256 hi = _mm256_blendv_ps(_mm256_castsi256_ps(_mm256_permutevar8x32_epi32(t[2], idx)),
                                     _mm256_castsi256_ps(_mm256_permutevar8x32_epi32(t[3], idx)), b3);
  return _mm256_castps_si256(_mm256_blendv_ps(lo, hi, b4));
}

// A sign-symmetric table's lookup (CodeTable::sym) in registers: its lower
// half's weights (w0, w1: entries 0-7, 8-15) and register bits (b0, b1), or
// both packed in one word (wb0, wb1; CodeTable::packed).
struct SymLookup {
  __m256i w0, w1, b0, b1, wb0, wb1, half_mask, two, low24;
  __m128i sign_to_top;  // shifts bit (bits - 1) of a code to bit 31
  bool packed;
};

// The weights and register bits of 8 codes: the magnitude index's entry,
// negated (and the sign register bit, 2, set) where the code's sign bit is.
__attribute__((target("avx2"))) inline void sym_decode(const SymLookup& L, __m256i idx, __m256i* w, __m256i* b) {
  auto half = [&](__m256i t0, __m256i t1, __m256i j, __m256 b3) __attribute__((target("avx2"))) {
    return _mm256_castps_si256(_mm256_blendv_ps(_mm256_castsi256_ps(_mm256_permutevar8x32_epi32(t0, j)),
                                                _mm256_castsi256_ps(_mm256_permutevar8x32_epi32(t1, j)), b3));
  };
  const __m256i j = _mm256_and_si256(idx, L.half_mask);
  const __m256 b3 = _mm256_castsi256_ps(_mm256_slli_epi32(j, 28));  // bit 3 of j as the sign
  if (L.packed) {
    const __m256i e = half(L.wb0, L.wb1, j, b3);
    *w = _mm256_and_si256(e, L.low24), *b = _mm256_srli_epi32(e, 24);
  } else {
    *w = half(L.w0, L.w1, j, b3), *b = half(L.b0, L.b1, j, b3);
  }
  const __m256i neg = _mm256_srai_epi32(_mm256_sll_epi32(idx, L.sign_to_top), 31);  // all ones: sign bit set
  *w = _mm256_sub_epi32(_mm256_xor_si256(*w, neg), neg);
  *b = _mm256_or_si256(*b, _mm256_and_si256(neg, L.two));
}

// fast_load_brslog()'s decode when every column shares table t (t.vec): 8
// PEs per vector, looked up in registers. Writes w32_, the new register
// bits, col_sum_ and the AE paths (zero, pow2, sqrt2); weff_ and dec_
// follow on demand (sync_weights). False (nothing done) when a column sum
// of |w| could pass 32 bits.
__attribute__((target("avx2"))) bool PeArray::fast_load_vec(const CodeTable& t, uint64_t path[3]) {
  const size_t R = static_cast<size_t>(R_), C = static_cast<size_t>(C_), c4 = c4_, c8 = c8_;
  if (uint64_t{t.max_mag} * R > UINT32_MAX) return false;
  const uint64_t rows = job_.rows, cols = job_.cols;
  int32_t* const w32 = w32_.data();
  uint16_t* const nb = wbits16_new_.data();
  col_sum32_.assign(c8, 0);
  uint32_t* const cs = col_sum32_.data();
  __m256i tw[4], tb[4];
  for (int k = 0; k < 4; ++k) {
    tw[k] = _mm256_load_si256(reinterpret_cast<const __m256i*>(t.w32 + 8 * k));
    tb[k] = _mm256_load_si256(reinterpret_cast<const __m256i*>(t.bits32 + 8 * k));
  }
  const __m256i one = _mm256_set1_epi32(1), two = _mm256_set1_epi32(2);
  const int code_bits = t.cfg.bits;
  const __m256i half_mask = _mm256_set1_epi32(code_bits >= 1 ? (1 << (code_bits - 1)) - 1 : 0);
  const __m128i sign_to_top = _mm_cvtsi32_si128(32 - code_bits);  // bit (bits - 1) to bit 31
  // Per lane, over every lane (a zero weight never has the flag; lanes past
  // the tile hold the zero flag alone, or nothing): zero flags, sqrt2 flags.
  __m256i zeros = _mm256_setzero_si256(), sqrt2s = zeros;
  alignas(32) int32_t code[8], in[8], none[8];
  const SymLookup sym{tw[0],
                      tw[1],
                      tb[0],
                      tb[1],
                      _mm256_load_si256(reinterpret_cast<const __m256i*>(t.wb32)),
                      _mm256_load_si256(reinterpret_cast<const __m256i*>(t.wb32 + 8)),
                      half_mask,
                      two,
                      _mm256_set1_epi32((1 << 24) - 1),
                      sign_to_top,
                      t.packed};
  // A full tile, C a multiple of 8, a sign-symmetric table (the usual
  // case): codes, weights and register bits are each one contiguous run of
  // R x C lanes, decoded in one flat loop.
  const bool flat = t.sym && rows == R && cols == C && C % 8 == 0;
  if (flat) {
    const uint8_t* const codes = job_.codes;
    const size_t n = R * C, cv = C / 8;
    for (size_t i = 0, v = 0; i < n; i += 8, v = v + 1 == cv ? 0 : v + 1) {
      __m256i w, b;
      sym_decode(sym, _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(codes + i))), &w, &b);
      zeros = _mm256_add_epi32(zeros, _mm256_and_si256(b, one));
      sqrt2s = _mm256_add_epi32(sqrt2s, _mm256_and_si256(_mm256_srli_epi32(b, 2), one));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(w32 + i), w);
      __m256i* csv = reinterpret_cast<__m256i*>(cs + 8 * v);
      _mm256_storeu_si256(csv, _mm256_add_epi32(_mm256_loadu_si256(csv), _mm256_abs_epi32(w)));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(nb + i),
                       _mm_packus_epi32(_mm256_castsi256_si128(b), _mm256_extracti128_si256(b, 1)));
    }
  }
  for (size_t r = 0; r < (flat ? 0 : R); ++r) {
    const uint8_t* codes = r < rows ? &job_.codes[r * cols] : nullptr;
    for (size_t c0 = 0; c0 < c8; c0 += 8) {
      __m256i w, b;
      if (codes && c0 + 8 <= cols && t.sym) {  // 8 PEs of the tile: the lower half's entry, signed
        sym_decode(sym, _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(codes + c0))), &w, &b);
      } else if (codes && c0 + 8 <= cols) {  // 8 PEs of the tile
        const __m256i idx = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(codes + c0)));
        w = lookup32(tw, idx), b = lookup32(tb, idx);
      } else {  // lanes past the tile: no weight (bits: the zero flag) or padding (zero)
        for (size_t k = 0; k < 8; ++k) {
          const size_t c = c0 + k;
          const bool on = codes && c < cols;
          code[k] = on ? static_cast<int32_t>(codes[c]) : 0;
          in[k] = on ? -1 : 0;
          none[k] = !on && c < C ? CodeEntry{}.bits : 0;
        }
        const __m256i idx = _mm256_load_si256(reinterpret_cast<const __m256i*>(code));
        const __m256i inside = _mm256_load_si256(reinterpret_cast<const __m256i*>(in));
        w = _mm256_and_si256(lookup32(tw, idx), inside);
        b = _mm256_or_si256(_mm256_and_si256(lookup32(tb, idx), inside),
                            _mm256_load_si256(reinterpret_cast<const __m256i*>(none)));
      }
      // Register bits: 0 zero, 2 flag (BrsLog register_bits).
      zeros = _mm256_add_epi32(zeros, _mm256_and_si256(b, one));
      sqrt2s = _mm256_add_epi32(sqrt2s, _mm256_and_si256(_mm256_srli_epi32(b, 2), one));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(w32 + r * c8 + c0), w);
      __m256i* csv = reinterpret_cast<__m256i*>(cs + c0);
      _mm256_storeu_si256(csv, _mm256_add_epi32(_mm256_loadu_si256(csv), _mm256_abs_epi32(w)));
      const __m128i b16 = _mm_packus_epi32(_mm256_castsi256_si128(b), _mm256_extracti128_si256(b, 1));
      if (c0 + 8 <= c4) _mm_storeu_si128(reinterpret_cast<__m128i*>(nb + r * c4 + c0), b16);
      else _mm_storel_epi64(reinterpret_cast<__m128i*>(nb + r * c4 + c0), b16);  // C % 8 in [1, 4]: 4 lanes
    }
  }
  alignas(32) uint32_t z[8], q[8];
  _mm256_store_si256(reinterpret_cast<__m256i*>(z), zeros);
  _mm256_store_si256(reinterpret_cast<__m256i*>(q), sqrt2s);
  path[kPathZero] = path[kPathSqrt2] = 0;
  for (int k = 0; k < 8; ++k) path[kPathZero] += z[k], path[kPathSqrt2] += q[k];
  path[kPathZero] -= R * C - rows * cols;  // the lanes of no weight
  path[kPathPow2] = rows * cols - path[kPathZero] - path[kPathSqrt2];
  __m256i mx = _mm256_setzero_si256();  // the largest column sum (lanes past C hold zero)
  for (size_t c0 = 0; c0 < c8; c0 += 8)
    mx = _mm256_max_epu32(mx, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(cs + c0)));
  alignas(32) uint32_t m8[8];
  _mm256_store_si256(reinterpret_cast<__m256i*>(m8), mx);
  col_mag_max_ = *std::max_element(m8, m8 + 8);
  weights_stale_ = true;  // until sync_weights(), from w32_ and (after the swap) wbits16_
  return true;
}

// The columns' tables (col_table_): as the fold before's when the
// configurations are (the m-tile's folds all are). Returns the table every
// column shares, or null.
const PeArray::CodeTable* PeArray::fold_tables() {
  const uint64_t cols = job_.cols;
  const size_t C = static_cast<size_t>(C_);
  static_assert(std::has_unique_object_representations_v<SegmentConfig>, "compared with memcmp");
  if (col_key_terms_ != approx_terms_ || col_key_.size() != cols ||
      std::memcmp(col_key_.data(), job_.col_cfg, cols * sizeof(SegmentConfig)) != 0) {
    col_table_.resize(C);
    col_key_shared_ = nullptr;
    for (uint64_t c = 0; c < cols; ++c) {
      if (c > 0 && job_.col_cfg[c] == job_.col_cfg[c - 1]) {
        col_table_[c] = col_table_[c - 1];
        continue;
      }
      const CodeTable& t = code_table(job_.col_cfg[c]);
      col_table_[c] = t.e.data();
      col_key_shared_ = c == 0 ? &t : nullptr;
    }
    col_key_.assign(job_.col_cfg, job_.col_cfg + cols);
    col_key_terms_ = approx_terms_;
  }
  return col_key_shared_;
}

// The old tile's share of a load's weight-register toggles, sum_j (R - j)
// d_j, from its row differences (kept from when it was loaded).
uint64_t PeArray::old_weight_toggles() {
  const size_t R = static_cast<size_t>(R_), C = static_cast<size_t>(C_);
  if (!wbits_valid_) {  // the per-edge load ran last: take its registers
    for (size_t r = 0; r < R; ++r)
      for (size_t c = 0; c < C; ++c) wbits16_[r * c4_ + c] = static_cast<uint16_t>(weight_bits_of(r * C + c));
    wbits_valid_ = true;
    wdiff_valid_ = false;
  }
  if (activity_ && !wdiff_valid_) row_diff_sums(wbits16_.data(), R, c4_, &wdiff_sum_, &wdiff_weighted_);
  return activity_ ? R * wdiff_sum_ - wdiff_weighted_ : 0;
}

// The new tile's register bits (wbits16_new_) replace the old: the load's
// weight toggles (t: the old tile's share) and its buffer reads, register
// writes and cycles.
void PeArray::commit_weight_load(uint64_t t) {
  const size_t R = static_cast<size_t>(R_);
  if (activity_) {
    row_diff_sums(wbits16_new_.data(), R, c4_, &wdiff_sum_, &wdiff_weighted_);  // the new tile's, kept
    t += wdiff_weighted_;
    t += R * row_diff(&wbits16_[0], &wbits16_new_[(R - 1) * c4_], c4_);
    counters_.toggles_weight += t;
  }
  wbits16_.swap(wbits16_new_);
  wdiff_valid_ = activity_;
  wbuf_->read_words(job_.rows * wbuf_->words(job_.cols * static_cast<uint64_t>(wbits_)));  // a row per edge
  counters_.reg_writes += static_cast<uint64_t>(R) * weff_.size() * static_cast<uint64_t>(weight_reg_bits_);
  counters_.load_cycles += R;
}

uint64_t PeArray::fast_load_brslog() {
  const size_t R = static_cast<size_t>(R_), C = static_cast<size_t>(C_);
  const uint64_t rows = job_.rows, cols = job_.cols;
  const CodeTable* const shared = fold_tables();
  const uint64_t t = old_weight_toggles();

  uint64_t path[3] = {0, 0, 0}, mag_or = 0;
  // One table for every column, at most 32 codes, weights of at most 31 bits:
  // the vector decode.
  const bool vec = kAvx2 && vector_load_ && shared && shared->vec && fast_load_vec(*shared, path);
  vector_loads_ += vec;
  col_vec_table_ = vec ? shared : nullptr;
  if (!vec) {
    // Decode the tile (outside it, zero weights) into the views of the
    // weights (weff32_ is filled where it is used). Raw pointers: the stores
    // cannot alias the members then, so nothing is reloaded per PE.
    static const CodeEntry kNone;
    DecodedWeight* const dec = dec_.data();
    int64_t* const weff = weff_.data();
    int32_t* const w32 = w32_.data();
    uint16_t* const nb = wbits16_new_.data();
    col_sum_.assign(C, 0);
    uint64_t* const col_sum = col_sum_.data();
    const CodeEntry* const* const table = col_table_.data();
    const size_t c4 = c4_, c8 = c8_;
    uint64_t paths = 0;
    for (size_t r = 0; r < R; ++r) {
      const uint8_t* codes = r < rows ? &job_.codes[r * cols] : nullptr;
      const size_t in_cols = r < rows ? cols : 0;
      for (size_t c = 0; c < C; ++c) {
        const CodeEntry& e = c < in_cols ? table[c][codes[c]] : kNone;
        const size_t i = r * C + c;
        dec[i] = e.d;
        weff[i] = e.w;
        w32[r * c8 + c] = static_cast<int32_t>(e.w);
        nb[r * c4 + c] = e.bits;
        mag_or |= e.mag;
        col_sum[c] += e.mag;  // exact while every |w| < 2^31 (checked below)
        paths += c < in_cols ? e.path_one : 0;
      }
    }
    path[0] = paths & kPathMask, path[1] = (paths >> kPathShift) & kPathMask, path[2] = paths >> (2 * kPathShift);
    weights_stale_ = false;  // every PE's written above
  }
  counters_.decodes += rows * cols;
  commit_weight_load(t);

  // The MAC path (begin_stream's choice) from the column sums of |w|.
  const bool narrow = vec || mag_or <= INT32_MAX;
  if (!vec) {  // (the vector decode found col_mag_max_)
    col_mag_max_ = 0;
    for (size_t c = 0; c < C; ++c) {
      unsigned __int128 sum = col_sum_[c];
      if (!narrow) {  // rare: weights beyond 32 bits, sums in 128 bits
        sum = 0;
        for (size_t r = 0; r < R; ++r) {
          const int64_t w = weff_[r * C + c];
          sum += w < 0 ? 0 - static_cast<uint64_t>(w) : static_cast<uint64_t>(w);
        }
      }
      col_mag_max_ = std::max(col_mag_max_, sum);
    }
  }
  narrow_ = narrow;
  checked_ = col_mag_max_ * (static_cast<unsigned __int128>(1) << (act_bits_ - 1)) >
             static_cast<unsigned __int128>(acc_hi_);
  w32_ready_ = narrow;
  begin_fast_stream(path);
  return R;
}

// begin_stream() after a fold: every register is zero then but PE (R-1,
// C-1)'s product and partial sum (the last pixel's; fast_stream), so only
// those two clear with toggles. Counts the fold's actions (count_fold_actions)
// from the AE paths of its weights.
void PeArray::begin_fast_stream(const uint64_t path_count[3]) {
  phase_ = Phase::Stream;
  edge_ = 0;
  const size_t last = weff_.size() - 1;
  if (activity_) {
    counters_.toggles_product += static_cast<uint64_t>(__builtin_popcountll(static_cast<uint64_t>(prod_[last]) & acc_mask_));
    counters_.toggles_psum += static_cast<uint64_t>(__builtin_popcountll(static_cast<uint64_t>(psum_[last]) & acc_mask_));
  }
  prod_[last] = psum_[last] = 0;
  const uint64_t p = job_.p, tile = job_.rows * job_.cols;
  counters_.ae_zero += p * path_count[kPathZero];
  counters_.ae_pow2 += p * path_count[kPathPow2];
  counters_.ae_sqrt2 += p * path_count[kPathSqrt2];
  counters_.acc_adds += p * tile + p * job_.cols;
  counters_.reg_writes += static_cast<uint64_t>(R_ * C_) * static_cast<uint64_t>(act_bits_ + 2 * acc_bits_) *
                          (p + static_cast<uint64_t>(R_ + C_ - 1));
}

// The fold's activations as P rows of R values (pixel p's row r at
// [p * R + r], zero past job_.rows). In the im2col view a pixel's values are
// K apart, so a fold streaming straight from it touches a new cache line (and
// often a new page) per pixel; copied once per band and k-tile, the fold
// reads one contiguous block. Kept by act_id while later m-tiles will reuse
// the band (FoldJob::act_reuse), up to 256 MiB in all.
const int32_t* PeArray::fold_acts() {
  constexpr uint64_t kMaxBytes = uint64_t{256} << 20;
  const uint64_t P = job_.p, K = job_.act_stride, rows = job_.rows, R = static_cast<uint64_t>(R_);
  auto copy = [&](int32_t* dst) {
    const int32_t* src = job_.act + job_.p0 * K + job_.k0;
    for (uint64_t p = 0; p < P; ++p, src += K, dst += R) {
      std::memcpy(dst, src, rows * sizeof(int32_t));
      std::fill(dst + rows, dst + R, 0);
    }
  };
  auto scratch = [&] {  // this fold's alone
    act_scratch_.resize(P * R);
    copy(act_scratch_.data());
    return act_scratch_.data();
  };
  const uint64_t tiles = (K + R - 1) / R;
  if (job_.act_id == 0 || job_.k0 % R != 0) return scratch();
  auto it = act_tiles_.find(job_.act_id);
  if (it == act_tiles_.end() || it->second.p0 != job_.p0 || it->second.p != P || it->second.K != K) {
    if (job_.act_reuse <= 1) return scratch();  // no later m-tile reads these
    const uint64_t bytes = tiles * P * R * sizeof(int32_t);
    if (it == act_tiles_.end()) {
      if (act_tiles_bytes_ + bytes > kMaxBytes) act_tiles_.clear(), act_tiles_bytes_ = 0;
      it = act_tiles_.emplace(job_.act_id, ActTiles{}).first;
    }
    ActTiles& t = it->second;
    act_tiles_bytes_ += bytes - t.v.size() * sizeof(int32_t);  // (an entry of another shape: its size is replaced)
    t.p0 = job_.p0, t.p = P, t.K = K;
    t.v.resize(tiles * P * R);
    t.have.assign(tiles, 0);
  }
  ActTiles& t = it->second;
  const uint64_t kt = job_.k0 / R;
  int32_t* const dst = &t.v[kt * P * R];
  if (!t.have[kt]) {
    copy(dst);
    t.have[kt] = 1;
  }
  return dst;
}

// fast_stream() in 32-bit lanes when the fold allows it: every product and
// partial sum is at most (max |a|) * (max column sum of |w|) in magnitude,
// so when that fits int32 (and the accumulator) nothing wraps in the array.
// False (nothing done) otherwise. Same counts and final state as fast_stream.
bool PeArray::fast_stream32(uint64_t* edges) {
  const uint64_t P = job_.p, rows = job_.rows;
  if (!w32_ready_ || !kAvx2 || P == 0 || act_bits_ > 32) return false;
  if (P == 1) return fast_stream1(edges);
  const size_t R = static_cast<size_t>(R_), C = static_cast<size_t>(C_);
  const uint32_t amask = static_cast<uint32_t>(act_mask_);
  const bool split = splits(job_);
  if (split && !worker_) worker_.reset(new StreamWorker);
  const uint64_t min_back = leave_first_chunk_ ? 1 : 0;
  const int32_t* const acts = fold_acts();
  uint64_t amax = 0, act_toggles = 0;
  if (const ProductToggles* pt = activity_ ? cached_rows() : nullptr) {  // the rows' pass, kept
    for (uint64_t r = 0; r < rows; ++r) {
      act_toggles += pt->act[job_.k0 + r];
      amax = std::max<uint64_t>(amax, pt->act_max[job_.k0 + r]);
    }
    act_toggles *= static_cast<uint64_t>(C_);
  } else if (split) {  // the activation pass in two halves
    struct ActPass {
      const int32_t* act;
      uint64_t stride, P, rows;
      uint32_t mask;
      uint64_t toggles[2], amax[2];
    } ap{acts, R, P, rows, amask, {0, 0}, {0, 0}};
    auto half = [](void* c, uint64_t i, int) {
      ActPass& a = *static_cast<ActPass*>(c);
      const uint64_t mid = a.P / 2;
      a.toggles[i] = act_pass_avx2(a.act, a.stride, i ? mid : 0, i ? a.P : mid, a.P, a.rows, a.mask, &a.amax[i]);
    };
    worker_chunks_ += worker_->run(half, &ap, 2, min_back);
    amax = std::max(ap.amax[0], ap.amax[1]);
    act_toggles = (ap.toggles[0] + ap.toggles[1]) * static_cast<uint64_t>(C_);
  } else {
    act_toggles = act_pass_avx2(acts, R, 0, P, P, rows, amask, &amax) *
                  static_cast<uint64_t>(C_);
  }
  if (!fits_lanes32(col_mag_max_ * amax)) return false;

  const Stream32 s{ps32_.data(), pr32_.data(), w32_.data(), acts, R, rows, R, c8_,
                   job_.out, job_.cols, acc_lo_, acc_hi_, acc_bits_, m32_};
  Counts32 n;
  uint64_t table_tp = 0;
  const bool by_table = activity_ && product_toggles(acts, &table_tp);
  const StreamFn stream = stream_fn(activity_, acc_bits_ < 32, !by_table, c8_, R);
  // Two threads: chunks of at least 32 pixels (each costs one pixel to set
  // its registers up), 2 to 8 of them; the caller's registers end up
  // holding pixel P - 1, as one thread's would.
  if (split) {
    // The worker's registers, a cache line clear of any other block (it
    // writes them every pixel: a line shared with the caller's data would
    // bounce between the cores).
    constexpr size_t kPad = 64 / sizeof(int32_t);
    ps32w_.resize(ps32_.size() + 2 * kPad);
    pr32w_.resize(pr32_.size() + 2 * kPad);
    struct Chunks {
      StreamFn fn;
      Stream32 s[2];  // the caller's registers, the worker's
      uint64_t P, chunk, at[2];
      Counts32 n[2];
    } t{stream, {s, s}, P, 0, {~uint64_t{0}, ~uint64_t{0}}, {}};
    t.s[1].ps = ps32w_.data() + kPad, t.s[1].pr = pr32w_.data() + kPad;
    const uint64_t chunks = std::min<uint64_t>(8, std::max<uint64_t>(2, P / 32));
    t.chunk = (P + chunks - 1) / chunks;
    auto chunk = [](void* c, uint64_t i, int th) {
      Chunks& k = *static_cast<Chunks*>(c);
      stream_chunk(k.fn, k.s[th], i * k.chunk, std::min(k.P, (i + 1) * k.chunk), &k.at[th], &k.n[th]);
    };
    worker_chunks_ += worker_->run(chunk, &t, (P + t.chunk - 1) / t.chunk, min_back);
    n = t.n[0];
    n.pop_p += t.n[1].pop_p, n.pop_s += t.n[1].pop_s, n.sign_p += t.n[1].sign_p, n.sign_s += t.n[1].sign_s;
    n.out_overflows += t.n[1].out_overflows;
    if (t.at[0] != P - 1) {  // the final registers: pixel P - 1's
      Counts32 setup;
      stream(s, P - 1, P, &setup, false);
    }
    ++split_folds_;
  } else {
    stream(s, 0, P, &n, true);
  }
  counters_.output_overflows += n.out_overflows;
  ibuf_->read_words(P * ibuf_->words(rows * static_cast<uint64_t>(act_bits_)));
  obuf_->read_words(acc_words_ * P * job_.cols);
  obuf_->write_words(acc_words_ * P * job_.cols);
  // After the fold every register returns to zero but PE (R-1, C-1)'s
  // product and sum (fast_stream): count those last toggles.
  const size_t last32 = (R - 1) * c8_ + (C - 1);
  if (activity_) {
    // Every register but the last clears: count all, then take the last one back.
    uint64_t negp = 0, negs = 0;
    if (by_table) {  // PE (R-1, C-1)'s product: its last activation times its weight
      pr32_[last32] = acts[(P - 1) * R + R - 1] * w32_[last32];  // zero past the rows
      n.pop_p = table_tp;
    } else {
      clear_toggles_avx2(pr32_.data(), R * c8_, m32_, &n.pop_p, &negp);
    }
    clear_toggles_avx2(ps32_.data(), R * c8_, m32_, &n.pop_s, &negs);
    n.pop_p -= static_cast<uint64_t>(__builtin_popcount(static_cast<uint32_t>(pr32_[last32]) & m32_));
    n.pop_s -= static_cast<uint64_t>(__builtin_popcount(static_cast<uint32_t>(ps32_[last32]) & m32_));
    negp -= pr32_[last32] < 0, negs -= ps32_[last32] < 0;
    const uint64_t tp = n.products(ext_) + ext_ * negp, ts = n.psums(ext_) + ext_ * negs;
    counters_.toggles_act += act_toggles;
    counters_.toggles_product += tp;
    counters_.toggles_psum += ts;
    prod_[R * C - 1] = pr32_[last32];
  }
  psum_[R * C - 1] = ps32_[last32];
  std::fill(ps32_.begin(), ps32_.end(), 0);
  std::fill(pr32_.begin(), pr32_.end(), 0);
  counters_.stream_cycles += P;
  counters_.drain_cycles += static_cast<uint64_t>(R_ + C_ - 1);
  counters_.macs += P * rows * job_.cols;
  phase_ = Phase::Idle;
  *edges = P + static_cast<uint64_t>(R_ + C_ - 1);
  // The band's last m-tile (act_reuse 1) ends with its last k-tile: nothing
  // reads the band's tiles and tables after it.
  if (job_.act_id != 0 && job_.act_reuse <= 1 && job_.k0 + R >= job_.act_stride) forget_band(job_.act_id);
  return true;
}

void PeArray::forget_band(uint64_t act_id) {
  const auto t = act_tiles_.find(act_id);
  if (t != act_tiles_.end()) {
    act_tiles_bytes_ -= t->second.v.size() * sizeof(int32_t);
    act_tiles_.erase(t);
  }
  const auto p = ptog_.find(act_id);
  if (p != ptog_.end()) {
    ptog_bytes_ -= ptog_row_bytes() * p->second.have.size();
    ptog_.erase(p);
  }
}

// The fold's product-register toggles from the per-row table (ProductToggles),
// filling the rows it lacks: when every column decodes through one vector
// table and the activations serve enough m-tiles (or their rows are in the
// table already). Every PE counts from zero back to zero, PE (R-1, C-1)
// too (fast_stream32 takes its last clear back). False: count them per PE.
bool PeArray::product_toggles(const int32_t* acts, uint64_t* toggles) {
  constexpr uint64_t kMaxBytes = uint64_t{256} << 20;  // the tables of every band kept, up to this size
  const CodeTable* const table = col_vec_table_;
  if (!table || job_.act_id == 0 || !kAvx2 || job_.p >= (uint64_t{1} << 24)) return false;
  const uint64_t K = job_.act_stride, rows = job_.rows, P = job_.p, k0 = job_.k0, cols = job_.cols;
  // Worth it when the rows serve enough columns (m-tiles x C): a row costs 32 codes.
  const bool worth = table_reuse_ != UINT64_MAX && job_.act_reuse * static_cast<uint64_t>(C_) >= table_reuse_;
  auto it = ptog_.find(job_.act_id);
  if (it == ptog_.end() || it->second.table != table || it->second.p0 != job_.p0 || it->second.p != P ||
      it->second.have.size() != K) {
    if (!worth) return false;
    if (it == ptog_.end()) {
      if (ptog_bytes_ + K * ptog_row_bytes() > kMaxBytes) ptog_.clear(), ptog_bytes_ = 0;
      it = ptog_.emplace(job_.act_id, ProductToggles{}).first;
    }
    ProductToggles& pt = it->second;
    ptog_bytes_ += (K - pt.have.size()) * ptog_row_bytes();  // (an entry of another shape: its size is replaced)
    pt.table = table, pt.p0 = job_.p0, pt.p = P;
    pt.have.assign(K, 0);
    pt.t.resize(K * 32);
    pt.act.resize(K);
    pt.act_max.resize(K);
  }
  ProductToggles& pt = it->second;
  if (!has_rows(pt)) {
    if (!worth) return false;
    product_table_rows(&pt, acts, rows, P);
  }
  const uint32_t* t = &pt.t[k0 * 32];
  // The next k-tile's rows (the m-tile's next fold), ahead of their use:
  // the tables of a band are too big to stay in the cache between m-tiles.
  if (k0 + 2 * static_cast<uint64_t>(R_) <= K)
    for (uint64_t i = 0; i < static_cast<uint64_t>(R_) * 32; i += 16) __builtin_prefetch(&t[static_cast<uint64_t>(R_) * 32 + i]);
  uint64_t sum = 0;
  for (uint64_t r = 0; r < rows; ++r) {
    const uint8_t* codes = &job_.codes[r * cols];
    const uint32_t* tr = &t[r * 32];
    for (uint64_t c = 0; c < cols; ++c) sum += tr[codes[c]];
  }
  *toggles = sum;
  ++table_folds_;
  return true;
}

// One activation row x[0..P) as act_pass_avx2 passes it (rows = 1): the
// toggles of a register the stream 0, x[0], .., x[P-1], 0 passes through
// (differences masked by `mask`) and the largest |x| into *amax.
static __attribute__((target("avx2"))) uint64_t row_act_pass(const int32_t* x, uint64_t P, uint32_t mask, uint64_t* amax) {
  if (P == 0) return *amax = 0, 0;
  const __m256i zero = _mm256_setzero_si256(), m = _mm256_set1_epi32(static_cast<int>(mask));
  __m256i acc = zero, cnt = zero, mxv = zero;
  uint64_t t = static_cast<uint64_t>(__builtin_popcount(static_cast<uint32_t>(x[0]) & mask));
  uint64_t mx = static_cast<uint64_t>(std::abs(static_cast<int64_t>(x[0])));
  uint64_t p = 1;
  for (int n = 0; p + 8 <= P; p += 8) {  // x[p..p+8) against x[p-1..p+7)
    const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + p));
    const __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + p - 1));
    cnt = _mm256_add_epi8(cnt, popcount_bytes(_mm256_and_si256(_mm256_xor_si256(a, b), m)));
    mxv = _mm256_max_epu32(mxv, _mm256_abs_epi32(a));  // |INT32_MIN| = 2^31 as unsigned
    if (++n == 31) acc = _mm256_add_epi64(acc, _mm256_sad_epu8(cnt, zero)), cnt = zero, n = 0;
  }
  t += sum_u64_lanes(_mm256_add_epi64(acc, _mm256_sad_epu8(cnt, zero)));
  alignas(32) uint32_t l[8];
  _mm256_store_si256(reinterpret_cast<__m256i*>(l), mxv);
  mx = std::max<uint64_t>(mx, *std::max_element(l, l + 8));
  for (; p < P; ++p) {
    t += static_cast<uint64_t>(__builtin_popcount(static_cast<uint32_t>(x[p] ^ x[p - 1]) & mask));
    mx = std::max<uint64_t>(mx, static_cast<uint64_t>(std::abs(static_cast<int64_t>(x[p]))));
  }
  t += static_cast<uint64_t>(__builtin_popcount(static_cast<uint32_t>(x[P - 1]) & mask));  // back to zero
  *amax = mx;
  return t;
}

// The rows of the fold the table lacks: each row's activations in a line
// (fold_acts() is pixel-major), then row_product_toggles and row_act_pass.
// Rows are independent: a fold that streams on two threads splits them too.
void PeArray::product_table_rows(ProductToggles* pt, const int32_t* act, uint64_t rows, uint64_t P) {
  ptog_col_.resize(rows * P);
  struct Rows {
    ProductToggles* pt;
    const int32_t* act;
    int32_t* col;
    uint64_t rows, P, R, k0;
    uint32_t m32, amask;
    uint64_t ext;
  } job{pt, act, ptog_col_.data(), rows, P, static_cast<uint64_t>(R_), job_.k0, m32_,
        static_cast<uint32_t>(act_mask_), ext_};
  auto part = [](void* c, uint64_t i, int) __attribute__((target("avx2"))) {
    const Rows& j = *static_cast<const Rows*>(c);
    const uint64_t r0 = i * j.rows / 2, r1 = (i + 1) * j.rows / 2;
    __m256i tw[4];
    for (int v = 0; v < 4; ++v) tw[v] = _mm256_load_si256(reinterpret_cast<const __m256i*>(j.pt->table->w32 + 8 * v));
    for (uint64_t r = r0; r < r1; ++r) {
      const uint64_t k = j.k0 + r;
      if (j.pt->have[k]) continue;
      int32_t* x = &j.col[r * j.P];
      for (uint64_t p = 0; p < j.P; ++p) x[p] = j.act[p * j.R + r];
      row_product_toggles(x, j.P, tw, j.m32, j.ext, &j.pt->t[k * 32]);
      uint64_t mx = 0;
      j.pt->act[k] = row_act_pass(x, j.P, j.amask, &mx);
      j.pt->act_max[k] = static_cast<uint32_t>(mx);
      j.pt->have[k] = 1;
    }
  };
  if (splits(job_) && rows >= 2) {
    if (!worker_) worker_.reset(new StreamWorker);
    worker_chunks_ += worker_->run(part, &job, 2, leave_first_chunk_ ? 1 : 0);
  } else {
    part(&job, 0, 0), part(&job, 1, 0);
  }
}

bool PeArray::has_rows(const ProductToggles& pt) const {
  for (uint64_t r = 0; r < job_.rows; ++r)
    if (!pt.have[job_.k0 + r]) return false;
  return true;
}

const PeArray::ProductToggles* PeArray::cached_rows() const {
  if (job_.act_id == 0) return nullptr;
  const auto it = ptog_.find(job_.act_id);
  if (it == ptog_.end()) return nullptr;
  const ProductToggles& pt = it->second;
  if (pt.p0 != job_.p0 || pt.p != job_.p || pt.have.size() != job_.act_stride || !has_rows(pt)) return nullptr;
  return &pt;
}

// fast_fold1()'s register-bit pass over a tile's n codes (n a multiple of
// 32), 32 per vector: each code's register bits (a byte: the lower half's
// entry from lut by pshufb, the sign bit 2 set where the code's sign bit,
// bit sign_bit, is) widened into nb's 16-bit lanes, and the zero and sqrt2
// flags counted.
__attribute__((target("avx2"))) void fold1_bits_avx2(const uint8_t* codes, size_t n, __m256i lut, int half_mask,
                                                     int sign_bit, uint16_t* nb, uint64_t* zero_paths,
                                                     uint64_t* sqrt2_paths) {
  const __m256i zero = _mm256_setzero_si256(), one = _mm256_set1_epi8(1);
  const __m256i half = _mm256_set1_epi8(static_cast<char>(half_mask));
  const __m128i sh = _mm_cvtsi32_si128(sign_bit);
  __m256i zeros = zero, sqrt2s = zero;        // byte lanes, flushed every 255 vectors into
  __m256i zero_sum = zero, sqrt2_sum = zero;  // 64-bit lanes
  for (size_t i = 0; i < n; i += 32) {
    if (i % (255 * 32) == 0 && i > 0) {
      zero_sum = _mm256_add_epi64(zero_sum, _mm256_sad_epu8(zeros, zero)), zeros = zero;
      sqrt2_sum = _mm256_add_epi64(sqrt2_sum, _mm256_sad_epu8(sqrt2s, zero)), sqrt2s = zero;
    }
    const __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(codes + i));
    const __m256i sign = _mm256_and_si256(_mm256_srl_epi16(x, sh), one);
    const __m256i b = _mm256_or_si256(_mm256_shuffle_epi8(lut, _mm256_and_si256(x, half)), _mm256_add_epi8(sign, sign));
    zeros = _mm256_add_epi8(zeros, _mm256_and_si256(b, one));
    sqrt2s = _mm256_add_epi8(sqrt2s, _mm256_and_si256(_mm256_srli_epi16(b, 2), one));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(nb + i), _mm256_cvtepu8_epi16(_mm256_castsi256_si128(b)));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(nb + i + 16), _mm256_cvtepu8_epi16(_mm256_extracti128_si256(b, 1)));
  }
  *zero_paths = sum_u64_lanes(_mm256_add_epi64(zero_sum, _mm256_sad_epu8(zeros, zero)));
  *sqrt2_paths = sum_u64_lanes(_mm256_add_epi64(sqrt2_sum, _mm256_sad_epu8(sqrt2s, zero)));
}

// fast_fold1()'s weight pass: a full tile of codes (R x C, R a multiple of
// 16, C of 8) decoded to weights (w32, rows of C lanes: the lower half's
// magnitude from w0 and w1, signed by the code's sign bit) and the
// activations a[0..R) streamed through them, as stream1_avx2 does: the
// bottom row's sums, the products' and sums' pops and signs into n.
// Returns the largest column sum of |w| (the caller has checked that max
// |w| x R fits 32 bits).
// (kC: C known at compile time, 0: from the argument; see stream32_avx2.)
template <bool kActivity, bool kMasked, size_t kC = 0>
__attribute__((target("avx2"))) uint32_t fold1_avx2(__m256i w0, __m256i w1, int half_mask, int code_bits,
                                                    const uint8_t* codes, const int32_t* a, size_t R, size_t C_arg,
                                                    uint32_t m32, int32_t* w32, int32_t* bottom, Counts32* n) {
  const size_t C = kC ? kC : C_arg;
  const __m256i zero = _mm256_setzero_si256(), one = _mm256_set1_epi32(1);
  const __m256i m = _mm256_set1_epi32(static_cast<int>(m32)), half = _mm256_set1_epi32(half_mask);
  const __m128i sign_to_top = _mm_cvtsi32_si128(32 - code_bits);
  __m256i colmax = zero;
  CsaCounter csa_p, csa_s;
  for (size_t c0 = 0; c0 < C; c0 += 8) {
    __m256i above = zero, colsum = zero;
    for (size_t r0 = 0; r0 < R; r0 += 16) {
      __m256i sums[16];
      size_t r = r0;
      auto step = [&]() __attribute__((target("avx2"), always_inline)) {
        const size_t i = r * C + c0;
        const __m256i idx = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(codes + i)));
        const __m256i j = _mm256_and_si256(idx, half);
        const __m256i mag = _mm256_castps_si256(_mm256_blendv_ps(
            _mm256_castsi256_ps(_mm256_permutevar8x32_epi32(w0, j)), _mm256_castsi256_ps(_mm256_permutevar8x32_epi32(w1, j)),
            _mm256_castsi256_ps(_mm256_slli_epi32(j, 28))));  // bit 3 of j picks w1
        colsum = _mm256_add_epi32(colsum, mag);
        // Negated where the code's sign bit is (vpsign: the selector is never zero).
        const __m256i w = _mm256_sign_epi32(mag, _mm256_or_si256(_mm256_sll_epi32(idx, sign_to_top), one));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(w32 + i), w);
        const __m256i prod = _mm256_mullo_epi32(_mm256_set1_epi32(a[r]), w);
        above = _mm256_add_epi32(above, prod);
        if (kActivity) sums[r - r0] = kMasked ? _mm256_and_si256(above, m) : above;
        ++r;
        return kMasked ? _mm256_and_si256(prod, m) : prod;
      };
      if (kActivity) {
        csa_p.add16(step);
        size_t k = 0;
        csa_s.add16([&]() __attribute__((target("avx2"), always_inline)) { return sums[k++]; });
      } else {
        for (int k = 0; k < 16; ++k) step();
      }
    }
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(bottom + c0), above);
    colmax = _mm256_max_epu32(colmax, colsum);
  }
  if (kActivity) csa_p.totals(&n->pop_p, &n->sign_p), csa_s.totals(&n->pop_s, &n->sign_s);
  alignas(32) uint32_t mx[8];
  _mm256_store_si256(reinterpret_cast<__m256i*>(mx), colmax);
  return *std::max_element(mx, mx + 8);
}

// A one-pixel fold whose tile is full (C a multiple of 8, R of 16) and whose
// columns share one packed sign-symmetric table (CodeTable::packed: the
// lower half's weights and register bits small): fast_load_brslog() and
// fast_stream1() in two passes over the codes, register bits by bytes
// (fold1_bits_avx2) and weights with the stream (fold1_avx2), with the
// same counts and final state. False, with nothing done, when it does not
// apply or a product or sum could pass 32 bits (fast_load() then decodes
// again).
__attribute__((target("avx2"))) bool PeArray::fast_fold1(uint64_t* edges) {
  const size_t R = static_cast<size_t>(R_), C = static_cast<size_t>(C_);
  if (job_.p != 1 || !job_.codes || pe_ != PeType::BrsLog || !kAvx2 || !vector_load_ || act_bits_ > 32 ||
      job_.rows != R || job_.cols != C || C % 8 != 0 || R % 16 != 0)
    return false;
  const CodeTable* const t = fold_tables();
  if (!t || !t->packed || uint64_t{t->max_mag} * R > UINT32_MAX) return false;
  // The activations: the largest |a| and the pops of their registers.
  const int32_t* const a = job_.act + job_.k0;
  const __m256i am = _mm256_set1_epi32(static_cast<int>(static_cast<uint32_t>(act_mask_)));
  __m256i amax8 = _mm256_setzero_si256(), apop = amax8;
  for (size_t r = 0; r < R; r += 8) {
    const __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a + r));
    amax8 = _mm256_max_epu32(amax8, _mm256_abs_epi32(x));  // |INT32_MIN| = 2^31 as unsigned
    apop = _mm256_add_epi64(apop, popcount_lanes(_mm256_and_si256(x, am)));
  }
  alignas(32) uint32_t am8[8];
  _mm256_store_si256(reinterpret_cast<__m256i*>(am8), amax8);
  const uint64_t amax = *std::max_element(am8, am8 + 8), act_pop = sum_u64_lanes(apop);
  const int code_bits = t->cfg.bits, half_mask = (1 << (code_bits - 1)) - 1;
  const __m256i w0 = _mm256_load_si256(reinterpret_cast<const __m256i*>(t->w32));
  const __m256i w1 = _mm256_load_si256(reinterpret_cast<const __m256i*>(t->w32 + 8));
  bottom32_.resize(c8_);
  Counts32 n;
  uint32_t colmax;
  if (activity_ && m32_ != ~0u)
    colmax = fold1_avx2<true, true>(w0, w1, half_mask, code_bits, job_.codes, a, R, C, m32_, w32_.data(), bottom32_.data(), &n);
  else if (activity_ && C == 16)
    colmax = fold1_avx2<true, false, 16>(w0, w1, half_mask, code_bits, job_.codes, a, R, C, m32_, w32_.data(), bottom32_.data(), &n);
  else if (activity_)
    colmax = fold1_avx2<true, false>(w0, w1, half_mask, code_bits, job_.codes, a, R, C, m32_, w32_.data(), bottom32_.data(), &n);
  else
    colmax = fold1_avx2<false, false>(w0, w1, half_mask, code_bits, job_.codes, a, R, C, m32_, w32_.data(), bottom32_.data(), &n);
  if (!fits_lanes32(uint64_t{colmax} * amax)) {
    ++one_pass_fallbacks_;
    return false;
  }
  ++one_pass_folds_;
  // The load (fast_load_brslog's, vector decode) ...
  uint64_t path[3];
  fold1_bits_avx2(job_.codes, R * C, _mm256_load_si256(reinterpret_cast<const __m256i*>(t->bits8)), half_mask, code_bits - 1,
                  wbits16_new_.data(), &path[kPathZero], &path[kPathSqrt2]);
  path[kPathPow2] = R * C - path[kPathZero] - path[kPathSqrt2];
  commit_weight_load(old_weight_toggles());
  ++vector_loads_;
  col_vec_table_ = t;
  counters_.decodes += R * C;
  narrow_ = w32_ready_ = true;
  col_mag_max_ = colmax;
  checked_ = col_mag_max_ * (static_cast<unsigned __int128>(1) << (act_bits_ - 1)) > static_cast<unsigned __int128>(acc_hi_);
  weights_stale_ = true;
  begin_fast_stream(path);
  // ... and the pixel (fast_stream1's).
  finish_stream1(a, n.products(ext_), n.psums(ext_), act_pop, edges);
  *edges += R;  // the load's
  return true;
}

// fast_stream32() for a fold of one pixel (stream1_avx2): the activation
// pass, the stream and the registers' clearing in one pass over the array.
bool PeArray::fast_stream1(uint64_t* edges) {
  const uint64_t rows = job_.rows;
  const size_t R = static_cast<size_t>(R_);
  const int32_t* const a = job_.act + job_.k0;
  const uint32_t amask = static_cast<uint32_t>(act_mask_);
  uint64_t amax = 0, act_pop = 0;
  for (uint64_t r = 0; r < rows; ++r) {
    const int64_t x = a[r];
    amax = std::max<uint64_t>(amax, static_cast<uint64_t>(x < 0 ? -x : x));
    act_pop += static_cast<uint64_t>(__builtin_popcount(static_cast<uint32_t>(a[r]) & amask));
  }
  if (!fits_lanes32(col_mag_max_ * amax)) return false;
  bottom32_.resize(c8_);
  Counts32 n;
  if (activity_) stream1_avx2<true>(a, w32_.data(), rows, R, c8_, m32_, &n, bottom32_.data());
  else stream1_avx2<false>(a, w32_.data(), rows, R, c8_, m32_, &n, bottom32_.data());
  finish_stream1(a, n.products(ext_), n.psums(ext_), act_pop, edges);
  return true;
}

// A one-pixel fold's end (fast_stream1, fast_fold1), its bottom row's sums
// in bottom32_: the outputs, the buffers' words, the registers' toggles
// (toggles_p and toggles_s: every PE's value counted once), the cycles.
void PeArray::finish_stream1(const int32_t* a, uint64_t toggles_p, uint64_t toggles_s, uint64_t act_pop,
                             uint64_t* edges) {
  const uint64_t rows = job_.rows;
  const size_t R = static_cast<size_t>(R_), C = static_cast<size_t>(C_);
  int64_t* const o = job_.out;
  // Four at a time while no sum leaves the accumulator range (as stream32_avx2), then one at a time.
  uint64_t c = acc_bits_ <= 62 ? add_outputs_avx2(o, bottom32_.data(), job_.cols, acc_lo_, acc_hi_) : 0;
  for (; c < job_.cols; ++c)
    o[c] = wrapping_add(o[c], bottom32_[c], acc_bits_, acc_lo_, acc_hi_, &counters_.output_overflows);
  ibuf_->read_words(ibuf_->words(rows * static_cast<uint64_t>(act_bits_)));
  obuf_->read_words(acc_words_ * job_.cols);
  obuf_->write_words(acc_words_ * job_.cols);
  // PE (R-1, C-1) keeps its product and sum (fast_stream): its values.
  const int32_t last_a = R - 1 < rows ? a[R - 1] : 0;
  const int32_t last_p = last_a * w32_[(R - 1) * c8_ + (C - 1)];
  const int32_t last_s = bottom32_[C - 1];
  if (activity_) {
    auto bits = [&](int32_t v) {
      return static_cast<uint64_t>(__builtin_popcount(static_cast<uint32_t>(v) & m32_)) + ext_ * (v < 0);
    };
    // Every register 0 -> value -> 0, but the last PE's 0 -> value.
    counters_.toggles_product += 2 * toggles_p - bits(last_p);
    counters_.toggles_psum += 2 * toggles_s - bits(last_s);
    counters_.toggles_act += 2 * act_pop * static_cast<uint64_t>(C_);
    prod_[R * C - 1] = last_p;
  }
  psum_[R * C - 1] = last_s;
  counters_.stream_cycles += 1;
  counters_.drain_cycles += static_cast<uint64_t>(R_ + C_ - 1);
  counters_.macs += rows * job_.cols;
  phase_ = Phase::Idle;
  *edges = 1 + static_cast<uint64_t>(R_ + C_ - 1);
}

// Input stationary in 32-bit lanes (fast_fold_df, when no product or
// partial sum can pass int32: max |a| times the largest sum of |w| down a
// weight column): the weight-stationary stream with the roles swapped.
// Weight column m streams as "pixel" m through the stationary activations
// (fast_stream32's kernel; its outputs go to out[(p0 + c) x cols + m]).
// Adds the stream's product and partial-sum toggles to *tp and *ts and
// leaves prod_ and psum_ as the registers end. False (nothing done) when
// the bound does not hold.
bool PeArray::fast_is32(uint64_t len, unsigned __int128 wsum, uint64_t* tp, uint64_t* ts) {
  if (!kAvx2) return false;
  const size_t R = static_cast<size_t>(R_), C = static_cast<size_t>(C_), c8 = c8_;
  const uint64_t rows = job_.rows, cols = job_.cols;
  uint64_t amax = 0;
  is_act32_.assign(R * c8, 0);
  for (size_t r = 0; r < R; ++r)
    for (size_t c = 0; c < C; ++c) {
      const int64_t v = act_reg_[r * C + c];
      if (v < INT32_MIN || v > INT32_MAX) return false;
      amax = std::max<uint64_t>(amax, static_cast<uint64_t>(v < 0 ? -v : v));
      is_act32_[r * c8 + c] = static_cast<int32_t>(v);
    }
  if (!fits_lanes32(wsum * amax)) return false;
  if (df_load_ == 0 || is_w32_load_ != df_load_ || is_w32_.size() != len * rows) {  // once per weight load
    is_w32_.resize(len * rows);
    for (uint64_t m = 0; m < len; ++m)
      for (uint64_t r = 0; r < rows; ++r) is_w32_[m * rows + r] = static_cast<int32_t>(df_w_[r * cols + m]);
    is_w32_load_ = df_load_;
  }
  std::fill(ps32_.begin(), ps32_.end(), 0);
  std::fill(pr32_.begin(), pr32_.end(), 0);
  const Stream32 s{ps32_.data(), pr32_.data(), is_act32_.data(), is_w32_.data(), rows, rows, R, c8,
                   job_.out + job_.p0 * cols, std::min<uint64_t>(job_.p, C), acc_lo_, acc_hi_, acc_bits_, m32_, cols, 1};
  Counts32 n;
  if (len > 0) stream_fn(activity_, acc_bits_ < 32, true, s.c8, s.R)(s, 0, len, &n, true);
  counters_.output_overflows += n.out_overflows;
  *tp += n.products(ext_);
  *ts += n.psums(ext_);
  for (size_t r = 0; r < R; ++r)
    for (size_t c = 0; c < C; ++c) prod_[r * C + c] = pr32_[r * c8 + c], psum_[r * C + c] = ps32_[r * c8 + c];
  std::fill(ps32_.begin(), ps32_.end(), 0);
  std::fill(pr32_.begin(), pr32_.end(), 0);
  return true;
}

// One output-stationary PE row (one pixel) in 64-bit lanes, 4 PEs per
// vector, as fast_fold_df's per-PE loop when no sum can leave the
// accumulator: products a[k] w[k][c] (w within int32) added to the sums in
// pr and ac (their values before the strip; their last values after it),
// the toggles of both registers between steps (bits of `mask`) into *tp and
// *ts. w: len rows of `cols` weights, cols a multiple of 4.
template <bool kActivity>
__attribute__((target("avx2"))) void os_row64_avx2(const int32_t* a, uint64_t len, const int64_t* w, size_t cols,
                                                   uint64_t mask, int64_t* pr, int64_t* ac, uint64_t* tp,
                                                   uint64_t* ts) {
  const __m256i zero = _mm256_setzero_si256(), m = _mm256_set1_epi64x(static_cast<int64_t>(mask));
  __m256i accp = zero, accs = zero;
  for (size_t c0 = 0; c0 < cols; c0 += 4) {
    __m256i p_reg = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(pr + c0));
    __m256i s_reg = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ac + c0));
    __m256i cp = zero, cs = zero;  // byte lanes: at most 8 per step, flushed every 31 steps
    for (uint64_t k = 0; k < len; ++k) {
      const __m256i p = _mm256_mul_epi32(_mm256_set1_epi64x(a[k]),
                                         _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + k * cols + c0)));
      const __m256i next = _mm256_add_epi64(s_reg, p);
      if (kActivity) {
        cp = _mm256_add_epi8(cp, popcount_bytes(_mm256_and_si256(_mm256_xor_si256(p, p_reg), m)));
        cs = _mm256_add_epi8(cs, popcount_bytes(_mm256_and_si256(_mm256_xor_si256(next, s_reg), m)));
        if (k % 31 == 30) {
          accp = _mm256_add_epi64(accp, _mm256_sad_epu8(cp, zero));
          accs = _mm256_add_epi64(accs, _mm256_sad_epu8(cs, zero));
          cp = cs = zero;
        }
      }
      p_reg = p, s_reg = next;
    }
    if (kActivity) {
      accp = _mm256_add_epi64(accp, _mm256_sad_epu8(cp, zero));
      accs = _mm256_add_epi64(accs, _mm256_sad_epu8(cs, zero));
    }
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(pr + c0), p_reg);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(ac + c0), s_reg);
  }
  if (kActivity) *tp += sum_u64_lanes(accp), *ts += sum_u64_lanes(accs);
}

// fast_fold_df's output-stationary row r of PEs in 64-bit lanes
// (os_row64_avx2) when its weights fit int32 (fast_os32 measured them) and
// the columns come in fours; the caller knows no sum can leave the
// accumulator. False: the per-PE loop.
bool PeArray::os_row64(size_t r, uint64_t len, uint64_t* tp, uint64_t* ts) {
  const uint64_t cols = job_.cols;
  if (!kAvx2 || os_load_ != df_load_ || os_w32_.size() != len * c8_ || os_wmax_ > INT32_MAX || cols % 4 != 0)
    return false;
  const size_t C = static_cast<size_t>(C_);
  const int32_t* a = &job_.act[(job_.p0 + r) * job_.act_stride + job_.k0];
  if (activity_) os_row64_avx2<true>(a, len, df_w_.data(), cols, acc_mask_, &prod_[r * C], &psum_[r * C], tp, ts);
  else os_row64_avx2<false>(a, len, df_w_.data(), cols, acc_mask_, &prod_[r * C], &psum_[r * C], tp, ts);
  return true;
}

// The activations of an output-stationary fold (its min(P, R) pixel rows
// of len values, each streaming through a PE row's registers): the
// toggles of one activation register per row, summed (row_act_pass), and
// the largest |a| into *amax.
uint64_t PeArray::os_act_pass(uint64_t len, uint64_t* amax) {
  const uint64_t rows = std::min<uint64_t>(static_cast<uint64_t>(R_), job_.p);
  uint64_t t = 0;
  *amax = 0;
  for (uint64_t r = 0; r < rows; ++r) {
    const int32_t* x = &job_.act[(job_.p0 + r) * job_.act_stride + job_.k0];
    uint64_t mx = 0;
    if (kAvx2 && act_bits_ <= 32) {
      t += row_act_pass(x, len, static_cast<uint32_t>(act_mask_), &mx);
    } else {  // 0, x[0], .., x[len - 1], 0
      for (uint64_t k = 0; k <= len; ++k) {
        const uint64_t cur = k < len ? static_cast<uint64_t>(int64_t{x[k]}) : 0;
        const uint64_t prev = k > 0 ? static_cast<uint64_t>(int64_t{x[k - 1]}) : 0;
        t += static_cast<uint64_t>(__builtin_popcountll((cur ^ prev) & act_mask_));
        if (k < len) mx = std::max<uint64_t>(mx, static_cast<uint64_t>(std::llabs(x[k])));
      }
    }
    *amax = std::max(*amax, mx);
  }
  return t;
}

// Output stationary in 32-bit lanes (fast_fold_df, when every product
// fits int32: max |a| over the fold times max |w|): each PE row through
// os_row_avx2. Adds the stream's product and partial-sum toggles to *tp and
// *ts; prod_ and psum_ end as the registers (rows past the fold's pixels
// untouched, as in the per-PE loop). False (nothing done, the registers
// still zero) when a product or a partial sum would pass int32.
bool PeArray::fast_os32(uint64_t len, uint64_t amax, uint64_t* tp, uint64_t* ts) {
  if (!kAvx2) return false;
  const size_t R = static_cast<size_t>(R_), C = static_cast<size_t>(C_), c8 = c8_;
  const uint64_t cols = job_.cols, P = job_.p, pr_rows = std::min<uint64_t>(R, P);
  if (os_load_ != df_load_ || df_load_ == 0 || os_w32_.size() != len * c8) {  // the load's weights, rows of c8 lanes
    os_w32_.assign(len * c8, 0);
    os_wmax_ = 0;
    for (uint64_t k = 0; k < len; ++k)
      for (uint64_t c = 0; c < cols; ++c) {
        const int64_t v = df_w_[k * cols + c];
        os_wmax_ = std::max<uint64_t>(os_wmax_, static_cast<uint64_t>(v < 0 ? -v : v));
        os_w32_[k * c8 + c] = static_cast<int32_t>(v);
      }
    os_load_ = df_load_;
  }
  // Products within int32 (and the accumulator: the caller's !checked).
  if (!fits_lanes32(static_cast<unsigned __int128>(os_wmax_) * amax)) return false;
  // A sum of this load passed int32 in a fold before: its strips are long
  // enough to do so again, so the fold goes to 64 bits without the attempt.
  if (df_load_ != 0 && os_overflow_load_ == df_load_) return false;
  auto row = !activity_ ? os_row_avx2<false, false> : acc_bits_ < 32 ? os_row_avx2<true, true> : os_row_avx2<true, false>;
  Counts32 n;
  bool ok = true;
  for (uint64_t r = 0; r < pr_rows && ok; ++r) {
    ok = row(&job_.act[(job_.p0 + r) * job_.act_stride + job_.k0], len, os_w32_.data(), c8, m32_, pr32_.data(),
             ps32_.data(), &n);
    for (uint64_t c = 0; c < cols && ok; ++c) prod_[r * C + c] = pr32_[c], psum_[r * C + c] = ps32_[c];
  }
  std::fill(ps32_.begin(), ps32_.end(), 0);
  std::fill(pr32_.begin(), pr32_.end(), 0);
  if (!ok) {  // a sum passed int32: the registers back to zero, the fold in 64 bits
    os_overflow_load_ = df_load_;
    std::fill(prod_.begin(), prod_.end(), 0);
    std::fill(psum_.begin(), psum_.end(), 0);
    return false;
  }
  *tp += n.products(ext_);
  *ts += n.psums(ext_);
  return true;
}

}  // namespace brsim
