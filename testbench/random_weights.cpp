#include "random_weights.h"

#include <cmath>
#include <cstring>
#include <type_traits>

#include "host_threads.h"
#include "random_weights_detail.h"

namespace brsim {

namespace detail {

// ---- mt19937_64, a block at a time ------------------------------------------
// The state and its regeneration as the C++ standard defines them
// ([rand.eng.mers]; the constants of std::mt19937_64), with the
// regeneration written over lanes of four words: a word depends on words
// 1 and 156 places on (the first 156) or on the new word 156 places back
// (the rest), never on a word in its own lane group.

namespace {

constexpr int kN = Mt64Block::kN, kM = 156;
constexpr uint64_t kUpper = ~uint64_t{0} << 31, kLower = ~kUpper, kMatrix = 0xB5026F5AA96619E9ull;

typedef uint64_t U64x4 __attribute__((vector_size(32)));
typedef int64_t I64x4 __attribute__((vector_size(32)));
typedef double F64x4 __attribute__((vector_size(32)));
typedef float F32x4 __attribute__((vector_size(16)));

// Written for one ISA level at a time (always inlined into callers that
// are compiled for AVX2 or for the base target).
#define BRSIM_INL inline __attribute__((always_inline))

BRSIM_INL U64x4 load4(const uint64_t* p) {
  U64x4 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
BRSIM_INL void store4(uint64_t* p, U64x4 v) { std::memcpy(p, &v, sizeof v); }

BRSIM_INL uint64_t twist(uint64_t a, uint64_t b, uint64_t c) {
  const uint64_t y = (a & kUpper) | (b & kLower);
  return c ^ (y >> 1) ^ ((y & 1) ? kMatrix : 0);
}
BRSIM_INL U64x4 twist4(U64x4 a, U64x4 b, U64x4 c) {
  const U64x4 y = (a & kUpper) | (b & kLower);
  return c ^ (y >> 1) ^ ((U64x4{} - (y & 1)) & kMatrix);
}

BRSIM_INL void regenerate_body(uint64_t* x) {
  int k = 0;
  for (; k < kN - kM; k += 4) store4(x + k, twist4(load4(x + k), load4(x + k + 1), load4(x + k + kM)));
  for (; k + 4 <= kN - 1; k += 4) store4(x + k, twist4(load4(x + k), load4(x + k + 1), load4(x + k + kM - kN)));
  for (; k < kN - 1; ++k) x[k] = twist(x[k], x[k + 1], x[k + kM - kN]);
  x[kN - 1] = twist(x[kN - 1], x[0], x[kM - 1]);
}

BRSIM_INL U64x4 temper4(U64x4 y) {
  y ^= (y >> 29) & 0x5555555555555555ull;
  y ^= (y << 17) & 0x71D67FFFEDA60000ull;
  y ^= (y << 37) & 0xFFF7EEE000000000ull;
  return y ^ (y >> 43);
}

// An integer below 2^53 as a double, exactly: its high 21 and low 32 bits
// placed in the mantissas of 2^84 and 2^52, the offsets taken off in one
// exact subtraction, the parts added in one rounding that has nothing to
// round.
BRSIM_INL F64x4 u53_to_double(U64x4 v) {
  const U64x4 hi = (v >> 32) | 0x4530000000000000ull, lo = (v & 0xFFFFFFFFull) | 0x4330000000000000ull;
  F64x4 dh, dl;
  std::memcpy(&dh, &hi, sizeof dh);
  std::memcpy(&dl, &lo, sizeof dl);
  return (dh - (0x1.0p84 + 0x1.0p52)) + dl;
}

// ln t for normal t > 0, within a few units in the last place (not the
// C library's rounding: callers check the result's margin). t = 2^e m with
// m in [sqrt(1/2), sqrt(2)); ln m = 2 atanh(f), f = (m - 1) / (m + 1),
// |f| <= 0.1716, as its series to f^21 (truncation below 2^-57 relative).
BRSIM_INL F64x4 log4(F64x4 t) {
  U64x4 bits;
  std::memcpy(&bits, &t, sizeof bits);
  I64x4 e = __builtin_convertvector(bits >> 52, I64x4) - 1023;
  U64x4 mb = (bits & 0x000FFFFFFFFFFFFFull) | 0x3FF0000000000000ull;
  F64x4 m;
  std::memcpy(&m, &mb, sizeof m);
  const I64x4 big = m > 1.4142135623730951;  // -1 where m >= sqrt 2
  m = big ? m * 0.5 : m;
  e -= big;
  const F64x4 f = (m - 1.0) / (m + 1.0), s = f * f;
  F64x4 r = F64x4{} + 1.0 / 21;
  for (const double c : {1.0 / 19, 1.0 / 17, 1.0 / 15, 1.0 / 13, 1.0 / 11, 1.0 / 9, 1.0 / 7, 1.0 / 5, 1.0 / 3})
    r = r * s + c;
  const F64x4 ln_m = 2.0 * f + 2.0 * f * (s * r);
  // e (|e| < 2^11) as a double: 2^52 + 2^51 + e has it in its low bits.
  const U64x4 eb = __builtin_convertvector(e + 0x4338000000000000ll, U64x4);
  F64x4 de;
  std::memcpy(&de, &eb, sizeof de);
  de -= 0x1.8p52;
  return de * 0x1.62e42fee00000p-1 + (de * 0x1.a39ef35793c76p-33 + ln_m);  // ln 2 in two parts
}

// Samples of one block of tempered words as Laplace(0, scale) in double,
// by the vector log: see laplace_draw in random_weights_detail.h.
BRSIM_INL void laplace_block_body(const uint64_t* state, int from, double scale, double* out) {
  for (int i = from & ~3; i < kN; i += 4) {
    const F64x4 u = (u53_to_double(temper4(load4(state + i)) >> 11) + 0.5) * 0x1.0p-53;
    const I64x4 lower = u < 0.5;
    const F64x4 t = lower ? 2.0 * u : 2.0 * (1.0 - u);
    const F64x4 x = (lower ? F64x4{} + scale : F64x4{} - scale) * log4(t);
    std::memcpy(out + i, &x, sizeof x);
  }
}

// An AVX2 copy beside the baseline one on x86-64, picked at load time (as
// the golden model's kernels); the same words and doubles either way.
#if defined(__x86_64__)
#define BRSIM_RANDOM_CLONES __attribute__((target_clones("avx2", "default")))
#else  // (aarch64: the baseline, NEON)
#define BRSIM_RANDOM_CLONES
#endif
BRSIM_RANDOM_CLONES void regenerate_lanes(uint64_t* x) { regenerate_body(x); }
// The vectors stay inside the always-inline bodies: a clone passing one by
// value to a baseline function would change its ABI (clang refuses it).
BRSIM_INL void log_body(const double* t, double* out) {
  F64x4 v;
  std::memcpy(&v, t, sizeof v);
  v = log4(v);
  std::memcpy(out, &v, sizeof v);
}
BRSIM_RANDOM_CLONES void log_lanes(const double* t, double* out) { log_body(t, out); }
BRSIM_RANDOM_CLONES void laplace_block(const uint64_t* s, int from, double scale, double* out) {
  laplace_block_body(s, from, scale, out);
}

}  // namespace

Mt64Block::Mt64Block(uint64_t seed) {
  state_[0] = seed;
  for (int i = 1; i < kN; ++i) state_[i] = 6364136223846793005ull * (state_[i - 1] ^ (state_[i - 1] >> 62)) + static_cast<uint64_t>(i);
}

void Mt64Block::regenerate() { regenerate_lanes(state_); }

uint64_t Mt64Block::tempered(int i) const {
  uint64_t y = state_[i];
  y ^= (y >> 29) & 0x5555555555555555ull;
  y ^= (y << 17) & 0x71D67FFFEDA60000ull;
  y ^= (y << 37) & 0xFFF7EEE000000000ull;
  return y ^ (y >> 43);
}

void log_approx4(const double* t, double* out) { log_lanes(t, out); }

void Mt64Block::laplace_approx(int from, double scale, double* out) const { laplace_block(state_, from, scale, out); }

}  // namespace detail

namespace {

using detail::laplace_draw;
using detail::Mt64Block;

// Samples [lo, hi) of the sequence of `seed`, rounded to T: the i-th draw
// of std::mt19937_64(seed) mapped by laplace_draw. Floats come from the
// vector log where its value rounds to one float with a margin far wider
// than its error, else from std::log: the same floats either way.
template <typename T>
void laplace_range(T* out, size_t lo, size_t hi, double scale, uint64_t seed) {
  Mt64Block g(seed);
  constexpr size_t n = Mt64Block::kN;
  size_t block = lo / n;  // the generator's first block is regenerated once before use
  for (size_t b = 0; b <= block; ++b) g.regenerate();
  alignas(32) double approx[n];
  for (size_t i = lo; i < hi; ++block, g.regenerate()) {
    const int from = static_cast<int>(i - block * n);
    const int to = static_cast<int>(std::min(hi - block * n, n));
    if constexpr (std::is_same_v<T, float>) {
      g.laplace_approx(from, scale, approx);
      for (int k = from; k < to; ++k) {
        const double x = approx[k];
        const float a = static_cast<float>(x * (1 - 0x1.0p-40)), b = static_cast<float>(x * (1 + 0x1.0p-40));
        out[i + static_cast<size_t>(k - from)] = a == b ? a : static_cast<float>(laplace_draw(g.tempered(k), scale));
      }
    } else {
      for (int k = from; k < to; ++k) out[i + static_cast<size_t>(k - from)] = laplace_draw(g.tempered(k), scale);
    }
    i += static_cast<size_t>(to - from);
  }
}

template <typename T>
void laplace_parallel(T* out, size_t n, double scale, uint64_t seed) {
  const size_t chunks = n >= (size_t{1} << 16) ? static_cast<size_t>(host_threads()) : 1;
  parallel_for(chunks, [&](size_t c) {
    laplace_range(out, n / chunks * c, c + 1 == chunks ? n : n / chunks * (c + 1), scale, seed);
  });
}

}  // namespace

std::vector<double> laplace_tensor(size_t n, double scale, uint64_t seed) {
  std::vector<double> w(n);
  laplace_parallel(w.data(), n, scale, seed);
  return w;
}

void laplace_fill(float* out, size_t n, double scale, uint64_t seed) { laplace_parallel(out, n, scale, seed); }

}  // namespace brsim
