// AVX2 population counts shared by the PE array's kernels: per byte by
// nibble lookup (vpshufb), and per 64-bit lane by summing the bytes
// (vpsadbw). Callers compile these only inside target("avx2") functions.
#pragma once

#include <cstdint>

#include "simd.h"

#if BRSIM_X86
namespace brsim {

// Per-byte popcounts of v (0..8 each).
__attribute__((target("avx2"))) inline __m256i popcount_bytes(__m256i v) {
  const __m256i lut = _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4, 0, 1, 1, 2, 1, 2, 2, 3, 1, 2,
                                       2, 3, 2, 3, 3, 4);
  const __m256i nib = _mm256_set1_epi8(0x0f);
  const __m256i lo = _mm256_shuffle_epi8(lut, _mm256_and_si256(v, nib));
  const __m256i hi = _mm256_shuffle_epi8(lut, _mm256_and_si256(_mm256_srli_epi16(v, 4), nib));
  return _mm256_add_epi8(lo, hi);
}

// Popcount of each 64-bit lane of v.
__attribute__((target("avx2"))) inline __m256i popcount_lanes(__m256i v) {
  return _mm256_sad_epu8(popcount_bytes(v), _mm256_setzero_si256());
}

// Counts the set bits of many vectors (Harley-Seal: Mula, Kurz and Lemire,
// "Faster population counts using AVX2 instructions", 2018). The vectors
// enter 16 at a time through carry-save adders into bit planes that count,
// per bit position, modulo 16 (ones, twos, fours, eights); only what carries
// out (sixteens) is popcounted: about 5 logic operations per vector instead
// of a lookup popcount's 7. Besides the total it counts the vectors' sign
// bits (bit 31 of each 32-bit lane), from the same planes.
struct CsaCounter {
  __m256i ones, twos, fours, eights;
  __m256i sixteens_pop;        // 64-bit lanes: popcounts of the sixteens
  uint64_t sixteens_sign = 0;  // sign bits of the sixteens

  __attribute__((target("avx2"))) CsaCounter()
      : ones(_mm256_setzero_si256()), twos(ones), fours(ones), eights(ones), sixteens_pop(ones) {}

  __attribute__((target("avx2"))) static void csa(__m256i* h, __m256i* l, __m256i a, __m256i b, __m256i c) {
    const __m256i u = _mm256_xor_si256(a, b);
    *h = _mm256_or_si256(_mm256_and_si256(a, b), _mm256_and_si256(u, c));
    *l = _mm256_xor_si256(u, c);
  }
  // Adds 16 vectors: next() called 16 times, in order.
  template <class Next>
  __attribute__((target("avx2"), always_inline)) inline void add16(Next&& next) {
    __m256i twos_a, twos_b, fours_a, fours_b, eights_a, eights_b, sixteens, x, y;
    auto pair = [&](__m256i* h) __attribute__((target("avx2"), always_inline)) {
      x = next();
      y = next();
      csa(h, &ones, ones, x, y);
    };
    auto eight = [&](__m256i* h) __attribute__((target("avx2"), always_inline)) {
      pair(&twos_a), pair(&twos_b);
      csa(&fours_a, &twos, twos, twos_a, twos_b);
      pair(&twos_a), pair(&twos_b);
      csa(&fours_b, &twos, twos, twos_a, twos_b);
      csa(h, &fours, fours, fours_a, fours_b);
    };
    eight(&eights_a), eight(&eights_b);
    csa(&sixteens, &eights, eights, eights_a, eights_b);
    sixteens_pop = _mm256_add_epi64(sixteens_pop, popcount_lanes(sixteens));
    sixteens_sign += static_cast<uint64_t>(__builtin_popcount(_mm256_movemask_ps(_mm256_castsi256_ps(sixteens))));
  }
  // The set bits and the sign bits of every vector added.
  __attribute__((target("avx2"))) void totals(uint64_t* pop, uint64_t* sign) const {
    alignas(32) uint64_t l[4];
    _mm256_store_si256(reinterpret_cast<__m256i*>(l), sixteens_pop);
    uint64_t p = 16 * (l[0] + l[1] + l[2] + l[3]), s = 16 * sixteens_sign;
    const __m256i planes[4] = {ones, twos, fours, eights};
    for (int k = 0; k < 4; ++k) {
      _mm256_store_si256(reinterpret_cast<__m256i*>(l), popcount_lanes(planes[k]));
      p += (uint64_t{1} << k) * (l[0] + l[1] + l[2] + l[3]);
      s += (uint64_t{1} << k) * static_cast<uint64_t>(__builtin_popcount(_mm256_movemask_ps(_mm256_castsi256_ps(planes[k]))));
    }
    *pop += p, *sign += s;
  }
};

}  // namespace brsim
#endif  // BRSIM_X86
