#include "im2col.h"

#include <algorithm>
#include <cstring>

namespace brsim {

void build_im2col(const LayerDescriptor& d, const std::vector<int32_t>& band, uint32_t y0, uint64_t rows, uint32_t oy0,
                  uint32_t oy1, std::vector<int32_t>* im2col) {
  const uint32_t ow = d.out_w();
  const uint64_t K = d.gemm_k(), row_vals = d.in_w;
  im2col->assign(uint64_t{oy1 - oy0} * ow * K, 0);
  // A window row's valid kx (ix = ox * stride + kx - pad in [0, in_w)) are a
  // run of the band row: copied as one.
  for (uint32_t oy = oy0; oy < oy1; ++oy)
    for (uint32_t ox = 0; ox < ow; ++ox) {
      int32_t* row = &(*im2col)[(uint64_t{oy - oy0} * ow + ox) * K];
      const int64_t ix0 = int64_t{ox} * d.stride_w - d.pad_l;
      const int64_t kx0 = std::max<int64_t>(0, -ix0), kx1 = std::min<int64_t>(d.kw, int64_t{d.in_w} - ix0);
      if (kx0 >= kx1) continue;
      const size_t n = static_cast<size_t>(kx1 - kx0);
      for (uint32_t c = 0; c < d.in_c; ++c)
        for (uint32_t ky = 0; ky < d.kh; ++ky) {
          const int64_t iy = int64_t{oy} * d.stride_h + ky - d.pad_t;
          if (iy < 0 || iy >= d.in_h) continue;
          const int32_t* src =
              &band[(uint64_t{c} * rows + static_cast<uint64_t>(iy - y0)) * row_vals + static_cast<uint64_t>(ix0 + kx0)];
          std::memcpy(&row[(c * d.kh + ky) * d.kw + static_cast<uint64_t>(kx0)], src, n * sizeof(int32_t));
        }
    }
}

}  // namespace brsim
