#include "dram_layout.h"

#if defined(__x86_64__)
#include <immintrin.h>  // _pdep_u64 (BMI2)
#endif

#include <algorithm>
#include <cstring>
#include <type_traits>

#include "errors.h"
#include "layer_schedule.h"
#include "simd.h"

namespace brsim {

namespace {
uint64_t ceil_div(uint64_t a, uint64_t b) { return (a + b - 1) / b; }
}  // namespace

int stored_weight_bits(const ArchConfig& a) { return a.pe == PeType::Fixed16 ? 16 : a.weight_bits; }

uint64_t weight_tile_bytes(uint64_t rows, uint64_t cols, const ArchConfig& a) {
  return ceil_div(rows * cols * static_cast<uint64_t>(stored_weight_bits(a)), 8);
}


uint64_t weight_tile_offset(const LayerDescriptor& d, const ArchConfig& a, uint64_t mt, uint64_t kt) {
  const uint64_t R = static_cast<uint64_t>(a.rows), C = static_cast<uint64_t>(a.cols);
  const uint64_t K = d.gemm_k(), M = d.gemm_m(), kts = ceil_div(K, R), last_rows = K - (kts - 1) * R;
  // Every m-tile but the last has C columns; every k-tile but the last R rows.
  auto m_tile_bytes = [&](uint64_t cols) {
    return (kts - 1) * weight_tile_bytes(R, cols, a) + weight_tile_bytes(last_rows, cols, a);
  };
  const uint64_t full_cols_tiles = std::min(mt, M / C);
  uint64_t off = full_cols_tiles * m_tile_bytes(C);
  if (mt > full_cols_tiles) off += m_tile_bytes(M - full_cols_tiles * C);
  return off + kt * weight_tile_bytes(R, std::min(C, M - mt * C), a);
}

uint64_t weight_bytes(const LayerDescriptor& d, const ArchConfig& a) {
  const uint64_t R = static_cast<uint64_t>(a.rows), C = static_cast<uint64_t>(a.cols);
  const uint64_t K = d.gemm_k(), M = d.gemm_m();
  uint64_t total = 0;
  for (uint64_t m = 0; m * C < M; ++m)
    for (uint64_t k = 0; k * R < K; ++k) total += weight_tile_bytes(std::min(R, K - k * R), std::min(C, M - m * C), a);
  return total;
}

uint64_t m_tile_weight_bytes(uint64_t K, uint64_t cols, const ArchConfig& a) {
  const uint64_t R = static_cast<uint64_t>(a.rows);
  uint64_t bytes = 0;
  for (uint64_t k0 = 0; k0 < K; k0 += R) bytes += weight_tile_bytes(std::min(R, K - k0), cols, a);
  return bytes;
}

// The m-tile's k-tiles in order, each R' x C' row-major, its codes LSB first
// in one bit stream padded to a byte.
void pack_m_tile(const uint8_t* codes, const int16_t* fixed, uint64_t K, uint64_t M, uint64_t mt, const ArchConfig& a,
                 uint8_t* dst) {
  const uint64_t R = static_cast<uint64_t>(a.rows), C = static_cast<uint64_t>(a.cols), m0 = mt * C;
  const int bits = stored_weight_bits(a);
  const uint64_t mask = (uint64_t{1} << bits) - 1;
  uint64_t pos = 0;
  for (uint64_t k0 = 0; k0 < K; k0 += R) {
    const uint64_t rows = std::min(R, K - k0), cols = std::min(C, M - m0);
    const uint64_t end = pos + weight_tile_bytes(rows, cols, a);
    uint64_t acc = 0;  // bits not yet stored, LSB first
    int have = 0;
    for (uint64_t r = 0; r < rows; ++r)
      for (uint64_t c = 0; c < cols; ++c) {
        const size_t i = static_cast<size_t>((k0 + r) * M + m0 + c);
        const uint64_t v = fixed ? static_cast<uint16_t>(fixed[i]) : codes[i];
        acc |= (v & mask) << have;
        for (have += bits; have >= 8; have -= 8, acc >>= 8) dst[pos++] = static_cast<uint8_t>(acc);
      }
    if (have > 0) dst[pos++] = static_cast<uint8_t>(acc);
    if (pos != end) throw ConfigError("pack_weights: tile of " + std::to_string(rows) + "x" + std::to_string(cols) +
                                      " codes does not fill its " + std::to_string(end - pos) + " bytes");
  }
}

// Tile after tile: m-tiles, then k-tiles.
std::vector<uint8_t> pack_weights(const uint8_t* codes, const int16_t* fixed, uint64_t K, uint64_t M,
                                  const ArchConfig& a) {
  const uint64_t C = static_cast<uint64_t>(a.cols);
  std::vector<uint8_t> out;
  for (uint64_t mt = 0; mt * C < M; ++mt) {
    const uint64_t at = out.size();
    out.resize(at + m_tile_weight_bytes(K, std::min(C, M - mt * C), a));
    pack_m_tile(codes, fixed, K, M, mt, a, out.data() + at);
  }
  return out;
}

namespace {

#if defined(__x86_64__)
// unpack() for codes of at most 8 bits while whole windows remain: eight
// codes (`bits` whole bytes) per 64-bit load, spread to one byte each by a
// bit deposit. Advances *i and *bit.
__attribute__((target("bmi2"))) void unpack_bmi2(const uint8_t* src, uint64_t size, uint64_t n, int bits, uint8_t* out,
                                                 uint64_t* i, uint64_t* bit) {
  const uint64_t byte_mask = ((uint64_t{1} << bits) - 1) * 0x0101010101010101ull;
  uint64_t k = *i, b = *bit;  // (locals: the stores to out could alias *i and *bit)
  for (; k + 8 <= n && b / 8 + 8 <= size; k += 8, b += 8 * static_cast<uint64_t>(bits)) {
    uint64_t w;
    std::memcpy(&w, &src[b / 8], 8);
    const uint64_t spread = _pdep_u64(w, byte_mask);
    std::memcpy(out + k, &spread, 8);
  }
  // The last groups, fewer than 8 bytes before the end: the buffer's last
  // 8 bytes shifted down to the group (a load of bytes just stored
  // elsewhere would wait for them; these were not).
  if (size >= 8 && b % 8 == 0) {
    uint64_t last;
    std::memcpy(&last, &src[size - 8], 8);
    for (; k < n; k += 8, b += 8 * static_cast<uint64_t>(bits)) {
      const uint64_t b0 = b / 8;  // the group starts on a byte (8 codes are `bits` bytes)
      uint64_t w;
      if (b0 + 8 <= size) std::memcpy(&w, &src[b0], 8);
      else w = last >> (8 * (b0 + 8 - size));  // b0 < size: the group's first code is in the buffer
      const uint64_t spread = _pdep_u64(w, byte_mask);
      std::memcpy(out + k, &spread, std::min<uint64_t>(8, n - k));
    }
  }
  *i = k, *bit = b;
}

const bool kBmi2 = __builtin_cpu_supports("bmi2");

// unpack_vbmi's byte gather and bit offsets per code width (built once).
struct VbmiTables {
  alignas(64) uint8_t idx[9][64];
  alignas(64) uint8_t shift[9][64];
  VbmiTables() {
    for (int bits = 0; bits <= 8; ++bits)
      for (int j = 0; j < 8; ++j)
        for (int m = 0; m < 8; ++m) {
          idx[bits][8 * j + m] = static_cast<uint8_t>(bits * j + m);
          shift[bits][8 * j + m] = static_cast<uint8_t>(bits * m);
        }
  }
};
const VbmiTables& vbmi_tables() {
  static const VbmiTables t;
  return t;
}

// unpack() for codes of at most 8 bits, 64 at a time (`bits` x 8 bytes) with
// AVX-512 VBMI: lane j of eight bytes gathers the source bytes bits x j ..
// bits x j + 7 (vpermb), and code m of the lane is its byte at bit bits x m
// (vpmultishiftqb), masked. 64 source bytes at a time, the last of them
// from the buffer's last 64 (a masked load costs more than that here).
// Advances *i and *bit (a multiple of 8 bits).
__attribute__((target("avx512f,avx512bw,avx512vbmi"))) void unpack_vbmi(const uint8_t* src, uint64_t size, uint64_t n,
                                                                        int bits, uint8_t* out, uint64_t* i,
                                                                        uint64_t* bit) {
  const VbmiTables& t = vbmi_tables();
  const __m512i vidx = _mm512_load_si512(t.idx[bits]), vshift = _mm512_load_si512(t.shift[bits]);
  const __m512i mask = _mm512_set1_epi8(static_cast<char>((1u << bits) - 1u));
  const uint64_t step = 8 * static_cast<uint64_t>(bits);  // bytes per 64 codes
  uint64_t k = *i, b = *bit;
  for (; k + 64 <= n && b / 8 + 64 <= size; k += 64, b += 8 * step) {
    const __m512i w = _mm512_loadu_si512(src + b / 8);
    const __m512i codes = _mm512_and_si512(_mm512_multishift_epi64_epi8(vshift, _mm512_permutexvar_epi8(vidx, w)), mask);
    _mm512_storeu_si512(out + k, codes);
  }
  // The last 64 codes whose bytes end within 64 of the buffer's end: the
  // buffer's last 64 bytes, gathered from `back` bytes further in.
  if (k + 64 <= n && b / 8 + step <= size && size >= 64) {
    const uint64_t back = b / 8 - (size - 64);
    const __m512i w = _mm512_loadu_si512(src + size - 64);
    const __m512i at = _mm512_add_epi8(vidx, _mm512_set1_epi8(static_cast<char>(back)));
    _mm512_storeu_si512(out + k, _mm512_and_si512(_mm512_multishift_epi64_epi8(vshift, _mm512_permutexvar_epi8(at, w)), mask));
    k += 64, b += 8 * step;
  }
  *i = k, *bit = b;
}

bool vbmi_enabled() {
  if (!simd_avx512_enabled()) return false;  // (BRSIM_SIMD=avx2 or scalar: not either)
  return __builtin_cpu_supports("avx512vbmi");
}
const bool kVbmi = vbmi_enabled();
#endif

// Unpacks `n` fields of `bits` bits, LSB first, from `size` bytes (which
// hold them all): BRSLog codes (<= 8 bits) into bytes, 16-bit fixed-point
// weights into int16_t. A little-endian 64-bit window per field, zero
// filled where a window would pass the end.
template <class T>
void unpack(const uint8_t* src, uint64_t size, uint64_t n, int bits, T* out) {
  static_assert(std::is_same_v<T, uint8_t> || std::is_same_v<T, int16_t>, "codes or 16-bit weights");
  const uint32_t mask = (1u << bits) - 1u;
  uint64_t i = 0, bit = 0;
#if defined(__x86_64__)
  if constexpr (std::is_same_v<T, uint8_t>) {
    if (kVbmi) unpack_vbmi(src, size, n, bits, out, &i, &bit);
    if (kBmi2) unpack_bmi2(src, size, n, bits, out, &i, &bit);
  }
#endif
  // Eight codes of at most 8 bits are `bits` whole bytes: one load for all.
  if (bits <= 8)
    for (; i + 8 <= n && bit / 8 + 8 <= size; i += 8, bit += 8 * static_cast<uint64_t>(bits)) {
      uint64_t w;
      std::memcpy(&w, &src[bit / 8], 8);
      for (int k = 0; k < 8; ++k) out[i + static_cast<uint64_t>(k)] = static_cast<T>((w >> (k * bits)) & mask);
    }
  for (; i < n && bit / 8 + 8 <= size; ++i, bit += static_cast<uint64_t>(bits)) {
    uint64_t w;
    std::memcpy(&w, &src[bit / 8], 8);
    out[i] = static_cast<T>((w >> (bit % 8)) & mask);
  }
  // The last codes (fewer than 8 bytes left): each from its (at most three)
  // bytes, assembled in a register. (A wide load from a small copy of those
  // bytes would wait for the copy's stores to land, on every code.)
  for (; i < n; ++i, bit += static_cast<uint64_t>(bits)) {
    const uint64_t b0 = bit / 8;
    uint32_t w = 0;
    for (uint64_t k = 0; k < 3 && b0 + k < size; ++k) w |= uint32_t{src[b0 + k]} << (8 * k);
    out[i] = static_cast<T>((w >> (bit % 8)) & mask);
  }
}

}  // namespace

void unpack_weights(const uint8_t* src, uint64_t size, uint64_t n, int bits, uint8_t* out) { unpack(src, size, n, bits, out); }
void unpack_weights(const uint8_t* src, uint64_t size, uint64_t n, int bits, int16_t* out) { unpack(src, size, n, bits, out); }

std::vector<uint8_t> encode_activations(const std::vector<int32_t>& v, const ArchConfig& a) {
  const int ab = act_bytes(a);
  std::vector<uint8_t> out(v.size() * static_cast<size_t>(ab));
  for (size_t i = 0; i < v.size(); ++i) store_act(&out[i * static_cast<size_t>(ab)], v[i], ab);
  return out;
}

std::vector<int32_t> decode_activations(const std::vector<uint8_t>& bytes, const ArchConfig& a) {
  const int ab = act_bytes(a);
  std::vector<int32_t> out(bytes.size() / static_cast<size_t>(ab));
  for (size_t i = 0; i < out.size(); ++i) out[i] = load_act(&bytes[i * static_cast<size_t>(ab)], ab);
  return out;
}

void store_params(uint8_t* e, const ChannelParams& c) {
  std::memcpy(e, &c.bias, 8);
  std::memcpy(e + 8, &c.shift, 4);
  e[12] = c.n2, e[13] = c.p, e[14] = e[15] = 0;
}

ChannelParams load_params(const uint8_t* e) {
  ChannelParams c;
  std::memcpy(&c.bias, e, 8);
  std::memcpy(&c.shift, e + 8, 4);
  c.n2 = e[12], c.p = e[13];
  return c;
}

}  // namespace brsim
