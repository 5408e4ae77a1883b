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

// A[p][k] for the output rows [oy0, oy1) (P_b = (oy1 - oy0) x out_w pixels,
// pixel-major, K values each) from the band's input rows [y0, y0 + rows) of
// every channel (C x rows x in_w values).
void build_im2col(const LayerDescriptor& d, const std::vector<int32_t>& band, uint32_t y0, uint64_t rows, uint32_t oy0,
                  uint32_t oy1, std::vector<int32_t>* im2col);

}  // namespace brsim
