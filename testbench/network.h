// A float network as imported from ONNX: a chain of layers over one C x H x W
// tensor (batch 1). Conv and Dense carry weights; BatchNorm is already folded
// into them; ReLU is a flag on the layer it follows.
#pragma once

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

enum class LayerKind { Conv, Dense, MaxPool, AvgPool, GlobalAvgPool, Flatten };
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
  bool has_weights() const { return kind == LayerKind::Conv || kind == LayerKind::Dense; }
  int64_t out_channels() const { return out.c; }
  // GEMM view of a Conv/Dense layer: K = C kh kw, M outputs, P = Ho Wo pixels.
  int64_t gemm_k() const { return kind == LayerKind::Conv ? in.c * window.kh * window.kw : in.numel(); }
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
};

}  // namespace brsim
