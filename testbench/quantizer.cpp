// The weight quantizer (BRSLOG.md section 5; fixed16 section 8). Rounding is
// a branch-free search over precomputed boundaries; the parameter search
// sums squared errors directly, in index order, so its ties are exact.
#include "quantizer.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "errors.h"

namespace brsim {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr int kMinEBase = -900, kMaxEBase = 900;  // validate(SegmentConfig)'s range
constexpr const char* kPolicyForms = "brslog, seglog:n2=K (K an integer in [0, L]), log2, logsqrt2, fixed16";

std::string fmt(double v) {
  std::ostringstream os;
  os.precision(17);
  os << v;
  return os.str();
}

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

// Number of bounds <= a, i.e. the level index of magnitude a. `size` is
// L + 1, a power of two; bounds[L] = +inf keeps the result <= L.
inline int level_index(double a, const double* bounds, int size) {
  int pos = 0;
  for (int step = size >> 1; step > 0; step >>= 1) pos += (bounds[pos + step - 1] <= a) ? step : 0;
  return pos;
}

const std::vector<double>& bounds_of(const Codebook& cb, Rounding r) {
  const std::vector<double>& b = r == Rounding::Linear ? cb.linear_bounds : cb.log_bounds;
  if (b.size() != cb.levels.size() || b.size() != static_cast<size_t>(cb.cfg.levels()) + 1) {
    throw ConfigError("codebook for " + to_string(cb.cfg) + " was not built by make_codebook");
  }
  return b;
}

// Throws ConfigError naming the first non-finite element; returns max|w|.
double checked_max_abs(const double* w, size_t n, size_t index_offset = 0) {
  double m = 0.0;
  for (size_t i = 0; i < n; ++i) {
    if (!std::isfinite(w[i])) {
      throw ConfigError("weight [" + std::to_string(i + index_offset) + "] is " + fmt(w[i]) +
                        ": weights must be finite");
    }
    m = std::max(m, std::fabs(w[i]));
  }
  return m;
}

// Sum of (|w| - level)^2 in index order; equals sum (w - w_q)^2 bit for bit
// since the sign of w_q follows w (or w_q = 0).
double codebook_sse(const double* w, size_t n, const Codebook& cb, Rounding r) {
  const double* bounds = bounds_of(cb, r).data();
  const double* lev = cb.levels.data();
  const int size = static_cast<int>(cb.levels.size());
  double sse = 0.0;
  for (size_t i = 0; i < n; ++i) {
    const double a = std::fabs(w[i]);
    const double d = a - lev[level_index(a, bounds, size)];
    sse += d * d;
  }
  return sse;
}

// The n2 values a policy allows, ascending.
std::vector<int> policy_n2(const QuantOptions& opt) {
  const int L = num_levels(opt.bits);
  switch (opt.policy.kind) {
    case PolicyKind::BrsLog: {
      std::vector<int> v(static_cast<size_t>(L) + 1);
      for (int i = 0; i <= L; ++i) v[static_cast<size_t>(i)] = i;
      return v;
    }
    case PolicyKind::SegLog: return {opt.policy.seglog_n2};
    case PolicyKind::Log2: return {L};
    case PolicyKind::LogSqrt2: return {0};
    case PolicyKind::Fixed16: break;
  }
  throw ConfigError("policy fixed16 has no segment configuration (it is quantized by f_w, section 8)");
}

std::string no_realizable_message(const QuantOptions& opt, const std::string& why) {
  return "no segment configuration of policy " + opt.policy.name() + " with " + std::to_string(opt.bits) +
         "-bit weights is realizable on the datapath: " + why;
}

// Sign of 2^(t/2) - x for a finite x > 0, exactly: compares 2^t with x^2 in
// integers (x = M 2^k with M < 2^53, so M^2 < 2^106 fits in 128 bits).
int cmp_half_power(int t, double x) {
  int e = 0;
  const double f = std::frexp(x, &e);  // x = f 2^e, f in [0.5, 1)
  const auto m = static_cast<uint64_t>(std::ldexp(f, 53));
  const int d = t - 2 * (e - 53);  // 2^t vs M^2 2^(2(e-53))  <=>  2^d vs M^2
  if (d < 0) return -1;
  if (d >= 127) return 1;
  const unsigned __int128 lhs = static_cast<unsigned __int128>(1) << d;
  const unsigned __int128 rhs = static_cast<unsigned __int128>(m) * m;
  return lhs < rhs ? -1 : (lhs > rhs ? 1 : 0);
}

// All-zero weights: e_base 0, p 0, the largest realizable n2 of the policy.
SegmentConfig zero_weights_config(const QuantOptions& opt) {
  const std::vector<int> n2s = policy_n2(opt);
  std::string why;
  for (auto it = n2s.rbegin(); it != n2s.rend(); ++it) {
    SegmentConfig cfg;
    cfg.bits = opt.bits;
    cfg.n2 = *it;
    if (realizable(cfg, opt.datapath, &why)) return cfg;
  }
  throw ConfigError(no_realizable_message(opt, why));  // why of the smallest n2
}

// Strict "a beats b": smaller SSE, then larger n2, smaller p, smaller e_base.
bool better(double sse_a, const SegmentConfig& a, double sse_b, const SegmentConfig& b) {
  if (sse_a != sse_b) return sse_a < sse_b;
  if (a.n2 != b.n2) return a.n2 > b.n2;
  if (a.p != b.p) return a.p < b.p;
  return a.e_base < b.e_base;
}

QuantStats group_stats(const double* w, const double* wq, const uint32_t* codes, size_t n, int bits) {
  QuantStats s;
  s.count = n;
  if (codes) s.histogram.assign(size_t{1} << bits, 0);
  double se = 0.0, sig = 0.0;
  size_t zeros = 0;
  for (size_t i = 0; i < n; ++i) {
    const double d = w[i] - wq[i];
    se += d * d;
    sig += w[i] * w[i];
    if (wq[i] == 0.0) ++zeros;
    if (codes) ++s.histogram[codes[i]];
  }
  if (n > 0) {
    s.mse = se / static_cast<double>(n);
    s.signal_power = sig / static_cast<double>(n);
    s.zero_fraction = static_cast<double>(zeros) / static_cast<double>(n);
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

// ---- parameter search ------------------------------------------------------

void validate(const QuantOptions& opt) {
  validate_bits(opt.bits);
  validate(opt.datapath);
  if (opt.policy.kind == PolicyKind::SegLog) {
    const int L = num_levels(opt.bits);
    if (opt.policy.seglog_n2 < 0 || opt.policy.seglog_n2 > L) {
      throw ConfigError("invalid policy " + opt.policy.name() + " for " + std::to_string(opt.bits) +
                        "-bit weights: expected n2 in [0, L] = [0, " + std::to_string(L) + "]");
    }
  }
}

std::vector<SegmentConfig> search_candidates(double max_abs, const QuantOptions& opt) {
  validate(opt);
  const std::vector<int> n2s = policy_n2(opt);
  if (!(max_abs > 0.0) || !std::isfinite(max_abs)) {
    throw ConfigError("search_candidates: max|w| = " + fmt(max_abs) + " must be positive and finite");
  }
  const int L = num_levels(opt.bits);
  int e = 0;
  std::frexp(max_abs, &e);  // max_abs in [2^(e-1), 2^e)
  std::vector<SegmentConfig> out;
  std::string first_why;
  bool any_realizable = false;
  for (int n2 : n2s) {
    for (int p = 0; p <= ((n2 == 0 || n2 == L) ? 0 : 1); ++p) {
      SegmentConfig cfg;
      cfg.bits = opt.bits;
      cfg.n2 = n2;
      cfg.p = p;
      std::string why;
      if (!realizable(cfg, opt.datapath, &why)) {
        if (first_why.empty()) first_why = why;  // smallest n2: the smallest shift
        continue;
      }
      any_realizable = true;
      // Top level 2^(t/2) with t = 2 e_base + H; keep max/4 <= 2^(t/2) <= 2 max,
      // i.e. 2^((t+4)/2) >= max and 2^((t-2)/2) <= max. All such t lie in
      // [2e - 6, 2e + 2); the loop is a little wider and the test exact.
      const int H = half_exponent(L, cfg);
      for (int t = 2 * e - 8; t <= 2 * e + 4; ++t) {
        if (((t - H) & 1) != 0) continue;
        if (cmp_half_power(t + 4, max_abs) < 0 || cmp_half_power(t - 2, max_abs) > 0) continue;
        cfg.e_base = (t - H) / 2;
        if (cfg.e_base < kMinEBase || cfg.e_base > kMaxEBase || cfg.e_base + (H >> 1) > 1023) continue;
        out.push_back(cfg);
      }
    }
  }
  if (!any_realizable) throw ConfigError(no_realizable_message(opt, first_why));
  if (out.empty()) {
    throw ConfigError("max|w| = " + fmt(max_abs) + " needs e_base outside [" + std::to_string(kMinEBase) + ", " +
                      std::to_string(kMaxEBase) + "] or a top level beyond the double range");
  }
  return out;
}

double quantization_sse(const double* w, size_t n, const SegmentConfig& cfg, const QuantOptions& opt) {
  validate(opt.datapath);
  checked_max_abs(w, n);
  const Codebook cb = make_codebook(cfg, opt.codebook, cached_approx(opt.datapath.sqrt2_terms));
  return codebook_sse(w, n, cb, opt.rounding);
}

namespace {

std::string g_search_cache;
std::atomic<uint64_t> g_search_cache_hits{0};

// Two 64-bit hashes of the weights' bit patterns (multiply-rotate over each
// word, different constants and seeds): the cache file's name and key.
void hash_weights(const double* w, size_t n, uint64_t* h1, uint64_t* h2) {
  uint64_t a = 0x9E3779B97F4A7C15ull ^ n, b = 0xC2B2AE3D27D4EB4Full + n;
  for (size_t i = 0; i < n; ++i) {
    uint64_t x;
    std::memcpy(&x, &w[i], 8);
    a = ((a ^ x) * 0xFF51AFD7ED558CCDull);
    a = (a << 29) | (a >> 35);
    b = ((b + x) * 0xC4CEB9FE1A85EC53ull);
    b = (b << 31) | (b >> 33);
  }
  *h1 = a ^ (a >> 32), *h2 = b ^ (b >> 29);
}

// Everything search_segment() reads besides the weights, with their hashes.
std::string search_key(const double* w, size_t n, const QuantOptions& opt) {
  uint64_t h1 = 0, h2 = 0;
  hash_weights(w, n, &h1, &h2);
  char buf[320];
  std::snprintf(buf, sizeof buf,
                "brsim segment search v1 n=%zu w=%016llx%016llx bits=%d policy=%s codebook=%s rounding=%d act=%d acc=%d "
                "shift=%d K=%d",
                n, static_cast<unsigned long long>(h1), static_cast<unsigned long long>(h2), opt.bits,
                opt.policy.name().c_str(), to_string(opt.codebook).c_str(), static_cast<int>(opt.rounding),
                opt.datapath.act_bits, opt.datapath.acc_bits, opt.datapath.shift_bits, opt.datapath.sqrt2_terms);
  return buf;
}

std::string cache_file(const std::string& key) {
  uint64_t h = 0xCBF29CE484222325ull;  // FNV-1a of the key
  for (char c : key) h = (h ^ static_cast<unsigned char>(c)) * 0x100000001B3ull;
  char name[40];
  std::snprintf(name, sizeof name, "/seg-%016llx.txt", static_cast<unsigned long long>(h));
  return g_search_cache + name;
}

bool read_cached(const std::string& path, const std::string& key, const QuantOptions& opt, SegmentConfig* cfg) {
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line) || line != key) return false;
  SegmentConfig c;
  if (!(in >> c.bits >> c.n2 >> c.p >> c.e_base) || c.bits != opt.bits) return false;
  try {
    validate(c);
  } catch (const ConfigError&) {
    return false;
  }
  *cfg = c;
  return true;
}

void write_cached(const std::string& path, const std::string& key, const SegmentConfig& c) {
  std::error_code ec;
  std::filesystem::create_directories(g_search_cache, ec);
  static std::atomic<uint64_t> serial{0};
  const std::string tmp = path + ".tmp" + std::to_string(static_cast<long>(::getpid())) + "-" + std::to_string(serial++);
  bool ok = false;
  {
    std::ofstream out(tmp);
    out << key << "\n" << c.bits << " " << c.n2 << " " << c.p << " " << c.e_base << "\n";
    ok = static_cast<bool>(out);
  }
  if (ok) std::filesystem::rename(tmp, path, ec);
  if (!ok || ec) {
    std::filesystem::remove(tmp, ec);
    // An unwritable folder only costs later runs the search: say so once.
    static std::atomic<bool> warned{false};
    if (!warned.exchange(true))
      std::fprintf(stderr, "brsim: warning: --quant-cache %s: cannot write %s; the search results are not kept\n",
                   g_search_cache.c_str(), path.c_str());
  }
}

SegmentConfig search_segment_uncached(const double* w, size_t n, const QuantOptions& opt);

}  // namespace

void set_search_cache(const std::string& dir) { g_search_cache = dir; }
const std::string& search_cache() { return g_search_cache; }
uint64_t search_cache_hits() { return g_search_cache_hits.load(); }

SegmentConfig search_segment(const double* w, size_t n, const QuantOptions& opt) {
  if (g_search_cache.empty() || n < kSearchCacheMin) return search_segment_uncached(w, n, opt);
  validate(opt);
  checked_max_abs(w, n);  // bad weights are reported, never looked up
  const std::string key = search_key(w, n, opt);
  const std::string path = cache_file(key);
  SegmentConfig cfg;
  if (read_cached(path, key, opt, &cfg)) {
    ++g_search_cache_hits;
    return cfg;
  }
  cfg = search_segment_uncached(w, n, opt);
  write_cached(path, key, cfg);
  return cfg;
}

namespace {

SegmentConfig search_segment_uncached(const double* w, size_t n, const QuantOptions& opt) {
  validate(opt);
  policy_n2(opt);  // fixed16 has no segment configuration
  const double max_abs = checked_max_abs(w, n);
  if (max_abs == 0.0) return zero_weights_config(opt);
  const Sqrt2Approx& approx = cached_approx(opt.datapath.sqrt2_terms);
  const std::vector<SegmentConfig> cands = search_candidates(max_abs, opt);
  // Each candidate's error, summed in the tensor's order; large tensors
  // split the candidates over two threads (the same sums either way).
  std::vector<double> sse(cands.size());
  auto eval = [&](size_t lo, size_t hi) {
    for (size_t i = lo; i < hi; ++i) sse[i] = codebook_sse(w, n, make_codebook(cands[i], opt.codebook, approx), opt.rounding);
  };
  if (n >= (1u << 20) && cands.size() > 1) {
    std::thread other(eval, cands.size() / 2, cands.size());
    eval(0, cands.size() / 2);
    other.join();
  } else {
    eval(0, cands.size());
  }
  SegmentConfig best;
  double best_sse = kInf;
  bool have = false;
  for (size_t i = 0; i < cands.size(); ++i) {
    if (!have || better(sse[i], cands[i], best_sse, best)) {
      best = cands[i];
      best_sse = sse[i];
      have = true;
    }
  }
  return best;
}

}  // namespace

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

QuantizedWeights quantize_tensor(const std::vector<double>& w, const std::vector<int64_t>& shape,
                                 const QuantOptions& opt) {
  validate(opt);
  if (shape.empty()) throw ConfigError("weight tensor shape is empty: expected at least the channel axis");
  size_t numel = 1;
  bool fits = true;  // numel <= w.size() so far (the product cannot overflow)
  for (int64_t d : shape) {
    if (d < 1) throw ConfigError("invalid weight tensor dimension " + std::to_string(d) + ": expected >= 1");
    if (!fits || static_cast<uint64_t>(d) > w.size() / numel) fits = false;
    else numel *= static_cast<size_t>(d);
  }
  if (!fits || numel != w.size()) {
    std::string dims;
    for (int64_t d : shape) dims += (dims.empty() ? "" : "x") + std::to_string(d);
    throw ConfigError("weight tensor shape " + dims + " does not hold the " + std::to_string(w.size()) +
                      " weights given");
  }
  const double max_abs = checked_max_abs(w.data(), w.size());

  QuantizedWeights q;
  q.shape = shape;
  q.options = opt;
  const size_t channels = static_cast<size_t>(shape[0]);
  const size_t block = numel / channels;
  std::vector<double> wq(numel);
  if (opt.policy.kind == PolicyKind::Fixed16) {
    q.f_w = fixed16_format(max_abs);
    q.fixed.resize(numel);
    for (size_t i = 0; i < numel; ++i) {
      q.fixed[i] = fixed16_quantize(w[i], q.f_w);
      wq[i] = std::ldexp(static_cast<double>(q.fixed[i]), -q.f_w);
    }
  } else {
    if (opt.granularity == Granularity::Layer) {
      q.configs.push_back(search_segment(w.data(), numel, opt));
    } else {
      for (size_t c = 0; c < channels; ++c) q.configs.push_back(search_segment(w.data() + c * block, block, opt));
    }
    const Sqrt2Approx& approx = cached_approx(opt.datapath.sqrt2_terms);
    q.codes.resize(numel);
    for (size_t c = 0; c < channels; ++c) {
      const Codebook cb = make_codebook(q.config_of_channel(c), opt.codebook, approx);
      for (size_t i = c * block; i < (c + 1) * block; ++i) {
        q.codes[i] = quantize_value(w[i], cb, opt.rounding);
        wq[i] = dequantize(q.codes[i], cb);
      }
    }
  }
  const uint32_t* codes = q.codes.empty() ? nullptr : q.codes.data();
  q.stats = group_stats(w.data(), wq.data(), codes, numel, opt.bits);
  for (size_t c = 0; c < channels; ++c) {
    q.channel_stats.push_back(group_stats(w.data() + c * block, wq.data() + c * block,
                                          codes ? codes + c * block : nullptr, block, opt.bits));
  }
  return q;
}

}  // namespace brsim
