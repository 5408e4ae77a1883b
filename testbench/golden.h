// The golden reference (ARCHITECTURE.md "data flow"): integer GEMM, conv2d,
// fully connected, pooling and requantization on quantized tensors, built only
// on the bit-exact numerics of models/ (decoder, AE, accumulator, requant).
// The hardware models are compared with it bit for bit. It never calls SystemC.
#pragma once

#include <cstdint>
#include <vector>

#include "brslog.h"
#include "datapath.h"
#include "requant.h"

namespace brsim {

// Integer weight matrix W[K x M] of a GEMM O[P x M] = A[P x K] W[K x M], as
// the array holds it: row k = reduction index, column m = output channel.
// For a conv layer k = (c * kh + ky) * kw + kx and m = output channel.
struct IntWeights {
  int64_t k = 0, m = 0;
  bool fixed16 = false;
  std::vector<uint8_t> codes;          // BRSLog: K x M row-major code words (at most 8 bits)
  std::vector<SegmentConfig> configs;  // BRSLog: 1 (per layer) or M (per column)
  std::vector<int16_t> fixed;          // fixed16: K x M row-major w_q
  const SegmentConfig& config_of_column(int64_t col) const {
    return configs.size() == 1 ? configs[0] : configs[static_cast<size_t>(col)];
  }
  // Builds W[K x M] from row-major [M x K] data (OIHW conv or [out x in] FC).
  static IntWeights from_brslog_mk(const std::vector<uint8_t>& codes_mk, int64_t m, int64_t k,
                                   const std::vector<SegmentConfig>& configs);
  static IntWeights from_fixed16_mk(const std::vector<int16_t>& w_mk, int64_t m, int64_t k);
};

// Checks the datapath, the sizes (k, m >= 1; codes or fixed hold k * m
// values; configs holds 1 or m entries), that every configuration is valid and
// realizable on dp (check_realizable) and that every code fits its column's
// bits. fixed16 weights need an accumulator holding the largest product
// 2^(A-1) * 2^15, i.e. acc_bits >= act_bits + 16 (the fields of the other
// format are ignored). ConfigError naming the field.
void validate(const IntWeights& w, const DatapathConfig& dp);

// The weights as the golden GEMM multiplies by them: one integer per weight
// with ae_product(a, decode(code)) == a * w_eff (ae_effective_weight), or
// w_q for fixed16. Decoding once lets a network run over many inputs without
// re-decoding; the functions taking IntWeights do it on every call. Build it
// with effective_weights() only: the GEMM's exact 64-bit arithmetic relies on
// its checks (every product fits the accumulator).
struct EffectiveWeights {
  int64_t k = 0, m = 0;
  DatapathConfig dp;           // the datapath the weights were validated for
  // K x M row-major, in w_eff32 when every value fits int32 (fixed16, and
  // BRSLog whenever the largest product's weight does, e.g. every 5-bit
  // configuration: half the memory), else in w_eff; the other stays empty.
  std::vector<int64_t> w_eff;
  std::vector<int32_t> w_eff32;
  // Or, for large BRSLog matrices (a quarter of the memory of w_eff32): the
  // K x M codes and, for each configuration (1, or one per column), the
  // w_eff of its code words at 256 c + code; the GEMM decodes a block of
  // rows at a time. w_eff and w_eff32 then stay empty.
  std::vector<uint8_t> codes;
  std::vector<int32_t> tables;
  uint64_t zero_weights = 0;   // weights that gate the AE (code j = 0 or w_q = 0)
  uint64_t max_abs = 0;        // a bound on |w_eff| (the largest of the code words' tables; 2^15 for fixed16)
};
// Validates (as above) and decodes; BRSLog matrices of decode_limit weights
// or more whose values fit int32 keep their codes instead (see codes).
inline constexpr size_t kDecodeLimit = size_t{1} << 22;
EffectiveWeights effective_weights(const IntWeights& w, const DatapathConfig& dp, size_t decode_limit = kDecodeLimit);

// Counters of golden computations. Every function taking a GoldenStats* adds
// its counts to it (so one object can collect a whole layer or network).
struct GoldenStats {
  uint64_t macs = 0;              // multiply-accumulates performed (P x K x M)
  uint64_t zero_weight_macs = 0;  // of which gated by a zero weight (P x zero weights)
  uint64_t acc_overflows = 0;     // partial sums that left the accumulator range
  void merge(const GoldenStats& o) {
    macs += o.macs;
    zero_weight_macs += o.zero_weight_macs;
    acc_overflows += o.acc_overflows;
  }
};

// acc[P x M] (row-major) = sum over k ascending of AE products, accumulated
// exactly like Accumulator::add: wrap-around in dp.acc_bits, every partial sum
// that leaves the range counted in acc_overflows. A is [P x K] row-major with
// values in A bits (ConfigError otherwise). Zero activations and zero weights
// add 0, which never overflows; they still count as MACs.
std::vector<int64_t> golden_gemm(const int32_t* a, int64_t p, const IntWeights& w, const DatapathConfig& dp,
                                 GoldenStats* stats = nullptr);
std::vector<int64_t> golden_gemm(const int32_t* a, int64_t p, const EffectiveWeights& w, GoldenStats* stats = nullptr);

// Activation tensor C x H x W (batch 1), values in A-bit two's complement,
// real value = value * 2^-frac_bits.
struct ActTensor {
  int64_t c = 0, h = 0, w = 0;
  int frac_bits = 0;
  std::vector<int32_t> data;
  int32_t at(int64_t ci, int64_t y, int64_t x) const { return data[static_cast<size_t>((ci * h + y) * w + x)]; }
};

struct Conv2dShape {
  int64_t kh = 1, kw = 1;
  int64_t stride_h = 1, stride_w = 1;
  int64_t pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;  // zero padding
};
// Output height/width floor((in + pad_a + pad_b - k) / stride) + 1;
// ConfigError for impossible shapes (in, k or stride < 1, negative pads, a
// kernel larger than the padded input).
int64_t conv_out_dim(int64_t in, int64_t k, int64_t stride, int64_t pad_a, int64_t pad_b);

// Lowers the input to the GEMM's A[P x K] (im2col, P = Ho * Wo, row-major
// pixels: p = oy * Wo + ox; K index k = (c * kh + ky) * kw + kx; zero for
// padded positions), as the array's input buffer streams it. out_h / out_w
// may be null.
std::vector<int32_t> im2col(const ActTensor& in, const Conv2dShape& s, int64_t* out_h, int64_t* out_w);

// conv2d: acc[M x Ho x Wo] (channel-major, like the output tensor) =
// the transpose of golden_gemm(im2col(in)). Needs w.k == C * kh * kw.
std::vector<int64_t> golden_conv2d(const ActTensor& in, const IntWeights& w, const Conv2dShape& s,
                                   const DatapathConfig& dp, int64_t* out_h, int64_t* out_w,
                                   GoldenStats* stats = nullptr);
std::vector<int64_t> golden_conv2d(const ActTensor& in, const EffectiveWeights& w, const Conv2dShape& s, int64_t* out_h,
                                   int64_t* out_w, GoldenStats* stats = nullptr);

// Fully connected: acc[M] for an input vector of K values (the flattened
// tensor in C, H, W order): golden_gemm with P = 1.
std::vector<int64_t> golden_fc(const std::vector<int32_t>& in, const IntWeights& w, const DatapathConfig& dp,
                               GoldenStats* stats = nullptr);
std::vector<int64_t> golden_fc(const std::vector<int32_t>& in, const EffectiveWeights& w, GoldenStats* stats = nullptr);

// Output stage on acc[M x S] (channel-major): per channel m, every value goes
// through requantize(acc, bias_q[m], {shift[m], relu, act_bits}) (section 7:
// bias in accumulator units, rounding shift, fused ReLU, saturation). Needs
// acc.size() a multiple of m and one bias and shift per channel.
std::vector<int32_t> golden_requantize(const std::vector<int64_t>& acc, int64_t m, const std::vector<int64_t>& bias_q,
                                       const std::vector<int>& shift, bool relu, int act_bits,
                                       RequantStats* stats = nullptr);

struct PoolShape {
  int64_t kh = 2, kw = 2;
  int64_t stride_h = 2, stride_w = 2;
  int64_t pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
};
// Pooling (the output stage's post-ops; integer semantics the hardware
// shares). Output dims floor((in + pads - k) / stride) + 1, output frac_bits
// = input frac_bits. Padded positions are not part of a window; ConfigError
// for impossible shapes (kernel larger than the padded input, stride < 1, a
// window lying entirely in the padding).
// Max pooling: the largest valid element (padded positions never win).
ActTensor golden_maxpool(const ActTensor& in, const PoolShape& s);
// Average pooling: integer mean of the window's n valid elements, rounded
// half up: floor((2 * sum + n) / (2 * n)) with floor division (so -1.5 -> -1,
// -1.75 -> -2). The mean of A-bit values stays in A bits: no saturation.
ActTensor golden_avgpool(const ActTensor& in, const PoolShape& s);
// Global average pooling: one value per channel (1 x 1 output), same
// rounding over the H * W elements.
ActTensor golden_global_avgpool(const ActTensor& in);

}  // namespace brsim
