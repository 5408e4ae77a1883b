// One layer as the accelerator runs it: the descriptor the host programs
// (shapes, DRAM addresses, segment configuration, requantization, ReLU and
// pooling), the weight-stationary schedule (m-tile -> output-row band ->
// k-tile folds), the DRAM transfers it makes, and the closed form of its
// cycle count (docs/cycle-model.md "Cycle model"), which the cycle-by-cycle model must meet.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "arch.h"
#include "dram_layout.h"
#include "tiling.h"

namespace brsim {

enum class PoolKind : uint32_t { None = 0, Max = 1, Avg = 2 };

struct LayerDescriptor {
  bool fc = false;  // fully connected: the input is a vector of in_c values
  uint32_t in_c = 1, in_h = 1, in_w = 1, out_m = 1;
  uint32_t kh = 1, kw = 1, stride_h = 1, stride_w = 1;
  uint32_t pad_t = 0, pad_l = 0, pad_b = 0, pad_r = 0;
  uint64_t in_addr = 0, w_addr = 0, param_addr = 0, out_addr = 0;  // DRAM byte addresses
  int n2 = 0, p = 0;         // per-layer segment split (BRSLog)
  bool per_channel = false;  // take n2, p per output channel from the parameter table
  bool relu = false;
  PoolKind pool = PoolKind::None;
  uint32_t pool_kh = 2, pool_kw = 2, pool_sh = 2, pool_sw = 2;
  uint32_t pool_pt = 0, pool_pl = 0, pool_pb = 0, pool_pr = 0;
  // Images that go through the layer together (docs/cycle-model.md
  // "Batches"): image i's input at in_addr + i * in_image_stride bytes, its
  // output at out_addr + i * out_image_stride (0: the image's own bytes,
  // in_image_values() or out_image_values() values, packed); the shapes
  // above are one image's.
  uint32_t batch = 1;
  uint32_t in_image_stride = 0, out_image_stride = 0;
  // The DRAM scratch area a spilling schedule writes its partial sums to
  // and reads them back from (Schedule::spill; spill_scratch_bytes of it).
  uint64_t psum_addr = 0;

  uint32_t out_h() const;
  uint32_t out_w() const;
  uint32_t pooled_h() const;
  uint32_t pooled_w() const;
  uint64_t gemm_p() const { return uint64_t{out_h()} * out_w(); }
  uint64_t gemm_k() const { return uint64_t{in_c} * kh * kw; }
  uint64_t gemm_m() const { return out_m; }
  uint64_t macs() const { return gemm_p() * gemm_k() * gemm_m(); }
  // Output tensor as written to DRAM (pooled if pooling): channels x h x w.
  uint32_t final_h() const { return pool == PoolKind::None ? out_h() : pooled_h(); }
  uint32_t final_w() const { return pool == PoolKind::None ? out_w() : pooled_w(); }
  uint64_t in_image_values() const { return uint64_t{in_c} * in_h * in_w; }
  uint64_t out_image_values() const { return uint64_t{out_m} * final_h() * final_w(); }
  // DRAM bytes from one image's input (output) to the next, at act_bytes per value.
  uint64_t in_image_step(uint64_t act_bytes) const { return in_image_stride ? in_image_stride : in_image_values() * act_bytes; }
  uint64_t out_image_step(uint64_t act_bytes) const {
    return out_image_stride ? out_image_stride : out_image_values() * act_bytes;
  }
};

// Throws ConfigError naming the field for impossible shapes.
void validate(const LayerDescriptor& d, const ArchConfig& a);

// The schedule (docs/dataflows.md): m-tiles -> bands of output rows ->
// weight loads -> folds. An m-tile is m_cols output channels: C for ws and
// os (one array m-tile), for is an m-range of as many C-wide array m-tiles
// as the weight buffer (R x m_cols weights) and the output buffer (a row of
// pixels x m_cols partial sums) hold, all of M when they fit. A weight load
// brings k_chunk consecutive k-tiles of the m-tile into the weight buffer;
// ws and is load one k-tile (R rows), os a strip of as many k-tiles as the
// weight buffer holds. The folds of one load:
//   ws: one fold streaming the band's P_b pixels;
//   is: one fold per tile of C pixels (activations stationary), streaming
//       the m-range's weight columns (all M filters when unsplit);
//   os: one fold per tile of R pixels (outputs stationary), streaming the strip's K rows.
struct Schedule {
  Dataflow flow = Dataflow::WeightStationary;
  uint64_t P = 0, K = 0, M = 0;
  uint64_t k_tiles = 0, m_tiles = 0;
  uint64_t m_cols = 0;     // output channels per m-tile (ws, os: C; is: the m-range)
  uint64_t k_chunk = 1;    // k-tiles per weight load (os: the strip; ws, is: 1)
  uint64_t loads = 0;      // weight loads per (m-tile, band): ceil(k_tiles / k_chunk)
  uint32_t band_rows = 0;  // output rows per band (the last may be shorter)
  uint32_t bands = 0;
  // Column strips of a band and input-channel chunks of a tile, pooling by
  // rows (tiling.h; docs/tiling.md): strips = chunks = 1 where a band of
  // whole rows with every input channel fits.
  uint32_t strip_cols = 0, strips = 1;
  uint64_t chunk_ktiles = 0, chunks = 1;
  bool pool_by_rows = false;
  // Batches (docs/cycle-model.md "Batches"): the images run in passes of
  // pass_images each (the last pass holds the rest), each pass the plan of
  // a batch of that many; the other fields are a full pass's. One pass of
  // every image unless the buffers hold so little of the batch's tiles that
  // smaller passes take fewer cycles.
  uint32_t pass_images = 1, passes = 1;
  // Spilling partial sums (docs/tiling.md "Spilling partial sums"): the
  // weight loads outside the tiles, each load fetched once per m-tile and
  // used by every tile; between loads each tile's partial sums go to the
  // DRAM scratch area (acc_bytes each) and come back before the next load
  // accumulates into them. chunks = loads: a tile's input is fetched per
  // load (the channels its k-tiles read).
  bool spill = false;
  uint64_t chunk_kt0(uint64_t q) const { return q * chunk_ktiles; }  // k-tiles [kt0, kt1) of chunk q
  uint64_t chunk_kt1(uint64_t q) const { return std::min(k_tiles, (q + 1) * chunk_ktiles); }
  uint64_t chunk_j0(uint64_t q) const { return chunk_kt0(q) / k_chunk; }  // loads [j0, j1) of chunk q
  uint64_t chunk_j1(uint64_t q) const { return (chunk_kt1(q) + k_chunk - 1) / k_chunk; }
  uint64_t tile_rows(uint64_t kt) const;  // R' of k-tile kt
  uint64_t tile_cols(uint64_t mt) const;  // C' of m-tile mt (is: the m-range's channels)
  uint64_t m0(uint64_t mt) const { return mt * m_cols; }  // first output channel of m-tile mt
  // Channels of partial sums the output buffer holds per pixel: C, or the m-range when wider.
  uint64_t psum_width() const { return std::max<uint64_t>(static_cast<uint64_t>(cols), m_cols); }
  // Output-stage passes per pixel: the m-tile's channels in groups of C lanes (1 for ws, os).
  uint64_t lane_groups(uint64_t mt) const { return (tile_cols(mt) + static_cast<uint64_t>(cols) - 1) / static_cast<uint64_t>(cols); }
  // is: the m-range is split (the buffers cannot hold all M filters' weights or sums).
  bool m_split() const { return flow == Dataflow::InputStationary && m_tiles > 1; }
  uint64_t load_kt0(uint64_t j) const { return j * k_chunk; }  // k-tiles [kt0, kt1) of load j
  uint64_t load_kt1(uint64_t j) const { return std::min(k_tiles, (j + 1) * k_chunk); }
  uint64_t load_rows(uint64_t j) const;   // K rows of load j
  // Pixels per fold of a band of pb pixels: pb (ws), C (is), R (os).
  uint64_t pixel_tile(uint64_t pb) const;
  int rows = 0, cols = 0;
};

// The schedule: the tiling (tiling.h: the largest output-row band whose
// input rows fit the input buffer and whose partial sums, plus the pooling
// staging, fit the output buffer; else column strips and input-channel
// chunks); for os the longest strip of k-tiles the weight buffer holds; for
// is the widest m-range (in array m-tiles) whose weights fit the weight
// buffer and one output row of whose sums fits the output buffer.
// ConfigError naming the buffer, the bytes the smallest tile needs, the
// capacity and the smallest capacity that works when not even one output
// pixel of one k-tile (or one weight tile) fits.
// Pure: kept by schedule_key(d, a) for the process (a layer's schedule is
// asked for by the host, the controller and every run of the same shape).
Schedule make_schedule(const LayerDescriptor& d, const ArchConfig& a);
// Every field of d and a, as bytes: what the schedule and the closed form
// depend on.
std::string schedule_key(const LayerDescriptor& d, const ArchConfig& a);
// The schedule of one pass of all d.batch images (make_schedule compares passes by it).
Schedule pass_schedule(const LayerDescriptor& d, const ArchConfig& a);
// Pass p of schedule s: its descriptor (its images: batch, addresses), and its schedule.
LayerDescriptor pass_descriptor(const LayerDescriptor& d, const ArchConfig& a, const Schedule& s, uint32_t p);
Schedule schedule_of_pass(const LayerDescriptor& pass, const ArchConfig& a, const Schedule& s);

// Bytes of DRAM scratch the layer's schedule spills its partial sums to
// (one pass's pixels x m_cols x acc_bytes), 0 when it does not spill.
uint64_t spill_scratch_bytes(const Schedule& s, const ArchConfig& a);
uint64_t spill_scratch_bytes(const LayerDescriptor& d, const ArchConfig& a);
// ... of the layer on its schedule s (make_schedule(d, a)): also its last, smaller pass's.
uint64_t spill_scratch_bytes(const LayerDescriptor& d, const ArchConfig& a, const Schedule& s);
// ConfigError naming PSUM_ADDR when the layer spills (schedule s) and its
// scratch area overlaps the layer's input, weights, parameters or output.
void check_psum_scratch(const LayerDescriptor& d, const ArchConfig& a, const Schedule& s);

// Input rows [y0, y1) a band of output rows [oy0, oy1) reads (clipped).
void band_input_rows(const LayerDescriptor& d, uint32_t oy0, uint32_t oy1, uint32_t* y0, uint32_t* y1);

// A contiguous DRAM transfer.
struct Chunk {
  uint64_t addr = 0, bytes = 0;
};
// The DRAM transfers of weight load j of m-tile mt: one per C-wide array
// m-tile it spans (tiles as stored, so ws and os: one transfer from
// w_addr + weight_tile_offset(d, a, mt, load_kt0(j)); is: one per array
// m-tile of the m-range).
std::vector<Chunk> weight_load_chunks(const LayerDescriptor& d, const Schedule& s, const ArchConfig& a, uint64_t mt,
                                      uint64_t j);
// ... into *out (cleared first; its storage is reused).
void weight_load_chunks(const LayerDescriptor& d, const Schedule& s, const ArchConfig& a, uint64_t mt, uint64_t j,
                        std::vector<Chunk>* out);
// The transfers of one band's input (all channels, rows [y0, y1)), of an
// m-tile's outputs (channels [m0, m0 + n), rows [oy0, oy1) of an h x w
// tensor), merged where contiguous (NCHW layout, act_bytes per value).
std::vector<Chunk> input_band_chunks(const LayerDescriptor& d, const ArchConfig& a, uint32_t y0, uint32_t y1);
std::vector<Chunk> output_chunks(uint64_t base, uint32_t h, uint32_t w, uint32_t m0, uint32_t n, uint32_t oy0,
                                 uint32_t oy1, const ArchConfig& a);
// The transfers of a box of a C x h x w tensor at base: channels [c0, c1),
// rows [y0, y1), columns [x0, x1); one per channel and row unless the box
// spans whole rows (one per channel) or whole planes (one).
std::vector<Chunk> box_chunks(uint64_t base, uint32_t h, uint32_t w, uint32_t c0, uint32_t c1, uint32_t y0, uint32_t y1,
                              uint32_t x0, uint32_t x1, const ArchConfig& a);
// Input columns [x0, x1) a strip of output columns [ox0, ox1) reads (clipped).
void strip_input_cols(const LayerDescriptor& d, uint32_t ox0, uint32_t ox1, uint32_t* x0, uint32_t* x1);

struct LayerCycles {
  uint64_t weight_load = 0;  // shifting the stationary tile in: weights (ws), activations (is); 0 for os
  uint64_t compute = 0;      // streaming: P_b pixels (ws), C' weights (is), the strip's K rows (os)
  uint64_t drain = 0;        // skew fill and drain: R + C - 1 per fold (os: + R to shift the outputs out)
  uint64_t stall = 0;        // waiting for DRAM transfers
  uint64_t output = 0;       // output stage: requantize, ReLU, pooling
  uint64_t total() const { return weight_load + compute + drain + stall + output; }
  bool operator==(const LayerCycles& o) const {
    return weight_load == o.weight_load && compute == o.compute && drain == o.drain && stall == o.stall &&
           output == o.output;
  }
};

// The cycles of one fold by category (weight_load, compute, drain; the
// others zero; fold_timing() in fold.h): rows_k = K rows of the fold's
// weights, cols = C' of the m-tile, pixels = pixels of the fold.
LayerCycles fold_cycles(const Schedule& s, uint64_t rows_k, uint64_t cols, uint64_t pixels);

// Cycles of one DRAM transaction: latency + ceil(bytes / bytes_per_cycle).
uint64_t dram_cycles(uint64_t bytes, const DramConfig& d);


}  // namespace brsim
