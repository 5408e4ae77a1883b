#include "output_stage.h"

#include <algorithm>

#include "pooling.h"

namespace brsim {

void OutputStage::set_params(const std::vector<ChannelParams>& p) {
  bias.resize(p.size());
  shift.resize(p.size());
  for (size_t c = 0; c < p.size(); ++c) bias[c] = p[c].bias, shift[c] = p[c].shift;
}

void OutputStage::requantize(const int64_t* psums, uint64_t pixels, int32_t* out, uint64_t channel_stride,
                             RequantStats* st) const {
  const uint64_t n = cols();
  for (uint64_t px = 0; px < pixels; ++px)
    for (uint64_t c = 0; c < n; ++c)
      out[c * channel_stride + px] = brsim::requantize(psums[px * n + c], bias[c], {shift[c], relu, act_bits}, st);
}

void pool_tile(const LayerDescriptor& d, const int32_t* staged, uint64_t cols, int32_t* out, uint32_t py0,
               uint32_t py1) {
  const uint32_t oh = d.out_h(), ow = d.out_w(), pw = d.pooled_w();
  py1 = std::min(py1, d.pooled_h());
  const uint32_t ph = py1 - py0;
  for (uint64_t c = 0; c < cols; ++c)
    for (uint32_t py = py0; py < py1; ++py)
      for (uint32_t px = 0; px < pw; ++px) {
        int64_t sum = 0, n = 0;
        int32_t best = INT32_MIN;
        for (uint32_t ky = 0; ky < d.pool_kh; ++ky)
          for (uint32_t kx = 0; kx < d.pool_kw; ++kx) {
            const int64_t y = int64_t{py} * d.pool_sh + ky - d.pool_pt;
            const int64_t x = int64_t{px} * d.pool_sw + kx - d.pool_pl;
            if (y < 0 || y >= oh || x < 0 || x >= ow) continue;
            const int32_t v = staged[(c * oh + static_cast<uint64_t>(y)) * ow + static_cast<uint64_t>(x)];
            best = std::max(best, v);
            sum += v;
            ++n;
          }
        out[(c * ph + py - py0) * pw + px] = d.pool == PoolKind::Max ? best : average_half_up(sum, n);
      }
}

}  // namespace brsim
