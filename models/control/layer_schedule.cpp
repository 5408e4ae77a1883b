#include "layer_schedule.h"

#include <algorithm>

#include "errors.h"
#include "fold.h"
#include "layer_plan.h"
#include "memo.h"

namespace brsim {

namespace {
uint32_t window_out(uint32_t in, uint32_t k, uint32_t s, uint32_t a, uint32_t b) {
  return (in + a + b - k) / s + 1;
}
uint64_t ceil_div(uint64_t a, uint64_t b) { return (a + b - 1) / b; }
void need(bool ok, const std::string& what) {
  if (!ok) throw ConfigError("invalid layer: " + what);
}
}  // namespace

uint32_t LayerDescriptor::out_h() const { return window_out(in_h, kh, stride_h, pad_t, pad_b); }
uint32_t LayerDescriptor::out_w() const { return window_out(in_w, kw, stride_w, pad_l, pad_r); }
uint32_t LayerDescriptor::pooled_h() const { return window_out(out_h(), pool_kh, pool_sh, pool_pt, pool_pb); }
uint32_t LayerDescriptor::pooled_w() const { return window_out(out_w(), pool_kw, pool_sw, pool_pl, pool_pr); }

void validate(const LayerDescriptor& d, const ArchConfig& a) {
  const uint32_t lim = 1u << 16;
  need(d.in_c >= 1 && d.in_c < lim, "in_c " + std::to_string(d.in_c) + ": expected [1, 65535]");
  need(d.in_h >= 1 && d.in_h < lim && d.in_w >= 1 && d.in_w < lim, "input height/width must be in [1, 65535]");
  need(d.out_m >= 1 && d.out_m < lim, "out_m " + std::to_string(d.out_m) + ": expected [1, 65535]");
  need(d.kh >= 1 && d.kw >= 1, "kernel must be at least 1x1");
  need(d.batch >= 1 && d.batch <= static_cast<uint32_t>(kMaxBatch),
       "batch " + std::to_string(d.batch) + ": expected [1, " + std::to_string(kMaxBatch) + "] images");
  need(d.stride_h >= 1 && d.stride_w >= 1, "strides must be >= 1");
  need(d.pad_t < d.kh && d.pad_b < d.kh && d.pad_l < d.kw && d.pad_r < d.kw,
       "padding must be smaller than the kernel");
  need(d.in_h + d.pad_t + d.pad_b >= d.kh && d.in_w + d.pad_l + d.pad_r >= d.kw,
       "kernel " + std::to_string(d.kh) + "x" + std::to_string(d.kw) + " larger than the padded input " +
           std::to_string(d.in_h) + "x" + std::to_string(d.in_w));
  if (d.fc) need(d.in_h == 1 && d.in_w == 1 && d.kh == 1 && d.kw == 1, "an FC layer has a 1x1 input and kernel");
  if (d.pool != PoolKind::None) {
    need(d.pool_kh >= 1 && d.pool_kw >= 1 && d.pool_sh >= 1 && d.pool_sw >= 1, "pooling window and stride >= 1");
    need(d.pool_pt < d.pool_kh && d.pool_pb < d.pool_kh && d.pool_pl < d.pool_kw && d.pool_pr < d.pool_kw,
         "pooling padding must be smaller than its window");
    need(d.out_h() + d.pool_pt + d.pool_pb >= d.pool_kh && d.out_w() + d.pool_pl + d.pool_pr >= d.pool_kw,
         "pooling window larger than the padded output");
  }
  if (a.pe == PeType::BrsLog && !d.per_channel) {
    SegmentConfig c{a.weight_bits, d.n2, d.p, 0};
    validate(c);
  }
}




uint64_t Schedule::tile_rows(uint64_t kt) const { return std::min<uint64_t>(static_cast<uint64_t>(rows), K - kt * rows); }
uint64_t Schedule::tile_cols(uint64_t mt) const { return std::min<uint64_t>(m_cols, M - mt * m_cols); }
uint64_t Schedule::load_rows(uint64_t j) const {
  return std::min<uint64_t>(K, load_kt1(j) * static_cast<uint64_t>(rows)) - load_kt0(j) * static_cast<uint64_t>(rows);
}
uint64_t Schedule::pixel_tile(uint64_t pb) const {
  switch (flow) {
    case Dataflow::InputStationary: return static_cast<uint64_t>(cols);
    case Dataflow::OutputStationary: return static_cast<uint64_t>(rows);
    default: return pb;
  }
}

namespace {
// Array m-tiles (C columns of stored tiles) [*first, *last) of m-tile mt.
void array_m_tiles(const Schedule& s, uint64_t mt, uint64_t* first, uint64_t* last) {
  const uint64_t C = static_cast<uint64_t>(s.cols);
  *first = s.m0(mt) / C;
  *last = (s.m0(mt) + s.tile_cols(mt) + C - 1) / C;
}
uint64_t array_load_bytes(const Schedule& s, const ArchConfig& a, uint64_t amt, uint64_t j) {
  const uint64_t C = static_cast<uint64_t>(s.cols), cols = std::min(C, s.M - amt * C);
  uint64_t bytes = 0;
  for (uint64_t kt = s.load_kt0(j); kt < s.load_kt1(j); ++kt) bytes += weight_tile_bytes(s.tile_rows(kt), cols, a);
  return bytes;
}
}  // namespace

std::vector<Chunk> weight_load_chunks(const LayerDescriptor& d, const Schedule& s, const ArchConfig& a, uint64_t mt,
                                      uint64_t j) {
  std::vector<Chunk> out;
  weight_load_chunks(d, s, a, mt, j, &out);
  return out;
}

void weight_load_chunks(const LayerDescriptor& d, const Schedule& s, const ArchConfig& a, uint64_t mt, uint64_t j,
                        std::vector<Chunk>* out) {
  uint64_t first, last;
  array_m_tiles(s, mt, &first, &last);
  out->clear();
  for (uint64_t amt = first; amt < last; ++amt)
    out->push_back({d.w_addr + weight_tile_offset(d, a, amt, s.load_kt0(j)), array_load_bytes(s, a, amt, j)});
}

LayerCycles fold_cycles(const Schedule& s, uint64_t rows_k, uint64_t cols, uint64_t pixels) {
  const FoldTiming t = fold_timing(s.flow, static_cast<uint64_t>(s.rows), static_cast<uint64_t>(s.cols), rows_k, cols, pixels);
  LayerCycles c;
  c.weight_load = t.load, c.compute = t.stream, c.drain = t.drain();
  return c;
}

void band_input_rows(const LayerDescriptor& d, uint32_t oy0, uint32_t oy1, uint32_t* y0, uint32_t* y1) {
  const int64_t first = static_cast<int64_t>(oy0) * d.stride_h - d.pad_t;
  const int64_t last = static_cast<int64_t>(oy1 - 1) * d.stride_h - d.pad_t + d.kh - 1;
  *y0 = static_cast<uint32_t>(std::max<int64_t>(0, first));
  *y1 = static_cast<uint32_t>(std::min<int64_t>(d.in_h, last + 1));
}

namespace {
Schedule make_schedule_once(const LayerDescriptor& d, const ArchConfig& a);
}  // namespace

std::string schedule_key(const LayerDescriptor& d, const ArchConfig& a) {
  // A field added to either struct must be added here too.
  static_assert(sizeof(LayerDescriptor) == 160, "LayerDescriptor changed: add its new field to schedule_key");
  static_assert(sizeof(ArchConfig) == 120, "ArchConfig changed: add its new field to schedule_key");
  std::string k;
  k.reserve(256);
  auto put = [&k](auto... v) {
    auto one = [&k](auto x) { k.append(reinterpret_cast<const char*>(&x), sizeof x); };
    (one(v), ...);
  };
  put(d.fc, d.in_c, d.in_h, d.in_w, d.out_m, d.kh, d.kw, d.stride_h, d.stride_w, d.pad_t, d.pad_l, d.pad_b, d.pad_r);
  put(d.in_addr, d.w_addr, d.param_addr, d.out_addr, d.n2, d.p, d.per_channel, d.relu, d.pool, d.pool_kh, d.pool_kw);
  put(d.pool_sh, d.pool_sw, d.pool_pt, d.pool_pl, d.pool_pb, d.pool_pr, d.batch, d.in_image_stride, d.out_image_stride,
      d.psum_addr);
  put(a.rows, a.cols, a.dataflow, a.pe, a.weight_bits, a.datapath.act_bits, a.datapath.acc_bits, a.datapath.shift_bits,
      a.datapath.sqrt2_terms, a.clock_mhz);
  for (const BufferConfig* b : {&a.weight_buffer, &a.input_buffer, &a.output_buffer}) put(b->capacity_bytes, b->word_bits);
  put(a.dram.size_bytes, a.dram.latency_cycles, a.dram.bytes_per_cycle, a.double_buffer_weights,
      a.double_buffer_activations, a.batch);
  return k;
}

Schedule make_schedule(const LayerDescriptor& d, const ArchConfig& a) {
  static Memo<Schedule> memo;
  const std::string key = schedule_key(d, a);
  Schedule s;
  if (memo.find(key, &s)) return s;
  s = make_schedule_once(d, a);  // (an error is thrown every time)
  memo.put(key, s);
  return s;
}

namespace {
Schedule make_schedule_once(const LayerDescriptor& d, const ArchConfig& a) {
  validate(d, a);
  if (d.batch == 1) return pass_schedule(d, a);
  // Passes of g images, g = N, then powers of two below it: the fewest
  // cycles (ties: the larger pass). A pass too large for the buffers is
  // skipped; when not even one image fits, one image's error is thrown.
  Schedule best;
  uint64_t best_cycles = ~uint64_t{0};
  std::vector<uint32_t> sizes{d.batch};
  for (uint32_t g = 1; g < d.batch; g *= 2) sizes.insert(sizes.begin() + 1, g);
  for (const uint32_t g : sizes) {
    LayerDescriptor dg = d;
    dg.batch = g;
    Schedule s;
    try {
      s = pass_schedule(dg, a);
    } catch (const ConfigError&) {
      if (g == 1) throw;
      continue;
    }
    s.pass_images = g;
    s.passes = (d.batch + g - 1) / g;
    const uint64_t cycles = closed_form(d, a, s).total();
    if (cycles < best_cycles) best = s, best_cycles = cycles;
  }
  return best;
}
}  // namespace

LayerDescriptor pass_descriptor(const LayerDescriptor& d, const ArchConfig& a, const Schedule& s, uint32_t p) {
  const uint64_t ab = static_cast<uint64_t>(act_bytes(a)), first = uint64_t{p} * s.pass_images;
  LayerDescriptor x = d;
  x.batch = static_cast<uint32_t>(std::min<uint64_t>(s.pass_images, d.batch - first));
  x.in_addr = d.in_addr + first * d.in_image_step(ab);
  x.out_addr = d.out_addr + first * d.out_image_step(ab);
  return x;
}

Schedule schedule_of_pass(const LayerDescriptor& pass, const ArchConfig& a, const Schedule& s) {
  if (pass.batch == s.pass_images) {
    Schedule x = s;
    x.passes = 1;
    return x;
  }
  return pass_schedule(pass, a);  // the last pass, with fewer images
}

Schedule pass_schedule(const LayerDescriptor& d, const ArchConfig& a) {
  validate(d, a);
  Schedule s;
  s.pass_images = d.batch;
  s.flow = a.dataflow;
  s.rows = a.rows, s.cols = a.cols;
  s.P = d.gemm_p(), s.K = d.gemm_k(), s.M = d.gemm_m();
  s.k_tiles = ceil_div(s.K, static_cast<uint64_t>(a.rows));
  s.m_tiles = ceil_div(s.M, static_cast<uint64_t>(a.cols));
  const uint64_t tiles = a.double_buffer_weights ? 2 : 1;
  const uint64_t wtile = tiles * weight_tile_bytes(static_cast<uint64_t>(a.rows), static_cast<uint64_t>(a.cols), a);
  if (wtile > a.weight_buffer.capacity_bytes)
    throw ConfigError("weight_buffer too small for " + std::string(tiles == 2 ? "two tiles (double buffered)" : "one tile") +
                      ": a " + std::to_string(a.rows) + "x" + std::to_string(a.cols) + " weight tile needs " +
                      std::to_string(wtile / tiles) + " bytes, capacity_bytes is " +
                      std::to_string(a.weight_buffer.capacity_bytes) + "; the smallest weight_buffer that works is " +
                      std::to_string(smallest_buffer_capacity(wtile)) + " bytes");
  // os: the longest strip of k-tiles (two with double buffering) the weight buffer holds.
  if (a.dataflow == Dataflow::OutputStationary) s.k_chunk = std::min(s.k_tiles, a.weight_buffer.capacity_bytes / wtile);
  const uint64_t C = static_cast<uint64_t>(a.cols);
  s.m_cols = std::min<uint64_t>(C, s.M);
  if (a.dataflow == Dataflow::InputStationary) {
    // The widest m-range, in array m-tiles, whose load (R x m_cols weights;
    // two with double buffering) fits the weight buffer and one output row
    // of whose sums fits the output buffer; one array m-tile otherwise (and
    // the checks below report what does not fit).
    for (uint64_t n = s.m_tiles; n > 1; --n) {
      const uint64_t width = std::min(s.M, n * C);
      if (n * wtile > a.weight_buffer.capacity_bytes) continue;
      if (full_band_rows(d, a, width, false) == 0) continue;
      s.m_cols = width;
      break;
    }
  }
  s.m_tiles = ceil_div(s.M, s.m_cols);
  // The tiling (docs/tiling.md): bands of whole rows with every input
  // channel, or taller tiles with input-channel chunks (strips of a row
  // where not even one row's partial sums fit), whichever takes fewer cycles.
  auto with = [&](const Tiling& t, uint64_t k_chunk) {
    Schedule x = s;
    x.band_rows = t.band_rows, x.bands = t.bands;
    x.strip_cols = t.strip_cols, x.strips = t.strips;
    x.chunk_ktiles = t.chunk_ktiles, x.chunks = t.chunks;
    x.pool_by_rows = t.pool_by_rows;
    x.k_chunk = k_chunk;
    x.loads = ceil_div(s.k_tiles, k_chunk);
    return x;
  };
  const Tiling whole = band_tiling(d, a, s.psum_width());
  uint64_t k_chunk = s.k_chunk;
  const Tiling chunked = chunked_tiling(d, a, s.psum_width(), &k_chunk);  // throws below the smallest tile
  const Schedule band = with(whole, s.k_chunk), tiled = with(chunked, k_chunk);
  Schedule best = tiled;
  uint64_t best_cycles = 0;  // 0: not computed yet
  if (whole.bands != 0) {
    if (chunked.chunks == 1 && chunked.strips == 1 && chunked.bands == whole.bands) {
      best = band;
    } else {
      const uint64_t ct = closed_form(d, a, tiled).total(), cb = closed_form(d, a, band).total();
      best = ct < cb ? tiled : band, best_cycles = std::min(ct, cb);
    }
  }
  // Spilling partial sums (docs/tiling.md "Spilling partial sums"): serial
  // memory, several weight loads and several tiles (with one tile it only
  // adds traffic); the chunked tiling's tiles, a chunk per weight load.
  // Taken only when it takes fewer cycles by the closed form.
  if (!a.double_buffer_weights && !a.double_buffer_activations && tiled.loads > 1 &&
      uint64_t{best.bands} * best.strips > 1 && uint64_t{tiled.bands} * tiled.strips > 1) {
    Schedule sp = tiled;
    sp.spill = true;
    sp.chunk_ktiles = sp.k_chunk, sp.chunks = sp.loads;
    if (best_cycles == 0) best_cycles = closed_form(d, a, best).total();
    if (closed_form(d, a, sp).total() < best_cycles) best = sp;
  }
  return best;
}

uint64_t spill_scratch_bytes(const Schedule& s, const ArchConfig& a) {
  return s.spill ? s.P * s.pass_images * s.m_cols * static_cast<uint64_t>(acc_bytes(a)) : 0;
}

uint64_t spill_scratch_bytes(const LayerDescriptor& d, const ArchConfig& a) {
  return spill_scratch_bytes(d, a, make_schedule(d, a));
}

uint64_t spill_scratch_bytes(const LayerDescriptor& d, const ArchConfig& a, const Schedule& s) {
  uint64_t bytes = spill_scratch_bytes(s, a);
  if (s.passes > 1 && d.batch % s.pass_images != 0) {  // the last pass, with fewer images, has a schedule of its own
    const LayerDescriptor last = pass_descriptor(d, a, s, s.passes - 1);
    bytes = std::max(bytes, spill_scratch_bytes(schedule_of_pass(last, a, s), a));
  }
  return bytes;
}

void check_psum_scratch(const LayerDescriptor& d, const ArchConfig& a, const Schedule& s) {
  const uint64_t scratch = spill_scratch_bytes(d, a, s);
  if (scratch == 0) return;
  const uint64_t ab = static_cast<uint64_t>(act_bytes(a));
  struct Region {
    const char* name;
    uint64_t addr, bytes;
  };
  const Region regions[] = {
      {"the input at IN_ADDR", d.in_addr, (d.batch - 1) * d.in_image_step(ab) + d.in_image_values() * ab},
      {"the weights at W_ADDR", d.w_addr, weight_bytes(d, a)},
      {"the parameter table at PARAM_ADDR", d.param_addr, uint64_t{d.out_m} * kParamBytes},
      {"the output at OUT_ADDR", d.out_addr, (d.batch - 1) * d.out_image_step(ab) + d.out_image_values() * ab},
  };
  for (const Region& r : regions)
    if (d.psum_addr < r.addr + r.bytes && r.addr < d.psum_addr + scratch)
      throw ConfigError("PSUM_ADDR: the layer spills partial sums to DRAM (docs/tiling.md \"Spilling partial sums\"): "
                        "its scratch area of " + std::to_string(scratch) + " bytes at " + std::to_string(d.psum_addr) +
                        " overlaps " + r.name + " (" + std::to_string(r.bytes) + " bytes at " + std::to_string(r.addr) +
                        ")");
}

std::vector<Chunk> box_chunks(uint64_t base, uint32_t h, uint32_t w, uint32_t c0, uint32_t c1, uint32_t y0, uint32_t y1,
                              uint32_t x0, uint32_t x1, const ArchConfig& a) {
  const uint64_t ab = static_cast<uint64_t>(act_bytes(a));
  const uint64_t plane = uint64_t{h} * w * ab, row = uint64_t{w} * ab;
  std::vector<Chunk> out;
  if (x0 == 0 && x1 == w) {
    if (y0 == 0 && y1 == h) return {{base + c0 * plane, plane * (c1 - c0)}};
    for (uint32_t c = c0; c < c1; ++c) out.push_back({base + c * plane + y0 * row, (y1 - y0) * row});
    return out;
  }
  for (uint32_t c = c0; c < c1; ++c)
    for (uint32_t y = y0; y < y1; ++y) out.push_back({base + c * plane + y * row + x0 * ab, (x1 - x0) * ab});
  return out;
}

std::vector<Chunk> input_band_chunks(const LayerDescriptor& d, const ArchConfig& a, uint32_t y0, uint32_t y1) {
  return box_chunks(d.in_addr, d.in_h, d.in_w, 0, d.in_c, y0, y1, 0, d.in_w, a);
}

std::vector<Chunk> output_chunks(uint64_t base, uint32_t h, uint32_t w, uint32_t m0, uint32_t n, uint32_t oy0,
                                 uint32_t oy1, const ArchConfig& a) {
  return box_chunks(base, h, w, m0, m0 + n, oy0, oy1, 0, w, a);
}

void strip_input_cols(const LayerDescriptor& d, uint32_t ox0, uint32_t ox1, uint32_t* x0, uint32_t* x1) {
  const int64_t first = static_cast<int64_t>(ox0) * d.stride_w - d.pad_l;
  const int64_t last = static_cast<int64_t>(ox1 - 1) * d.stride_w - d.pad_l + d.kw - 1;
  *x0 = static_cast<uint32_t>(std::max<int64_t>(0, first));
  *x1 = static_cast<uint32_t>(std::min<int64_t>(d.in_w, last + 1));
}

uint64_t dram_cycles(uint64_t bytes, const DramConfig& d) {
  return static_cast<uint64_t>(d.latency_cycles) + ceil_div(bytes, static_cast<uint64_t>(d.bytes_per_cycle));
}


}  // namespace brsim
