#include "onnx_import.h"

#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "errors.h"
#include "shape_limits.h"

namespace brsim {

namespace {

using ONNX_NAMESPACE::AttributeProto;
using ONNX_NAMESPACE::NodeProto;
using ONNX_NAMESPACE::TensorProto;

// Dense data of a constant tensor: float or int64 values with its dims.
struct Constant {
  std::vector<int64_t> dims;
  std::vector<float> f;
  std::vector<int64_t> i;
  bool is_float = false;
  int64_t count = 0;  // values: the product of dims, checked when read (no overflow)
  int64_t numel() const { return count; }
};

// The ONNX versions the importer knows: IR versions up to 10 (ONNX 1.16) and
// default-domain opsets 1..22. The operators it accepts mean the same in all
// of them; a later opset may not, so it is refused rather than guessed.
constexpr int64_t kMaxIrVersion = 10;
constexpr int64_t kMaxOpset = 22;
constexpr int kMaxTensorRank = 8;
constexpr size_t kMaxModelBytes = size_t{2} << 30;  // protobuf's own limit is 2 GiB

int64_t checked_product_of(const std::vector<int64_t>& dims) {
  int64_t n = 1;
  for (int64_t d : dims) {
    n = checked_product({n, d});
    if (n < 0) return -1;
  }
  return n;
}

// A tensor of the graph as the importer tracks it: the layer producing it
// (-1: the network input), its shape, whether it is 2-D [1 x n], and zero
// padding of a Pad node still to be folded into the Conv reading it.
struct Value {
  int layer = -1;
  TensorShape shape;
  bool flat = false;
  int64_t pad_t = 0, pad_l = 0, pad_b = 0, pad_r = 0;
  bool padded() const { return pad_t || pad_l || pad_b || pad_r; }
};

class Importer {
 public:
  explicit Importer(std::string path) : path_(std::move(path)) {}
  Network run();
  Network run_bytes(const std::string& bytes);

 private:
  [[noreturn]] void fail(const std::string& what) const { throw ConfigError(path_ + ": " + what); }
  [[noreturn]] void fail_node(const NodeProto& n, const std::string& what) const {
    fail("node '" + name_of(n) + "' (" + n.op_type() + "): " + what);
  }
  std::string name_of(const NodeProto& n) const;
  Constant to_constant(const TensorProto& t, const std::string& who) const;
  const Constant& constant(const NodeProto& n, int input, const char* role) const;
  bool is_constant(const NodeProto& n, int input) const {
    return n.input_size() > input && !n.input(input).empty() && constants_.count(n.input(input));
  }
  const Value& value(const NodeProto& n, int input) const;
  const AttributeProto* attr(const NodeProto& n, const char* name) const;
  void attr_type(const NodeProto& n, const AttributeProto& a, int type, const char* expected) const;
  void check_versions(const ONNX_NAMESPACE::ModelProto& m) const;
  void check_supported(const ONNX_NAMESPACE::GraphProto& g) const;
  void check_unique_outputs(const ONNX_NAMESPACE::GraphProto& g) const;
  void count_uses(const ONNX_NAMESPACE::GraphProto& g);
  void check_out_shape(const NodeProto& n, const TensorShape& s) const;
  int64_t attr_int(const NodeProto& n, const char* name, int64_t dflt) const;
  float attr_float(const NodeProto& n, const char* name, float dflt) const;
  std::vector<int64_t> attr_ints(const NodeProto& n, const char* name, std::vector<int64_t> dflt) const;
  void read_input(const ONNX_NAMESPACE::GraphProto& g);
  void window_attrs(const NodeProto& n, Window& w, bool pooling);
  Layer& last_compute(const NodeProto& n, const char* why);
  // The layer producing input 0 when this node is its only reader (a ReLU,
  // BatchNorm or bias folds into it); nullptr otherwise.
  Layer* sole_producer(const NodeProto& n);
  void add_layer(const NodeProto& n, Layer l, std::vector<int> inputs, bool flat = false);
  void alias(const NodeProto& n, int input);

  void conv(const NodeProto& n);
  void dense(const NodeProto& n, bool matmul);
  void add(const NodeProto& n);
  void add_bias(const NodeProto& n);
  void mul(const NodeProto& n);
  void batchnorm(const NodeProto& n);
  void pool(const NodeProto& n, LayerKind kind);
  void flatten(const NodeProto& n, bool reshape);
  void relu(const NodeProto& n);
  void clip(const NodeProto& n);
  void activation(const NodeProto& n, LayerKind kind);
  void concat(const NodeProto& n);
  void pad(const NodeProto& n);
  void reduce_mean(const NodeProto& n);
  bool fold_constant(const NodeProto& n);  // Shape, Gather, Unsqueeze, ... on constants

  std::string path_;
  Network net_;
  std::map<std::string, Constant> constants_;
  std::map<std::string, Value> values_;
  std::map<std::string, std::string> alias_of_;  // Identity/Dropout outputs -> their source tensor
  std::map<std::string, int> uses_;              // readers of each (alias-resolved) tensor; the graph output counts
  size_t node_index_ = 0;
};

std::string Importer::name_of(const NodeProto& n) const {
  return n.name().empty() ? n.op_type() + "_" + std::to_string(node_index_) : n.name();
}

Constant Importer::to_constant(const TensorProto& t, const std::string& who) const {
  Constant c;
  if (t.dims_size() > kMaxTensorRank)
    fail(who + ": field 'dims': " + std::to_string(t.dims_size()) + " dimensions, expected at most " +
         std::to_string(kMaxTensorRank));
  for (int64_t d : t.dims()) {
    if (d < 0) fail(who + ": negative dimension");
    c.dims.push_back(d);
  }
  c.count = checked_product_of(c.dims);
  if (c.count < 0)
    fail(who + ": field 'dims': more than " + std::to_string(kMaxTensorValues) + " (2^31) values");
  const int64_t n = c.numel();
  if (t.data_location() == TensorProto::EXTERNAL) fail(who + ": external tensor data is not supported");
  if (t.data_type() == TensorProto::FLOAT) {
    c.is_float = true;
    if (t.has_raw_data()) {
      if (static_cast<int64_t>(t.raw_data().size()) != n * 4)
        fail(who + ": raw_data holds " + std::to_string(t.raw_data().size()) + " bytes, expected " +
             std::to_string(n * 4) + " for a float tensor of " + std::to_string(n) + " values");
      c.f.resize(static_cast<size_t>(n));
      if (n > 0) std::memcpy(c.f.data(), t.raw_data().data(), t.raw_data().size());  // little-endian host
    } else {
      if (t.float_data_size() != n)
        fail(who + ": holds " + std::to_string(t.float_data_size()) + " floats, expected " + std::to_string(n));
      c.f.assign(t.float_data().begin(), t.float_data().end());
    }
    for (float v : c.f)
      if (!std::isfinite(v)) fail(who + ": contains a non-finite value");
  } else if (t.data_type() == TensorProto::INT64) {
    if (t.has_raw_data()) {
      if (static_cast<int64_t>(t.raw_data().size()) != n * 8) fail(who + ": raw_data size does not match its dims");
      c.i.resize(static_cast<size_t>(n));
      if (n > 0) std::memcpy(c.i.data(), t.raw_data().data(), t.raw_data().size());
    } else {
      if (t.int64_data_size() != n) fail(who + ": int64_data size does not match its dims");
      c.i.assign(t.int64_data().begin(), t.int64_data().end());
    }
  } else {
    fail(who + ": tensor data type " + std::to_string(t.data_type()) + " is not supported (expected FLOAT or INT64)");
  }
  return c;
}

const Constant& Importer::constant(const NodeProto& n, int input, const char* role) const {
  if (n.input_size() <= input || n.input(input).empty()) fail_node(n, std::string("missing input ") + role);
  auto it = constants_.find(n.input(input));
  if (it == constants_.end())
    fail_node(n, std::string("input ") + role + " '" + n.input(input) +
                     "' is not an initializer (missing initializer; weights must be constant)");
  return it->second;
}

const AttributeProto* Importer::attr(const NodeProto& n, const char* name) const {
  for (const AttributeProto& a : n.attribute())
    if (a.name() == name) return &a;
  return nullptr;
}
// An attribute of the wrong type (e.g. a float `group`) is refused, not read as 0.
void Importer::attr_type(const NodeProto& n, const AttributeProto& a, int type, const char* expected) const {
  if (a.type() != type && a.type() != AttributeProto::UNDEFINED)
    fail_node(n, "attribute '" + a.name() + "': expected " + expected);
}
int64_t Importer::attr_int(const NodeProto& n, const char* name, int64_t dflt) const {
  const AttributeProto* a = attr(n, name);
  if (a) attr_type(n, *a, AttributeProto::INT, "an integer (INT)");
  return a ? a->i() : dflt;
}
float Importer::attr_float(const NodeProto& n, const char* name, float dflt) const {
  const AttributeProto* a = attr(n, name);
  if (a) attr_type(n, *a, AttributeProto::FLOAT, "a number (FLOAT)");
  if (a && !std::isfinite(a->f())) fail_node(n, std::string("attribute '") + name + "': expected a finite number");
  return a ? a->f() : dflt;
}
std::vector<int64_t> Importer::attr_ints(const NodeProto& n, const char* name, std::vector<int64_t> dflt) const {
  const AttributeProto* a = attr(n, name);
  if (a) attr_type(n, *a, AttributeProto::INTS, "a list of integers (INTS)");
  return a ? std::vector<int64_t>(a->ints().begin(), a->ints().end()) : dflt;
}

void Importer::read_input(const ONNX_NAMESPACE::GraphProto& g) {
  Value v;
  for (const auto& in : g.input()) {
    if (constants_.count(in.name())) continue;  // older exporters list initializers as inputs
    if (!net_.input_name.empty()) fail("graph has more than one non-constant input: only one input is supported");
    net_.input_name = in.name();
    if (!in.type().has_tensor_type() || in.type().tensor_type().elem_type() != TensorProto::FLOAT)
      fail("graph input '" + in.name() + "' must be a float tensor");
    const auto& shape = in.type().tensor_type().shape();
    std::vector<int64_t> dims;
    for (const auto& d : shape.dim()) {
      if (!d.has_dim_value() || d.dim_value() < 1)
        fail("graph input '" + in.name() + "' has a dynamic shape (dimension '" + d.dim_param() +
             "'): export with static dimensions, batch 1");
      if (d.dim_value() > kMaxTensorValues)
        fail("graph input '" + in.name() + "': dimension " + std::to_string(d.dim_value()) + " passes 2^31");
      dims.push_back(d.dim_value());
    }
    if (checked_product_of(dims) < 0)
      fail("graph input '" + in.name() + "': more than " + std::to_string(kMaxTensorValues) + " (2^31) values");
    if (dims.size() == 4 && dims[0] == 1) {
      v.shape = {dims[1], dims[2], dims[3]};
    } else if (dims.size() == 2 && dims[0] == 1) {
      v.shape = {dims[1], 1, 1};
      v.flat = true;
    } else {
      fail("graph input '" + in.name() + "' must have shape [1, C, H, W] or [1, N]");
    }
  }
  if (net_.input_name.empty()) fail("graph has no input");
  net_.input = v.shape;
  values_[net_.input_name] = v;
}

const Value& Importer::value(const NodeProto& n, int input) const {
  if (n.input_size() <= input || n.input(input).empty()) fail_node(n, "missing input " + std::to_string(input));
  const std::string& name = n.input(input);
  auto it = values_.find(name);
  if (it != values_.end()) return it->second;
  if (constants_.count(name))
    fail_node(n, "input '" + name + "' is a constant; this op is supported only on activations");
  fail_node(n, "reads '" + name + "', which no earlier node produces (nodes must be in topological order)");
}

void Importer::window_attrs(const NodeProto& n, Window& w, bool pooling) {
  const std::vector<int64_t> k = attr_ints(n, "kernel_shape", {});
  if (pooling && k.size() != 2) fail_node(n, "kernel_shape must have 2 values");
  for (int64_t v : k)
    if (v < 1 || v > kMaxSpatial)
      fail_node(n, "kernel_shape " + std::to_string(v) + ": expected values in [1, " + std::to_string(kMaxSpatial) + "]");
  if (k.size() == 2) w.kh = k[0], w.kw = k[1];
  const std::vector<int64_t> s = attr_ints(n, "strides", {1, 1});
  if (s.size() != 2 || s[0] < 1 || s[1] < 1) fail_node(n, "strides must be 2 positive values");
  if (s[0] > kMaxSpatial || s[1] > kMaxSpatial)
    fail_node(n, "strides: expected values in [1, " + std::to_string(kMaxSpatial) + "]");
  w.stride_h = s[0], w.stride_w = s[1];
  const std::vector<int64_t> p = attr_ints(n, "pads", {0, 0, 0, 0});
  if (p.size() != 4) fail_node(n, "pads must have 4 values");
  for (int64_t v : p)
    if (v < 0 || v > kMaxPad)
      fail_node(n, "pads " + std::to_string(v) + ": expected values in [0, " + std::to_string(kMaxPad) + "]");
  w.pad_top = p[0], w.pad_left = p[1], w.pad_bottom = p[2], w.pad_right = p[3];
  const AttributeProto* ap = attr(n, "auto_pad");
  if (ap && ap->s() != "NOTSET" && ap->s() != "VALID")
    fail_node(n, "auto_pad '" + ap->s() + "' is not supported (expected NOTSET with explicit pads, or VALID)");
  if (pooling)
    for (int64_t d : attr_ints(n, "dilations", {1, 1}))
      if (d != 1) fail_node(n, "dilation " + std::to_string(d) + " is not supported for pooling (only dilation 1)");
}

Layer* Importer::sole_producer(const NodeProto& n) {
  const Value& v = value(n, 0);
  if (v.layer < 0 || v.padded()) return nullptr;
  std::string name = n.input(0);
  while (alias_of_.count(name)) name = alias_of_.at(name);
  auto it = uses_.find(name);
  if (it == uses_.end() || it->second != 1) return nullptr;
  return &net_.layers[static_cast<size_t>(v.layer)];
}

Layer& Importer::last_compute(const NodeProto& n, const char* why) {
  Layer* l = sole_producer(n);
  if (!l || !l->has_weights() || l->relu)
    fail_node(n, std::string(why) + " must directly follow a Conv, Gemm or MatMul");
  return *l;
}

void Importer::add_layer(const NodeProto& n, Layer l, std::vector<int> inputs, bool flat) {
  check_out_shape(n, l.out);
  l.name = name_of(n);
  // A layer reading only the layer before it keeps `inputs` empty (a chain).
  const int idx = static_cast<int>(net_.layers.size());
  if (!(inputs.size() == 1 && inputs[0] == idx - 1)) l.inputs = std::move(inputs);
  Value v;
  v.layer = idx;
  v.shape = l.out;
  v.flat = flat;
  net_.layers.push_back(std::move(l));
  if (n.output_size() < 1 || n.output(0).empty()) fail_node(n, "has no output");
  values_[n.output(0)] = v;
}

void Importer::alias(const NodeProto& n, int input) {
  if (n.output_size() < 1 || n.output(0).empty()) fail_node(n, "has no output");
  if (is_constant(n, input)) {
    constants_[n.output(0)] = constants_.at(n.input(input));
    return;
  }
  values_[n.output(0)] = value(n, input);
}

int64_t out_dim(int64_t in, int64_t k, int64_t s, int64_t a, int64_t b) { return (in + a + b - k) / s + 1; }

void Importer::conv(const NodeProto& n) {
  const Value& in = value(n, 0);
  if (in.flat) fail_node(n, "input is 2-D; Conv needs a C x H x W tensor");
  const TensorShape cur = in.shape;
  const int64_t groups = attr_int(n, "group", 1);
  if (groups < 1 || groups > cur.c || cur.c % groups != 0)
    fail_node(n, "groups = " + std::to_string(groups) + ": expected a divisor of the " + std::to_string(cur.c) +
                     " input channels");
  const Constant& w = constant(n, 1, "W");
  if (w.dims.size() != 4 || !w.is_float) fail_node(n, "weights must be a float tensor [M, C, kh, kw]");
  if (w.numel() == 0) fail_node(n, "weights W have a zero dimension: expected M, C, kh, kw >= 1");
  if (w.dims[0] > 65535 || w.dims[2] > kMaxSpatial || w.dims[3] > kMaxSpatial)
    fail_node(n, "weights W: expected at most 65535 output channels and kernel sides of at most " +
                     std::to_string(kMaxSpatial));
  if (w.dims[1] * groups != cur.c)
    fail_node(n, "weights expect " + std::to_string(w.dims[1] * groups) + " input channels, the input has " +
                     std::to_string(cur.c));
  if (w.dims[0] % groups != 0)
    fail_node(n, std::to_string(w.dims[0]) + " output channels are not a multiple of groups = " + std::to_string(groups));
  Layer l;
  l.kind = LayerKind::Conv;
  l.in = cur;
  l.groups = groups;
  window_attrs(n, l.window, false);
  l.window.pad_top += in.pad_t, l.window.pad_left += in.pad_l, l.window.pad_bottom += in.pad_b,
      l.window.pad_right += in.pad_r;  // a Pad node before the Conv
  const std::vector<int64_t> k = attr_ints(n, "kernel_shape", {w.dims[2], w.dims[3]});
  if (k.size() != 2 || k[0] != w.dims[2] || k[1] != w.dims[3]) fail_node(n, "kernel_shape does not match W");
  const std::vector<int64_t> dil = attr_ints(n, "dilations", {1, 1});
  if (dil.size() != 2 || dil[0] < 1 || dil[1] < 1 || dil[0] > 64 || dil[1] > 64)
    fail_node(n, "dilations must be 2 values in [1, 64]");
  l.dilation_h = dil[0], l.dilation_w = dil[1];
  // A dilated kernel is the zero-inserted kernel of (k - 1) d + 1 taps.
  const int64_t kh = (w.dims[2] - 1) * dil[0] + 1, kw = (w.dims[3] - 1) * dil[1] + 1;
  l.window.kh = kh, l.window.kw = kw;
  const Window& win = l.window;
  if (cur.h + win.pad_top + win.pad_bottom < win.kh || cur.w + win.pad_left + win.pad_right < win.kw)
    fail_node(n, "kernel larger than the padded input " + cur.str());
  l.out = {w.dims[0], out_dim(cur.h, win.kh, win.stride_h, win.pad_top, win.pad_bottom),
           out_dim(cur.w, win.kw, win.stride_w, win.pad_left, win.pad_right)};
  if (dil[0] == 1 && dil[1] == 1) {
    l.weights = w.f;
  } else {
    const int64_t m = w.dims[0], c = w.dims[1];
    l.weights.assign(static_cast<size_t>(m * c * kh * kw), 0.0f);
    for (int64_t i = 0; i < m * c; ++i)
      for (int64_t y = 0; y < w.dims[2]; ++y)
        for (int64_t x = 0; x < w.dims[3]; ++x)
          l.weights[static_cast<size_t>((i * kh + y * dil[0]) * kw + x * dil[1])] =
              w.f[static_cast<size_t>((i * w.dims[2] + y) * w.dims[3] + x)];
  }
  l.bias.assign(static_cast<size_t>(l.out.c), 0.0f);
  if (n.input_size() > 2 && !n.input(2).empty()) {
    const Constant& b = constant(n, 2, "B");
    if (b.numel() != l.out.c || !b.is_float) fail_node(n, "bias must have " + std::to_string(l.out.c) + " floats");
    l.bias = b.f;
  }
  add_layer(n, std::move(l), {in.layer});
}

void Importer::dense(const NodeProto& n, bool matmul) {
  const Value& in = value(n, 0);
  if (!in.flat) fail_node(n, "input " + in.shape.str() + " is not 2-D: add Flatten or Reshape before it");
  const TensorShape cur = in.shape;
  const Constant& b = constant(n, 1, "B");
  if (b.dims.size() != 2 || !b.is_float) fail_node(n, "weights B must be a 2-D float tensor");
  bool trans_b = false;
  float alpha = 1.0f, beta = 1.0f;
  if (!matmul) {
    if (attr_int(n, "transA", 0) != 0) fail_node(n, "transA = 1 is not supported");
    trans_b = attr_int(n, "transB", 0) != 0;
    alpha = attr_float(n, "alpha", 1.0f);
    beta = attr_float(n, "beta", 1.0f);
  }
  if (b.numel() == 0) fail_node(n, "weights B have a zero dimension: expected both >= 1");
  const int64_t k = trans_b ? b.dims[1] : b.dims[0], m = trans_b ? b.dims[0] : b.dims[1];
  if (m > 65535) fail_node(n, "weights B: " + std::to_string(m) + " outputs, expected at most 65535");
  if (k != cur.numel())
    fail_node(n, "weights expect " + std::to_string(k) + " inputs, the input has " + std::to_string(cur.numel()));
  Layer l;
  l.kind = LayerKind::Dense;
  l.in = cur;
  l.out = {m, 1, 1};
  l.weights.resize(static_cast<size_t>(m * k));
  for (int64_t o = 0; o < m; ++o)
    for (int64_t i = 0; i < k; ++i)
      l.weights[static_cast<size_t>(o * k + i)] =
          alpha * b.f[static_cast<size_t>(trans_b ? o * k + i : i * m + o)];
  l.bias.assign(static_cast<size_t>(m), 0.0f);
  if (!matmul && n.input_size() > 2 && !n.input(2).empty()) {
    const Constant& c = constant(n, 2, "C");
    if (!c.is_float || (c.numel() != m && c.numel() != 1))
      fail_node(n, "bias C must have " + std::to_string(m) + " floats (or 1)");
    for (int64_t o = 0; o < m; ++o) l.bias[static_cast<size_t>(o)] = beta * c.f[c.numel() == 1 ? 0 : static_cast<size_t>(o)];
  }
  add_layer(n, std::move(l), {in.layer}, true);
}

void Importer::add(const NodeProto& n) {
  if (n.input_size() != 2) fail_node(n, "expected 2 inputs");
  if (is_constant(n, 0) || is_constant(n, 1)) {
    if (is_constant(n, 0) && is_constant(n, 1)) fail_node(n, "Add of two constants is not supported");
    add_bias(n);
    return;
  }
  const Value a = value(n, 0), b = value(n, 1);
  if (!(a.shape == b.shape)) fail_node(n, "inputs " + a.shape.str() + " and " + b.shape.str() + " differ: expected equal shapes");
  if (a.padded() || b.padded()) fail_node(n, "reads a Pad output; Pad is supported only before a Conv");
  Layer l;
  l.kind = LayerKind::Add;
  l.in = a.shape;
  l.out = a.shape;
  add_layer(n, std::move(l), {a.layer, b.layer}, a.flat);
}

void Importer::add_bias(const NodeProto& n) {
  const int which = is_constant(n, 0) ? 0 : 1;
  NodeProto reader = n;  // the running tensor as input 0, for sole_producer
  if (which == 0) reader.mutable_input()->SwapElements(0, 1);
  Layer& l = last_compute(reader, "Add (as bias)");
  const Constant& c = constant(n, which, "bias");
  const int64_t m = l.out.c;
  // A per-channel constant: shape [M], [1, M] or [1, M, 1, 1] (or a scalar).
  if (!c.is_float || (c.numel() != m && c.numel() != 1))
    fail_node(n, "bias must have " + std::to_string(m) + " values (one per output channel)");
  for (int64_t o = 0; o < m; ++o) l.bias[static_cast<size_t>(o)] += c.f[c.numel() == 1 ? 0 : static_cast<size_t>(o)];
  alias(reader, 0);
}

void Importer::mul(const NodeProto& n) {
  if (n.input_size() != 2) fail_node(n, "expected 2 inputs");
  if (is_constant(n, 0) || is_constant(n, 1)) {
    // A constant scale folds into the Conv/Gemm before it (weights and bias).
    NodeProto reader = n;
    const int which = is_constant(n, 0) ? 0 : 1;
    if (which == 0) reader.mutable_input()->SwapElements(0, 1);
    Layer& l = last_compute(reader, "Mul by a constant");
    const Constant& c = constant(n, which, "scale");
    const int64_t m = l.out.c;
    if (!c.is_float || (c.numel() != m && c.numel() != 1))
      fail_node(n, "a constant scale must have " + std::to_string(m) + " values (one per output channel) or 1");
    const size_t per = l.weights.size() / static_cast<size_t>(m);
    for (int64_t o = 0; o < m; ++o) {
      const float g = c.f[c.numel() == 1 ? 0 : static_cast<size_t>(o)];
      for (size_t i = 0; i < per; ++i) l.weights[static_cast<size_t>(o) * per + i] *= g;
      l.bias[static_cast<size_t>(o)] *= g;
    }
    alias(reader, 0);
    return;
  }
  Value a = value(n, 0), b = value(n, 1);
  // The per-channel operand (C x 1 x 1, squeeze and excite) goes second.
  if (a.shape.h * a.shape.w == 1 && b.shape.h * b.shape.w > 1) std::swap(a, b);
  const bool per_channel = b.shape.c == a.shape.c && b.shape.h == 1 && b.shape.w == 1;
  if (!(a.shape == b.shape) && !per_channel)
    fail_node(n, "inputs " + a.shape.str() + " and " + b.shape.str() +
                     ": expected equal shapes or a per-channel C x 1 x 1 scale");
  if (a.padded() || b.padded()) fail_node(n, "reads a Pad output; Pad is supported only before a Conv");
  Layer l;
  l.kind = LayerKind::Mul;
  l.in = a.shape;
  l.out = a.shape;
  add_layer(n, std::move(l), {a.layer, b.layer}, a.flat);
}

void Importer::batchnorm(const NodeProto& n) {
  Layer& l = last_compute(n, "BatchNormalization");
  const Constant& scale = constant(n, 1, "scale");
  const Constant& bias = constant(n, 2, "B");
  const Constant& mean = constant(n, 3, "mean");
  const Constant& var = constant(n, 4, "var");
  const int64_t m = l.out.c;
  for (const Constant* c : {&scale, &bias, &mean, &var})
    if (!c->is_float || c->numel() != m) fail_node(n, "parameters must have " + std::to_string(m) + " floats");
  const double eps = attr_float(n, "epsilon", 1e-5f);
  if (eps < 0) fail_node(n, "attribute 'epsilon': expected a non-negative number");
  for (float v : var.f)
    if (!(v + eps > 0)) fail_node(n, "input var: expected variances with var + epsilon > 0");
  const size_t per = l.weights.size() / static_cast<size_t>(m);
  for (int64_t o = 0; o < m; ++o) {
    const size_t oi = static_cast<size_t>(o);
    const double g = scale.f[oi] / std::sqrt(static_cast<double>(var.f[oi]) + eps);
    for (size_t i = 0; i < per; ++i) l.weights[oi * per + i] = static_cast<float>(l.weights[oi * per + i] * g);
    l.bias[oi] = static_cast<float>((l.bias[oi] - mean.f[oi]) * g + bias.f[oi]);
  }
  alias(n, 0);
}

void Importer::pool(const NodeProto& n, LayerKind kind) {
  const Value& in = value(n, 0);
  if (in.flat) fail_node(n, "input is 2-D; pooling needs a C x H x W tensor");
  if (in.padded()) fail_node(n, "reads a Pad output; Pad is supported only before a Conv");
  const TensorShape cur = in.shape;
  Layer l;
  l.kind = kind;
  l.in = cur;
  if (kind == LayerKind::GlobalAvgPool) {
    l.window.kh = cur.h, l.window.kw = cur.w;
    l.out = {cur.c, 1, 1};
  } else {
    window_attrs(n, l.window, true);
    if (attr_int(n, "storage_order", 0) != 0) fail_node(n, "storage_order = 1 is not supported");
    Window& w = l.window;
    const bool any_pad = w.pad_top || w.pad_left || w.pad_bottom || w.pad_right;
    if (kind == LayerKind::AvgPool && attr_int(n, "count_include_pad", 0) != 0 && any_pad)
      fail_node(n, "count_include_pad = 1 is not supported (padded positions are excluded)");
    if (n.output_size() > 1 && !n.output(1).empty()) fail_node(n, "the Indices output is not supported");
    if (cur.h + w.pad_top + w.pad_bottom < w.kh || cur.w + w.pad_left + w.pad_right < w.kw)
      fail_node(n, "window larger than the padded input " + cur.str());
    if (attr_int(n, "ceil_mode", 0) != 0) {
      // ceil_mode: as many more windows as start inside the input or its
      // leading pad, i.e. extra bottom/right padding that no window sees alone.
      auto extra = [](int64_t in, int64_t k, int64_t s, int64_t a, int64_t b) {
        int64_t o = (in + a + b - k + s - 1) / s + 1;
        if ((o - 1) * s >= in + a) --o;
        return std::max<int64_t>(0, (o - 1) * s + k - (in + a + b));
      };
      w.pad_bottom += extra(cur.h, w.kh, w.stride_h, w.pad_top, w.pad_bottom);
      w.pad_right += extra(cur.w, w.kw, w.stride_w, w.pad_left, w.pad_right);
      if (kind == LayerKind::AvgPool && attr_int(n, "count_include_pad", 0) != 0 &&
          (w.pad_bottom || w.pad_right))
        fail_node(n, "count_include_pad = 1 with ceil_mode = 1 is not supported (padded positions are excluded)");
    }
    l.out = {cur.c, out_dim(cur.h, w.kh, w.stride_h, w.pad_top, w.pad_bottom),
             out_dim(cur.w, w.kw, w.stride_w, w.pad_left, w.pad_right)};
  }
  add_layer(n, std::move(l), {in.layer});
}

void Importer::flatten(const NodeProto& n, bool reshape) {
  const Value& in = value(n, 0);
  const TensorShape cur = in.shape;
  if (reshape) {
    const Constant& s = constant(n, 1, "shape");
    if (s.is_float || s.i.size() != 2) fail_node(n, "only a reshape to 2-D [1, n] is supported");
    const int64_t a = s.i[0], b = s.i[1];
    const bool ok = (a == 1 || a == -1 || a == 0) && (b == cur.numel() || b == -1);
    if (!ok) fail_node(n, "only a reshape to 2-D [1, " + std::to_string(cur.numel()) + "] is supported");
    if (attr_int(n, "allowzero", 0) != 0) fail_node(n, "allowzero = 1 is not supported");
  } else if (attr_int(n, "axis", 1) != 1) {
    fail_node(n, "only axis = 1 is supported");
  }
  if (in.padded()) fail_node(n, "reads a Pad output; Pad is supported only before a Conv");
  if (in.flat) {  // already 2-D
    alias(n, 0);
    return;
  }
  Layer l;
  l.kind = LayerKind::Flatten;
  l.in = cur;
  l.out = {cur.numel(), 1, 1};
  add_layer(n, std::move(l), {in.layer}, true);
}

void Importer::relu(const NodeProto& n) {
  const Value& in = value(n, 0);
  if (in.layer < 0) fail_node(n, "a ReLU on the network input is not supported");
  Layer* p = sole_producer(n);
  if (p && !p->relu && (p->has_weights() || p->is_pool() || p->kind == LayerKind::Flatten ||
                        p->kind == LayerKind::Add || p->kind == LayerKind::Concat)) {
    p->relu = true;
    alias(n, 0);
    return;
  }
  Layer l;
  l.kind = LayerKind::Relu;
  l.in = l.out = in.shape;
  add_layer(n, std::move(l), {in.layer}, in.flat);
}

void Importer::clip(const NodeProto& n) {
  const Value& in = value(n, 0);
  if (in.layer < 0) fail_node(n, "a Clip on the network input is not supported");
  float lo = -INFINITY, hi = INFINITY;
  if (const AttributeProto* a = attr(n, "min")) lo = attr_float(n, "min", 0), (void)a;
  if (const AttributeProto* a = attr(n, "max")) hi = attr_float(n, "max", 0), (void)a;
  for (int i = 1; i < 3 && i < n.input_size(); ++i) {
    if (n.input(i).empty()) continue;
    const Constant& c = constant(n, i, i == 1 ? "min" : "max");
    if (!c.is_float || c.numel() != 1) fail_node(n, std::string("input ") + (i == 1 ? "min" : "max") + ": expected one float");
    (i == 1 ? lo : hi) = c.f[0];
  }
  if (!(lo <= hi)) fail_node(n, "min > max");
  if (lo == 0 && std::isinf(hi)) {
    relu(n);
    return;
  }
  Layer l;
  l.kind = LayerKind::Clip;
  l.in = l.out = in.shape;
  l.lo = lo, l.hi = hi;
  add_layer(n, std::move(l), {in.layer}, in.flat);
}

void Importer::activation(const NodeProto& n, LayerKind kind) {
  const Value& in = value(n, 0);
  if (in.padded()) fail_node(n, "reads a Pad output; Pad is supported only before a Conv");
  Layer l;
  l.kind = kind;
  l.in = l.out = in.shape;
  if (kind == LayerKind::HardSigmoid) {
    l.alpha = attr_float(n, "alpha", 0.2f);
    l.beta = attr_float(n, "beta", 0.5f);
  }
  add_layer(n, std::move(l), {in.layer}, in.flat);
}

void Importer::concat(const NodeProto& n) {
  bool all_const = n.input_size() > 0;
  for (int i = 0; i < n.input_size(); ++i) all_const = all_const && is_constant(n, i);
  if (all_const) {
    fold_constant(n);
    return;
  }
  if (n.input_size() < 1) fail_node(n, "expected at least one input");
  const int64_t axis = attr_int(n, "axis", 1);
  Layer l;
  l.kind = LayerKind::Concat;
  std::vector<int> ins;
  const Value first = value(n, 0);
  const bool flat = first.flat;
  if (axis != 1 && !(axis == -3 && !flat) && !(axis == -1 && flat))
    fail_node(n, "axis " + std::to_string(axis) + " is not supported (only the channel axis 1)");
  l.out = {0, first.shape.h, first.shape.w};
  for (int i = 0; i < n.input_size(); ++i) {
    const Value& v = value(n, i);
    if (v.flat != flat || v.shape.h != first.shape.h || v.shape.w != first.shape.w)
      fail_node(n, "input " + std::to_string(i) + " is " + v.shape.str() + ": expected " +
                       std::to_string(first.shape.h) + "x" + std::to_string(first.shape.w) + " like input 0");
    if (v.padded()) fail_node(n, "reads a Pad output; Pad is supported only before a Conv");
    l.out.c += v.shape.c;
    ins.push_back(v.layer);
  }
  l.in = first.shape;
  add_layer(n, std::move(l), ins, flat);
}

void Importer::pad(const NodeProto& n) {
  const Value in = value(n, 0);
  const AttributeProto* mode = attr(n, "mode");
  if (mode && mode->s() != "constant") fail_node(n, "mode '" + mode->s() + "' is not supported (only constant)");
  std::vector<int64_t> p = attr_ints(n, "pads", {});
  if (n.input_size() > 1 && !n.input(1).empty()) p = constant(n, 1, "pads").i;
  if (n.input_size() > 2 && !n.input(2).empty()) {
    const Constant& c = constant(n, 2, "constant_value");
    if (!c.is_float || c.numel() != 1 || c.f[0] != 0.0f) fail_node(n, "only zero padding is supported");
  }
  if (attr_float(n, "value", 0.0f) != 0.0f) fail_node(n, "only zero padding is supported");
  if (n.input_size() > 3 && !n.input(3).empty()) fail_node(n, "the axes input is not supported");
  if (p.size() != 8 || p[0] || p[1] || p[4] || p[5] || in.flat)
    fail_node(n, "only padding of the height and width of a 1 x C x H x W tensor is supported");
  for (int64_t v : p)
    if (v < 0 || v > kMaxPad) fail_node(n, "pads " + std::to_string(v) + ": expected values in [0, " + std::to_string(kMaxPad) + "]");
  Value v = in;
  v.pad_t += p[2], v.pad_l += p[3], v.pad_b += p[6], v.pad_r += p[7];
  if (n.output_size() < 1) fail_node(n, "has no output");
  values_[n.output(0)] = v;
}

// ReduceMean over height and width: a global average pool (2-D [1, C]
// when keepdims = 0).
void Importer::reduce_mean(const NodeProto& n) {
  const Value& in = value(n, 0);
  std::vector<int64_t> axes = attr_ints(n, "axes", {});
  if (n.input_size() > 1 && !n.input(1).empty()) axes = constant(n, 1, "axes").i;
  for (int64_t& a : axes) a = a < 0 ? a + 4 : a;
  std::sort(axes.begin(), axes.end());
  if (in.flat || axes != std::vector<int64_t>{2, 3})
    fail_node(n, "only the mean over height and width (axes 2, 3) of a C x H x W tensor is supported");
  pool(n, LayerKind::GlobalAvgPool);
  if (attr_int(n, "keepdims", 1) == 0) values_[n.output(0)].flat = true;
}

// Ops on constant inputs only (shape arithmetic the exporters leave in):
// the result is a constant.
bool Importer::fold_constant(const NodeProto& n) {
  const std::string& op = n.op_type();
  if (n.output_size() < 1 || n.output(0).empty()) fail_node(n, "has no output");
  Constant r;
  if (op == "Shape") {
    const Value& v = value(n, 0);
    r.i = v.flat ? std::vector<int64_t>{1, v.shape.c} : std::vector<int64_t>{1, v.shape.c, v.shape.h, v.shape.w};
    r.dims = {static_cast<int64_t>(r.i.size())};
  } else {
    for (int i = 0; i < n.input_size(); ++i)
      if (!n.input(i).empty() && !is_constant(n, i))
        fail_node(n, "input '" + n.input(i) + "' is not constant: " + op + " is supported only on constant paths");
    const Constant& a = constant(n, 0, "data");
    r = a;
    if (op == "Cast") {
      const int64_t to = attr_int(n, "to", TensorProto::FLOAT);
      if (to == TensorProto::FLOAT && !a.is_float) {
        r.is_float = true, r.f.assign(a.i.begin(), a.i.end()), r.i.clear();
      } else if (to == TensorProto::INT64 && a.is_float) {
        r.is_float = false, r.i.clear();
        for (float x : a.f) r.i.push_back(static_cast<int64_t>(x));
        r.f.clear();
      } else if (to != TensorProto::FLOAT && to != TensorProto::INT64) {
        fail_node(n, "Cast to type " + std::to_string(to) + " is not supported (FLOAT or INT64)");
      }
    } else if (op == "Unsqueeze" || op == "Squeeze") {
      std::vector<int64_t> axes = attr_ints(n, "axes", {});
      if (n.input_size() > 1 && !n.input(1).empty()) axes = constant(n, 1, "axes").i;
      if (op == "Squeeze") {
        std::vector<int64_t> d;
        for (size_t i = 0; i < a.dims.size(); ++i) {
          bool drop = axes.empty() ? a.dims[i] == 1 : false;
          for (int64_t x : axes) drop = drop || (x < 0 ? x + static_cast<int64_t>(a.dims.size()) : x) == static_cast<int64_t>(i);
          if (!drop) d.push_back(a.dims[i]);
        }
        r.dims = d;
      } else {
        r.dims = a.dims;
        const int64_t rank = static_cast<int64_t>(a.dims.size() + axes.size());
        std::vector<int64_t> sorted;
        for (int64_t x : axes) sorted.push_back(x < 0 ? x + rank : x);
        std::sort(sorted.begin(), sorted.end());
        for (int64_t x : sorted) {
          if (x < 0 || x > static_cast<int64_t>(r.dims.size())) fail_node(n, "axis out of range");
          r.dims.insert(r.dims.begin() + x, 1);
        }
      }
    } else if (op == "Gather") {
      const Constant& idx = constant(n, 1, "indices");
      if (a.dims.size() != 1 || attr_int(n, "axis", 0) != 0 || idx.is_float)
        fail_node(n, "only Gather from a 1-D constant on axis 0 is supported");
      r.i.clear(), r.f.clear();
      for (int64_t k : idx.i) {
        const int64_t j = k < 0 ? k + a.count : k;
        if (j < 0 || j >= a.count) fail_node(n, "index " + std::to_string(k) + " out of range");
        if (a.is_float) r.f.push_back(a.f[static_cast<size_t>(j)]);
        else r.i.push_back(a.i[static_cast<size_t>(j)]);
      }
      r.dims = idx.dims;
      r.count = static_cast<int64_t>(idx.i.size());
    } else if (op == "Transpose") {
      const std::vector<int64_t> perm = attr_ints(n, "perm", {1, 0});
      if (a.dims.size() != 2 || perm != std::vector<int64_t>{1, 0})
        fail_node(n, "only the transpose of a 2-D constant is supported");
      r.dims = {a.dims[1], a.dims[0]};
      for (int64_t y = 0; y < a.dims[0]; ++y)
        for (int64_t x = 0; x < a.dims[1]; ++x) {
          const size_t from = static_cast<size_t>(y * a.dims[1] + x), to = static_cast<size_t>(x * a.dims[0] + y);
          if (a.is_float) r.f[to] = a.f[from];
          else r.i[to] = a.i[from];
        }
    } else if (op == "Concat") {
      r.dims = {0};
      r.f.clear(), r.i.clear();
      for (int i = 0; i < n.input_size(); ++i) {
        const Constant& c = constant(n, i, "input");
        if (c.dims.size() != 1 || c.is_float != a.is_float) fail_node(n, "only 1-D constants of one type concatenate");
        r.f.insert(r.f.end(), c.f.begin(), c.f.end());
        r.i.insert(r.i.end(), c.i.begin(), c.i.end());
        r.dims[0] += c.dims[0];
      }
      r.count = r.dims[0];
    } else {
      return false;
    }
  }
  r.count = checked_product_of(r.dims);
  constants_[n.output(0)] = r;
  return true;
}
void Importer::check_versions(const ONNX_NAMESPACE::ModelProto& m) const {
  if (m.ir_version() > kMaxIrVersion)
    fail("field 'ir_version' is " + std::to_string(m.ir_version()) + ": expected 1 to " +
         std::to_string(kMaxIrVersion) + " (a later ONNX IR is not known to this importer)");
  for (const auto& op : m.opset_import()) {
    if (!op.domain().empty() && op.domain() != "ai.onnx") continue;  // other domains: refused per node
    if (op.version() < 1 || op.version() > kMaxOpset)
      fail("field 'opset_import' version " + std::to_string(op.version()) + " of the default domain: expected 1 to " +
           std::to_string(kMaxOpset) + " (a later opset is not known to this importer)");
  }
}

// Each tensor name is produced once: by the graph input, an initializer or
// one node output (a second producer would make the chain ambiguous).
void Importer::check_unique_outputs(const ONNX_NAMESPACE::GraphProto& g) const {
  std::map<std::string, std::string> producer;
  for (const auto& in : g.input()) producer.emplace(in.name(), "the graph input");
  for (const TensorProto& t : g.initializer()) producer.emplace(t.name(), "an initializer");
  for (int i = 0; i < g.node_size(); ++i) {
    const NodeProto& n = g.node(i);
    const std::string who = "node '" + (n.name().empty() ? n.op_type() + "_" + std::to_string(i) : n.name()) + "'";
    for (const std::string& out : n.output()) {
      if (out.empty()) continue;
      const auto [it, fresh] = producer.emplace(out, who);
      if (!fresh)
        fail(who + " (" + n.op_type() + "): field 'output' '" + out + "' is already produced by " + it->second +
             ": expected each tensor name once");
    }
  }
}

// A layer's output shape stays within the tensor limit (shape_limits.h).
void Importer::check_out_shape(const NodeProto& n, const TensorShape& s) const {
  if (s.c < 1 || s.h < 1 || s.w < 1 || checked_product({s.c, s.h, s.w}) < 0)
    fail_node(n, "output shape " + s.str() + ": expected 1 to " + std::to_string(kMaxTensorValues) + " (2^31) values");
}

Network Importer::run() {
  std::error_code ec;
  if (std::filesystem::is_directory(path_, ec)) fail("cannot open the model file: it is a folder, expected an ONNX file");
  std::ifstream f(path_, std::ios::binary);
  if (!f) fail("cannot open the model file (" + std::string(std::strerror(errno)) + ")");
  const auto size = std::filesystem::file_size(path_, ec);
  if (!ec && size >= kMaxModelBytes)
    fail("the model file is " + std::to_string(size) + " bytes, expected less than 2 GiB (protobuf's limit)");
  std::ostringstream buf;
  buf << f.rdbuf();
  return run_bytes(buf.str());
}

namespace {
const std::set<std::string>& supported_set() {
  static const std::set<std::string> ops = {
      "Conv", "Gemm", "MatMul", "Add", "Mul", "Relu", "Clip", "Sigmoid", "HardSigmoid", "HardSwish",
      "MaxPool", "AveragePool", "GlobalAveragePool", "Flatten", "Reshape", "BatchNormalization", "Dropout",
      "Identity", "Constant", "Concat", "Pad", "ReduceMean", "Shape", "Gather", "Unsqueeze", "Squeeze", "Transpose", "Cast"};
  return ops;
}
}  // namespace

// Every node of an unsupported op (or domain), all listed at once, before
// any other check of the nodes.
void Importer::check_supported(const ONNX_NAMESPACE::GraphProto& g) const {
  std::vector<std::string> bad;
  Importer* self = const_cast<Importer*>(this);
  for (int i = 0; i < g.node_size(); ++i) {
    const NodeProto& n = g.node(i);
    self->node_index_ = static_cast<size_t>(i);
    const std::string who = "node '" + name_of(n) + "' (" + n.op_type() + "): ";
    if (!n.domain().empty() && n.domain() != "ai.onnx") {
      bad.push_back(who + "operator domain '" + n.domain() + "' is not supported");
    } else if (!supported_set().count(n.op_type())) {
      const std::string& op = n.op_type();
      const bool recurrent = op == "LSTM" || op == "GRU" || op == "RNN" || op == "Loop" || op == "Scan";
      bad.push_back(who + "unsupported op '" + op + "'" +
                    (recurrent ? " (a recurrent layer: " + op + " has no mapping onto the PE array)" : ""));
    }
  }
  self->node_index_ = 0;
  if (bad.empty()) return;
  std::string msg = std::to_string(bad.size()) + " unsupported op" + (bad.size() > 1 ? "s" : "") + ": ";
  for (size_t i = 0; i < bad.size(); ++i) msg += (i ? "; " : "") + bad[i];
  fail(msg + "; supported ops: " + supported_onnx_ops());
}

void Importer::count_uses(const ONNX_NAMESPACE::GraphProto& g) {
  auto resolve = [&](std::string s) {
    while (alias_of_.count(s)) s = alias_of_.at(s);
    return s;
  };
  for (const NodeProto& n : g.node()) {
    const std::string& op = n.op_type();
    if ((op == "Identity" || op == "Dropout") && n.input_size() >= 1 && n.output_size() >= 1)
      alias_of_[n.output(0)] = resolve(n.input(0));
  }
  for (const NodeProto& n : g.node()) {
    const std::string& op = n.op_type();
    if (op == "Identity" || op == "Dropout") continue;
    for (const std::string& in : n.input())
      if (!in.empty()) ++uses_[resolve(in)];
  }
  for (const auto& out : g.output()) ++uses_[resolve(out.name())];
}

Network Importer::run_bytes(const std::string& bytes) {
  ONNX_NAMESPACE::ModelProto model;
  if (bytes.empty() || !model.ParseFromString(bytes))
    fail("not a valid ONNX model: the protobuf could not be parsed (truncated or not an ONNX file)");
  if (model.ir_version() <= 0 || !model.has_graph() || model.graph().node_size() == 0)
    fail("not a valid ONNX model: no ir_version or an empty graph (truncated or not an ONNX file)");
  net_.source = path_;
  check_versions(model);
  const auto& g = model.graph();
  check_supported(g);
  check_unique_outputs(g);
  for (const TensorProto& t : g.initializer()) constants_[t.name()] = to_constant(t, "initializer '" + t.name() + "'");
  read_input(g);
  count_uses(g);
  for (node_index_ = 0; node_index_ < static_cast<size_t>(g.node_size()); ++node_index_) {
    const NodeProto& n = g.node(static_cast<int>(node_index_));
    const std::string& op = n.op_type();
    if (op == "Constant") {
      const AttributeProto* v = attr(n, "value");
      if (!v || !v->has_t() || n.output_size() != 1) fail_node(n, "only Constant nodes with a tensor value are supported");
      constants_[n.output(0)] = to_constant(v->t(), "Constant '" + name_of(n) + "'");
      continue;
    }
    if (n.output_size() < 1) fail_node(n, "has no output");
    if (op == "Shape" || op == "Gather" || op == "Unsqueeze" || op == "Squeeze" || op == "Transpose" || op == "Cast") {
      fold_constant(n);
      continue;
    }
    if (op == "Dropout" || op == "Identity") {
      if (n.output_size() > 1 && !n.output(1).empty()) {
        for (const NodeProto& other : g.node())
          for (const std::string& in : other.input())
            if (in == n.output(1)) fail_node(n, "the Dropout mask output is used; it is not supported");
      }
      if (n.input_size() < 1) fail_node(n, "missing input 0");
      alias(n, 0);
      continue;
    }
    if (op == "Conv") conv(n);
    else if (op == "Gemm") dense(n, false);
    else if (op == "MatMul") dense(n, true);
    else if (op == "Add") add(n);
    else if (op == "Mul") mul(n);
    else if (op == "Relu") relu(n);
    else if (op == "Clip") clip(n);
    else if (op == "Sigmoid") activation(n, LayerKind::Sigmoid);
    else if (op == "HardSigmoid") activation(n, LayerKind::HardSigmoid);
    else if (op == "HardSwish") activation(n, LayerKind::HardSwish);
    else if (op == "MaxPool") pool(n, LayerKind::MaxPool);
    else if (op == "AveragePool") pool(n, LayerKind::AvgPool);
    else if (op == "GlobalAveragePool") pool(n, LayerKind::GlobalAvgPool);
    else if (op == "ReduceMean") reduce_mean(n);
    else if (op == "Flatten") flatten(n, false);
    else if (op == "Reshape") flatten(n, true);
    else if (op == "BatchNormalization") batchnorm(n);
    else if (op == "Concat") concat(n);
    else if (op == "Pad") pad(n);
    else fail_node(n, "unsupported op '" + op + "'; supported ops: " + supported_onnx_ops());
  }
  if (g.output_size() != 1) fail("graph must have exactly one output");
  const std::string& out = g.output(0).name();
  auto it = values_.find(out);
  const int last = static_cast<int>(net_.layers.size()) - 1;
  if (it == values_.end() || it->second.layer != last || it->second.padded())
    fail("graph output '" + out + "' is not the end of the layer chain (the output of the last layer" +
         (last >= 0 ? " '" + net_.layers.back().name + "'" : std::string()) + ")");
  net_.output_name = out;
  if (net_.layers.empty()) fail("the graph has no layers");
  return net_;
}

}  // namespace

const char* supported_onnx_ops() {
  return "Conv (grouped, depthwise, dilated), Gemm, MatMul, Add (bias or residual), Mul (constant scale or squeeze "
         "and excite), Concat (channels), Relu, Clip, Sigmoid, HardSigmoid, HardSwish, MaxPool, AveragePool "
         "(ceil_mode), GlobalAveragePool, ReduceMean (over H, W), Flatten, Reshape (to 2-D), Pad (zeros, before a Conv), BatchNormalization "
         "(after Conv/Gemm), Dropout, Identity, Constant, and Shape, Gather, Unsqueeze, Squeeze, Transpose, Cast on "
         "constants";
}

Network import_onnx(const std::string& path) { return Importer(path).run(); }

Network import_onnx_bytes(const std::string& bytes, const std::string& name) { return Importer(name).run_bytes(bytes); }

std::string TensorShape::str() const {
  return std::to_string(c) + "x" + std::to_string(h) + "x" + std::to_string(w);
}

const char* to_string(LayerKind k) {
  switch (k) {
    case LayerKind::Conv: return "conv";
    case LayerKind::Dense: return "fc";
    case LayerKind::MaxPool: return "maxpool";
    case LayerKind::AvgPool: return "avgpool";
    case LayerKind::GlobalAvgPool: return "gavgpool";
    case LayerKind::Flatten: return "flatten";
    case LayerKind::Add: return "add";
    case LayerKind::Concat: return "concat";
    case LayerKind::Mul: return "mul";
    case LayerKind::Relu: return "relu";
    case LayerKind::Clip: return "clip";
    case LayerKind::Sigmoid: return "sigmoid";
    case LayerKind::HardSigmoid: return "hardsigmoid";
    case LayerKind::HardSwish: return "hardswish";
  }
  return "?";
}

bool Network::is_chain() const {
  for (size_t i = 0; i < layers.size(); ++i) {
    const Layer& l = layers[i];
    if (l.is_vector_op() || l.groups != 1 || l.dilation_h != 1 || l.dilation_w != 1) return false;
    if (!l.inputs.empty() && !(l.inputs.size() == 1 && l.inputs[0] == static_cast<int>(i) - 1)) return false;
  }
  return true;
}

uint64_t Network::macs() const {
  uint64_t n = 0;
  for (const Layer& l : layers) n += l.macs();
  return n;
}

}  // namespace brsim
