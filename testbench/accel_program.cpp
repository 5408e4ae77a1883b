#include "accel_program.h"

#include <algorithm>
#include <cstring>

#include "errors.h"
#include "host_threads.h"

namespace brsim {

namespace {

uint64_t align64(uint64_t v) { return (v + 63) & ~uint64_t{63}; }

}  // namespace

uint64_t chain_dram_bytes(const std::vector<LayerDescriptor>& layers, uint64_t input_values, const ArchConfig& arch) {
  uint64_t addr = 0, largest = input_values;
  for (const LayerDescriptor& d : layers) {
    addr = align64(addr + weight_bytes(d, arch));
    addr = align64(addr + uint64_t{d.out_m} * kParamBytes);
    largest = std::max(largest, d.out_image_values());
  }
  return addr + 2 * align64(largest * static_cast<uint64_t>(act_bytes(arch)) * static_cast<uint64_t>(arch.batch)) +
         psum_scratch_bytes(layers, arch);
}

uint64_t psum_scratch_bytes(const std::vector<LayerDescriptor>& layers, const ArchConfig& arch) {
  uint64_t most = 0;
  for (const LayerDescriptor& d : layers) most = std::max(most, spill_scratch_bytes(d, arch));
  return align64(most);
}

void check_dram_fits(uint64_t bytes, const ArchConfig& arch, const std::string& where) {
  if (bytes > arch.dram.size_bytes || bytes > 0xFFFFFFFFull)
    throw ConfigError(where + "needs " + std::to_string(bytes) + " bytes of DRAM" +
                      (arch.batch > 1 ? " (with the activations of a batch of " + std::to_string(arch.batch) + " images)"
                                      : "") +
                      "; dram.size_bytes is " + std::to_string(arch.dram.size_bytes) + " (addresses are 32-bit)");
}

// The m-tiles' byte ranges are known up front: they are packed in parallel
// (host_threads()), each by the layout's packer.
std::vector<uint8_t> pack_weights(const IntWeights& w, const ArchConfig& a) {
  const uint64_t C = static_cast<uint64_t>(a.cols), K = static_cast<uint64_t>(w.k), M = static_cast<uint64_t>(w.m);
  const uint8_t* codes = w.fixed16 ? nullptr : w.codes.data();
  const int16_t* fixed = w.fixed16 ? w.fixed.data() : nullptr;
  std::vector<uint64_t> start;  // first byte of each m-tile
  uint64_t total = 0;
  for (uint64_t m0 = 0; m0 < M; m0 += C) {
    start.push_back(total);
    total += m_tile_weight_bytes(K, std::min(C, M - m0), a);
  }
  std::vector<uint8_t> out(total, 0);
  parallel_for(start.size(), [&](size_t t) { pack_m_tile(codes, fixed, K, M, t, a, &out[start[t]]); });
  return out;
}

std::vector<uint8_t> pack_params(const QLayer& q, const ArchConfig&) {
  const size_t m = q.bias_q.size();
  std::vector<uint8_t> out(m * kParamBytes, 0);
  for (size_t c = 0; c < m; ++c) {
    ChannelParams p;
    p.bias = q.bias_q[c];
    p.shift = q.shift[c];
    if (!q.iw.fixed16) {
      const SegmentConfig& cfg = q.iw.config_of_column(static_cast<int64_t>(c));
      p.n2 = static_cast<uint8_t>(cfg.n2);
      p.p = static_cast<uint8_t>(cfg.p);
    }
    store_params(&out[c * kParamBytes], p);
  }
  return out;
}

AccelProgram compile_network(const QuantizedNetwork& q, const ArchConfig& arch) {
  validate(arch);
  const Network& net = *q.net;
  const QuantOptions& wo = q.options.weights;
  const bool fixed = wo.policy.kind == PolicyKind::Fixed16;
  const std::string where = net.source + ": ";
  if (q.options.exact_sqrt2) throw ConfigError(where + "K = exact is a float reference; the hardware needs K in 1..7");
  if (fixed != (arch.pe == PeType::Fixed16))
    throw ConfigError(where + "policy " + wo.policy.name() + " does not run on the " + to_string(arch.pe) +
                      " PE array (use --pe " + (fixed ? "fixed16" : "brslog") + ")");
  if (!fixed && wo.bits != arch.weight_bits)
    throw ConfigError(where + "weights are " + std::to_string(wo.bits) + "-bit codes, the array decodes " +
                      std::to_string(arch.weight_bits) + "-bit codes");
  if (q.formats.act_bits != arch.datapath.act_bits)
    throw ConfigError(where + "activations are " + std::to_string(q.formats.act_bits) + "-bit, the array's are " +
                      std::to_string(arch.datapath.act_bits) + "-bit");
  if (!net.is_chain()) return compile_graph(q, arch);
  AccelProgram prog;
  prog.arch = arch;
  for (size_t i = 0; i < net.layers.size(); ++i) {
    const Layer& l = net.layers[i];
    if (l.kind == LayerKind::Flatten) continue;
    if (!l.has_weights())
      throw ConfigError(where + "layer '" + l.name + "' (" + to_string(l.kind) +
                        "): pooling is fused into the output stage of the Conv/FC layer it follows; it cannot stand alone");
    AccelLayer al;
    al.name = l.name;
    al.compute_index = al.output_index = i;
    LayerDescriptor& d = al.desc;
    d.fc = l.kind == LayerKind::Dense;
    if (d.fc) {
      d.in_c = static_cast<uint32_t>(l.in.numel());
    } else {
      d.in_c = static_cast<uint32_t>(l.in.c), d.in_h = static_cast<uint32_t>(l.in.h), d.in_w = static_cast<uint32_t>(l.in.w);
      const Window& w = l.window;
      d.kh = static_cast<uint32_t>(w.kh), d.kw = static_cast<uint32_t>(w.kw);
      d.stride_h = static_cast<uint32_t>(w.stride_h), d.stride_w = static_cast<uint32_t>(w.stride_w);
      d.pad_t = static_cast<uint32_t>(w.pad_top), d.pad_l = static_cast<uint32_t>(w.pad_left);
      d.pad_b = static_cast<uint32_t>(w.pad_bottom), d.pad_r = static_cast<uint32_t>(w.pad_right);
    }
    d.out_m = static_cast<uint32_t>(l.out.c);
    d.relu = l.relu;
    d.batch = static_cast<uint32_t>(arch.batch);
    const QLayer& ql = q.layers[i];
    if (!fixed) {
      d.per_channel = ql.qw.configs.size() > 1;
      d.n2 = ql.qw.configs[0].n2;
      d.p = ql.qw.configs[0].p;
      al.sqrt2_terms = wo.datapath.sqrt2_terms;
    }
    // Fuse a pooling layer that directly follows.
    if (i + 1 < net.layers.size()) {
      const Layer& n = net.layers[i + 1];
      if (n.kind == LayerKind::MaxPool || n.kind == LayerKind::AvgPool || n.kind == LayerKind::GlobalAvgPool) {
        d.pool = n.kind == LayerKind::MaxPool ? PoolKind::Max : PoolKind::Avg;
        const Window& pw = n.window;
        d.pool_kh = static_cast<uint32_t>(pw.kh), d.pool_kw = static_cast<uint32_t>(pw.kw);
        d.pool_sh = static_cast<uint32_t>(pw.stride_h), d.pool_sw = static_cast<uint32_t>(pw.stride_w);
        d.pool_pt = static_cast<uint32_t>(pw.pad_top), d.pool_pl = static_cast<uint32_t>(pw.pad_left);
        d.pool_pb = static_cast<uint32_t>(pw.pad_bottom), d.pool_pr = static_cast<uint32_t>(pw.pad_right);
        if (n.relu && !d.relu) {
          if (d.pool != PoolKind::Max)
            throw ConfigError(where + "layer '" + n.name + "': a ReLU after average pooling is not supported");
          d.relu = true;  // max(relu(x)) == relu(max(x))
        }
        al.name += "+" + n.name;
        al.output_index = ++i;
      }
    }
    validate(d, arch);
    make_schedule(d, arch);  // buffer capacity errors name the buffer
    al.weights = pack_weights(ql.iw, arch);
    al.params = pack_params(ql, arch);
    prog.layers.push_back(std::move(al));
  }
  if (prog.layers.empty()) throw ConfigError(where + "no Conv or FC layer to run");
  // DRAM layout: weights and parameters, then two activation regions.
  const uint64_t ab = static_cast<uint64_t>(act_bytes(arch));
  uint64_t addr = 0, largest = static_cast<uint64_t>(net.input.numel());
  for (AccelLayer& l : prog.layers) {
    l.desc.w_addr = addr;
    addr = align64(addr + l.weights.size());
    l.desc.param_addr = addr;
    addr = align64(addr + l.params.size());
    largest = std::max<uint64_t>(largest, uint64_t{l.desc.out_m} * l.desc.final_h() * l.desc.final_w());
  }
  prog.act_region_bytes = align64(largest * ab * static_cast<uint64_t>(arch.batch));  // a batch's images
  prog.act_addr[0] = addr;
  prog.act_addr[1] = addr + prog.act_region_bytes;
  std::vector<LayerDescriptor> descs;  // (then the partial-sum scratch area, where a layer spills)
  for (const AccelLayer& l : prog.layers) descs.push_back(l.desc);
  const uint64_t psum_addr = prog.act_addr[1] + prog.act_region_bytes;
  prog.dram_bytes_used = psum_addr + psum_scratch_bytes(descs, arch);
  check_dram_fits(prog.dram_bytes_used, arch, where);
  for (size_t i = 0; i < prog.layers.size(); ++i) {
    prog.layers[i].desc.in_addr = prog.act_addr[i % 2];
    prog.layers[i].desc.out_addr = prog.act_addr[(i + 1) % 2];
    prog.layers[i].desc.psum_addr = psum_addr;
    prog.layers[i].row = i;
    prog.layers[i].op = prog.layers[i].desc.fc ? "fc" : "conv";
  }
  prog.rows = prog.layers.size();
  return prog;
}

}  // namespace brsim
