// Maps a quantized network onto the accelerator: one accelerator layer per
// Conv/FC (with the following pooling fused into its output stage), the
// weights bit-packed tile by tile and the per-channel parameter tables as the
// controller reads them, and the DRAM layout of a run.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "arch.h"
#include "layer_plan.h"
#include "qnet.h"

namespace brsim {

struct AccelLayer {
  std::string name;          // the Conv/FC layer's name (+ "+pool" when fused)
  size_t compute_index = 0;  // the network layer computed
  size_t output_index = 0;   // the network layer whose output this produces
  LayerDescriptor desc;
  int sqrt2_terms = 4;
  std::vector<uint8_t> weights;  // at desc.w_addr
  std::vector<uint8_t> params;   // at desc.param_addr
};

struct AccelProgram {
  ArchConfig arch;
  std::vector<AccelLayer> layers;
  uint64_t act_addr[2] = {0, 0};  // ping-pong activation regions; the input goes to act_addr[0]
  uint64_t act_region_bytes = 0;
  uint64_t dram_bytes_used = 0;
  uint64_t input_addr() const { return act_addr[0]; }
  uint64_t output_addr() const { return layers.back().desc.out_addr; }
};

// ConfigError (naming the layer) when the network or its quantization does
// not fit the architecture: PE type vs policy, weight width, K = exact,
// pooling that does not follow a Conv/FC, DRAM too small, buffers too small.
AccelProgram compile_network(const QuantizedNetwork& q, const ArchConfig& arch);

// A layer's weights and parameter table as the accelerator reads them
// (dram_layout.h, which also converts activation tensors).
std::vector<uint8_t> pack_weights(const IntWeights& w, const ArchConfig& arch);
std::vector<uint8_t> pack_params(const QLayer& q, const ArchConfig& arch);

}  // namespace brsim
