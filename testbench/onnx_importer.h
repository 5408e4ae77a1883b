// The ONNX importer's private parts, shared by its translation units:
// onnx_import.cpp (reading the protobuf, checks, constants, the node loop)
// and onnx_graph_ops.cpp (the ops that make layers). Not part of brsim's
// interface: use onnx_import.h.
#pragma once

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "errors.h"
#include "network.h"
#include "shape_limits.h"

namespace brsim::onnx_detail {

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

inline int64_t checked_product_of(const std::vector<int64_t>& dims) {
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
// A channel shuffle's 5-D view: a C x H x W activation reshaped to
// [1, view_a, view_b, H, W] (view_a view_b = C), transposed to
// [1, view_b, view_a, H, W] when view_t; only a Transpose of its two channel
// axes or the Reshape back to 4-D may read it.
struct Value {
  int layer = -1;
  TensorShape shape;
  bool flat = false;
  int64_t pad_t = 0, pad_l = 0, pad_b = 0, pad_r = 0;
  int64_t view_a = 0, view_b = 0;  // 0: no 5-D view
  bool view_t = false;
  bool padded() const { return pad_t || pad_l || pad_b || pad_r; }
};

class Importer {
 public:
  explicit Importer(std::string path) : path_(std::move(path)) {}
  Network run();
  Network run_bytes(const std::string& bytes);
  Network run_model(ONNX_NAMESPACE::ModelProto& model);  // after parsing; frees the initializers' data as it reads them

 private:
  [[noreturn]] void fail(const std::string& what) const { throw ConfigError(path_ + ": " + what); }
  [[noreturn]] void fail_node(const NodeProto& n, const std::string& what) const {
    fail("node '" + name_of(n) + "' (" + n.op_type() + "): " + what);
  }
  std::string name_of(const NodeProto& n) const;
  Constant to_constant(const TensorProto& t, const std::string& who) const;
  const Constant& constant(const NodeProto& n, int input, const char* role) const;
  // A constant by name, through Identity/Dropout aliases (which share its data); nullptr if none.
  const Constant* find_constant(const std::string& name) const;
  bool is_constant(const NodeProto& n, int input) const {
    return n.input_size() > input && !n.input(input).empty() && find_constant(n.input(input));
  }
  // Readers of a tensor (through aliases); the graph output counts.
  int uses_of(std::string name) const;
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
  void reshape_view(const NodeProto& n, const Constant& target);  // the channel shuffle's reshapes
  void transpose(const NodeProto& n);                             // of an activation: the shuffle's
  void slice(const NodeProto& n);                                 // of an activation: channels only
  Constant fold_binary(const NodeProto& n);                       // Add, Mul, Div of constants
  bool fold_constant(const NodeProto& n);  // Shape, Gather, Unsqueeze, ... on constants

  std::string path_;
  Network net_;
  std::map<std::string, Constant> constants_;
  std::map<std::string, Value> values_;
  std::map<std::string, std::string> alias_of_;  // Identity/Dropout outputs -> their source tensor
  std::map<std::string, int> uses_;              // readers of each (alias-resolved) tensor; the graph output counts
  size_t node_index_ = 0;
};

// Output size of a window of k taps at stride s over in + a + b.
inline int64_t out_dim(int64_t in, int64_t k, int64_t s, int64_t a, int64_t b) { return (in + a + b - k) / s + 1; }

}  // namespace brsim::onnx_detail
