#include "vector_unit.h"

#include <algorithm>

#include "dram_layout.h"
#include "errors.h"
#include "output_stage.h"

namespace brsim {

VectorCost vector_cost(const VectorDescriptor& d, const ArchConfig& a) {
  VectorCost c;
  const uint64_t lanes = static_cast<uint64_t>(a.cols), ab = static_cast<uint64_t>(act_bytes(a));
  const uint64_t n = d.out_elements();
  for (const VectorDescriptor::Operand& o : d.in) {
    const uint64_t words = uint64_t{o.c} * o.h * o.w;
    c.input_words += words;
    c.dram_bytes_read += words * ab;
    c.dram_cycles += dram_cycles(words * ab, a.dram);
  }
  c.output_words = n;
  c.dram_bytes_written = n * ab;
  c.dram_cycles += dram_cycles(n * ab, a.dram);
  // Work: one element per lane and cycle; pooling one window element.
  uint64_t work = n;
  if (d.op == VecOp::Pool) work = n * d.pool.pool_kh * d.pool.pool_kw;
  else if (d.op == VecOp::Add || d.op == VecOp::Mul) work = n;
  c.element_ops = d.op == VecOp::Slice || d.op == VecOp::Shuffle ? 0 : work;
  c.lane_cycles = (work + lanes - 1) / lanes;
  return c;
}

std::vector<int32_t> vector_compute(const VectorDescriptor& d, const std::vector<std::vector<int32_t>>& in,
                                    int bits, RequantStats* st) {
  const uint64_t n = d.out_elements();
  std::vector<int32_t> out(n);
  if (in.size() != d.in.size()) throw ConfigError("vector unit: operand count does not match its descriptor");
  switch (d.op) {
    case VecOp::Add:
      for (uint64_t i = 0; i < n; ++i) out[i] = vec_add(in[0][i], d.in[0].f, in[1][i], d.in[1].f, d.f_out, d.relu, bits, st);
      break;
    case VecOp::Mul: {
      const uint64_t per = n / in[1].size();  // 1, or H x W for a C x 1 x 1 scale
      for (uint64_t i = 0; i < n; ++i)
        out[i] = vec_mul(in[0][i], d.in[0].f, in[1][i / per], d.in[1].f, d.f_out, d.relu, bits, st);
      break;
    }
    case VecOp::Concat: {
      uint64_t at = 0;
      for (size_t k = 0; k < in.size(); ++k)
        for (int32_t v : in[k]) out[at++] = vec_rescale(v, d.in[k].f, d.f_out, d.relu, bits, st);
      break;
    }
    case VecOp::Relu:
      for (uint64_t i = 0; i < n; ++i) out[i] = std::max(in[0][i], 0);
      break;
    case VecOp::Clip:
      for (uint64_t i = 0; i < n; ++i) out[i] = std::min(std::max(in[0][i], d.lo_q), d.hi_q);
      break;
    case VecOp::Function:
      for (uint64_t i = 0; i < n; ++i) out[i] = vec_function(d.fn, in[0][i], d.in[0].f, d.f_out, d.alpha, d.beta, bits, st);
      break;
    case VecOp::Slice:
    case VecOp::Shuffle: {
      const VectorDescriptor::Operand& o = d.in[0];
      const int64_t plane = int64_t{d.h} * d.w, c = o.c;
      if (d.op == VecOp::Slice) {
        const int64_t step = d.ch_step;
        if (o.h != d.h || o.w != d.w || (int64_t{d.c} - 1) * step >= c)
          throw ConfigError("vector unit: a slice reads past its operand");
        gather_channels(in[0].data(), out.data(), d.c, plane, [&](int64_t k) { return slice_channel(k, 0, step); });
      } else {
        if (o.c != d.c || d.groups < 1 || d.c % d.groups != 0)
          throw ConfigError("vector unit: a shuffle's groups must divide its channels");
        const int64_t g = d.groups;
        gather_channels(in[0].data(), out.data(), d.c, plane, [&](int64_t k) { return shuffle_channel(k, c, g); });
      }
      if (d.relu)
        for (int32_t& v : out) v = std::max(v, 0);
      break;
    }
    case VecOp::Pool:
      pool_tile(d.pool, in[0].data(), d.c, out.data());
      if (d.relu)
        for (int32_t& v : out) v = std::max(v, 0);
      break;
  }
  return out;
}

}  // namespace brsim
