// Builds small ONNX models in memory with the protobuf classes, for import
// tests (BatchNorm folding, each supported op, each rejection).
#pragma once

#include <onnx/onnx_pb.h>

#include <fstream>
#include <string>
#include <memory>
#include <vector>

#include "temp_dir.h"

struct OnnxBuilder {
  ONNX_NAMESPACE::ModelProto model;
  ONNX_NAMESPACE::GraphProto* g;
  mutable std::shared_ptr<brsim_test::TempDir> dir;

  explicit OnnxBuilder(std::vector<int64_t> input_dims, const std::string& dim_param = "") {
    model.set_ir_version(7);
    model.add_opset_import()->set_version(13);
    g = model.mutable_graph();
    g->set_name("test");
    auto* in = g->add_input();
    in->set_name("x");
    auto* tt = in->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(ONNX_NAMESPACE::TensorProto::FLOAT);
    for (size_t i = 0; i < input_dims.size(); ++i) {
      auto* d = tt->mutable_shape()->add_dim();
      if (i == 0 && !dim_param.empty()) d->set_dim_param(dim_param);
      else d->set_dim_value(input_dims[i]);
    }
  }
  void init(const std::string& name, std::vector<int64_t> dims, const std::vector<float>& v) {
    auto* t = g->add_initializer();
    t->set_name(name);
    t->set_data_type(ONNX_NAMESPACE::TensorProto::FLOAT);
    for (int64_t d : dims) t->add_dims(d);
    for (float f : v) t->add_float_data(f);
  }
  void init_i64(const std::string& name, std::vector<int64_t> dims, const std::vector<int64_t>& v) {
    auto* t = g->add_initializer();
    t->set_name(name);
    t->set_data_type(ONNX_NAMESPACE::TensorProto::INT64);
    for (int64_t d : dims) t->add_dims(d);
    for (int64_t x : v) t->add_int64_data(x);
  }
  ONNX_NAMESPACE::NodeProto* node(const std::string& op, std::vector<std::string> ins, const std::string& out,
                                  const std::string& name = "") {
    auto* n = g->add_node();
    n->set_op_type(op);
    n->set_name(name.empty() ? op + std::to_string(g->node_size()) : name);
    for (const auto& i : ins) n->add_input(i);
    n->add_output(out);
    return n;
  }
  static void ints(ONNX_NAMESPACE::NodeProto* n, const std::string& name, std::vector<int64_t> v) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(ONNX_NAMESPACE::AttributeProto::INTS);
    for (int64_t x : v) a->add_ints(x);
  }
  static void integer(ONNX_NAMESPACE::NodeProto* n, const std::string& name, int64_t v) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(ONNX_NAMESPACE::AttributeProto::INT);
    a->set_i(v);
  }
  static void real(ONNX_NAMESPACE::NodeProto* n, const std::string& name, float v) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(ONNX_NAMESPACE::AttributeProto::FLOAT);
    a->set_f(v);
  }
  void output(const std::string& name) { g->add_output()->set_name(name); }
  // Writes the model into the test's own temporary folder (made on first use,
  // removed with the builder) and returns its path.
  std::string save(const std::string& file) const {
    if (!dir) dir = std::make_shared<brsim_test::TempDir>("onnx");
    const std::string path = dir->file(file);
    std::ofstream f(path, std::ios::binary);
    model.SerializeToOstream(&f);
    return path;
  }
};
