// The weight quantizer (BRSLOG.md section 5; fixed16 section 8): codebooks,
// rounding (a branch-free search over precomputed boundaries), tensors and
// their statistics. The parameter search is in quantizer_search.cpp.
#include "quantizer.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <sstream>
#include <stdexcept>

#include "errors.h"
#include "host_threads.h"
#include "quantizer_detail.h"

namespace brsim {

namespace detail {

std::string fmt(double v) {
  std::ostringstream os;
  os.precision(17);
  os << v;
  return os.str();
}

// A_K for every K, built once (hardware_weight is called per element).
const Sqrt2Approx& cached_approx(int k) {
  static const std::vector<Sqrt2Approx> table = [] {
    std::vector<Sqrt2Approx> t;
    for (int i = kMinSqrt2Terms; i <= kMaxSqrt2Terms; ++i) t.push_back(sqrt2_approx(i));
    return t;
  }();
  if (k < kMinSqrt2Terms || k > kMaxSqrt2Terms) sqrt2_approx(k);  // throws the ConfigError
  return table[static_cast<size_t>(k - kMinSqrt2Terms)];
}

namespace {

// An AVX2 copy beside the baseline one on x86-64, picked at load time (as
// the golden model's kernels); the same results either way.
#if defined(__x86_64__)
#define BRSIM_QUANT_CLONES __attribute__((target_clones("avx2", "default")))
#else  // (aarch64: the baseline, NEON)
#define BRSIM_QUANT_CLONES
#endif

// Lanes of |w| (the sign bit cleared) kept as their maximum; a lane that
// is not <= the largest finite value (infinity, NaN) marks the tensor.
template <typename F, typename U, int kLanes>
inline __attribute__((always_inline)) double max_abs_body(const F* w, size_t n) {
  typedef F FV __attribute__((vector_size(sizeof(F) * kLanes)));
  typedef U UV __attribute__((vector_size(sizeof(F) * kLanes)));
  constexpr U kAbs = ~U{0} >> 1;
  const FV top = FV{} + std::numeric_limits<F>::max();
  FV m = {};
  UV bad = {};
  size_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    UV b;
    std::memcpy(&b, w + i, sizeof b);
    b &= kAbs;
    FV a;
    std::memcpy(&a, &b, sizeof a);
    bad |= __builtin_convertvector(~(a <= top), UV);
    m = a > m ? a : m;
  }
  double r = 0.0;
  for (int k = 0; k < kLanes; ++k) {
    if (bad[k]) return -1.0;
    r = std::max(r, static_cast<double>(m[k]));
  }
  for (; i < n; ++i) {
    const double x = w[i];
    if (!std::isfinite(x)) return -1.0;
    r = std::max(r, std::fabs(x));
  }
  return r;
}

// Codes of w[0, n) against the rounding bounds b[0, L) (b[L] = +inf is
// never <= a finite weight): level j = the number of bounds <= |w|, the
// count level_index's search finds, taken over every bound in lanes. Float
// weights compare in float against each bound rounded up to a float (b is
// <= a float exactly when that float is); double weights in double.
template <typename F, typename I, typename U, int kLanes>
inline __attribute__((always_inline)) void codes_body(const F* w, size_t n, const F* b, int L, int bits, uint8_t* codes) {
  typedef F FV __attribute__((vector_size(sizeof(F) * kLanes)));
  typedef I IV __attribute__((vector_size(sizeof(F) * kLanes)));
  typedef U UV __attribute__((vector_size(sizeof(F) * kLanes)));
  constexpr int kTop = sizeof(F) * 8 - 1;
  size_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    UV x;
    std::memcpy(&x, w + i, sizeof x);
    const UV sign = (x >> kTop) << (bits - 1), ax = x & ~(U{1} << kTop);
    FV a;
    std::memcpy(&a, &ax, sizeof a);
    IV j = {};
    for (int k = 0; k < L; ++k) j -= (FV{} + b[k]) <= a;
    const IV code = (j != 0) & (j | __builtin_convertvector(sign, IV));
    for (int k = 0; k < kLanes; ++k) codes[i + static_cast<size_t>(k)] = static_cast<uint8_t>(code[k]);
  }
  for (; i < n; ++i) {
    const F a = std::fabs(w[i]);
    int j = 0;
    for (int k = 0; k < L; ++k) j += b[k] <= a;
    codes[i] = static_cast<uint8_t>(j == 0 ? 0 : make_code(std::signbit(w[i]) ? 1 : 0, j, bits));
  }
}

}  // namespace

BRSIM_QUANT_CLONES void assign_codes(const float* w, size_t n, const float* b, int L, int bits, uint8_t* codes) {
  codes_body<float, int32_t, uint32_t, 8>(w, n, b, L, bits, codes);
}
BRSIM_QUANT_CLONES void assign_codes(const double* w, size_t n, const double* b, int L, int bits, uint8_t* codes) {
  codes_body<double, int64_t, uint64_t, 4>(w, n, b, L, bits, codes);
}

BRSIM_QUANT_CLONES double max_abs_or_nonfinite(const float* w, size_t n) { return max_abs_body<float, uint32_t, 16>(w, n); }
BRSIM_QUANT_CLONES double max_abs_or_nonfinite(const double* w, size_t n) { return max_abs_body<double, uint64_t, 8>(w, n); }

const std::vector<double>& bounds_of(const Codebook& cb, Rounding r) {
  const std::vector<double>& b = r == Rounding::Linear ? cb.linear_bounds : cb.log_bounds;
  if (b.size() != cb.levels.size() || b.size() != static_cast<size_t>(cb.cfg.levels()) + 1) {
    throw ConfigError("codebook for " + to_string(cb.cfg) + " was not built by make_codebook");
  }
  return b;
}

}  // namespace detail

namespace {

using detail::assign_codes;
using detail::bounds_of;
using detail::cached_approx;
using detail::checked_max_abs;
using detail::level_index;

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr const char* kPolicyForms = "brslog, seglog:n2=K (K an integer in [0, L]), log2, logsqrt2, fixed16";

// Optional '-' then 1..9 decimal digits; nothing else.
bool parse_int(const std::string& s, int* out) {
  size_t i = (!s.empty() && s[0] == '-') ? 1 : 0;
  if (s.size() == i || s.size() - i > 9) return false;
  long v = 0;
  for (size_t k = i; k < s.size(); ++k) {
    if (s[k] < '0' || s[k] > '9') return false;
    v = v * 10 + (s[k] - '0');
  }
  *out = static_cast<int>(i ? -v : v);
  return true;
}

// |level j| as the AE computes it: 2^(e_base + shift) (flag ? c_K 2^-q_K : 1),
// an exact dyadic double.
double hardware_magnitude(int j, const SegmentConfig& cfg, const Sqrt2Approx& approx) {
  if (j == 0) return 0.0;
  const int h = half_exponent(j, cfg);
  const int e = cfg.e_base + (h >> 1);
  return (h & 1) ? std::ldexp(static_cast<double>(approx.c), e - approx.q) : std::ldexp(1.0, e);
}

// Smallest double t in [a, b] with b - t <= t - a. Both differences are
// exact for b <= 2a (Sterbenz), so this is the real midpoint, ties up. The
// predicate is monotone in t, so stepping by ulps from the estimate ends.
double linear_bound(double a, double b) {
  auto up = [a, b](double t) { return b - t <= t - a; };
  double t = a + (b - a) / 2;
  while (!up(t)) t = std::nextafter(t, kInf);
  for (double d = std::nextafter(t, -kInf); d >= a && up(d); d = std::nextafter(t, -kInf)) t = d;
  return t;
}

// sqrt(a * b) in double, with a and b scaled by 2^-e_base (exact) so the
// product stays in range; scaling back is exact too.
double log_bound(double a, double b, int e_base) {
  const double sa = std::ldexp(a, -e_base), sb = std::ldexp(b, -e_base);
  return std::ldexp(std::sqrt(sa * sb), e_base);
}

// One group's sums, each in index order: squared error, signal, zeros and
// the code histogram.
struct GroupSums {
  double se = 0, sig = 0;
  size_t zeros = 0;
  std::vector<uint64_t> histogram;
  void add(double w, double wq) {
    const double d = w - wq;
    se += d * d;
    sig += w * w;
    if (wq == 0.0) ++zeros;
  }
};

QuantStats stats_of(const GroupSums& g, size_t n) {
  QuantStats s;
  s.count = n;
  s.histogram = g.histogram;
  if (n > 0) {
    s.mse = g.se / static_cast<double>(n);
    s.signal_power = g.sig / static_cast<double>(n);
    s.zero_fraction = static_cast<double>(g.zeros) / static_cast<double>(n);
  }
  if (s.mse > 0.0) s.sqnr_db = 10.0 * std::log10(s.signal_power / s.mse);
  else s.sqnr_db = s.signal_power > 0.0 ? kInf : 0.0;
  return s;
}

}  // namespace

// ---- names ---------------------------------------------------------------

std::string Policy::name() const {
  switch (kind) {
    case PolicyKind::BrsLog: return "brslog";
    case PolicyKind::SegLog: return "seglog:n2=" + std::to_string(seglog_n2);
    case PolicyKind::Log2: return "log2";
    case PolicyKind::LogSqrt2: return "logsqrt2";
    case PolicyKind::Fixed16: return "fixed16";
  }
  return "?";
}

Policy Policy::parse(const std::string& text) {
  Policy p;
  const std::string seg = "seglog:n2=";
  if (text == "brslog") p.kind = PolicyKind::BrsLog;
  else if (text == "log2") p.kind = PolicyKind::Log2;
  else if (text == "logsqrt2") p.kind = PolicyKind::LogSqrt2;
  else if (text == "fixed16") p.kind = PolicyKind::Fixed16;
  else if (text.compare(0, seg.size(), seg) == 0 && parse_int(text.substr(seg.size()), &p.seglog_n2))
    p.kind = PolicyKind::SegLog;
  else
    throw ConfigError("unknown quantization policy '" + text + "': expected one of " + kPolicyForms);
  return p;
}

std::string to_string(CodebookKind k) { return k == CodebookKind::Ideal ? "ideal" : "hardware"; }
std::string to_string(Rounding r) { return r == Rounding::Linear ? "linear" : "log"; }
std::string to_string(Granularity g) { return g == Granularity::Layer ? "layer" : "channel"; }

CodebookKind parse_codebook(const std::string& text) {
  if (text == "ideal") return CodebookKind::Ideal;
  if (text == "hardware") return CodebookKind::Hardware;
  throw ConfigError("unknown codebook '" + text + "': expected ideal or hardware");
}

Rounding parse_rounding(const std::string& text) {
  if (text == "linear") return Rounding::Linear;
  if (text == "log") return Rounding::Log;
  throw ConfigError("unknown rounding '" + text + "': expected linear or log");
}

Granularity parse_granularity(const std::string& text) {
  if (text == "layer") return Granularity::Layer;
  if (text == "channel") return Granularity::Channel;
  throw ConfigError("unknown granularity '" + text + "': expected layer or channel");
}

// ---- codebook and rounding -------------------------------------------------

Codebook make_codebook(const SegmentConfig& cfg, CodebookKind kind, const Sqrt2Approx& approx) {
  validate(cfg);
  Codebook cb;
  cb.cfg = cfg;
  cb.kind = kind;
  const int L = cfg.levels();
  cb.levels.assign(static_cast<size_t>(L) + 1, 0.0);
  for (int j = 1; j <= L; ++j) {
    cb.levels[j] = kind == CodebookKind::Ideal ? ideal_magnitude(j, cfg) : hardware_magnitude(j, cfg, approx);
  }
  if (!std::isfinite(cb.levels[L])) {
    throw ConfigError("the top level of " + to_string(cfg) + " is not a finite double: lower e_base");
  }
  cb.linear_bounds.assign(cb.levels.size(), kInf);
  cb.log_bounds.assign(cb.levels.size(), kInf);
  const double l1 = cb.levels[1];  // 2^e_base in both codebooks
  cb.linear_bounds[0] = l1 / 2;
  cb.log_bounds[0] = log_bound(l1 / 2, l1, cfg.e_base);  // the double nearest l1/sqrt2
  for (int j = 1; j < L; ++j) {
    cb.linear_bounds[j] = linear_bound(cb.levels[j], cb.levels[j + 1]);
    cb.log_bounds[j] = log_bound(cb.levels[j], cb.levels[j + 1], cfg.e_base);
  }
  return cb;
}

double hardware_value(uint32_t code, const SegmentConfig& cfg, const Sqrt2Approx& approx) {
  const DecodedWeight d = decode(code, cfg);
  if (d.zero) return 0.0;
  const double m = hardware_magnitude(code_index(code, cfg.bits), cfg, approx);
  return d.sign ? -m : m;
}

uint32_t quantize_value(double w, const Codebook& cb, Rounding rounding) {
  if (std::isnan(w)) throw ConfigError("cannot quantize NaN");
  const std::vector<double>& b = bounds_of(cb, rounding);
  const int j = level_index(std::fabs(w), b.data(), static_cast<int>(b.size()));
  if (j == 0) return 0;
  return make_code(std::signbit(w) ? 1 : 0, j, cb.cfg.bits);
}

double dequantize(uint32_t code, const Codebook& cb) {
  const int bits = cb.cfg.bits;
  if (code >= (1u << bits)) {
    throw ConfigError("code word " + std::to_string(code) + " does not fit in " + std::to_string(bits) + " bits");
  }
  const int j = code_index(code, bits);
  if (j == 0) return 0.0;
  return code_sign(code, bits) ? -cb.levels[j] : cb.levels[j];
}


// ---- tensors ---------------------------------------------------------------

double QuantizedWeights::hardware_weight(size_t i) const {
  if (options.policy.kind == PolicyKind::Fixed16) {
    if (i >= fixed.size()) throw std::out_of_range("hardware_weight: index " + std::to_string(i));
    return std::ldexp(static_cast<double>(fixed[i]), -f_w);
  }
  if (i >= codes.size() || channels() == 0) throw std::out_of_range("hardware_weight: index " + std::to_string(i));
  const size_t ch = i / (codes.size() / channels());
  return hardware_value(codes[i], config_of_channel(ch), cached_approx(options.datapath.sqrt2_terms));
}

uint64_t QuantizedWeights::storage_bytes() const {
  if (options.policy.kind == PolicyKind::Fixed16) return 2 * static_cast<uint64_t>(fixed.size());
  return (static_cast<uint64_t>(options.bits) * codes.size() + 7) / 8;
}

namespace {

// T: double or float (converted to double exactly where it is read).
template <typename T>
QuantizedWeights quantize_tensor_t(const T* w, size_t size, const std::vector<int64_t>& shape, const QuantOptions& opt) {
  validate(opt);
  if (shape.empty()) throw ConfigError("weight tensor shape is empty: expected at least the channel axis");
  size_t numel = 1;
  bool fits = true;  // numel <= size so far (the product cannot overflow)
  for (int64_t d : shape) {
    if (d < 1) throw ConfigError("invalid weight tensor dimension " + std::to_string(d) + ": expected >= 1");
    if (!fits || static_cast<uint64_t>(d) > size / numel) fits = false;
    else numel *= static_cast<size_t>(d);
  }
  if (!fits || numel != size) {
    std::string dims;
    for (int64_t d : shape) dims += (dims.empty() ? "" : "x") + std::to_string(d);
    throw ConfigError("weight tensor shape " + dims + " does not hold the " + std::to_string(size) +
                      " weights given");
  }
  const double max_abs = checked_max_abs(w, size);

  QuantizedWeights q;
  q.shape = shape;
  q.options = opt;
  const size_t channels = static_cast<size_t>(shape[0]);
  const size_t block = numel / channels;
  const bool fixed = opt.policy.kind == PolicyKind::Fixed16;
  // Channel by channel, in parallel: codes and the channel's sums. Then the
  // tensor's sums over every weight in index order (as one group).
  std::vector<GroupSums> sums(channels);
  std::vector<std::vector<double>> value;  // BRSLog: the signed level of each code, per channel
  if (fixed) {
    q.f_w = fixed16_format(max_abs);
    q.fixed.resize(numel);
    parallel_for(channels, [&](size_t c) {
      for (size_t i = c * block; i < (c + 1) * block; ++i) {
        const double x = w[i];
        q.fixed[i] = fixed16_quantize(x, q.f_w);
        sums[c].add(x, std::ldexp(static_cast<double>(q.fixed[i]), -q.f_w));
      }
    });
  } else {
    if (opt.granularity == Granularity::Layer) {
      q.configs.push_back(search_segment(w, numel, opt));
    } else {
      q.configs.resize(channels);
      parallel_for(channels, [&](size_t c) { q.configs[c] = search_segment(w + c * block, block, opt); });
    }
    const Sqrt2Approx& approx = cached_approx(opt.datapath.sqrt2_terms);
    std::vector<Codebook> cbs;
    for (const SegmentConfig& cfg : q.configs) cbs.push_back(make_codebook(cfg, opt.codebook, approx));
    const uint32_t ncodes = 1u << opt.bits;
    for (const Codebook& cb : cbs) {
      value.emplace_back(ncodes);
      for (uint32_t code = 0; code < ncodes; ++code) value.back()[code] = dequantize(code, cb);
    }
    // The bounds in the weights' type: as they are for double weights,
    // rounded up to a float for float weights (see codes_body).
    std::vector<std::vector<T>> tbounds;
    for (const Codebook& cb : cbs) {
      const std::vector<double>& b = bounds_of(cb, opt.rounding);
      std::vector<T> t(b.size() - 1);
      for (size_t k = 0; k + 1 < b.size(); ++k) {
        T x = static_cast<T>(b[k]);
        if (static_cast<double>(x) < b[k]) x = std::nextafter(x, std::numeric_limits<T>::infinity());
        t[k] = x;
      }
      tbounds.push_back(std::move(t));
    }
    q.codes.resize(numel);
    parallel_for(channels, [&](size_t c) {
      const size_t g = cbs.size() == 1 ? 0 : c;
      const double* val = value[g].data();
      GroupSums& s = sums[c];
      s.histogram.assign(ncodes, 0);
      uint8_t* codes = q.codes.data() + c * block;
      assign_codes(w + c * block, block, tbounds[g].data(), static_cast<int>(tbounds[g].size()), opt.bits, codes);
      for (size_t i = 0; i < block; ++i) {
        const uint32_t code = codes[i];
        ++s.histogram[code];
        s.add(w[c * block + i], val[code]);
      }
    });
  }
  GroupSums all;
  if (!fixed) all.histogram.assign(size_t{1} << opt.bits, 0);
  for (size_t c = 0; c < channels; ++c) {
    const double* val = fixed ? nullptr : value[value.size() == 1 ? 0 : c].data();
    for (size_t i = c * block; i < (c + 1) * block; ++i) {
      const double x = w[i];
      const double d = x - (fixed ? std::ldexp(static_cast<double>(q.fixed[i]), -q.f_w) : val[q.codes[i]]);
      all.se += d * d;
      all.sig += x * x;
    }
    all.zeros += sums[c].zeros;
    for (size_t k = 0; k < all.histogram.size(); ++k) all.histogram[k] += sums[c].histogram[k];
  }
  q.stats = stats_of(all, numel);
  for (size_t c = 0; c < channels; ++c) q.channel_stats.push_back(stats_of(sums[c], block));
  return q;
}

}  // namespace

QuantizedWeights quantize_tensor(const std::vector<double>& w, const std::vector<int64_t>& shape,
                                 const QuantOptions& opt) {
  return quantize_tensor_t(w.data(), w.size(), shape, opt);
}

QuantizedWeights quantize_tensor(const float* w, size_t n, const std::vector<int64_t>& shape, const QuantOptions& opt) {
  return quantize_tensor_t(w, n, shape, opt);
}

}  // namespace brsim
