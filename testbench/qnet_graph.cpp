// The golden model's layers of a graph network: Conv/FC (grouped: one GEMM
// per group) and pooling as in a chain, and the vector ops on the element
// arithmetic of vector_ops.h (the formats of a residual add's or concat's
// operands aligned bit exactly), channel slices and shuffles as data movement.
#include <algorithm>

#include "errors.h"
#include "qnet.h"
#include "vector_ops.h"

namespace brsim {

ActTensor run_compute_layer(const Layer& l, const QLayer& ql, const ActTensor& in, const QuantizedNetwork& q,
                            InferStats* stats);
ActTensor run_pool_layer(const Layer& l, const ActTensor& in);

ActTensor run_layer_graph(const QuantizedNetwork& q, size_t i, const std::vector<const ActTensor*>& ins,
                          InferStats* stats) {
  const Layer& l = q.net->layers[i];
  const QLayer& ql = q.layers[i];
  const int bits = q.formats.act_bits;
  const ActTensor& a = *ins[0];
  RequantStats rs;
  ActTensor x;
  x.c = l.out.c, x.h = l.out.h, x.w = l.out.w;
  x.frac_bits = ql.f_out;
  switch (l.kind) {
    case LayerKind::Conv:
    case LayerKind::Dense: return run_compute_layer(l, ql, a, q, stats);
    case LayerKind::MaxPool:
    case LayerKind::AvgPool:
    case LayerKind::GlobalAvgPool:
      x = run_pool_layer(l, a);
      if (l.relu)
        for (int32_t& v : x.data) v = std::max(v, 0);
      return x;
    case LayerKind::Flatten:
    case LayerKind::Relu:
      x.data = a.data;
      if (l.relu || l.kind == LayerKind::Relu)
        for (int32_t& v : x.data) v = std::max(v, 0);
      return x;
    case LayerKind::Slice:
    case LayerKind::Shuffle:
      // Data movement: whole channel planes, values and format unchanged.
      x.data.resize(static_cast<size_t>(l.out.numel()));
      if (l.kind == LayerKind::Slice)
        gather_channels(a.data.data(), x.data.data(), l.out.c, l.out.h * l.out.w,
                        [&](int64_t k) { return slice_channel(k, l.ch_start, l.ch_step); });
      else
        gather_channels(a.data.data(), x.data.data(), l.out.c, l.out.h * l.out.w,
                        [&](int64_t k) { return shuffle_channel(k, l.out.c, l.groups); });
      if (l.relu)
        for (int32_t& v : x.data) v = std::max(v, 0);
      return x;
    case LayerKind::Clip:
      x.data = a.data;
      for (int32_t& v : x.data) v = std::min(std::max(v, ql.lo_q), ql.hi_q);
      return x;
    case LayerKind::Add: {
      const ActTensor& b = *ins[1];
      x.data.resize(a.data.size());
      for (size_t e = 0; e < a.data.size(); ++e)
        x.data[e] = vec_add(a.data[e], ql.f_ins[0], b.data[e], ql.f_ins[1], ql.f_out, l.relu, bits, &rs);
      break;
    }
    case LayerKind::Mul: {
      // The C x 1 x 1 operand (squeeze and excite) scales a whole channel.
      const bool swap = ins[0]->data.size() < ins[1]->data.size();
      const ActTensor& big = swap ? *ins[1] : *ins[0];
      const ActTensor& small = swap ? *ins[0] : *ins[1];
      const int fb = ql.f_ins[swap ? 1 : 0], fs = ql.f_ins[swap ? 0 : 1];
      const size_t per = big.data.size() / small.data.size();
      x.data.resize(big.data.size());
      for (size_t e = 0; e < big.data.size(); ++e)
        x.data[e] = vec_mul(big.data[e], fb, small.data[e / per], fs, ql.f_out, l.relu, bits, &rs);
      break;
    }
    case LayerKind::Concat:
      for (size_t k = 0; k < ins.size(); ++k)
        for (int32_t v : ins[k]->data) x.data.push_back(vec_rescale(v, ql.f_ins[k], ql.f_out, l.relu, bits, &rs));
      break;
    case LayerKind::Sigmoid:
    case LayerKind::HardSigmoid:
    case LayerKind::HardSwish: {
      const VecFunc fn = l.kind == LayerKind::Sigmoid       ? VecFunc::Sigmoid
                         : l.kind == LayerKind::HardSigmoid ? VecFunc::HardSigmoid
                                                            : VecFunc::HardSwish;
      x.data.resize(a.data.size());
      for (size_t e = 0; e < a.data.size(); ++e)
        x.data[e] = vec_function(fn, a.data[e], ql.f_ins[0], ql.f_out, l.alpha, l.beta, bits, &rs);
      if (l.relu)
        for (int32_t& v : x.data) v = std::max(v, 0);
      break;
    }
  }
  if (stats) stats->requant.merge(rs);
  return x;
}

}  // namespace brsim
