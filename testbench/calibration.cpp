#include "calibration.h"

#include <algorithm>
#include <cmath>

#include "errors.h"
#include "float_infer.h"

namespace brsim {

int frac_bits_for(double bound, int act_bits) {
  if (!(bound > 0.0) || !std::isfinite(bound)) return 0;
  const double top = std::ldexp(1.0, act_bits - 1) - 1.0;
  int f = static_cast<int>(std::floor(std::log2(top / bound)));
  while (std::round(std::ldexp(bound, f + 1)) <= top) ++f;
  while (std::round(std::ldexp(bound, f)) > top) --f;
  return f;
}

namespace {
// Bound of one tensor's |x| over all calibration images: the maximum, or the
// given percentile of all values (nearest rank).
double bound_of(std::vector<float>& values, double percentile) {
  if (values.empty()) return 0.0;
  if (percentile >= 100.0) return *std::max_element(values.begin(), values.end());
  const size_t rank = static_cast<size_t>(std::ceil(percentile / 100.0 * static_cast<double>(values.size())));
  const size_t idx = std::min(values.size() - 1, rank == 0 ? 0 : rank - 1);
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(idx), values.end());
  return values[idx];
}
}  // namespace

ActivationFormats calibrate(const Network& net, const ImageSet& images, const CalibOptions& opt) {
  const int64_t pixels = images.rows * images.cols;
  if (net.input.numel() != pixels)
    throw ConfigError(net.source + ": the network input " + net.input.str() + " does not match the " +
                      std::to_string(images.rows) + "x" + std::to_string(images.cols) + " images");
  std::vector<std::vector<float>> xs;
  for (int64_t i = 0; i < std::min(std::max<int64_t>(opt.images, 0), images.count); ++i)
    xs.push_back(image_to_input(images.image(i), static_cast<size_t>(pixels)));
  return calibrate(net, xs, opt);
}

std::vector<double> layer_input_means(const Layer& l, const std::vector<float>& x) {
  if (l.kind == LayerKind::Dense) return std::vector<double>(x.begin(), x.end());
  if (l.kind != LayerKind::Conv) return {};
  const Window& w = l.window;
  const int64_t c_n = l.in.c, h = l.in.h, wd = l.in.w, oh = l.out.h, ow = l.out.w;
  std::vector<double> means(static_cast<size_t>(c_n * w.kh * w.kw), 0.0);
  const double pixels = static_cast<double>(oh * ow);
  for (int64_t c = 0; c < c_n; ++c)
    for (int64_t i = 0; i < w.kh; ++i)
      for (int64_t j = 0; j < w.kw; ++j) {
        double s = 0;
        for (int64_t y = 0; y < oh; ++y) {
          const int64_t iy = y * w.stride_h - w.pad_top + i;
          if (iy < 0 || iy >= h) continue;
          const float* row = &x[static_cast<size_t>((c * h + iy) * wd)];
          for (int64_t xo = 0; xo < ow; ++xo) {
            const int64_t ix = xo * w.stride_w - w.pad_left + j;
            if (ix >= 0 && ix < wd) s += row[ix];
          }
        }
        means[static_cast<size_t>((c * w.kh + i) * w.kw + j)] = s / pixels;
      }
  return means;
}

bool keeps_format(const Layer& l) {
  return l.is_pool() || l.kind == LayerKind::Flatten || l.kind == LayerKind::Relu || l.kind == LayerKind::Clip ||
         l.is_data_movement();
}

ActivationFormats calibrate(const Network& net, const std::vector<std::vector<float>>& inputs,
                            const CalibOptions& opt) {
  if (opt.act_bits < 2 || opt.act_bits > 32)
    throw ConfigError("invalid act_bits " + std::to_string(opt.act_bits) + ": expected an integer in [2, 32]");
  if (!(opt.percentile > 0.0 && opt.percentile <= 100.0))
    throw ConfigError("invalid calibration percentile " + std::to_string(opt.percentile) + ": expected (0, 100]");
  if (opt.images < 1) throw ConfigError("invalid calibration image count: expected >= 1");
  const int64_t n = std::min<int64_t>(opt.images, static_cast<int64_t>(inputs.size()));
  const size_t tensors = net.layers.size() + 1;
  const bool keep_all = opt.percentile < 100.0;
  std::vector<std::vector<float>> values(tensors);
  std::vector<double> maxabs(tensors, 0.0);
  // Tensor t's Conv/Dense readers, whose input means it adds to (input_means).
  std::vector<std::vector<size_t>> readers(tensors);
  std::vector<std::vector<double>> mean_sums(opt.input_means ? net.layers.size() : 0);
  if (opt.input_means)
    for (size_t l = 0; l < net.layers.size(); ++l)
      if (net.layers[l].has_weights()) readers[static_cast<size_t>(net.input_of(l) + 1)].push_back(l);
  for (int64_t i = 0; i < n; ++i) {
    const std::vector<float>& in = inputs[static_cast<size_t>(i)];
    // Tensor 0 is the input, tensor t the output of layer t - 1 (seen as it is made, not kept).
    auto see = [&](size_t t, const std::vector<float>& v) {
      float m = 0;
      for (float x : v) m = std::max(m, std::fabs(x));
      maxabs[t] = std::max(maxabs[t], static_cast<double>(m));
      if (keep_all)
        for (float x : v) values[t].push_back(std::fabs(x));
      for (size_t l : readers[t]) {
        const std::vector<double> m = layer_input_means(net.layers[l], v);
        std::vector<double>& sum = mean_sums[l];
        if (sum.empty()) sum.assign(m.size(), 0.0);
        for (size_t k = 0; k < m.size(); ++k) sum[k] += m[k];
      }
    };
    see(0, in);
    run_float(net, in, [&](size_t layer, const std::vector<float>& v) { see(layer + 1, v); });
  }
  ActivationFormats f;
  f.act_bits = opt.act_bits;
  f.options = opt;
  f.images_used = n;
  for (std::vector<double>& sum : mean_sums)
    for (double& v : sum) v /= static_cast<double>(n);
  f.input_means = std::move(mean_sums);
  for (size_t t = 0; t < tensors; ++t)
    f.input_range_and_layers.push_back(keep_all ? bound_of(values[t], opt.percentile) : maxabs[t]);
  f.input_frac = frac_bits_for(f.input_range_and_layers[0], opt.act_bits);
  if (net.is_chain()) {
    int prev = f.input_frac;
    for (size_t l = 0; l < net.layers.size(); ++l) {
      const bool keeps = !net.layers[l].has_weights();
      prev = keeps ? prev : frac_bits_for(f.input_range_and_layers[l + 1], opt.act_bits);
      f.layer_frac.push_back(prev);
    }
    return f;
  }
  // A graph: pooling, Flatten, ReLU, Clip, Slice and Shuffle keep their input's format.
  for (size_t l = 0; l < net.layers.size(); ++l) {
    const int p = net.input_of(l);
    f.layer_frac.push_back(keeps_format(net.layers[l])
                               ? (p < 0 ? f.input_frac : f.layer_frac[static_cast<size_t>(p)])
                               : frac_bits_for(f.input_range_and_layers[l + 1], opt.act_bits));
  }
  return f;
}

}  // namespace brsim
