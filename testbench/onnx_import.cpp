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

#include "onnx_importer.h"

namespace brsim {

namespace onnx_detail {

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
  const Constant* c = find_constant(n.input(input));
  if (!c)
    fail_node(n, std::string("input ") + role + " '" + n.input(input) +
                     "' is not an initializer (missing initializer; weights must be constant)");
  return *c;
}

const Constant* Importer::find_constant(const std::string& name) const {
  auto it = constants_.find(name);
  if (it == constants_.end()) {
    auto a = alias_of_.find(name);
    if (a != alias_of_.end()) it = constants_.find(a->second);
  }
  return it == constants_.end() ? nullptr : &it->second;
}

int Importer::uses_of(std::string name) const {
  while (alias_of_.count(name)) name = alias_of_.at(name);
  auto it = uses_.find(name);
  return it == uses_.end() ? 0 : it->second;
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
  if (it != values_.end()) {
    if (it->second.view_a && n.op_type() != "Transpose" && n.op_type() != "Reshape")
      fail_node(n, "reads the 5-D tensor '" + name + "': a 5-D activation is supported only inside a channel shuffle " +
                       "(Reshape to [1, g, C/g, H, W], Transpose perm [0, 2, 1, 3, 4], Reshape back to [1, C, H, W])");
    return it->second;
  }
  if (find_constant(name))
    fail_node(n, "input '" + name + "' is a constant; this op is supported only on activations");
  fail_node(n, "reads '" + name + "', which no earlier node produces (nodes must be in topological order)");
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
    } else if (op == "Add" || op == "Mul" || op == "Div") {
      r = fold_binary(n);
    } else if (op == "Slice") {
      // A 1-D constant (shape arithmetic): starts, ends, axes (0 only), steps.
      if (a.dims.size() != 1) fail_node(n, "only the Slice of a 1-D constant is supported on constant paths");
      auto one = [&](int i, const char* role, int64_t dflt) {
        if (n.input_size() <= i || n.input(i).empty()) return dflt;
        const Constant& c = constant(n, i, role);
        if (c.is_float || c.count != 1) fail_node(n, std::string("input ") + role + ": expected one integer");
        return c.i[0];
      };
      if (one(3, "axes", 0) != 0) fail_node(n, "a 1-D constant has only axis 0");
      const int64_t len = a.count, step = one(4, "steps", 1);
      if (step < 1) fail_node(n, "input steps: expected a positive step on constant paths");
      int64_t b = one(1, "starts", 0), e = one(2, "ends", len);
      b = std::clamp<int64_t>(b < 0 ? b + len : b, 0, len), e = std::clamp<int64_t>(e < 0 ? e + len : e, 0, len);
      r.f.clear(), r.i.clear();
      for (int64_t k = b; k < e; k += step) {
        if (a.is_float) r.f.push_back(a.f[static_cast<size_t>(k)]);
        else r.i.push_back(a.i[static_cast<size_t>(k)]);
      }
      r.dims = {static_cast<int64_t>(a.is_float ? r.f.size() : r.i.size())};
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
// Add, Mul, Div of two constants of one type (shape arithmetic: equal
// shapes, or one operand of one value); integer division truncates.
Constant Importer::fold_binary(const NodeProto& n) {
  const Constant& a = constant(n, 0, "A");
  const Constant& b = constant(n, 1, "B");
  if (a.is_float != b.is_float) fail_node(n, "operands of different types (FLOAT and INT64)");
  if (!(a.count == b.count || a.count == 1 || b.count == 1))
    fail_node(n, "operands of " + std::to_string(a.count) + " and " + std::to_string(b.count) +
                     " values: expected equal shapes or one value on constant paths");
  Constant r = a.count >= b.count ? a : b;
  const std::string& op = n.op_type();
  for (int64_t k = 0; k < r.count; ++k) {
    const size_t i = static_cast<size_t>(a.count == 1 ? 0 : k), j = static_cast<size_t>(b.count == 1 ? 0 : k);
    if (r.is_float) {
      const float x = a.f[i], y = b.f[j];
      r.f[static_cast<size_t>(k)] = op == "Add" ? x + y : op == "Mul" ? x * y : x / y;
    } else {
      const int64_t x = a.i[i], y = b.i[j];
      if (op == "Div" && y == 0) fail_node(n, "integer division by zero");
      r.i[static_cast<size_t>(k)] = op == "Add" ? x + y : op == "Mul" ? x * y : x / y;
    }
  }
  return r;
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
  // Read in one piece, parsed, then freed before the graph is read.
  std::string bytes;
  if (!ec) {
    bytes.resize(static_cast<size_t>(size));
    f.read(bytes.data(), static_cast<std::streamsize>(size));
    bytes.resize(static_cast<size_t>(f.gcount()));
  } else {
    std::ostringstream buf;
    buf << f.rdbuf();
    bytes = buf.str();
  }
  ONNX_NAMESPACE::ModelProto model;
  if (bytes.empty() || !model.ParseFromString(bytes))
    fail("not a valid ONNX model: the protobuf could not be parsed (truncated or not an ONNX file)");
  std::string().swap(bytes);
  return run_model(model);
}

namespace {
const std::set<std::string>& supported_set() {
  static const std::set<std::string> ops = {
      "Conv", "Gemm", "MatMul", "Add", "Mul", "Relu", "Clip", "Sigmoid", "HardSigmoid", "HardSwish",
      "MaxPool", "AveragePool", "GlobalAveragePool", "Flatten", "Reshape", "BatchNormalization", "Dropout",
      "Identity", "Constant", "Concat", "Pad", "ReduceMean", "Shape", "Gather", "Unsqueeze", "Squeeze", "Transpose", "Cast",
      "Slice", "Div"};
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
  return run_model(model);
}

Network Importer::run_model(ONNX_NAMESPACE::ModelProto& model) {
  if (model.ir_version() <= 0 || !model.has_graph() || model.graph().node_size() == 0)
    fail("not a valid ONNX model: no ir_version or an empty graph (truncated or not an ONNX file)");
  net_.source = path_;
  check_versions(model);
  const auto& g = model.graph();
  check_supported(g);
  check_unique_outputs(g);
  for (TensorProto& t : *model.mutable_graph()->mutable_initializer()) {
    constants_[t.name()] = to_constant(t, "initializer '" + t.name() + "'");
    t.clear_raw_data(), t.clear_float_data(), t.clear_int64_data();  // held once, in constants_
  }
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
    if (op == "Shape" || op == "Gather" || op == "Unsqueeze" || op == "Squeeze" || op == "Cast" || op == "Div" ||
        ((op == "Transpose" || op == "Slice") && is_constant(n, 0))) {
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
    else if (op == "Transpose") transpose(n);
    else if (op == "Slice") slice(n);
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
  return std::move(net_);
}

}  // namespace onnx_detail


const char* supported_onnx_ops() {
  return "Conv (grouped, depthwise, dilated), Gemm, MatMul, Add (bias or residual), Mul (constant scale or squeeze "
         "and excite), Concat (channels), Relu, Clip, Sigmoid, HardSigmoid, HardSwish, MaxPool, AveragePool "
         "(ceil_mode), GlobalAveragePool, ReduceMean (over H, W), Flatten, Reshape (to 2-D), Pad (zeros, before a Conv), BatchNormalization "
         "(after Conv/Gemm), Dropout, Identity, Constant, Slice (channels), the channel shuffle (Reshape, Transpose, "
         "Reshape), and Shape, Gather, Unsqueeze, Squeeze, Transpose, Slice, Cast, Add, Mul, Div on constants";
}

Network import_onnx(const std::string& path) { return onnx_detail::Importer(path).run(); }

Network import_onnx_bytes(const std::string& bytes, const std::string& name) {
  return onnx_detail::Importer(name).run_bytes(bytes);
}

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
    case LayerKind::Slice: return "slice";
    case LayerKind::Shuffle: return "shuffle";
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
