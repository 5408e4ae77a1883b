// Fast mode's AVX-512 kernels (x86 CPUs with AVX-512 F/VL/BW/DQ/VPOPCNTDQ,
// chosen at run time: kHasAvx512 in simd.h). Each computes exactly what its
// AVX2 namesake in kernels.h computes, 16 columns (one array row of the
// default 16-column array) per 512-bit vector: the toggles are counted by
// carry-save adders of two vpternlogd each and native 64-bit popcounts.
// Internal to models/fast/.
#pragma once

#include <algorithm>
#include <cstdint>
#include <type_traits>

#include "kernels.h"
#include "simd.h"

#if BRSIM_X86
// On a lambda inside a BRSIM_TARGET_AVX512 kernel (inlined into it).
#define BRSIM_LAMBDA_AVX512 __attribute__((target("avx2,avx512f,avx512vl,avx512bw,avx512dq,avx512vpopcntdq"), always_inline))

// GCC 12 reports the deliberately undefined vectors inside its own AVX-512
// intrinsics (_mm512_undefined_epi32: GCC bug 105593) as uninitialized.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace brsim {

// CsaCounter's Harley-Seal count in 512-bit vectors: 16 vectors enter
// through carry-save adders (majority and three-way xor, one vpternlogd
// each) into bit planes counting modulo 16; the sixteens are popcounted
// per 64-bit lane. Vectors outside a block of 16 are popcounted directly
// (add1). Also counts the sign bits (bit 31 of each 32-bit lane).
struct CsaCounter512 {
  __m512i ones, twos, fours, eights;
  __m512i pop;        // 64-bit lanes: the set bits counted outside the planes
  uint64_t sign = 0;  // the sign bits counted outside the planes

  BRSIM_TARGET_AVX512 CsaCounter512()
      : ones(_mm512_setzero_si512()), twos(ones), fours(ones), eights(ones), pop(ones) {}

  BRSIM_LAMBDA_AVX512 static void csa(__m512i* h, __m512i* l, __m512i a, __m512i b, __m512i c) {
    *h = _mm512_ternarylogic_epi32(a, b, c, 0xe8);  // majority: the carry
    *l = _mm512_ternarylogic_epi32(a, b, c, 0x96);  // a ^ b ^ c: the sum
  }
  // Adds 16 vectors: next() called 16 times, in order.
  template <class Next>
  BRSIM_LAMBDA_AVX512 inline void add16(Next&& next) {
    __m512i twos_a, twos_b, fours_a, fours_b, eights_a, eights_b, sixteens, x, y;
    auto pair = [&](__m512i* h) BRSIM_LAMBDA_AVX512 {
      x = next();
      y = next();
      csa(h, &ones, ones, x, y);
    };
    auto eight = [&](__m512i* h) BRSIM_LAMBDA_AVX512 {
      pair(&twos_a), pair(&twos_b);
      csa(&fours_a, &twos, twos, twos_a, twos_b);
      pair(&twos_a), pair(&twos_b);
      csa(&fours_b, &twos, twos, twos_a, twos_b);
      csa(h, &fours, fours, fours_a, fours_b);
    };
    eight(&eights_a), eight(&eights_b);
    csa(&sixteens, &eights, eights, eights_a, eights_b);
    pop = _mm512_add_epi64(pop, _mm512_slli_epi64(_mm512_popcnt_epi64(sixteens), 4));
    sign += 16 * static_cast<uint64_t>(__builtin_popcount(_mm512_movepi32_mask(sixteens)));
  }
  // Adds one vector.
  BRSIM_LAMBDA_AVX512 inline void add1(__m512i x) {
    pop = _mm512_add_epi64(pop, _mm512_popcnt_epi64(x));
    sign += static_cast<uint64_t>(__builtin_popcount(_mm512_movepi32_mask(x)));
  }
  // The set bits and the sign bits of every vector added.
  BRSIM_TARGET_AVX512 void totals(uint64_t* p, uint64_t* s) const {
    uint64_t t = static_cast<uint64_t>(_mm512_reduce_add_epi64(pop)), g = sign;
    const __m512i planes[4] = {ones, twos, fours, eights};
    for (int k = 0; k < 4; ++k) {
      t += (uint64_t{1} << k) * static_cast<uint64_t>(_mm512_reduce_add_epi64(_mm512_popcnt_epi64(planes[k])));
      g += (uint64_t{1} << k) * static_cast<uint64_t>(__builtin_popcount(_mm512_movepi32_mask(planes[k])));
    }
    *p += t, *s += g;
  }
};

// add_outputs_avx2, 8 outputs per vector (the last ones masked); inlined
// into the kernels (add_outputs_avx512 outside them).
BRSIM_LAMBDA_AVX512 inline uint64_t add_outputs512_inl(int64_t* o, const int32_t* x, uint64_t n, int64_t lo, int64_t hi) {
  const __m512i lo8 = _mm512_set1_epi64(lo), hi8 = _mm512_set1_epi64(hi);
  uint64_t c = 0;
  for (; c < n; c += 8) {
    const __mmask8 k = n - c >= 8 ? __mmask8{0xff} : static_cast<__mmask8>((1u << (n - c)) - 1);
    const __m512i sum =
        _mm512_add_epi64(_mm512_maskz_loadu_epi64(k, o + c), _mm512_cvtepi32_epi64(_mm256_maskz_loadu_epi32(k, x + c)));
    if ((_mm512_mask_cmpgt_epi64_mask(k, sum, hi8) | _mm512_mask_cmplt_epi64_mask(k, sum, lo8)) != 0) return c;
    _mm512_mask_storeu_epi64(o + c, k, sum);
  }
  return n;
}
BRSIM_TARGET_AVX512 inline uint64_t add_outputs_avx512(int64_t* o, const int32_t* x, uint64_t n, int64_t lo, int64_t hi) {
  return add_outputs512_inl(o, x, n, lo, hi);
}

// stream32_avx2 in 512-bit vectors: c8 (a multiple of 16) lanes per row,
// 16 per vector; the same registers, outputs and counts.
template <bool kActivity, bool kMasked, bool kProducts = true, size_t kC8 = 0, size_t kR = 0>
BRSIM_TARGET_AVX512 void stream32_avx512(const Stream32& s, uint64_t p0, uint64_t p1, Counts32* n, bool out) {
  // Locals: the stores below could alias the fields of s.
  int32_t* const ps = s.ps;
  int32_t* const pr = s.pr;
  const int32_t* const w = s.w;
  const size_t R = kR ? kR : s.R, rows = s.rows, c8 = kC8 ? kC8 : s.c8, n16 = c8 / 16;
  const __m512i zero = _mm512_setzero_si512();
  const __m512i m = _mm512_set1_epi32(static_cast<int>(s.m32));
  uint64_t out_overflows = 0;
  CsaCounter512 csa_p, csa_s;  // product and partial-sum toggles
  auto mul = [](int32_t a, __m512i w) BRSIM_LAMBDA_AVX512 { return _mm512_mullo_epi32(_mm512_set1_epi32(a), w); };
  // Outputs c.. of a pixel one at a time, wrapping (and counting) past the
  // accumulator's range.
  auto emit_rest = [&](int64_t* o, const int32_t* bottom, uint64_t c) __attribute__((noinline)) {
    for (; c < s.cols; ++c) {
      int64_t& x = o[c * s.out_stride];
      x = wrapping_add(x, bottom[c], s.acc_bits, s.acc_lo, s.acc_hi, &out_overflows);
    }
  };
  auto masked = [&](__m512i x) BRSIM_LAMBDA_AVX512 { return kMasked ? _mm512_and_si512(x, m) : x; };
  auto emit = [&](uint64_t p, const int32_t* bottom) BRSIM_LAMBDA_AVX512 {
    int64_t* o = &s.out[p * (s.out_pixel ? s.out_pixel : s.cols)];
    uint64_t c = 0;
    if (s.out_stride == 1 && s.acc_bits <= 62) c = add_outputs512_inl(o, bottom, s.cols, s.acc_lo, s.acc_hi);
    if (c < s.cols) emit_rest(o, bottom, c);
  };
  uint64_t p_first = p0;  // the first pixel of the loop below (the pairs' path takes pixels before it)
  if constexpr (kActivity && !kProducts && kC8 != 0) {
    // Two pixels per pass (the products counted elsewhere), as in
    // stream32_avx2: rows in blocks of 8, 16 changes per carry-save step.
    if (R % 8 == 0) {
      alignas(64) int32_t bottom_a[kC8];  // the first pixel's bottom row
      for (; p_first + 2 <= p1; p_first += 2) {
        const int32_t* a0 = &s.act[p_first * s.act_stride];
        const int32_t* a1 = a0 + s.act_stride;
        for (size_t v = 0; v < n16; ++v) {
          __m512i above0 = zero, above1 = zero, ds1 = zero;
          for (size_t r0 = 0; r0 < R; r0 += 8) {
            size_t r = r0;
            bool second = false;  // next() returns pixel p + 1's change of row r - 1
            auto next = [&](auto checked) BRSIM_LAMBDA_AVX512 {
              if (second) {
                second = false;
                return ds1;
              }
              const size_t i = r * c8 + 16 * v;
              __m512i prod0 = zero, prod1 = zero;
              if (!decltype(checked)::value || r < rows) {
                const __m512i wv = _mm512_loadu_si512(w + i);
                prod0 = mul(a0[r], wv);
                prod1 = mul(a1[r], wv);
              }
              const __m512i next0 = _mm512_add_epi32(above0, prod0), next1 = _mm512_add_epi32(above1, prod1);
              const __m512i ds0 = masked(_mm512_xor_si512(next0, _mm512_loadu_si512(ps + i)));
              ds1 = masked(_mm512_xor_si512(next1, next0));
              _mm512_storeu_si512(ps + i, next1);
              if (r == R - 1) _mm512_store_si512(bottom_a + 16 * v, next0);
              above0 = next0, above1 = next1;
              ++r, second = true;
              return ds0;
            };
            if (r0 + 8 <= rows) csa_s.add16([&]() BRSIM_LAMBDA_AVX512 { return next(std::false_type{}); });
            else csa_s.add16([&]() BRSIM_LAMBDA_AVX512 { return next(std::true_type{}); });
          }
        }
        if (out) emit(p_first, bottom_a), emit(p_first + 1, &ps[(R - 1) * c8]);
      }
    }
  }
  for (uint64_t p = p_first; p < p1; ++p) {
    const int32_t* a = &s.act[p * s.act_stride];
    for (size_t v = 0; v < n16; ++v) {
      __m512i above = zero;
      for (size_t r0 = 0; r0 < R; r0 += 16) {
        const size_t r1 = std::min(R, r0 + 16);
        __m512i dps[16];  // the products' changes (x ^ y, masked)
        // Row r: its product and partial sum for pixel p; returns the sum's
        // change (x ^ y, masked). Checked: the row may lie past the tile's.
        auto row = [&](size_t r, auto checked) BRSIM_LAMBDA_AVX512 {
          const size_t i = r * c8 + 16 * v;
          const __m512i prod = !decltype(checked)::value || r < rows
                                   ? mul(a[r], _mm512_loadu_si512(w + i))
                                   : zero;
          const __m512i next = _mm512_add_epi32(above, prod);
          if (kActivity && kProducts) {
            dps[r - r0] = masked(_mm512_xor_si512(prod, _mm512_loadu_si512(pr + i)));
            _mm512_storeu_si512(pr + i, prod);
          }
          __m512i ds = zero;
          if (kActivity) ds = masked(_mm512_xor_si512(next, _mm512_loadu_si512(ps + i)));
          _mm512_storeu_si512(ps + i, next);
          above = next;
          return ds;
        };
        if (kActivity && r1 - r0 == 16) {  // carry-save counting
          size_t r = r0;
          if (r1 <= rows) csa_s.add16([&]() BRSIM_LAMBDA_AVX512 { return row(r++, std::false_type{}); });
          else csa_s.add16([&]() BRSIM_LAMBDA_AVX512 { return row(r++, std::true_type{}); });
          if (kProducts) {
            size_t k = 0;
            csa_p.add16([&]() BRSIM_LAMBDA_AVX512 { return dps[k++]; });
          }
        } else {
          for (size_t r = r0; r < r1; ++r) {
            const __m512i ds = row(r, std::true_type{});
            if (kActivity) {
              csa_s.add1(ds);
              if (kProducts) csa_p.add1(dps[r - r0]);
            }
          }
        }
      }
    }
    if (out) emit(p, &ps[(R - 1) * c8]);
  }
  uint64_t sign_p = 0, sign_s = 0;
  if (kActivity) csa_p.totals(&n->pop_p, &sign_p), csa_s.totals(&n->pop_s, &sign_s);
  // Sign bits count only above 32 bits (kMasked: acc_bits <= 32, none).
  if (!kMasked) n->sign_p += sign_p, n->sign_s += sign_s;
  n->out_overflows += out_overflows;
}

// row_product_toggles for the 32 weights w32[0..32) in two 512-bit vectors:
// t[code], the toggles of a product register with weight w32[code] over
// the activation row x[0..P) from zero back to zero (P < 2^24).
BRSIM_TARGET_AVX512 inline void row_product_toggles512(const int32_t* x, uint64_t P, const int32_t* w32, uint32_t m32,
                                                       uint64_t ext, uint32_t* t) {
  const __m512i zero = _mm512_setzero_si512(), m = _mm512_set1_epi32(static_cast<int>(m32));
  const __m512i tw0 = _mm512_loadu_si512(w32), tw1 = _mm512_loadu_si512(w32 + 16);
  __m512i prev0 = zero, prev1 = zero, cnt0 = zero, cnt1 = zero, neg0 = zero, neg1 = zero;  // 32-bit lanes
  auto step = [&](__m512i cur0, __m512i cur1) BRSIM_LAMBDA_AVX512 {
    const __m512i d0 = _mm512_xor_si512(cur0, prev0), d1 = _mm512_xor_si512(cur1, prev1);
    prev0 = cur0, prev1 = cur1;
    neg0 = _mm512_add_epi32(neg0, _mm512_srli_epi32(d0, 31));
    neg1 = _mm512_add_epi32(neg1, _mm512_srli_epi32(d1, 31));
    cnt0 = _mm512_add_epi32(cnt0, _mm512_popcnt_epi32(_mm512_and_si512(d0, m)));
    cnt1 = _mm512_add_epi32(cnt1, _mm512_popcnt_epi32(_mm512_and_si512(d1, m)));
  };
  for (uint64_t p = 0; p < P; ++p) {
    const __m512i a = _mm512_set1_epi32(x[p]);
    step(_mm512_mullo_epi32(a, tw0), _mm512_mullo_epi32(a, tw1));
  }
  step(zero, zero);  // back to zero
  alignas(64) uint32_t pc[32], ng[32];
  _mm512_store_si512(pc, cnt0), _mm512_store_si512(pc + 16, cnt1);
  _mm512_store_si512(ng, neg0), _mm512_store_si512(ng + 16, neg1);
  for (int c = 0; c < 32; ++c) t[c] = static_cast<uint32_t>(pc[c] + ext * ng[c]);
}

// fold1_bits_avx2 in 512-bit vectors, 64 codes per vector (n a multiple
// of 32): the register bits widened into nb, the zero and sqrt2 flags
// counted from mask registers. lut: the lower half's 16 register-bit bytes.
BRSIM_TARGET_AVX512 inline void fold1_bits512(const uint8_t* codes, size_t n, const uint8_t* lut, int half_mask,
                                              int sign_bit, uint16_t* nb, uint64_t* zero_paths, uint64_t* sqrt2_paths) {
  const __m512i one = _mm512_set1_epi8(1), four = _mm512_set1_epi8(4);
  const __m512i half = _mm512_set1_epi8(static_cast<char>(half_mask));
  const __m512i lut4 = _mm512_broadcast_i32x4(_mm_loadu_si128(reinterpret_cast<const __m128i*>(lut)));
  const __m128i sh = _mm_cvtsi32_si128(sign_bit);
  uint64_t zeros = 0, sqrt2s = 0;
  for (size_t i = 0; i < n; i += 64) {
    const __mmask64 k = n - i >= 64 ? ~__mmask64{0} : __mmask64{0xffffffff};  // n - i is 32 or at least 64
    const __m512i x = _mm512_maskz_loadu_epi8(k, codes + i);
    const __m512i sign = _mm512_and_si512(_mm512_srl_epi16(x, sh), one);
    const __m512i b = _mm512_or_si512(_mm512_shuffle_epi8(lut4, _mm512_and_si512(x, half)), _mm512_add_epi8(sign, sign));
    zeros += static_cast<uint64_t>(__builtin_popcountll(_mm512_mask_test_epi8_mask(k, b, one)));
    sqrt2s += static_cast<uint64_t>(__builtin_popcountll(_mm512_mask_test_epi8_mask(k, b, four)));
    _mm512_storeu_si512(nb + i, _mm512_cvtepu8_epi16(_mm512_castsi512_si256(b)));
    if (n - i >= 64) _mm512_storeu_si512(nb + i + 32, _mm512_cvtepu8_epi16(_mm512_extracti64x4_epi64(b, 1)));
  }
  *zero_paths = zeros, *sqrt2_paths = sqrt2s;
}

// row_diff_sums in 512-bit vectors, for rows of c4 = 16 lanes (32 bytes:
// rows j - 1, j against rows j, j + 1 give d_j and d_(j+1) in one vector)
// or of a multiple of 32 lanes (a row per vector); any R >= 2.
BRSIM_TARGET_AVX512 inline void row_diff_sums512(const uint16_t* w, size_t R, size_t c4, uint64_t* sum,
                                                 uint64_t* weighted) {
  __m512i s = _mm512_setzero_si512(), t = s;
  if (c4 == 16) {
    __m512i jv = _mm512_set_epi64(2, 2, 2, 2, 1, 1, 1, 1);  // the rows of the vector's two halves
    const __m512i two = _mm512_set1_epi64(2);
    size_t j = 1;
    for (; j + 1 < R; j += 2, jv = _mm512_add_epi64(jv, two)) {
      const __m512i pc = _mm512_popcnt_epi64(_mm512_xor_si512(_mm512_loadu_si512(w + (j - 1) * 16), _mm512_loadu_si512(w + j * 16)));
      s = _mm512_add_epi64(s, pc);
      t = _mm512_add_epi64(t, _mm512_mul_epu32(pc, jv));
    }
    if (j < R) {  // d_(R-1) alone
      const __m512i pc = _mm512_popcnt_epi64(
          _mm512_xor_si512(_mm512_maskz_loadu_epi64(0x0f, w + (j - 1) * 16), _mm512_maskz_loadu_epi64(0x0f, w + j * 16)));
      s = _mm512_add_epi64(s, pc);
      t = _mm512_add_epi64(t, _mm512_mul_epu32(pc, _mm512_set1_epi64(static_cast<int64_t>(j))));
    }
  } else {
    for (size_t j = 1; j < R; ++j) {
      const __m512i jv = _mm512_set1_epi64(static_cast<int64_t>(j));
      for (size_t k = 0; k < c4; k += 32) {
        const __m512i pc =
            _mm512_popcnt_epi64(_mm512_xor_si512(_mm512_loadu_si512(w + (j - 1) * c4 + k), _mm512_loadu_si512(w + j * c4 + k)));
        s = _mm512_add_epi64(s, pc);
        t = _mm512_add_epi64(t, _mm512_mul_epu32(pc, jv));
      }
    }
  }
  *sum = static_cast<uint64_t>(_mm512_reduce_add_epi64(s));
  *weighted = static_cast<uint64_t>(_mm512_reduce_add_epi64(t));
}

// fold1_avx2 in 512-bit vectors, 16 columns per vector (C a multiple of
// 16): the codes of R rows of C decoded through the lower half's 16
// magnitudes (tbl) and signed by the code's sign bit into w32, the
// activations a[0..R) streamed through them; the bottom row's sums, the
// products' and sums' pops and signs into n. Returns the largest column sum
// of |w|.
template <bool kActivity, bool kMasked, size_t kC = 0>
BRSIM_TARGET_AVX512 uint32_t fold1_avx512(__m512i tbl, int half_mask, int code_bits, const uint8_t* codes,
                                          const int32_t* a, size_t R, size_t C_arg, uint32_t m32, int32_t* w32,
                                          int32_t* bottom, Counts32* n) {
  const size_t C = kC ? kC : C_arg;
  const __m512i zero = _mm512_setzero_si512(), m = _mm512_set1_epi32(static_cast<int>(m32));
  const __m512i half = _mm512_set1_epi32(half_mask), sign_bit = _mm512_set1_epi32(1 << (code_bits - 1));
  auto masked = [&](__m512i x) BRSIM_LAMBDA_AVX512 { return kMasked ? _mm512_and_si512(x, m) : x; };
  __m512i colmax = zero;
  CsaCounter512 csa_p, csa_s;
  for (size_t c0 = 0; c0 < C; c0 += 16) {
    __m512i above = zero, colsum = zero;
    for (size_t r0 = 0; r0 < R; r0 += 16) {
      __m512i sums[16];
      size_t r = r0;
      auto step = [&]() BRSIM_LAMBDA_AVX512 {
        const size_t i = r * C + c0;
        const __m512i idx = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(codes + i)));
        const __m512i mag = _mm512_permutexvar_epi32(_mm512_and_si512(idx, half), tbl);
        colsum = _mm512_add_epi32(colsum, mag);
        // Negated where the code's sign bit is.
        const __m512i w = _mm512_mask_sub_epi32(mag, _mm512_test_epi32_mask(idx, sign_bit), zero, mag);
        _mm512_storeu_si512(w32 + i, w);
        const __m512i prod = _mm512_mullo_epi32(_mm512_set1_epi32(a[r]), w);
        above = _mm512_add_epi32(above, prod);
        if (kActivity) sums[r - r0] = masked(above);
        ++r;
        return masked(prod);
      };
      if (kActivity) {
        csa_p.add16(step);
        size_t k = 0;
        csa_s.add16([&]() BRSIM_LAMBDA_AVX512 { return sums[k++]; });
      } else {
        for (int k = 0; k < 16; ++k) step();
      }
    }
    _mm512_storeu_si512(bottom + c0, above);
    colmax = _mm512_max_epu32(colmax, colsum);
  }
  if (kActivity) csa_p.totals(&n->pop_p, &n->sign_p), csa_s.totals(&n->pop_s, &n->sign_s);
  return static_cast<uint32_t>(_mm512_reduce_max_epu32(colmax));
}

// fold1_avx512 for a fold: tbl16, the lower half's 16 magnitudes;
// activity counted or not, masked (m32 not all ones) or sign-extended.
BRSIM_TARGET_AVX512 inline uint32_t fold1_512(const int32_t* tbl16, int half_mask, int code_bits, const uint8_t* codes,
                                              const int32_t* a, size_t R, size_t C, bool activity, uint32_t m32,
                                              int32_t* w32, int32_t* bottom, Counts32* n) {
  const __m512i tbl = _mm512_loadu_si512(tbl16);
  if (!activity) return fold1_avx512<false, false>(tbl, half_mask, code_bits, codes, a, R, C, m32, w32, bottom, n);
  if (m32 != ~0u) return fold1_avx512<true, true>(tbl, half_mask, code_bits, codes, a, R, C, m32, w32, bottom, n);
  if (C == 16) return fold1_avx512<true, false, 16>(tbl, half_mask, code_bits, codes, a, R, C, m32, w32, bottom, n);
  return fold1_avx512<true, false>(tbl, half_mask, code_bits, codes, a, R, C, m32, w32, bottom, n);
}

}  // namespace brsim

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
#endif  // BRSIM_X86

namespace brsim {

// row_diff_sums (kernels.h) in the widest vectors this CPU runs.
inline void row_diff_sums_best(const uint16_t* w, size_t R, size_t c4, uint64_t* sum, uint64_t* weighted) {
#if BRSIM_X86
  if (kHasAvx512 && R >= 2 && (c4 == 16 || c4 % 32 == 0)) return row_diff_sums512(w, R, c4, sum, weighted);
#endif
  row_diff_sums(w, R, c4, sum, weighted);
}

}  // namespace brsim
