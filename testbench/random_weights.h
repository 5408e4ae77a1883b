// Seeded weight tensors for demos and layers without a model. The draws use
// only std::mt19937_64 (whose sequence the C++ standard fixes) and closed-form
// inverse CDFs, so a seed gives the same tensor on every platform.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace brsim {

// n samples of a zero-mean Laplace distribution with scale b (std = b sqrt2).
std::vector<double> laplace_tensor(size_t n, double scale, uint64_t seed);

// The same n samples, each rounded to float, written to out[0..n). Large
// tensors are drawn on host_threads() threads, each from its own point of
// the one sequence (the generator skipped ahead to it): the same values on
// any number of threads.
void laplace_fill(float* out, size_t n, double scale, uint64_t seed);

}  // namespace brsim
