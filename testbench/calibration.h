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
  // Also gather every Conv/Dense layer's input means (input_means below),
  // which bias correction needs.
  bool input_means = false;
};

struct ActivationFormats {
  int act_bits = 16;
  int input_frac = 0;            // f of the network input
  std::vector<int> layer_frac;   // f of each layer's output (after its ReLU)
  std::vector<double> input_range_and_layers;  // the calibrated |x| bound per tensor (input first)
  CalibOptions options;
  int64_t images_used = 0;
  // With options.input_means: per layer (empty for layers without weights),
  // the mean over the calibration images and the output pixels of each
  // column of the layer's GEMM view of its float input. Conv: C kh kw
  // values, index (c kh + i) kw + j = the input at channel c, kernel offset
  // (i, j), zero where the window reads padding (a grouped conv's group g
  // reads [g K, (g + 1) K)); Dense: its K inputs.
  std::vector<std::vector<double>> input_means;
};

// The column means of one input tensor `x` of Conv/Dense layer `l` (one
// image), as in ActivationFormats::input_means.
std::vector<double> layer_input_means(const Layer& l, const std::vector<float>& x);

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
