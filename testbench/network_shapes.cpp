// The Conv and FC layers of torchvision's classification networks at
// 224 x 224, batch 1, in the order the ONNX export lists them (BatchNorm
// folded; pooling, residual adds and activations run elsewhere): the layer
// lists of `brsim layer --network NAME`.
#include <algorithm>

#include "errors.h"
#include "synthetic_layer.h"

namespace brsim {

namespace {

struct Builder {
  std::vector<LayerSpec> out;
  void conv(const std::string& name, int64_t c, int64_t hw, int64_t m, int64_t k, int64_t stride, int64_t groups = 1) {
    LayerSpec s{name, false, c, hw, hw, m, k, k, stride, (k - 1) / 2};
    s.groups = groups;
    out.push_back(s);
  }
  void fc(const std::string& name, int64_t in, int64_t m) { out.push_back({name, true, in, 1, 1, m, 1, 1, 1, 0}); }
};

int64_t after(int64_t hw, int64_t k, int64_t s) { return (hw + 2 * ((k - 1) / 2) - k) / s + 1; }

std::vector<LayerSpec> vgg16() {
  Builder b;
  const int cfg[] = {64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0};
  int64_t c = 3, hw = 224;
  int block = 1, idx = 1;
  for (int v : cfg) {
    if (v == 0) {
      hw /= 2, ++block, idx = 1;
      continue;
    }
    b.conv("conv" + std::to_string(block) + "_" + std::to_string(idx++), c, hw, v, 3, 1);
    c = v;
  }
  b.fc("fc6", 512 * 7 * 7, 4096);
  b.fc("fc7", 4096, 4096);
  b.fc("fc8", 4096, 1000);
  return b.out;
}

std::vector<LayerSpec> resnet(bool bottleneck) {
  Builder b;
  b.conv("conv1", 3, 224, 64, 7, 2);
  int64_t c = 64, hw = 56;
  const int blocks18[] = {2, 2, 2, 2}, blocks50[] = {3, 4, 6, 3};
  for (int layer = 0; layer < 4; ++layer) {
    const int64_t width = int64_t{64} << layer, out = bottleneck ? width * 4 : width;
    for (int i = 0; i < (bottleneck ? blocks50 : blocks18)[layer]; ++i) {
      const int64_t stride = layer > 0 && i == 0 ? 2 : 1;
      const std::string p = "layer" + std::to_string(layer + 1) + "." + std::to_string(i) + ".";
      const int64_t ohw = after(hw, 3, stride);
      if (bottleneck) {
        b.conv(p + "conv1", c, hw, width, 1, 1);
        b.conv(p + "conv2", width, hw, width, 3, stride);
        b.conv(p + "conv3", width, ohw, out, 1, 1);
      } else {
        b.conv(p + "conv1", c, hw, width, 3, stride);
        b.conv(p + "conv2", width, ohw, width, 3, 1);
      }
      if (stride != 1 || c != out) {
        LayerSpec d{p + "downsample", false, c, hw, hw, out, 1, 1, stride, 0};
        b.out.push_back(d);
      }
      c = out, hw = ohw;
    }
  }
  b.fc("fc", c, 1000);
  return b.out;
}

std::vector<LayerSpec> mobilenet_v2() {
  Builder b;
  b.conv("features.0", 3, 224, 32, 3, 2);
  int64_t c = 32, hw = 112;
  const int cfg[][4] = {{1, 16, 1, 1}, {6, 24, 2, 2}, {6, 32, 3, 2}, {6, 64, 4, 2},
                        {6, 96, 3, 1}, {6, 160, 3, 2}, {6, 320, 1, 1}};
  int f = 1;
  for (const auto& r : cfg)
    for (int i = 0; i < r[2]; ++i, ++f) {
      const int64_t stride = i == 0 ? r[3] : 1, hidden = c * r[0];
      const std::string p = "features." + std::to_string(f) + ".";
      if (r[0] != 1) b.conv(p + "expand", c, hw, hidden, 1, 1);
      b.conv(p + "depthwise", hidden, hw, hidden, 3, stride, hidden);
      hw = after(hw, 3, stride);
      b.conv(p + "project", hidden, hw, r[1], 1, 1);
      c = r[1];
    }
  b.conv("features.18", c, hw, 1280, 1, 1);
  b.fc("classifier", 1280, 1000);
  return b.out;
}

std::vector<LayerSpec> efficientnet_b0() {
  Builder b;
  b.conv("features.0", 3, 224, 32, 3, 2);
  int64_t c = 32, hw = 112;
  // expand ratio, kernel, stride, out channels, repeats
  const int cfg[][5] = {{1, 3, 1, 16, 1}, {6, 3, 2, 24, 2}, {6, 5, 2, 40, 2}, {6, 3, 2, 80, 3},
                        {6, 5, 1, 112, 3}, {6, 5, 2, 192, 4}, {6, 3, 1, 320, 1}};
  int stage = 1;
  for (const auto& r : cfg) {
    for (int i = 0; i < r[4]; ++i) {
      const int64_t stride = i == 0 ? r[2] : 1, hidden = c * r[0], squeeze = std::max<int64_t>(1, c / 4);
      const std::string p = "features." + std::to_string(stage) + "." + std::to_string(i) + ".";
      if (r[0] != 1) b.conv(p + "expand", c, hw, hidden, 1, 1);
      b.conv(p + "depthwise", hidden, hw, hidden, r[1], stride, hidden);
      hw = after(hw, r[1], stride);
      b.conv(p + "se.fc1", hidden, 1, squeeze, 1, 1);
      b.conv(p + "se.fc2", squeeze, 1, hidden, 1, 1);
      b.conv(p + "project", hidden, hw, r[3], 1, 1);
      c = r[3];
    }
    ++stage;
  }
  b.conv("features.8", c, hw, 1280, 1, 1);
  b.fc("classifier", 1280, 1000);
  return b.out;
}

}  // namespace

const char* builtin_network_names() { return "alexnet, vgg16, resnet18, resnet50, mobilenet_v2, efficientnet_b0"; }

std::vector<LayerSpec> builtin_network_layers(const std::string& name) {
  if (name == "alexnet") return alexnet_layers();
  if (name == "vgg16") return vgg16();
  if (name == "resnet18") return resnet(false);
  if (name == "resnet50") return resnet(true);
  if (name == "mobilenet_v2") return mobilenet_v2();
  if (name == "efficientnet_b0") return efficientnet_b0();
  throw ConfigError("unknown --network '" + name + "': expected one of " + builtin_network_names());
}

}  // namespace brsim
