#include "random_weights.h"

#include <cmath>
#include <random>

#include "host_threads.h"

namespace brsim {

namespace {

// Samples [lo, hi) of the sequence of `seed`, rounded to T.
template <typename T>
void laplace_range(T* out, size_t lo, size_t hi, double scale, uint64_t seed) {
  std::mt19937_64 rng(seed);
  rng.discard(lo);
  for (size_t i = lo; i < hi; ++i) {
    // u uniform in (0, 1) from the top 53 bits, never exactly 0 or 1.
    const double u = (static_cast<double>(rng() >> 11) + 0.5) * 0x1.0p-53;
    const double x = u < 0.5 ? scale * std::log(2.0 * u) : -scale * std::log(2.0 * (1.0 - u));
    out[i] = static_cast<T>(x);
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
