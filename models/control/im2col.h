// The input buffer's address generator (im2col): which input value feeds
// each row of the array for each output pixel of a band. Conv and FC layers
// run as a GEMM O[P x M] = A[P x K] W[K x M] with K = C kh kw; row k =
// (c kh + ky) kw + kx of pixel (oy, ox) reads input (c, oy s + ky - pad,
// ox s + kx - pad), zero where that lies in the padding.
#pragma once

#include <cstdint>
#include <vector>

#include "layer_schedule.h"

namespace brsim {

// A tile of the input buffer: input channels [c0, c1), rows [y0, y1),
// columns [x0, x1) (stored channel, row, column), read by the output
// pixels of rows [oy0, oy1) and columns [ox0, ox1).
struct TileBox {
  uint32_t c0 = 0, c1 = 0, y0 = 0, y1 = 0, x0 = 0, x1 = 0;
  uint32_t oy0 = 0, oy1 = 0, ox0 = 0, ox1 = 0;
};
// A[p][k] for the tile's output pixels (row-major, K values each; rows k
// of channels outside [c0, c1) are zero) from its input values.
void build_im2col(const LayerDescriptor& d, const std::vector<int32_t>& in, const TileBox& box,
                  std::vector<int32_t>* im2col);

}  // namespace brsim
