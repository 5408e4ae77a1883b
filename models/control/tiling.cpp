#include "tiling.h"

#include <algorithm>
#include <string>

#include "errors.h"
#include "layer_schedule.h"

namespace brsim {

namespace {
uint64_t ceil_div(uint64_t a, uint64_t b) { return (a + b - 1) / b; }
uint64_t k_tiles_of(const LayerDescriptor& d, const ArchConfig& a) {
  return ceil_div(d.gemm_k(), static_cast<uint64_t>(a.rows));
}
// The most input channels one chunk of q k-tiles reads.
uint64_t widest_chunk(const LayerDescriptor& d, const ArchConfig& a, uint64_t q) {
  const uint64_t kt = k_tiles_of(d, a), R = static_cast<uint64_t>(a.rows);
  if (q >= kt) return d.in_c;
  uint64_t most = 0;
  for (uint64_t k0 = 0; k0 < kt; k0 += q) {
    uint32_t c0, c1;
    chunk_channels(d, R, k0, std::min(kt, k0 + q), &c0, &c1);
    most = std::max<uint64_t>(most, c1 - c0);
  }
  return most;
}
std::string str(uint64_t v) { return std::to_string(v); }
// " of each of the N images" (a batch), else "".
std::string of_batch(const LayerDescriptor& d) {
  return d.batch > 1 ? " for each of the " + str(d.batch) + " images of the batch" : "";
}
}  // namespace

// The smallest capacity a buffer may have (64 bytes: validate(ArchConfig)) that holds `bytes`.
uint64_t smallest_buffer_capacity(uint64_t bytes) { return std::max<uint64_t>(64, bytes); }

namespace {
}  // namespace

void chunk_channels(const LayerDescriptor& d, uint64_t R, uint64_t kt0, uint64_t kt1, uint32_t* c0, uint32_t* c1) {
  const uint64_t khw = uint64_t{d.kh} * d.kw, K = d.gemm_k();
  *c0 = static_cast<uint32_t>(kt0 * R / khw);
  *c1 = static_cast<uint32_t>(ceil_div(std::min(K, kt1 * R), khw));
}

uint64_t tile_input_bytes(const LayerDescriptor& d, const ArchConfig& a, uint32_t n, uint32_t w, uint64_t q) {
  const uint64_t ab = static_cast<uint64_t>(act_bytes(a));
  const uint64_t in_rows = std::min<uint64_t>(d.in_h, (uint64_t{n} - 1) * d.stride_h + d.kh);
  // Whole rows when the tile spans the output's width, else the strip's halo.
  const uint64_t in_cols = w >= d.out_w() ? d.in_w : std::min<uint64_t>(d.in_w, (uint64_t{w} - 1) * d.stride_w + d.kw);
  return (a.double_buffer_activations ? 2 : 1) * widest_chunk(d, a, q) * in_rows * in_cols * ab * d.batch;
}

uint64_t tile_output_bytes(const LayerDescriptor& d, const ArchConfig& a, uint64_t width, uint32_t n, uint32_t w,
                           bool pool_by_rows) {
  const uint64_t ab = static_cast<uint64_t>(act_bytes(a)), cb = static_cast<uint64_t>(acc_bytes(a));
  const bool pooled = d.pool != PoolKind::None;
  const uint64_t oh = d.out_h(), ow = d.out_w(), ph = d.pooled_h(), pw = d.pooled_w();
  const uint64_t staging = !pooled     ? 0
                           : pool_by_rows ? std::min<uint64_t>(oh, d.pool_kh - 1 + uint64_t{n}) * ow * width * ab
                                          : oh * ow * width * ab;
  // Double-buffered activations: one tile's outputs (or its pooled rows) staged for the write-behind.
  const uint64_t write_staging = !a.double_buffer_activations ? 0
                                 : !pooled     ? uint64_t{n} * w * width * ab
                                 : pool_by_rows ? std::min<uint64_t>(ph, uint64_t{n} + d.pool_kh) * pw * width * ab
                                                : ph * pw * width * ab;
  return (uint64_t{n} * w * width * cb + staging + write_staging) * d.batch;  // per image of the batch
}

uint32_t full_band_rows(const LayerDescriptor& d, const ArchConfig& a, uint64_t width, bool pool_by_rows) {
  const uint64_t kt = k_tiles_of(d, a);
  uint32_t best = 0;
  for (uint32_t n = 1; n <= d.out_h(); ++n) {
    if (tile_input_bytes(d, a, n, d.out_w(), kt) > a.input_buffer.capacity_bytes ||
        tile_output_bytes(d, a, width, n, d.out_w(), pool_by_rows) > a.output_buffer.capacity_bytes)
      break;
    best = n;
  }
  return best;
}

Tiling band_tiling(const LayerDescriptor& d, const ArchConfig& a, uint64_t width) {
  Tiling t;
  t.strip_cols = d.out_w(), t.chunk_ktiles = k_tiles_of(d, a);
  // Pooling staged whole, then by rows.
  for (const bool by_rows : {false, true}) {
    if (by_rows && d.pool == PoolKind::None) break;
    t.band_rows = full_band_rows(d, a, width, by_rows);
    t.pool_by_rows = by_rows;
    if (t.band_rows) {
      t.bands = static_cast<uint32_t>(ceil_div(d.out_h(), t.band_rows));
      return t;
    }
  }
  t.bands = 0;
  return t;
}

Tiling chunked_tiling(const LayerDescriptor& d, const ArchConfig& a, uint64_t width, uint64_t* k_chunk) {
  const uint64_t kt = k_tiles_of(d, a), cap_in = a.input_buffer.capacity_bytes, cap_out = a.output_buffer.capacity_bytes;
  const uint32_t oh = d.out_h(), ow = d.out_w();
  const bool pooled = d.pool != PoolKind::None;
  Tiling t;
  t.pool_by_rows = pooled;
  // The smallest tile: one output pixel, one k-tile.
  const uint64_t out_min = tile_output_bytes(d, a, width, 1, 1, pooled);
  if (out_min > cap_out) {
    const uint64_t psums = width * static_cast<uint64_t>(acc_bytes(a)) * d.batch;
    std::string staging;
    if (pooled) staging = str(std::min<uint64_t>(oh, d.pool_kh)) + " conv rows staged for pooling";
    if (a.double_buffer_activations) staging += std::string(staging.empty() ? "" : ", ") + "the write-behind";
    throw ConfigError("output_buffer too small for one tile: the smallest tile (one output pixel" + of_batch(d) + ") needs " + str(out_min) +
                      " bytes (" + (d.batch > 1 ? str(d.batch) + " x " : "") + str(width) + " partial sums of " + str(acc_bytes(a)) + " bytes" +
                      (staging.empty() ? "" : " and " + str(out_min - psums) + " bytes of staging: " + staging) +
                      "), capacity_bytes is " + str(cap_out) + "; the smallest output_buffer that works is " +
                      str(smallest_buffer_capacity(out_min)) + " bytes");
  }
  const uint64_t in_min = tile_input_bytes(d, a, 1, 1, 1);
  if (in_min > cap_in) {
    throw ConfigError("input_buffer too small for one tile: the smallest tile (one output pixel of one k-tile of " +
                      str(a.rows) + " rows of K: " + str(widest_chunk(d, a, 1)) + " channels x " + str(d.kh) + " x " +
                      str(d.kw) + " inputs" + (a.double_buffer_activations ? ", two tiles, double buffered" : "") +
                      of_batch(d) + ") needs " + str(in_min) + " bytes of input rows, capacity_bytes is " + str(cap_in) +
                      "; the smallest input_buffer that works is " + str(smallest_buffer_capacity(in_min)) + " bytes");
  }
  // The largest spatial tile the output buffer holds: whole rows, else a
  // strip of one row.
  uint32_t n = 1, w = 1;
  if (tile_output_bytes(d, a, width, 1, ow, pooled) <= cap_out) {
    w = ow;
    while (n < oh && tile_output_bytes(d, a, width, n + 1, ow, pooled) <= cap_out) ++n;
  } else {
    while (w < ow && tile_output_bytes(d, a, width, 1, w + 1, pooled) <= cap_out) ++w;
  }
  // ... shrunk until one k-tile's input fits; then the widest chunk of k-tiles.
  while (tile_input_bytes(d, a, n, w, 1) > cap_in) {
    if (n > 1) --n;
    else --w;
  }
  uint64_t lo = 1, hi = kt;
  while (lo < hi) {
    const uint64_t mid = (lo + hi + 1) / 2;
    if (tile_input_bytes(d, a, n, w, mid) <= cap_in) lo = mid;
    else hi = mid - 1;
  }
  if (lo < kt) {  // a weight load stays inside a chunk (os: strips of k-tiles)
    *k_chunk = std::min(*k_chunk, lo);
    lo = lo / *k_chunk * *k_chunk;
  }
  t.band_rows = n, t.strip_cols = w, t.chunk_ktiles = lo;
  t.bands = static_cast<uint32_t>(ceil_div(oh, t.band_rows));
  t.strips = static_cast<uint32_t>(ceil_div(ow, t.strip_cols));
  t.chunks = ceil_div(kt, t.chunk_ktiles);
  return t;
}

}  // namespace brsim
