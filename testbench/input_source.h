// Network inputs that are not an IDX dataset (`brsim run --inputs`): seeded
// random inputs in the network's input shape, or a NumPy .npy file of
// N x C x H x W float32 values. Neither has labels.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "network.h"

namespace brsim {

// n inputs of the network's shape, values uniform in [0, 1) (like pixel / 255)
// from a 64-bit Mersenne Twister seeded with `seed`: the same on every host.
std::vector<std::vector<float>> random_inputs(const Network& net, int64_t n, uint64_t seed);

// The first n inputs of a .npy file (little-endian float32, C order) of shape
// N x C x H x W (or N x values) matching the network input; ConfigError naming
// the file and the field otherwise, or when it holds fewer than n.
std::vector<std::vector<float>> load_npy_inputs(const std::string& path, const Network& net, int64_t n);

}  // namespace brsim
