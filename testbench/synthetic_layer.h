// One-layer networks without a model file (`brsim layer`, tests, benchmarks):
// Conv or FC shapes with seeded Laplace weights and a seeded input, ready to
// quantize and simulate; plus the AlexNet-shaped layer list and SCALE-Sim
// topology CSV files.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "calibration.h"
#include "network.h"

namespace brsim {

struct LayerSpec {
  std::string name = "layer";
  bool fc = false;
  int64_t in_c = 1, in_h = 1, in_w = 1, out_m = 1;
  int64_t kh = 1, kw = 1, stride = 1, pad = 0;
  int64_t groups = 1;  // a grouped (depthwise: groups = in_c = out_m) conv
  uint64_t macs() const;
};

struct SyntheticLayer {
  std::shared_ptr<const Network> net;
  std::vector<float> input;  // C x H x W, uniform in [-1, 1)
  ActivationFormats formats; // from this input's own range
};

// ConfigError naming the field for impossible shapes or shapes past the
// limits of shape_limits.h. The activation formats have `act_bits` bits.
SyntheticLayer make_synthetic_layer(const LayerSpec& spec, uint64_t seed, double weight_scale = 0.05,
                                    int act_bits = 16);

// ConfigError naming `where` (e.g. "layer 'conv1'" or "FILE:3") and the field
// when the shape is impossible or past the limits; called by
// make_synthetic_layer and where shapes enter (options, topology rows).
void check_layer_spec(const LayerSpec& s, const std::string& where);

// The five conv and three FC layer shapes of AlexNet at 227x227 (single
// tower: conv2, conv4, conv5 use all input channels).
std::vector<LayerSpec> alexnet_layers();

// The Conv/FC layers of a built-in network (network_shapes.cpp): alexnet,
// vgg16, resnet18, resnet50, mobilenet_v2, efficientnet_b0 at 224 x 224 as
// the ONNX import lists torchvision's models; ConfigError for another name.
std::vector<LayerSpec> builtin_network_layers(const std::string& name);
const char* builtin_network_names();

// A SCALE-Sim topology CSV: "Layer name, IFMAP Height, IFMAP Width, Filter
// Height, Filter Width, Channels, Num Filter, Strides" (header row first;
// an optional trailing column and blank lines are ignored). SCALE-Sim
// feeds the IFMAP as given (no padding). ConfigError naming file, line and
// column on bad input; at most kMaxTopologyLayers layers.
constexpr size_t kMaxTopologyLayers = 4096;
std::vector<LayerSpec> read_topology_csv(const std::string& path);

}  // namespace brsim
