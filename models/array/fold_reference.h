// The fold reference: one fold of the PE array, clock edge by clock edge, in
// pure C++ (ARCHITECTURE.md "The PE array and its timing"; docs/cycle-model.md
// "Timing conventions"). It is the cycle-by-cycle array: the SystemC PeArray
// calls edge() once per rising edge, and run() takes a whole fold
// (FoldJob -> FoldResult) for tests that hold fast mode's engine to it.
// Its phases last what fold_timing() says; every register write, toggle,
// decode, buffer access and accumulation happens on the edge it would in
// hardware. The weights enter through the column (is: row) decoders and the
// PE product is the arithmetic element's (array_datapath.h).
#pragma once

#include <cstdint>
#include <vector>

#include "array_datapath.h"
#include "array_state.h"
#include "fold.h"
#include "sram.h"

namespace brsim {

// A fold's outcome: its edges and what it counted (its outputs accumulate
// into FoldJob::out).
struct FoldResult {
  uint64_t edges = 0;
  FoldCounters counts;
};

class FoldReference {
 public:
  // The registers in `state` and the counts in `counters` are shared with
  // whoever else runs folds on the same array (fast mode's engine).
  FoldReference(const ArchConfig& arch, ArrayState* state, FoldCounters* counters, Sram* weight_buf, Sram* input_buf,
                Sram* output_buf);

  // A fold starts: the next edge() is its first.
  void begin(const FoldJob& job);
  // One rising edge of the running fold; true when it was the fold's last.
  bool edge();
  bool running() const { return phase_ != Phase::Idle; }
  // A whole fold, edge by edge.
  FoldResult run(const FoldJob& job);

  // Switching-activity counting (on by default).
  void set_activity(bool on) { activity_ = on; }
  bool activity() const { return activity_; }
  ArrayDatapath& datapath() { return dp_; }
  const ArrayDatapath& datapath() const { return dp_; }

 private:
  enum class Phase { Idle, Load, Stream, ShiftOut };
  // Weight stationary.
  bool ws_edge();
  void ws_load_edge();
  void ws_begin_stream();
  void ws_stream_edge();
  template <bool kChecked, bool kActivity, typename W>
  void mac_rows(const W* weights);
  void shift_activations();
  // Input and output stationary.
  bool df_edge();
  void df_begin_stream();
  int64_t act_of(uint64_t pixel, uint64_t k) const {
    return job_.act[(job_.p0 + pixel) * job_.act_stride + job_.k0 + k];
  }
  // acc + x in the accumulator's width: wraps (and counts in *overflows)
  // when the sum leaves the range.
  int64_t acc_add(int64_t acc, int64_t x, uint64_t* overflows) const {
    return wrapping_add(acc, x, acc_bits_, acc_lo_, acc_hi_, overflows);
  }

  ArrayShape shape_;
  ArrayState& s_;
  FoldCounters& c_;
  Sram *wbuf_, *ibuf_, *obuf_;
  ArrayDatapath dp_;
  int acc_bits_;
  int64_t acc_lo_, acc_hi_;
  uint64_t act_mask_, acc_mask_;
  uint64_t acc_words_;  // output buffer words per partial sum
  bool activity_ = true;

  FoldJob job_;
  FoldTiming timing_;
  Phase phase_ = Phase::Idle;
  uint64_t edge_ = 0;  // edge index within the phase
  // ws: the stream's MAC path, chosen when the tile is loaded.
  bool checked_ = true;  // partial sums may leave the accumulator range
  bool narrow_ = false;  // every weight fits 32 bits (weff32_ is valid)
  std::vector<int32_t> weff32_;
  // ws load edges: the top row's weight register bits and, per row j >= 1,
  // popcount(row j ^ row j - 1) of the bits, with their sum.
  std::vector<uint64_t> top_bits_, row_diff_;
  uint64_t row_diff_sum_ = 0;
  // ws stream: the edge of each row's last non-zero feed, and the rows
  // whose partial sums (products) are all zero after the last edge.
  std::vector<int64_t> last_feed_;
  std::vector<uint8_t> zero_sums_, zero_products_;
  // Row r's activation registers are all zero on this stream edge: they
  // hold the feeds of the C edges before it.
  bool row_acts_zero(size_t r) const { return last_feed_[r] + s_.C < static_cast<int64_t>(edge_); }
};

}  // namespace brsim
