// Fast mode's weight-stationary load (FastEngine): the decoder tables, the
// tile decoded through them (8 PEs per vector when every column shares
// one), the weight register's toggles over the R load edges from per-row bit
// differences, and the fixed16 load.
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <type_traits>

#include "fast_engine.h"
#include "kernels.h"
#include "kernels512.h"

namespace brsim {

// The decoder table of `cfg` under this fold's K (built on first use).
const FastEngine::CodeTable& FastEngine::code_table(const SegmentConfig& cfg) {
  for (const CodeTable& t : code_tables_)
    if (t.terms == approx_terms_ && t.cfg == cfg) return t;
  CodeTable t;
  t.cfg = cfg;
  t.terms = approx_terms_;
  const size_t n = size_t{1} << cfg.bits;
  t.e.resize(n);
  t.vec = n <= 32;
  for (uint32_t code = 0; code < n; ++code) {
    CodeEntry& e = t.e[code];
    e.d = decode(code, cfg);
    e.w = ae_effective_weight(e.d, approx_);
    e.mag = e.w < 0 ? 0 - static_cast<uint64_t>(e.w) : static_cast<uint64_t>(e.w);
    e.bits = static_cast<uint16_t>(register_bits(e.d));
    const int path = e.d.zero ? kPathZero : e.d.flag ? kPathSqrt2 : kPathPow2;
    e.path_one = uint64_t{1} << (kPathShift * path);
    t.vec &= e.mag <= INT32_MAX;
    t.max_mag = static_cast<uint32_t>(std::min<uint64_t>(std::max<uint64_t>(t.max_mag, e.mag), UINT32_MAX));
    if (code < 32) t.w32[code] = static_cast<int32_t>(e.w), t.bits32[code] = e.bits;
  }
  const uint32_t half = static_cast<uint32_t>(n / 2);
  t.sym = t.vec && half >= 1;
  for (uint32_t c = 0; t.sym && c < half; ++c)
    t.sym = t.w32[c + half] == -t.w32[c] && (t.bits32[c] & 2) == 0 && t.bits32[c + half] == (t.bits32[c] | 2);
  t.packed = t.sym && half <= 16;
  for (uint32_t c = 0; t.packed && c < half; ++c) {
    t.packed = t.w32[c] >= 0 && t.w32[c] < (1 << 24) && t.bits32[c] >= 0 && t.bits32[c] < (1 << 8);
    t.wb32[c] = t.w32[c] | (t.bits32[c] << 24);
    t.bits8[c] = t.bits8[c + 16] = static_cast<int8_t>(t.bits32[c]);
  }
  code_tables_.push_back(std::move(t));
  return code_tables_.back();
}

// s_.weff and s_.dec of the tile the last vector load left in w32_ and
// wbits16_ (fast_load_vec): each PE's decoded fields are its register bits
// (register_bits: zero, sign, flag, shift), its weight fits int32.
void FastEngine::materialize(const ArrayState& s) const {
  const size_t C = static_cast<size_t>(C_);
  for (size_t r = 0; r < static_cast<size_t>(R_); ++r)
    for (size_t c = 0; c < C; ++c) {
      const uint16_t b = wbits16_[r * c4_ + c];
      DecodedWeight& d = s.dec[r * C + c];
      d.zero = b & 1, d.sign = (b >> 1) & 1, d.flag = static_cast<uint8_t>((b >> 2) & 1), d.shift = static_cast<uint8_t>(b >> 3);
      s.weff[r * C + c] = w32_[r * c8_ + c];
    }
}

// fast_load_brslog()'s decode when every column shares table t (t.vec): 8
// PEs per vector, looked up in registers. Writes w32_, the new register
// bits, col_sum_ and the AE paths (zero, pow2, sqrt2); s_.weff and s_.dec
// follow on demand (sync_weights). False (nothing done) when a column sum
// of |w| could pass 32 bits.
BRSIM_TARGET_AVX2 bool FastEngine::fast_load_vec(const CodeTable& t, uint64_t path[3]) {
#if BRSIM_X86
  const size_t R = static_cast<size_t>(R_), C = static_cast<size_t>(C_), c4 = c4_, c8 = c8_;
  if (uint64_t{t.max_mag} * R > UINT32_MAX) return false;
  const uint64_t rows = job_.rows, cols = job_.cols;
  int32_t* const w32 = w32_.data();
  uint16_t* const nb = wbits16_new_.data();
  col_sum32_.assign(c8, 0);
  uint32_t* const cs = col_sum32_.data();
  __m256i tw[4], tb[4];
  for (int k = 0; k < 4; ++k) {
    tw[k] = _mm256_load_si256(reinterpret_cast<const __m256i*>(t.w32 + 8 * k));
    tb[k] = _mm256_load_si256(reinterpret_cast<const __m256i*>(t.bits32 + 8 * k));
  }
  const __m256i one = _mm256_set1_epi32(1), two = _mm256_set1_epi32(2);
  const int code_bits = t.cfg.bits;
  const __m256i half_mask = _mm256_set1_epi32(code_bits >= 1 ? (1 << (code_bits - 1)) - 1 : 0);
  const __m128i sign_to_top = _mm_cvtsi32_si128(32 - code_bits);  // bit (bits - 1) to bit 31
  // Per lane, over every lane (a zero weight never has the flag; lanes past
  // the tile hold the zero flag alone, or nothing): zero flags, sqrt2 flags.
  __m256i zeros = _mm256_setzero_si256(), sqrt2s = zeros;
  alignas(32) int32_t code[8], in[8], none[8];
  const SymLookup sym{tw[0],
                      tw[1],
                      tb[0],
                      tb[1],
                      _mm256_load_si256(reinterpret_cast<const __m256i*>(t.wb32)),
                      _mm256_load_si256(reinterpret_cast<const __m256i*>(t.wb32 + 8)),
                      half_mask,
                      two,
                      _mm256_set1_epi32((1 << 24) - 1),
                      sign_to_top,
                      t.packed};
  // A full tile, C a multiple of 8, a sign-symmetric table (the usual
  // case): codes, weights and register bits are each one contiguous run of
  // R x C lanes, decoded in one flat loop.
  const bool flat = t.sym && rows == R && cols == C && C % 8 == 0;
  if (flat) {
    const uint8_t* const codes = job_.codes;
    const size_t n = R * C, cv = C / 8;
    for (size_t i = 0, v = 0; i < n; i += 8, v = v + 1 == cv ? 0 : v + 1) {
      __m256i w, b;
      sym_decode(sym, _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(codes + i))), &w, &b);
      zeros = _mm256_add_epi32(zeros, _mm256_and_si256(b, one));
      sqrt2s = _mm256_add_epi32(sqrt2s, _mm256_and_si256(_mm256_srli_epi32(b, 2), one));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(w32 + i), w);
      __m256i* csv = reinterpret_cast<__m256i*>(cs + 8 * v);
      _mm256_storeu_si256(csv, _mm256_add_epi32(_mm256_loadu_si256(csv), _mm256_abs_epi32(w)));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(nb + i),
                       _mm_packus_epi32(_mm256_castsi256_si128(b), _mm256_extracti128_si256(b, 1)));
    }
  }
  for (size_t r = 0; r < (flat ? 0 : R); ++r) {
    const uint8_t* codes = r < rows ? &job_.codes[r * cols] : nullptr;
    for (size_t c0 = 0; c0 < c8; c0 += 8) {
      __m256i w, b;
      if (codes && c0 + 8 <= cols && t.sym) {  // 8 PEs of the tile: the lower half's entry, signed
        sym_decode(sym, _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(codes + c0))), &w, &b);
      } else if (codes && c0 + 8 <= cols) {  // 8 PEs of the tile
        const __m256i idx = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(codes + c0)));
        w = lookup32(tw, idx), b = lookup32(tb, idx);
      } else {  // lanes past the tile: no weight (bits: the zero flag) or padding (zero)
        for (size_t k = 0; k < 8; ++k) {
          const size_t c = c0 + k;
          const bool on = codes && c < cols;
          code[k] = on ? static_cast<int32_t>(codes[c]) : 0;
          in[k] = on ? -1 : 0;
          none[k] = !on && c < C ? CodeEntry{}.bits : 0;
        }
        const __m256i idx = _mm256_load_si256(reinterpret_cast<const __m256i*>(code));
        const __m256i inside = _mm256_load_si256(reinterpret_cast<const __m256i*>(in));
        w = _mm256_and_si256(lookup32(tw, idx), inside);
        b = _mm256_or_si256(_mm256_and_si256(lookup32(tb, idx), inside),
                            _mm256_load_si256(reinterpret_cast<const __m256i*>(none)));
      }
      // Register bits: 0 zero, 2 flag (BrsLog register_bits).
      zeros = _mm256_add_epi32(zeros, _mm256_and_si256(b, one));
      sqrt2s = _mm256_add_epi32(sqrt2s, _mm256_and_si256(_mm256_srli_epi32(b, 2), one));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(w32 + r * c8 + c0), w);
      __m256i* csv = reinterpret_cast<__m256i*>(cs + c0);
      _mm256_storeu_si256(csv, _mm256_add_epi32(_mm256_loadu_si256(csv), _mm256_abs_epi32(w)));
      const __m128i b16 = _mm_packus_epi32(_mm256_castsi256_si128(b), _mm256_extracti128_si256(b, 1));
      if (c0 + 8 <= c4) _mm_storeu_si128(reinterpret_cast<__m128i*>(nb + r * c4 + c0), b16);
      else _mm_storel_epi64(reinterpret_cast<__m128i*>(nb + r * c4 + c0), b16);  // C % 8 in [1, 4]: 4 lanes
    }
  }
  alignas(32) uint32_t z[8], q[8];
  _mm256_store_si256(reinterpret_cast<__m256i*>(z), zeros);
  _mm256_store_si256(reinterpret_cast<__m256i*>(q), sqrt2s);
  path[kPathZero] = path[kPathSqrt2] = 0;
  for (int k = 0; k < 8; ++k) path[kPathZero] += z[k], path[kPathSqrt2] += q[k];
  path[kPathZero] -= R * C - rows * cols;  // the lanes of no weight
  path[kPathPow2] = rows * cols - path[kPathZero] - path[kPathSqrt2];
  __m256i mx = _mm256_setzero_si256();  // the largest column sum (lanes past C hold zero)
  for (size_t c0 = 0; c0 < c8; c0 += 8)
    mx = _mm256_max_epu32(mx, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(cs + c0)));
  alignas(32) uint32_t m8[8];
  _mm256_store_si256(reinterpret_cast<__m256i*>(m8), mx);
  col_mag_max_ = *std::max_element(m8, m8 + 8);
  s_.lazy_weights = this;  // until s_.sync_weights(), from w32_ and (after the swap) wbits16_
  return true;
#else
  (void)t, (void)path;
  return false;  // no vector kernels: the per-PE decode
#endif
}

// The columns' tables (col_table_): as the fold before's when the
// configurations are (the m-tile's folds all are). Returns the table every
// column shares, or null.
const FastEngine::CodeTable* FastEngine::fold_tables() {
  const uint64_t cols = job_.cols;
  const size_t C = static_cast<size_t>(C_);
  static_assert(std::has_unique_object_representations_v<SegmentConfig>, "compared with memcmp");
  if (col_key_terms_ != approx_terms_ || col_key_.size() != cols ||
      std::memcmp(col_key_.data(), job_.col_cfg, cols * sizeof(SegmentConfig)) != 0) {
    col_table_.resize(std::max<size_t>(C, cols));  // is: an m-range may be wider than the array
    col_key_shared_ = nullptr;
    for (uint64_t c = 0; c < cols; ++c) {
      if (c > 0 && job_.col_cfg[c] == job_.col_cfg[c - 1]) {
        col_table_[c] = col_table_[c - 1];
        continue;
      }
      const CodeTable& t = code_table(job_.col_cfg[c]);
      col_table_[c] = t.e.data();
      col_key_shared_ = c == 0 ? &t : nullptr;
    }
    col_key_.assign(job_.col_cfg, job_.col_cfg + cols);
    col_key_terms_ = approx_terms_;
  }
  return col_key_shared_;
}

// The old tile's share of a load's weight-register toggles, sum_j (R - j)
// d_j, from its row differences (kept from when it was loaded).
uint64_t FastEngine::old_weight_toggles() {
  const size_t R = static_cast<size_t>(R_), C = static_cast<size_t>(C_);
  if (!wbits_valid_ || edits_seen_ != s_.weight_edits) {  // an edge-by-edge load ran last: take its registers
    edits_seen_ = s_.weight_edits;
    s_.sync_weights();
    for (size_t r = 0; r < R; ++r)
      for (size_t c = 0; c < C; ++c) wbits16_[r * c4_ + c] = static_cast<uint16_t>(s_.weight_bits(r * C + c));
    wbits_valid_ = true;
    wdiff_valid_ = false;
  }
  if (activity_ && !wdiff_valid_) row_diff_sums_best(wbits16_.data(), R, c4_, &wdiff_sum_, &wdiff_weighted_);
  return activity_ ? R * wdiff_sum_ - wdiff_weighted_ : 0;
}

// The new tile's register bits (wbits16_new_) replace the old: the load's
// weight toggles (t: the old tile's share) and its buffer reads.
void FastEngine::commit_weight_load(uint64_t t) {
  const size_t R = static_cast<size_t>(R_);
  if (activity_) {
    row_diff_sums_best(wbits16_new_.data(), R, c4_, &wdiff_sum_, &wdiff_weighted_);  // the new tile's, kept
    t += wdiff_weighted_;
    t += R * row_diff(&wbits16_[0], &wbits16_new_[(R - 1) * c4_], c4_);
    c_.toggles_weight += t;
  }
  wbits16_.swap(wbits16_new_);
  wdiff_valid_ = activity_;
  wbuf_->read_words(job_.rows * wbuf_->words(job_.cols * static_cast<uint64_t>(shape_.weight_bits)));  // a row per edge
}

void FastEngine::fast_load_brslog() {
  const size_t R = static_cast<size_t>(R_), C = static_cast<size_t>(C_);
  const uint64_t rows = job_.rows, cols = job_.cols;
  const CodeTable* const shared = fold_tables();
  const uint64_t t = old_weight_toggles();

  uint64_t path[3] = {0, 0, 0}, mag_or = 0;
  // One table for every column, at most 32 codes, weights of at most 31 bits:
  // the vector decode.
  const bool vec = kHasAvx2 && tune_.vector_load && shared && shared->vec && fast_load_vec(*shared, path);
  stats_.vector_loads += vec;
  stats_.per_pe_loads += !vec;
  col_vec_table_ = vec ? shared : nullptr;
  if (!vec) {
    // Decode the tile (outside it, zero weights) into the views of the
    // weights (weff32_ is filled where it is used). Raw pointers: the stores
    // cannot alias the members then, so nothing is reloaded per PE.
    static const CodeEntry kNone;
    DecodedWeight* const dec = s_.dec.data();
    int64_t* const weff = s_.weff.data();
    int32_t* const w32 = w32_.data();
    uint16_t* const nb = wbits16_new_.data();
    col_sum_.assign(C, 0);
    uint64_t* const col_sum = col_sum_.data();
    const CodeEntry* const* const table = col_table_.data();
    const size_t c4 = c4_, c8 = c8_;
    uint64_t paths = 0;
    for (size_t r = 0; r < R; ++r) {
      const uint8_t* codes = r < rows ? &job_.codes[r * cols] : nullptr;
      const size_t in_cols = r < rows ? cols : 0;
      for (size_t c = 0; c < C; ++c) {
        const CodeEntry& e = c < in_cols ? table[c][codes[c]] : kNone;
        const size_t i = r * C + c;
        dec[i] = e.d;
        weff[i] = e.w;
        w32[r * c8 + c] = static_cast<int32_t>(e.w);
        nb[r * c4 + c] = e.bits;
        mag_or |= e.mag;
        col_sum[c] += e.mag;  // exact while every |w| < 2^31 (checked below)
        paths += c < in_cols ? e.path_one : 0;
      }
    }
    path[0] = paths & kPathMask, path[1] = (paths >> kPathShift) & kPathMask, path[2] = paths >> (2 * kPathShift);
    s_.lazy_weights = nullptr;  // every PE's written above
  }
  c_.decodes += rows * cols;
  commit_weight_load(t);

  // The MAC path (begin_stream's choice) from the column sums of |w|.
  const bool narrow = vec || mag_or <= INT32_MAX;
  if (!vec) {  // (the vector decode found col_mag_max_)
    col_mag_max_ = 0;
    for (size_t c = 0; c < C; ++c) {
      unsigned __int128 sum = col_sum_[c];
      if (!narrow) {  // rare: weights beyond 32 bits, sums in 128 bits
        sum = 0;
        for (size_t r = 0; r < R; ++r) {
          const int64_t w = s_.weff[r * C + c];
          sum += w < 0 ? 0 - static_cast<uint64_t>(w) : static_cast<uint64_t>(w);
        }
      }
      col_mag_max_ = std::max(col_mag_max_, sum);
    }
  }
  narrow_ = narrow;
  checked_ = col_mag_max_ * (static_cast<unsigned __int128>(1) << (act_bits_ - 1)) >
             static_cast<unsigned __int128>(acc_hi_);
  w32_ready_ = narrow;
  begin_fast_stream(path);
}

// begin_stream() after a fold: every register is zero then but PE (R-1,
// C-1)'s product and partial sum (the last pixel's; fast_stream), so only
// those two clear with toggles. Counts the fold's actions (count_fold_actions)
// from the AE paths of its weights.
void FastEngine::begin_fast_stream(const uint64_t path_count[3]) {
  const size_t last = s_.weff.size() - 1;
  if (activity_) {
    c_.toggles_product += reg_bits(s_.prod[last], acc_mask_);
    c_.toggles_psum += reg_bits(s_.psum[last], acc_mask_);
  }
  s_.prod[last] = s_.psum[last] = 0;
  AePaths paths;
  paths.zero = path_count[kPathZero], paths.pow2 = path_count[kPathPow2], paths.sqrt2 = path_count[kPathSqrt2];
  if (run_paths_) {  // run_one_pixel counts the run's at its end
    run_paths_->zero += paths.zero, run_paths_->pow2 += paths.pow2, run_paths_->sqrt2 += paths.sqrt2;
    return;
  }
  count_useful_work(shape_, job_, paths, &c_);
}

// Fast mode's weight load: the R edges of the weight shift register at once.
// After edge i, row r holds the new tile's row R-1-i+r if i >= r, else the
// old row r-i-1; so row r sees old rows r, r-1, .., 0, then new rows R-1, ..,
// r, and its toggles follow from per-column sums of neighbouring rows' bit
// differences. The counts equal the per-edge load's. Returns R.
void FastEngine::fast_load() {
  if (shape_.pe == PeType::BrsLog) return fast_load_brslog();
  fixed16_load();
}

// fixed16: the tile's w_q straight into the registers; the weight toggles as
// fast_load_brslog() counts them, per PE.
void FastEngine::fixed16_load() {
  s_.sync_weights();
  wbits_valid_ = false;
  w32_ready_ = false;
  const size_t R = static_cast<size_t>(R_), C = static_cast<size_t>(C_);
  std::vector<uint64_t>& old = old_bits_;
  if (activity_) {
    old.resize(R * C);
    for (size_t i = 0; i < R * C; ++i) old[i] = s_.weight_bits(i);
  }
  for (size_t r = 0; r < R; ++r)
    for (size_t c = 0; c < C; ++c) tile_weight_fixed16(r, c, &s_.dec[r * C + c], &s_.weff[r * C + c]);
  for (uint64_t r = 0; r < job_.rows; ++r) wbuf_->read_bits(job_.cols * static_cast<uint64_t>(shape_.weight_bits));
  if (activity_) {
    uint64_t t = 0;
    for (size_t c = 0; c < C; ++c) {
      // Row r: sum_{j=1..r} |O_j ^ O_{j-1}| + |O_0 ^ N_{R-1}| + sum_{j=r+1..R-1} |N_j ^ N_{j-1}|.
      uint64_t pref_old = 0, suf_new = 0;
      for (size_t j = 1; j < R; ++j)
        suf_new += static_cast<uint64_t>(__builtin_popcountll(s_.weight_bits(j * C + c) ^ s_.weight_bits((j - 1) * C + c)));
      const uint64_t bridge = static_cast<uint64_t>(__builtin_popcountll(old[c] ^ s_.weight_bits((R - 1) * C + c)));
      for (size_t r = 0; r < R; ++r) {
        if (r > 0) {
          pref_old += static_cast<uint64_t>(__builtin_popcountll(old[r * C + c] ^ old[(r - 1) * C + c]));
          suf_new -= static_cast<uint64_t>(__builtin_popcountll(s_.weight_bits(r * C + c) ^ s_.weight_bits((r - 1) * C + c)));
        }
        t += pref_old + bridge + suf_new;
      }
    }
    c_.toggles_weight += t;
  }
  begin_fixed16_stream();
}

// Tile weight (row tr, column c), w_q as is; outside the R' x C' tile, a zero weight.
void FastEngine::tile_weight_fixed16(uint64_t tr, uint64_t c, DecodedWeight* d, int64_t* w) const {
  *d = DecodedWeight{};
  *w = 0;
  if (tr >= job_.rows || c >= job_.cols) return;
  *w = job_.fixed[tr * job_.cols + c];
  d->zero = *w == 0;
}

// fixed16's stream start: the registers clear (from any state), the useful
// work is counted, and the 64-bit stream's MAC path is chosen.
void FastEngine::begin_fixed16_stream() {
  s_.clear_for_ws_stream(activity_, &c_);
  count_useful_work(shape_, job_, AePaths{}, &c_);
  narrow_ = true;
  for (size_t i = 0; i < s_.weff.size(); ++i) {
    narrow_ &= s_.weff[i] >= INT32_MIN && s_.weff[i] <= INT32_MAX;
    weff32_[i] = static_cast<int32_t>(s_.weff[i]);
  }
  __int128 worst = 0;
  for (int c = 0; c < C_; ++c) {
    __int128 col = 0;
    for (int r = 0; r < R_; ++r) col += std::llabs(s_.weff[static_cast<size_t>(r * C_ + c)]);
    worst = std::max(worst, col);
  }
  checked_ = worst * (static_cast<__int128>(1) << (act_bits_ - 1)) > acc_hi_;
}

}  // namespace brsim
