// Activation calibration (BRSLOG.md section 7): per-tensor power-of-two
// fixed-point formats real = a * 2^-f from a calibration subset of images.
#pragma once

#include <string>
#include <vector>

#include "idx_dataset.h"
#include "network.h"

namespace brsim {

struct CalibOptions {
  int act_bits = 16;          // A
  double percentile = 100.0;  // 100 = the maximum |x|; e.g. 99.99 clips the tail
  int64_t images = 500;       // the first N images of the calibration set
};

struct ActivationFormats {
  int act_bits = 16;
  int input_frac = 0;            // f of the network input
  std::vector<int> layer_frac;   // f of each layer's output (after its ReLU)
  std::vector<double> input_range_and_layers;  // the calibrated |x| bound per tensor (input first)
  CalibOptions options;
  int64_t images_used = 0;
};

// The largest f with round(bound * 2^f) <= 2^(A-1) - 1 (f = 0 for bound 0).
int frac_bits_for(double bound, int act_bits);

// Runs the float network over the calibration images (pixel / 255 inputs).
// Pooling and Flatten keep their input's format (they never need more range).
ActivationFormats calibrate(const Network& net, const ImageSet& images, const CalibOptions& opt);
// The same over float inputs (each the network input's size), the first
// opt.images of them; in a graph, pooling, Flatten, ReLU and Clip keep their
// input's format, every other layer gets its own.
ActivationFormats calibrate(const Network& net, const std::vector<std::vector<float>>& inputs,
                            const CalibOptions& opt);
bool keeps_format(const Layer& l);

}  // namespace brsim
