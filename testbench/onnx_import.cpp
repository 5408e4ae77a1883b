#include "onnx_import.h"

#include <onnx/onnx_pb.h>

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
  const AttributeProto* attr(const NodeProto& n, const char* name) const;
  void attr_type(const NodeProto& n, const AttributeProto& a, int type, const char* expected) const;
  void check_versions(const ONNX_NAMESPACE::ModelProto& m) const;
  void check_unique_outputs(const ONNX_NAMESPACE::GraphProto& g) const;
  void check_out_shape(const NodeProto& n, const TensorShape& s) const;
  int64_t attr_int(const NodeProto& n, const char* name, int64_t dflt) const;
  float attr_float(const NodeProto& n, const char* name, float dflt) const;
  std::vector<int64_t> attr_ints(const NodeProto& n, const char* name, std::vector<int64_t> dflt) const;
  void read_input(const ONNX_NAMESPACE::GraphProto& g);
  void window_attrs(const NodeProto& n, Window& w, bool pooling);
  Layer& last_compute(const NodeProto& n, const char* why);

  void conv(const NodeProto& n);
  void dense(const NodeProto& n, bool matmul);
  void add_bias(const NodeProto& n);
  void batchnorm(const NodeProto& n);
  void pool(const NodeProto& n, LayerKind kind);
  void flatten(const NodeProto& n, bool reshape);

  std::string path_;
  Network net_;
  std::map<std::string, Constant> constants_;
  TensorShape cur_;
  bool flat_ = false;        // the current tensor is [1 x n]
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
      cur_ = {dims[1], dims[2], dims[3]};
    } else if (dims.size() == 2 && dims[0] == 1) {
      cur_ = {dims[1], 1, 1};
      flat_ = true;
    } else {
      fail("graph input '" + in.name() + "' must have shape [1, C, H, W] or [1, N]");
    }
  }
  if (net_.input_name.empty()) fail("graph has no input");
  net_.input = cur_;
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
  for (int64_t d : attr_ints(n, "dilations", {1, 1}))
    if (d != 1) fail_node(n, "dilation " + std::to_string(d) + " is not supported (only dilation 1)");
}

Layer& Importer::last_compute(const NodeProto& n, const char* why) {
  if (net_.layers.empty() || !net_.layers.back().has_weights() || net_.layers.back().relu)
    fail_node(n, std::string(why) + " must directly follow a Conv, Gemm or MatMul");
  return net_.layers.back();
}

int64_t out_dim(int64_t in, int64_t k, int64_t s, int64_t a, int64_t b) { return (in + a + b - k) / s + 1; }

void Importer::conv(const NodeProto& n) {
  if (flat_) fail_node(n, "input is 2-D; Conv needs a C x H x W tensor");
  if (attr_int(n, "group", 1) != 1) fail_node(n, "groups = " + std::to_string(attr_int(n, "group", 1)) +
                                                     " is not supported (only groups = 1)");
  const Constant& w = constant(n, 1, "W");
  if (w.dims.size() != 4 || !w.is_float) fail_node(n, "weights must be a float tensor [M, C, kh, kw]");
  if (w.numel() == 0) fail_node(n, "weights W have a zero dimension: expected M, C, kh, kw >= 1");
  if (w.dims[0] > 65535 || w.dims[2] > kMaxSpatial || w.dims[3] > kMaxSpatial)
    fail_node(n, "weights W: expected at most 65535 output channels and kernel sides of at most " +
                     std::to_string(kMaxSpatial));
  if (w.dims[1] != cur_.c)
    fail_node(n, "weights expect " + std::to_string(w.dims[1]) + " input channels, the input has " +
                     std::to_string(cur_.c));
  Layer l;
  l.kind = LayerKind::Conv;
  l.name = name_of(n);
  l.in = cur_;
  window_attrs(n, l.window, false);
  const std::vector<int64_t> k = attr_ints(n, "kernel_shape", {w.dims[2], w.dims[3]});
  if (k.size() != 2 || k[0] != w.dims[2] || k[1] != w.dims[3]) fail_node(n, "kernel_shape does not match W");
  l.window.kh = w.dims[2], l.window.kw = w.dims[3];
  const Window& win = l.window;
  if (cur_.h + win.pad_top + win.pad_bottom < win.kh || cur_.w + win.pad_left + win.pad_right < win.kw)
    fail_node(n, "kernel larger than the padded input " + cur_.str());
  l.out = {w.dims[0], out_dim(cur_.h, win.kh, win.stride_h, win.pad_top, win.pad_bottom),
           out_dim(cur_.w, win.kw, win.stride_w, win.pad_left, win.pad_right)};
  check_out_shape(n, l.out);
  l.weights = w.f;
  l.bias.assign(static_cast<size_t>(l.out.c), 0.0f);
  if (n.input_size() > 2 && !n.input(2).empty()) {
    const Constant& b = constant(n, 2, "B");
    if (b.numel() != l.out.c || !b.is_float) fail_node(n, "bias must have " + std::to_string(l.out.c) + " floats");
    l.bias = b.f;
  }
  cur_ = l.out;
  net_.layers.push_back(std::move(l));
}

void Importer::dense(const NodeProto& n, bool matmul) {
  if (!flat_) fail_node(n, "input " + cur_.str() + " is not 2-D: add Flatten or Reshape before it");
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
  if (k != cur_.numel())
    fail_node(n, "weights expect " + std::to_string(k) + " inputs, the input has " + std::to_string(cur_.numel()));
  Layer l;
  l.kind = LayerKind::Dense;
  l.name = name_of(n);
  l.in = cur_;
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
  cur_ = l.out;
  net_.layers.push_back(std::move(l));
}

void Importer::add_bias(const NodeProto& n) {
  Layer& l = last_compute(n, "Add (as bias)");
  int which = -1;
  for (int i = 0; i < 2 && i < n.input_size(); ++i)
    if (constants_.count(n.input(i))) which = i;
  if (which < 0) fail_node(n, "Add is supported only as a constant bias after Conv, Gemm or MatMul");
  const Constant& c = constant(n, which, "bias");
  const int64_t m = l.out.c;
  // A per-channel constant: shape [M], [1, M] or [1, M, 1, 1] (or a scalar).
  if (!c.is_float || (c.numel() != m && c.numel() != 1))
    fail_node(n, "bias must have " + std::to_string(m) + " values (one per output channel)");
  for (int64_t o = 0; o < m; ++o) l.bias[static_cast<size_t>(o)] += c.f[c.numel() == 1 ? 0 : static_cast<size_t>(o)];
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
}

void Importer::pool(const NodeProto& n, LayerKind kind) {
  if (flat_) fail_node(n, "input is 2-D; pooling needs a C x H x W tensor");
  Layer l;
  l.kind = kind;
  l.name = name_of(n);
  l.in = cur_;
  if (kind == LayerKind::GlobalAvgPool) {
    l.window.kh = cur_.h, l.window.kw = cur_.w;
    l.out = {cur_.c, 1, 1};
  } else {
    window_attrs(n, l.window, true);
    if (attr_int(n, "ceil_mode", 0) != 0) fail_node(n, "ceil_mode = 1 is not supported");
    if (attr_int(n, "storage_order", 0) != 0) fail_node(n, "storage_order = 1 is not supported");
    if (kind == LayerKind::AvgPool && attr_int(n, "count_include_pad", 0) != 0)
      fail_node(n, "count_include_pad = 1 is not supported (padded positions are excluded)");
    if (n.output_size() > 1 && !n.output(1).empty()) fail_node(n, "the Indices output is not supported");
    const Window& w = l.window;
    if (cur_.h + w.pad_top + w.pad_bottom < w.kh || cur_.w + w.pad_left + w.pad_right < w.kw)
      fail_node(n, "window larger than the padded input " + cur_.str());
    l.out = {cur_.c, out_dim(cur_.h, w.kh, w.stride_h, w.pad_top, w.pad_bottom),
             out_dim(cur_.w, w.kw, w.stride_w, w.pad_left, w.pad_right)};
    check_out_shape(n, l.out);
  }
  cur_ = l.out;
  net_.layers.push_back(std::move(l));
}

void Importer::flatten(const NodeProto& n, bool reshape) {
  if (reshape) {
    const Constant& s = constant(n, 1, "shape");
    if (s.is_float || s.i.size() != 2) fail_node(n, "only a reshape to 2-D [1, n] is supported");
    const int64_t a = s.i[0], b = s.i[1];
    const bool ok = (a == 1 || a == -1 || a == 0) && (b == cur_.numel() || b == -1);
    if (!ok) fail_node(n, "only a reshape to 2-D [1, " + std::to_string(cur_.numel()) + "] is supported");
    if (attr_int(n, "allowzero", 0) != 0) fail_node(n, "allowzero = 1 is not supported");
  } else if (attr_int(n, "axis", 1) != 1) {
    fail_node(n, "only axis = 1 is supported");
  }
  if (flat_) return;  // already 2-D
  Layer l;
  l.kind = LayerKind::Flatten;
  l.name = name_of(n);
  l.in = cur_;
  l.out = {cur_.numel(), 1, 1};
  cur_ = l.out;
  flat_ = true;
  net_.layers.push_back(std::move(l));
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

Network Importer::run_bytes(const std::string& bytes) {
  ONNX_NAMESPACE::ModelProto model;
  if (bytes.empty() || !model.ParseFromString(bytes))
    fail("not a valid ONNX model: the protobuf could not be parsed (truncated or not an ONNX file)");
  if (model.ir_version() <= 0 || !model.has_graph() || model.graph().node_size() == 0)
    fail("not a valid ONNX model: no ir_version or an empty graph (truncated or not an ONNX file)");
  net_.source = path_;
  check_versions(model);
  const auto& g = model.graph();
  check_unique_outputs(g);
  for (const TensorProto& t : g.initializer()) constants_[t.name()] = to_constant(t, "initializer '" + t.name() + "'");
  read_input(g);
  std::string current = net_.input_name;
  for (node_index_ = 0; node_index_ < static_cast<size_t>(g.node_size()); ++node_index_) {
    const NodeProto& n = g.node(static_cast<int>(node_index_));
    const std::string& op = n.op_type();
    if (!n.domain().empty() && n.domain() != "ai.onnx")
      fail_node(n, "operator domain '" + n.domain() + "' is not supported");
    if (op == "Constant") {
      const AttributeProto* v = attr(n, "value");
      if (!v || !v->has_t() || n.output_size() != 1) fail_node(n, "only Constant nodes with a tensor value are supported");
      constants_[n.output(0)] = to_constant(v->t(), "Constant '" + name_of(n) + "'");
      continue;
    }
    if (n.input_size() < 1 || n.input(0) != current) {
      // Add may name the running tensor second.
      const bool add_second = op == "Add" && n.input_size() == 2 && n.input(1) == current;
      if (!add_second)
        fail_node(n, "reads '" + (n.input_size() ? n.input(0) : std::string()) +
                         "', not the previous layer's output '" + current +
                         "': only chain-structured networks are supported");
    }
    if (op == "Conv") conv(n);
    else if (op == "Gemm") dense(n, false);
    else if (op == "MatMul") dense(n, true);
    else if (op == "Add") add_bias(n);
    else if (op == "Relu") {
      if (net_.layers.empty()) fail_node(n, "a ReLU on the network input is not supported");
      net_.layers.back().relu = true;
    } else if (op == "MaxPool") pool(n, LayerKind::MaxPool);
    else if (op == "AveragePool") pool(n, LayerKind::AvgPool);
    else if (op == "GlobalAveragePool") pool(n, LayerKind::GlobalAvgPool);
    else if (op == "Flatten") flatten(n, false);
    else if (op == "Reshape") flatten(n, true);
    else if (op == "BatchNormalization") batchnorm(n);
    else if (op == "Dropout" || op == "Identity") {
      if (n.output_size() > 1 && !n.output(1).empty()) {
        for (const NodeProto& other : g.node())
          for (const std::string& in : other.input())
            if (in == n.output(1)) fail_node(n, "the Dropout mask output is used; it is not supported");
      }
    } else {
      fail_node(n, "unsupported op '" + op + "'; supported ops: " + supported_onnx_ops());
    }
    if (n.output_size() < 1) fail_node(n, "has no output");
    current = n.output(0);
  }
  if (g.output_size() != 1) fail("graph must have exactly one output");
  if (g.output(0).name() != current)
    fail("graph output '" + g.output(0).name() + "' is not the end of the layer chain ('" + current + "')");
  net_.output_name = current;
  if (net_.layers.empty()) fail("the graph has no layers");
  return net_;
}

}  // namespace

const char* supported_onnx_ops() {
  return "Conv (groups 1, dilation 1), Gemm, MatMul, Add (bias), Relu, MaxPool, AveragePool, GlobalAveragePool, "
         "Flatten, Reshape (to 2-D), BatchNormalization (after Conv/Gemm), Dropout, Identity, Constant";
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
  }
  return "?";
}

uint64_t Network::macs() const {
  uint64_t n = 0;
  for (const Layer& l : layers) n += l.macs();
  return n;
}

}  // namespace brsim
