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

// True when the AVX-512 kernels run as well (models/fast/kernels512.h): the
// AVX2 conditions, and the CPU has AVX-512 F, VL, BW, DQ and VPOPCNTDQ
// (Intel Ice Lake and later, AMD Zen 4 and later), unless BRSIM_SIMD=avx2
// (the AVX2 kernels only; a ctest runs fast mode's tests so).
inline bool simd_avx512_enabled() {
  const char* s = std::getenv("BRSIM_SIMD");
  if (!simd_avx2_enabled() || (s && std::strcmp(s, "avx2") == 0)) return false;
#if BRSIM_X86
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
         __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
         __builtin_cpu_supports("avx512vpopcntdq");
#else
  return false;
#endif
}

inline const bool kHasAvx512 = simd_avx512_enabled();

}  // namespace brsim

// On a definition whose body uses AVX2 intrinsics (x86 only).
#if BRSIM_X86
#define BRSIM_TARGET_AVX2 __attribute__((target("avx2")))
#else
#define BRSIM_TARGET_AVX2
#endif

// On a definition whose body uses AVX-512 intrinsics (x86 only; called
// only when kHasAvx512).
#if BRSIM_X86
#define BRSIM_TARGET_AVX512 __attribute__((target("avx2,avx512f,avx512vl,avx512bw,avx512dq,avx512vpopcntdq")))
#else
#define BRSIM_TARGET_AVX512
#endif
