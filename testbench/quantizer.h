// The weight quantizer (BRSLOG.md section 5): codebooks, linear and log
// rounding, the segment parameter search per layer or per output channel,
// the comparison policies, and error metrics. fixed16 follows section 8.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "brslog.h"
#include "datapath.h"

namespace brsim {

enum class CodebookKind { Ideal, Hardware };
enum class Rounding { Linear, Log };
enum class Granularity { Layer, Channel };
enum class PolicyKind { BrsLog, SegLog, Log2, LogSqrt2, Fixed16 };

// A quantization policy: "brslog", "seglog:n2=K", "log2", "logsqrt2", "fixed16".
struct Policy {
  PolicyKind kind = PolicyKind::BrsLog;
  int seglog_n2 = 0;  // the fixed split of seglog:n2=K
  std::string name() const;
  // Parses a policy name; ConfigError naming the text and the accepted forms.
  static Policy parse(const std::string& text);
};

std::string to_string(CodebookKind k);  // "ideal" | "hardware"
std::string to_string(Rounding r);      // "linear" | "log"
std::string to_string(Granularity g);   // "layer" | "channel"
CodebookKind parse_codebook(const std::string& text);
Rounding parse_rounding(const std::string& text);
Granularity parse_granularity(const std::string& text);

// Magnitudes of the levels j = 0..L (levels[0] = 0), ascending.
// Ideal: ideal_magnitude(j) (sqrt2 as the double sqrt(2.0)). Hardware: the
// exact dyadic value the AE computes, 2^e_base 2^shift (flag ? c_K/2^q_K : 1).
// The rounding boundaries are precomputed: bounds[k] (k < L) is the smallest
// magnitude that rounds to level k+1 or above, bounds[L] = +inf (a sentinel
// that makes the branch-free search over L+1 = 2^(N-1) entries exact).
struct Codebook {
  SegmentConfig cfg;
  CodebookKind kind = CodebookKind::Ideal;
  std::vector<double> levels;
  std::vector<double> linear_bounds;  // see quantize_value for the rules
  std::vector<double> log_bounds;
};
// Validates cfg; ConfigError if the top level is not a finite double. Does
// not check realizability (every width 3..8 has a codebook).
Codebook make_codebook(const SegmentConfig& cfg, CodebookKind kind, const Sqrt2Approx& approx);

// Hardware value of one code word: (-1)^s 2^e_base 2^shift (flag ? A_K : 1).
double hardware_value(uint32_t code, const SegmentConfig& cfg, const Sqrt2Approx& approx);

// Nearest code word (section 5). Linear: nearest by |difference|, ties to the
// larger magnitude, |w| < level(1)/2 -> zero. Log: nearest in log2|w|
// (geometric midpoints), ties to the larger magnitude, |w| < level(1)/sqrt2
// -> zero. Above the top level (and +-inf): the top level. The sign comes
// from w; a w that rounds to level 0 gives code 0 (never the -0 word).
// NaN: ConfigError.
// Boundaries, exactly:
// - linear: neighbouring levels a < b differ by at most x2, so b - |w| and
//   |w| - a are exact doubles (Sterbenz); |w| rounds up iff
//   b - |w| <= |w| - a, i.e. the exact real midpoint with ties up.
// - log: the midpoint g = sqrt(a * b) is evaluated in double (IEEE multiply
//   and sqrt, with the levels scaled by 2^-e_base so the product cannot
//   over- or underflow; identical to the plain expression whenever that does
//   not); |w| >= g rounds up. The zero threshold is the double nearest
//   level(1)/sqrt2 (level(1) = 2^e_base is a power of two).
// The hardware codebook with K = 1 has equal neighbours (A_1 = 1); such a
// tie goes to the larger index, so codes of the lower twin never come out.
uint32_t quantize_value(double w, const Codebook& cb, Rounding rounding);
// The signed level of a code word (the -0 word gives +0). ConfigError if the
// code does not fit the codebook's width.
double dequantize(uint32_t code, const Codebook& cb);

struct QuantOptions {
  int bits = 5;
  Policy policy;
  CodebookKind codebook = CodebookKind::Ideal;
  Rounding rounding = Rounding::Linear;
  Granularity granularity = Granularity::Layer;
  DatapathConfig datapath;  // K, widths: the search skips unrealizable configs
};
// bits, datapath widths, and seglog's n2 in [0, L] (ConfigError naming the
// policy and the valid range).
void validate(const QuantOptions& opt);

// The candidate configurations the search visits for weights with max|w| =
// max_abs > 0: n2 allowed by the policy (brslog 0..L, seglog:n2=K only K,
// log2 L, logsqrt2 0), p in {0, 1} (only p = 0 for n2 = 0 and n2 = L, where
// p changes no level), e_base with the ideal top level 2^(e_base + h(L)/2)
// in [max_abs/4, 2 max_abs] (decided exactly, also for odd h(L)), e_base in
// validate()'s range, realizable on the datapath. Ordered by n2, p, e_base.
// ConfigError if none is realizable (with the datapath's reason), for
// fixed16, and for max_abs not positive and finite.
std::vector<SegmentConfig> search_candidates(double max_abs, const QuantOptions& opt);

// Sum of squared errors (w - dequantized)^2 of quantizing `w` with `cfg`,
// using opt's codebook kind, rounding and K; summed in index order (the
// search uses the same order, so equal SSEs are exactly equal).
// Non-finite weights: ConfigError naming the index.
double quantization_sse(const double* w, size_t n, const SegmentConfig& cfg, const QuantOptions& opt);

// The search (section 5): minimise squared error over search_candidates;
// ties: larger n2, then smaller p, then smaller e_base. All-zero (or empty)
// weights give e_base = 0, p = 0 and the policy's largest n2 that the
// datapath realizes: every code is zero anyway. NaN or infinite weights:
// ConfigError naming the element index. fixed16: ConfigError.
// The squared error that decides is quantization_sse's (summed in index
// order), so ties are exact. search_segment runs search_segment_fast
// (through the cache folder below); search_segment_brute_force is the
// direct search, kept as its reference (tests, benchmarks).
SegmentConfig search_segment(const double* w, size_t n, const QuantOptions& opt);
// Float weights: the same as their values converted to double (exactly),
// without a double copy of the tensor; likewise below.
SegmentConfig search_segment(const float* w, size_t n, const QuantOptions& opt);

// Direct search: every candidate's squared error summed over the weights,
// O(N x candidates).
SegmentConfig search_segment_brute_force(const double* w, size_t n, const QuantOptions& opt);
SegmentConfig search_segment_brute_force(const float* w, size_t n, const QuantOptions& opt);

// The same choice in O(N) plus O(candidates x bins): one pass sorts the
// magnitudes into bins between the rounding boundaries of all candidates
// (count, and sums of the offsets from each bin's lower edge and of their
// squares); each candidate's error follows from the bins with a rigorous
// bound on its rounding error. Candidates whose bound overlaps the best
// one's are summed again directly (candidates with identical levels and
// boundaries share one sum) and the tie order decides, so the result is
// always search_segment_brute_force's. Falls back to the direct search when
// the bins' sums are not finite (weights near the double range's ends).
SegmentConfig search_segment_fast(const double* w, size_t n, const QuantOptions& opt);
SegmentConfig search_segment_fast(const float* w, size_t n, const QuantOptions& opt);


// A folder of search results (set_search_cache; "" = off, the default):
// search_segment() of at least kSearchCacheMin weights first looks for a
// file named by a 128-bit hash of the weights' bits, their count and every
// option the search reads, which holds that key in full and the chosen
// configuration; it writes one (to a temporary name, then renamed, so
// processes sharing the folder see whole files) after a search. A file that
// does not match its key exactly, or does not parse, is searched again and
// rewritten. Sweeps share one folder across their points.
constexpr size_t kSearchCacheMin = size_t{1} << 16;
void set_search_cache(const std::string& dir);
const std::string& search_cache();
uint64_t search_cache_hits();  // searches answered from the folder in this process

// Error metrics of one quantized group of weights. w_q is the quantizer's
// value: the level of opt.codebook for BRSLog (what the search minimised),
// w_q 2^-f_w for fixed16.
struct QuantStats {
  size_t count = 0;
  double mse = 0;            // mean of (w - w_q)^2
  double signal_power = 0;   // mean of w^2
  double sqnr_db = 0;        // 10 log10(signal / mse); +inf when mse == 0 and
                             // signal > 0; 0 when the signal is 0
  double zero_fraction = 0;  // fraction of weights quantized to zero
  std::vector<uint64_t> histogram;  // count per code word (2^bits entries);
                                    // empty for fixed16
};

// A quantized weight tensor. The channel axis is axis 0 (output channels of
// OIHW conv weights; rows of an [M x K] FC weight): per-channel granularity
// keeps one SegmentConfig per output channel, per-layer granularity one.
// fixed16 always has one f_w per layer (also with per-channel granularity:
// the baseline multiplier has no per-channel scale); channel_stats are kept
// per channel for every policy and granularity.
struct QuantizedWeights {
  std::vector<int64_t> shape;
  QuantOptions options;
  // BRSLog policies:
  std::vector<uint8_t> codes;  // code words (at most 8 bits)
  std::vector<SegmentConfig> configs;  // size 1 (layer) or shape[0] (channel)
  // fixed16 policy:
  std::vector<int16_t> fixed;
  int f_w = 0;
  QuantStats stats;                        // over the whole tensor
  std::vector<QuantStats> channel_stats;   // per output channel
  const SegmentConfig& config_of_channel(size_t ch) const { return configs.size() == 1 ? configs[0] : configs[ch]; }
  size_t channels() const { return shape.empty() ? 0 : static_cast<size_t>(shape[0]); }
  // Real value of element i as the hardware computes it (hardware codebook
  // values with options.datapath's K for BRSLog, whatever codebook the
  // search used; w_q 2^-f_w for fixed16). std::out_of_range for a bad i.
  double hardware_weight(size_t i) const;
  // Weight storage in bytes: bits per weight x count / 8, rounded up (fixed16:
  // 2 bytes per weight). The per-group configuration registers are not counted.
  uint64_t storage_bytes() const;
};

// Quantizes a tensor (row-major, axis 0 = output channel; every dimension
// >= 1 and their product == w.size(), ConfigError otherwise). Layer: one
// search over all weights; Channel: one search per contiguous block of
// w.size() / shape[0] weights.
QuantizedWeights quantize_tensor(const std::vector<double>& w, const std::vector<int64_t>& shape,
                                 const QuantOptions& opt);
// Float weights w[0..n): the same as their double values, without a double copy.
QuantizedWeights quantize_tensor(const float* w, size_t n, const std::vector<int64_t>& shape, const QuantOptions& opt);

}  // namespace brsim
