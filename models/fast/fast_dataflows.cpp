// Fast mode's input- and output-stationary folds (FastEngine): each
// register's sequence of values follows from the fold reference's timing
// (fold_reference.cpp), so a fold is computed at once, in 32-bit lanes where
// no product or partial sum can pass int32: the same results, the same
// wraps and the same toggles.
#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "fast_engine.h"
#include "kernels.h"
#include "stream_fn.h"

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

// The start of an is/os fold's stream: the registers clear as in the fold
// reference, and the fold's useful work is counted from its weights' AE
// paths, through the decoder tables once per weight load (the folds of a
// load share load_id).
void FastEngine::df_begin() {
  s_.clear_for_df_stream(activity_, &c_);
  if (job_.load_id == 0 || job_.load_id != df_load_) {
    df_load_ = 0;  // df_w_ is refilled by the fold when it needs it
    df_paths_[0] = df_paths_[1] = df_paths_[2] = 0;
    if (shape_.pe == PeType::BrsLog) {  // a row at a time
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
  AePaths p;
  p.zero = df_paths_[0], p.sqrt2 = df_paths_[1], p.pow2 = df_paths_[2];
  count_useful_work(shape_, job_, p, &c_);
}

// A whole is/os fold (df_begin() has run for os).
void FastEngine::df_fold() {
  const size_t R = static_cast<size_t>(R_), C = static_cast<size_t>(C_);
  const bool os = shape_.flow == Dataflow::OutputStationary;
  const uint64_t len = os ? job_.rows : job_.cols, P = job_.p;  // is: C' weights; os: the strip's K rows
  auto act_of = [&](uint64_t pixel, uint64_t k) {
    return static_cast<uint64_t>(static_cast<int64_t>(job_.act[(job_.p0 + pixel) * job_.act_stride + job_.k0 + k]));
  };
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
      if (shape_.pe == PeType::BrsLog) c_.decodes += job_.rows * job_.cols;
      return;
    }
    if (shape_.pe == PeType::BrsLog) {  // through the decoder tables, as tile_weight would
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
      c_.decodes += rows * cols;
    } else {
      for (uint64_t k = 0; k < job_.rows; ++k)
        for (uint64_t c = 0; c < job_.cols; ++c) tile_weight_fixed16(k, c, &df_dec_[k * job_.cols + c], &df_w_[k * job_.cols + c]);
    }
    df_load_ = job_.load_id;
  };
  auto wbits_at = [&](size_t i) -> uint64_t {
    if (shape_.pe == PeType::Fixed16) return static_cast<uint64_t>(df_w_[i]) & 0xFFFFu;
    return register_bits(df_dec_[i]);
  };
  if (!os) {
    // is load: row r sees old rows r, .., 0, then new rows R-1, .., r (see fast_load).
    std::vector<uint64_t>& nw = old_bits_;
    nw.assign(R * C, 0);
    for (uint64_t r = 0; r < job_.rows; ++r)
      for (uint64_t c = 0; c < P; ++c) nw[r * C + c] = act_of(c, r);
    if (activity_) {
      uint64_t t = 0;
      const uint64_t m = act_mask_;
      for (size_t c = 0; c < C; ++c) {
        uint64_t pref_old = 0, suf_new = 0;
        auto O = [&](size_t r) { return static_cast<uint64_t>(s_.act_reg[r * C + c]); };
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
      c_.toggles_act += t;
    }
    for (size_t i = 0; i < R * C; ++i) s_.act_reg[i] = static_cast<int64_t>(nw[i]);
    for (uint64_t r = 0; r < job_.rows; ++r) ibuf_->read_bits(P * static_cast<uint64_t>(act_bits_));
    df_begin();
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
    lc.weight_words = skew_words(*wbuf_, os ? std::min<uint64_t>(job_.cols, C) : job_.rows, len, static_cast<uint64_t>(shape_.weight_bits));
  }
  if (activity_ && !lc.have_toggles) {
    if (os) {
      for (uint64_t c = 0; c < job_.cols; ++c) lc.toggles += R * stream_toggles([&](uint64_t k) { return wbits_at(k * job_.cols + c); }, len, s_.empty_weight_bits());
    } else {
      for (uint64_t r = 0; r < job_.rows; ++r) lc.toggles += C * stream_toggles([&](uint64_t m) { return wbits_at(r * job_.cols + m); }, len, s_.empty_weight_bits());
    }
    lc.have_toggles = true;
  }
  // Streamed registers: each lane's values pass through all of its
  // registers (os: the pass also finds max |a| for the 32-bit lanes).
  uint64_t os_amax = 0;
  const uint64_t os_act_toggles = os ? os_act_pass(len, &os_amax) : 0;
  if (activity_) {
    c_.toggles_act += C * os_act_toggles;
    c_.toggles_weight += lc.toggles;
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
      int64_t* pr = &s_.prod[r * C];
      int64_t* ac = &s_.psum[r * C];
      const int32_t* arow = &job_.act[(job_.p0 + r) * job_.act_stride + job_.k0];
      const bool lanes64 = !lanes32 && !checked && os_row64(r, len, &tp, &ts);
      for (uint64_t k = 0; k < len && !lanes32 && !lanes64; ++k) {
        const int64_t a = arow[k];
        const int64_t* w = &df_w_[k * job_.cols];
        for (uint64_t c = 0; c < job_.cols; ++c) {
          const int64_t p = a * w[c];
          const int64_t next = checked ? acc_add(ac[c], p, &c_.array_overflows) : ac[c] + p;
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
        if (r > 0) pref += pop(static_cast<uint64_t>(s_.psum[r * C + c] ^ s_.psum[(r - 1) * C + c]) & acc_mask_);
        ts += pref + pop(static_cast<uint64_t>(s_.psum[c]) & acc_mask_);
      }
    }
    for (size_t r = R; r-- > 0;)
      for (uint64_t c = 0; c < job_.cols && r < P; ++c) {
        int64_t& o = job_.out[(job_.p0 + r) * job_.cols + c];
        o = acc_add(o, s_.psum[r * C + c], &c_.output_overflows);
      }
    std::fill(s_.psum.begin(), s_.psum.end(), 0);
  } else {
    // is: element m's partial sums run down the columns (fast_stream's order).
    std::vector<int64_t> w_col(R, 0);
    const bool lanes32 = !checked && fast_is32(len, static_cast<unsigned __int128>(wsum), &tp, &ts);
    for (uint64_t m = 0; m < len && !lanes32; ++m) {
      for (size_t r = 0; r < R; ++r) w_col[r] = r < job_.rows ? df_w_[r * job_.cols + m] : 0;
      for (size_t r = 0; r < R; ++r) {
        const size_t i0 = r * C;
        if (!checked) {
          is_row(w_col[r], &s_.act_reg[i0], r ? &s_.psum[i0 - C] : s_.zero_row.data(), &s_.prod[i0], &s_.psum[i0], C, mask, &tp, &ts);
          continue;
        }
        for (size_t c = 0; c < C; ++c) {
          const size_t i = i0 + c;
          const int64_t p = w_col[r] * s_.act_reg[i];
          const int64_t next = acc_add(r ? s_.psum[i - C] : 0, p, &c_.array_overflows);
          tp += pop(static_cast<uint64_t>(p ^ s_.prod[i]) & mask);
          ts += pop(static_cast<uint64_t>(next ^ s_.psum[i]) & mask);
          s_.prod[i] = p;
          s_.psum[i] = next;
        }
      }
      const int64_t* bottom = &s_.psum[(R - 1) * C];
      for (uint64_t c = 0; c < P && c < C; ++c) {
        int64_t& o = job_.out[(job_.p0 + c) * job_.cols + m];
        o = acc_add(o, bottom[c], &c_.output_overflows);
      }
    }
    for (size_t i = 0; i < R * C; ++i)
      if (i != last) {
        tp += pop(static_cast<uint64_t>(s_.prod[i]) & acc_mask_), ts += pop(static_cast<uint64_t>(s_.psum[i]) & acc_mask_);
        s_.prod[i] = s_.psum[i] = 0;
      }
  }
  if (activity_) c_.toggles_product += tp, c_.toggles_psum += ts;
  obuf_->read_words(acc_words_ * std::min<uint64_t>(P, os ? R : C) * job_.cols);
  obuf_->write_words(acc_words_ * std::min<uint64_t>(P, os ? R : C) * job_.cols);
  // The streamed registers are empty again; os's activation registers too.
  std::fill(s_.weff.begin(), s_.weff.end(), 0);
  std::fill(s_.dec.begin(), s_.dec.end(), DecodedWeight{});
  if (os) std::fill(s_.act_reg.begin(), s_.act_reg.end(), 0);
  s_.df_clear = true;  // every register empty but PE (R-1, C-1)'s product and sum (df_begin)
}

// Input stationary in 32-bit lanes (fast_fold_df, when no product or
// partial sum can pass int32: max |a| times the largest sum of |w| down a
// weight column): the weight-stationary stream with the roles swapped.
// Weight column m streams as "pixel" m through the stationary activations
// (fast_stream32's kernel; its outputs go to out[(p0 + c) x cols + m]).
// Adds the stream's product and partial-sum toggles to *tp and *ts and
// leaves s_.prod and s_.psum as the registers end. False (nothing done) when
// the bound does not hold.
bool FastEngine::fast_is32(uint64_t len, unsigned __int128 wsum, uint64_t* tp, uint64_t* ts) {
#if BRSIM_X86
  if (!kHasAvx2) return false;
  const size_t R = static_cast<size_t>(R_), C = static_cast<size_t>(C_), c8 = c8_;
  const uint64_t rows = job_.rows, cols = job_.cols;
  uint64_t amax = 0;
  is_act32_.assign(R * c8, 0);
  for (size_t r = 0; r < R; ++r)
    for (size_t c = 0; c < C; ++c) {
      const int64_t v = s_.act_reg[r * C + c];
      if (v < INT32_MIN || v > INT32_MAX) return false;
      amax = std::max<uint64_t>(amax, static_cast<uint64_t>(v < 0 ? -v : v));
      is_act32_[r * c8 + c] = static_cast<int32_t>(v);
    }
  if (!fits_lanes32(wsum * amax)) return false;
  if (df_load_ == 0 || is_w32_load_ != df_load_ || is_w32_.size() != len * rows) {  // once per weight load
    is_w32_.resize(len * rows);
    for (uint64_t m = 0; m < len; ++m)
      for (uint64_t r = 0; r < rows; ++r) is_w32_[m * rows + r] = static_cast<int32_t>(df_w_[r * cols + m]);
    is_w32_load_ = df_load_;
  }
  std::fill(ps32_.begin(), ps32_.end(), 0);
  std::fill(pr32_.begin(), pr32_.end(), 0);
  const Stream32 s{ps32_.data(), pr32_.data(), is_act32_.data(), is_w32_.data(), rows, rows, R, c8,
                   job_.out + job_.p0 * cols, std::min<uint64_t>(job_.p, C), acc_lo_, acc_hi_, acc_bits_, m32_, cols, 1};
  Counts32 n;
  if (len > 0) stream_fn(activity_, acc_bits_ < 32, true, s.c8, s.R)(s, 0, len, &n, true);
  c_.output_overflows += n.out_overflows;
  *tp += n.products(ext_);
  *ts += n.psums(ext_);
  for (size_t r = 0; r < R; ++r)
    for (size_t c = 0; c < C; ++c) s_.prod[r * C + c] = pr32_[r * c8 + c], s_.psum[r * C + c] = ps32_[r * c8 + c];
  std::fill(ps32_.begin(), ps32_.end(), 0);
  std::fill(pr32_.begin(), pr32_.end(), 0);
  return true;
#else
  (void)len, (void)wsum, (void)tp, (void)ts;
  return false;  // no vector kernels: the per-PE loop
#endif
}

// fast_fold_df's output-stationary row r of PEs in 64-bit lanes
// (os_row64_avx2) when its weights fit int32 (fast_os32 measured them) and
// the columns come in fours; the caller knows no sum can leave the
// accumulator. False: the per-PE loop.
bool FastEngine::os_row64(size_t r, uint64_t len, uint64_t* tp, uint64_t* ts) {
#if BRSIM_X86
  const uint64_t cols = job_.cols;
  if (!kHasAvx2 || os_load_ != df_load_ || os_w32_.size() != len * c8_ || os_wmax_ > INT32_MAX || cols % 4 != 0)
    return false;
  const size_t C = static_cast<size_t>(C_);
  const int32_t* a = &job_.act[(job_.p0 + r) * job_.act_stride + job_.k0];
  if (activity_) os_row64_avx2<true>(a, len, df_w_.data(), cols, acc_mask_, &s_.prod[r * C], &s_.psum[r * C], tp, ts);
  else os_row64_avx2<false>(a, len, df_w_.data(), cols, acc_mask_, &s_.prod[r * C], &s_.psum[r * C], tp, ts);
  return true;
#else
  (void)r, (void)len, (void)tp, (void)ts;
  return false;
#endif
}

// The activations of an output-stationary fold (its min(P, R) pixel rows
// of len values, each streaming through a PE row's registers): the
// toggles of one activation register per row, summed (row_act_pass), and
// the largest |a| into *amax.
uint64_t FastEngine::os_act_pass(uint64_t len, uint64_t* amax) {
  const uint64_t rows = std::min<uint64_t>(static_cast<uint64_t>(R_), job_.p);
  uint64_t t = 0;
  *amax = 0;
  for (uint64_t r = 0; r < rows; ++r) {
    const int32_t* x = &job_.act[(job_.p0 + r) * job_.act_stride + job_.k0];
    uint64_t mx = 0;
#if BRSIM_X86
    if (kHasAvx2 && act_bits_ <= 32) {
      t += row_act_pass(x, len, static_cast<uint32_t>(act_mask_), &mx);
    } else
#endif
    {  // 0, x[0], .., x[len - 1], 0
      for (uint64_t k = 0; k <= len; ++k) {
        const uint64_t cur = k < len ? static_cast<uint64_t>(int64_t{x[k]}) : 0;
        const uint64_t prev = k > 0 ? static_cast<uint64_t>(int64_t{x[k - 1]}) : 0;
        t += static_cast<uint64_t>(__builtin_popcountll((cur ^ prev) & act_mask_));
        if (k < len) mx = std::max<uint64_t>(mx, static_cast<uint64_t>(std::llabs(x[k])));
      }
    }
    *amax = std::max(*amax, mx);
  }
  return t;
}

// Output stationary in 32-bit lanes (fast_fold_df, when every product
// fits int32: max |a| over the fold times max |w|): each PE row through
// os_row_avx2. Adds the stream's product and partial-sum toggles to *tp and
// *ts; s_.prod and s_.psum end as the registers (rows past the fold's pixels
// untouched, as in the per-PE loop). False (nothing done, the registers
// still zero) when a product or a partial sum would pass int32.
bool FastEngine::fast_os32(uint64_t len, uint64_t amax, uint64_t* tp, uint64_t* ts) {
#if BRSIM_X86
  if (!kHasAvx2) return false;
  const size_t R = static_cast<size_t>(R_), C = static_cast<size_t>(C_), c8 = c8_;
  const uint64_t cols = job_.cols, P = job_.p, pr_rows = std::min<uint64_t>(R, P);
  if (os_load_ != df_load_ || df_load_ == 0 || os_w32_.size() != len * c8) {  // the load's weights, rows of c8 lanes
    os_w32_.assign(len * c8, 0);
    os_wmax_ = 0;
    for (uint64_t k = 0; k < len; ++k)
      for (uint64_t c = 0; c < cols; ++c) {
        const int64_t v = df_w_[k * cols + c];
        os_wmax_ = std::max<uint64_t>(os_wmax_, static_cast<uint64_t>(v < 0 ? -v : v));
        os_w32_[k * c8 + c] = static_cast<int32_t>(v);
      }
    os_load_ = df_load_;
  }
  // Products within int32 (and the accumulator: the caller's !checked).
  if (!fits_lanes32(static_cast<unsigned __int128>(os_wmax_) * amax)) return false;
  // A sum of this load passed int32 in a fold before: its strips are long
  // enough to do so again, so the fold goes to 64 bits without the attempt.
  if (df_load_ != 0 && os_overflow_load_ == df_load_) return false;
  auto row = !activity_ ? os_row_avx2<false, false> : acc_bits_ < 32 ? os_row_avx2<true, true> : os_row_avx2<true, false>;
  Counts32 n;
  bool ok = true;
  for (uint64_t r = 0; r < pr_rows && ok; ++r) {
    ok = row(&job_.act[(job_.p0 + r) * job_.act_stride + job_.k0], len, os_w32_.data(), c8, m32_, pr32_.data(),
             ps32_.data(), &n);
    for (uint64_t c = 0; c < cols && ok; ++c) s_.prod[r * C + c] = pr32_[c], s_.psum[r * C + c] = ps32_[c];
  }
  std::fill(ps32_.begin(), ps32_.end(), 0);
  std::fill(pr32_.begin(), pr32_.end(), 0);
  if (!ok) {  // a sum passed int32: the registers back to zero, the fold in 64 bits
    os_overflow_load_ = df_load_;
    std::fill(s_.prod.begin(), s_.prod.end(), 0);
    std::fill(s_.psum.begin(), s_.psum.end(), 0);
    return false;
  }
  *tp += n.products(ext_);
  *ts += n.psums(ext_);
  return true;
#else
  (void)len, (void)amax, (void)tp, (void)ts;
  return false;
#endif
}

}  // namespace brsim
