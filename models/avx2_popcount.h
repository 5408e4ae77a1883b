// AVX2 population counts shared by the PE array's fast paths: per byte by
// nibble lookup (vpshufb), and per 64-bit lane by summing the bytes
// (vpsadbw). Callers compile these only inside target("avx2") functions.
#pragma once

#include <immintrin.h>

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

}  // namespace brsim
