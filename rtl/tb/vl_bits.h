// Bit-field access to Verilated ports: wide ports are arrays of 32-bit words
// (VlWide), narrow ones plain integers. Fields are up to 64 bits.
#pragma once

#include <cstddef>
#include <cstdint>

#include "verilated.h"

namespace rtlcheck {

template <std::size_t N>
uint64_t get_bits(const VlWide<N>& w, int lsb, int width) {
  uint64_t v = 0;
  for (int b = 0; b < width; ++b) {
    const int i = lsb + b;
    v |= static_cast<uint64_t>((w[static_cast<std::size_t>(i / 32)] >> (i % 32)) & 1u) << b;
  }
  return v;
}

template <typename T>
uint64_t get_bits(const T& w, int lsb, int width) {
  const uint64_t v = static_cast<uint64_t>(w) >> lsb;
  return width >= 64 ? v : v & ((uint64_t{1} << width) - 1);
}

template <typename T>
void set_bits(T* w, int lsb, int width, uint64_t value) {
  const uint64_t mask = width >= 64 ? ~uint64_t{0} : (uint64_t{1} << width) - 1;
  uint64_t v = static_cast<uint64_t>(*w);
  v = (v & ~(mask << lsb)) | ((value & mask) << lsb);
  *w = static_cast<T>(v);
}

inline uint64_t mask_bits(int width) { return width >= 64 ? ~uint64_t{0} : (uint64_t{1} << width) - 1; }
// Two's complement value of the low `width` bits of v.
inline int64_t sign_extend(uint64_t v, int width) {
  v &= mask_bits(width);
  if (width < 64 && (v >> (width - 1)) & 1) v |= ~mask_bits(width);
  return static_cast<int64_t>(v);
}

}  // namespace rtlcheck
