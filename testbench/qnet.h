// A quantized network and its integer inference: every Conv/Dense layer's
// weights quantized under one policy (BRSLOG.md section 5), activations in
// the calibrated formats (section 7), computed by the golden reference bit
// exactly. K = exact (real sqrt2) exists only as a float reference.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "calibration.h"
#include "golden.h"
#include "network.h"
#include "quantizer.h"

namespace brsim {

struct NetQuantOptions {
  QuantOptions weights;      // policy, bits, codebook, rounding, granularity, datapath (K, widths)
  bool exact_sqrt2 = false;  // float reference with the real sqrt2 (BRSLog policies only)
  // Bias correction (docs/numerics.md): each Conv/Dense layer's float bias
  // less its expected output error over the calibration images (the formats
  // must carry input_means). Not part of label().
  bool bias_correction = false;
  std::string label() const;  // "brslog K=4 ideal", "fixed16", "brslog K=exact"
};

// One Conv/Dense layer as the accelerator runs it.
struct QLayer {
  int f_in = 0, f_out = 0;           // activation formats in and out
  QuantizedWeights qw;               // codes + segment configs, or fixed16
  IntWeights iw;                     // W[K x M] for the golden GEMM / the array
  EffectiveWeights ew;               // iw decoded once for the golden GEMM
  std::vector<int64_t> bias_q;       // per output channel, accumulator units
  std::vector<int> shift;            // requantization shift r per output channel
  uint64_t bias_saturated = 0;       // biases that did not fit the accumulator
  // With bias correction: per output channel, the expected output error
  // subtracted from the float bias before it is quantized (real units).
  std::vector<double> bias_correction;
  std::vector<double> exact_weights; // [M x K] ideal values (exact-sqrt2 reference only)
  // Graph networks: a grouped Conv's weights per group (columns g M/G to
  // (g+1) M/G of iw; ew stays empty), the formats of every input of a
  // vector op, Clip bounds in the input's format.
  std::vector<EffectiveWeights> group_ew;
  std::vector<int> f_ins;
  int32_t lo_q = 0, hi_q = 0;
};

// The expected output error of quantized weights per output channel m:
// sum_k (w_q[m, k] - w[m, k]) mean[g K + k], g = m's group, with w_q the
// values the layer computes with (hardware_weight; the ideal levels for the
// exact-sqrt2 reference) and mean the layer's calibration input means.
std::vector<double> expected_output_error(const Layer& l, const QuantizedWeights& qw, const std::vector<double>& mean,
                                          bool exact_sqrt2);

// Columns [m0, m0 + mn) of W[K x M] (a grouped conv's group).
IntWeights column_slice(const IntWeights& w, int64_t m0, int64_t mn);

struct QuantizedNetwork {
  std::shared_ptr<const Network> net;
  ActivationFormats formats;
  NetQuantOptions options;
  std::vector<QLayer> layers;  // parallel to net->layers (empty entries for non-compute layers)
};

QuantizedNetwork quantize_network(std::shared_ptr<const Network> net, const ActivationFormats& formats,
                                  const NetQuantOptions& opt);

// Counters of integer inference (summed over layers and images).
struct InferStats {
  GoldenStats mac;
  RequantStats requant;
  uint64_t input_saturated = 0;
  void merge(const InferStats& o) {
    mac.merge(o.mac);
    requant.merge(o.requant);
    input_saturated += o.input_saturated;
  }
};

// The network input in its calibrated format: round(x 2^f), saturated.
ActTensor quantize_input(const QuantizedNetwork& q, const std::vector<float>& x, uint64_t* saturated);

// Integer inference of one input; returns the last layer's output (real
// logits = value * 2^-f). `layer_outputs` (if given) receives every layer's.
ActTensor run_quantized(const QuantizedNetwork& q, const std::vector<float>& input, InferStats* stats = nullptr,
                        std::vector<ActTensor>* layer_outputs = nullptr);

}  // namespace brsim
