// The ONNX ops that make or fold into layers: Conv, Gemm/MatMul, Add, Mul,
// BatchNormalization, pooling, Flatten/Reshape, Relu, Clip, the vector
// activations, Concat, Pad, ReduceMean (onnx_importer.h; docs/networks.md).
#include <algorithm>
#include <cmath>

#include "onnx_importer.h"

namespace brsim::onnx_detail {

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
    if (find_constant(n.output(0))) return;  // an Identity/Dropout alias: lookups reach the source
    constants_[n.output(0)] = *find_constant(n.input(input));
    return;
  }
  values_[n.output(0)] = value(n, input);
}


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
    if (uses_of(n.input(1)) == 1) l.weights = std::move(const_cast<Constant&>(w).f);  // read by this Conv only
    else l.weights = w.f;
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
    if (is_constant(n, 0) && is_constant(n, 1)) fold_constant(n);  // shape arithmetic
    else add_bias(n);
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
  if (is_constant(n, 0) && is_constant(n, 1)) {
    fold_constant(n);  // shape arithmetic
    return;
  }
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
    if (w.kh == 1 && w.kw == 1 && w.stride_h == 1 && w.stride_w == 1 && l.out == cur) {
      alias(n, 0);  // a window of one element is the identity (torchvision's 7 x 7 AdaptiveAvgPool2d on 7 x 7)
      return;
    }
  }
  add_layer(n, std::move(l), {in.layer});
}

void Importer::flatten(const NodeProto& n, bool reshape) {
  const Value& in = value(n, 0);
  const TensorShape cur = in.shape;
  if (reshape) {
    const Constant& s = constant(n, 1, "shape");
    if (!s.is_float && (s.i.size() == 4 || s.i.size() == 5 || in.view_a)) {
      reshape_view(n, s);
      return;
    }
    if (s.is_float || s.i.size() != 2)
      fail_node(n, "only a reshape to 2-D [1, n], or a channel shuffle's to [1, g, C/g, H, W] and back, is supported");
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

// The channel shuffle's reshapes (and a reshape of a C x H x W tensor to
// its own shape): [1, C, H, W] -> [1, g, C/g, H, W] makes a 5-D view; the
// view -> [1, C, H, W] ends it: a Shuffle layer when the view was
// transposed (g groups), the tensor itself when not.
void Importer::reshape_view(const NodeProto& n, const Constant& target) {
  const Value in = value(n, 0);
  if (in.flat || in.padded())
    fail_node(n, "only a reshape to 2-D [1, n], or a channel shuffle's of a C x H x W tensor, is supported");
  if (attr_int(n, "allowzero", 0) != 0) fail_node(n, "allowzero = 1 is not supported");
  const TensorShape& sh = in.shape;
  std::vector<int64_t> dims = {1, sh.c, sh.h, sh.w};
  if (in.view_a) dims = {1, in.view_t ? in.view_b : in.view_a, in.view_t ? in.view_a : in.view_b, sh.h, sh.w};
  // ONNX's rules: 0 copies the input's dimension, one -1 is inferred.
  std::vector<int64_t> t = target.i;
  int64_t known = 1, infer = -1;
  for (size_t i = 0; i < t.size(); ++i) {
    if (t[i] == 0 && i < dims.size()) t[i] = dims[i];
    if (t[i] == -1 && infer < 0) infer = static_cast<int64_t>(i);
    else if (t[i] < 1) fail_node(n, "shape value " + std::to_string(target.i[i]) + " is not supported");
    else known *= t[i];
  }
  if (infer >= 0) {
    if (sh.numel() % known != 0) fail_node(n, "cannot infer the -1 dimension of the target shape");
    t[static_cast<size_t>(infer)] = sh.numel() / known;
  }
  auto str = [](const std::vector<int64_t>& v) {
    std::string r;
    for (int64_t x : v) r += (r.empty() ? "[" : ", ") + std::to_string(x);
    return r + "]";
  };
  Value v = in;
  if (!in.view_a && t.size() == 5 && t[0] == 1 && t[1] * t[2] == sh.c && t[3] == sh.h && t[4] == sh.w) {
    v.view_a = t[1], v.view_b = t[2], v.view_t = false;
    values_[n.output(0)] = v;
    return;
  }
  if (t == std::vector<int64_t>{1, sh.c, sh.h, sh.w}) {
    v.view_a = v.view_b = 0;
    if (in.view_a && in.view_t && in.view_a > 1 && in.view_b > 1) {
      Layer l;
      l.kind = LayerKind::Shuffle;
      l.in = l.out = sh;
      l.groups = in.view_a;
      add_layer(n, std::move(l), {in.layer});
      return;
    }
    values_[n.output(0)] = v;  // the same tensor (an untransposed view, or no reshape at all)
    return;
  }
  fail_node(n, "reshape of " + str(dims) + " to " + str(t) +
                   ": only a reshape to 2-D [1, n], or a channel shuffle's to [1, g, C/g, H, W] and back to [1, C, H, W], "
                   "is supported");
}

// A Transpose of an activation: only the channel shuffle's, swapping the two
// channel axes of a 5-D view.
void Importer::transpose(const NodeProto& n) {
  const Value& in = value(n, 0);
  const std::vector<int64_t> perm = attr_ints(n, "perm", {});
  if (!in.view_a || perm != std::vector<int64_t>{0, 2, 1, 3, 4})
    fail_node(n, "a Transpose of an activation is supported only in a channel shuffle (perm [0, 2, 1, 3, 4] of a "
                 "[1, g, C/g, H, W] reshape)");
  Value v = in;
  v.view_t = !in.view_t;
  if (n.output_size() < 1 || n.output(0).empty()) fail_node(n, "has no output");
  values_[n.output(0)] = v;
}

// A Slice of an activation: channels [start, end) by a positive step, with
// constant starts, ends, axes and steps; any other axis must be kept whole.
void Importer::slice(const NodeProto& n) {
  const Value in = value(n, 0);
  if (in.padded()) fail_node(n, "reads a Pad output; Pad is supported only before a Conv");
  std::vector<int64_t> starts, ends, axes, steps;
  if (n.input_size() > 1) {
    auto ints = [&](int i, const char* role) {
      if (n.input_size() <= i || n.input(i).empty()) return std::vector<int64_t>{};
      const Constant& c = constant(n, i, role);
      if (c.is_float) fail_node(n, std::string("input ") + role + ": expected integers");
      return c.i;
    };
    starts = ints(1, "starts"), ends = ints(2, "ends"), axes = ints(3, "axes"), steps = ints(4, "steps");
  } else {  // opset 1 to 9: attributes
    starts = attr_ints(n, "starts", {}), ends = attr_ints(n, "ends", {}), axes = attr_ints(n, "axes", {});
  }
  if (starts.empty() || starts.size() != ends.size() || (!axes.empty() && axes.size() != starts.size()) ||
      (!steps.empty() && steps.size() != starts.size()))
    fail_node(n, "starts, ends, axes and steps must have one value per sliced axis");
  const TensorShape& sh = in.shape;
  const std::vector<int64_t> dims = in.flat ? std::vector<int64_t>{1, sh.c} : std::vector<int64_t>{1, sh.c, sh.h, sh.w};
  const int64_t rank = static_cast<int64_t>(dims.size());
  const char* const names[] = {"batch", "channel", "height", "width"};
  int64_t c0 = 0, step = 1, count = sh.c;
  for (size_t i = 0; i < starts.size(); ++i) {
    int64_t a = axes.empty() ? static_cast<int64_t>(i) : axes[i];
    if (a < -rank || a >= rank) fail_node(n, "axis " + std::to_string(a) + " is out of range for rank " + std::to_string(rank));
    if (a < 0) a += rank;
    const int64_t dim = dims[static_cast<size_t>(a)], st = steps.empty() ? 1 : steps[i];
    if (st < 1) fail_node(n, "step " + std::to_string(st) + " is not supported (only positive steps)");
    int64_t b = starts[i] < 0 ? starts[i] + dim : starts[i], e = ends[i] < 0 ? ends[i] + dim : ends[i];
    b = std::clamp<int64_t>(b, 0, dim), e = std::clamp<int64_t>(e, 0, dim);
    const int64_t cnt = e > b ? (e - b + st - 1) / st : 0;
    if (a != 1) {
      if (b != 0 || cnt != dim || (st != 1 && dim > 1))
        fail_node(n, std::string("a Slice on axis ") + std::to_string(a) + " (" + names[a] +
                         ") is not supported: only a slice of the channel axis 1 (keeping the other axes whole)");
      continue;
    }
    if (cnt < 1) fail_node(n, "selects no channel (start " + std::to_string(starts[i]) + ", end " + std::to_string(ends[i]) + ")");
    c0 = b, step = st, count = cnt;
  }
  if (c0 == 0 && step == 1 && count == sh.c) {
    alias(n, 0);
    return;
  }
  Layer l;
  l.kind = LayerKind::Slice;
  l.in = sh;
  l.out = {count, sh.h, sh.w};
  l.ch_start = c0, l.ch_step = step;
  add_layer(n, std::move(l), {in.layer}, in.flat);
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

}  // namespace brsim::onnx_detail
