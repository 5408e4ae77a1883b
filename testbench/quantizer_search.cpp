// The parameter search of BRSLOG.md section 5: the candidates, the direct
// (brute-force) search, the fast search over binned magnitudes that makes
// the same choice, and the folder of search results (--quant-cache).
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <thread>

#include "errors.h"
#include "host_threads.h"
#include "quantizer.h"
#include "quantizer_detail.h"

namespace brsim {

namespace {

using detail::bounds_of;
using detail::cached_approx;
using detail::checked_max_abs;
using detail::codebook_sse;
using detail::fmt;

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr int kMinEBase = -900, kMaxEBase = 900;  // validate(SegmentConfig)'s range

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

}  // namespace

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
// Float weights hash as the doubles they convert to (the same key).
template <typename T>
void hash_weights(const T* w, size_t n, uint64_t* h1, uint64_t* h2) {
  uint64_t a = 0x9E3779B97F4A7C15ull ^ n, b = 0xC2B2AE3D27D4EB4Full + n;
  for (size_t i = 0; i < n; ++i) {
    const double v = w[i];
    uint64_t x;
    std::memcpy(&x, &v, 8);
    a = ((a ^ x) * 0xFF51AFD7ED558CCDull);
    a = (a << 29) | (a >> 35);
    b = ((b + x) * 0xC4CEB9FE1A85EC53ull);
    b = (b << 31) | (b >> 33);
  }
  *h1 = a ^ (a >> 32), *h2 = b ^ (b >> 29);
}

// Everything search_segment() reads besides the weights, with their hashes.
template <typename T>
std::string search_key(const T* w, size_t n, const QuantOptions& opt) {
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

}  // namespace

void set_search_cache(const std::string& dir) { g_search_cache = dir; }
const std::string& search_cache() { return g_search_cache; }
uint64_t search_cache_hits() { return g_search_cache_hits.load(); }

// ---- the direct search -------------------------------------------------------

namespace {

template <typename T>
SegmentConfig brute_force_search(const T* w, size_t n, const QuantOptions& opt) {
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

// ---- the fast search -----------------------------------------------------------

constexpr double kU = 0x1p-53;       // unit roundoff of double
constexpr double kTiny = 0x1p-1070;  // 32x the error of an operation whose result underflows (2^-1075)

// Magnitudes in [r, next) (bin 0: [0, first edge), r = 0): how many, and the
// sums of d = |w| - r and of d^2. d is exact: r <= |w| <= 2r (Sterbenz), or r = 0.
struct Bin {
  double s1 = 0, s2 = 0;
  uint64_t n = 0;
};

uint64_t bits_of(double x) {
  uint64_t u;
  std::memcpy(&u, &x, 8);
  return u;
}

double from_bits(uint64_t u) {
  double x;
  std::memcpy(&x, &u, 8);
  return x;
}

// The bins' edges, ascending: every candidate's rounding boundaries (so each
// bin lies inside one level of every candidate), and doublings wherever the
// next edge (or max|w|, for the last bin) lies more than x2 above.
std::vector<double> bin_edges(const std::vector<Codebook>& cbs, Rounding r, double max_abs) {
  std::vector<double> u;
  for (const Codebook& cb : cbs) {
    const std::vector<double>& b = bounds_of(cb, r);
    u.insert(u.end(), b.begin(), b.end() - 1);  // b[L] = +inf is no edge
  }
  std::sort(u.begin(), u.end());
  u.erase(std::unique(u.begin(), u.end()), u.end());
  std::vector<double> e;
  e.reserve(u.size() + 8);
  for (double v : u) {
    while (!e.empty() && v > 2 * e.back()) e.push_back(2 * e.back());
    e.push_back(v);
  }
  while (max_abs > 2 * e.back()) e.push_back(2 * e.back());
  return e;
}

// The bin of a magnitude a, i.e. the number of edges <= a. Non-negative
// doubles order as their bit patterns: a table over the top bits (the
// exponent and c mantissa bits, 2^c cells per octave, about n/4 cells in
// all) holds the bin of each cell's smallest value, and a short scan
// finishes.
class BinLocator {
 public:
  BinLocator(const std::vector<double>& edges, double max_abs, size_t n) : e_(edges.data()), m_(edges.size()) {
    const uint64_t lo = bits_of(edges.front()), hi = bits_of(std::max(max_abs, edges.front()));
    const uint64_t octaves = (hi >> 52) - (lo >> 52) + 1;
    int c = 0;
    while (c < 7 && (octaves << (c + 1)) * 4 <= n) ++c;
    shift_ = 52 - c;
    k0_ = lo >> shift_;
    const uint64_t k1 = hi >> shift_;
    table_.resize(k1 - k0_ + 1);
    size_t b = 0;
    for (uint64_t k = k0_; k <= k1; ++k) {
      const double start = from_bits(k << shift_);
      while (b < m_ && e_[b] <= start) ++b;
      table_[k - k0_] = static_cast<uint32_t>(b);
    }
  }
  // a in [0, max_abs].
  size_t operator()(double a) const {
    const uint64_t k = bits_of(a) >> shift_;
    if (k < k0_) return 0;
    size_t b = table_[k - k0_];
    while (b < m_ && e_[b] <= a) ++b;
    return b;
  }

 private:
  const double* e_;
  size_t m_;
  int shift_ = 52;
  uint64_t k0_ = 0;
  std::vector<uint32_t> table_;
};

// Bins 0..m of the weights. A large tensor is cut into one chunk per
// thread; the chunks' bins are added in chunk order.
template <typename T>
std::vector<Bin> bin_weights(const T* w, size_t n, const std::vector<double>& edges, const BinLocator& loc) {
  const size_t nb = edges.size() + 1;
  const size_t chunks = n >= (size_t{1} << 17) ? static_cast<size_t>(host_threads()) : 1;
  std::vector<std::vector<Bin>> part(chunks, std::vector<Bin>(nb));
  parallel_for(chunks, [&](size_t c) {
    Bin* bins = part[c].data();
    const double* lower = edges.data() - 1;  // lower[b] = bin b's lower edge, b >= 1
    for (size_t i = n / chunks * c, end = c + 1 == chunks ? n : n / chunks * (c + 1); i < end; ++i) {
      const double a = std::fabs(static_cast<double>(w[i]));
      const size_t b = loc(a);
      const double d = b == 0 ? a : a - lower[b];
      Bin& x = bins[b];
      x.s1 += d;
      x.s2 += d * d;
      ++x.n;
    }
  });
  for (size_t c = 1; c < chunks; ++c)
    for (size_t b = 0; b < nb; ++b) {
      part[0][b].s1 += part[c][b].s1;
      part[0][b].s2 += part[c][b].s2;
      part[0][b].n += part[c][b].n;
    }
  return std::move(part[0]);
}

// An interval that holds the candidate's error as codebook_sse sums it.
struct Interval {
  double lo = 0, hi = 0;
};

// The candidate's error from the bins: a bin of lower edge r at level l adds
// sum (d + t)^2 = s2 + t (2 s1 + n t) with t = r - l. Rounding error, for
// any order of the sums (the chunks, the bins): each bin's expression is
// within gamma(n_b + 6) of its exact value relative to its absolute version
// s2 + |t| (2 s1 + n |t|), and the sum over the m + 1 bins adds gamma(m)
// of the same, so the total is within gamma(n + m + 6) A (gamma(k) = k u /
// (1 - k u), u = 2^-53, A the sum of the absolute versions, itself computed
// within the same factor); 2 (n + m + 16) u A bounds it with room. The
// direct sum the search decides on (index order, each term rounded at most
// three times) is within gamma(n + 2) of the exact error. Underflows add at
// most 2^-1075 per operation; overflows make the interval non-finite, and
// the caller falls back to the direct search.
bool estimate(const Codebook& cb, Rounding r, const std::vector<double>& edges, const std::vector<Bin>& bins,
              size_t n, Interval* out) {
  const double* bd = bounds_of(cb, r).data();
  const double* lev = cb.levels.data();
  const int L = cb.cfg.levels();
  int j = 0;  // the level of bin b: the number of bounds <= its lower edge (all bounds are edges)
  double f = 0, a = 0;
  for (size_t b = 0; b < bins.size(); ++b) {
    const double lower = b == 0 ? 0.0 : edges[b - 1];
    while (j < L && bd[j] <= lower) ++j;
    const Bin& x = bins[b];
    if (x.n == 0) continue;
    const double t = lower - lev[j], at = std::fabs(t), c = static_cast<double>(x.n);
    f += x.s2 + t * (2 * x.s1 + c * t);
    a += x.s2 + at * (2 * x.s1 + c * at);
  }
  const double dn = static_cast<double>(n), dm = static_cast<double>(bins.size());
  const double e_fast = 2 * (dn + dm + 16) * kU * a + (4 * dn + 16 * dm + 64) * kTiny;
  const double e_direct = 2 * (dn + 4) * kU * (std::max(f, 0.0) + e_fast) + (4 * dn + 16) * kTiny;
  double lo = f - (e_fast + e_direct), hi = f + (e_fast + e_direct);
  lo -= std::fabs(lo) * 4 * kU + kTiny;
  hi += std::fabs(hi) * 4 * kU + kTiny;
  if (!std::isfinite(lo) || !std::isfinite(hi)) return false;
  *out = {lo, hi};
  return true;
}

// Same levels and boundaries: codebook_sse gives the same sum bit for bit.
bool same_codebook(const Codebook& a, const Codebook& b, Rounding r) {
  return a.levels == b.levels && bounds_of(a, r) == bounds_of(b, r);
}

template <typename T>
SegmentConfig fast_search(const T* w, size_t n, const QuantOptions& opt) {
  validate(opt);
  policy_n2(opt);  // fixed16 has no segment configuration
  const double max_abs = checked_max_abs(w, n);
  if (max_abs == 0.0) return zero_weights_config(opt);
  const std::vector<SegmentConfig> cands = search_candidates(max_abs, opt);
  if (cands.size() == 1) return cands[0];
  const Sqrt2Approx& approx = cached_approx(opt.datapath.sqrt2_terms);
  std::vector<Codebook> cbs;
  cbs.reserve(cands.size());
  for (const SegmentConfig& c : cands) cbs.push_back(make_codebook(c, opt.codebook, approx));
  const std::vector<double> edges = bin_edges(cbs, opt.rounding, max_abs);
  const std::vector<Bin> bins = bin_weights(w, n, edges, BinLocator(edges, max_abs, n));
  std::vector<Interval> iv(cands.size());
  double best_hi = kInf;
  for (size_t i = 0; i < cands.size(); ++i) {
    if (!estimate(cbs[i], opt.rounding, edges, bins, n, &iv[i])) return brute_force_search(w, n, opt);
    best_hi = std::min(best_hi, iv[i].hi);
  }
  // Every candidate whose interval reaches below the lowest upper end may
  // have the smallest direct sum; the others cannot. Candidates with the
  // same codebook have the same sum: the tie order picks one of them.
  std::vector<size_t> reps;
  for (size_t i = 0; i < cands.size(); ++i) {
    if (iv[i].lo > best_hi) continue;
    auto same = std::find_if(reps.begin(), reps.end(),
                             [&](size_t k) { return same_codebook(cbs[k], cbs[i], opt.rounding); });
    if (same == reps.end()) reps.push_back(i);
    else if (better(0.0, cands[i], 0.0, cands[*same])) *same = i;
  }
  if (reps.size() == 1) return cands[reps[0]];
  std::vector<double> sse(reps.size());
  parallel_for(reps.size(), [&](size_t g) { sse[g] = codebook_sse(w, n, cbs[reps[g]], opt.rounding); });
  size_t best = 0;
  for (size_t g = 1; g < reps.size(); ++g)
    if (better(sse[g], cands[reps[g]], sse[best], cands[reps[best]])) best = g;
  return cands[reps[best]];
}

// ---- the folder of search results ---------------------------------------------

template <typename T>
SegmentConfig cached_search(const T* w, size_t n, const QuantOptions& opt) {
  if (g_search_cache.empty() || n < kSearchCacheMin) return fast_search(w, n, opt);
  validate(opt);
  checked_max_abs(w, n);  // bad weights are reported, never looked up
  const std::string key = search_key(w, n, opt);
  const std::string path = cache_file(key);
  SegmentConfig cfg;
  if (read_cached(path, key, opt, &cfg)) {
    ++g_search_cache_hits;
    return cfg;
  }
  cfg = fast_search(w, n, opt);
  write_cached(path, key, cfg);
  return cfg;
}

}  // namespace

SegmentConfig search_segment(const double* w, size_t n, const QuantOptions& opt) { return cached_search(w, n, opt); }
SegmentConfig search_segment(const float* w, size_t n, const QuantOptions& opt) { return cached_search(w, n, opt); }
SegmentConfig search_segment_fast(const double* w, size_t n, const QuantOptions& opt) { return fast_search(w, n, opt); }
SegmentConfig search_segment_fast(const float* w, size_t n, const QuantOptions& opt) { return fast_search(w, n, opt); }
SegmentConfig search_segment_brute_force(const double* w, size_t n, const QuantOptions& opt) {
  return brute_force_search(w, n, opt);
}
SegmentConfig search_segment_brute_force(const float* w, size_t n, const QuantOptions& opt) {
  return brute_force_search(w, n, opt);
}

}  // namespace brsim
