#include "float_infer.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "host_threads.h"

namespace brsim {

namespace {

using Vec = std::vector<float>;

// Layers of at least this many MACs spread their output channels over
// host_threads() (each channel's sums are the same on any thread).
constexpr int64_t kParallelMacs = int64_t{1} << 22;

// Columns [K x P] of one group: row k = (c, ky, kx) holds that tap's input
// for every output pixel (zero where it falls in the padding). A 1 x 1,
// stride 1, unpadded conv reads the input itself.
const float* columns(const Layer& l, const Vec& in, int64_t g, Vec& buf) {
  const TensorShape &is = l.in, &os = l.out;
  const Window& w = l.window;
  const int64_t cg = is.c / l.groups, p = os.h * os.w;
  if (w.kh == 1 && w.kw == 1 && w.stride_h == 1 && w.stride_w == 1 && !w.pad_top && !w.pad_left && os.h == is.h &&
      os.w == is.w)
    return &in[static_cast<size_t>(g * cg * p)];
  buf.assign(static_cast<size_t>(cg * w.kh * w.kw * p), 0.0f);
  for (int64_t cl = 0; cl < cg; ++cl)
    for (int64_t ky = 0; ky < w.kh; ++ky)
      for (int64_t kx = 0; kx < w.kw; ++kx) {
        float* col = &buf[static_cast<size_t>(((cl * w.kh + ky) * w.kw + kx) * p)];
        const int64_t off = kx - w.pad_left, s = w.stride_w;
        const int64_t lo = off >= 0 ? 0 : (-off + s - 1) / s;
        const int64_t hi = std::min<int64_t>(os.w, (is.w - 1 - off) / s + 1);
        for (int64_t oy = 0; oy < os.h; ++oy) {
          const int64_t iy = oy * w.stride_h + ky - w.pad_top;
          if (iy < 0 || iy >= is.h) continue;
          const float* row = &in[static_cast<size_t>(((g * cg + cl) * is.h + iy) * is.w)];
          for (int64_t ox = lo; ox < hi; ++ox) col[oy * os.w + ox] = row[ox * s + off];
        }
      }
  return buf.data();
}

// MB output channels x PB pixels: bias, then every tap in (c, ky, kx)
// order, each product rounded and added in turn, as a direct loop adds them
// (a padded tap adds wt x 0, which changes at most the sign of a zero).
// `strip` holds the PB pixels' values of tap kk at kk * PB: one sequential
// read per block (the columns row by row would be K strided reads).
#if defined(__x86_64__)
#define BRSIM_FLOAT_CLONES __attribute__((target_clones("avx2", "default")))  // AVX2 without FMA: the same roundings
#else
#define BRSIM_FLOAT_CLONES
#endif
constexpr int64_t PB = 8;
typedef float F8 __attribute__((vector_size(32)));  // the PB pixels of a block (one AVX register)
template <int MB>
inline __attribute__((always_inline)) void conv_block(const float* wts, int64_t k, const float* strip, int64_t p,
                                                      int64_t p0, const float* bias, float* out) {
  F8 acc[MB];
  for (int i = 0; i < MB; ++i) acc[i] = F8{} + bias[i];
  for (int64_t kk = 0; kk < k; ++kk) {
    F8 c;
    std::memcpy(&c, strip + kk * PB, sizeof c);
    for (int i = 0; i < MB; ++i) acc[i] += wts[i * k + kk] * c;  // a product, then a sum: two roundings
  }
  for (int i = 0; i < MB; ++i) std::memcpy(out + i * p + p0, &acc[i], sizeof acc[i]);
}
// The blocks of 8 and of 1 channel as plain functions (clang does not clone
// templates), each built for AVX2 and the baseline.
BRSIM_FLOAT_CLONES void conv_block8(const float* wts, int64_t k, const float* strip, int64_t p, int64_t p0,
                                    const float* bias, float* out) {
  conv_block<8>(wts, k, strip, p, p0, bias, out);
}
BRSIM_FLOAT_CLONES void conv_block1(const float* wts, int64_t k, const float* strip, int64_t p, int64_t p0,
                                    const float* bias, float* out) {
  conv_block<1>(wts, k, strip, p, p0, bias, out);
}
// The last pn < PB pixels.
void conv_tail(const float* wts, int64_t k, const float* col, int64_t p, int64_t p0, int64_t pn, int64_t mb,
               const float* bias, float* out) {
  for (int64_t i = 0; i < mb; ++i)
    for (int64_t j = 0; j < pn; ++j) {
      float acc = bias[i];
      for (int64_t kk = 0; kk < k; ++kk) acc += wts[i * k + kk] * col[kk * p + p0 + j];
      out[i * p + p0 + j] = acc;
    }
}

// The columns [K x P] as strips of PB pixels: strip s holds pixels
// s PB .. s PB + PB - 1 of every tap, tap after tap (the last p % PB
// pixels stay in the columns).
void to_strips(const float* col, int64_t k, int64_t p, Vec& strips) {
  const int64_t n = p / PB;
  strips.resize(static_cast<size_t>(n * k * PB));
  for (int64_t kk = 0; kk < k; ++kk)
    for (int64_t s = 0; s < n; ++s)
      for (int64_t j = 0; j < PB; ++j) strips[static_cast<size_t>((s * k + kk) * PB + j)] = col[kk * p + s * PB + j];
}

Vec conv(const Layer& l, const Vec& in) {
  const TensorShape &is = l.in, &os = l.out;
  const Window& w = l.window;
  Vec out(static_cast<size_t>(os.numel()));
  const int64_t cg = is.c / l.groups, mg = os.c / l.groups;  // channels per group
  const int64_t p = os.h * os.w, k = cg * w.kh * w.kw;
  constexpr int64_t MB = 8;  // conv_block8
  const bool parallel = os.numel() * k >= kParallelMacs;
  // Output channels m0 .. m0 + n of group g (its columns in col): blocks of
  // MB channels, the last ones one by one, over all pixels.
  auto channels = [&](int64_t g, const float* col, const float* strips, int64_t first, int64_t n) {
    for (int64_t m = g * mg + first; m < g * mg + first + n;) {
      const int64_t mb = g * mg + first + n - m >= MB ? MB : 1;
      const float* wts = &l.weights[static_cast<size_t>(m * k)];
      float* o = &out[static_cast<size_t>(m * p)];
      const float* bias = &l.bias[static_cast<size_t>(m)];
      int64_t p0 = 0;
      for (; p0 + PB <= p; p0 += PB) {
        const float* strip = strips + p0 * k;  // strip p0 / PB
        if (mb == MB) conv_block8(wts, k, strip, p, p0, bias, o);
        else conv_block1(wts, k, strip, p, p0, bias, o);
      }
      if (p0 < p) conv_tail(wts, k, col, p, p0, p - p0, mb, bias, o);
      m += mb;
    }
  };
  if (mg < 2 * MB) {  // many small groups (depthwise): the groups in parallel
    auto group = [&](size_t g) {
      Vec buf, strips;
      const float* col = columns(l, in, static_cast<int64_t>(g), buf);
      to_strips(col, k, p, strips);
      channels(static_cast<int64_t>(g), col, strips.data(), 0, mg);
    };
    if (parallel) parallel_for(static_cast<size_t>(l.groups), group);
    else
      for (int64_t g = 0; g < l.groups; ++g) group(static_cast<size_t>(g));
    return out;
  }
  Vec buf, strips;
  for (int64_t g = 0; g < l.groups; ++g) {  // a group's channel blocks in parallel
    const float* col = columns(l, in, g, buf);
    to_strips(col, k, p, strips);
    const int64_t blocks = (mg + MB - 1) / MB;
    auto block = [&](size_t b) {
      const int64_t first = static_cast<int64_t>(b) * MB;
      channels(g, col, strips.data(), first, std::min(MB, mg - first));
    };
    if (parallel) parallel_for(static_cast<size_t>(blocks), block);
    else
      for (int64_t b = 0; b < blocks; ++b) block(static_cast<size_t>(b));
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

// The vector ops on float tensors (`b` the second input, when there is one).
Vec vector_op(const Layer& l, const std::vector<const Vec*>& ins) {
  const Vec& a = *ins[0];
  Vec x;
  switch (l.kind) {
    case LayerKind::Add:
      x = a;
      for (size_t i = 0; i < x.size(); ++i) x[i] += (*ins[1])[i];
      break;
    case LayerKind::Mul: {
      // The second operand is the same shape or per channel (C x 1 x 1); either order.
      const Vec *big = ins[0], *small = ins[1];
      if (small->size() > big->size()) std::swap(big, small);
      x = *big;
      const size_t hw = x.size() / small->size();
      for (size_t i = 0; i < x.size(); ++i) x[i] *= (*small)[i / hw];
      break;
    }
    case LayerKind::Concat:
      for (const Vec* v : ins) x.insert(x.end(), v->begin(), v->end());
      break;
    case LayerKind::Relu:
      x = a;
      break;  // the ReLU itself follows below
    case LayerKind::Clip:
      x = a;
      for (float& v : x) v = std::min(std::max(v, l.lo), l.hi);
      break;
    case LayerKind::Slice: {
      const size_t plane = static_cast<size_t>(l.out.h * l.out.w);
      for (int64_t c = l.ch_start; x.size() < static_cast<size_t>(l.out.numel()); c += l.ch_step)
        x.insert(x.end(), a.begin() + static_cast<std::ptrdiff_t>(static_cast<size_t>(c) * plane),
                 a.begin() + static_cast<std::ptrdiff_t>(static_cast<size_t>(c + 1) * plane));
      break;
    }
    case LayerKind::Shuffle: {
      // ONNX's Reshape [g, C/g, H, W] -> Transpose [C/g, g, H, W] -> Reshape [C, H, W], literally.
      const int64_t g = l.groups, cg = l.out.c / g, plane = l.out.h * l.out.w;
      x.resize(a.size());
      for (int64_t i = 0; i < g; ++i)
        for (int64_t j = 0; j < cg; ++j)
          for (int64_t p = 0; p < plane; ++p)
            x[static_cast<size_t>((j * g + i) * plane + p)] = a[static_cast<size_t>((i * cg + j) * plane + p)];
      break;
    }
    case LayerKind::Sigmoid:
      x = a;
      for (float& v : x) v = static_cast<float>(1.0 / (1.0 + std::exp(-static_cast<double>(v))));
      break;
    case LayerKind::HardSigmoid:
      x = a;
      for (float& v : x) v = std::max(0.0f, std::min(1.0f, l.alpha * v + l.beta));
      break;
    case LayerKind::HardSwish:
      x = a;
      for (float& v : x) v = v * std::max(0.0f, std::min(1.0f, v / 6.0f + 0.5f));
      break;
    default: break;
  }
  return x;
}

}  // namespace

std::vector<float> run_float(const Network& net, const std::vector<float>& input,
                             const std::function<void(size_t, const std::vector<float>&)>& observe) {
  if (net.is_chain()) {
    Vec x = input;
    for (const Layer& l : net.layers) {
      switch (l.kind) {
        case LayerKind::Conv: x = conv(l, x); break;
        case LayerKind::Dense: x = dense(l, x); break;
        case LayerKind::MaxPool:
        case LayerKind::AvgPool:
        case LayerKind::GlobalAvgPool: x = pool(l, x); break;
        default: break;  // Flatten: C, H, W order is already the flat order
      }
      if (l.relu)
        for (float& v : x) v = std::max(v, 0.0f);
      if (observe) observe(static_cast<size_t>(&l - net.layers.data()), x);
    }
    return x;
  }
  // A graph: every layer's output kept until its last reader has run.
  const size_t n = net.layers.size();
  const std::vector<size_t> last_use = net.last_uses();
  std::vector<Vec> outs(n);
  for (size_t i = 0; i < n; ++i) {
    const Layer& l = net.layers[i];
    std::vector<const Vec*> ins;
    for (size_t k = 0; k < std::max<size_t>(1, l.inputs.size()); ++k) {
      const int p = net.input_of(i, k);
      ins.push_back(p < 0 ? &input : &outs[static_cast<size_t>(p)]);
    }
    Vec x;
    switch (l.kind) {
      case LayerKind::Conv: x = conv(l, *ins[0]); break;
      case LayerKind::Dense: x = dense(l, *ins[0]); break;
      case LayerKind::MaxPool:
      case LayerKind::AvgPool:
      case LayerKind::GlobalAvgPool: x = pool(l, *ins[0]); break;
      case LayerKind::Flatten: x = *ins[0]; break;
      default: x = vector_op(l, ins); break;
    }
    if (l.relu || l.kind == LayerKind::Relu)
      for (float& v : x) v = std::max(v, 0.0f);
    outs[i] = std::move(x);
    if (observe) observe(i, outs[i]);
    for (size_t k = 0; k < std::max<size_t>(1, l.inputs.size()); ++k) {
      const int p = net.input_of(i, k);
      if (p >= 0 && last_use[static_cast<size_t>(p)] == i) Vec().swap(outs[static_cast<size_t>(p)]);
    }
  }
  return outs.back();
}

std::vector<float> run_float(const Network& net, const std::vector<float>& input,
                             std::vector<std::vector<float>>* outputs) {
  if (!outputs) return run_float(net, input, std::function<void(size_t, const std::vector<float>&)>());
  return run_float(net, input, [&](size_t, const std::vector<float>& v) { outputs->push_back(v); });
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
