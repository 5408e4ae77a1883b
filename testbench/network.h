// A float network as imported from ONNX: a DAG of layers in topological
// order over C x H x W tensors (batch 1). Conv and Dense carry weights;
// BatchNorm is already folded into them; ReLU is a flag on the layer it
// follows. A layer reads the outputs of `inputs` (the layer before it when
// empty: a chain), the network's output is the last layer's.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

namespace brsim {

struct TensorShape {
  int64_t c = 0, h = 1, w = 1;  // a flat vector of n values is n x 1 x 1
  int64_t numel() const { return c * h * w; }
  bool operator==(const TensorShape& o) const { return c == o.c && h == o.h && w == o.w; }
  std::string str() const;  // "16x14x14"
};

enum class LayerKind {
  Conv, Dense, MaxPool, AvgPool, GlobalAvgPool, Flatten,
  // Vector ops (graph networks): residual add, channel concat, elementwise or
  // per-channel product (squeeze and excite), activation functions; data
  // movement: a channel slice (split) and a channel shuffle.
  Add, Concat, Mul, Relu, Clip, Sigmoid, HardSigmoid, HardSwish, Slice, Shuffle
};
const char* to_string(LayerKind k);

struct Window {
  int64_t kh = 1, kw = 1;
  int64_t stride_h = 1, stride_w = 1;
  int64_t pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
};

struct Layer {
  LayerKind kind = LayerKind::Conv;
  std::string name;  // the ONNX node name (or "<op>_<index>" when unnamed)
  TensorShape in, out;
  Window window;  // Conv kernel/stride/pads, pooling window
  // Conv: [M x C x kh x kw]; Dense: [M x K] (output-major, like Gemm transB=1).
  std::vector<float> weights;
  std::vector<float> bias;  // M values (zeros when the model has none)
  bool relu = false;        // a ReLU follows this layer
  // Producers of the inputs: layer indices, -1 = the network input. Empty:
  // the layer before (the network input for the first layer).
  std::vector<int> inputs;
  int64_t groups = 1;                  // Conv: C / groups input channels per output channel; Shuffle: the groups
  int64_t ch_start = 0, ch_step = 1;   // Slice: output channel k is input channel ch_start + k ch_step
  int64_t dilation_h = 1, dilation_w = 1;  // Conv: the weights are stored zero-inserted (window = dilated extent)
  float lo = 0, hi = 0;                // Clip bounds
  float alpha = 0, beta = 0;           // HardSigmoid: max(0, min(1, alpha x + beta))
  bool has_weights() const { return kind == LayerKind::Conv || kind == LayerKind::Dense; }
  bool is_vector_op() const { return kind >= LayerKind::Add; }
  // Pure data movement (Slice, Shuffle): the output holds input values, in the input's format.
  bool is_data_movement() const { return kind == LayerKind::Slice || kind == LayerKind::Shuffle; }
  bool is_pool() const {
    return kind == LayerKind::MaxPool || kind == LayerKind::AvgPool || kind == LayerKind::GlobalAvgPool;
  }
  int64_t out_channels() const { return out.c; }
  // GEMM view of a Conv/Dense layer: K = C kh kw / groups, M outputs, P = Ho Wo pixels.
  int64_t gemm_k() const {
    return kind == LayerKind::Conv ? in.c / groups * window.kh * window.kw : in.numel();
  }
  int64_t gemm_m() const { return out.c; }
  int64_t gemm_p() const { return kind == LayerKind::Conv ? out.h * out.w : 1; }
  uint64_t macs() const { return has_weights() ? static_cast<uint64_t>(gemm_p() * gemm_k() * gemm_m()) : 0; }
};

struct Network {
  std::string source;  // file it came from
  std::string input_name, output_name;
  TensorShape input;
  std::vector<Layer> layers;
  TensorShape output() const { return layers.empty() ? input : layers.back().out; }
  uint64_t macs() const;
  // Producer of input k of layer i (-1: the network input).
  int input_of(size_t i, size_t k = 0) const {
    const Layer& l = layers[i];
    return l.inputs.empty() ? static_cast<int>(i) - 1 : l.inputs[k];
  }
  // Inputs of layer i (at least one: a layer without listed inputs reads
  // the one before it).
  size_t input_count(size_t i) const { return std::max<size_t>(1, layers[i].inputs.size()); }
  // For each layer, the last layer that reads its output (its own index
  // when none does): when a graph runner may free it.
  std::vector<size_t> last_uses() const {
    std::vector<size_t> last(layers.size(), 0);
    for (size_t i = 0; i < layers.size(); ++i)
      for (size_t k = 0; k < input_count(i); ++k) {
        const int p = input_of(i, k);
        if (p >= 0) last[static_cast<size_t>(p)] = i;
      }
    return last;
  }
  // Every layer reads only the one before it and none is a vector op or a
  // grouped/dilated conv: the networks of the chain importer.
  bool is_chain() const;
};

}  // namespace brsim
