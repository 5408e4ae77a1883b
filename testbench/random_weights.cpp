#include "random_weights.h"

#include <cmath>
#include <random>

namespace brsim {

std::vector<double> laplace_tensor(size_t n, double scale, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<double> w(n);
  for (double& x : w) {
    // u uniform in (0, 1) from the top 53 bits, never exactly 0 or 1.
    const double u = (static_cast<double>(rng() >> 11) + 0.5) * 0x1.0p-53;
    x = u < 0.5 ? scale * std::log(2.0 * u) : -scale * std::log(2.0 * (1.0 - u));
  }
  return w;
}

}  // namespace brsim
