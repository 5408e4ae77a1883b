// The tiling of a layer (docs/tiling.md): how a layer is cut so that every
// tile fits the on-chip buffers, whatever their size above one array tile.
//
//   bands   whole output rows (as many as the input buffer holds with every
//           input channel of their rows, and the output buffer their
//           partial sums); when a band of one row does not fit:
//   strips  output columns of a band, each with its input halo (the input
//           columns its windows read), as wide as the output buffer holds;
//   chunks  input channels of a tile, whole k-tiles (R rows of K) at a
//           time: the input buffer holds one chunk's channels; the partial
//           sums of the tile accumulate across chunks in the output buffer.
//   pool_by_rows  with fused pooling, the output buffer stages only the conv
//           rows the next pooled rows need (pool_kh - 1 + band rows), and
//           pooled rows are produced as soon as their window's conv rows are
//           done, instead of staging the whole conv output of an m-tile.
//
// The smallest tile is one output pixel of one k-tile: R x C weights (the
// weight buffer), the input values one k-tile of one pixel reads (the
// input buffer: the channels the k-tile spans x kh x kw), C partial sums
// (the output buffer; with pooling also pool_kh staged conv rows). Below
// that, chunked_tiling (and so make_schedule) throws a ConfigError naming the buffer, the bytes the
// smallest tile needs and the smallest capacity that works. Pure C++.
#pragma once

#include <cstdint>

#include "arch.h"

namespace brsim {

struct LayerDescriptor;

struct Tiling {
  uint32_t band_rows = 0, bands = 0;   // output rows per band (the last may be shorter)
  uint32_t strip_cols = 0, strips = 1; // output columns per strip (out_w: no strips)
  uint64_t chunk_ktiles = 0, chunks = 1;  // k-tiles per input-channel chunk (k_tiles: one chunk)
  bool pool_by_rows = false;           // pooling staged by conv rows (see above)
};

// Input channels [*c0, *c1) that k-tiles [kt0, kt1) of R rows read.
void chunk_channels(const LayerDescriptor& d, uint64_t R, uint64_t kt0, uint64_t kt1, uint32_t* c0, uint32_t* c1);

// Bytes of the input buffer a tile of n output rows x w output columns and
// chunks of q k-tiles needs (the widest chunk; two tiles with
// double-buffered activations), and of the output buffer its partial sums
// for `width` channels, the pooling staging and the write-behind staging need.
uint64_t tile_input_bytes(const LayerDescriptor& d, const ArchConfig& a, uint32_t n, uint32_t w, uint64_t q);
uint64_t tile_output_bytes(const LayerDescriptor& d, const ArchConfig& a, uint64_t width, uint32_t n, uint32_t w,
                           bool pool_by_rows);

// Bands of whole output rows with every input channel (pooling staged
// whole, else by rows), for m-tiles of `width` channels of partial sums per
// pixel; bands == 0 when not even one row fits.
Tiling band_tiling(const LayerDescriptor& d, const ArchConfig& a, uint64_t width);
// The tallest band (else the widest strip of one row) whose partial sums
// the output buffer holds and one k-tile of whose input the input buffer
// holds, with the widest input-channel chunks that fit; *k_chunk (os:
// k-tiles per weight load) shrinks to the chunk when chunks are smaller.
// Throws ConfigError (see above) when not even the smallest tile fits.
Tiling chunked_tiling(const LayerDescriptor& d, const ArchConfig& a, uint64_t width, uint64_t* k_chunk);

// The smallest capacity a buffer may have (64 bytes: validate(ArchConfig)) that holds `bytes`.
uint64_t smallest_buffer_capacity(uint64_t bytes);

// The tallest band of whole output rows with every input channel (no
// strips, no chunks) that fits; 0 when not even one row fits.
uint32_t full_band_rows(const LayerDescriptor& d, const ArchConfig& a, uint64_t width, bool pool_by_rows);

}  // namespace brsim
