#include "pe_array.h"

#include <immintrin.h>

#include <cstring>
#include <type_traits>

#include "trace_hooks.h"
#include "avx2_popcount.h"
#include "datapath.h"
#include "sqrt2.h"

namespace brsim {

PeArray::PeArray(sc_core::sc_module_name name, const ArchConfig& arch, sc_core::sc_time period, Sram* weight_buf,
                 Sram* input_buf, Sram* output_buf)
    : sc_module(name),
      R_(arch.rows),
      C_(arch.cols),
      acc_bits_(arch.datapath.acc_bits),
      pe_(arch.pe),
      act_bits_(arch.datapath.act_bits),
      wbits_(arch.pe == PeType::Fixed16 ? 16 : arch.weight_bits),
      wbuf_(weight_buf),
      ibuf_(input_buf),
      obuf_(output_buf),
      period_(period),
      flow_(arch.dataflow) {
  const size_t n = static_cast<size_t>(R_) * static_cast<size_t>(C_);
  act_reg_.assign(n, 0);
  weff_.assign(n, 0);
  dec_.assign(n, DecodedWeight{});
  ring_len_ = static_cast<size_t>(C_) + 1024;
  act_ring_.assign(static_cast<size_t>(R_) * ring_len_, 0);
  base_ = ring_len_ - static_cast<size_t>(C_);
  weff32_.assign(n, 0);
  c4_ = (static_cast<size_t>(C_) + 3) / 4 * 4;
  c8_ = (static_cast<size_t>(C_) + 7) / 8 * 8;
  wbits16_.assign(static_cast<size_t>(R_) * c4_, 0);
  wbits16_new_.assign(static_cast<size_t>(R_) * c4_, 0);
  w32_.assign(static_cast<size_t>(R_) * c8_, 0);
  ps32_.assign(static_cast<size_t>(R_) * c8_, 0);
  pr32_.assign(static_cast<size_t>(R_) * c8_, 0);
  psum_.assign(n, 0);
  prod_.assign(n, 0);
  zero_row_.assign(static_cast<size_t>(C_), 0);
  feed_.assign(static_cast<size_t>(R_), 0);
  acc_hi_ = static_cast<int64_t>((static_cast<__int128>(1) << (acc_bits_ - 1)) - 1);
  acc_lo_ = -acc_hi_ - 1;
  acc_words_ = output_buf->words(static_cast<uint64_t>(acc_bits_));
  weight_reg_bits_ = pe_ == PeType::Fixed16 ? 16 : 3 + arch.datapath.shift_bits;
  act_mask_ = act_bits_ >= 64 ? ~0ull : (1ull << act_bits_) - 1;
  acc_mask_ = acc_bits_ >= 64 ? ~0ull : (1ull << acc_bits_) - 1;
  m32_ = acc_bits_ >= 32 ? ~0u : (1u << acc_bits_) - 1u;
  ext_ = acc_bits_ > 32 ? static_cast<uint64_t>(acc_bits_ - 32) : 0;
  SC_METHOD(tick);
  sensitive << start_;
  dont_initialize();
}

void PeArray::start(const FoldJob& job) {
  job_ = job;
  start_.notify(sc_core::SC_ZERO_TIME);
}

void PeArray::begin_fold() {
  phase_ = flow_ == Dataflow::OutputStationary ? Phase::Stream : Phase::Load;  // os has no load phase
  edge_ = 0;
  if (pe_ == PeType::BrsLog && (!approx_valid_ || approx_terms_ != job_.sqrt2_terms)) {
    approx_ = sqrt2_approx(job_.sqrt2_terms);  // K changes per layer at most
    approx_terms_ = job_.sqrt2_terms;
    approx_valid_ = true;
  }
  ++counters_.folds;
  if (flow_ == Dataflow::OutputStationary) begin_df();
}

uint64_t PeArray::run_fold_now(const FoldJob& job) {
  job_ = job;
  begin_fold();
  if (flow_ != Dataflow::WeightStationary) return fast_fold_df();
  return fast_fold();
}

uint64_t PeArray::fast_fold() {
  uint64_t edges = 0;
  if (fast_fold1(&edges)) return edges;
  edges = fast_load();
  return edges + fast_stream();
}

uint64_t PeArray::run_folds_now(const FoldJob* jobs, size_t n) {
  uint64_t edges = 0;
  for (size_t i = 0; i < n; ++i) edges += run_fold_now(jobs[i]);
  return edges;
}

void PeArray::tick() {
  if (phase_ == Phase::Idle) {  // woken by start(): the fold begins on the next edge
    begin_fold();
    if (fast_ && flow_ != Dataflow::WeightStationary && tracer_ == nullptr) {
      done_.notify(period_ * static_cast<double>(fast_fold_df()));
      next_trigger();
      return;
    }
    if (fast_) {
      // Fast mode: every edge of the fold now, in one activation; done fires
      // when the cycle-by-cycle model's last edge would.
      uint64_t edges = 0;
      if (tracer_ == nullptr) {
        edges = fast_fold();
      } else {
        while (!clock_edge()) ++edges;
        ++edges;
      }
      done_.notify(period_ * static_cast<double>(edges));
      next_trigger();
      return;
    }
    next_trigger(period_);
    return;
  }
  if (clock_edge()) {
    done_.notify(sc_core::SC_ZERO_TIME);
    next_trigger();  // back to static sensitivity: the next start()
    return;
  }
  next_trigger(period_);  // the next rising edge
}

bool PeArray::clock_edge() {
  sync_weights();  // after a fast load (a tracer set mid-run)
  if (flow_ != Dataflow::WeightStationary) return clock_edge_df();
  if (phase_ == Phase::Load) {
    std::fill(feed_.begin(), feed_.end(), 0);
    load_edge();
    ++counters_.load_cycles;
    if (++edge_ == static_cast<uint64_t>(R_)) begin_stream();
    if (tracer_) tracer_->array_edge(static_cast<uint64_t>(sc_core::sc_time_stamp() / period_ + 0.5), *this, feed_.data());
    return false;
  }
  stream_edge();
  const uint64_t stream_edges = job_.p + static_cast<uint64_t>(R_ + C_ - 1);
  (edge_ < job_.p ? counters_.stream_cycles : counters_.drain_cycles) += 1;
  if (tracer_) tracer_->array_edge(static_cast<uint64_t>(sc_core::sc_time_stamp() / period_ + 0.5), *this, feed_.data());
  if (++edge_ < stream_edges) return false;
  counters_.macs += job_.p * job_.rows * job_.cols;
  phase_ = Phase::Idle;
  return true;
}

// After the last load edge: the activation, product and partial-sum
// registers clear for the fold, and the MAC path is chosen.
void PeArray::begin_stream() {
  phase_ = Phase::Stream;
  edge_ = 0;
  if (activity_)
    for (int r = 0; r < R_; ++r)
      for (int c = 0; c < C_; ++c) {
        const size_t i = static_cast<size_t>(r * C_ + c);
        counters_.toggles_act += static_cast<uint64_t>(__builtin_popcountll(static_cast<uint64_t>(act_at(r, c)) & act_mask_));
        counters_.toggles_product += static_cast<uint64_t>(__builtin_popcountll(static_cast<uint64_t>(prod_[i]) & acc_mask_));
        counters_.toggles_psum += static_cast<uint64_t>(__builtin_popcountll(static_cast<uint64_t>(psum_[i]) & acc_mask_));
      }
  std::fill(act_ring_.begin(), act_ring_.end(), 0);
  base_ = ring_len_ - static_cast<size_t>(C_);
  std::fill(psum_.begin(), psum_.end(), 0);
  std::fill(prod_.begin(), prod_.end(), 0);
  count_fold_actions();
  narrow_ = true;
  for (size_t i = 0; i < weff_.size(); ++i) {
    narrow_ &= weff_[i] >= INT32_MIN && weff_[i] <= INT32_MAX;
    weff32_[i] = static_cast<int32_t>(weff_[i]);
  }
  // With every |a| <= 2^(A-1) and each column's sum of |w| bounded, no
  // partial sum can leave the accumulator: skip the per-add range check.
  __int128 worst = 0;
  for (int c = 0; c < C_; ++c) {
    __int128 col = 0;
    for (int r = 0; r < R_; ++r) col += std::llabs(weff_[static_cast<size_t>(r * C_ + c)]);
    worst = std::max(worst, col);
  }
  checked_ = worst * (static_cast<__int128>(1) << (act_bits_ - 1)) > acc_hi_;
}

// Weights shift down one row; the top row takes tile row R-1-edge through
// the column decoders (rows beyond the tile hold zero weights).
void PeArray::load_edge() {
  const size_t row = static_cast<size_t>(C_);
  wbits_valid_ = false;
  w32_ready_ = false;
  if (activity_) {
    // Every weight register takes the value above it (the top row a new one).
    uint64_t t = 0;
    std::vector<uint64_t>& old = weight_bits_scratch_;
    old.resize(weff_.size());
    for (size_t i = 0; i < weff_.size(); ++i) old[i] = weight_bits_of(i);
    for (size_t i = row; i < weff_.size(); ++i) t += static_cast<uint64_t>(__builtin_popcountll(old[i] ^ old[i - row]));
    top_row_old_.assign(old.begin(), old.begin() + static_cast<std::ptrdiff_t>(row));
    counters_.toggles_weight += t;
  }
  counters_.reg_writes += weff_.size() * static_cast<uint64_t>(weight_reg_bits_);
  std::memmove(&weff_[row], &weff_[0], (weff_.size() - row) * sizeof(int64_t));
  std::memmove(&dec_[row], &dec_[0], (dec_.size() - row) * sizeof(DecodedWeight));
  const uint64_t tr = static_cast<uint64_t>(R_) - 1 - edge_;
  for (uint64_t c = 0; c < static_cast<uint64_t>(C_); ++c) tile_weight(tr, c, &dec_[c], &weff_[c]);
  if (tr < job_.rows) wbuf_->read_bits(job_.cols * static_cast<uint64_t>(wbits_));
  if (activity_)
    for (size_t c = 0; c < row; ++c)
      counters_.toggles_weight += static_cast<uint64_t>(__builtin_popcountll(top_row_old_[c] ^ weight_bits_of(c)));
}

// Tile weight (row tr, column c) as it leaves the column decoder (fixed16:
// w_q as is); outside the R' x C' tile, a zero weight.
void PeArray::tile_weight(uint64_t tr, uint64_t c, DecodedWeight* d, int64_t* w) {
  *d = DecodedWeight{};
  *w = 0;
  if (tr >= job_.rows || c >= job_.cols) return;
  if (pe_ == PeType::Fixed16) {
    *w = job_.fixed[tr * job_.cols + c];
    d->zero = *w == 0;
  } else {
    *d = decode(job_.codes[tr * job_.cols + c], job_.col_cfg[c]);
    *w = ae_effective_weight(*d, approx_);
    ++counters_.decodes;
  }
}

// The bits a PE's weight register holds: the decoded fields (zero, sign,
// flag, shift) for BRSLog, the 16-bit w_q for fixed16. Its callers (per-edge
// folds, fast_load, begin_df) run after sync_weights(), not per PE.
uint64_t PeArray::weight_bits_of(size_t i) const {
  if (pe_ == PeType::Fixed16) return static_cast<uint64_t>(weff_[i]) & 0xFFFFu;
  return register_bits(dec_[i]);
}

// Useful actions of the fold just loaded: P ops per PE holding a tile weight.
void PeArray::count_fold_actions() {
  uint64_t zero = 0, sqrt2 = 0, pow2 = 0;
  for (uint64_t r = 0; r < job_.rows; ++r)
    for (uint64_t c = 0; c < job_.cols; ++c) {
      const DecodedWeight& d = dec_[r * static_cast<uint64_t>(C_) + c];
      if (d.zero) ++zero;
      else if (d.flag) ++sqrt2;
      else ++pow2;
    }
  const uint64_t p = job_.p, tile = job_.rows * job_.cols;
  if (pe_ == PeType::Fixed16) {
    counters_.fixed16_muls += p * tile;
  } else {
    counters_.ae_zero += p * zero;
    counters_.ae_sqrt2 += p * sqrt2;
    counters_.ae_pow2 += p * pow2;
  }
  counters_.acc_adds += p * tile + p * job_.cols;
  // Every stream edge writes each PE's activation, product and partial sum.
  counters_.reg_writes += static_cast<uint64_t>(R_ * C_) * static_cast<uint64_t>(act_bits_ + 2 * acc_bits_) *
                          (p + static_cast<uint64_t>(R_ + C_ - 1));
}

namespace {

// One PE row: ps = above + a * w, C lanes. 32-bit operands widen to 64 bits
// (the AE product a * w_eff equals ae_product(a, decoded, A_K) exactly).
template <typename W>
__attribute__((target_clones("avx2", "default"))) void mac_row(int64_t* ps, const int64_t* above, const int32_t* a,
                                                               const W* w, size_t n) {
  for (size_t c = 0; c < n; ++c) ps[c] = above[c] + static_cast<int64_t>(a[c]) * static_cast<int64_t>(w[c]);
}

// Switching activity of one row: ps = above + a * w as mac_row, plus the
// bit toggles of the product and partial-sum registers (masked to their
// width). AVX2 version: 4 lanes, popcount_lanes (avx2_popcount.h); the
// scalar loop below is the reference.
// kOneAct: every lane takes the same activation a[0] (fast mode's pixel by
// pixel fold); otherwise lane c takes a[c] (the per-edge array).
template <bool kOneAct>
__attribute__((target("avx2"))) void mac_row_activity_avx2(int64_t* ps, int64_t* pr, const int64_t* above,
                                                           const int32_t* a, const int32_t* w, size_t n,
                                                           uint64_t mask, uint64_t* tp, uint64_t* ts) {
  const __m256i zero = _mm256_setzero_si256();
  const __m256i m = _mm256_set1_epi64x(static_cast<long long>(mask));
  __m256i accp = zero, accs = zero;
  size_t c = 0;
  for (; c + 4 <= n; c += 4) {
    const __m256i av = kOneAct ? _mm256_set1_epi64x(a[0])
                               : _mm256_cvtepi32_epi64(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a + c)));
    const __m256i wv = _mm256_cvtepi32_epi64(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w + c)));
    const __m256i prod = _mm256_mul_epi32(av, wv);
    const __m256i next = _mm256_add_epi64(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(above + c)), prod);
    const __m256i op = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(pr + c));
    const __m256i os = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ps + c));
    accp = _mm256_add_epi64(accp, popcount_lanes(_mm256_and_si256(_mm256_xor_si256(prod, op), m)));
    accs = _mm256_add_epi64(accs, popcount_lanes(_mm256_and_si256(_mm256_xor_si256(next, os), m)));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(pr + c), prod);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(ps + c), next);
  }
  alignas(32) uint64_t lp[4], ls[4];
  _mm256_store_si256(reinterpret_cast<__m256i*>(lp), accp);
  _mm256_store_si256(reinterpret_cast<__m256i*>(ls), accs);
  uint64_t tpp = lp[0] + lp[1] + lp[2] + lp[3], tss = ls[0] + ls[1] + ls[2] + ls[3];
  for (; c < n; ++c) {
    const int64_t prod = static_cast<int64_t>(a[kOneAct ? 0 : c]) * w[c], next = above[c] + prod;
    tpp += static_cast<uint64_t>(__builtin_popcountll(static_cast<uint64_t>(prod ^ pr[c]) & mask));
    tss += static_cast<uint64_t>(__builtin_popcountll(static_cast<uint64_t>(next ^ ps[c]) & mask));
    pr[c] = prod;
    ps[c] = next;
  }
  *tp += tpp;
  *ts += tss;
}

// Bit toggles of a row of activation registers shifting right by one:
// sum of popcount((a[c-1] ^ a[c]) & mask) for c in [1, n).
__attribute__((target("avx2"))) uint64_t shift_toggles_avx2(const int32_t* a, size_t n, uint32_t mask) {
  const __m256i m = _mm256_set1_epi32(static_cast<int>(mask));
  __m256i acc = _mm256_setzero_si256();
  size_t c = 1;
  for (; c + 8 <= n; c += 8) {
    const __m256i cur = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a + c));
    const __m256i prev = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a + c - 1));
    acc = _mm256_add_epi64(acc, popcount_lanes(_mm256_and_si256(_mm256_xor_si256(cur, prev), m)));
  }
  alignas(32) uint64_t l[4];
  _mm256_store_si256(reinterpret_cast<__m256i*>(l), acc);
  uint64_t t = l[0] + l[1] + l[2] + l[3];
  for (; c < n; ++c) t += static_cast<uint64_t>(__builtin_popcount(static_cast<uint32_t>(a[c - 1] ^ a[c]) & mask));
  return t;
}

uint64_t shift_toggles(const int32_t* a, size_t n, uint32_t mask) {
  uint64_t t = 0;
  for (size_t c = 1; c < n; ++c) t += static_cast<uint64_t>(__builtin_popcount(static_cast<uint32_t>(a[c - 1] ^ a[c]) & mask));
  return t;
}

// One pixel through every row of the array (fast mode): mac_row_activity_avx2 for
// r = 0..R-1, the row's activation a[r] (0 for r >= rows).
__attribute__((target("avx2"))) void fold_pixel_avx2(int64_t* psum, int64_t* prod, const int64_t* zero_row,
                                                     const int32_t* a, size_t rows, size_t R, const int32_t* w,
                                                     size_t C, uint64_t mask, uint64_t* tp, uint64_t* ts) {
  const int32_t none = 0;
  for (size_t r = 0; r < R; ++r)
    mac_row_activity_avx2<true>(&psum[r * C], &prod[r * C], r ? &psum[(r - 1) * C] : zero_row, r < rows ? &a[r] : &none,
                                &w[r * C], C, mask, tp, ts);
}

const bool kHasAvx2 = __builtin_cpu_supports("avx2");

}  // namespace

template <bool kChecked, bool kActivity, typename W>
void PeArray::mac_rows(const W* weights) {
  const size_t C = static_cast<size_t>(C_);
  uint64_t tp = 0, ts = 0;
  for (int r = R_ - 1; r >= 0; --r) {
    int64_t* ps = &psum_[static_cast<size_t>(r) * C];
    int64_t* pr = &prod_[static_cast<size_t>(r) * C];
    const int64_t* above = r ? &psum_[static_cast<size_t>(r - 1) * C] : zero_row_.data();
    const int32_t* a = &act_ring_[static_cast<size_t>(r) * ring_len_ + base_];
    const W* w = &weights[static_cast<size_t>(r) * C];
    if (!kChecked && !kActivity) {
      mac_row(ps, above, a, w, C);
      continue;
    }
    if constexpr (!kChecked && kActivity && std::is_same<W, int32_t>::value) {
      if (kHasAvx2) {
        mac_row_activity_avx2<false>(ps, pr, above, a, w, C, acc_mask_, &tp, &ts);
        continue;
      }
    }
    for (size_t c = 0; c < C; ++c) {
      const int64_t prod = static_cast<int64_t>(a[c]) * static_cast<int64_t>(w[c]);
      const int64_t next = kChecked ? acc_add(above[c], prod, &counters_.array_overflows) : above[c] + prod;
      if (kActivity) {
        tp += static_cast<uint64_t>(__builtin_popcountll(static_cast<uint64_t>(prod ^ pr[c]) & acc_mask_));
        ts += static_cast<uint64_t>(__builtin_popcountll(static_cast<uint64_t>(next ^ ps[c]) & acc_mask_));
        pr[c] = prod;
      }
      ps[c] = next;
    }
  }
  counters_.toggles_product += tp;
  counters_.toggles_psum += ts;
}

// Activations move one PE to the right; each row's new one enters at column 0.
void PeArray::shift_activations() {
  const size_t C = static_cast<size_t>(C_);
  if (base_ == 0) {  // the window reached the front: move it back to the end
    for (int r = 0; r < R_; ++r) {
      int32_t* row = &act_ring_[static_cast<size_t>(r) * ring_len_];
      std::memmove(row + ring_len_ - C, row, C * sizeof(int32_t));
    }
    base_ = ring_len_ - C;
  }
  if (activity_) {
    // Register (r, c) takes (r, c - 1)'s value; column 0 takes the feed.
    uint64_t t = 0;
    for (int r = 0; r < R_; ++r) {
      const int32_t* a = &act_ring_[static_cast<size_t>(r) * ring_len_ + base_];
      t += static_cast<uint64_t>(__builtin_popcountll((static_cast<uint64_t>(feed_[static_cast<size_t>(r)]) ^
                                                       static_cast<uint64_t>(static_cast<int64_t>(a[0]))) & act_mask_));
      const uint32_t m32 = static_cast<uint32_t>(act_mask_);
      t += kHasAvx2 ? shift_toggles_avx2(a, C, m32) : shift_toggles(a, C, m32);
    }
    counters_.toggles_act += t;
  }
  --base_;
  for (int r = 0; r < R_; ++r) act_ring_[static_cast<size_t>(r) * ring_len_ + base_] = static_cast<int32_t>(feed_[static_cast<size_t>(r)]);
}

void PeArray::stream_edge() {
  // Row r takes pixel edge - r of its k-slice (skew of one cycle per row).
  bool any = false;
  for (uint64_t r = 0; r < static_cast<uint64_t>(R_); ++r) {
    const bool valid = r < job_.rows && edge_ >= r && edge_ - r < job_.p;
    feed_[r] = valid ? job_.act[(edge_ - r) * job_.act_stride + job_.k0 + r] : 0;
    any |= valid;
  }
  if (any && edge_ < job_.p) ibuf_->read_bits(job_.rows * static_cast<uint64_t>(act_bits_));  // one row of A per edge
  if (activity_) {
    if (checked_) mac_rows<true, true>(weff_.data());
    else if (narrow_) mac_rows<false, true>(weff32_.data());
    else mac_rows<false, true>(weff_.data());
  } else {
    if (checked_) mac_rows<true, false>(weff_.data());
    else if (narrow_) mac_rows<false, false>(weff32_.data());
    else mac_rows<false, false>(weff_.data());
  }
  shift_activations();
  // The bottom row's partial sums leave for the output buffer: column c holds
  // pixel edge - R - c after this edge.
  const int64_t* bottom = &psum_[static_cast<size_t>(R_ - 1) * static_cast<size_t>(C_)];
  const int64_t first = static_cast<int64_t>(edge_) - R_;
  for (uint64_t c = 0; c < job_.cols; ++c) {
    const int64_t p = first - static_cast<int64_t>(c);
    if (p < 0) break;
    if (p >= static_cast<int64_t>(job_.p)) continue;
    int64_t& o = job_.out[static_cast<uint64_t>(p) * job_.cols + c];
    o = acc_add(o, bottom[c], &counters_.output_overflows);
    obuf_->read_words(acc_words_);
    obuf_->write_words(acc_words_);
  }
}

// Fast mode's weight load: the R edges of the weight shift register at once.
// After edge i, row r holds the new tile's row R-1-i+r if i >= r, else the
// old row r-i-1; so row r sees old rows r, r-1, .., 0, then new rows R-1, ..,
// r, and its toggles follow from per-column sums of neighbouring rows' bit
// differences. The counts equal the per-edge load's. Returns R.
uint64_t PeArray::fast_load() {
  if (pe_ == PeType::BrsLog) return fast_load_brslog();
  sync_weights();
  wbits_valid_ = false;
  w32_ready_ = false;
  const size_t R = static_cast<size_t>(R_), C = static_cast<size_t>(C_);
  std::vector<uint64_t>& old = weight_bits_scratch_;
  if (activity_) {
    old.resize(R * C);
    for (size_t i = 0; i < R * C; ++i) old[i] = weight_bits_of(i);
  }
  for (size_t r = 0; r < R; ++r)
    for (size_t c = 0; c < C; ++c) tile_weight(r, c, &dec_[r * C + c], &weff_[r * C + c]);
  for (uint64_t r = 0; r < job_.rows; ++r) wbuf_->read_bits(job_.cols * static_cast<uint64_t>(wbits_));
  counters_.reg_writes += static_cast<uint64_t>(R) * weff_.size() * static_cast<uint64_t>(weight_reg_bits_);
  counters_.load_cycles += R;
  if (activity_) {
    uint64_t t = 0;
    for (size_t c = 0; c < C; ++c) {
      // Row r: sum_{j=1..r} |O_j ^ O_{j-1}| + |O_0 ^ N_{R-1}| + sum_{j=r+1..R-1} |N_j ^ N_{j-1}|.
      uint64_t pref_old = 0, suf_new = 0;
      for (size_t j = 1; j < R; ++j)
        suf_new += static_cast<uint64_t>(__builtin_popcountll(weight_bits_of(j * C + c) ^ weight_bits_of((j - 1) * C + c)));
      const uint64_t bridge = static_cast<uint64_t>(__builtin_popcountll(old[c] ^ weight_bits_of((R - 1) * C + c)));
      for (size_t r = 0; r < R; ++r) {
        if (r > 0) {
          pref_old += static_cast<uint64_t>(__builtin_popcountll(old[r * C + c] ^ old[(r - 1) * C + c]));
          suf_new -= static_cast<uint64_t>(__builtin_popcountll(weight_bits_of(r * C + c) ^ weight_bits_of((r - 1) * C + c)));
        }
        t += pref_old + bridge + suf_new;
      }
    }
    counters_.toggles_weight += t;
  }
  begin_stream();
  return R;
}

// Fast mode's stream phase: the register values of every PE follow from the
// WS timing (README "Cycle model"): PE (r, c) holds pixel p's activation
// after edge p + r + c, its product after edge p + r + c + 1 and the partial
// sum of rows 0..r for pixel p likewise. So the fold is computed pixel by
// pixel, row by row, with the same adds (and wraps), the same toggles between
// consecutive register values and the same final register state as the
// P + R + C - 1 edges of the cycle-by-cycle mode. Returns the edges.
uint64_t PeArray::fast_stream() {
  uint64_t edges = 0;
  if (fast_stream32(&edges)) return edges;
  sync_weights();
  const size_t R = static_cast<size_t>(R_), C = static_cast<size_t>(C_);
  const uint64_t P = job_.p, rows = job_.rows;
  // psum_ and prod_ hold, per PE, the last pixel's values ("the register").
  std::fill(psum_.begin(), psum_.end(), 0);
  std::fill(prod_.begin(), prod_.end(), 0);
  uint64_t tp = 0, ts = 0;
  const bool fast_path = !checked_ && narrow_ && activity_ && kHasAvx2;
  if (fast_path)  // the BRSLog fast load leaves weff32_ to its users
    for (size_t i = 0; i < R * C; ++i) weff32_[i] = static_cast<int32_t>(weff_[i]);
  for (uint64_t p = 0; p < P; ++p) {
    const int32_t* arow = &job_.act[p * job_.act_stride + job_.k0];
    if (fast_path) {
      fold_pixel_avx2(psum_.data(), prod_.data(), zero_row_.data(), arow, rows, R, weff32_.data(), C, acc_mask_, &tp,
                      &ts);
    } else {
      for (size_t r = 0; r < R; ++r) {
        int64_t* ps = &psum_[r * C];
        int64_t* pr = &prod_[r * C];
        const int64_t* above = r ? &psum_[(r - 1) * C] : zero_row_.data();
        const int32_t a = r < rows ? arow[r] : 0;
        for (size_t c = 0; c < C; ++c) {
          const int64_t prod = static_cast<int64_t>(a) * weff_[r * C + c];
          const int64_t next = checked_ ? acc_add(above[c], prod, &counters_.array_overflows) : above[c] + prod;
          if (activity_) {
            tp += static_cast<uint64_t>(__builtin_popcountll(static_cast<uint64_t>(prod ^ pr[c]) & acc_mask_));
            ts += static_cast<uint64_t>(__builtin_popcountll(static_cast<uint64_t>(next ^ ps[c]) & acc_mask_));
          }
          pr[c] = prod;
          ps[c] = next;
        }
      }
    }
    // The bottom row's sums for pixel p go to the output buffer.
    const int64_t* bottom = &psum_[(R - 1) * C];
    int64_t* out = &job_.out[p * job_.cols];
    for (uint64_t c = 0; c < job_.cols; ++c) {
      out[c] = acc_add(out[c], bottom[c], &counters_.output_overflows);
    }
  }
  ibuf_->read_words(P * ibuf_->words(rows * static_cast<uint64_t>(act_bits_)));
  obuf_->read_words(acc_words_ * P * job_.cols);
  obuf_->write_words(acc_words_ * P * job_.cols);
  // After the fold every register returns to zero (the bubbles behind the
  // last pixel) except PE (R-1, C-1), which still holds the last pixel's
  // product and sum: count the other registers' last toggles, then clear them.
  const size_t last = (R - 1) * C + (C - 1);
  if (activity_) {
    for (size_t i = 0; i < R * C; ++i) {
      if (i == last) continue;
      tp += static_cast<uint64_t>(__builtin_popcountll(static_cast<uint64_t>(prod_[i]) & acc_mask_));
      ts += static_cast<uint64_t>(__builtin_popcountll(static_cast<uint64_t>(psum_[i]) & acc_mask_));
    }
    counters_.toggles_act += fast_act_toggles();
    counters_.toggles_product += tp;
    counters_.toggles_psum += ts;
  }
  for (size_t i = 0; i < R * C; ++i)
    if (i != last) prod_[i] = psum_[i] = 0;
  std::fill(act_ring_.begin(), act_ring_.end(), 0);
  std::fill(feed_.begin(), feed_.end(), 0);
  counters_.stream_cycles += P;
  counters_.drain_cycles += static_cast<uint64_t>(R_ + C_ - 1);
  counters_.macs += P * rows * job_.cols;
  phase_ = Phase::Idle;
  return P + static_cast<uint64_t>(R_ + C_ - 1);
}

// Activation registers over a fast fold: each row's stream (0, A[0], ..,
// A[P-1], 0) passes through all C registers of the row and leaves them at zero.
uint64_t PeArray::fast_act_toggles() const {
  const uint64_t P = job_.p;
  uint64_t ta = 0;
  for (uint64_t r = 0; r < job_.rows; ++r) {
    uint64_t d = 0;
    int64_t prev = 0;
    for (uint64_t p = 0; p <= P; ++p) {
      const int64_t x = p < P ? job_.act[p * job_.act_stride + job_.k0 + r] : 0;
      d += static_cast<uint64_t>(__builtin_popcountll(static_cast<uint64_t>(x ^ prev) & act_mask_));
      prev = x;
    }
    ta += d * static_cast<uint64_t>(C_);
  }
  return ta;
}

}  // namespace brsim
