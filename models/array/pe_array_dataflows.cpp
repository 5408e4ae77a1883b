// Output- and input-stationary folds of the PE array (README "Cycle model"),
// cycle by cycle and in fast mode. Same conventions as weight stationary:
// operands enter the array edges with one cycle of skew per row (column),
// move one PE per edge, and a PE multiplies the values its registers held
// after the previous edge.
//
//   is: PE (r, c) holds activation A[p0 + c][k0 + r] (loaded from the top in
//       R edges); weight W[k0 + r][m] enters row r at stream edge m + r
//       through the row's decoder and moves right; partial sums move down and
//       column c's bottom emits O[p0 + c][m] after edge m + R + c.
//   os: PE (r, c) accumulates O[p0 + r][m0 + c]: A[p0 + r][k0 + k] enters row
//       r at edge k + r and moves right, W[k0 + k][c] enters column c at edge
//       k + c through the column's decoder and moves down; PE (r, c) adds
//       their product at edge k + r + c + 1. After K + R + C - 1 stream edges
//       the accumulators shift down out of the array in R edges.
//
// The fast versions compute each register's sequence of values directly
// from these timings: same results, the same wraps and the same toggles.
#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "trace_hooks.h"
#include "datapath.h"
#include "pe_array.h"

namespace brsim {

namespace {

inline uint64_t pop(uint64_t x) { return static_cast<uint64_t>(__builtin_popcountll(x)); }

// Lanes l < n whose stream of `len` values, entering with skew l, is valid at edge e.
inline uint64_t skew_valid(uint64_t e, uint64_t n, uint64_t len) {
  if (n == 0 || len == 0) return 0;
  const uint64_t lo = e >= len ? e - len + 1 : 0, hi = std::min(e, n - 1);
  return hi >= lo ? hi - lo + 1 : 0;
}

// Words a skewed feed reads from `buf` over its edges: at edge e it takes
// skew_valid(e, n, len) values of `bits` bits. The ramps edge by edge, the
// plateau (min(n, len) values on |n - len| + 1 edges) at once.
uint64_t skew_words(const Sram& buf, uint64_t n, uint64_t len, uint64_t bits) {
  if (n == 0 || len == 0) return 0;
  const uint64_t lo = std::min(n, len), hi = std::max(n, len);  // the plateau: edges lo - 1 .. hi - 1
  uint64_t words = (hi - lo + 1) * buf.words(lo * bits);
  for (uint64_t e = 0; e + 1 < lo; ++e) words += buf.words(skew_valid(e, n, len) * bits);
  for (uint64_t e = hi; e + 1 < n + len; ++e) words += buf.words(skew_valid(e, n, len) * bits);
  return words;
}

// One is PE row for one streamed weight w (no partial sum can overflow):
// products w * a, partial sums above + product, toggles against the row's
// previous values.
void is_row(int64_t w, const int64_t* act, const int64_t* above, int64_t* pr, int64_t* ps, size_t n, uint64_t mask,
            uint64_t* tp, uint64_t* ts) {
  uint64_t t_p = 0, t_s = 0;
  for (size_t c = 0; c < n; ++c) {
    const int64_t p = w * act[c], next = above[c] + p;
    t_p += pop(static_cast<uint64_t>(p ^ pr[c]) & mask);
    t_s += pop(static_cast<uint64_t>(next ^ ps[c]) & mask);
    pr[c] = p;
    ps[c] = next;
  }
  *tp += t_p;
  *ts += t_s;
}

}  // namespace

// The weight register's bits between operands (a gated zero for BRSLog).
uint64_t PeArray::empty_weight_bits() const {
  return pe_ == PeType::Fixed16 ? 0 : register_bits(DecodedWeight{});
}

uint64_t PeArray::act_of(uint64_t pixel, uint64_t k) const {
  return static_cast<uint64_t>(static_cast<int64_t>(job_.act[(job_.p0 + pixel) * job_.act_stride + job_.k0 + k]));
}

// Start of a fold's stream: the streamed registers, products and partial
// sums clear (is keeps its stationary activations), and the fold's useful
// actions are counted: every weight of the fold serves job_.p pixels.
void PeArray::begin_df() {
  sync_weights();
  const size_t n = psum_.size();
  if (df_clear_) {  // after a fast fold only PE (R-1, C-1) holds a product and a sum
    if (activity_) {
      counters_.toggles_product += pop(static_cast<uint64_t>(prod_[n - 1]) & acc_mask_);
      counters_.toggles_psum += pop(static_cast<uint64_t>(psum_[n - 1]) & acc_mask_);
    }
    prod_[n - 1] = psum_[n - 1] = 0;
  } else {
    if (activity_)
      for (size_t i = 0; i < n; ++i) {
        counters_.toggles_product += pop(static_cast<uint64_t>(prod_[i]) & acc_mask_);
        counters_.toggles_psum += pop(static_cast<uint64_t>(psum_[i]) & acc_mask_);
        counters_.toggles_weight += pop(weight_bits_of(i) ^ empty_weight_bits());
        if (flow_ == Dataflow::OutputStationary) counters_.toggles_act += pop(static_cast<uint64_t>(act_reg_[i]) & act_mask_);
      }
    std::fill(prod_.begin(), prod_.end(), 0);
    std::fill(psum_.begin(), psum_.end(), 0);
    std::fill(weff_.begin(), weff_.end(), 0);
    std::fill(dec_.begin(), dec_.end(), DecodedWeight{});
    if (flow_ == Dataflow::OutputStationary) std::fill(act_reg_.begin(), act_reg_.end(), 0);
  }
  df_clear_ = false;
  // Actions: the weights of the fold by path, each used by job_.p pixels
  // (counted once per weight load: the folds of a load share its weights).
  if (job_.load_id == 0 || job_.load_id != df_load_) {
    df_load_ = 0;  // df_w_ is refilled by the fold (fast mode) when it needs it
    df_paths_[0] = df_paths_[1] = df_paths_[2] = 0;
    if (pe_ == PeType::BrsLog) {  // through the decoder tables (pe_array_fast.cpp), a row at a time
      fold_tables();
      const CodeEntry* const* const table = col_table_.data();
      const uint8_t* const codes = job_.codes;
      const uint64_t rows = job_.rows, cols = job_.cols;
      for (uint64_t i = 0, r = 0; r < rows; ++r) {
        uint64_t paths = 0;  // three fields of kPathShift bits (a row has at most C weights)
        for (uint64_t c = 0; c < cols; ++c, ++i) paths += table[c][codes[i]].path_one;
        df_paths_[0] += (paths >> (kPathShift * kPathZero)) & kPathMask;
        df_paths_[1] += (paths >> (kPathShift * kPathSqrt2)) & kPathMask;
        df_paths_[2] += (paths >> (kPathShift * kPathPow2)) & kPathMask;
      }
    }
  }
  const uint64_t zero = df_paths_[0], sqrt2 = df_paths_[1], pow2 = df_paths_[2];
  const uint64_t p = job_.p, tile = job_.rows * job_.cols;
  if (pe_ == PeType::Fixed16) counters_.fixed16_muls += p * tile;
  else counters_.ae_zero += p * zero, counters_.ae_sqrt2 += p * sqrt2, counters_.ae_pow2 += p * pow2;
  counters_.acc_adds += p * tile + p * job_.cols;
}

// Register bits written per edge, by phase.
uint64_t PeArray::df_load_edge_bits() const { return static_cast<uint64_t>(R_ * C_) * static_cast<uint64_t>(act_bits_); }
uint64_t PeArray::df_stream_edge_bits() const {
  const uint64_t w = static_cast<uint64_t>(weight_reg_bits_), a = static_cast<uint64_t>(act_bits_),
                 s = 2 * static_cast<uint64_t>(acc_bits_);
  return static_cast<uint64_t>(R_ * C_) * (flow_ == Dataflow::OutputStationary ? a + w + s : w + s);
}
uint64_t PeArray::df_drain_edge_bits() const { return static_cast<uint64_t>(R_ * C_) * static_cast<uint64_t>(acc_bits_); }

uint64_t PeArray::df_stream_len() const {
  return flow_ == Dataflow::InputStationary ? job_.cols : job_.rows;  // is: C' weights; os: the strip's K rows
}

// One edge of an is/os fold (cycle by cycle); true when the fold ends.
bool PeArray::clock_edge_df() {
  df_clear_ = false;  // the registers change edge by edge
  const size_t R = static_cast<size_t>(R_), C = static_cast<size_t>(C_);
  const uint64_t now = tracer_ ? static_cast<uint64_t>(sc_core::sc_time_stamp() / period_ + 0.5) : 0;
  if (phase_ == Phase::Load) {  // is: the activation tile shifts down, tile row R-1-edge enters at the top
    const uint64_t tr = R - 1 - edge_;
    for (size_t r = R; r-- > 1;)
      for (size_t c = 0; c < C; ++c) {
        const int64_t v = act_reg_[(r - 1) * C + c];
        if (activity_) counters_.toggles_act += pop(static_cast<uint64_t>(v ^ act_reg_[r * C + c]) & act_mask_);
        act_reg_[r * C + c] = v;
      }
    for (size_t c = 0; c < C; ++c) {
      const int64_t v = tr < job_.rows && c < job_.p ? static_cast<int64_t>(act_of(c, tr)) : 0;
      if (activity_) counters_.toggles_act += pop(static_cast<uint64_t>(v ^ act_reg_[c]) & act_mask_);
      act_reg_[c] = v;
    }
    if (tr < job_.rows) ibuf_->read_bits(job_.p * static_cast<uint64_t>(act_bits_));
    counters_.reg_writes += df_load_edge_bits();
    ++counters_.load_cycles;
    if (++edge_ == R) {
      phase_ = Phase::Stream;
      edge_ = 0;
      begin_df();
    }
    if (tracer_) tracer_->array_edge(now, *this, feed_.data());
    return false;
  }
  const uint64_t len = df_stream_len(), stream_edges = len + R + C - 1;
  if (phase_ == Phase::Stream) {
    const bool os = flow_ == Dataflow::OutputStationary;
    // The products of this edge, from the registers as they were.
    for (size_t r = R; r-- > 0;)
      for (size_t c = 0; c < C; ++c) {
        const size_t i = r * C + c;
        const int64_t prod = act_reg_[i] * weff_[i];
        const int64_t next = acc_add(os ? psum_[i] : (r ? psum_[i - C] : 0), prod, &counters_.array_overflows);
        if (activity_) {
          counters_.toggles_product += pop(static_cast<uint64_t>(prod ^ prod_[i]) & acc_mask_);
          counters_.toggles_psum += pop(static_cast<uint64_t>(next ^ psum_[i]) & acc_mask_);
        }
        prod_[i] = prod;
        psum_[i] = next;
      }
    // The feeds: is: row r takes weight e - r (row decoder); os: row r takes
    // activation e - r, column c weight e - c (column decoder).
    auto weight_in = [&](uint64_t k, uint64_t c, DecodedWeight* d, int64_t* w) { tile_weight(k, c, d, w); };
    uint64_t act_feeds = 0, w_feeds = 0;
    if (os) {
      for (size_t r = 0; r < R; ++r) {
        const bool ok = r < job_.p && edge_ >= r && edge_ - r < len;
        feed_[r] = ok ? static_cast<int64_t>(act_of(r, edge_ - r)) : 0;
        act_feeds += ok;
      }
      // Activations move right.
      for (size_t r = 0; r < R; ++r) {
        int64_t* row = &act_reg_[r * C];
        for (size_t c = C; c-- > 0;) {
          const int64_t v = c ? row[c - 1] : feed_[r];
          if (activity_) counters_.toggles_act += pop(static_cast<uint64_t>(v ^ row[c]) & act_mask_);
          row[c] = v;
        }
      }
      // Weights move down; row 0 takes the decoders' outputs.
      for (size_t r = R; r-- > 1;)
        for (size_t c = 0; c < C; ++c) {
          const size_t i = r * C + c;
          if (activity_) counters_.toggles_weight += pop(weight_bits_of(i) ^ weight_bits_of(i - C));
          weff_[i] = weff_[i - C];
          dec_[i] = dec_[i - C];
        }
      for (size_t c = 0; c < C; ++c) {
        const uint64_t old = activity_ ? weight_bits_of(c) : 0;
        const bool ok = c < job_.cols && edge_ >= c && edge_ - c < len;
        if (ok) weight_in(edge_ - c, c, &dec_[c], &weff_[c]);
        else dec_[c] = DecodedWeight{}, weff_[c] = 0;
        w_feeds += ok;
        if (activity_) counters_.toggles_weight += pop(old ^ weight_bits_of(c));
      }
    } else {
      // Weights move right; column 0 takes the row decoders' outputs.
      for (size_t r = 0; r < R; ++r) {
        for (size_t c = C; c-- > 1;) {
          const size_t i = r * C + c;
          if (activity_) counters_.toggles_weight += pop(weight_bits_of(i) ^ weight_bits_of(i - 1));
          weff_[i] = weff_[i - 1];
          dec_[i] = dec_[i - 1];
        }
        const size_t i = r * C;
        const uint64_t old = activity_ ? weight_bits_of(i) : 0;
        const bool ok = r < job_.rows && edge_ >= r && edge_ - r < len;
        if (ok) weight_in(r, edge_ - r, &dec_[i], &weff_[i]);
        else dec_[i] = DecodedWeight{}, weff_[i] = 0;
        w_feeds += ok;
        if (activity_) counters_.toggles_weight += pop(old ^ weight_bits_of(i));
      }
      // The bottom row: column c holds element e - R - c of pixel p0 + c.
      const int64_t* bottom = &psum_[(R - 1) * C];
      for (uint64_t c = 0; c < job_.p && c < C; ++c) {
        const int64_t m = static_cast<int64_t>(edge_) - static_cast<int64_t>(R + c);
        if (m < 0) break;
        if (m >= static_cast<int64_t>(job_.cols)) continue;
        int64_t& o = job_.out[(job_.p0 + c) * job_.cols + static_cast<uint64_t>(m)];
        o = acc_add(o, bottom[c], &counters_.output_overflows);
        obuf_->read_words(acc_words_);
        obuf_->write_words(acc_words_);
      }
    }
    if (act_feeds) ibuf_->read_bits(act_feeds * static_cast<uint64_t>(act_bits_));
    if (w_feeds) wbuf_->read_bits(w_feeds * static_cast<uint64_t>(wbits_));
    counters_.reg_writes += df_stream_edge_bits();
    (edge_ < len ? counters_.stream_cycles : counters_.drain_cycles) += 1;
    if (tracer_) tracer_->array_edge(now, *this, feed_.data());
    if (++edge_ < stream_edges) return false;
    if (!os) {
      counters_.macs += job_.p * job_.rows * job_.cols;
      phase_ = Phase::Idle;
      return true;
    }
    phase_ = Phase::Drain;
    edge_ = 0;
    return false;
  }
  // os drain: the bottom row's accumulators leave for the output buffer,
  // the others move down one row.
  const uint64_t src = R - 1 - edge_;  // the PE row whose outputs leave now
  for (uint64_t c = 0; c < job_.cols; ++c) {
    if (src >= job_.p) break;
    int64_t& o = job_.out[(job_.p0 + src) * job_.cols + c];
    o = acc_add(o, psum_[(R - 1) * C + c], &counters_.output_overflows);
    obuf_->read_words(acc_words_);
    obuf_->write_words(acc_words_);
  }
  for (size_t r = R; r-- > 0;)
    for (size_t c = 0; c < C; ++c) {
      const int64_t v = r ? psum_[(r - 1) * C + c] : 0;
      if (activity_) counters_.toggles_psum += pop(static_cast<uint64_t>(v ^ psum_[r * C + c]) & acc_mask_);
      psum_[r * C + c] = v;
    }
  counters_.reg_writes += df_drain_edge_bits();
  ++counters_.drain_cycles;
  if (tracer_) tracer_->array_edge(now, *this, feed_.data());
  if (++edge_ < R) return false;
  counters_.macs += job_.p * job_.rows * job_.cols;
  phase_ = Phase::Idle;
  return true;
}

// Fast mode: a whole is/os fold in one call (begin_df() has run for os).
// Returns the fold's edges.
uint64_t PeArray::fast_fold_df() {
  const size_t R = static_cast<size_t>(R_), C = static_cast<size_t>(C_);
  const uint64_t len = df_stream_len(), P = job_.p;
  const bool os = flow_ == Dataflow::OutputStationary;
  uint64_t load_edges = 0, drain_extra = 0;
  // Toggles of a register that sees (e, v_0, .., v_{n-1}, e), e its empty value.
  auto stream_toggles = [](const auto& value, uint64_t n, uint64_t e = 0) {
    uint64_t t = 0, prev = e;
    for (uint64_t i = 0; i <= n; ++i) {
      const uint64_t x = i < n ? value(i) : e;
      t += pop(x ^ prev);
      prev = x;
    }
    return t;
  };
  // The fold's decoded weights, row-major over (rows, cols), as they leave the decoders.
  if (df_w_.size() < job_.rows * job_.cols) df_w_.resize(job_.rows * job_.cols), df_dec_.resize(job_.rows * job_.cols);
  // Decoded once per weight load; every fold still counts its decodes.
  auto decode_all = [&] {
    if (job_.load_id != 0 && job_.load_id == df_load_) {
      if (pe_ == PeType::BrsLog) counters_.decodes += job_.rows * job_.cols;
      return;
    }
    if (pe_ == PeType::BrsLog) {  // through the decoder tables, as tile_weight would
      fold_tables();  // col_table_: each column's (kept while the columns' configurations stay)
      // Raw pointers and locals: the stores cannot alias the job's fields then.
      const CodeEntry* const* const table = col_table_.data();
      const uint8_t* const codes = job_.codes;
      const uint64_t rows = job_.rows, cols = job_.cols;
      DecodedWeight* const dec = df_dec_.data();
      int64_t* const w = df_w_.data();
      for (uint64_t i = 0, k = 0; k < rows; ++k)
        for (uint64_t c = 0; c < cols; ++c, ++i) {
          const CodeEntry& e = table[c][codes[i]];
          dec[i] = e.d, w[i] = e.w;
        }
      counters_.decodes += rows * cols;
    } else {
      for (uint64_t k = 0; k < job_.rows; ++k)
        for (uint64_t c = 0; c < job_.cols; ++c) tile_weight(k, c, &df_dec_[k * job_.cols + c], &df_w_[k * job_.cols + c]);
    }
    df_load_ = job_.load_id;
  };
  auto wbits_at = [&](size_t i) -> uint64_t {
    if (pe_ == PeType::Fixed16) return static_cast<uint64_t>(df_w_[i]) & 0xFFFFu;
    return register_bits(df_dec_[i]);
  };
  if (!os) {
    // is load: row r sees old rows r, .., 0, then new rows R-1, .., r (see fast_load).
    std::vector<uint64_t>& nw = weight_bits_scratch_;
    nw.assign(R * C, 0);
    for (uint64_t r = 0; r < job_.rows; ++r)
      for (uint64_t c = 0; c < P; ++c) nw[r * C + c] = act_of(c, r);
    if (activity_) {
      uint64_t t = 0;
      const uint64_t m = act_mask_;
      for (size_t c = 0; c < C; ++c) {
        uint64_t pref_old = 0, suf_new = 0;
        auto O = [&](size_t r) { return static_cast<uint64_t>(act_reg_[r * C + c]); };
        auto N = [&](size_t r) { return nw[r * C + c]; };
        for (size_t j = 1; j < R; ++j) suf_new += pop((N(j) ^ N(j - 1)) & m);
        const uint64_t bridge = pop((O(0) ^ N(R - 1)) & m);
        for (size_t r = 0; r < R; ++r) {
          if (r > 0) {
            pref_old += pop((O(r) ^ O(r - 1)) & m);
            suf_new -= pop((N(r) ^ N(r - 1)) & m);
          }
          t += pref_old + bridge + suf_new;
        }
      }
      counters_.toggles_act += t;
    }
    for (size_t i = 0; i < R * C; ++i) act_reg_[i] = static_cast<int64_t>(nw[i]);
    for (uint64_t r = 0; r < job_.rows; ++r) ibuf_->read_bits(P * static_cast<uint64_t>(act_bits_));
    counters_.reg_writes += R * df_load_edge_bits();
    counters_.load_cycles += R;
    load_edges = R;
    begin_df();
  }
  decode_all();
  // What depends on the load's weights alone is taken once per load (the
  // folds of a load share load_id; 0: every fold): the weight lanes'
  // toggles, the weight buffer's words, the largest sum of |w| along the
  // reduction.
  DfLoadCache& lc = df_cache_;
  if (job_.load_id == 0 || job_.load_id != lc.load) {
    lc = DfLoadCache{};
    lc.load = job_.load_id;
    if (os) {
      for (uint64_t c = 0; c < job_.cols; ++c) {
        __int128 col = 0;
        for (uint64_t k = 0; k < len; ++k) col += std::llabs(df_w_[k * job_.cols + c]);
        lc.wsum = std::max(lc.wsum, col);
      }
    } else {
      for (uint64_t m = 0; m < len; ++m) {
        __int128 col = 0;
        for (uint64_t r = 0; r < job_.rows; ++r) col += std::llabs(df_w_[r * job_.cols + m]);
        lc.wsum = std::max(lc.wsum, col);
      }
    }
    // Weight buffer reads, edge by edge as the skewed feed takes them.
    lc.weight_words = skew_words(*wbuf_, os ? std::min<uint64_t>(job_.cols, C) : job_.rows, len, static_cast<uint64_t>(wbits_));
  }
  if (activity_ && !lc.have_toggles) {
    if (os) {
      for (uint64_t c = 0; c < job_.cols; ++c) lc.toggles += R * stream_toggles([&](uint64_t k) { return wbits_at(k * job_.cols + c); }, len, empty_weight_bits());
    } else {
      for (uint64_t r = 0; r < job_.rows; ++r) lc.toggles += C * stream_toggles([&](uint64_t m) { return wbits_at(r * job_.cols + m); }, len, empty_weight_bits());
    }
    lc.have_toggles = true;
  }
  // Streamed registers: each lane's values pass through all of its
  // registers (os: the pass also finds max |a| for the 32-bit lanes).
  uint64_t os_amax = 0;
  const uint64_t os_act_toggles = os ? os_act_pass(len, &os_amax) : 0;
  if (activity_) {
    counters_.toggles_act += C * os_act_toggles;
    counters_.toggles_weight += lc.toggles;
  }
  wbuf_->read_words(lc.weight_words);
  if (os)  // input buffer reads, edge by edge as the skewed feed takes them
    ibuf_->read_words(skew_words(*ibuf_, std::min<uint64_t>(P, R), len, static_cast<uint64_t>(act_bits_)));
  const size_t last = (R - 1) * C + (C - 1);
  uint64_t tp = 0, ts = 0;
  // No partial sum can leave the accumulator when |a| <= 2^(A-1) times the
  // largest sum of |w| along the reduction fits: then plain adds are exact
  // and the per-add range check is skipped.
  const __int128 wsum = lc.wsum;
  const bool checked = wsum * (static_cast<__int128>(1) << (act_bits_ - 1)) > acc_hi_;
  const uint64_t mask = acc_mask_;
  if (os) {
    // PE (r, c) sees the products of k = 0..len-1 and accumulates them; a row
    // of PEs at a time, k outer, so the weights are read along their rows.
    const bool lanes32 = !checked && fast_os32(len, os_amax, &tp, &ts);
    for (size_t r = 0; r < R && r < P; ++r) {
      int64_t* pr = &prod_[r * C];
      int64_t* ac = &psum_[r * C];
      const int32_t* arow = &job_.act[(job_.p0 + r) * job_.act_stride + job_.k0];
      const bool lanes64 = !lanes32 && !checked && os_row64(r, len, &tp, &ts);
      for (uint64_t k = 0; k < len && !lanes32 && !lanes64; ++k) {
        const int64_t a = arow[k];
        const int64_t* w = &df_w_[k * job_.cols];
        for (uint64_t c = 0; c < job_.cols; ++c) {
          const int64_t p = a * w[c];
          const int64_t next = checked ? acc_add(ac[c], p, &counters_.array_overflows) : ac[c] + p;
          tp += pop(static_cast<uint64_t>(p ^ pr[c]) & mask);
          ts += pop(static_cast<uint64_t>(next ^ ac[c]) & mask);
          pr[c] = p;
          ac[c] = next;
        }
      }
      // After its last product every PE but (R-1, C-1) takes a bubble's zero.
      for (uint64_t c = 0; c < job_.cols; ++c)
        if (r * C + c != last) tp += pop(static_cast<uint64_t>(pr[c]) & mask), pr[c] = 0;
    }
    // Drain: column c's register r sees S_r, S_{r-1}, .., S_0, 0.
    for (size_t c = 0; c < C; ++c) {
      uint64_t pref = 0;
      for (size_t r = 0; r < R; ++r) {
        if (r > 0) pref += pop(static_cast<uint64_t>(psum_[r * C + c] ^ psum_[(r - 1) * C + c]) & acc_mask_);
        ts += pref + pop(static_cast<uint64_t>(psum_[c]) & acc_mask_);
      }
    }
    for (size_t r = R; r-- > 0;)
      for (uint64_t c = 0; c < job_.cols && r < P; ++c) {
        int64_t& o = job_.out[(job_.p0 + r) * job_.cols + c];
        o = acc_add(o, psum_[r * C + c], &counters_.output_overflows);
      }
    std::fill(psum_.begin(), psum_.end(), 0);
    counters_.reg_writes += R * df_drain_edge_bits();
    drain_extra = R;
  } else {
    // is: element m's partial sums run down the columns (fast_stream's order).
    std::vector<int64_t> w_col(R, 0);
    const bool lanes32 = !checked && fast_is32(len, static_cast<unsigned __int128>(wsum), &tp, &ts);
    for (uint64_t m = 0; m < len && !lanes32; ++m) {
      for (size_t r = 0; r < R; ++r) w_col[r] = r < job_.rows ? df_w_[r * job_.cols + m] : 0;
      for (size_t r = 0; r < R; ++r) {
        const size_t i0 = r * C;
        if (!checked) {
          is_row(w_col[r], &act_reg_[i0], r ? &psum_[i0 - C] : zero_row_.data(), &prod_[i0], &psum_[i0], C, mask, &tp, &ts);
          continue;
        }
        for (size_t c = 0; c < C; ++c) {
          const size_t i = i0 + c;
          const int64_t p = w_col[r] * act_reg_[i];
          const int64_t next = acc_add(r ? psum_[i - C] : 0, p, &counters_.array_overflows);
          tp += pop(static_cast<uint64_t>(p ^ prod_[i]) & mask);
          ts += pop(static_cast<uint64_t>(next ^ psum_[i]) & mask);
          prod_[i] = p;
          psum_[i] = next;
        }
      }
      const int64_t* bottom = &psum_[(R - 1) * C];
      for (uint64_t c = 0; c < P && c < C; ++c) {
        int64_t& o = job_.out[(job_.p0 + c) * job_.cols + m];
        o = acc_add(o, bottom[c], &counters_.output_overflows);
      }
    }
    for (size_t i = 0; i < R * C; ++i)
      if (i != last) {
        tp += pop(static_cast<uint64_t>(prod_[i]) & acc_mask_), ts += pop(static_cast<uint64_t>(psum_[i]) & acc_mask_);
        prod_[i] = psum_[i] = 0;
      }
  }
  if (activity_) counters_.toggles_product += tp, counters_.toggles_psum += ts;
  obuf_->read_words(acc_words_ * std::min<uint64_t>(P, os ? R : C) * job_.cols);
  obuf_->write_words(acc_words_ * std::min<uint64_t>(P, os ? R : C) * job_.cols);
  // The streamed registers are empty again; os's activation registers too.
  std::fill(weff_.begin(), weff_.end(), 0);
  std::fill(dec_.begin(), dec_.end(), DecodedWeight{});
  if (os) std::fill(act_reg_.begin(), act_reg_.end(), 0);
  df_clear_ = true;  // every register empty but PE (R-1, C-1)'s product and sum (begin_df)
  counters_.reg_writes += (len + R + C - 1) * df_stream_edge_bits();
  counters_.stream_cycles += len;
  counters_.drain_cycles += R + C - 1 + drain_extra;
  counters_.macs += P * job_.rows * job_.cols;
  phase_ = Phase::Idle;
  return load_edges + len + R + C - 1 + drain_extra;
}

}  // namespace brsim
