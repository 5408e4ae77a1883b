#include "synthetic_layer.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <utility>

#include "errors.h"
#include "float_infer.h"
#include "random_weights.h"
#include "shape_limits.h"

namespace brsim {

uint64_t LayerSpec::macs() const {
  const int64_t oh = (in_h + 2 * pad - kh) / stride + 1, ow = (in_w + 2 * pad - kw) / stride + 1;
  const int64_t m = checked_product({oh, ow, in_c / groups, kh, kw, out_m}, INT64_MAX);
  return m < 0 ? UINT64_MAX : static_cast<uint64_t>(m);
}

void check_layer_spec(const LayerSpec& s, const std::string& where) {
  auto range = [&](int64_t v, const char* field, int64_t lo, int64_t hi) {
    if (v < lo || v > hi)
      throw ConfigError(where + ": invalid " + field + " " + std::to_string(v) + ": expected an integer in [" +
                        std::to_string(lo) + ", " + std::to_string(hi) + "]");
  };
  range(s.in_h, "input height", 1, kMaxSpatial);
  range(s.in_w, "input width", 1, kMaxSpatial);
  range(s.in_c, "channels", 1, kMaxChannels);
  range(s.out_m, "filters", 1, 65535);
  range(s.kh, "kernel height", 1, kMaxSpatial);
  range(s.kw, "kernel width", 1, kMaxSpatial);
  range(s.stride, "stride", 1, kMaxSpatial);
  range(s.pad, "padding", 0, kMaxPad);
  if (s.groups < 1 || s.in_c % s.groups != 0 || s.out_m % s.groups != 0 || (s.fc && s.groups != 1))
    throw ConfigError(where + ": invalid groups " + std::to_string(s.groups) +
                      ": expected a divisor of the channels and the filters (1 for FC)");
  if (checked_product({s.in_c, s.in_h, s.in_w}, int64_t{1} << 26) < 0)
    throw ConfigError(where + ": too large: the input values (channels x height x width) pass 67108864 (2^26)");
  if (s.in_h + 2 * s.pad < s.kh || s.in_w + 2 * s.pad < s.kw)
    throw ConfigError(where + ": kernel " + std::to_string(s.kh) + "x" + std::to_string(s.kw) +
                      " larger than the padded input " + std::to_string(s.in_h) + "x" + std::to_string(s.in_w) +
                      " (padding " + std::to_string(s.pad) + ")");
  const int64_t oh = (s.in_h + 2 * s.pad - s.kh) / s.stride + 1, ow = (s.in_w + 2 * s.pad - s.kw) / s.stride + 1;
  const int64_t k = s.fc ? checked_product({s.in_c, s.in_h, s.in_w}) : checked_product({s.in_c, s.kh, s.kw});
  struct Size {
    const char* what;
    int64_t n;
  };
  for (const Size& z : {Size{"input values (channels x height x width)", checked_product({s.in_c, s.in_h, s.in_w})},
                        Size{"weights (filters x channels x kernel)", k < 0 ? -1 : checked_product({k, s.out_m})},
                        Size{"output values (filters x output height x width)",
                             s.fc ? s.out_m : checked_product({s.out_m, oh, ow})},
                        Size{"GEMM rows x reduction (pixels x channels x kernel)",
                             s.fc || k < 0 ? k : checked_product({oh, ow, k})}})
    if (z.n < 0)
      throw ConfigError(where + ": too large: the " + z.what + " pass " + std::to_string(kMaxTensorValues) +
                        " (2^31)");
}

SyntheticLayer make_synthetic_layer(const LayerSpec& s, uint64_t seed, double weight_scale, int act_bits) {
  check_layer_spec(s, "layer '" + s.name + "'");
  if (!(weight_scale > 0) || !std::isfinite(weight_scale))
    throw ConfigError("layer '" + s.name + "': invalid weight scale " + std::to_string(weight_scale) +
                      ": expected a positive finite number");
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
    l.groups = s.groups;
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
  out.formats.act_bits = act_bits;
  out.formats.input_frac = frac_bits_for(1.0, act_bits);
  out.formats.layer_frac = {frac_bits_for(bound, act_bits)};
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
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    throw ConfigError(path + ": cannot open the topology file: it is a folder, expected a CSV file");
  std::ifstream f(path);
  if (!f) throw ConfigError(path + ": cannot open the topology file");
  std::vector<LayerSpec> out;
  std::string line;
  int lineno = 0;
  const char* columns[] = {"Layer name", "IFMAP Height", "IFMAP Width", "Filter Height", "Filter Width",
                           "Channels", "Num Filter", "Strides"};
  while (std::getline(f, line)) {
    ++lineno;
    if (line.size() > 4096)
      throw ConfigError(path + ":" + std::to_string(lineno) + ": line longer than 4096 characters");
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
    const std::string where = path + ":" + std::to_string(lineno);
    if (s.kh > s.in_h || s.kw > s.in_w)
      throw ConfigError(where + ": filter larger than the IFMAP in layer '" + s.name + "'");
    if (out.size() == kMaxTopologyLayers)
      throw ConfigError(where + ": more than " + std::to_string(kMaxTopologyLayers) +
                        " layers: expected at most " + std::to_string(kMaxTopologyLayers) + " rows");
    check_layer_spec(s, where + " (layer '" + s.name + "')");
    out.push_back(s);
  }
  if (out.empty()) throw ConfigError(path + ": no layers");
  return out;
}

}  // namespace brsim
