// Checks before the heavy work (docs/tiling.md "Refusals"): everything that
// the model's shapes and the architecture decide, without weights,
// calibration or quantization, so that a doomed run fails in well under a
// second: each accelerator layer's (and its fused pooling's) descriptor is
// valid and its smallest tile fits the buffers (make_schedule), and the
// program's DRAM layout fits the DRAM (chain_dram_bytes; graph networks'
// regions are checked when compiled). Errors are ConfigErrors that name the
// network and the layer.
#pragma once

#include <string>
#include <vector>

#include "arch.h"
#include "network.h"
#include "synthetic_layer.h"

namespace brsim {

// An imported network (brsim run): its Conv/Gemm layers as compile_network
// maps them (chains fuse a following pooling layer; graphs fuse it only
// where it fits, so only the layer itself must fit).
void check_network_fits(const Network& net, const ArchConfig& arch);

// Synthetic layers (brsim layer: shape options, a topology, a built-in network).
void check_layer_specs_fit(const std::vector<LayerSpec>& specs, const ArchConfig& arch);

}  // namespace brsim
