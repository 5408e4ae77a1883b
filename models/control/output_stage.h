// The output stage (BRSLOG.md section 7; ARCHITECTURE.md "data flow"): C
// lanes beside the output buffer. Each output pixel of a band takes a cycle:
// its C' partial sums are requantized (bias, rounding shift), passed through
// ReLU where fused, and saturated to A bits. With pooling fused, an m-tile's
// requantized outputs are staged and pooled one window element per cycle
// (cycles: layer_plan.h). Pooling semantics: pooling.h.
#pragma once

#include <cstdint>
#include <vector>

#include "dram_layout.h"
#include "layer_schedule.h"
#include "requant.h"

namespace brsim {

struct OutputStage {
  // The m-tile's channels, from its parameter table.
  std::vector<int64_t> bias;
  std::vector<int> shift;
  bool relu = false;
  int act_bits = 16;
  uint64_t cols() const { return bias.size(); }

  void set_params(const std::vector<ChannelParams>& p);
  // A band's pixels: partial sums psums[px * cols + c] -> out[c * channel_stride + px].
  void requantize(const int64_t* psums, uint64_t pixels, int32_t* out, uint64_t channel_stride, RequantStats* st) const;
};

// Pools an m-tile's staged outputs (cols channels of out_h x out_w, channel
// after channel) into pooled rows [py0, py1) of cols channels (cols x
// (py1 - py0) x pooled_w; the staged conv rows those rows read must be there).
void pool_tile(const LayerDescriptor& d, const int32_t* staged, uint64_t cols, int32_t* out, uint32_t py0 = 0,
               uint32_t py1 = ~0u);

}  // namespace brsim
