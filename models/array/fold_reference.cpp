// The fold reference, edge by edge. Timing conventions, the same for every
// dataflow: a value fed into a row (column) at edge e reaches the PE c
// columns (r rows) further after edge e + c (e + r), and a PE multiplies
// what its registers held after the previous edge.
//
//   ws: R load edges shift the weight tile down through the column decoders
//       (row r ends holding tile row r); pixel p's activation enters row r at
//       stream edge p + r and moves right; partial sums move down and the
//       bottom of column c emits pixel p after edge p + R + c.
//   is: R load edges shift the activation tile down (PE (r, c) holds
//       A[p0 + c][k0 + r]); weight W[k0 + r][m] enters row r at stream edge
//       m + r through the row's decoder and moves right; partial sums move
//       down and column c's bottom emits O[p0 + c][m] after edge m + R + c.
//   os: PE (r, c) accumulates O[p0 + r][m0 + c]: A[p0 + r][k0 + k] enters
//       row r at edge k + r and moves right, W[k0 + k][c] enters column c at
//       edge k + c through the column's decoder and moves down; PE (r, c)
//       adds their product at edge k + r + c + 1. After the stream phase the
//       accumulators shift down out of the array in R edges.
#include "fold_reference.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <type_traits>

#include "row_kernels.h"
#include "simd.h"

// mac_row in an AVX2 and a default version, chosen at load time (x86 with
// GCC; clang does not clone function templates, so its builds (the fuzz
// and sanitizer builds) keep the default version).
#if BRSIM_X86 && !defined(__clang__)
#define BRSIM_CLONES_AVX2 __attribute__((target_clones("avx2", "default")))
#else
#define BRSIM_CLONES_AVX2
#endif

namespace brsim {

namespace {

inline uint64_t pop(uint64_t x) { return static_cast<uint64_t>(__builtin_popcountll(x)); }

// ps = above + a * w, C lanes (no toggles, no range check).
template <typename W>
BRSIM_CLONES_AVX2 void mac_row(int64_t* ps, const int64_t* above, const int32_t* a,
                                                               const W* w, size_t n) {
  for (size_t c = 0; c < n; ++c)
    ps[c] = above[c] + AeUnit::product(static_cast<int64_t>(a[c]), static_cast<int64_t>(w[c]));
}

// Bit toggles of a row of activation registers shifting right by one:
// sum of popcount((a[c-1] ^ a[c]) & mask) for c in [1, n).
#if BRSIM_X86
// Pairs (a[j], a[j + 1]) for j in [0, n - 1), 8 per vector; the lanes past
// the row are masked on load (nothing past a[n - 1] is read) and xor to 0.
__attribute__((target("avx2"))) uint64_t shift_toggles_avx2(const int32_t* a, size_t n, uint32_t mask) {
  const __m256i m = _mm256_set1_epi32(static_cast<int>(mask));
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  __m256i acc = _mm256_setzero_si256();
  for (size_t j = 0; j + 1 < n; j += 8) {
    // lanes with j + lane + 1 < n, i.e. lane < n - 1 - j
    const __m256i valid = _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(std::min<size_t>(n - 1 - j, 8))), lane);
    const __m256i x = _mm256_maskload_epi32(a + j, valid);
    const __m256i y = _mm256_maskload_epi32(a + j + 1, valid);
    acc = _mm256_add_epi64(acc, popcount_lanes(_mm256_and_si256(_mm256_xor_si256(x, y), m)));
  }
  alignas(32) uint64_t l[4];
  _mm256_store_si256(reinterpret_cast<__m256i*>(l), acc);
  return l[0] + l[1] + l[2] + l[3];
}
#endif  // BRSIM_X86

uint64_t shift_toggles(const int32_t* a, size_t n, uint32_t mask) {
  uint64_t t = 0;
  for (size_t c = 1; c < n; ++c) t += static_cast<uint64_t>(__builtin_popcount(static_cast<uint32_t>(a[c - 1] ^ a[c]) & mask));
  return t;
}

// A fold's weights by AE path, from their codes (the decoders' outputs).
AePaths fold_paths(const FoldJob& j) {
  AePaths p;
  for (uint64_t r = 0; r < j.rows; ++r)
    for (uint64_t c = 0; c < j.cols; ++c) {
      const DecodedWeight d = decode(j.codes[r * j.cols + c], j.col_cfg[c]);
      if (d.zero) ++p.zero;
      else if (d.flag) ++p.sqrt2;
      else ++p.pow2;
    }
  return p;
}

}  // namespace

FoldReference::FoldReference(const ArchConfig& arch, ArrayState* state, FoldCounters* counters, Sram* weight_buf,
                             Sram* input_buf, Sram* output_buf)
    : shape_(arch),
      s_(*state),
      c_(*counters),
      wbuf_(weight_buf),
      ibuf_(input_buf),
      obuf_(output_buf),
      dp_(arch),
      acc_bits_(arch.datapath.acc_bits) {
  acc_hi_ = static_cast<int64_t>((static_cast<__int128>(1) << (acc_bits_ - 1)) - 1);
  acc_lo_ = -acc_hi_ - 1;
  act_mask_ = s_.act_mask();
  acc_mask_ = s_.acc_mask();
  acc_words_ = output_buf->words(static_cast<uint64_t>(acc_bits_));
  weff32_.assign(s_.weff.size(), 0);
}

void FoldReference::begin(const FoldJob& job) {
  job_ = job;
  timing_ = fold_timing(shape_, job);
  edge_ = 0;
  phase_ = timing_.load ? Phase::Load : Phase::Stream;  // os has no load phase
  if (shape_.pe == PeType::BrsLog) dp_.set_sqrt2_terms(job.sqrt2_terms);
  ++c_.folds;
  if (phase_ == Phase::Stream) df_begin_stream();
}

FoldResult FoldReference::run(const FoldJob& job) {
  FoldResult r;
  const FoldCounters before = c_;
  begin(job);
  do ++r.edges;
  while (!edge());
  r.counts = c_ - before;
  return r;
}

bool FoldReference::edge() {
  s_.sync_weights();  // after a fast load
  if (shape_.flow != Dataflow::WeightStationary) return df_edge();
  return ws_edge();
}

// ---- Weight stationary ----

bool FoldReference::ws_edge() {
  if (phase_ == Phase::Load) {
    std::fill(s_.feed.begin(), s_.feed.end(), 0);
    ws_load_edge();
    ++c_.load_cycles;
    if (++edge_ == timing_.load) ws_begin_stream();
    return false;
  }
  ws_stream_edge();
  (edge_ < timing_.stream ? c_.stream_cycles : c_.drain_cycles) += 1;
  c_.reg_writes += edge_write_bits(shape_, FoldPhase::Stream);
  if (++edge_ < timing_.stream_phase()) return false;
  phase_ = Phase::Idle;
  return true;
}

// Weights shift down one row; the top row takes tile row R-1-edge through
// the column decoders (rows beyond the tile hold zero weights).
void FoldReference::ws_load_edge() {
  const size_t row = static_cast<size_t>(s_.C), n = s_.weff.size(), R = static_cast<size_t>(s_.R);
  ++s_.weight_edits;
  if (activity_ && edge_ == 0) {
    // The registers' bits as the fold found them: the top row's, and the
    // bit differences of each row j >= 1 and the row above it (row_diff_).
    // Nothing else writes the registers until the fold's last load edge, so
    // later edges keep these up to date as the rows shift.
    top_bits_.resize(row);
    row_diff_.assign(R, 0);
    row_diff_sum_ = 0;
    for (size_t c = 0; c < row; ++c) top_bits_[c] = s_.weight_bits(c);
    for (size_t j = 1; j < R; ++j) {
      uint64_t d = 0;
      for (size_t c = 0; c < row; ++c) d += pop(s_.weight_bits(j * row + c) ^ s_.weight_bits((j - 1) * row + c));
      row_diff_[j] = d;
      row_diff_sum_ += d;
    }
  }
  c_.reg_writes += edge_write_bits(shape_, FoldPhase::Load);
  std::memmove(&s_.weff[row], &s_.weff[0], (n - row) * sizeof(int64_t));
  std::memmove(&s_.dec[row], &s_.dec[0], (n - row) * sizeof(DecodedWeight));
  const uint64_t tr = static_cast<uint64_t>(s_.R) - 1 - edge_;
  for (uint64_t c = 0; c < row; ++c) {
    DecodedWeight& d = s_.dec[c];
    int64_t& w = s_.weff[c];
    d = DecodedWeight{}, w = 0;
    if (tr >= job_.rows || c >= job_.cols) continue;
    if (shape_.pe == PeType::Fixed16) {
      w = job_.fixed[tr * job_.cols + c];
      d.zero = w == 0;
    } else {
      dp_.decode(c, job_.codes[tr * job_.cols + c], job_.col_cfg[c], &d, &w);
      ++c_.decodes;
    }
  }
  if (tr < job_.rows) wbuf_->read_bits(job_.cols * shape_.weight_bits);
  if (activity_) {
    // Every register takes the value above it (row j: row_diff_[j] bits),
    // the top row the decoders' outputs; then row 1 holds the old top row.
    uint64_t top = 0;
    for (size_t c = 0; c < row; ++c) {
      const uint64_t b = s_.weight_bits(c);
      top += pop(top_bits_[c] ^ b);
      top_bits_[c] = b;
    }
    c_.toggles_weight += row_diff_sum_ + top;
    if (R >= 2) {
      row_diff_sum_ += top - row_diff_[R - 1];
      std::memmove(&row_diff_[2], &row_diff_[1], (R - 2) * sizeof(uint64_t));
      row_diff_[1] = top;
    }
  }
}

// After the last load edge: the activation, product and partial-sum
// registers clear for the fold, its useful work is counted, and the MAC
// path is chosen.
void FoldReference::ws_begin_stream() {
  phase_ = Phase::Stream;
  edge_ = 0;
  const int R = s_.R, C = s_.C;
  s_.clear_for_ws_stream(activity_, &c_);
  last_feed_.assign(static_cast<size_t>(R), INT64_MIN / 2);
  zero_sums_.assign(static_cast<size_t>(R), 1);
  zero_products_.assign(static_cast<size_t>(R), 1);
  AePaths paths;  // the loaded tile's weights (the decoders' outputs)
  for (uint64_t r = 0; r < job_.rows; ++r)
    for (uint64_t c = 0; c < job_.cols; ++c) {
      const DecodedWeight& d = s_.dec[r * static_cast<uint64_t>(C) + c];
      if (d.zero) ++paths.zero;
      else if (d.flag) ++paths.sqrt2;
      else ++paths.pow2;
    }
  count_useful_work(shape_, job_, paths, &c_);
  narrow_ = true;
  for (size_t i = 0; i < s_.weff.size(); ++i) {
    narrow_ &= s_.weff[i] >= INT32_MIN && s_.weff[i] <= INT32_MAX;
    weff32_[i] = static_cast<int32_t>(s_.weff[i]);
  }
  // With every |a| <= 2^(A-1) and each column's sum of |w| bounded, no
  // partial sum can leave the accumulator: skip the per-add range check.
  __int128 worst = 0;
  for (int c = 0; c < C; ++c) {
    __int128 col = 0;
    for (int r = 0; r < R; ++r) col += std::llabs(s_.weff[static_cast<size_t>(r * C + c)]);
    worst = std::max(worst, col);
  }
  checked_ = worst * (static_cast<__int128>(1) << (shape_.act_bits - 1)) > acc_hi_;
}

template <bool kChecked, bool kActivity, typename W>
void FoldReference::mac_rows(const W* weights) {
  const size_t C = static_cast<size_t>(s_.C);
  uint64_t tp = 0, ts = 0;
  for (int r = s_.R - 1; r >= 0; --r) {
    // A row whose activations, products and sums are zero, under a row of
    // zero sums, stays zero: nothing to compute or count (for a fold of
    // few pixels, most rows on most edges).
    const size_t ur = static_cast<size_t>(r);
    const bool act_zero = row_acts_zero(ur), above_zero = r == 0 || zero_sums_[ur - 1];
    if (act_zero && above_zero && zero_sums_[ur] && zero_products_[ur]) continue;
    zero_products_[ur] = act_zero;
    zero_sums_[ur] = act_zero && above_zero;
    int64_t* ps = &s_.psum[static_cast<size_t>(r) * C];
    int64_t* pr = &s_.prod[static_cast<size_t>(r) * C];
    const int64_t* above = r ? &s_.psum[static_cast<size_t>(r - 1) * C] : s_.zero_row.data();
    const int32_t* a = &s_.act_ring[static_cast<size_t>(r) * s_.ring_len + s_.base];
    const W* w = &weights[static_cast<size_t>(r) * C];
    if (!kChecked && !kActivity) {
      mac_row(ps, above, a, w, C);
      continue;
    }
    if constexpr (!kChecked && kActivity && std::is_same<W, int32_t>::value) {
#if BRSIM_X86
      if (kHasAvx2) {
        mac_row_activity_avx2<false>(ps, pr, above, a, w, C, acc_mask_, &tp, &ts);
        continue;
      }
#endif
    }
    for (size_t c = 0; c < C; ++c) {
      const int64_t prod = AeUnit::product(static_cast<int64_t>(a[c]), static_cast<int64_t>(w[c]));
      const int64_t next = kChecked ? acc_add(above[c], prod, &c_.array_overflows) : above[c] + prod;
      if (kActivity) {
        tp += pop(static_cast<uint64_t>(prod ^ pr[c]) & acc_mask_);
        ts += pop(static_cast<uint64_t>(next ^ ps[c]) & acc_mask_);
        pr[c] = prod;
      }
      ps[c] = next;
    }
  }
  c_.toggles_product += tp;
  c_.toggles_psum += ts;
}

// Activations move one PE to the right; each row's new one enters at column 0.
void FoldReference::shift_activations() {
  const size_t C = static_cast<size_t>(s_.C), L = s_.ring_len;
  if (s_.base == 0) {  // the window reached the front: move it back to the end
    for (int r = 0; r < s_.R; ++r) {
      int32_t* row = &s_.act_ring[static_cast<size_t>(r) * L];
      std::memmove(row + L - C, row, C * sizeof(int32_t));
    }
    s_.base = L - C;
  }
  if (activity_) {
    // Register (r, c) takes (r, c - 1)'s value; column 0 takes the feed
    // (no toggles in a row of zeros taking a zero).
    uint64_t t = 0;
    const uint32_t m32 = static_cast<uint32_t>(act_mask_);
    for (int r = 0; r < s_.R; ++r) {
      if (s_.feed[static_cast<size_t>(r)] == 0 && row_acts_zero(static_cast<size_t>(r))) continue;
      const int32_t* a = &s_.act_ring[static_cast<size_t>(r) * L + s_.base];
      t += pop((static_cast<uint64_t>(s_.feed[static_cast<size_t>(r)]) ^ static_cast<uint64_t>(static_cast<int64_t>(a[0]))) &
               act_mask_);
#if BRSIM_X86
      t += kHasAvx2 ? shift_toggles_avx2(a, C, m32) : shift_toggles(a, C, m32);
#else
      t += shift_toggles(a, C, m32);
#endif
    }
    c_.toggles_act += t;
  }
  --s_.base;
  for (int r = 0; r < s_.R; ++r) {
    s_.act_ring[static_cast<size_t>(r) * L + s_.base] = static_cast<int32_t>(s_.feed[static_cast<size_t>(r)]);
    if (s_.feed[static_cast<size_t>(r)] != 0) last_feed_[static_cast<size_t>(r)] = static_cast<int64_t>(edge_);
  }
}

void FoldReference::ws_stream_edge() {
  // Row r takes pixel edge - r of its k-slice (skew of one cycle per row).
  bool any = false;
  for (uint64_t r = 0; r < static_cast<uint64_t>(s_.R); ++r) {
    const bool valid = r < job_.rows && edge_ >= r && edge_ - r < job_.p;
    s_.feed[r] = valid ? job_.act[(edge_ - r) * job_.act_stride + job_.k0 + r] : 0;
    any |= valid;
  }
  if (any && edge_ < job_.p) ibuf_->read_bits(job_.rows * shape_.act_bits);  // one row of A per edge
  if (activity_) {
    if (checked_) mac_rows<true, true>(s_.weff.data());
    else if (narrow_) mac_rows<false, true>(weff32_.data());
    else mac_rows<false, true>(s_.weff.data());
  } else {
    if (checked_) mac_rows<true, false>(s_.weff.data());
    else if (narrow_) mac_rows<false, false>(weff32_.data());
    else mac_rows<false, false>(s_.weff.data());
  }
  shift_activations();
  // The bottom row's partial sums leave for the output buffer: column c holds
  // pixel edge - R - c after this edge.
  const int64_t* bottom = &s_.psum[static_cast<size_t>(s_.R - 1) * static_cast<size_t>(s_.C)];
  const int64_t first = static_cast<int64_t>(edge_) - s_.R;
  for (uint64_t c = 0; c < job_.cols; ++c) {
    const int64_t p = first - static_cast<int64_t>(c);
    if (p < 0) break;
    if (p >= static_cast<int64_t>(job_.p)) continue;
    int64_t& o = job_.out[static_cast<uint64_t>(p) * job_.cols + c];
    o = acc_add(o, bottom[c], &c_.output_overflows);
    obuf_->read_words(acc_words_);
    obuf_->write_words(acc_words_);
  }
}

// ---- Input and output stationary ----

// The start of the stream: the streamed registers clear, and the fold's
// useful work is counted (every weight of the fold serves job_.p pixels).
void FoldReference::df_begin_stream() {
  s_.clear_for_df_stream(activity_, &c_);
  count_useful_work(shape_, job_, shape_.pe == PeType::BrsLog ? fold_paths(job_) : AePaths{}, &c_);
}

bool FoldReference::df_edge() {
  s_.df_clear = false;  // the registers change edge by edge
  const size_t R = static_cast<size_t>(s_.R), C = static_cast<size_t>(s_.C);
  std::vector<int64_t>& act = s_.act_reg;
  std::vector<int64_t>& psum = s_.psum;
  std::vector<int64_t>& prod = s_.prod;
  if (phase_ == Phase::Load) {  // is: the activation tile shifts down, tile row R-1-edge enters at the top
    const uint64_t tr = R - 1 - edge_;
    for (size_t r = R; r-- > 1;)
      for (size_t c = 0; c < C; ++c) {
        const int64_t v = act[(r - 1) * C + c];
        if (activity_) c_.toggles_act += pop(static_cast<uint64_t>(v ^ act[r * C + c]) & act_mask_);
        act[r * C + c] = v;
      }
    for (size_t c = 0; c < C; ++c) {
      const int64_t v = tr < job_.rows && c < job_.p ? act_of(c, tr) : 0;
      if (activity_) c_.toggles_act += pop(static_cast<uint64_t>(v ^ act[c]) & act_mask_);
      act[c] = v;
    }
    if (tr < job_.rows) ibuf_->read_bits(job_.p * shape_.act_bits);
    c_.reg_writes += edge_write_bits(shape_, FoldPhase::Load);
    ++c_.load_cycles;
    if (++edge_ == timing_.load) {
      phase_ = Phase::Stream;
      edge_ = 0;
      df_begin_stream();
    }
    return false;
  }
  if (phase_ == Phase::Stream) {
    const bool os = shape_.flow == Dataflow::OutputStationary;
    const uint64_t len = timing_.stream;
    // The products of this edge, from the registers as they were.
    for (size_t r = R; r-- > 0;)
      for (size_t c = 0; c < C; ++c) {
        const size_t i = r * C + c;
        const int64_t p = AeUnit::product(act[i], s_.weff[i]);
        const int64_t next = acc_add(os ? psum[i] : (r ? psum[i - C] : 0), p, &c_.array_overflows);
        if (activity_) {
          c_.toggles_product += pop(static_cast<uint64_t>(p ^ prod[i]) & acc_mask_);
          c_.toggles_psum += pop(static_cast<uint64_t>(next ^ psum[i]) & acc_mask_);
        }
        prod[i] = p;
        psum[i] = next;
      }
    // The weight entering lane `lane` (os: column, is: row): W[k][c] through its decoder.
    auto weight_in = [&](size_t lane, uint64_t k, uint64_t c, size_t i) {
      DecodedWeight& d = s_.dec[i];
      int64_t& w = s_.weff[i];
      if (shape_.pe == PeType::Fixed16) {
        w = job_.fixed[k * job_.cols + c];
        d = DecodedWeight{};
        d.zero = w == 0;
      } else {
        dp_.decode(lane, job_.codes[k * job_.cols + c], job_.col_cfg[c], &d, &w);
        ++c_.decodes;
      }
    };
    uint64_t act_feeds = 0, w_feeds = 0;
    if (os) {
      // The feeds: row r takes activation e - r, column c weight e - c.
      for (size_t r = 0; r < R; ++r) {
        const bool ok = r < job_.p && edge_ >= r && edge_ - r < len;
        s_.feed[r] = ok ? act_of(r, edge_ - r) : 0;
        act_feeds += ok;
      }
      // Activations move right.
      for (size_t r = 0; r < R; ++r) {
        int64_t* row = &act[r * C];
        for (size_t c = C; c-- > 0;) {
          const int64_t v = c ? row[c - 1] : s_.feed[r];
          if (activity_) c_.toggles_act += pop(static_cast<uint64_t>(v ^ row[c]) & act_mask_);
          row[c] = v;
        }
      }
      // Weights move down; row 0 takes the decoders' outputs.
      for (size_t r = R; r-- > 1;)
        for (size_t c = 0; c < C; ++c) {
          const size_t i = r * C + c;
          if (activity_) c_.toggles_weight += pop(s_.weight_bits(i) ^ s_.weight_bits(i - C));
          s_.weff[i] = s_.weff[i - C];
          s_.dec[i] = s_.dec[i - C];
        }
      for (size_t c = 0; c < C; ++c) {
        const uint64_t old = activity_ ? s_.weight_bits(c) : 0;
        const bool ok = c < job_.cols && edge_ >= c && edge_ - c < len;
        if (ok) weight_in(c, edge_ - c, c, c);
        else s_.dec[c] = DecodedWeight{}, s_.weff[c] = 0;
        w_feeds += ok;
        if (activity_) c_.toggles_weight += pop(old ^ s_.weight_bits(c));
      }
    } else {
      // Weights move right; column 0 takes the row decoders' outputs (row r: weight e - r).
      for (size_t r = 0; r < R; ++r) {
        for (size_t c = C; c-- > 1;) {
          const size_t i = r * C + c;
          if (activity_) c_.toggles_weight += pop(s_.weight_bits(i) ^ s_.weight_bits(i - 1));
          s_.weff[i] = s_.weff[i - 1];
          s_.dec[i] = s_.dec[i - 1];
        }
        const size_t i = r * C;
        const uint64_t old = activity_ ? s_.weight_bits(i) : 0;
        const bool ok = r < job_.rows && edge_ >= r && edge_ - r < len;
        if (ok) weight_in(r, r, edge_ - r, i);
        else s_.dec[i] = DecodedWeight{}, s_.weff[i] = 0;
        w_feeds += ok;
        if (activity_) c_.toggles_weight += pop(old ^ s_.weight_bits(i));
      }
      // The bottom row: column c holds element e - R - c of pixel p0 + c.
      const int64_t* bottom = &psum[(R - 1) * C];
      for (uint64_t c = 0; c < job_.p && c < C; ++c) {
        const int64_t m = static_cast<int64_t>(edge_) - static_cast<int64_t>(R + c);
        if (m < 0) break;
        if (m >= static_cast<int64_t>(job_.cols)) continue;
        int64_t& o = job_.out[(job_.p0 + c) * job_.cols + static_cast<uint64_t>(m)];
        o = acc_add(o, bottom[c], &c_.output_overflows);
        obuf_->read_words(acc_words_);
        obuf_->write_words(acc_words_);
      }
    }
    if (act_feeds) ibuf_->read_bits(act_feeds * shape_.act_bits);
    if (w_feeds) wbuf_->read_bits(w_feeds * shape_.weight_bits);
    c_.reg_writes += edge_write_bits(shape_, FoldPhase::Stream);
    (edge_ < len ? c_.stream_cycles : c_.drain_cycles) += 1;
    if (++edge_ < timing_.stream_phase()) return false;
    phase_ = os ? Phase::ShiftOut : Phase::Idle;
    edge_ = 0;
    return !os;
  }
  // os shift-out: the bottom row's accumulators leave for the output buffer,
  // the others move down one row.
  const uint64_t src = R - 1 - edge_;  // the PE row whose outputs leave now
  for (uint64_t c = 0; c < job_.cols; ++c) {
    if (src >= job_.p) break;
    int64_t& o = job_.out[(job_.p0 + src) * job_.cols + c];
    o = acc_add(o, psum[(R - 1) * C + c], &c_.output_overflows);
    obuf_->read_words(acc_words_);
    obuf_->write_words(acc_words_);
  }
  for (size_t r = R; r-- > 0;)
    for (size_t c = 0; c < C; ++c) {
      const int64_t v = r ? psum[(r - 1) * C + c] : 0;
      if (activity_) c_.toggles_psum += pop(static_cast<uint64_t>(v ^ psum[r * C + c]) & acc_mask_);
      psum[r * C + c] = v;
    }
  c_.reg_writes += edge_write_bits(shape_, FoldPhase::ShiftOut);
  ++c_.drain_cycles;
  if (++edge_ < timing_.shift_out) return false;
  phase_ = Phase::Idle;
  return true;
}

}  // namespace brsim
