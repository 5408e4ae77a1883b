// Fast mode's AVX2 kernels (FastEngine, x86 only: simd.h): each computes what the fold
// reference's edges would over a whole fold or a row of it (register values,
// toggles, outputs) in vectors. Internal to models/fast/.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <type_traits>

#include "datapath.h"
#include "popcount.h"
#include "row_kernels.h"
#include "simd.h"

namespace brsim {

#if BRSIM_X86
// row_diff_sums() 16 lanes per vector (c4 a multiple of 16, R <= 64: the
// 16-bit sums below stay under 16 x 64 x 63 / 2): rows from the bottom up,
// the running sum of d_j added once per row gives sum_j j d_j.
__attribute__((target("avx2"))) inline void row_diff_sums_avx2(const uint16_t* w, size_t R, size_t c4, uint64_t* sum,
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
#endif  // BRSIM_X86

// Rows of c4 16-bit lanes (four PEs per 64-bit word; padding lanes zero):
// d_j = popcount(row j ^ row j-1) for j in [1, R); *sum = sum of d_j,
// *weighted = sum of j * d_j (see fast_load: how often each is seen).
inline void row_diff_sums(const uint16_t* w, size_t R, size_t c4, uint64_t* sum, uint64_t* weighted) {
#if BRSIM_X86
  if (kHasAvx2 && c4 % 16 == 0 && R >= 2 && R <= 64) return row_diff_sums_avx2(w, R, c4, sum, weighted);
#endif
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
inline uint64_t row_diff(const uint16_t* a, const uint16_t* b, size_t c4) {
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

#if BRSIM_X86
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
__attribute__((target("avx2"))) inline void clear_toggles_avx2(const int32_t* x, size_t n, uint32_t m32, uint64_t* pop,
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
  // The bottom row's sums of pixel p (bottom: c8 lanes) into the output
  // buffer. Both terms lie within the accumulator range, so only 64-bit
  // accumulators can leave int64.
  auto emit = [&](uint64_t p, const int32_t* bottom) {
    int64_t* o = &s.out[p * (s.out_pixel ? s.out_pixel : s.cols)];
    uint64_t c = 0;
    if (s.out_stride == 1 && s.acc_bits <= 62) c = add_outputs_avx2(o, bottom, s.cols, s.acc_lo, s.acc_hi);
    for (; c < s.cols; ++c) {
      int64_t& x = o[c * s.out_stride];
      x = wrapping_add(x, bottom[c], s.acc_bits, s.acc_lo, s.acc_hi, &out_overflows);
    }
  };
  uint64_t p_first = p0;  // the first pixel of the loop below (the pairs' path takes pixels before it)
  if constexpr (kActivity && !kProducts && kC8 != 0 && kR != 0 && kR % 8 == 0) {
    // Two pixels per pass (the products counted elsewhere): each weight
    // vector is loaded once for both, and the second pixel's sums change
    // from the first's, still in registers, so the partial-sum registers
    // are read and written once per pair. Rows in blocks of 8: 16 changes
    // (8 rows x 2 pixels) per carry-save step.
    alignas(32) int32_t bottom_a[kC8];  // the first pixel's bottom row
    for (; p_first + 2 <= p1; p_first += 2) {
      const int32_t* a0 = &s.act[p_first * s.act_stride];
      const int32_t* a1 = a0 + s.act_stride;
      for (size_t v = 0; v < n8; ++v) {
        __m256i above0 = zero, above1 = zero, ds1 = zero;
        for (size_t r0 = 0; r0 < R; r0 += 8) {
          size_t r = r0;
          bool second = false;  // next() returns pixel p + 1's change of row r - 1
          // Row r of both pixels; returns pixel p's sum change (x ^ y,
          // masked), keeps pixel p + 1's for the next call.
          auto next = [&](auto checked) __attribute__((target("avx2"), always_inline)) {
            if (second) {
              second = false;
              return ds1;
            }
            const size_t i = r * c8 + 8 * v;
            __m256i prod0 = zero, prod1 = zero;
            if (!decltype(checked)::value || r < rows) {
              const __m256i wv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + i));
              prod0 = _mm256_mullo_epi32(_mm256_set1_epi32(a0[r]), wv);
              prod1 = _mm256_mullo_epi32(_mm256_set1_epi32(a1[r]), wv);
            }
            const __m256i next0 = _mm256_add_epi32(above0, prod0), next1 = _mm256_add_epi32(above1, prod1);
            __m256i ds0 = _mm256_xor_si256(next0, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ps + i)));
            ds1 = _mm256_xor_si256(next1, next0);
            if (kMasked) ds0 = _mm256_and_si256(ds0, m), ds1 = _mm256_and_si256(ds1, m);
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(ps + i), next1);
            if (r == R - 1) _mm256_store_si256(reinterpret_cast<__m256i*>(bottom_a + 8 * v), next0);
            above0 = next0, above1 = next1;
            ++r, second = true;
            return ds0;
          };
          if (r0 + 8 <= rows) csa_s.add16([&]() __attribute__((target("avx2"), always_inline)) { return next(std::false_type{}); });
          else csa_s.add16([&]() __attribute__((target("avx2"), always_inline)) { return next(std::true_type{}); });
        }
      }
      if (out) emit(p_first, bottom_a), emit(p_first + 1, &ps[(R - 1) * c8]);
    }
  }
  for (uint64_t p = p_first; p < p1; ++p) {
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
    if (((p - p_first) & 4095) == 4095) flush_negatives(&negp, &sign_p), flush_negatives(&negs, &sign_s);  // 32-bit lanes: 4096 x R at most
    if (out) emit(p, &ps[(R - 1) * c8]);
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
__attribute__((target("avx2"))) inline void row_product_toggles(const int32_t* x, uint64_t P, const __m256i tw[4],
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
__attribute__((target("avx2"))) inline uint64_t act_pass_avx2(const int32_t* act, uint64_t stride, uint64_t p0, uint64_t p1,
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

// One activation row x[0..P) as act_pass_avx2 passes it (rows = 1): the
// toggles of a register the stream 0, x[0], .., x[P-1], 0 passes through
// (differences masked by `mask`) and the largest |x| into *amax.
__attribute__((target("avx2"))) inline uint64_t row_act_pass(const int32_t* x, uint64_t P, uint32_t mask, uint64_t* amax) {
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

// fast_fold1()'s register-bit pass over a tile's n codes (n a multiple of
// 32), 32 per vector: each code's register bits (a byte: the lower half's
// entry from lut by pshufb, the sign bit 2 set where the code's sign bit,
// bit sign_bit, is) widened into nb's 16-bit lanes, and the zero and sqrt2
// flags counted.
__attribute__((target("avx2"))) inline void fold1_bits_avx2(const uint8_t* codes, size_t n, __m256i lut, int half_mask,
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

#endif  // BRSIM_X86

}  // namespace brsim
