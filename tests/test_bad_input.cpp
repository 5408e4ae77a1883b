// Bad input across every input brsim takes (command-line options,
// architecture, energy and sweep YAML, topology CSV, ONNX models, IDX
// datasets), as a user meets it: each case runs the binary and asserts the
// exit status and the words of the message (docs/reliability.md).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "cli_runner.h"
#include "onnx_builder.h"
#include "temp_dir.h"

namespace {

namespace fs = std::filesystem;
using ONNX_NAMESPACE::TensorProto;

// ------------------------------------------------------------- fixtures

using brsim_test::read_file;

void write_file(const std::string& path, const std::string& bytes) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream f(path, std::ios::binary);
  f << bytes;
}

std::string replace_once(std::string s, const std::string& from, const std::string& to) {
  const size_t at = s.find(from);
  if (at == std::string::npos) throw std::runtime_error("fixture text not found: " + from);
  return s.replace(at, from.size(), to);
}

std::string be32(uint32_t v) {
  return std::string{static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
                     static_cast<char>(v)};
}

// An IDX pair (images and labels) under DIR with PREFIX; the knobs break it.
struct Idx {
  uint32_t images = 3, rows = 28, cols = 28, labels = 3;
  uint32_t image_magic = 0x803, label_magic = 0x801;
  int label_value = 1;
  int64_t pixel_bytes = -1;  // -1: exactly images x rows x cols
};

void write_idx(const std::string& dir, const std::string& prefix, const Idx& x) {
  std::string img = be32(x.image_magic) + be32(x.images) + be32(x.rows) + be32(x.cols);
  const int64_t px = x.pixel_bytes >= 0 ? x.pixel_bytes : int64_t{x.images} * x.rows * x.cols;
  img.append(static_cast<size_t>(px), '\x40');
  std::string lab = be32(x.label_magic) + be32(x.labels);
  lab.append(x.labels, static_cast<char>(x.label_value));
  write_file(dir + "/" + prefix + "-images-idx3-ubyte", img);
  write_file(dir + "/" + prefix + "-labels-idx1-ubyte", lab);
}

// A dataset folder: a good training set and the test set `t`.
void dataset(const std::string& dir, const Idx& t) {
  write_idx(dir, "train", Idx{});
  write_idx(dir, "t10k", t);
}

// A one-Conv ONNX model 1x2x4x4 -> 3 channels, for breaking.
OnnxBuilder conv_model() {
  OnnxBuilder b({1, 2, 4, 4});
  b.init("W", {3, 2, 3, 3}, std::vector<float>(54, 0.1f));
  b.node("Conv", {"x", "W"}, "y", "conv");
  b.output("y");
  return b;
}

void save(const OnnxBuilder& b, const std::string& path) {
  std::ofstream f(path, std::ios::binary);
  b.model.SerializeToOstream(&f);
}

void make_onnx_fixtures(const std::string& d) {
  const std::string o = d + "/onnx/";
  fs::create_directories(o + "folder.onnx");
  write_file(o + "text.onnx", "this is not a model\n");
  write_file(o + "empty.onnx", "");
  {
    OnnxBuilder b = conv_model();
    std::string bytes;
    b.model.SerializeToString(&bytes);
    write_file(o + "trunc.onnx", bytes.substr(0, bytes.size() / 2));
  }
  auto variant = [&](const std::string& name, auto&& tweak) {
    OnnxBuilder b = conv_model();
    tweak(b);
    save(b, o + name);
  };
  variant("opset99.onnx", [](OnnxBuilder& b) { b.model.mutable_opset_import(0)->set_version(99); });
  variant("opset0.onnx", [](OnnxBuilder& b) { b.model.mutable_opset_import(0)->set_version(0); });
  variant("ir99.onnx", [](OnnxBuilder& b) { b.model.set_ir_version(99); });
  variant("dupout.onnx", [](OnnxBuilder& b) {
    b.node("Relu", {"y"}, "y", "relu");
  });
  variant("dupinit.onnx", [](OnnxBuilder& b) { b.g->mutable_node(0)->set_output(0, "W"); });
  variant("zero_w.onnx", [](OnnxBuilder& b) {
    auto* t = b.g->mutable_initializer(0);
    t->clear_float_data();
    t->set_dims(0, 0);
    t->set_raw_data(std::string());
  });
  // Inputs within the limits whose run needs more memory than the limit.
  variant("huge_input.onnx", [](OnnxBuilder& b) {
    auto* s = b.g->mutable_input(0)->mutable_type()->mutable_tensor_type()->mutable_shape();
    s->mutable_dim(2)->set_dim_value(20000);
    s->mutable_dim(3)->set_dim_value(20000);
  });
  variant("big_input.onnx", [](OnnxBuilder& b) {
    auto* s = b.g->mutable_input(0)->mutable_type()->mutable_tensor_type()->mutable_shape();
    s->mutable_dim(2)->set_dim_value(100000);
    s->mutable_dim(3)->set_dim_value(100000);
  });
  variant("big_output.onnx", [](OnnxBuilder& b) {  // 2 x 32000^2 values in (< 2^31), 3 x 32000^2 out (> 2^31)
    auto* s = b.g->mutable_input(0)->mutable_type()->mutable_tensor_type()->mutable_shape();
    s->mutable_dim(2)->set_dim_value(32000);
    s->mutable_dim(3)->set_dim_value(32000);
    OnnxBuilder::ints(b.g->mutable_node(0), "pads", {1, 1, 1, 1});
  });
  variant("overflow_input.onnx", [](OnnxBuilder& b) {
    auto* s = b.g->mutable_input(0)->mutable_type()->mutable_tensor_type()->mutable_shape();
    s->mutable_dim(1)->set_dim_value(int64_t{1} << 31);
    s->mutable_dim(2)->set_dim_value(int64_t{1} << 31);
    s->mutable_dim(3)->set_dim_value(int64_t{1} << 31);
  });
  variant("overflow_init.onnx", [](OnnxBuilder& b) {
    auto* t = b.g->add_initializer();
    t->set_name("big");
    t->set_data_type(TensorProto::FLOAT);
    for (int i = 0; i < 4; ++i) t->add_dims(int64_t{1} << 20);
  });
  variant("rank9.onnx", [](OnnxBuilder& b) {
    auto* t = b.g->add_initializer();
    t->set_name("r9");
    t->set_data_type(TensorProto::FLOAT);
    for (int i = 0; i < 9; ++i) t->add_dims(1);
    t->add_float_data(1.0f);
  });
  variant("dynamic.onnx", [](OnnxBuilder& b) {
    auto* dim = b.g->mutable_input(0)->mutable_type()->mutable_tensor_type()->mutable_shape()->mutable_dim(0);
    dim->set_dim_param("batch");
  });
  variant("int_input.onnx", [](OnnxBuilder& b) {
    b.g->mutable_input(0)->mutable_type()->mutable_tensor_type()->set_elem_type(TensorProto::INT32);
  });
  variant("two_inputs.onnx", [](OnnxBuilder& b) { *b.g->add_input() = b.g->input(0); b.g->mutable_input(1)->set_name("x2"); });
  variant("rank3_input.onnx", [](OnnxBuilder& b) {
    b.g->mutable_input(0)->mutable_type()->mutable_tensor_type()->mutable_shape()->mutable_dim()->RemoveLast();
  });
  variant("unsupported_op.onnx", [](OnnxBuilder& b) { b.node("Softmax", {"y"}, "z", "softmax"); b.g->mutable_output(0)->set_name("z"); });
  variant("group2.onnx", [](OnnxBuilder& b) { OnnxBuilder::integer(b.g->mutable_node(0), "group", 2); });
  variant("unsorted.onnx", [](OnnxBuilder& b) {
    b.node("Relu", {"later"}, "z", "relu");
    b.node("Relu", {"y"}, "later", "relu2");
    b.g->mutable_output(0)->set_name("z");
  });
  variant("recurrent.onnx", [](OnnxBuilder& b) {
    b.node("LSTM", {"y"}, "h", "lstm");
    b.node("Softmax", {"h"}, "z", "softmax");
    b.g->mutable_output(0)->set_name("z");
  });
  variant("group_float.onnx", [](OnnxBuilder& b) { OnnxBuilder::real(b.g->mutable_node(0), "group", 1.0f); });
  variant("dilation9.onnx", [](OnnxBuilder& b) { OnnxBuilder::ints(b.g->mutable_node(0), "dilations", {99, 1}); });
  variant("pads300.onnx", [](OnnxBuilder& b) { OnnxBuilder::ints(b.g->mutable_node(0), "pads", {300, 300, 300, 300}); });
  variant("pads_neg.onnx", [](OnnxBuilder& b) { OnnxBuilder::ints(b.g->mutable_node(0), "pads", {-1, 0, 0, 0}); });
  variant("pads3.onnx", [](OnnxBuilder& b) { OnnxBuilder::ints(b.g->mutable_node(0), "pads", {1, 1, 1}); });
  variant("stride0.onnx", [](OnnxBuilder& b) { OnnxBuilder::ints(b.g->mutable_node(0), "strides", {0, 1}); });
  variant("stride_big.onnx", [](OnnxBuilder& b) { OnnxBuilder::ints(b.g->mutable_node(0), "strides", {100000, 1}); });
  variant("kshape.onnx", [](OnnxBuilder& b) { OnnxBuilder::ints(b.g->mutable_node(0), "kernel_shape", {5, 5}); });
  variant("autopad.onnx", [](OnnxBuilder& b) {
    auto* a = b.g->mutable_node(0)->add_attribute();
    a->set_name("auto_pad");
    a->set_type(ONNX_NAMESPACE::AttributeProto::STRING);
    a->set_s("SAME_UPPER");
  });
  variant("w_int64.onnx", [](OnnxBuilder& b) {
    b.g->mutable_initializer()->RemoveLast();
    b.init_i64("W", {3, 2, 3, 3}, std::vector<int64_t>(54, 1));
  });
  variant("w_rank2.onnx", [](OnnxBuilder& b) {
    b.g->mutable_initializer()->RemoveLast();
    b.init("W", {3, 18}, std::vector<float>(54, 0.1f));
  });
  variant("w_channels.onnx", [](OnnxBuilder& b) {
    b.g->mutable_initializer()->RemoveLast();
    b.init("W", {3, 5, 3, 3}, std::vector<float>(135, 0.1f));
  });
  variant("w_raw_size.onnx", [](OnnxBuilder& b) {
    auto* t = b.g->mutable_initializer(0);
    t->clear_float_data();
    t->set_raw_data(std::string(12, '\0'));
  });
  variant("w_count.onnx", [](OnnxBuilder& b) { b.g->mutable_initializer(0)->mutable_float_data()->RemoveLast(); });
  variant("w_nan.onnx", [](OnnxBuilder& b) { b.g->mutable_initializer(0)->set_float_data(3, NAN); });
  variant("w_dtype.onnx", [](OnnxBuilder& b) { b.g->mutable_initializer(0)->set_data_type(TensorProto::DOUBLE); });
  variant("w_external.onnx", [](OnnxBuilder& b) {
    b.g->mutable_initializer(0)->set_data_location(TensorProto::EXTERNAL);
  });
  variant("w_missing.onnx", [](OnnxBuilder& b) { b.g->mutable_initializer()->RemoveLast(); });
  variant("bias_count.onnx", [](OnnxBuilder& b) {
    b.init("B", {2}, {0.f, 0.f});
    b.g->mutable_node(0)->add_input("B");
  });
  variant("kernel_big.onnx", [](OnnxBuilder& b) {
    b.g->mutable_initializer()->RemoveLast();
    b.init("W", {1, 2, 9, 9}, std::vector<float>(162, 0.1f));
  });
  variant("bn_var.onnx", [](OnnxBuilder& b) {
    b.init("g", {3}, {1, 1, 1});
    b.init("be", {3}, {0, 0, 0});
    b.init("mu", {3}, {0, 0, 0});
    b.init("var", {3}, {1, -2, 1});
    b.node("BatchNormalization", {"y", "g", "be", "mu", "var"}, "z", "bn");
    b.g->mutable_output(0)->set_name("z");
  });
  variant("bn_first.onnx", [](OnnxBuilder& b) {
    b.g->clear_node();
    b.init("g", {2}, {1, 1});
    b.node("BatchNormalization", {"x", "g", "g", "g", "g"}, "y", "bn");
  });
  variant("reshape_zero.onnx", [](OnnxBuilder& b) {
    b.init_i64("shape", {2}, {1, 12});
    OnnxBuilder::integer(b.node("Reshape", {"y", "shape"}, "z", "reshape"), "allowzero", 1);
    b.g->mutable_output(0)->set_name("z");
  });
  variant("reshape_3d.onnx", [](OnnxBuilder& b) {
    b.init_i64("shape", {3}, {1, 3, 16});
    b.node("Reshape", {"y", "shape"}, "z", "reshape");
    b.g->mutable_output(0)->set_name("z");
  });
  variant("gemm_noflat.onnx", [](OnnxBuilder& b) {
    b.init("FC", {48, 2}, std::vector<float>(96, 0.1f));
    b.node("Gemm", {"y", "FC"}, "z", "fc");
    b.g->mutable_output(0)->set_name("z");
  });
  variant("gemm_k.onnx", [](OnnxBuilder& b) {
    b.node("Flatten", {"y"}, "f", "flat");
    b.init("FC", {40, 2}, std::vector<float>(80, 0.1f));
    b.node("Gemm", {"f", "FC"}, "z", "fc");
    b.g->mutable_output(0)->set_name("z");
  });
  variant("gemm_alpha_inf.onnx", [](OnnxBuilder& b) {
    b.node("Flatten", {"y"}, "f", "flat");
    b.init("FC", {48, 2}, std::vector<float>(96, 0.1f));
    OnnxBuilder::real(b.node("Gemm", {"f", "FC"}, "z", "fc"), "alpha", INFINITY);
    b.g->mutable_output(0)->set_name("z");
  });
  variant("domain.onnx", [](OnnxBuilder& b) { b.g->mutable_node(0)->set_domain("com.example"); });
  variant("branch.onnx", [](OnnxBuilder& b) { b.node("Relu", {"x"}, "z", "relu"); b.g->mutable_output(0)->set_name("z"); });
  variant("output_name.onnx", [](OnnxBuilder& b) { b.g->mutable_output(0)->set_name("nowhere"); });
  variant("two_outputs.onnx", [](OnnxBuilder& b) { b.output("W"); });
  variant("no_nodes.onnx", [](OnnxBuilder& b) { b.g->clear_node(); });
  variant("relu_first.onnx", [](OnnxBuilder& b) {
    b.g->clear_node();
    b.node("Relu", {"x"}, "y", "relu");
  });
  variant("pool_window.onnx", [](OnnxBuilder& b) {
    OnnxBuilder::ints(b.node("MaxPool", {"y"}, "z", "pool"), "kernel_shape", {7, 7});
    b.g->mutable_output(0)->set_name("z");
  });
  variant("pool_kernel0.onnx", [](OnnxBuilder& b) {
    OnnxBuilder::ints(b.node("MaxPool", {"y"}, "z", "pool"), "kernel_shape", {0, 2});
    b.g->mutable_output(0)->set_name("z");
  });
  // A whole network whose classes are fewer than the dataset's labels:
  // 1x28x28 -> Flatten -> Gemm to 10 outputs.
  {
    OnnxBuilder b({1, 1, 28, 28});
    b.node("Flatten", {"x"}, "f", "flat");
    b.init("FC", {784, 10}, std::vector<float>(7840, 0.01f));
    b.node("Gemm", {"f", "FC"}, "y", "fc");
    b.output("y");
    save(b, o + "mnist_fc.onnx");
    OnnxBuilder c({1, 1, 28, 28});
    c.node("Flatten", {"x"}, "f", "flat");
    c.init("FC", {784, 4}, std::vector<float>(3136, 0.01f));
    c.node("Gemm", {"f", "FC"}, "y", "fc");
    c.output("y");
    save(c, o + "four_classes.onnx");
  }
}

void make_yaml_fixtures(const std::string& d, const std::string& src) {
  const std::string a = d + "/arch/";
  fs::create_directories(a + "folder.yaml");
  const std::vector<std::pair<std::string, std::string>> arch = {
      {"unknown.yaml", "array: {rows: 8, colz: 8}\n"},
      {"type.yaml", "clock_mhz: fast\n"},
      {"rows0.yaml", "array: {rows: 0, cols: 8}\n"},
      {"rows513.yaml", "array: {rows: 513, cols: 8}\n"},
      {"cols_neg.yaml", "array: {rows: 8, cols: -4}\n"},
      {"acc0.yaml", "acc_bits: 0\n"},
      {"acc70.yaml", "acc_bits: 70\n"},
      {"act1.yaml", "act_bits: 1\n"},
      {"bits2.yaml", "weight_bits: 2\n"},
      {"k0.yaml", "sqrt2_terms: 0\n"},
      {"shift0.yaml", "shift_bits: 0\n"},
      {"clock0.yaml", "clock_mhz: 0\n"},
      {"clock_neg.yaml", "clock_mhz: -100\n"},
      {"flow.yaml", "dataflow: rs\n"},
      {"pe.yaml", "pe: int8\n"},
      {"cap10.yaml", "buffers:\n  weight: {capacity_bytes: 10}\n"},
      {"cap_neg.yaml", "buffers:\n  input: {capacity_bytes: -1}\n"},
      {"word12.yaml", "buffers:\n  output: {word_bits: 12}\n"},
      {"dram0.yaml", "dram: {size_bytes: 0}\n"},
      {"lat_neg.yaml", "dram: {latency_cycles: -1}\n"},
      {"bw0.yaml", "dram: {bytes_per_cycle: 0}\n"},
      {"batch0.yaml", "batch: 0\n"},
      {"batch300.yaml", "batch: 300\n"},
      {"batch_text.yaml", "batch: many\n"},
      {"dup.yaml", "acc_bits: 48\nacc_bits: 8\n"},
      {"dup_nested.yaml", "array: {rows: 8, rows: 4}\n"},
      {"mapkey.yaml", "? {a: 1}\n: 3\n"},
      {"seqkey.yaml", "array:\n  ? [1, 2]\n  : 3\n"},
      {"laughs.yaml",
       "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
       "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
       "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
       "g: [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n"},
      {"deep.yaml", "array: " + std::string(100000, '[') + "\n"},
      {"list.yaml", "- 1\n- 2\n"},
      {"array_scalar.yaml", "array: 16x16\n"},
      {"syntax.yaml", "array: {rows: 8\n"},
      {"dbuf.yaml", "double_buffer_weights: maybe\n"},
      {"fixed_acc.yaml", "pe: fixed16\nacc_bits: 24\n"},
      {"big.yaml", "# " + std::string(5 << 20, 'x') + "\n"},
  };
  for (const auto& [name, text] : arch) write_file(a + name, text);

  const std::string table = read_file(src + "/data/energy/default_45nm.yaml");
  const std::string e = d + "/energy/";
  fs::create_directories(e + "folder.yaml");
  const std::vector<std::pair<std::string, std::string>> energy = {
      {"empty.yaml", ""},
      {"neg.yaml", replace_once(table, "fixed16_mul: {energy: 0.7874", "fixed16_mul: {energy: -0.7874")},
      {"nan.yaml", replace_once(table, "fixed16_mul: {energy: 0.7874", "fixed16_mul: {energy: .nan")},
      {"unit.yaml", replace_once(table, "dram_byte: {energy: 243.75, unit: pJ}", "dram_byte: {energy: 243.75, unit: kJ}")},
      {"type.yaml", replace_once(table, "acc_add: {energy: 0.146667", "acc_add: {energy: lots")},
      {"missing_action.yaml", replace_once(table, "  toggle: {energy: 1.1925, unit: fJ}\n", "")},
      {"missing_component.yaml", replace_once(table, "  reconfig: {leakage: 2.6, leakage_unit: uW, area: 22.96, area_unit: um^2}\n", "")},
      {"unknown_action.yaml", replace_once(table, "  toggle: {energy", "  toggles: {energy")},
      {"dup.yaml", replace_once(table, "  toggle: {energy: 1.1925, unit: fJ}\n",
                                "  toggle: {energy: 1.1925, unit: fJ}\n  toggle: {energy: 2, unit: fJ}\n")},
      {"leak_unit.yaml", replace_once(table, "leakage: 2.6, leakage_unit: uW", "leakage: 2.6, leakage_unit: W")},
      {"ref_word.yaml", replace_once(table, "word_bits: 64}", "word_bits: 0}")},
      {"mapkey.yaml", "? [a, b]\n: 1\n"},
      {"syntax.yaml", "actions: {\n"},
      {"laughs.yaml", "a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
                      "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
                      "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
                      "g: [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n"},
  };
  for (const auto& [name, text] : energy) write_file(e + name, text);

  const std::string s = d + "/sweep/";
  fs::create_directories(s + "folder.yaml");
  const std::string layer = "workload: {layer: {ifmap: 8x8, kernel: 3x3, channels: 4, filters: 6}}\n";
  std::string huge = layer + "grid:\n  rows: [";
  for (int i = 1; i <= 1000; ++i) huge += (i > 1 ? ", " : "") + std::to_string(i);
  huge += "]\n  cols: [";
  for (int i = 1; i <= 1000; ++i) huge += (i > 1 ? ", " : "") + std::to_string(i);
  huge += "]\n  dram_latency_cycles: [";
  for (int i = 0; i < 1000; ++i) huge += (i > 0 ? ", " : "") + std::to_string(i);
  huge += "]\n";
  const std::vector<std::pair<std::string, std::string>> sweep = {
      {"empty.yaml", ""},
      {"ok.yaml", layer + "grid: {array: [8x8]}\n"},
      {"nogrid.yaml", layer},
      {"emptygrid.yaml", layer + "grid: {}\n"},
      {"emptylist.yaml", layer + "grid: {array: []}\n"},
      {"array.yaml", layer + "grid: {array: [16by16]}\n"},
      {"rows0.yaml", layer + "grid: {rows: [0]}\n"},
      {"batch.yaml", layer + "grid: {batch: [4, 300]}\n"},
      {"both.yaml", layer + "grid: {array: [8x8], rows: [4]}\n"},
      {"dup.yaml", layer + "grid: {array: [8x8]}\ngrid: {array: [4x4]}\n"},
      {"noworkload.yaml", "grid: {array: [8x8]}\n"},
      {"twokinds.yaml", "workload: {network: alexnet, topology: t.csv}\ngrid: {array: [8x8]}\n"},
      {"network.yaml", "workload: {network: vgg}\ngrid: {array: [8x8]}\n"},
      {"name.yaml", "name: ../escape\n" + layer + "grid: {array: [8x8]}\n"},
      {"mode.yaml", "mode: slow\n" + layer + "grid: {array: [8x8]}\n"},
      {"seed.yaml", "seed: -1\n" + layer + "grid: {array: [8x8]}\n"},
      {"points.yaml", layer + "points: {array: 8x8}\n"},
      {"huge.yaml", huge},
      {"unknown.yaml", layer + "grid: {arrays: [8x8]}\n"},
      {"base_arch.yaml", "base_arch: no_such_arch.yaml\n" + layer + "grid: {array: [8x8]}\n"},
      {"policy.yaml", layer + "points:\n  - {pe: fixed16, policy: brslog}\n"},
      {"padding.yaml", "workload: {layer: {ifmap: 8x8, kernel: 3x3, channels: 4, filters: 6, padding: -1}}\ngrid: {array: [8x8]}\n"},
      {"mapkey.yaml", "? {x: 1}\n: 2\n"},
  };
  for (const auto& [name, text] : sweep) write_file(s + name, text);
}

void make_csv_fixtures(const std::string& d) {
  const std::string c = d + "/topo/";
  fs::create_directories(c + "folder.csv");
  const std::string head =
      "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,\n";
  std::string many = head;
  for (int i = 0; i < 5000; ++i) many += "L" + std::to_string(i) + ", 4, 4, 1, 1, 1, 1, 1,\n";
  const std::vector<std::pair<std::string, std::string>> topo = {
      {"header.csv", "name, h, w\nL, 4, 4, 1, 1, 1, 1, 1,\n"},
      {"empty.csv", ""},
      {"only_header.csv", head},
      {"columns.csv", head + "L, 4, 4, 1, 1, 1, 1\n"},
      {"text.csv", head + "L, four, 4, 1, 1, 1, 1, 1,\n"},
      {"zero.csv", head + "L, 4, 4, 1, 1, 0, 1, 1,\n"},
      {"neg.csv", head + "L, 4, 4, 1, 1, 1, -3, 1,\n"},
      {"stride0.csv", head + "L, 4, 4, 1, 1, 1, 1, 0,\n"},
      {"filter.csv", head + "L, 4, 4, 5, 5, 1, 1, 1,\n"},
      {"overflow.csv", head + "L, 4000000000, 4000000000, 1, 1, 4000000000, 4000000000, 1,\n"},
      {"int64.csv", head + "L, 99999999999999999999, 4, 1, 1, 1, 1, 1,\n"},
      {"channels.csv", head + "L, 4, 4, 1, 1, 2000000, 1, 1,\n"},
      {"filters.csv", head + "L, 4, 4, 1, 1, 1, 70000, 1,\n"},
      {"input_big.csv", head + "L, 65535, 65535, 1, 1, 64, 1, 1,\n"},
      {"memory.csv", head + "L, 4096, 4096, 1, 1, 4, 100, 1,\n"},
      {"many.csv", many},
      {"longline.csv", head + "L" + std::string(5000, 'x') + ", 4, 4, 1, 1, 1, 1, 1,\n"},
      {"fraction.csv", head + "L, 4.5, 4, 1, 1, 1, 1, 1,\n"},
  };
  for (const auto& [name, text] : topo) write_file(c + name, text);
}

void make_idx_fixtures(const std::string& d) {
  const std::string x = d + "/idx/";
  dataset(x + "ok", Idx{});
  dataset(x + "zero", Idx{0, 28, 28, 0});
  Idx magic;
  magic.image_magic = 0x802;
  dataset(x + "image_magic", magic);
  Idx lmagic;
  lmagic.label_magic = 0x803;
  dataset(x + "label_magic", lmagic);
  Idx count;
  count.labels = 2;
  dataset(x + "count", count);
  Idx trunc;
  trunc.pixel_bytes = 100;
  dataset(x + "trunc", trunc);
  Idx label;
  label.label_value = 12;
  dataset(x + "label", label);
  Idx rows0;
  rows0.rows = 0;
  dataset(x + "rows0", rows0);
  Idx wide;
  wide.rows = 1 << 13, wide.cols = 1 << 13, wide.pixel_bytes = 0;
  dataset(x + "wide", wide);
  // Found by fuzz_idx: rows x cols overflowed 64 bits and wrapped below the
  // pixel limit before the size check.
  Idx wrap;
  wrap.rows = 0xFFFFFFFF, wrap.cols = 0xFFFFFFFF, wrap.pixel_bytes = 0;
  dataset(x + "wrap", wrap);
  Idx small;
  small.rows = 10, small.cols = 10;
  dataset(x + "small", small);
  write_idx(x + "small_train", "t10k", Idx{});
  write_idx(x + "small_train", "train", small);
  fs::create_directories(x + "folder/t10k-images-idx3-ubyte");
  write_idx(x + "folder", "train", Idx{});
  write_file(x + "folder/t10k-labels-idx1-ubyte", be32(0x801) + be32(3) + std::string(3, '\1'));
  fs::create_directories(x + "missing");
  write_idx(x + "gz", "train", Idx{});
  write_file(x + "gz/t10k-images-idx3-ubyte.gz", std::string("\x1f\x8b\x08\x00garbage", 12));
  write_file(x + "gz/t10k-labels-idx1-ubyte", be32(0x801) + be32(3) + std::string(3, '\1'));
}

// The fixture folder, built once per test process and removed at its exit.
const std::string& fixtures() {
  static const brsim_test::TempDir dir("bad_input");
  static const bool made = [] {
    make_onnx_fixtures(dir.path());
    make_yaml_fixtures(dir.path(), BRSIM_SOURCE_DIR);
    make_csv_fixtures(dir.path());
    make_idx_fixtures(dir.path());
    return true;
  }();
  (void)made;
  return dir.path();
}

struct Case {
  const char* args;  // {d}: the fixture folder
  int status;
  std::vector<const char*> words;  // each must appear in the output
};

std::ostream& operator<<(std::ostream& o, const Case& c) { return o << c.args; }

std::string expand(std::string s) {
  for (size_t at; (at = s.find("{d}")) != std::string::npos;) s.replace(at, 3, fixtures());
  return s;
}

class BadInput : public ::testing::TestWithParam<Case> {};

TEST_P(BadInput, ExitsWithTheStatusAndNamesTheProblem) {
  const Case& c = GetParam();
  const CliResult r = run_brsim(expand(c.args));
  EXPECT_EQ(r.status, c.status) << r.out;
  for (const char* w : c.words) EXPECT_NE(r.out.find(expand(w)), std::string::npos) << "'" << w << "' not in:\n" << r.out;
  EXPECT_EQ(r.out.find("internal error"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("AddressSanitizer"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("runtime error"), std::string::npos) << r.out;
}

#include "bad_input_cases.inc"

}  // namespace
