#include "registers.h"

namespace brsim {

const reg::Register* reg::find_register(uint32_t offset) {
  for (const Register& r : kRegisterMap)
    if (r.offset == offset) return &r;
  return nullptr;
}

std::vector<std::pair<uint32_t, uint32_t>> descriptor_registers(const LayerDescriptor& d, int sqrt2_terms) {
  auto lo_hi = [](uint32_t lo, uint32_t hi) { return (lo & 0xFFFFu) | (hi << 16); };
  auto bytes4 = [](uint32_t a, uint32_t b, uint32_t c, uint32_t e) {
    return (a & 0xFFu) | ((b & 0xFFu) << 8) | ((c & 0xFFu) << 16) | ((e & 0xFFu) << 24);
  };
  const uint32_t cfg = (d.fc ? 1u : 0u) | (d.relu ? 2u : 0u) | (static_cast<uint32_t>(d.pool) << 2) |
                       (d.per_channel ? 16u : 0u);
  return {{reg::kLayerCfg, cfg},
          {reg::kInC, d.in_c},
          {reg::kInH, d.in_h},
          {reg::kInW, d.in_w},
          {reg::kOutM, d.out_m},
          {reg::kKernel, lo_hi(d.kh, d.kw)},
          {reg::kStride, lo_hi(d.stride_h, d.stride_w)},
          {reg::kPad, bytes4(d.pad_t, d.pad_l, d.pad_b, d.pad_r)},
          {reg::kInAddr, static_cast<uint32_t>(d.in_addr)},
          {reg::kWAddr, static_cast<uint32_t>(d.w_addr)},
          {reg::kParamAddr, static_cast<uint32_t>(d.param_addr)},
          {reg::kOutAddr, static_cast<uint32_t>(d.out_addr)},
          {reg::kSegCfg, (static_cast<uint32_t>(d.n2) & 0xFFu) | (static_cast<uint32_t>(d.p & 1) << 8) |
                             ((static_cast<uint32_t>(sqrt2_terms) & 0xFu) << 16)},
          {reg::kPoolKernel, lo_hi(d.pool_kh, d.pool_kw)},
          {reg::kPoolStride, lo_hi(d.pool_sh, d.pool_sw)},
          {reg::kPoolPad, bytes4(d.pool_pt, d.pool_pl, d.pool_pb, d.pool_pr)},
          {reg::kBatch, (d.batch - 1) & 0xFFu},
          {reg::kInStride, d.in_image_stride},
          {reg::kOutStride, d.out_image_stride},
          {reg::kPsumAddr, static_cast<uint32_t>(d.psum_addr)}};
}

LayerDescriptor descriptor_from_registers(const RegisterFile& r, int* sqrt2_terms) {
  auto at = [&](uint32_t a) { return r[a / 4]; };
  LayerDescriptor d;
  const uint32_t cfg = at(reg::kLayerCfg);
  d.fc = cfg & 1u;
  d.relu = (cfg >> 1) & 1u;
  d.pool = static_cast<PoolKind>((cfg >> 2) & 3u);
  d.per_channel = (cfg >> 4) & 1u;
  d.in_c = at(reg::kInC), d.in_h = at(reg::kInH), d.in_w = at(reg::kInW), d.out_m = at(reg::kOutM);
  d.kh = at(reg::kKernel) & 0xFFFFu, d.kw = at(reg::kKernel) >> 16;
  d.stride_h = at(reg::kStride) & 0xFFFFu, d.stride_w = at(reg::kStride) >> 16;
  const uint32_t pad = at(reg::kPad);
  d.pad_t = pad & 0xFFu, d.pad_l = (pad >> 8) & 0xFFu, d.pad_b = (pad >> 16) & 0xFFu, d.pad_r = pad >> 24;
  d.in_addr = at(reg::kInAddr), d.w_addr = at(reg::kWAddr), d.param_addr = at(reg::kParamAddr);
  d.out_addr = at(reg::kOutAddr);
  const uint32_t seg = at(reg::kSegCfg);
  d.n2 = static_cast<int>(seg & 0xFFu), d.p = static_cast<int>((seg >> 8) & 1u);
  *sqrt2_terms = static_cast<int>((seg >> 16) & 0xFu);
  d.pool_kh = at(reg::kPoolKernel) & 0xFFFFu, d.pool_kw = at(reg::kPoolKernel) >> 16;
  d.pool_sh = at(reg::kPoolStride) & 0xFFFFu, d.pool_sw = at(reg::kPoolStride) >> 16;
  const uint32_t pp = at(reg::kPoolPad);
  d.pool_pt = pp & 0xFFu, d.pool_pl = (pp >> 8) & 0xFFu, d.pool_pb = (pp >> 16) & 0xFFu, d.pool_pr = pp >> 24;
  d.batch = (at(reg::kBatch) & 0xFFu) + 1;
  d.in_image_stride = at(reg::kInStride), d.out_image_stride = at(reg::kOutStride);
  d.psum_addr = at(reg::kPsumAddr);
  return d;
}

}  // namespace brsim
