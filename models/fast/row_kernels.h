// One row of PEs for one edge (or one pixel), in vectors: ps = above + a w
// with the product and partial-sum registers' toggles. The cycle-by-cycle
// array (fold_reference.cpp) runs its stream edge through them; fast mode's
// 64-bit path its pixels. The scalar loops in fold_reference.cpp are the
// reference they are tested against.
#pragma once

#include <cstddef>
#include <cstdint>

#include "popcount.h"
#include "simd.h"

#if BRSIM_X86
namespace brsim {

// ps = above + a * w over n lanes (the AE product: AeUnit::product), with
// the bit toggles of the product and partial-sum registers (masked to
// their width) added to *tp and *ts; 4 lanes per vector.
// kOneAct: every lane takes the same activation a[0] (fast mode's pixel by
// pixel fold); otherwise lane c takes a[c] (the per-edge array).
template <bool kOneAct>
__attribute__((target("avx2"))) void mac_row_activity_avx2(int64_t* ps, int64_t* pr, const int64_t* above,
                                                           const int32_t* a, const int32_t* w, size_t n,
                                                           uint64_t mask, uint64_t* tp, uint64_t* ts) {
  const __m256i zero = _mm256_setzero_si256();
  const __m256i m = _mm256_set1_epi64x(static_cast<long long>(mask));
  __m256i accp = zero, accs = zero;
  size_t c = 0;
  for (; c + 4 <= n; c += 4) {
    const __m256i av = kOneAct ? _mm256_set1_epi64x(a[0])
                               : _mm256_cvtepi32_epi64(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a + c)));
    const __m256i wv = _mm256_cvtepi32_epi64(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w + c)));
    const __m256i prod = _mm256_mul_epi32(av, wv);
    const __m256i next = _mm256_add_epi64(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(above + c)), prod);
    const __m256i op = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(pr + c));
    const __m256i os = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ps + c));
    accp = _mm256_add_epi64(accp, popcount_lanes(_mm256_and_si256(_mm256_xor_si256(prod, op), m)));
    accs = _mm256_add_epi64(accs, popcount_lanes(_mm256_and_si256(_mm256_xor_si256(next, os), m)));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(pr + c), prod);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(ps + c), next);
  }
  alignas(32) uint64_t lp[4], ls[4];
  _mm256_store_si256(reinterpret_cast<__m256i*>(lp), accp);
  _mm256_store_si256(reinterpret_cast<__m256i*>(ls), accs);
  uint64_t tpp = lp[0] + lp[1] + lp[2] + lp[3], tss = ls[0] + ls[1] + ls[2] + ls[3];
  for (; c < n; ++c) {
    const int64_t prod = static_cast<int64_t>(a[kOneAct ? 0 : c]) * w[c], next = above[c] + prod;
    tpp += static_cast<uint64_t>(__builtin_popcountll(static_cast<uint64_t>(prod ^ pr[c]) & mask));
    tss += static_cast<uint64_t>(__builtin_popcountll(static_cast<uint64_t>(next ^ ps[c]) & mask));
    pr[c] = prod;
    ps[c] = next;
  }
  *tp += tpp;
  *ts += tss;
}

}  // namespace brsim
#endif  // BRSIM_X86
