// A graph network on the accelerator (accel_program.h): one program step per
// array GEMM or vector-unit operation, every layer output in a DRAM region of
// its own (residual and concat operands travel through DRAM like any
// activation).
#include <algorithm>

#include "accel_program.h"
#include "errors.h"

namespace brsim {

namespace {

uint64_t align64(uint64_t v) { return (v + 63) & ~uint64_t{63}; }

void set_window(LayerDescriptor& d, const Window& w) {
  d.kh = static_cast<uint32_t>(w.kh), d.kw = static_cast<uint32_t>(w.kw);
  d.stride_h = static_cast<uint32_t>(w.stride_h), d.stride_w = static_cast<uint32_t>(w.stride_w);
  d.pad_t = static_cast<uint32_t>(w.pad_top), d.pad_l = static_cast<uint32_t>(w.pad_left);
  d.pad_b = static_cast<uint32_t>(w.pad_bottom), d.pad_r = static_cast<uint32_t>(w.pad_right);
}

void set_pool(LayerDescriptor& d, const Layer& p) {
  d.pool = p.kind == LayerKind::MaxPool ? PoolKind::Max : PoolKind::Avg;
  const Window& pw = p.window;
  d.pool_kh = static_cast<uint32_t>(pw.kh), d.pool_kw = static_cast<uint32_t>(pw.kw);
  d.pool_sh = static_cast<uint32_t>(pw.stride_h), d.pool_sw = static_cast<uint32_t>(pw.stride_w);
  d.pool_pt = static_cast<uint32_t>(pw.pad_top), d.pool_pl = static_cast<uint32_t>(pw.pad_left);
  d.pool_pb = static_cast<uint32_t>(pw.pad_bottom), d.pool_pr = static_cast<uint32_t>(pw.pad_right);
}

QLayer channel_slice(const QLayer& q, int64_t m0, int64_t mn) {
  QLayer s;
  s.iw = column_slice(q.iw, m0, mn);
  s.bias_q.assign(q.bias_q.begin() + m0, q.bias_q.begin() + m0 + mn);
  s.shift.assign(q.shift.begin() + m0, q.shift.begin() + m0 + mn);
  return s;
}

}  // namespace

AccelProgram compile_graph(const QuantizedNetwork& q, const ArchConfig& arch) {
  const Network& net = *q.net;
  const std::string where = net.source + ": ";
  const bool fixed = q.options.weights.policy.kind == PolicyKind::Fixed16;
  const size_t n = net.layers.size();
  AccelProgram prog;
  prog.arch = arch;
  prog.graph = true;
  // Readers of every layer's output (a pooling layer fuses into the Conv/FC
  // before it when it is that layer's only reader).
  std::vector<int> readers(n, 0);
  for (size_t i = 0; i < n; ++i)
    for (size_t k = 0; k < net.input_count(i); ++k) {
      const int p = net.input_of(i, k);
      if (p >= 0) ++readers[static_cast<size_t>(p)];
    }
  // DRAM regions: tensor t = layer t's output; the network input is region n.
  std::vector<uint64_t> bytes(n + 1, 0);
  std::vector<int> region(n + 1);  // the region a layer's output lives in (Flatten shares its input's)
  for (size_t i = 0; i <= n; ++i) region[i] = static_cast<int>(i);
  const uint64_t ab = static_cast<uint64_t>(act_bytes(arch));
  bytes[n] = static_cast<uint64_t>(net.input.numel()) * ab;
  auto region_of = [&](int layer) { return layer < 0 ? static_cast<int>(n) : region[static_cast<size_t>(layer)]; };
  std::vector<bool> fused(n, false);
  struct Pending {
    AccelLayer al;
    int in_region = 0, out_region = 0;
    uint64_t in_offset = 0, out_offset = 0;
    std::vector<int> operand_regions;
    std::vector<uint64_t> operand_offsets;  // bytes into the operand's region (a slice's first channel)
  };
  std::vector<Pending> steps;
  size_t row = 0;
  for (size_t i = 0; i < n; ++i) {
    const Layer& l = net.layers[i];
    if (fused[i]) continue;
    const QLayer& ql = q.layers[i];
    if (l.kind == LayerKind::Flatten && !l.relu) {
      region[i] = region_of(net.input_of(i));
      continue;
    }
    const int in_layer = net.input_of(i);
    if (l.has_weights()) {
      // A pooling layer that reads only this layer fuses into its output stage.
      size_t out_layer = i;
      if (l.groups == 1 && readers[i] == 1 && i + 1 < n && net.layers[i + 1].is_pool() &&
          net.input_of(i + 1) == static_cast<int>(i)) {
        const Layer& p = net.layers[i + 1];
        // Fused only where the output stage can stage the pooling rows
        // (a wide early layer's pooling goes to the vector unit instead).
        LayerDescriptor trial;
        trial.in_c = static_cast<uint32_t>(l.in.c), trial.in_h = static_cast<uint32_t>(l.in.h);
        trial.in_w = static_cast<uint32_t>(l.in.w), trial.out_m = static_cast<uint32_t>(l.out.c);
        trial.batch = static_cast<uint32_t>(arch.batch);
        set_window(trial, l.window);
        set_pool(trial, p);
        bool fits = true;
        try {
          validate(trial, arch);
          make_schedule(trial, arch);
        } catch (const ConfigError&) {
          fits = false;
        }
        if (fits && !(p.relu && !l.relu && p.kind != LayerKind::MaxPool)) {
          out_layer = i + 1;
          fused[i + 1] = true;
        }
      }
      const int64_t groups = l.groups, cg = l.in.c / groups, mg = l.out.c / groups;
      for (int64_t g = 0; g < groups; ++g) {
        Pending st;
        AccelLayer& al = st.al;
        al.name = l.name + (out_layer != i ? "+" + net.layers[out_layer].name : "");
        al.compute_index = i;
        al.output_index = out_layer;
        al.row = row;
        al.groups = static_cast<uint32_t>(groups);
        al.op = l.kind == LayerKind::Dense ? "fc" : "conv";
        LayerDescriptor& d = al.desc;
        d.fc = l.kind == LayerKind::Dense;
        if (d.fc) {
          d.in_c = static_cast<uint32_t>(l.in.numel());
        } else {
          d.in_c = static_cast<uint32_t>(cg), d.in_h = static_cast<uint32_t>(l.in.h), d.in_w = static_cast<uint32_t>(l.in.w);
          set_window(d, l.window);
        }
        d.out_m = static_cast<uint32_t>(mg);
        d.relu = l.relu;
        d.batch = static_cast<uint32_t>(arch.batch);
        if (out_layer != i) {
          const Layer& p = net.layers[out_layer];
          set_pool(d, p);
          d.relu = d.relu || p.relu;  // max(relu(x)) == relu(max(x))
        }
        const QLayer part = groups > 1 ? channel_slice(ql, g * mg, mg) : QLayer{};
        const QLayer& qs = groups > 1 ? part : ql;
        if (!fixed) {
          d.per_channel = qs.iw.configs.size() > 1;
          d.n2 = qs.iw.configs[0].n2;
          d.p = qs.iw.configs[0].p;
          al.sqrt2_terms = q.options.weights.datapath.sqrt2_terms;
        }
        validate(d, arch);
        make_schedule(d, arch);
        al.weights = pack_weights(qs.iw, arch);
        al.params = pack_params(qs, arch);
        al.sliced = groups > 1;
        al.out_c0 = static_cast<uint32_t>(g * mg);
        st.in_region = region_of(in_layer);
        st.out_region = static_cast<int>(out_layer);
        st.in_offset = static_cast<uint64_t>(g * cg * l.in.h * l.in.w) * ab;
        st.out_offset = uint64_t{static_cast<uint64_t>(g * mg)} * d.final_h() * d.final_w() * ab;
        steps.push_back(std::move(st));
      }
      bytes[out_layer] = static_cast<uint64_t>(net.layers[out_layer].out.numel()) * ab;
      ++row;
      continue;
    }
    // The vector unit.
    Pending st;
    AccelLayer& al = st.al;
    al.vector = true;
    al.name = l.name;
    al.compute_index = al.output_index = i;
    al.row = row++;
    al.op = to_string(l.kind);
    VectorDescriptor& v = al.vec;
    v.c = static_cast<uint32_t>(l.out.c), v.h = static_cast<uint32_t>(l.out.h), v.w = static_cast<uint32_t>(l.out.w);
    v.f_out = ql.f_out;
    v.relu = l.relu;
    for (size_t k = 0; k < std::max<size_t>(1, l.inputs.size()); ++k) {
      const int p = net.input_of(i, k);
      const TensorShape s = p < 0 ? net.input : net.layers[static_cast<size_t>(p)].out;
      VectorDescriptor::Operand o;
      o.c = static_cast<uint32_t>(s.c), o.h = static_cast<uint32_t>(s.h), o.w = static_cast<uint32_t>(s.w);
      o.f = ql.f_ins.empty() ? ql.f_in : ql.f_ins[k];
      v.in.push_back(o);
      st.operand_regions.push_back(region_of(p));
      st.operand_offsets.push_back(0);
    }
    switch (l.kind) {
      case LayerKind::Add: v.op = VecOp::Add; break;
      case LayerKind::Mul:
        v.op = VecOp::Mul;
        if (v.in[0].h * v.in[0].w < v.in[1].h * v.in[1].w) {  // the full tensor first
          std::swap(v.in[0], v.in[1]);
          std::swap(st.operand_regions[0], st.operand_regions[1]);
        }
        break;
      case LayerKind::Concat: v.op = VecOp::Concat; break;
      case LayerKind::Relu:
      case LayerKind::Flatten: v.op = VecOp::Relu; break;
      case LayerKind::Clip:
        v.op = VecOp::Clip;
        v.lo_q = ql.lo_q, v.hi_q = ql.hi_q;
        break;
      case LayerKind::Slice: {
        // The operand is the span of channels the slice reads, from its first.
        v.op = VecOp::Slice;
        v.ch_step = static_cast<uint32_t>(l.ch_step);
        v.in[0].c = static_cast<uint32_t>((l.out.c - 1) * l.ch_step + 1);
        st.operand_offsets[0] = static_cast<uint64_t>(l.ch_start * l.out.h * l.out.w) * ab;
        break;
      }
      case LayerKind::Shuffle: v.op = VecOp::Shuffle, v.groups = static_cast<uint32_t>(l.groups); break;
      case LayerKind::Sigmoid: v.op = VecOp::Function, v.fn = VecFunc::Sigmoid; break;
      case LayerKind::HardSigmoid:
        v.op = VecOp::Function, v.fn = VecFunc::HardSigmoid, v.alpha = l.alpha, v.beta = l.beta;
        break;
      case LayerKind::HardSwish: v.op = VecOp::Function, v.fn = VecFunc::HardSwish; break;
      case LayerKind::MaxPool:
      case LayerKind::AvgPool:
      case LayerKind::GlobalAvgPool: {
        v.op = VecOp::Pool;
        // The pooling window over a 1 x 1 "layer" of the input's shape (output_stage.h).
        LayerDescriptor& d = v.pool;
        d.in_c = v.in[0].c, d.in_h = v.in[0].h, d.in_w = v.in[0].w;
        d.out_m = v.in[0].c;
        d.kh = d.kw = 1, d.pad_t = d.pad_l = d.pad_b = d.pad_r = 0;
        set_pool(d, l);
        if (l.kind == LayerKind::GlobalAvgPool) {
          d.pool = PoolKind::Avg;
          d.pool_kh = d.in_h, d.pool_kw = d.in_w, d.pool_sh = d.in_h, d.pool_sw = d.in_w;
          d.pool_pt = d.pool_pl = d.pool_pb = d.pool_pr = 0;
        }
        if (d.pooled_h() != v.h || d.pooled_w() != v.w)
          throw ConfigError(where + "layer '" + l.name + "': the pooling unit's output shape differs from the network's");
        break;
      }
      default: throw ConfigError(where + "layer '" + l.name + "': no mapping for " + to_string(l.kind));
    }
    st.out_region = static_cast<int>(i);
    bytes[i] = v.out_elements() * ab;
    steps.push_back(std::move(st));
  }
  if (steps.empty()) throw ConfigError(where + "no layer to run");
  // DRAM: weights and parameter tables, then the activation regions.
  uint64_t addr = 0;
  for (Pending& st : steps) {
    if (st.al.vector) continue;
    st.al.desc.w_addr = addr;
    addr = align64(addr + st.al.weights.size());
    st.al.desc.param_addr = addr;
    addr = align64(addr + st.al.params.size());
  }
  // A region holds a batch's images of its tensor, one after the other (bytes[] apart).
  const uint64_t images = static_cast<uint64_t>(arch.batch);
  std::vector<uint64_t> base(n + 1, 0);
  base[n] = addr;
  addr = align64(addr + bytes[n] * images);
  prog.act_addr[0] = prog.act_addr[1] = base[n];
  for (size_t i = 0; i < n; ++i) {
    if (region[i] != static_cast<int>(i) || bytes[i] == 0) continue;
    base[i] = addr;
    addr = align64(addr + bytes[i] * images);
  }
  std::vector<LayerDescriptor> descs;  // then the partial-sum scratch area, where a layer spills
  for (const Pending& st : steps)
    if (!st.al.vector) descs.push_back(st.al.desc);
  const uint64_t psum_addr = addr;
  prog.dram_bytes_used = addr + psum_scratch_bytes(descs, arch);
  check_dram_fits(prog.dram_bytes_used, arch, where);
  for (Pending& st : steps) {
    if (st.al.vector) {
      for (size_t k = 0; k < st.operand_regions.size(); ++k) {
        st.al.vec.in[k].addr = base[static_cast<size_t>(st.operand_regions[k])] + st.operand_offsets[k];
        st.al.image_strides.push_back(bytes[static_cast<size_t>(st.operand_regions[k])]);
      }
      st.al.vec.out_addr = base[static_cast<size_t>(st.out_region)];
      st.al.image_strides.push_back(bytes[static_cast<size_t>(st.out_region)]);
    } else {
      // A group reads and writes a channel slice of each image's tensor.
      st.al.desc.in_addr = base[static_cast<size_t>(st.in_region)] + st.in_offset;
      st.al.desc.out_addr = base[static_cast<size_t>(st.out_region)] + st.out_offset;
      st.al.desc.psum_addr = psum_addr;
      st.al.desc.in_image_stride = static_cast<uint32_t>(bytes[static_cast<size_t>(st.in_region)]);
      st.al.desc.out_image_stride = static_cast<uint32_t>(bytes[static_cast<size_t>(st.out_region)]);
    }
    prog.layers.push_back(std::move(st.al));
  }
  const int last = region_of(static_cast<int>(n) - 1);
  prog.final_addr = base[static_cast<size_t>(last)];
  prog.final_stride = bytes[static_cast<size_t>(last)];
  prog.final_values = static_cast<uint64_t>(net.layers.back().out.numel());
  prog.rows = row;
  return prog;
}

}  // namespace brsim
