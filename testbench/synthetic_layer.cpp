#include "synthetic_layer.h"

#include <cmath>
#include <fstream>
#include <random>
#include <sstream>
#include <utility>

#include "errors.h"
#include "float_infer.h"
#include "random_weights.h"

namespace brsim {

uint64_t LayerSpec::macs() const {
  const int64_t oh = (in_h + 2 * pad - kh) / stride + 1, ow = (in_w + 2 * pad - kw) / stride + 1;
  return static_cast<uint64_t>(oh * ow * in_c * kh * kw * out_m);
}

SyntheticLayer make_synthetic_layer(const LayerSpec& s, uint64_t seed, double weight_scale) {
  auto need = [&](bool ok, const std::string& what) {
    if (!ok) throw ConfigError("layer '" + s.name + "': " + what);
  };
  need(s.in_c >= 1 && s.in_h >= 1 && s.in_w >= 1 && s.out_m >= 1, "channels, filters and input size must be >= 1");
  need(s.kh >= 1 && s.kw >= 1 && s.stride >= 1 && s.pad >= 0, "kernel and stride must be >= 1, padding >= 0");
  need(s.in_h + 2 * s.pad >= s.kh && s.in_w + 2 * s.pad >= s.kw,
       "kernel " + std::to_string(s.kh) + "x" + std::to_string(s.kw) + " larger than the padded input " +
           std::to_string(s.in_h) + "x" + std::to_string(s.in_w));
  need(s.in_c * s.in_h * s.in_w <= (int64_t{1} << 26) && s.out_m <= 65535, "layer too large");
  auto net = std::make_shared<Network>();
  net->source = "layer '" + s.name + "'";
  net->input = {s.in_c, s.in_h, s.in_w};
  Layer l;
  l.name = s.name;
  if (s.fc) {
    net->input = {s.in_c * s.in_h * s.in_w, 1, 1};
    l.kind = LayerKind::Dense;
    l.in = net->input;
    l.out = {s.out_m, 1, 1};
  } else {
    l.kind = LayerKind::Conv;
    l.in = net->input;
    l.window = {s.kh, s.kw, s.stride, s.stride, s.pad, s.pad, s.pad, s.pad};
    l.out = {s.out_m, (s.in_h + 2 * s.pad - s.kh) / s.stride + 1, (s.in_w + 2 * s.pad - s.kw) / s.stride + 1};
  }
  l.weights.resize(static_cast<size_t>(s.out_m * l.gemm_k()));
  laplace_fill(l.weights.data(), l.weights.size(), weight_scale, seed);  // laplace_tensor's draws, as floats
  l.bias.assign(static_cast<size_t>(s.out_m), 0.0f);
  net->layers.push_back(std::move(l));
  SyntheticLayer out;
  std::mt19937_64 rng(seed ^ 0x9E3779B97F4A7C15ull);
  out.input.resize(static_cast<size_t>(net->input.numel()));
  for (float& x : out.input) x = static_cast<float>(static_cast<double>(rng() >> 11) * 0x1.0p-52 - 1.0);
  // Formats from this input's own range (what calibration would choose).
  const std::vector<float> y = run_float(*net, out.input);
  double bound = 0;
  for (float v : y) bound = std::max(bound, static_cast<double>(std::fabs(v)));
  out.formats.act_bits = 16;
  out.formats.input_frac = frac_bits_for(1.0, 16);
  out.formats.layer_frac = {frac_bits_for(bound, 16)};
  out.formats.input_range_and_layers = {1.0, bound};
  out.formats.images_used = 1;
  out.net = net;
  return out;
}

std::vector<LayerSpec> alexnet_layers() {
  // name, fc, in_c, in_h, in_w, out_m, kh, kw, stride, pad
  return {{"conv1", false, 3, 227, 227, 96, 11, 11, 4, 0},   {"conv2", false, 96, 27, 27, 256, 5, 5, 1, 2},
          {"conv3", false, 256, 13, 13, 384, 3, 3, 1, 1},    {"conv4", false, 384, 13, 13, 384, 3, 3, 1, 1},
          {"conv5", false, 384, 13, 13, 256, 3, 3, 1, 1},    {"fc6", true, 9216, 1, 1, 4096, 1, 1, 1, 0},
          {"fc7", true, 4096, 1, 1, 4096, 1, 1, 1, 0},       {"fc8", true, 4096, 1, 1, 1000, 1, 1, 1, 0}};
}

std::vector<LayerSpec> read_topology_csv(const std::string& path) {
  std::ifstream f(path);
  if (!f) throw ConfigError(path + ": cannot open the topology file");
  std::vector<LayerSpec> out;
  std::string line;
  int lineno = 0;
  const char* columns[] = {"Layer name", "IFMAP Height", "IFMAP Width", "Filter Height", "Filter Width",
                           "Channels", "Num Filter", "Strides"};
  while (std::getline(f, line)) {
    ++lineno;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t,") == std::string::npos) continue;
    std::vector<std::string> cells;
    std::stringstream ss(line);
    std::string cell;
    while (std::getline(ss, cell, ',')) {
      const size_t a = cell.find_first_not_of(" \t"), b = cell.find_last_not_of(" \t");
      cells.push_back(a == std::string::npos ? "" : cell.substr(a, b - a + 1));
    }
    if (lineno == 1) {
      if (cells.size() < 8 || cells[0] != "Layer name")
        throw ConfigError(path + ":1: expected the SCALE-Sim header 'Layer name, IFMAP Height, IFMAP Width, Filter "
                                 "Height, Filter Width, Channels, Num Filter, Strides'");
      continue;
    }
    if (cells.size() < 8)
      throw ConfigError(path + ":" + std::to_string(lineno) + ": expected 8 columns, found " +
                        std::to_string(cells.size()));
    LayerSpec s;
    s.name = cells[0];
    int64_t v[7];
    for (int i = 0; i < 7; ++i) {
      size_t used = 0;
      try {
        v[i] = std::stoll(cells[static_cast<size_t>(i + 1)], &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (used == 0 || used != cells[static_cast<size_t>(i + 1)].size() || v[i] < 1)
        throw ConfigError(path + ":" + std::to_string(lineno) + ": column '" + columns[i + 1] +
                          "' must be a positive integer, got '" + cells[static_cast<size_t>(i + 1)] + "'");
    }
    s.in_h = v[0], s.in_w = v[1], s.kh = v[2], s.kw = v[3], s.in_c = v[4], s.out_m = v[5], s.stride = v[6];
    if (s.kh > s.in_h || s.kw > s.in_w)
      throw ConfigError(path + ":" + std::to_string(lineno) + ": filter larger than the IFMAP in layer '" + s.name + "'");
    out.push_back(s);
  }
  if (out.empty()) throw ConfigError(path + ": no layers");
  return out;
}

}  // namespace brsim
