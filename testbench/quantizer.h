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
// Ideal: exact sqrt2. Hardware: sqrt2 replaced by A_K (what the AE computes).
struct Codebook {
  SegmentConfig cfg;
  CodebookKind kind = CodebookKind::Ideal;
  std::vector<double> levels;
};
Codebook make_codebook(const SegmentConfig& cfg, CodebookKind kind, const Sqrt2Approx& approx);

// Hardware value of one code word: (-1)^s 2^e_base 2^shift (flag ? A_K : 1).
double hardware_value(uint32_t code, const SegmentConfig& cfg, const Sqrt2Approx& approx);

// Nearest code word (section 5). Linear: nearest by |difference|, ties to the
// larger magnitude, |w| < level(1)/2 -> zero. Log: nearest in log2|w|
// (geometric midpoints), ties to the larger magnitude, |w| < level(1)/sqrt2
// -> zero. Above the top level: the top level. +0 is always the all-zero word.
uint32_t quantize_value(double w, const Codebook& cb, Rounding rounding);
double dequantize(uint32_t code, const Codebook& cb);

struct QuantOptions {
  int bits = 5;
  Policy policy;
  CodebookKind codebook = CodebookKind::Ideal;
  Rounding rounding = Rounding::Linear;
  Granularity granularity = Granularity::Layer;
  DatapathConfig datapath;  // K, widths: the search skips unrealizable configs
};
void validate(const QuantOptions& opt);

// The candidate configurations the search visits for weights with max|w| =
// max_abs: n2 allowed by the policy, p in {0, 1}, e_base with the (ideal)
// top level in [max_abs/4, 2 max_abs], realizable on the datapath.
std::vector<SegmentConfig> search_candidates(double max_abs, const QuantOptions& opt);

// Sum of squared errors of quantizing `w` with `cfg`.
double quantization_sse(const double* w, size_t n, const SegmentConfig& cfg, const QuantOptions& opt);

// The search (section 5): minimise squared error; ties: larger n2, then
// smaller p, then smaller e_base. All-zero weights (max|w| = 0) give
// e_base = 0, p = 0 and the policy's largest n2: every code is zero anyway.
// NaN or infinite weights: ConfigError naming the element index.
SegmentConfig search_segment(const double* w, size_t n, const QuantOptions& opt);

// Error metrics of one quantized group of weights.
struct QuantStats {
  size_t count = 0;
  double mse = 0;            // mean of (w - w_q)^2
  double signal_power = 0;   // mean of w^2
  double sqnr_db = 0;        // 10 log10(signal / mse); +inf when mse == 0
  double zero_fraction = 0;  // fraction of weights quantized to zero
  std::vector<uint64_t> histogram;  // count per code word (2^bits entries)
};

// A quantized weight tensor. The channel axis is axis 0 (output channels of
// OIHW conv weights; rows of an [M x K] FC weight): per-channel granularity
// keeps one SegmentConfig per output channel, per-layer granularity one.
struct QuantizedWeights {
  std::vector<int64_t> shape;
  QuantOptions options;
  // BRSLog policies:
  std::vector<uint32_t> codes;
  std::vector<SegmentConfig> configs;  // size 1 (layer) or shape[0] (channel)
  // fixed16 policy:
  std::vector<int16_t> fixed;
  int f_w = 0;
  QuantStats stats;                        // over the whole tensor
  std::vector<QuantStats> channel_stats;   // per output channel
  const SegmentConfig& config_of_channel(size_t ch) const { return configs.size() == 1 ? configs[0] : configs[ch]; }
  size_t channels() const { return shape.empty() ? 0 : static_cast<size_t>(shape[0]); }
  // Real value of element i as the hardware computes it (hardware codebook
  // values for BRSLog, w_q 2^-f_w for fixed16).
  double hardware_weight(size_t i) const;
  // Weight storage in bytes: bits per weight x count / 8 (rounded up), plus
  // the per-group configuration registers are not counted.
  uint64_t storage_bytes() const;
};

// Quantizes a tensor (row-major, axis 0 = output channel).
QuantizedWeights quantize_tensor(const std::vector<double>& w, const std::vector<int64_t>& shape,
                                 const QuantOptions& opt);

}  // namespace brsim
