#include "pe_array.h"

#include <cstring>

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
      period_(period) {
  const size_t n = static_cast<size_t>(R_) * static_cast<size_t>(C_);
  weff_.assign(n, 0);
  dec_.assign(n, DecodedWeight{});
  ring_len_ = static_cast<size_t>(C_) + 1024;
  act_ring_.assign(static_cast<size_t>(R_) * ring_len_, 0);
  base_ = ring_len_ - static_cast<size_t>(C_);
  weff32_.assign(n, 0);
  psum_.assign(n, 0);
  zero_row_.assign(static_cast<size_t>(C_), 0);
  feed_.assign(static_cast<size_t>(R_), 0);
  acc_hi_ = static_cast<int64_t>((static_cast<__int128>(1) << (acc_bits_ - 1)) - 1);
  acc_lo_ = -acc_hi_ - 1;
  acc_words_ = output_buf->words(static_cast<uint64_t>(acc_bits_));
  SC_METHOD(tick);
  sensitive << start_;
  dont_initialize();
}

void PeArray::start(const FoldJob& job) {
  job_ = job;
  start_.notify(sc_core::SC_ZERO_TIME);
}

void PeArray::tick() {
  switch (phase_) {
    case Phase::Idle:  // woken by start(): the fold begins on the next edge
      phase_ = Phase::Load;
      edge_ = 0;
      if (pe_ == PeType::BrsLog) approx_ = sqrt2_approx(job_.sqrt2_terms);
      ++counters_.folds;
      break;
    case Phase::Load:
      load_edge();
      ++counters_.load_cycles;
      if (++edge_ == static_cast<uint64_t>(R_)) {
        phase_ = Phase::Stream;
        edge_ = 0;
        std::fill(act_ring_.begin(), act_ring_.end(), 0);
        base_ = ring_len_ - static_cast<size_t>(C_);
        std::fill(psum_.begin(), psum_.end(), 0);
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
      break;
    case Phase::Stream: {
      stream_edge();
      const uint64_t stream_edges = job_.p + static_cast<uint64_t>(R_ + C_ - 1);
      (edge_ < job_.p ? counters_.stream_cycles : counters_.drain_cycles) += 1;
      if (++edge_ == stream_edges) {
        counters_.macs += job_.p * job_.rows * job_.cols;
        phase_ = Phase::Idle;
        done_.notify(sc_core::SC_ZERO_TIME);
        next_trigger();  // back to static sensitivity: the next start()
        return;
      }
      break;
    }
  }
  next_trigger(period_);  // the next rising edge
}

// Weights shift down one row; the top row takes tile row R-1-edge through
// the column decoders (rows beyond the tile hold zero weights).
void PeArray::load_edge() {
  const size_t row = static_cast<size_t>(C_);
  std::memmove(&weff_[row], &weff_[0], (weff_.size() - row) * sizeof(int64_t));
  std::memmove(&dec_[row], &dec_[0], (dec_.size() - row) * sizeof(DecodedWeight));
  const uint64_t tr = static_cast<uint64_t>(R_) - 1 - edge_;
  for (uint64_t c = 0; c < static_cast<uint64_t>(C_); ++c) {
    DecodedWeight d;
    int64_t w = 0;
    if (tr < job_.rows && c < job_.cols) {
      if (pe_ == PeType::Fixed16) {
        w = job_.fixed[tr * job_.cols + c];
        d.zero = w == 0;
      } else {
        d = decode(job_.codes[tr * job_.cols + c], job_.col_cfg[c]);
        w = ae_effective_weight(d, approx_);
        ++counters_.decodes;
      }
    }
    dec_[c] = d;
    weff_[c] = w;
  }
  if (tr < job_.rows) wbuf_->read_bits(job_.cols * static_cast<uint64_t>(wbits_));
}

namespace {

// One PE row: ps = above + a * w, C lanes. 32-bit operands widen to 64 bits
// (the AE product a * w_eff equals ae_product(a, decoded, A_K) exactly).
template <typename W>
__attribute__((target_clones("avx2", "default"))) void mac_row(int64_t* ps, const int64_t* above, const int32_t* a,
                                                               const W* w, size_t n) {
  for (size_t c = 0; c < n; ++c) ps[c] = above[c] + static_cast<int64_t>(a[c]) * static_cast<int64_t>(w[c]);
}

}  // namespace

template <bool kChecked, typename W>
void PeArray::mac_rows(const W* weights) {
  const size_t C = static_cast<size_t>(C_);
  for (int r = R_ - 1; r >= 0; --r) {
    int64_t* ps = &psum_[static_cast<size_t>(r) * C];
    const int64_t* above = r ? &psum_[static_cast<size_t>(r - 1) * C] : zero_row_.data();
    const int32_t* a = &act_ring_[static_cast<size_t>(r) * ring_len_ + base_];
    const W* w = &weights[static_cast<size_t>(r) * C];
    if (!kChecked) {
      mac_row(ps, above, a, w, C);
      continue;
    }
    for (size_t c = 0; c < C; ++c) {
      const __int128 s = static_cast<__int128>(above[c]) + static_cast<__int128>(a[c]) * w[c];
      if (s < acc_lo_ || s > acc_hi_) {
        ++counters_.array_overflows;
        ps[c] = wrap_to_bits(s, acc_bits_);
      } else {
        ps[c] = static_cast<int64_t>(s);
      }
    }
  }
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
  if (checked_) mac_rows<true>(weff_.data());
  else if (narrow_) mac_rows<false>(weff32_.data());
  else mac_rows<false>(weff_.data());
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
    const __int128 s = static_cast<__int128>(o) + bottom[c];
    if (s < acc_lo_ || s > acc_hi_) {
      ++counters_.output_overflows;
      o = wrap_to_bits(s, acc_bits_);
    } else {
      o = static_cast<int64_t>(s);
    }
    obuf_->read_words(acc_words_);
    obuf_->write_words(acc_words_);
  }
}

}  // namespace brsim
