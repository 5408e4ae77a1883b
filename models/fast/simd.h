// Which vector kernels this build and this CPU run. The fast engine's and
// the fold reference's kernels are AVX2 (x86-64, chosen at run time): on
// other targets (aarch64) they are not compiled and every caller takes its
// scalar path, which computes the same outputs and counts (the tests hold
// both paths to the golden model; docs/performance.md "Portable build").
#pragma once

#if defined(__x86_64__) || defined(__i386__)
#define BRSIM_X86 1
#include <immintrin.h>
#else
#define BRSIM_X86 0
#endif

#include <cstdlib>
#include <cstring>

namespace brsim {

// True when the AVX2 kernels run: an x86 CPU with AVX2, unless the
// environment sets BRSIM_SIMD=scalar (the scalar paths, as on aarch64;
// tests run the suite both ways).
inline bool simd_avx2_enabled() {
  const char* s = std::getenv("BRSIM_SIMD");
  if (s && std::strcmp(s, "scalar") == 0) return false;
#if BRSIM_X86
  return __builtin_cpu_supports("avx2");
#else
  return false;
#endif
}

inline const bool kHasAvx2 = simd_avx2_enabled();

}  // namespace brsim

// On a definition whose body uses AVX2 intrinsics (x86 only).
#if BRSIM_X86
#define BRSIM_TARGET_AVX2 __attribute__((target("avx2")))
#else
#define BRSIM_TARGET_AVX2
#endif
