// Which stream kernel a fold takes (stream32_avx512 where the CPU has
// AVX-512 and a row is whole vectors of 16 lanes, else stream32_avx2), and
// the chunks two threads stream. Internal to models/fast/.
#pragma once

#include <algorithm>
#include <cstdint>

#include "kernels.h"
#include "kernels512.h"
#include "simd.h"

namespace brsim {

#if BRSIM_X86
using StreamFn = void (*)(const Stream32&, uint64_t, uint64_t, Counts32*, bool);

// The stream kernel for a fold: activity counted or not, masked (acc_bits <
// 32) or sign-extended, products counted here or from the tables; in
// 512-bit vectors (c8 a multiple of 16, kHasAvx512) or in 256-bit ones.
inline StreamFn stream_fn512(bool activity, bool masked, bool products, size_t c8, size_t R) {
  if (!activity) return stream32_avx512<false, false>;
  if (c8 == 16 && R == 16 && !masked)
    return products ? stream32_avx512<true, false, true, 16, 16> : stream32_avx512<true, false, false, 16, 16>;
  if (c8 == 16 && !masked) return products ? stream32_avx512<true, false, true, 16> : stream32_avx512<true, false, false, 16>;
  if (products) return masked ? stream32_avx512<true, true> : stream32_avx512<true, false>;
  return masked ? stream32_avx512<true, true, false> : stream32_avx512<true, false, false>;
}

inline StreamFn stream_fn_avx2(bool activity, bool masked, bool products, size_t c8, size_t R) {
  if (!activity) return stream32_avx2<false, false>;
  if (c8 == 16 && R == 16 && !masked)
    return products ? stream32_avx2<true, false, true, 16, 16> : stream32_avx2<true, false, false, 16, 16>;
  if (c8 == 16 && !masked) return products ? stream32_avx2<true, false, true, 16> : stream32_avx2<true, false, false, 16>;
  if (products) return masked ? stream32_avx2<true, true> : stream32_avx2<true, false>;
  return masked ? stream32_avx2<true, true, false> : stream32_avx2<true, false, false>;
}

inline StreamFn stream_fn(bool activity, bool masked, bool products, size_t c8, size_t R) {
  if (kHasAvx512 && c8 % 16 == 0) return stream_fn512(activity, masked, products, c8, R);
  return stream_fn_avx2(activity, masked, products, c8, R);
}

// Pixels [p0, p1) through registers that hold pixel *at (~0: none yet).
inline void stream_chunk(StreamFn fn, const Stream32& st, uint64_t p0, uint64_t p1, uint64_t* at, Counts32* n) {
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

#endif  // BRSIM_X86

}  // namespace brsim
