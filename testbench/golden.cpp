// The golden reference: integer GEMM / conv2d / FC on the AE's products with
// the wrapping, overflow-counting accumulator, requantization and pooling.
// Everything numeric comes from models/ (decode, ae_effective_weight,
// fixed16_product, Accumulator semantics, requantize); this file only
// arranges the loops, checks shapes and keeps the counters.
#include "golden.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>

#if defined(__x86_64__)
#include <emmintrin.h>
#endif

#include "errors.h"
#include "host_threads.h"

namespace brsim {

namespace {

std::string str(int64_t v) { return std::to_string(v); }

// Floor division for b > 0 (C++ '/' truncates towards zero).
int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && (a < 0)) --q;
  return q;
}

// Integer mean rounded half up: floor((2 * sum + n) / (2 * n)).
int32_t mean_half_up(int64_t sum, int64_t n) { return static_cast<int32_t>(floor_div(2 * sum + n, 2 * n)); }

void check_tensor(const ActTensor& t, const char* what) {
  if (t.c < 1 || t.h < 1 || t.w < 1)
    throw ConfigError(std::string(what) + ": invalid shape C x H x W = " + str(t.c) + " x " + str(t.h) + " x " +
                      str(t.w) + ": every dimension must be >= 1");
  if (t.data.size() != static_cast<size_t>(t.c * t.h * t.w))
    throw ConfigError(std::string(what) + ": data holds " + str(static_cast<int64_t>(t.data.size())) +
                      " values, expected C * H * W = " + str(t.c * t.h * t.w));
}

// Output size along one axis, naming the axis' fields in errors.
int64_t out_dim(int64_t in, int64_t k, int64_t stride, int64_t pad_a, int64_t pad_b, const std::string& axis) {
  const std::string at = axis.empty() ? "" : " (" + axis + ")";
  if (in < 1) throw ConfigError("invalid input size " + str(in) + at + ": expected >= 1");
  if (k < 1) throw ConfigError("invalid kernel size " + str(k) + at + ": expected >= 1");
  if (stride < 1) throw ConfigError("invalid stride " + str(stride) + at + ": expected >= 1");
  if (pad_a < 0 || pad_b < 0)
    throw ConfigError("invalid padding " + str(pad_a) + ", " + str(pad_b) + at + ": expected >= 0");
  if (k > in + pad_a + pad_b)
    throw ConfigError("kernel size " + str(k) + at + " is larger than the padded input " + str(in) + " + " +
                      str(pad_a) + " + " + str(pad_b));
  return (in + pad_a + pad_b - k) / stride + 1;
}

// Pooling windows must each hold at least one real element: the first starts
// at -pad_a, the last at (out - 1) * stride - pad_a.
int64_t pool_out_dim(int64_t in, int64_t k, int64_t stride, int64_t pad_a, int64_t pad_b, const std::string& axis) {
  const int64_t out = out_dim(in, k, stride, pad_a, pad_b, axis);
  if (pad_a >= k || (out - 1) * stride - pad_a >= in)
    throw ConfigError("pooling window (" + axis + ") lies entirely in the padding: kernel " + str(k) + ", stride " +
                      str(stride) + ", pads " + str(pad_a) + ", " + str(pad_b) + " on an input of " + str(in));
  return out;
}

// One output row of the GEMM: acc[j] = wrap(acc[j] + a * w[j]) for every
// column j, returning the number of partial sums that left the range: this is
// Accumulator::add, inlined and branch-free so that it vectorizes. On a
// realizable datapath |acc| <= 2^(bits-1) and |a * w| < 2^(bits-1), so the
// exact sum fits int64 for acc_bits <= 63; the arithmetic is done modulo 2^64
// (uint64, no signed overflow). The wrap to acc_bits is the sign extension
// ((s + 2^(bits-1)) & (2^bits - 1)) - 2^(bits-1), the identity exactly when
// s is in range. For 64 bits the wrap is int64's own and the sum left the
// range when acc and a * w share a sign that the sum does not.
// target_clones builds an AVX2 copy beside the baseline one and picks it at
// load time where the CPU has AVX2 (about 2.5x here); results are identical.
template <typename W>
inline __attribute__((always_inline)) uint64_t mac_row_body(int64_t* acc, const W* w, int64_t a, int64_t m,
                                                         int acc_bits) {
  uint64_t overflows = 0;
  const uint64_t ua = static_cast<uint64_t>(a);
  // int32 weights times an activation of at most 32 bits: a 32 x 32 -> 64-bit
  // signed product (one vector multiply), the same value as the 64-bit one.
  constexpr bool narrow = sizeof(W) <= 4;
  const int32_t a32 = static_cast<int32_t>(a);
  auto product = [&](int64_t j) {
    return narrow ? static_cast<uint64_t>(int64_t{a32} * static_cast<int64_t>(w[j]))
                  : ua * static_cast<uint64_t>(static_cast<int64_t>(w[j]));
  };
  if (acc_bits < 64) {
    const uint64_t half = uint64_t{1} << (acc_bits - 1), mask = (half << 1) - 1;
    for (int64_t j = 0; j < m; ++j) {
      const uint64_t s = static_cast<uint64_t>(acc[j]) + product(j);
      const uint64_t t = ((s + half) & mask) - half;
      overflows += (t != s);
      acc[j] = static_cast<int64_t>(t);
    }
  } else {
    for (int64_t j = 0; j < m; ++j) {
      const uint64_t x = static_cast<uint64_t>(acc[j]), y = product(j), s = x + y;
      overflows += ((x ^ s) & (y ^ s)) >> 63;
      acc[j] = static_cast<int64_t>(s);
    }
  }
  return overflows;
}

// Weights stored as int64 or int32 (sign-extended: the same products).
#if defined(__x86_64__)
#define BRSIM_GOLDEN_CLONES __attribute__((target_clones("avx2", "default")))
#else  // (aarch64: the baseline, NEON)
#define BRSIM_GOLDEN_CLONES
#endif
BRSIM_GOLDEN_CLONES uint64_t mac_row(int64_t* acc, const int64_t* w, int64_t a,
                                                                   int64_t m, int acc_bits) {
  return mac_row_body(acc, w, a, m, acc_bits);
}
BRSIM_GOLDEN_CLONES uint64_t mac_row(int64_t* acc, const int32_t* w, int64_t a,
                                                                   int64_t m, int acc_bits) {
  return mac_row_body(acc, w, a, m, acc_bits);
}

// The same row where no partial sum can leave the accumulator's range (the
// caller has bounded every sum of the row's products): a plain add.
template <typename W>
inline __attribute__((always_inline)) void mac_row_in_range_body(int64_t* acc, const W* w, int64_t a, int64_t m) {
  const int32_t a32 = static_cast<int32_t>(a);  // |a| < 2^31 and |w| < 2^31: a 32 x 32 -> 64-bit product
  for (int64_t j = 0; j < m; ++j) acc[j] += int64_t{a32} * static_cast<int64_t>(w[j]);
}
BRSIM_GOLDEN_CLONES void mac_row_in_range(int64_t* acc, const int32_t* w, int64_t a, int64_t m) {
  mac_row_in_range_body(acc, w, a, m);
}
// Four output pixels' rows (accumulators m apart) by one weight row: the
// row is read once for the four.
BRSIM_GOLDEN_CLONES void mac_rows4_in_range(int64_t* acc, const int32_t* w, const int32_t* a, int64_t m) {
  int64_t *acc0 = acc, *acc1 = acc + m, *acc2 = acc + 2 * m, *acc3 = acc + 3 * m;
  const int32_t a0 = a[0], a1 = a[1], a2 = a[2], a3 = a[3];
  for (int64_t j = 0; j < m; ++j) {  // 32 x 32 -> 64-bit products
    const int32_t wj = w[j];
    acc0[j] += int64_t{a0} * int64_t{wj};
    acc1[j] += int64_t{a1} * int64_t{wj};
    acc2[j] += int64_t{a2} * int64_t{wj};
    acc3[j] += int64_t{a3} * int64_t{wj};
  }
}

}  // namespace

namespace {
#if defined(__x86_64__)
// A 16 x 16 block of bytes transposed in SSE2 registers (baseline x86-64):
// out row c (at out + c * out_stride) = column c of the rows at in + r * in_stride.
void transpose16_bytes(const uint8_t* in, int64_t in_stride, uint8_t* out, int64_t out_stride) {
  __m128i a[16], b[16];
  for (int r = 0; r < 16; ++r) a[r] = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + r * in_stride));
  for (int r = 0; r < 16; r += 2) {  // byte pairs of rows r, r + 1: columns 0-7, 8-15
    b[r] = _mm_unpacklo_epi8(a[r], a[r + 1]);
    b[r + 1] = _mm_unpackhi_epi8(a[r], a[r + 1]);
  }
  for (int g = 0; g < 16; g += 4) {  // rows g .. g + 3: columns 0-3, 4-7, 8-11, 12-15
    a[g] = _mm_unpacklo_epi16(b[g], b[g + 2]);
    a[g + 1] = _mm_unpackhi_epi16(b[g], b[g + 2]);
    a[g + 2] = _mm_unpacklo_epi16(b[g + 1], b[g + 3]);
    a[g + 3] = _mm_unpackhi_epi16(b[g + 1], b[g + 3]);
  }
  for (int h = 0; h < 16; h += 8)  // rows h .. h + 7: column pairs 0-1, 2-3, ..., 14-15
    for (int q = 0; q < 4; ++q) {
      b[h + 2 * q] = _mm_unpacklo_epi32(a[h + q], a[h + 4 + q]);
      b[h + 2 * q + 1] = _mm_unpackhi_epi32(a[h + q], a[h + 4 + q]);
    }
  for (int c = 0; c < 8; ++c) {  // rows 0 .. 15 of columns 2c and 2c + 1
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 2 * c * out_stride), _mm_unpacklo_epi64(b[c], b[8 + c]));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + (2 * c + 1) * out_stride), _mm_unpackhi_epi64(b[c], b[8 + c]));
  }
}
#endif

// [M x K] row-major -> [K x M] row-major, checking the size.
template <typename T>
std::vector<T> transpose_mk(const std::vector<T>& v, int64_t m, int64_t k, const std::string& who,
                            const std::string& what) {
  if (m < 1 || k < 1 || v.size() != static_cast<size_t>(m * k))
    throw ConfigError(who + ": " + str(static_cast<int64_t>(v.size())) + " " + what +
                      " do not form an [M x K] = [" + str(m) + " x " + str(k) + "] matrix");
  // In 64 x 64 blocks (both sides stay in the cache), row blocks in parallel.
  constexpr int64_t B = 64;
  std::vector<T> out(v.size());
  parallel_for(static_cast<size_t>((k + B - 1) / B), [&](size_t kb) {
    const int64_t k0 = static_cast<int64_t>(kb) * B, k1 = std::min(k, k0 + B);
    for (int64_t m0 = 0; m0 < m; m0 += B) {
      const int64_t m1 = std::min(m, m0 + B);
#if defined(__x86_64__)
      if constexpr (sizeof(T) == 1) {  // bytes: 16 x 16 at a time, the rest one by one
        const int64_t k16 = k0 + (k1 - k0) / 16 * 16, m16 = m0 + (m1 - m0) / 16 * 16;
        for (int64_t ki = k0; ki < k16; ki += 16)
          for (int64_t mi = m0; mi < m16; mi += 16)
            transpose16_bytes(reinterpret_cast<const uint8_t*>(&v[static_cast<size_t>(mi * k + ki)]), k,
                              reinterpret_cast<uint8_t*>(&out[static_cast<size_t>(ki * m + mi)]), m);
        for (int64_t ki = k0; ki < k1; ++ki)
          for (int64_t mi = ki < k16 ? m16 : m0; mi < m1; ++mi)
            out[static_cast<size_t>(ki * m + mi)] = v[static_cast<size_t>(mi * k + ki)];
        continue;
      }
#endif
      for (int64_t ki = k0; ki < k1; ++ki)  // each output row's run written in order (12x faster than by columns)
        for (int64_t mi = m0; mi < m1; ++mi) out[static_cast<size_t>(ki * m + mi)] = v[static_cast<size_t>(mi * k + ki)];
    }
  });
  return out;
}
}  // namespace

IntWeights IntWeights::from_brslog_mk(const std::vector<uint8_t>& codes_mk, int64_t m, int64_t k,
                                      const std::vector<SegmentConfig>& configs) {
  IntWeights w;
  w.codes = transpose_mk(codes_mk, m, k, "from_brslog_mk", "codes");
  w.k = k;
  w.m = m;
  w.configs = configs;
  return w;
}


IntWeights IntWeights::from_fixed16_mk(const std::vector<int16_t>& w_mk, int64_t m, int64_t k) {
  IntWeights w;
  w.fixed = transpose_mk(w_mk, m, k, "from_fixed16_mk", "weights");
  w.k = k;
  w.m = m;
  w.fixed16 = true;
  return w;
}

void validate(const IntWeights& w, const DatapathConfig& dp) {
  validate(dp);
  if (w.k < 1 || w.m < 1)
    throw ConfigError("invalid weight matrix shape IntWeights.k x m = " + str(w.k) + " x " + str(w.m) +
                      ": both must be >= 1");
  if (w.k > std::numeric_limits<int64_t>::max() / w.m)
    throw ConfigError("weight matrix IntWeights.k x m = " + str(w.k) + " x " + str(w.m) + " is too large");
  const size_t n = static_cast<size_t>(w.k * w.m);
  if (w.fixed16) {
    if (w.fixed.size() != n)
      throw ConfigError("IntWeights.fixed holds " + str(static_cast<int64_t>(w.fixed.size())) +
                        " weights, expected k * m = " + str(w.k * w.m));
    // Largest product magnitude 2^(A-1) * 2^15 must be <= 2^(acc_bits-1) - 1.
    if (dp.acc_bits < dp.act_bits + 16)
      throw ConfigError("datapath limit: the largest fixed16 product of " + str(dp.act_bits) +
                        "-bit activations does not fit a " + str(dp.acc_bits) +
                        "-bit accumulator; acc_bits >= " + str(dp.act_bits + 16) + " would work");
    return;
  }
  if (w.codes.size() != n)
    throw ConfigError("IntWeights.codes holds " + str(static_cast<int64_t>(w.codes.size())) +
                      " codes, expected k * m = " + str(w.k * w.m));
  if (w.configs.size() != 1 && w.configs.size() != static_cast<size_t>(w.m))
    throw ConfigError("IntWeights.configs holds " + str(static_cast<int64_t>(w.configs.size())) +
                      " segment configurations, expected 1 (per layer) or m = " + str(w.m) + " (per column)");
  for (size_t i = 0; i < w.configs.size(); ++i) {
    try {
      check_realizable(w.configs[i], dp);
    } catch (const ConfigError& e) {
      throw ConfigError("IntWeights.configs[" + std::to_string(i) + "]: " + e.what());
    }
  }
  for (int64_t ki = 0; ki < w.k; ++ki)
    for (int64_t mi = 0; mi < w.m; ++mi) {
      const uint32_t code = w.codes[static_cast<size_t>(ki * w.m + mi)];
      const int bits = w.config_of_column(mi).bits;
      if (code >= (1u << bits))
        throw ConfigError("IntWeights.codes[k=" + str(ki) + ", m=" + str(mi) + "] = " + std::to_string(code) +
                          " does not fit in " + std::to_string(bits) + " bits");
    }
}

EffectiveWeights effective_weights(const IntWeights& w, const DatapathConfig& dp, size_t decode_limit) {
  validate(w, dp);
  EffectiveWeights e;
  e.k = w.k;
  e.m = w.m;
  e.dp = dp;

  // BRSLog: w_eff of every code word of every configuration, decoded once
  // (tables[c][code]); ae_product(a, decode(code)) == a * w_eff.
  std::vector<std::vector<int64_t>> tables;
  if (!w.fixed16) {
    const Sqrt2Approx approx = sqrt2_approx(dp.sqrt2_terms);
    for (const SegmentConfig& cfg : w.configs) {
      tables.emplace_back(size_t{1} << cfg.bits);
      for (uint32_t code = 0; code < (1u << cfg.bits); ++code)
        tables.back()[code] = ae_effective_weight(decode(code, cfg), approx);
    }
  }
  bool fits32 = true;
  for (const std::vector<int64_t>& t : tables)
    for (int64_t v : t) fits32 &= v >= INT32_MIN && v <= INT32_MAX;
  const size_t n = static_cast<size_t>(w.k * w.m);
  const bool coded = !w.fixed16 && fits32 && n >= decode_limit;
  if (coded) {
    e.codes = w.codes;
    e.tables.assign(256 * tables.size(), 0);
    for (size_t c = 0; c < tables.size(); ++c)
      for (size_t code = 0; code < tables[c].size(); ++code) e.tables[c * 256 + code] = static_cast<int32_t>(tables[c][code]);
  } else if (fits32) {
    e.w_eff32.resize(n);
  } else {
    e.w_eff.resize(n);
  }
  // Rows in blocks of 64, in parallel; the zero counts added in block order.
  constexpr int64_t B = 64;
  std::vector<uint64_t> zeros(static_cast<size_t>((w.k + B - 1) / B), 0);
  parallel_for(zeros.size(), [&](size_t kb) {
    const int64_t k1 = std::min(w.k, static_cast<int64_t>(kb) * B + B);
    if (coded && tables.size() == 1) {  // one table: the block's codes counted, then the zero ones
      uint64_t count[4][256] = {};
      const uint8_t* c = w.codes.data() + static_cast<int64_t>(kb) * B * w.m;
      const size_t nb = static_cast<size_t>((k1 - static_cast<int64_t>(kb) * B) * w.m);
      size_t i = 0;
      for (; i + 4 <= nb; i += 4) ++count[0][c[i]], ++count[1][c[i + 1]], ++count[2][c[i + 2]], ++count[3][c[i + 3]];
      for (; i < nb; ++i) ++count[0][c[i]];
      for (size_t code = 0; code < tables[0].size(); ++code)
        if (tables[0][code] == 0) zeros[kb] += count[0][code] + count[1][code] + count[2][code] + count[3][code];
      return;
    }
    for (int64_t ki = static_cast<int64_t>(kb) * B; ki < k1; ++ki)
      for (int64_t mi = 0; mi < w.m; ++mi) {
        const size_t i = static_cast<size_t>(ki * w.m + mi);
        // fixed16_product(a, w_q) == a * w_q.
        const int64_t v = w.fixed16 ? int64_t{w.fixed[i]} : tables[w.configs.size() == 1 ? 0 : mi][w.codes[i]];
        if (coded) {
        } else if (fits32) {
          e.w_eff32[i] = static_cast<int32_t>(v);
        } else {
          e.w_eff[i] = v;
        }
        zeros[kb] += (v == 0);
      }
  });
  for (uint64_t z : zeros) e.zero_weights += z;
  if (w.fixed16) {
    e.max_abs = 1 << 15;  // |w_q| <= 2^15
  } else {
    for (const std::vector<int64_t>& t : tables)
      for (int64_t v : t) e.max_abs = std::max<uint64_t>(e.max_abs, v < 0 ? 0 - static_cast<uint64_t>(v) : static_cast<uint64_t>(v));
  }
  return e;
}

std::vector<int64_t> golden_gemm(const int32_t* a, int64_t p, const EffectiveWeights& w, GoldenStats* stats) {
  if (p < 0) throw ConfigError("golden_gemm: invalid number of rows P = " + str(p) + ": expected >= 0");
  if (p > 0 && a == nullptr) throw ConfigError("golden_gemm: activation matrix A is null");
  validate(w.dp);
  const bool coded = !w.codes.empty();
  const bool w32 = !w.w_eff32.empty() || coded;
  const size_t held = w.w_eff.size() + w.w_eff32.size() + w.codes.size();
  const size_t tables = w.m <= INT64_MAX / 256 ? static_cast<size_t>(w.m) * 256 : 0;
  if (held != static_cast<size_t>(w.k * w.m) || (!w.w_eff.empty() && held != w.w_eff.size()) ||
      (coded && w.tables.size() != 256 && w.tables.size() != tables))
    throw ConfigError("golden_gemm: EffectiveWeights hold " + str(static_cast<int64_t>(held)) +
                      " values, expected k * m = " + str(w.k * w.m) + " (build them with effective_weights)");
  const int64_t amin = act_min(w.dp.act_bits), amax = act_max(w.dp.act_bits);
  std::vector<int64_t> out(static_cast<size_t>(p * w.m), 0);
  uint64_t overflows = 0;
  // Every activation checked first, in row order: the first one out of range
  // is the one a pixel-by-pixel loop would have met first.
  for (int64_t i = 0; i < p * w.k; ++i)
    if (a[i] < amin || a[i] > amax)
      throw ConfigError("golden_gemm: activation A[" + str(i / w.k) + ", " + str(i % w.k) + "] = " + str(a[i]) +
                        " is outside the " + std::to_string(w.dp.act_bits) + "-bit range [" + str(amin) + ", " +
                        str(amax) + "]");
  // Every partial sum of K products of magnitude at most 2^(A-1) max|w_eff|
  // within the accumulator's range: nothing can overflow, nothing wraps.
  const bool in_range = w32 && static_cast<unsigned __int128>(w.k) * static_cast<uint64_t>(-amin) *
                                       static_cast<uint64_t>(w.max_abs) <=
                                   (static_cast<unsigned __int128>(1) << (w.dp.acc_bits - 1)) - 1;
  // Rows [k0, k1) of W in int32: the decoded matrix's own, or coded rows
  // decoded into `rows`. Each output's sums still run over k ascending:
  // row blocks in order, each block's rows in order.
  const int64_t block = coded ? std::max<int64_t>(1, std::min<int64_t>(w.k, (int64_t{1} << 16) / w.m)) : w.k;
  std::vector<int32_t> rows(coded ? static_cast<size_t>(block * w.m) : 0);
  std::vector<int32_t> a4(in_range ? static_cast<size_t>(4 * block) : 0);
  for (int64_t k0 = 0; k0 < w.k; k0 += block) {
    const int64_t k1 = std::min(w.k, k0 + block), kn = k1 - k0;
    const int32_t* w32rows = w.w_eff32.data() + (coded ? 0 : k0 * w.m);
    if (coded) {
      const bool per_column = w.tables.size() != 256;
      for (int64_t i = 0; i < kn * w.m; ++i) {
        const int64_t mi = i % w.m;
        rows[static_cast<size_t>(i)] = w.tables[static_cast<size_t>((per_column ? mi * 256 : 0) + w.codes[static_cast<size_t>(k0 * w.m + i)])];
      }
      w32rows = rows.data();
    }
    if (in_range) {
      // Four pixels at a time (a zero activation adds 0: nothing to skip).
      int64_t pi = 0;
      for (; pi + 4 <= p; pi += 4) {
        for (int64_t ki = 0; ki < kn; ++ki)
          for (int64_t r = 0; r < 4; ++r) a4[static_cast<size_t>(ki * 4 + r)] = a[(pi + r) * w.k + k0 + ki];
        for (int64_t ki = 0; ki < kn; ++ki)
          mac_rows4_in_range(out.data() + pi * w.m, w32rows + ki * w.m, &a4[static_cast<size_t>(ki * 4)], w.m);
      }
      for (; pi < p; ++pi)
        for (int64_t ki = k0; ki < k1; ++ki)
          if (a[pi * w.k + ki] != 0) mac_row_in_range(out.data() + pi * w.m, w32rows + (ki - k0) * w.m, a[pi * w.k + ki], w.m);
      continue;
    }
    for (int64_t pi = 0; pi < p; ++pi) {
      int64_t* acc = out.data() + pi * w.m;  // the M accumulators of output pixel pi
      const int32_t* arow = a + pi * w.k;
      for (int64_t ki = k0; ki < k1; ++ki) {  // k ascending, as the accumulator sees it
        const int64_t av = arow[ki];
        // A zero activation adds 0 to every column: nothing changes, nothing overflows.
        if (av == 0) continue;
        overflows += w32 ? mac_row(acc, w32rows + (ki - k0) * w.m, av, w.m, w.dp.acc_bits)
                         : mac_row(acc, w.w_eff.data() + ki * w.m, av, w.m, w.dp.acc_bits);
      }
    }
  }
  if (stats) {
    stats->macs += static_cast<uint64_t>(p) * static_cast<uint64_t>(w.k) * static_cast<uint64_t>(w.m);
    stats->zero_weight_macs += static_cast<uint64_t>(p) * w.zero_weights;
    stats->acc_overflows += overflows;
  }
  return out;
}

std::vector<int64_t> golden_gemm(const int32_t* a, int64_t p, const IntWeights& w, const DatapathConfig& dp,
                                 GoldenStats* stats) {
  return golden_gemm(a, p, effective_weights(w, dp), stats);
}

int64_t conv_out_dim(int64_t in, int64_t k, int64_t stride, int64_t pad_a, int64_t pad_b) {
  return out_dim(in, k, stride, pad_a, pad_b, "");
}

std::vector<int32_t> im2col(const ActTensor& in, const Conv2dShape& s, int64_t* out_h, int64_t* out_w) {
  check_tensor(in, "conv2d input");
  const int64_t ho = out_dim(in.h, s.kh, s.stride_h, s.pad_top, s.pad_bottom, "height: kh, stride_h, pad_top/bottom");
  const int64_t wo = out_dim(in.w, s.kw, s.stride_w, s.pad_left, s.pad_right, "width: kw, stride_w, pad_left/right");
  const int64_t k = in.c * s.kh * s.kw;
  std::vector<int32_t> a(static_cast<size_t>(ho * wo * k), 0);
  for (int64_t oy = 0; oy < ho; ++oy)
    for (int64_t ox = 0; ox < wo; ++ox) {
      int32_t* row = a.data() + (oy * wo + ox) * k;
      for (int64_t c = 0; c < in.c; ++c)
        for (int64_t ky = 0; ky < s.kh; ++ky) {
          const int64_t y = oy * s.stride_h - s.pad_top + ky;
          if (y < 0 || y >= in.h) continue;  // padded row: stays zero
          for (int64_t kx = 0; kx < s.kw; ++kx) {
            const int64_t x = ox * s.stride_w - s.pad_left + kx;
            if (x >= 0 && x < in.w) row[(c * s.kh + ky) * s.kw + kx] = in.at(c, y, x);
          }
        }
    }
  if (out_h) *out_h = ho;
  if (out_w) *out_w = wo;
  return a;
}

std::vector<int64_t> golden_conv2d(const ActTensor& in, const EffectiveWeights& w, const Conv2dShape& s, int64_t* out_h,
                                   int64_t* out_w, GoldenStats* stats) {
  check_tensor(in, "conv2d input");
  if (w.k != in.c * s.kh * s.kw)
    throw ConfigError("conv2d: the weights have K = " + str(w.k) + " rows, expected C_in * kh * kw = " + str(in.c) +
                      " * " + str(s.kh) + " * " + str(s.kw) + " = " + str(in.c * s.kh * s.kw));
  int64_t ho = 0, wo = 0;
  const std::vector<int32_t> a = im2col(in, s, &ho, &wo);
  const int64_t p = ho * wo;
  const std::vector<int64_t> pm = golden_gemm(a.data(), p, w, stats);
  std::vector<int64_t> out(pm.size());  // [P x M] -> [M x P]
  for (int64_t pi = 0; pi < p; ++pi)
    for (int64_t mi = 0; mi < w.m; ++mi) out[static_cast<size_t>(mi * p + pi)] = pm[static_cast<size_t>(pi * w.m + mi)];
  if (out_h) *out_h = ho;
  if (out_w) *out_w = wo;
  return out;
}

std::vector<int64_t> golden_conv2d(const ActTensor& in, const IntWeights& w, const Conv2dShape& s,
                                   const DatapathConfig& dp, int64_t* out_h, int64_t* out_w, GoldenStats* stats) {
  return golden_conv2d(in, effective_weights(w, dp), s, out_h, out_w, stats);
}

std::vector<int64_t> golden_fc(const std::vector<int32_t>& in, const EffectiveWeights& w, GoldenStats* stats) {
  if (in.size() != static_cast<size_t>(w.k))
    throw ConfigError("fully connected: the input holds " + str(static_cast<int64_t>(in.size())) +
                      " values, the weights expect K = " + str(w.k));
  return golden_gemm(in.data(), 1, w, stats);
}

std::vector<int64_t> golden_fc(const std::vector<int32_t>& in, const IntWeights& w, const DatapathConfig& dp,
                               GoldenStats* stats) {
  return golden_fc(in, effective_weights(w, dp), stats);
}

std::vector<int32_t> golden_requantize(const std::vector<int64_t>& acc, int64_t m, const std::vector<int64_t>& bias_q,
                                       const std::vector<int>& shift, bool relu, int act_bits, RequantStats* stats) {
  if (m < 1 || acc.size() % static_cast<size_t>(m) != 0)
    throw ConfigError("requantize: " + str(static_cast<int64_t>(acc.size())) +
                      " accumulator values do not split into m = " + str(m) + " channels");
  if (bias_q.size() != static_cast<size_t>(m))
    throw ConfigError("requantize: bias_q holds " + str(static_cast<int64_t>(bias_q.size())) +
                      " values, expected one per channel (m = " + str(m) + ")");
  if (shift.size() != static_cast<size_t>(m))
    throw ConfigError("requantize: shift holds " + str(static_cast<int64_t>(shift.size())) +
                      " values, expected one per channel (m = " + str(m) + ")");
  if (act_bits < 2 || act_bits > 32)
    throw ConfigError("requantize: invalid act_bits " + std::to_string(act_bits) + ": expected an integer in [2, 32]");
  const size_t per = acc.size() / static_cast<size_t>(m);
  std::vector<int32_t> out(acc.size());
  for (size_t mi = 0; mi < static_cast<size_t>(m); ++mi) {
    const RequantParams rp{shift[mi], relu, act_bits};
    for (size_t i = mi * per; i < (mi + 1) * per; ++i) out[i] = requantize(acc[i], bias_q[mi], rp, stats);
  }
  return out;
}

namespace {

// Shared window walk of max and average pooling: for every output element
// (channel-major, rows then columns) reduce() gets the window clipped to the
// input, [y0, y1) x [x0, x1), which is never empty (pool_out_dim checks it).
template <typename Reduce>
ActTensor pool(const ActTensor& in, const PoolShape& s, const char* what, Reduce reduce) {
  check_tensor(in, what);
  ActTensor out;
  out.c = in.c;
  out.h = pool_out_dim(in.h, s.kh, s.stride_h, s.pad_top, s.pad_bottom, "height: kh, stride_h, pad_top/bottom");
  out.w = pool_out_dim(in.w, s.kw, s.stride_w, s.pad_left, s.pad_right, "width: kw, stride_w, pad_left/right");
  out.frac_bits = in.frac_bits;
  out.data.resize(static_cast<size_t>(out.c * out.h * out.w));
  size_t o = 0;
  for (int64_t c = 0; c < in.c; ++c)
    for (int64_t oy = 0; oy < out.h; ++oy)
      for (int64_t ox = 0; ox < out.w; ++ox) {
        // The window clipped to the input: padded positions are not in it.
        const int64_t y0 = std::max<int64_t>(0, oy * s.stride_h - s.pad_top);
        const int64_t y1 = std::min<int64_t>(in.h, oy * s.stride_h - s.pad_top + s.kh);
        const int64_t x0 = std::max<int64_t>(0, ox * s.stride_w - s.pad_left);
        const int64_t x1 = std::min<int64_t>(in.w, ox * s.stride_w - s.pad_left + s.kw);
        out.data[o++] = reduce(in, c, y0, y1, x0, x1);
      }
  return out;
}

}  // namespace

ActTensor golden_maxpool(const ActTensor& in, const PoolShape& s) {
  return pool(in, s, "maxpool input",
              [](const ActTensor& t, int64_t c, int64_t y0, int64_t y1, int64_t x0, int64_t x1) {
                int32_t best = t.at(c, y0, x0);
                for (int64_t y = y0; y < y1; ++y)
                  for (int64_t x = x0; x < x1; ++x) best = std::max(best, t.at(c, y, x));
                return best;
              });
}

ActTensor golden_avgpool(const ActTensor& in, const PoolShape& s) {
  return pool(in, s, "avgpool input",
              [](const ActTensor& t, int64_t c, int64_t y0, int64_t y1, int64_t x0, int64_t x1) {
                int64_t sum = 0;
                for (int64_t y = y0; y < y1; ++y)
                  for (int64_t x = x0; x < x1; ++x) sum += t.at(c, y, x);
                return mean_half_up(sum, (y1 - y0) * (x1 - x0));
              });
}

ActTensor golden_global_avgpool(const ActTensor& in) {
  check_tensor(in, "global avgpool input");
  ActTensor out;
  out.c = in.c;
  out.h = 1;
  out.w = 1;
  out.frac_bits = in.frac_bits;
  out.data.resize(static_cast<size_t>(in.c));
  const int64_t n = in.h * in.w;
  for (int64_t c = 0; c < in.c; ++c) {
    int64_t sum = 0;
    for (int64_t i = 0; i < n; ++i) sum += in.data[static_cast<size_t>(c * n + i)];
    out.data[static_cast<size_t>(c)] = mean_half_up(sum, n);
  }
  return out;
}

}  // namespace brsim
