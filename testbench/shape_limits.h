// Overflow-safe size arithmetic and the shape limits every input is held to
// (docs/reliability.md "Limits"): checked where a shape enters (CLI, ONNX,
// topology CSV), before anything is allocated. The register limits come from
// the register map (docs/cycle-model.md "Register map"): KERNEL and STRIDE hold 16 bits
// per axis, PAD one byte per side.
#pragma once

#include <cstdint>
#include <initializer_list>

namespace brsim {

constexpr int64_t kMaxSpatial = 65535;        // an input height or width, a kernel or stride side
constexpr int64_t kMaxPad = 255;              // zero padding per side (PAD register byte)
constexpr int64_t kMaxChannels = 1 << 20;     // input channels or filters of one layer
constexpr int64_t kMaxTensorValues = int64_t{1} << 31;  // values in one tensor (activations or weights)

// a * b * ..., or -1 when a factor is negative or the product passes `limit`
// (no intermediate ever overflows: each step is checked against the limit).
inline int64_t checked_product(std::initializer_list<int64_t> factors, int64_t limit = kMaxTensorValues) {
  int64_t p = 1;
  for (int64_t f : factors) {
    if (f < 0) return -1;
    if (f != 0 && p > limit / f) return -1;
    p *= f;
  }
  return p > limit ? -1 : p;
}

// a + b saturating at INT64_MAX (sizes in bytes summed for memory estimates).
inline uint64_t saturating_add(uint64_t a, uint64_t b) { return a > UINT64_MAX - b ? UINT64_MAX : a + b; }
inline uint64_t saturating_mul(uint64_t a, uint64_t b) {
  return (b != 0 && a > UINT64_MAX / b) ? UINT64_MAX : a * b;
}

}  // namespace brsim
