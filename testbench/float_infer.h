// The float reference: the imported network computed in single precision
// (like the framework that trained it), batch 1.
#pragma once

#include <functional>
#include <vector>

#include "network.h"

namespace brsim {

// Runs `net` on `input` (C x H x W, row-major). If `outputs` is given it
// receives every layer's output (after its ReLU), in layer order.
std::vector<float> run_float(const Network& net, const std::vector<float>& input,
                             std::vector<std::vector<float>>* outputs = nullptr);
// The same, showing each layer's output to `observe(layer, output)` in
// layer order as it is made, without keeping it (calibration).
std::vector<float> run_float(const Network& net, const std::vector<float>& input,
                             const std::function<void(size_t, const std::vector<float>&)>& observe);

// The input tensor of an 8-bit grayscale image as the shipped model expects
// it: pixel / 255.
std::vector<float> image_to_input(const uint8_t* pixels, size_t n);

// Index of the largest logit (the first one on ties).
size_t argmax(const std::vector<float>& v);

}  // namespace brsim
