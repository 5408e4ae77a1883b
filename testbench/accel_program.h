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
#include "vector_unit.h"

namespace brsim {

struct AccelLayer {
  std::string name;          // the Conv/FC layer's name (+ "+pool" when fused)
  size_t compute_index = 0;  // the network layer computed
  size_t output_index = 0;   // the network layer whose output this produces
  LayerDescriptor desc;
  int sqrt2_terms = 4;
  std::vector<uint8_t> weights;  // at desc.w_addr
  std::vector<uint8_t> params;   // at desc.param_addr
  // Graph networks. A step of the vector unit (vec) instead of the array; a
  // grouped conv runs one array step per group, each writing channels
  // [out_c0, out_c0 + desc.out_m) of the layer's output; the steps of one
  // layer share a report row.
  bool vector = false;
  VectorDescriptor vec;
  std::string op;           // report kind: "conv", "fc", or the vector op ("add", "concat", ...)
  size_t row = 0;
  uint32_t groups = 1;
  uint32_t out_c0 = 0;
  bool sliced = false;      // writes a channel slice (a group) of the output
  // A vector step of a batch: the DRAM bytes from one image's operand (each
  // of vec.in, then vec.out) to the next.
  std::vector<uint64_t> image_strides;
};

struct AccelProgram {
  ArchConfig arch;
  std::vector<AccelLayer> layers;
  uint64_t act_addr[2] = {0, 0};  // ping-pong activation regions; the input goes to act_addr[0]
  uint64_t act_region_bytes = 0;
  uint64_t dram_bytes_used = 0;
  uint64_t input_addr() const { return act_addr[0]; }
  uint64_t output_addr() const { return layers.back().desc.out_addr; }
  // Graph networks: every layer's output has a DRAM region of its own; the
  // network output is read from final_addr (final_values values).
  bool graph = false;
  uint64_t final_addr = 0, final_values = 0, final_stride = 0;  // final_stride: bytes from one image's output to the next
  size_t rows = 0;  // report rows
};

// ConfigError (naming the layer) when the network or its quantization does
// not fit the architecture: PE type vs policy, weight width, K = exact,
// pooling that does not follow a Conv/FC, DRAM too small, buffers too small.
AccelProgram compile_network(const QuantizedNetwork& q, const ArchConfig& arch);

// The DRAM a chain program occupies (compile_network's layout): each
// layer's weights and parameter table, 64-byte aligned, then two activation
// regions that hold a batch of the largest tensor (the input of `input_values`
// values per image, or a layer's output). From the shapes alone, so that it
// can be checked before the weights exist (accel_check.h); then the
// partial-sum scratch area (psum_scratch_bytes).
uint64_t chain_dram_bytes(const std::vector<LayerDescriptor>& layers, uint64_t input_values, const ArchConfig& arch);
// The DRAM scratch area the layers' spilling schedules share (the largest
// spill_scratch_bytes, 64-byte aligned; 0 when no layer spills), placed
// after the activations (PSUM_ADDR).
uint64_t psum_scratch_bytes(const std::vector<LayerDescriptor>& layers, const ArchConfig& arch);
// ConfigError "WHERE needs N bytes of DRAM ...; dram.size_bytes is S" when a
// program of `bytes` does not fit the DRAM or 32-bit addresses.
void check_dram_fits(uint64_t bytes, const ArchConfig& arch, const std::string& where);
// The same for a graph network (accel_program_graph.cpp): Conv/FC on the
// array (a fused pooling that follows), a grouped conv as one GEMM per
// group, every other layer on the vector unit; operands through DRAM.
AccelProgram compile_graph(const QuantizedNetwork& q, const ArchConfig& arch);

// A layer's weights and parameter table as the accelerator reads them
// (dram_layout.h, which also converts activation tensors).
std::vector<uint8_t> pack_weights(const IntWeights& w, const ArchConfig& arch);
std::vector<uint8_t> pack_params(const QLayer& q, const ArchConfig& arch);

}  // namespace brsim
