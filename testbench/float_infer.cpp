#include "float_infer.h"

#include <algorithm>
#include <limits>

#include "host_threads.h"

namespace brsim {

namespace {

using Vec = std::vector<float>;

// Layers of at least this many MACs spread their output channels over
// host_threads() (each channel's sums are the same on any thread).
constexpr int64_t kParallelMacs = int64_t{1} << 22;

Vec conv(const Layer& l, const Vec& in) {
  const TensorShape &is = l.in, &os = l.out;
  const Window& w = l.window;
  Vec out(static_cast<size_t>(os.numel()));
  auto channel = [&](int64_t m) {
    float* o = &out[static_cast<size_t>(m * os.h * os.w)];
    std::fill(o, o + os.h * os.w, l.bias[static_cast<size_t>(m)]);
    for (int64_t c = 0; c < is.c; ++c)
      for (int64_t ky = 0; ky < w.kh; ++ky)
        for (int64_t kx = 0; kx < w.kw; ++kx) {
          const float wt = l.weights[static_cast<size_t>(((m * is.c + c) * w.kh + ky) * w.kw + kx)];
          for (int64_t oy = 0; oy < os.h; ++oy) {
            const int64_t iy = oy * w.stride_h + ky - w.pad_top;
            if (iy < 0 || iy >= is.h) continue;
            const float* row = &in[static_cast<size_t>((c * is.h + iy) * is.w)];
            float* orow = o + oy * os.w;
            // Output columns whose input column ox * s + kx - pad lies inside the row.
            const int64_t off = kx - w.pad_left, s = w.stride_w;
            const int64_t lo = off >= 0 ? 0 : (-off + s - 1) / s;
            const int64_t hi = std::min<int64_t>(os.w, (is.w - 1 - off) / s + 1);
            if (s == 1)
              for (int64_t ox = lo; ox < hi; ++ox) orow[ox] += wt * row[ox + off];
            else
              for (int64_t ox = lo; ox < hi; ++ox) orow[ox] += wt * row[ox * s + off];
          }
        }
  };
  if (os.numel() * is.c * w.kh * w.kw >= kParallelMacs) {
    parallel_for(static_cast<size_t>(os.c), [&](size_t m) { channel(static_cast<int64_t>(m)); });
  } else {
    for (int64_t m = 0; m < os.c; ++m) channel(m);
  }
  return out;
}

Vec dense(const Layer& l, const Vec& in) {
  const int64_t k = l.in.numel(), m = l.out.c;
  Vec out(static_cast<size_t>(m));
  auto row = [&](int64_t o) {
    const float* wr = &l.weights[static_cast<size_t>(o * k)];
    float s = 0;
    for (int64_t i = 0; i < k; ++i) s += wr[i] * in[static_cast<size_t>(i)];
    out[static_cast<size_t>(o)] = s + l.bias[static_cast<size_t>(o)];
  };
  if (m * k >= kParallelMacs) {
    // Blocks of 64 rows per index: the rows are short next to a thread's start.
    parallel_for(static_cast<size_t>((m + 63) / 64), [&](size_t b) {
      for (int64_t o = static_cast<int64_t>(b) * 64; o < std::min<int64_t>(m, static_cast<int64_t>(b) * 64 + 64); ++o) row(o);
    });
  } else {
    for (int64_t o = 0; o < m; ++o) row(o);
  }
  return out;
}

Vec pool(const Layer& l, const Vec& in) {
  const TensorShape &is = l.in, &os = l.out;
  const Window& w = l.window;
  const bool is_max = l.kind == LayerKind::MaxPool;
  Vec out(static_cast<size_t>(os.numel()));
  for (int64_t c = 0; c < os.c; ++c)
    for (int64_t oy = 0; oy < os.h; ++oy)
      for (int64_t ox = 0; ox < os.w; ++ox) {
        float acc = is_max ? -std::numeric_limits<float>::infinity() : 0.0f;
        int64_t n = 0;
        for (int64_t ky = 0; ky < w.kh; ++ky)
          for (int64_t kx = 0; kx < w.kw; ++kx) {
            const int64_t iy = oy * w.stride_h + ky - w.pad_top, ix = ox * w.stride_w + kx - w.pad_left;
            if (iy < 0 || iy >= is.h || ix < 0 || ix >= is.w) continue;
            const float v = in[static_cast<size_t>((c * is.h + iy) * is.w + ix)];
            acc = is_max ? std::max(acc, v) : acc + v;
            ++n;
          }
        out[static_cast<size_t>((c * os.h + oy) * os.w + ox)] = is_max ? acc : acc / static_cast<float>(n);
      }
  return out;
}

}  // namespace

std::vector<float> run_float(const Network& net, const std::vector<float>& input,
                             std::vector<std::vector<float>>* outputs) {
  Vec x = input;
  for (const Layer& l : net.layers) {
    switch (l.kind) {
      case LayerKind::Conv: x = conv(l, x); break;
      case LayerKind::Dense: x = dense(l, x); break;
      case LayerKind::MaxPool:
      case LayerKind::AvgPool:
      case LayerKind::GlobalAvgPool: x = pool(l, x); break;
      case LayerKind::Flatten: break;  // C, H, W order is already the flat order
    }
    if (l.relu)
      for (float& v : x) v = std::max(v, 0.0f);
    if (outputs) outputs->push_back(x);
  }
  return x;
}

std::vector<float> image_to_input(const uint8_t* pixels, size_t n) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<float>(pixels[i]) / 255.0f;
  return v;
}

size_t argmax(const std::vector<float>& v) {
  return static_cast<size_t>(std::max_element(v.begin(), v.end()) - v.begin());
}

}  // namespace brsim
