#include "qnet.h"

#include <algorithm>
#include <cmath>

#include "errors.h"
#include "vector_ops.h"

namespace brsim {

std::string NetQuantOptions::label() const {
  const QuantOptions& w = weights;
  if (w.policy.kind == PolicyKind::Fixed16) return "fixed16";
  std::string s = w.policy.name() + " " + std::to_string(w.bits) + "b K=";
  s += exact_sqrt2 ? "exact" : std::to_string(w.datapath.sqrt2_terms) + " " + to_string(w.codebook);
  return s;
}

std::vector<double> expected_output_error(const Layer& l, const QuantizedWeights& qw, const std::vector<double>& mean,
                                          bool exact_sqrt2) {
  const int64_t m = l.gemm_m(), k = l.gemm_k(), groups = l.kind == LayerKind::Conv ? l.groups : 1;
  if (static_cast<int64_t>(mean.size()) != k * groups || static_cast<int64_t>(l.weights.size()) != m * k)
    throw ConfigError(l.name + ": bias correction has " + std::to_string(mean.size()) + " input means, expected " +
                      std::to_string(k * groups));
  const bool fixed = qw.options.policy.kind == PolicyKind::Fixed16;
  std::vector<double> err(static_cast<size_t>(m), 0.0);
  for (int64_t ch = 0; ch < m; ++ch) {
    const double* mu = &mean[static_cast<size_t>(ch / (m / groups) * k)];
    double s = 0;
    for (int64_t i = 0; i < k; ++i) {
      const size_t idx = static_cast<size_t>(ch * k + i);
      const double wq = exact_sqrt2 && !fixed ? ideal_value(qw.codes[idx], qw.config_of_channel(static_cast<size_t>(ch)))
                                              : qw.hardware_weight(idx);
      s += (wq - static_cast<double>(l.weights[idx])) * mu[i];
    }
    err[static_cast<size_t>(ch)] = s;
  }
  return err;
}

namespace {

QLayer quantize_layer(const Layer& l, int f_in, int f_out, const NetQuantOptions& opt,
                      const std::vector<double>* input_means) {
  QLayer q;
  q.f_in = f_in;
  q.f_out = f_out;
  const int64_t m = l.gemm_m(), k = l.gemm_k();
  std::vector<int64_t> shape{m, k};
  if (l.kind == LayerKind::Conv) shape = {m, l.in.c / l.groups, l.window.kh, l.window.kw};
  q.qw = quantize_tensor(l.weights.data(), l.weights.size(), shape, opt.weights);  // the float weights as they are (no double copy)
  const DatapathConfig& dp = opt.weights.datapath;
  const bool fixed = opt.weights.policy.kind == PolicyKind::Fixed16;
  q.iw = fixed ? IntWeights::from_fixed16_mk(q.qw.fixed, m, k) : IntWeights::from_brslog_mk(q.qw.codes, m, k, q.qw.configs);
  if (l.groups == 1) {
    q.ew = effective_weights(q.iw, dp);
  } else {
    const int64_t mg = m / l.groups;
    for (int64_t g = 0; g < l.groups; ++g) q.group_ew.push_back(effective_weights(column_slice(q.iw, g * mg, mg), dp));
  }
  const int q_k = fixed ? 0 : sqrt2_approx(dp.sqrt2_terms).q;
  if (input_means) q.bias_correction = expected_output_error(l, q.qw, *input_means, opt.exact_sqrt2);
  for (int64_t ch = 0; ch < m; ++ch) {
    // Accumulator fraction bits: f_in + q_K - e_base (fixed16: f_in + f_w).
    const int e = fixed ? -q.qw.f_w : q.qw.config_of_channel(static_cast<size_t>(ch)).e_base;
    int acc_frac = f_in + q_k - e;
    if (opt.exact_sqrt2 && !fixed) acc_frac = f_in - e;  // real-valued reference: no q_K scaling
    bool sat = false;
    double bias = l.bias[static_cast<size_t>(ch)];
    if (input_means) bias -= q.bias_correction[static_cast<size_t>(ch)];
    q.bias_q.push_back(quantize_bias(bias, acc_frac, dp.acc_bits, &sat));
    q.bias_saturated += sat;
    q.shift.push_back(requant_shift(f_in, opt.exact_sqrt2 && !fixed ? 0 : q_k, e, f_out));
  }
  if (opt.exact_sqrt2 && !fixed) {
    q.exact_weights.resize(static_cast<size_t>(m * k));
    for (int64_t ch = 0; ch < m; ++ch) {
      const SegmentConfig& c = q.qw.config_of_channel(static_cast<size_t>(ch));
      for (int64_t i = 0; i < k; ++i) {
        const size_t idx = static_cast<size_t>(ch * k + i);
        // In units of 2^e_base: the accumulator of the exact reference.
        q.exact_weights[idx] = std::ldexp(ideal_value(q.qw.codes[idx], c), -c.e_base);
      }
    }
  }
  return q;
}

// acc[M x P] of the exact-sqrt2 reference in double, in units of
// 2^(e_base - f_in); the same requantization follows (with r = f_in - e_base - f_out).
std::vector<int64_t> exact_gemm(const QLayer& q, const std::vector<int32_t>& a, int64_t p, int64_t k, int64_t m,
                                int acc_bits, int64_t m0 = 0) {
  std::vector<int64_t> acc(static_cast<size_t>(m * p));
  for (int64_t ch = 0; ch < m; ++ch) {
    const double* w = &q.exact_weights[static_cast<size_t>((m0 + ch) * k)];
    for (int64_t px = 0; px < p; ++px) {
      const int32_t* row = &a[static_cast<size_t>(px * k)];
      double s = 0;
      for (int64_t i = 0; i < k; ++i) s += w[i] * row[i];
      // Round to the accumulator unit; this reference has no wrap-around.
      acc[static_cast<size_t>(ch * p + px)] = saturate_to_bits(static_cast<__int128>(std::floor(s + 0.5)), acc_bits);
    }
  }
  return acc;
}

ActTensor run_compute(const Layer& l, const QLayer& q, const ActTensor& in, const QuantizedNetwork& net,
                      InferStats* stats) {
  const DatapathConfig& dp = net.options.weights.datapath;
  GoldenStats gs;
  std::vector<int64_t> acc;  // [M x P] channel-major
  int64_t oh = 1, ow = 1;
  const int64_t m = l.gemm_m(), k = l.gemm_k();
  const bool exact = !q.exact_weights.empty();
  if (l.kind == LayerKind::Conv) {
    Conv2dShape s;
    const Window& w = l.window;
    s.kh = w.kh, s.kw = w.kw, s.stride_h = w.stride_h, s.stride_w = w.stride_w;
    s.pad_top = w.pad_top, s.pad_left = w.pad_left, s.pad_bottom = w.pad_bottom, s.pad_right = w.pad_right;
    if (l.groups > 1) {
      // One GEMM per group on its slice of the input channels.
      const int64_t cg = in.c / l.groups, mg = m / l.groups, hw = in.h * in.w;
      for (int64_t g = 0; g < l.groups; ++g) {
        ActTensor ig;
        ig.c = cg, ig.h = in.h, ig.w = in.w, ig.frac_bits = in.frac_bits;
        ig.data.assign(in.data.begin() + g * cg * hw, in.data.begin() + (g + 1) * cg * hw);
        std::vector<int64_t> part;
        if (exact) {
          const std::vector<int32_t> cols = im2col(ig, s, &oh, &ow);
          part = exact_gemm(q, cols, oh * ow, k, mg, dp.acc_bits, g * mg);
        } else {
          part = golden_conv2d(ig, q.group_ew[static_cast<size_t>(g)], s, &oh, &ow, &gs);
        }
        acc.insert(acc.end(), part.begin(), part.end());
      }
    } else if (exact) {
      const std::vector<int32_t> cols = im2col(in, s, &oh, &ow);
      acc = exact_gemm(q, cols, oh * ow, k, m, dp.acc_bits);
    } else {
      acc = golden_conv2d(in, q.ew, s, &oh, &ow, &gs);
    }
  } else {
    acc = exact ? exact_gemm(q, in.data, 1, k, m, dp.acc_bits) : golden_fc(in.data, q.ew, &gs);
  }
  ActTensor out;
  out.c = m, out.h = oh, out.w = ow;
  out.frac_bits = q.f_out;
  RequantStats rs;
  out.data = golden_requantize(acc, m, q.bias_q, q.shift, l.relu, dp.act_bits, &rs);
  if (stats) {
    stats->mac.merge(gs);
    stats->requant.merge(rs);
  }
  return out;
}

ActTensor run_pool(const Layer& l, const ActTensor& in) {
  if (l.kind == LayerKind::GlobalAvgPool) return golden_global_avgpool(in);
  PoolShape s;
  const Window& w = l.window;
  s.kh = w.kh, s.kw = w.kw, s.stride_h = w.stride_h, s.stride_w = w.stride_w;
  s.pad_top = w.pad_top, s.pad_left = w.pad_left, s.pad_bottom = w.pad_bottom, s.pad_right = w.pad_right;
  return l.kind == LayerKind::MaxPool ? golden_maxpool(in, s) : golden_avgpool(in, s);
}

}  // namespace

IntWeights column_slice(const IntWeights& w, int64_t m0, int64_t mn) {
  IntWeights r;
  r.k = w.k, r.m = mn, r.fixed16 = w.fixed16;
  if (w.fixed16) r.fixed.resize(static_cast<size_t>(w.k * mn));
  else r.codes.resize(static_cast<size_t>(w.k * mn));
  for (int64_t row = 0; row < w.k; ++row)
    for (int64_t c = 0; c < mn; ++c) {
      const size_t from = static_cast<size_t>(row * w.m + m0 + c), to = static_cast<size_t>(row * mn + c);
      if (w.fixed16) r.fixed[to] = w.fixed[from];
      else r.codes[to] = w.codes[from];
    }
  if (w.configs.size() == 1) r.configs = w.configs;
  else if (!w.configs.empty()) r.configs.assign(w.configs.begin() + m0, w.configs.begin() + m0 + mn);
  return r;
}

ActTensor run_layer_graph(const QuantizedNetwork& q, size_t i, const std::vector<const ActTensor*>& ins,
                          InferStats* stats);  // qnet_graph.cpp
ActTensor run_compute_layer(const Layer& l, const QLayer& ql, const ActTensor& in, const QuantizedNetwork& q,
                            InferStats* stats) {
  return run_compute(l, ql, in, q, stats);
}
ActTensor run_pool_layer(const Layer& l, const ActTensor& in) { return run_pool(l, in); }

QuantizedNetwork quantize_network(std::shared_ptr<const Network> net, const ActivationFormats& formats,
                                  const NetQuantOptions& opt) {
  validate(opt.weights);
  if (opt.exact_sqrt2 && opt.weights.codebook == CodebookKind::Hardware)
    throw ConfigError("K = exact uses the ideal codebook: there is no hardware codebook for the real sqrt2");
  if (formats.layer_frac.size() != net->layers.size())
    throw ConfigError("activation formats do not match the network (" + std::to_string(formats.layer_frac.size()) +
                      " formats for " + std::to_string(net->layers.size()) + " layers)");
  if (opt.bias_correction && formats.input_means.size() != net->layers.size())
    throw ConfigError("bias correction needs the calibration's input means (CalibOptions::input_means)");
  QuantizedNetwork q;
  q.net = net;
  q.formats = formats;
  q.options = opt;
  q.options.weights.datapath.act_bits = formats.act_bits;
  int f = formats.input_frac;
  const bool chain = net->is_chain();
  for (size_t i = 0; i < net->layers.size(); ++i) {
    const Layer& l = net->layers[i];
    const int f_out = formats.layer_frac[i];
    std::vector<int> f_ins;
    for (size_t k = 0; k < std::max<size_t>(1, l.inputs.size()); ++k) {
      const int p = net->input_of(i, k);
      f_ins.push_back(p < 0 ? formats.input_frac : formats.layer_frac[static_cast<size_t>(p)]);
    }
    if (!chain) f = f_ins[0];
    q.layers.push_back(l.has_weights() ? quantize_layer(l, f, f_out, q.options,
                                                                    opt.bias_correction ? &formats.input_means[i] : nullptr)
                                                   : QLayer{});
    QLayer& ql = q.layers.back();
    ql.f_in = f;
    ql.f_out = f_out;
    if (!chain) {
      ql.f_ins = f_ins;
      if (l.kind == LayerKind::Clip) {
        ql.lo_q = clip_bound(l.lo, f, formats.act_bits);
        ql.hi_q = clip_bound(l.hi, f, formats.act_bits);
      }
    }
    f = f_out;
  }
  return q;
}

ActTensor quantize_input(const QuantizedNetwork& q, const std::vector<float>& x, uint64_t* saturated) {
  const TensorShape& s = q.net->input;
  ActTensor t;
  t.c = s.c, t.h = s.h, t.w = s.w;
  t.frac_bits = q.formats.input_frac;
  const int bits = q.formats.act_bits;
  t.data.resize(x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    const double v = std::round(std::ldexp(static_cast<double>(x[i]), t.frac_bits));
    const int64_t clipped = saturate_to_bits(static_cast<__int128>(v), bits);
    if (saturated && static_cast<double>(clipped) != v) ++*saturated;
    t.data[i] = static_cast<int32_t>(clipped);
  }
  return t;
}

ActTensor run_quantized(const QuantizedNetwork& q, const std::vector<float>& input, InferStats* stats,
                        std::vector<ActTensor>* layer_outputs) {
  if (static_cast<int64_t>(input.size()) != q.net->input.numel())
    throw ConfigError("input has " + std::to_string(input.size()) + " values, the network expects " +
                      q.net->input.str());
  uint64_t sat = 0;
  ActTensor x = quantize_input(q, input, &sat);
  if (stats) stats->input_saturated += sat;
  if (!q.net->is_chain()) {
    // A graph: each layer reads its producers' outputs (kept until their last reader).
    const Network& net = *q.net;
    const size_t n = net.layers.size();
    const std::vector<size_t> last_use = net.last_uses();
    std::vector<ActTensor> outs(n);
    for (size_t i = 0; i < n; ++i) {
      std::vector<const ActTensor*> ins;
      for (size_t k = 0; k < net.input_count(i); ++k) {
        const int p = net.input_of(i, k);
        ins.push_back(p < 0 ? &x : &outs[static_cast<size_t>(p)]);
      }
      outs[i] = run_layer_graph(q, i, ins, stats);
      if (!layer_outputs)
        for (size_t k = 0; k < ins.size(); ++k) {
          const int p = net.input_of(i, k);
          if (p >= 0 && last_use[static_cast<size_t>(p)] == i) outs[static_cast<size_t>(p)] = ActTensor{};
        }
    }
    ActTensor last = outs.back();
    if (layer_outputs)  // every output was kept: handed over, not copied
      for (ActTensor& t : outs) layer_outputs->push_back(std::move(t));
    return last;
  }
  for (size_t i = 0; i < q.net->layers.size(); ++i) {
    const Layer& l = q.net->layers[i];
    switch (l.kind) {
      case LayerKind::Conv:
      case LayerKind::Dense: x = run_compute(l, q.layers[i], x, q, stats); break;
      case LayerKind::MaxPool:
      case LayerKind::AvgPool:
      case LayerKind::GlobalAvgPool:
        x = run_pool(l, x);
        if (l.relu)
          for (int32_t& v : x.data) v = v < 0 ? 0 : v;
        break;
      case LayerKind::Flatten:
        x.c = x.c * x.h * x.w, x.h = 1, x.w = 1;
        if (l.relu)
          for (int32_t& v : x.data) v = v < 0 ? 0 : v;
        break;
      default: throw ConfigError("layer '" + l.name + "': a vector op in a chain network");
    }
    if (layer_outputs) layer_outputs->push_back(x);
  }
  return x;
}

}  // namespace brsim
