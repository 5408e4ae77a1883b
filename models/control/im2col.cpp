#include "im2col.h"

#include <algorithm>
#include <cstring>

namespace brsim {

void build_im2col(const LayerDescriptor& d, const std::vector<int32_t>& in, const TileBox& box,
                  std::vector<int32_t>* im2col) {
  const uint32_t tw = box.ox1 - box.ox0;
  const uint64_t K = d.gemm_k(), row_vals = box.x1 - box.x0, rows = box.y1 - box.y0;
  im2col->assign(uint64_t{box.oy1 - box.oy0} * tw * K, 0);
  // A window row's valid kx (ix = ox * stride + kx - pad in [x0, x1)) are a
  // run of the tile's input row: copied as one.
  for (uint32_t oy = box.oy0; oy < box.oy1; ++oy)
    for (uint32_t ox = box.ox0; ox < box.ox1; ++ox) {
      int32_t* row = &(*im2col)[(uint64_t{oy - box.oy0} * tw + (ox - box.ox0)) * K];
      const int64_t ix0 = int64_t{ox} * d.stride_w - d.pad_l;
      const int64_t kx0 = std::max<int64_t>(0, int64_t{box.x0} - ix0), kx1 = std::min<int64_t>(d.kw, int64_t{box.x1} - ix0);
      if (kx0 >= kx1) continue;
      const size_t n = static_cast<size_t>(kx1 - kx0);
      for (uint32_t c = box.c0; c < box.c1; ++c)
        for (uint32_t ky = 0; ky < d.kh; ++ky) {
          const int64_t iy = int64_t{oy} * d.stride_h + ky - d.pad_t;
          if (iy < box.y0 || iy >= box.y1) continue;
          const int32_t* src = &in[(uint64_t{c - box.c0} * rows + static_cast<uint64_t>(iy - box.y0)) * row_vals +
                                   static_cast<uint64_t>(ix0 + kx0 - box.x0)];
          std::memcpy(&row[(c * d.kh + ky) * d.kw + static_cast<uint64_t>(kx0)], src, n * sizeof(int32_t));
        }
    }
}

}  // namespace brsim
