#include "accel_check.h"

#include "accel_program.h"
#include "errors.h"
#include "layer_schedule.h"

namespace brsim {

namespace {

void set_window(LayerDescriptor& d, const Window& w) {
  d.kh = static_cast<uint32_t>(w.kh), d.kw = static_cast<uint32_t>(w.kw);
  d.stride_h = static_cast<uint32_t>(w.stride_h), d.stride_w = static_cast<uint32_t>(w.stride_w);
  d.pad_t = static_cast<uint32_t>(w.pad_top), d.pad_l = static_cast<uint32_t>(w.pad_left);
  d.pad_b = static_cast<uint32_t>(w.pad_bottom), d.pad_r = static_cast<uint32_t>(w.pad_right);
}

// The schedule of d, or the ConfigError naming `where` and `name`. The
// segment configuration is not known before quantization: the check takes
// a realizable one (the descriptor's shapes and buffers are what it checks).
// One image: a batch runs wherever one image does (in passes of fewer
// images where its tiles do not fit, layer_schedule.h), and planning the
// passes of a large batch is the slow part of make_schedule.
void check(LayerDescriptor d, const ArchConfig& arch, const std::string& where, const std::string& name) {
  d.per_channel = true;
  try {
    make_schedule(d, arch);
  } catch (const ConfigError& e) {
    throw ConfigError(where + "layer '" + name + "': " + e.what());
  }
}

}  // namespace

void check_network_fits(const Network& net, const ArchConfig& arch) {
  validate(arch);
  const std::string where = net.source.empty() ? "" : net.source + ": ";
  const bool chain = net.is_chain();
  std::vector<LayerDescriptor> program;  // a chain's accelerator layers, pooling fused
  for (size_t i = 0; i < net.layers.size(); ++i) {
    const Layer& l = net.layers[i];
    if (!l.has_weights()) continue;
    const int64_t groups = std::max<int64_t>(1, l.groups);
    LayerDescriptor d;
    d.fc = l.kind == LayerKind::Dense;
    if (d.fc) {
      d.in_c = static_cast<uint32_t>(l.in.numel());
    } else {
      d.in_c = static_cast<uint32_t>(l.in.c / groups), d.in_h = static_cast<uint32_t>(l.in.h);
      d.in_w = static_cast<uint32_t>(l.in.w);
      set_window(d, l.window);
    }
    d.out_m = static_cast<uint32_t>(l.out.c / groups);
    check(d, arch, where, l.name);
    // A chain fuses the pooling layer that follows into this layer's output stage.
    if (chain && i + 1 < net.layers.size() && net.layers[i + 1].is_pool()) {
      const Layer& p = net.layers[i + 1];
      d.pool = p.kind == LayerKind::MaxPool ? PoolKind::Max : PoolKind::Avg;
      d.pool_kh = static_cast<uint32_t>(p.window.kh), d.pool_kw = static_cast<uint32_t>(p.window.kw);
      d.pool_sh = static_cast<uint32_t>(p.window.stride_h), d.pool_sw = static_cast<uint32_t>(p.window.stride_w);
      d.pool_pt = static_cast<uint32_t>(p.window.pad_top), d.pool_pl = static_cast<uint32_t>(p.window.pad_left);
      d.pool_pb = static_cast<uint32_t>(p.window.pad_bottom), d.pool_pr = static_cast<uint32_t>(p.window.pad_right);
      check(d, arch, where, l.name + "+" + p.name);
    }
    program.push_back(d);
  }
  // Graph networks: their DRAM regions are laid out (and checked) by compile_graph.
  if (chain) check_dram_fits(chain_dram_bytes(program, static_cast<uint64_t>(net.input.numel()), arch), arch, where);
}

void check_layer_specs_fit(const std::vector<LayerSpec>& specs, const ArchConfig& arch) {
  validate(arch);
  for (const LayerSpec& s : specs) {
    LayerDescriptor d;
    d.fc = s.fc;
    if (s.fc) {
      d.in_c = static_cast<uint32_t>(s.in_c * s.in_h * s.in_w);
    } else {
      d.in_c = static_cast<uint32_t>(s.in_c / s.groups), d.in_h = static_cast<uint32_t>(s.in_h);
      d.in_w = static_cast<uint32_t>(s.in_w);
      d.kh = static_cast<uint32_t>(s.kh), d.kw = static_cast<uint32_t>(s.kw);
      d.stride_h = d.stride_w = static_cast<uint32_t>(s.stride);
      d.pad_t = d.pad_l = d.pad_b = d.pad_r = static_cast<uint32_t>(s.pad);
    }
    d.out_m = static_cast<uint32_t>(s.out_m / s.groups);
    check(d, arch, "", s.name);
    // Each layer runs as a program of its own (grouped layers as graphs, checked when compiled).
    if (s.groups == 1)
      check_dram_fits(chain_dram_bytes({d}, static_cast<uint64_t>(s.in_c * s.in_h * s.in_w), arch), arch,
                      "layer '" + s.name + "': ");
  }
}

}  // namespace brsim
