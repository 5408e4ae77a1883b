// A layer's plan (docs/cycle-model.md "Cycle model" and "Memory"): the order
// in which the controller fetches, computes and writes back, written once.
// The controller executes it in SystemC time (Controller::run_layer, with
// real DMA transfers, folds and the output stage), and closed_form() executes
// it on a counter timeline; so the prefetch order and the DMA pipelining
// formula (dma_timeline.h) hold for both by construction.
//
// The walk: m-tiles (C output channels each; is: m-ranges of all M, or as
// many as the buffers hold), then bands of output rows, then column strips
// of a band, then input-channel chunks, then weight loads, then folds
// (layer_schedule.h, tiling.h; docs/dataflows.md "Loop orders",
// docs/tiling.md). A tile is (band, strip) of every image of the batch:
// its pixels are the band's pixels of image 0, then of image 1, ...
// (docs/cycle-model.md "Batches"), so one weight load serves the whole
// batch; its partial sums accumulate in the output buffer across its
// chunks and weight loads (a spilling schedule: across the weight loads
// through a DRAM scratch area, walk_spill). The parameter table of
// an m-tile and the input of a tile's chunk are fetched before they are used;
// serially every transfer is issued and waited for at once, while double
// buffering issues transfers ahead (weights: load l + 1 when load l's first
// fold starts; activations: the next band's input and the next m-tile's
// parameters when a chunk's first fold starts) and writes outputs behind (the
// next output stage waits for the previous write). The layer ends when its
// last write has landed.
#pragma once

#include <cstdint>
#include <vector>

#include "arch.h"
#include "fold.h"
#include "dram_layout.h"
#include "layer_schedule.h"

namespace brsim {

// One fold of the plan: load j of (m-tile mt, band b, strip st), pixels
// [p0, p0 + p) of the tile (image after image of the batch; each image's
// rows x its strip's columns, row-major).
struct PlanFold {
  uint64_t mt = 0, j = 0, p0 = 0, p = 0;
  uint32_t band = 0, strip = 0;
};

// The output stage's cycles: one output pixel (C lanes) per cycle, and with
// pooling one window element per cycle over the staged m-tile (every image
// of the batch); an is m-range wider than C passes `lane_groups` times
// (Schedule::lane_groups).
inline uint64_t output_stage_cycles(uint64_t band_pixels, uint64_t lane_groups = 1) { return band_pixels * lane_groups; }
// (pool_by_rows: `rows` pooled rows at a time).
inline uint64_t pool_stage_cycles(const LayerDescriptor& d, uint64_t lane_groups = 1, uint64_t rows = ~uint64_t{0}) {
  return std::min<uint64_t>(rows, d.pooled_h()) * d.pooled_w() * d.pool_kh * d.pool_kw * lane_groups * d.batch;
}
// Pooled rows whose windows' conv rows all lie in [0, oy1).
inline uint32_t pooled_rows_done(const LayerDescriptor& d, uint32_t oy1) {
  uint32_t n = 0;
  while (n < d.pooled_h() && std::min<int64_t>(d.out_h(), int64_t{n} * d.pool_sh - d.pool_pt + d.pool_kh) <= oy1) ++n;
  return n;
}

struct LayerPlan {
  LayerPlan(const LayerDescriptor& d, const ArchConfig& a) : d(d), a(a), s(make_schedule(d, a)) {}
  LayerPlan(const LayerDescriptor& d, const ArchConfig& a, const Schedule& s) : d(d), a(a), s(s) {}
  const LayerDescriptor& d;
  const ArchConfig& a;
  const Schedule s;

  // Output rows [oy0, oy1) of band b and the input rows [y0, y1) it reads.
  uint32_t band_oy0(uint32_t b) const { return b * s.band_rows; }
  uint32_t band_oy1(uint32_t b) const { return std::min(d.out_h(), (b + 1) * s.band_rows); }
  uint64_t band_pixels(uint32_t b) const { return uint64_t{band_oy1(b) - band_oy0(b)} * d.out_w(); }
  // Output columns [ox0, ox1) of strip st; pixels of tile (b, st).
  uint32_t strip_ox0(uint32_t st) const { return st * s.strip_cols; }
  uint32_t strip_ox1(uint32_t st) const { return std::min(d.out_w(), (st + 1) * s.strip_cols); }
  // ... of one image, and of the whole batch (what the folds stream).
  uint64_t tile_pixels(uint32_t b, uint32_t st) const {
    return uint64_t{band_oy1(b) - band_oy0(b)} * (strip_ox1(st) - strip_ox0(st));
  }
  uint64_t batch_pixels(uint32_t b, uint32_t st) const { return tile_pixels(b, st) * d.batch; }
  // DRAM byte addresses of image i's input and output.
  uint64_t in_base(uint32_t i) const { return d.in_addr + i * d.in_image_step(static_cast<uint64_t>(act_bytes(a))); }
  uint64_t out_base(uint32_t i) const { return d.out_addr + i * d.out_image_step(static_cast<uint64_t>(act_bytes(a))); }
  // Input channels [c0, c1) of chunk q.
  void chunk_channels(uint64_t q, uint32_t* c0, uint32_t* c1) const {
    brsim::chunk_channels(d, static_cast<uint64_t>(s.rows), s.chunk_kt0(q), s.chunk_kt1(q), c0, c1);
  }
  std::vector<Chunk> params_chunks(uint64_t mt) const {
    return {{d.param_addr + s.m0(mt) * kParamBytes, s.tile_cols(mt) * kParamBytes}};
  }
  // The input of chunk q of tile (b, st): its channels' rows and halo
  // columns, image after image.
  std::vector<Chunk> input_chunks(uint32_t b, uint32_t st = 0, uint64_t q = 0) const {
    uint32_t y0, y1, x0, x1, c0, c1;
    band_input_rows(d, band_oy0(b), band_oy1(b), &y0, &y1);
    if (s.strips > 1) strip_input_cols(d, strip_ox0(st), strip_ox1(st), &x0, &x1);
    else x0 = 0, x1 = d.in_w;
    chunk_channels(q, &c0, &c1);
    std::vector<Chunk> out;
    for (uint32_t i = 0; i < d.batch; ++i) {
      const std::vector<Chunk> one = box_chunks(in_base(i), d.in_h, d.in_w, c0, c1, y0, y1, x0, x1, a);
      out.insert(out.end(), one.begin(), one.end());
    }
    return out;
  }
  std::vector<Chunk> weight_chunks(uint64_t mt, uint64_t j) const { return weight_load_chunks(d, s, a, mt, j); }
  void weight_chunks(uint64_t mt, uint64_t j, std::vector<Chunk>* out) const { weight_load_chunks(d, s, a, mt, j, out); }
  // A tile's outputs (pooled rows [py0, py1)), image after image.
  std::vector<Chunk> output_tile_chunks(uint64_t mt, uint32_t b, uint32_t st) const {
    const uint32_t m0 = static_cast<uint32_t>(s.m0(mt));
    std::vector<Chunk> out;
    for (uint32_t i = 0; i < d.batch; ++i) {
      const std::vector<Chunk> one = box_chunks(out_base(i), d.out_h(), d.out_w(), m0,
                                                m0 + static_cast<uint32_t>(s.tile_cols(mt)), band_oy0(b), band_oy1(b),
                                                strip_ox0(st), strip_ox1(st), a);
      out.insert(out.end(), one.begin(), one.end());
    }
    return out;
  }
  std::vector<Chunk> output_pooled_chunks(uint64_t mt, uint32_t py0, uint32_t py1) const {
    std::vector<Chunk> out;
    for (uint32_t i = 0; i < d.batch; ++i) {
      const std::vector<Chunk> one = output_chunks(out_base(i), d.pooled_h(), d.pooled_w(), static_cast<uint32_t>(s.m0(mt)),
                                                   static_cast<uint32_t>(s.tile_cols(mt)), py0, py1, a);
      out.insert(out.end(), one.begin(), one.end());
    }
    return out;
  }

  // Spilling (Schedule::spill): the DRAM scratch area of tile (b, st)'s
  // partial sums in m-tile mt, one transfer (the tile's pixels, image after
  // image, x C' sums of acc_bytes; tiles one after the other, every m-tile
  // in the same area).
  std::vector<Chunk> spill_chunks(uint64_t mt, uint32_t b, uint32_t st) const {
    const uint64_t per_pixel = s.tile_cols(mt) * static_cast<uint64_t>(acc_bytes(a));
    const uint64_t before = d.batch * (uint64_t{band_oy0(b)} * d.out_w() + uint64_t{band_oy1(b) - band_oy0(b)} * strip_ox0(st));
    return {{d.psum_addr + before * per_pixel, batch_pixels(b, st) * per_pixel}};
  }

  // Walks the layer through executor x, which provides (Ticket: a transfer
  // in flight):
  //   Ticket read(const Chunk&), write(const Chunk&, uint64_t offset)
  //                  issue a transfer (a write's bytes: the executor's last
  //                  output stage's, from `offset`)
  //   void await(const Ticket&)   stall until the transfer is done
  //   void params(mt, Ticket), input(b, st, q, tickets)   their data arrived
  //   void tile(mt, b, st)        a tile's folds begin (its partial sums clear)
  //   void weights(mt, b, j, tickets, prefetch)    load j arrived (one
  //                  transfer per array m-tile it spans); prefetch: the bytes
  //                  of the next load now requested behind it (0: none)
  //   void fold(const PlanFold&)  one fold of the load
  //   void tile_done(mt, b, st)   the tile's partial sums are complete
  //   void output_stage(mt, b, st), pool_stage(mt, py0, py1)
  //                               the output stage's work (pooled rows [py0, py1))
  //   void done()                 every transfer has landed
  // and, for a spilling schedule (walk_spill),
  //   void spill(mt, b, st)       the tile's partial sums out of the output
  //                               buffer, to be written (as write's bytes)
  //   void refill(mt, b, st, tickets)  they arrived back from DRAM
  template <class X>
  void walk(X& x) const;
  template <class X>
  void walk_spill(X& x) const;

  // Every tile is one pixel, in one band, strip, chunk and pass, without
  // pooling (a fully connected layer at batch 1), weight stationary: the
  // shape walk_one_pixel() takes.
  bool one_pixel() const {
    return !s.spill && s.flow == Dataflow::WeightStationary && d.batch == 1 && s.passes == 1 && s.bands == 1 && s.strips == 1 &&
           s.chunks == 1 && s.k_chunk == 1 && d.pool == PoolKind::None && batch_pixels(0, 0) == 1 && s.pixel_tile(1) == 1;
  }
  // walk() of a one_pixel() layer, every transfer and fold in the same
  // order, with each weight load's read and fold kept on a timeline in a
  // few operations (no chunk lists, no transfer objects): what makes a
  // fully connected layer's 10^5 loads cheap to execute. X provides
  // walk()'s read, write, await, params, input, tile, tile_done,
  // output_stage, done, and:
  //   uint64_t now()                   its cycle
  //   void catch_up(t, stall)          its time moves on to cycle t, `stall` cycles of that waiting for weights
  //   uint64_t book_load(bytes, t)     a weight load's read issued at cycle t: the cycle it is done
  //   void load(mt, j, bytes, prefetch)  load j arrived (as weights()), prefetch: the next load's bytes behind it
  //   void folds(mt, j0, j1)           the folds of loads [j0, j1) (one each), whose edges the timeline has
  template <class X>
  void walk_one_pixel(X& x) const;
};

// The closed form of the cycle count (docs/cycle-model.md), every dataflow:
// the plan on a counter timeline.
LayerCycles closed_form(const LayerDescriptor& d, const ArchConfig& a);
// ... of the layer on schedule s (make_schedule compares tilings by it).
LayerCycles closed_form(const LayerDescriptor& d, const ArchConfig& a, const Schedule& s);

template <class X>
void LayerPlan::walk(X& x) const {
  if (s.spill) return walk_spill(x);
  using Ticket = typename X::Ticket;
  const bool dbw = a.double_buffer_weights, dba = a.double_buffer_activations;
  const bool pooled = d.pool != PoolKind::None;
  auto read_all = [&](const std::vector<Chunk>& chunks) {  // issued together
    std::vector<Ticket> t;
    for (const Chunk& c : chunks) t.push_back(x.read(c));
    return t;
  };
  auto read_serial = [&](const std::vector<Chunk>& chunks) {  // each waited for before the next
    std::vector<Ticket> t;
    for (const Chunk& c : chunks) {
      t.push_back(x.read(c));
      x.await(t.back());
    }
    return t;
  };
  auto await_all = [&](std::vector<Ticket>* t) {
    for (const Ticket& k : *t) x.await(k);
    t->clear();
  };
  // Output chunks: written behind (double-buffered activations) or serially.
  auto write_out = [&](const std::vector<Chunk>& chunks) {
    std::vector<Ticket> t;
    uint64_t off = 0;
    for (const Chunk& c : chunks) {
      t.push_back(x.write(c, off));
      off += c.bytes;
      if (!dba) x.await(t.back());
    }
    if (!dba) t.clear();
    return t;
  };
  const uint64_t loads = s.m_tiles * s.bands * s.strips * s.loads;  // weight loads of the layer, in order
  Ticket params{};
  std::vector<Ticket> input, writes, weights, arrived;
  std::vector<Chunk> wchunks;  // a load's transfers (kept: a layer has up to 10^5 loads)
  // A load's transfers issued together (each waited for before the next: serial) into *t.
  auto read_weights = [&](uint64_t mt, uint64_t j, bool serial, std::vector<Ticket>* t) {
    weight_chunks(mt, j, &wchunks);
    t->clear();
    for (const Chunk& c : wchunks) {
      t->push_back(x.read(c));
      if (serial) x.await(t->back());
    }
  };
  if (dba) {
    params = x.read(params_chunks(0)[0]);
    input = read_all(input_chunks(0, 0, 0));
  }
  uint64_t l = 0;
  for (uint64_t mt = 0; mt < s.m_tiles; ++mt) {
    if (!dba) params = x.read(params_chunks(mt)[0]);
    x.await(params);
    x.params(mt, params);
    uint32_t pooled_rows = 0;  // pool_by_rows: pooled rows written so far
    for (uint32_t b = 0; b < s.bands; ++b) {
      for (uint32_t st = 0; st < s.strips; ++st) {
        x.tile(mt, b, st);
        const uint64_t pb = batch_pixels(b, st);
        for (uint64_t q = 0; q < s.chunks; ++q) {
          if (dba) {
            for (const Ticket& t : input) x.await(t);
          } else {
            input = read_serial(input_chunks(b, st, q));
          }
          x.input(b, st, q, input);
          for (uint64_t j = s.chunk_j0(q); j < s.chunk_j1(q); ++j, ++l) {
            if (!dbw || l == 0) read_weights(mt, j, !dbw, &weights);
            for (const Ticket& t : weights) x.await(t);
            arrived.assign(weights.begin(), weights.end());
            // This load's first fold starts now: issue what loads behind it.
            uint64_t prefetch = 0;
            if (dbw && l + 1 < loads) {
              // The next load: the next strip or k-tile, or the first of the next tile or m-tile.
              const uint64_t nj = j + 1 < s.loads ? j + 1 : 0;
              const uint64_t nmt = (j + 1 < s.loads || st + 1 < s.strips || b + 1 < s.bands) ? mt : mt + 1;
              read_weights(nmt, nj, false, &weights);
              for (const Chunk& c : wchunks) prefetch += c.bytes;
            }
            if (dba && j == s.chunk_j0(q)) {
              // The next chunk's, tile's or band's input (and the next m-tile's parameters).
              uint64_t nq = q + 1;
              uint32_t nst = st, nb = b;
              if (nq == s.chunks) nq = 0, ++nst;
              if (nst == s.strips) nst = 0, ++nb;
              if (nb < s.bands || mt + 1 < s.m_tiles) {
                if (nb == s.bands) nb = 0, params = x.read(params_chunks(mt + 1)[0]);
                input = read_all(input_chunks(nb, nst, nq));
              }
            }
            x.weights(mt, b, j, arrived, prefetch);
            // The load's folds: the whole tile (ws), or pieces of C (is) or R (os) pixels.
            const uint64_t pt = s.pixel_tile(pb);
            for (uint64_t p0 = 0; p0 < pb; p0 += pt) x.fold(PlanFold{mt, j, p0, std::min(pt, pb - p0), b, st});
          }
        }
        x.tile_done(mt, b, st);
        if (!pooled) await_all(&writes);  // the staging area of the previous tile's write is free again
        x.output_stage(mt, b, st);
        if (!pooled) writes = write_out(output_tile_chunks(mt, b, st));
      }
      if (pooled && s.pool_by_rows) {  // the pooled rows whose conv rows are all done
        const uint32_t done = pooled_rows_done(d, band_oy1(b));
        if (done > pooled_rows) {
          await_all(&writes);
          x.pool_stage(mt, pooled_rows, done);
          writes = write_out(output_pooled_chunks(mt, pooled_rows, done));
          pooled_rows = done;
        }
      }
    }
    if (pooled && !s.pool_by_rows) {
      await_all(&writes);
      x.pool_stage(mt, 0, d.pooled_h());
      writes = write_out(output_pooled_chunks(mt, 0, d.pooled_h()));
    }
  }
  x.done();  // the layer is done when its last write has landed
}

// The spilling loop order (serial memory; docs/tiling.md "Spilling partial
// sums"): per m-tile, each weight load once, then every tile: its input
// (the channels of the load's k-tiles), its partial sums (cleared for the first
// load, read back from the scratch area after), the fold, then the sums
// written to the scratch area, or after the last load the output stage.
//
//   for m-tile                   parameters
//     for load j                 weights: once (ws, is: k-tile j; os: a strip of k-tiles)
//       for band b, strip st     input: load j's channels of the tile
//                                partial sums: clear (j = 0), else read back
//         fold                   the tile's pixels
//         j < last: spill        the tile's partial sums to DRAM
//         j = last: output stage (pooling by rows: after each band)
//     (pooling staged whole: pool the m-tile, write it)
template <class X>
void LayerPlan::walk_spill(X& x) const {
  using Ticket = typename X::Ticket;
  const bool pooled = d.pool != PoolKind::None;
  auto serial = [&](const std::vector<Chunk>& chunks, bool write) {  // each waited for before the next
    std::vector<Ticket> t;
    uint64_t off = 0;
    for (const Chunk& c : chunks) {
      t.push_back(write ? x.write(c, off) : x.read(c));
      off += c.bytes;
      x.await(t.back());
    }
    return t;
  };
  for (uint64_t mt = 0; mt < s.m_tiles; ++mt) {
    const Ticket params = x.read(params_chunks(mt)[0]);
    x.await(params);
    x.params(mt, params);
    for (uint64_t j = 0; j < s.loads; ++j) {
      x.weights(mt, 0, j, serial(weight_chunks(mt, j), false), 0);
      const bool last = j + 1 == s.loads;
      uint32_t pooled_rows = 0;
      for (uint32_t b = 0; b < s.bands; ++b) {
        for (uint32_t st = 0; st < s.strips; ++st) {
          x.input(b, st, j, serial(input_chunks(b, st, j), false));
          if (j == 0) x.tile(mt, b, st);
          else x.refill(mt, b, st, serial(spill_chunks(mt, b, st), false));
          const uint64_t pb = batch_pixels(b, st), pt = s.pixel_tile(pb);
          for (uint64_t p0 = 0; p0 < pb; p0 += pt) x.fold(PlanFold{mt, j, p0, std::min(pt, pb - p0), b, st});
          if (!last) {
            x.spill(mt, b, st);
            serial(spill_chunks(mt, b, st), true);
            continue;
          }
          x.tile_done(mt, b, st);
          x.output_stage(mt, b, st);
          if (!pooled) serial(output_tile_chunks(mt, b, st), true);
        }
        if (last && pooled && s.pool_by_rows) {
          const uint32_t done = pooled_rows_done(d, band_oy1(b));
          if (done > pooled_rows) {
            x.pool_stage(mt, pooled_rows, done);
            serial(output_pooled_chunks(mt, pooled_rows, done), true);
            pooled_rows = done;
          }
        }
      }
    }
    if (pooled && !s.pool_by_rows) {
      x.pool_stage(mt, 0, d.pooled_h());
      serial(output_pooled_chunks(mt, 0, d.pooled_h()), true);
    }
  }
  x.done();
}

template <class X>
void LayerPlan::walk_one_pixel(X& x) const {
  using Ticket = typename X::Ticket;
  const bool dbw = a.double_buffer_weights, dba = a.double_buffer_activations;
  const uint64_t R = static_cast<uint64_t>(s.rows), C = static_cast<uint64_t>(s.cols), last_kt = s.k_tiles - 1;
  const uint64_t loads = s.m_tiles * s.loads;
  // Load j's bytes in m-tile mt: every k-tile's but the last's alike (kept per m-tile width).
  uint64_t bytes_cols = ~uint64_t{0}, bytes_of[2] = {0, 0};
  auto load_bytes = [&](uint64_t mt, uint64_t j) {
    const uint64_t cols = s.tile_cols(mt);
    if (cols != bytes_cols)
      bytes_cols = cols, bytes_of[0] = weight_tile_bytes(R, cols, a), bytes_of[1] = weight_tile_bytes(s.tile_rows(last_kt), cols, a);
    return bytes_of[j == last_kt];
  };
  Ticket params{};
  std::vector<Ticket> input, writes;
  auto read_input = [&](bool serial) {
    input.clear();
    for (const Chunk& c : input_chunks(0)) {
      input.push_back(x.read(c));
      if (serial) x.await(input.back());
    }
  };
  if (dba) {
    params = x.read(params_chunks(0)[0]);
    read_input(false);
  }
  uint64_t l = 0, next_done = 0;  // dbw: the load requested behind the current one
  for (uint64_t mt = 0; mt < s.m_tiles; ++mt) {
    if (!dba) params = x.read(params_chunks(mt)[0]);
    x.await(params);
    x.params(mt, params);
    x.tile(mt, 0, 0);
    if (dba) {
      for (const Ticket& t : input) x.await(t);
    } else {
      read_input(true);
    }
    x.input(0, 0, 0, input);
    const uint64_t cols = s.tile_cols(mt);
    const uint64_t edges[2] = {fold_timing(s.flow, R, C, R, cols, 1).edges(),
                               fold_timing(s.flow, R, C, s.tile_rows(last_kt), cols, 1).edges()};
    uint64_t t = x.now(), stall = 0, j = 0;
    auto await_load = [&](uint64_t done) {
      if (done > t) stall += done - t, t = done;
    };
    try {
      for (; j < s.loads; ++j, ++l) {
        const uint64_t bytes = load_bytes(mt, j);
        if (!dbw || l == 0) await_load(x.book_load(bytes, t));
        else await_load(next_done);
        uint64_t prefetch = 0;
        if (dbw && l + 1 < loads) {  // the next load: the next k-tile, or the next m-tile's first
          prefetch = j + 1 < s.loads ? load_bytes(mt, j + 1) : load_bytes(mt + 1, 0);
          next_done = x.book_load(prefetch, t);
        }
        if (dba && j == 0 && mt + 1 < s.m_tiles) {  // the next m-tile's parameters and input
          x.catch_up(t, stall), stall = 0;
          params = x.read(params_chunks(mt + 1)[0]);
          read_input(false);
        }
        x.load(mt, j, bytes, prefetch);
        t += edges[j == last_kt];
      }
    } catch (...) {
      x.catch_up(t, stall);  // an error's time passes as walk()'s would, and the folds before it run
      x.folds(mt, 0, j);
      throw;
    }
    x.catch_up(t, stall);
    x.folds(mt, 0, s.loads);
    x.tile_done(mt, 0, 0);
    for (const Ticket& t : writes) x.await(t);
    writes.clear();
    x.output_stage(mt, 0, 0);
    uint64_t off = 0;
    for (const Chunk& c : output_tile_chunks(mt, 0, 0)) {
      writes.push_back(x.write(c, off));
      off += c.bytes;
      if (!dba) x.await(writes.back());
    }
    if (!dba) writes.clear();
  }
  x.done();
}

}  // namespace brsim
