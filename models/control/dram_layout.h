// How the accelerator's operands lie in DRAM (docs/cycle-model.md "Register
// map" and "DRAM layout"): the one home of each format, with both of its
// directions, the host's (testbench) and the controller's.
//   weights      R x C tiles in fold order (m-tile major, then k-tile), each
//                R' x C' codes row-major, bit-packed LSB first, padded to a byte
//   activations  C x H x W, ceil(A / 8) bytes each, little endian, two's complement
//   parameters   16 bytes per output channel: bias (int64, accumulator
//                units), requantization shift r (int32), n2, p, 2 bytes padding
#pragma once

#include <cstdint>
#include <type_traits>
#include <vector>

#include "arch.h"

namespace brsim {

struct LayerDescriptor;

// ---- Weights ----
// Bits of one stored weight: the code width (BRSLog) or 16 (fixed16).
int stored_weight_bits(const ArchConfig& a);
// Bytes of one R' x C' tile.
uint64_t weight_tile_bytes(uint64_t rows, uint64_t cols, const ArchConfig& a);
// Offset from w_addr of tile (m-tile mt, k-tile kt), and all of a layer's tiles.
uint64_t weight_tile_offset(const LayerDescriptor& d, const ArchConfig& a, uint64_t mt, uint64_t kt);
uint64_t weight_bytes(const LayerDescriptor& d, const ArchConfig& a);
// Bytes of one m-tile's weights: its k-tiles of `cols` columns.
uint64_t m_tile_weight_bytes(uint64_t K, uint64_t cols, const ArchConfig& a);
// A K x M weight matrix (row-major: w(k, m) at [k * M + m]) as stored: BRSLog
// codes, or fixed16 w_q (exactly one of the two is given); m-tile mt's
// tiles alone at dst (m_tile_weight_bytes of them), or the whole matrix.
void pack_m_tile(const uint8_t* codes, const int16_t* fixed, uint64_t K, uint64_t M, uint64_t mt, const ArchConfig& a,
                 uint8_t* dst);
std::vector<uint8_t> pack_weights(const uint8_t* codes, const int16_t* fixed, uint64_t K, uint64_t M,
                                  const ArchConfig& a);
// The first n fields of `bits` bits, LSB first, of `size` bytes that hold
// them all: BRSLog codes (<= 8 bits) into bytes, fixed16 w_q into int16_t.
void unpack_weights(const uint8_t* src, uint64_t size, uint64_t n, int bits, uint8_t* out);
void unpack_weights(const uint8_t* src, uint64_t size, uint64_t n, int bits, int16_t* out);

// ---- Activations ----
// A two's complement value of `bytes` bytes, little endian (T: int32_t for
// activations, int64_t for spilled partial sums).
template <class T>
inline T load_signed(const uint8_t* p, int bytes) {
  using U = std::make_unsigned_t<T>;
  U u = 0;
  for (int i = 0; i < bytes; ++i) u |= static_cast<U>(U{p[i]} << (8 * i));
  const int shift = 8 * static_cast<int>(sizeof(T)) - 8 * bytes;  // sign-extend
  return static_cast<T>(static_cast<T>(u << shift) >> shift);
}
template <class T>
inline void store_signed(uint8_t* p, T v, int bytes) {
  const auto u = static_cast<std::make_unsigned_t<T>>(v);
  for (int i = 0; i < bytes; ++i) p[i] = static_cast<uint8_t>(u >> (8 * i));
}
inline int32_t load_act(const uint8_t* p, int bytes) { return load_signed<int32_t>(p, bytes); }
inline void store_act(uint8_t* p, int32_t v, int bytes) { store_signed(p, v, bytes); }
std::vector<uint8_t> encode_activations(const std::vector<int32_t>& v, const ArchConfig& a);
std::vector<int32_t> decode_activations(const std::vector<uint8_t>& bytes, const ArchConfig& a);

// ---- Spilled partial sums ----
// An accumulator value (wrapped to acc_bits) as `bytes` (acc_bytes) bytes
// (docs/tiling.md "Spilling partial sums").
inline int64_t load_psum(const uint8_t* p, int bytes) { return load_signed<int64_t>(p, bytes); }
inline void store_psum(uint8_t* p, int64_t v, int bytes) { store_signed(p, v, bytes); }

// ---- Parameters ----
constexpr uint64_t kParamBytes = 16;
struct ChannelParams {
  int64_t bias = 0;   // accumulator units
  int32_t shift = 0;  // requantization shift r
  uint8_t n2 = 0, p = 0;  // segment split (per-channel mode)
};
void store_params(uint8_t* entry, const ChannelParams& c);
ChannelParams load_params(const uint8_t* entry);

}  // namespace brsim
