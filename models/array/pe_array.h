// The PE array (ARCHITECTURE.md "The PE array and its timing"): R x C
// processing elements, weight stationary, one clocked process over flat PE
// state. A fold shifts an R x C weight tile in from the top through the
// per-column weight decoders (R cycles), streams P activation rows in from
// the left with one cycle of skew per row, and drains the partial sums out of
// the bottom into the output buffer (R + C - 1 cycles). BRSLog PEs compute
// with the AE datapath of BRSLOG.md section 6; fixed16 PEs multiply.
#pragma once

#include <systemc>

#include <cstdint>
#include <memory>
#include <deque>
#include <unordered_map>
#include <vector>

#include "arch.h"
#include "brslog.h"
#include "datapath.h"
#include "sqrt2.h"
#include "sram.h"

namespace brsim {

// One fold's work, set up by the controller in the buffers.
// ws and is: an R' x C' weight tile; os: a strip of R' = K' rows (several
// k-tiles) x C' columns, streamed through the column decoders.
struct FoldJob {
  uint64_t rows = 0, cols = 0;             // R' (K rows of W), C' <= C (output channels)
  const uint8_t* codes = nullptr;          // BRSLog: R' x C' code words (at most 8 bits), row-major
  const int16_t* fixed = nullptr;          // fixed16: R' x C' w_q, row-major
  const SegmentConfig* col_cfg = nullptr;  // BRSLog: segment config of each column (C')
  int sqrt2_terms = 4;                     // K of this layer
  const int32_t* act = nullptr;            // A[p][k0 + r] = act[(p0 + p) * act_stride + k0 + r]
  uint64_t act_stride = 0, k0 = 0;
  uint64_t p0 = 0, p = 0;                  // the fold's pixels [p0, p0 + p) of the band
  int64_t* out = nullptr;                  // band pixels x C' accumulators, row-major (wrapping)
  uint64_t load_id = 0;                    // folds of one weight load share it (0: unknown); a simulation cache key
  // The activations' identity (0: unknown): folds with the same act_id see
  // the same act values; act_reuse: how many m-tiles' folds will (a hint
  // for fast mode's per-activation caches). Simulation cache keys.
  uint64_t act_id = 0, act_reuse = 1;
};

struct PeArrayCounters {
  uint64_t folds = 0;
  uint64_t load_cycles = 0, stream_cycles = 0, drain_cycles = 0;
  uint64_t macs = 0;               // useful MACs: P x R' x C' per fold
  uint64_t decodes = 0;            // weight decodes (R' x C' per fold)
  uint64_t array_overflows = 0;    // partial sums that wrapped inside the array
  uint64_t output_overflows = 0;   // accumulations that wrapped in the output buffer
  // Actions (useful work: P per PE holding a tile weight, per fold).
  uint64_t ae_sqrt2 = 0, ae_pow2 = 0, ae_zero = 0;  // BRSLog AE ops by path; zero = gated
  uint64_t fixed16_muls = 0;                         // fixed16 PE multiplies
  uint64_t acc_adds = 0;     // PE accumulator adds + output-buffer accumulations
  uint64_t reg_writes = 0;   // PE register bits written: the weight register per load
                             // edge; activation, product and partial sum per stream edge
  // Switching activity: bit toggles between consecutive register values,
  // summed over all PEs (activation A bits, product and partial sum
  // acc_bits, weight register: the decoded fields or the 16-bit w_q).
  uint64_t toggles_weight = 0, toggles_act = 0, toggles_product = 0, toggles_psum = 0;
};

class TraceHooks;

class PeArray : public sc_core::sc_module {
 public:
  SC_HAS_PROCESS(PeArray);
  // The array's clock edges are its process activations, one per period
  // while a fold runs (no clock signal toggles while the array is idle).
  PeArray(sc_core::sc_module_name name, const ArchConfig& arch, sc_core::sc_time period, Sram* weight_buf,
          Sram* input_buf, Sram* output_buf);
  ~PeArray() override;  // joins the stream worker thread, if one started

  // Starts a fold on the next rising edge; done() fires after its last edge.
  void start(const FoldJob& job);
  const sc_core::sc_event& done() const { return done_; }
  bool busy() const { return phase_ != Phase::Idle; }
  // Switching-activity counting (on by default); off makes the array faster.
  void set_activity(bool on) { activity_ = on; }
  // Fast mode: a fold's edges run in one activation (no per-cycle kernel
  // events); results, cycles and counts are those of the per-cycle mode.
  void set_fast(bool on) { fast_ = on; }
  bool fast() const { return fast_; }
  // Host threads of a fast-mode weight-stationary fold (default 2; 1: the
  // calling thread only). With 2, a fold with at least split_work() PE-pixel
  // steps (P x R x C) runs its activation pass in two halves and its stream
  // in chunks of pixels on a worker thread (started on first use) and the
  // caller, whichever claims a chunk first; the chunks' counts add up, so
  // results and counts are those of one thread on every run.
  void set_threads(int n) { threads_ = n < 1 ? 1 : n > 2 ? 2 : n; }
  int threads() const { return threads_; }
  void set_split_work(uint64_t work) { split_work_ = work; }  // tests: 0 splits every fold with P >= 2
  uint64_t split_work() const { return split_work_; }
  uint64_t split_folds() const { return split_folds_; }      // folds streamed on two threads so far
  uint64_t worker_chunks() const { return worker_chunks_; }  // pixel chunks the worker streamed
  // Fast mode's decode in vectors (default on: every column through one
  // table of at most 32 codes whose weights fit int32; else per PE), and
  // its product-toggle tables (ProductToggles) from `reuse` m-tiles x C
  // columns on (0: always, UINT64_MAX: never). Tests run both ways.
  void set_vector_load(bool on) { vector_load_ = on; }
  void set_product_table_reuse(uint64_t reuse) { table_reuse_ = reuse; }
  uint64_t vector_loads() const { return vector_loads_; }  // fast loads decoded in vectors so far
  // One-pixel folds decoded and streamed in one pass (fast_fold1) so far, and
  // those it handed back because a product or sum could pass 32 bits.
  uint64_t one_pass_folds() const { return one_pass_folds_; }
  uint64_t one_pass_fallbacks() const { return one_pass_fallbacks_; }
  uint64_t table_folds() const { return table_folds_; }    // folds whose product toggles came from the tables
  static constexpr uint64_t kDefaultTableReuse = 48;        // measured: brsim_bench (README "Simulation speed")
  // Tests: the caller leaves each split fold's first chunk to the worker (and
  // waits for it), so the worker streams on every split fold.
  void set_leave_first_chunk(bool on) { leave_first_chunk_ = on; }
  // Fast mode for a temporally decoupled caller (no tracer): runs a whole
  // fold now, without kernel events, and returns its edges; the caller's
  // local time advances by them. Same results and counts as start().
  uint64_t run_fold_now(const FoldJob& job);
  // run_fold_now() for n weight-stationary folds in order; returns their
  // edges in all.
  uint64_t run_folds_now(const FoldJob* jobs, size_t n);
  // Traces every edge into `t` (nullptr: off). Tracing needs activity on
  // (the product registers are kept only then).
  void set_tracer(TraceHooks* t) {
    tracer_ = t;
    if (t) activity_ = true;
  }
  const PeArrayCounters& counters() const { return counters_; }

  // PE state, for traces and tests (stable addresses for the whole run).
  int rows() const { return R_; }
  int cols() const { return C_; }
  const std::vector<int64_t>& psum() const { return psum_; }
  int64_t act_at(int r, int c) const {  // activation register of PE (r, c)
    if (flow_ != Dataflow::WeightStationary) return act_reg_[static_cast<size_t>(r * C_ + c)];
    return act_ring_[static_cast<size_t>(r) * ring_len_ + base_ + static_cast<size_t>(c)];
  }
  Dataflow dataflow() const { return flow_; }
  const std::vector<DecodedWeight>& decoded() const {
    sync_weights();
    return dec_;
  }
  const std::vector<int64_t>& weights() const {
    sync_weights();
    return weff_;
  }
  const std::vector<int64_t>& products() const { return prod_; }

 private:
  enum class Phase { Idle, Load, Stream, Drain };
  void tick();
  bool clock_edge();  // one rising edge of the running fold; true when it ends
  void begin_fold();  // the fold in job_ starts: counters, the sqrt2 approximation
  uint64_t fast_load();
  uint64_t fast_stream();
  uint64_t fast_fold();  // fast_load() and fast_stream(), or fast_fold1()
  void begin_stream();
  void load_edge();
  void stream_edge();
  template <bool kChecked, bool kActivity, typename W>
  void mac_rows(const W* weights);
  void count_fold_actions();
  uint64_t weight_bits_of(size_t i) const;
  // acc + x in the accumulator's width: wraps (and counts in *overflows)
  // when the sum leaves [acc_lo_, acc_hi_].
  int64_t acc_add(int64_t acc, int64_t x, uint64_t* overflows) const {
    return wrapping_add(acc, x, acc_bits_, acc_lo_, acc_hi_, overflows);
  }
  void tile_weight(uint64_t tr, uint64_t c, DecodedWeight* d, int64_t* w);
  void shift_activations();

  int R_, C_;
  int acc_bits_;
  int64_t acc_lo_, acc_hi_;
  PeType pe_;
  int act_bits_, wbits_;
  Sram *wbuf_, *ibuf_, *obuf_;

  // weff_ and dec_ are filled on demand after a vector fast load (from w32_
  // and wbits16_): sync_weights() before reading them.
  mutable std::vector<int64_t> weff_;  // effective weight per PE (AE: +-m_K << shift)
  std::vector<int32_t> weff32_;      // the same when every one fits 32 bits (the fast path)
  bool narrow_ = false;              // weff32_ is valid for this fold
  mutable std::vector<DecodedWeight> dec_;  // decoded weight per PE
  // Activation registers: row r's C registers are the window
  // act_ring_[r * ring_len_ + base_ .. + C): a shift right is base_ - 1.
  std::vector<int32_t> act_ring_;
  size_t ring_len_ = 0, base_ = 0;
  uint64_t acc_words_ = 1;           // output buffer words per partial sum
  std::vector<int64_t> psum_;        // partial-sum register per PE
  std::vector<int64_t> prod_;        // product register per PE (AE output)
  std::vector<int64_t> zero_row_;
  std::vector<int64_t> feed_;        // this edge's activations entering each row
  std::vector<uint64_t> weight_bits_scratch_, top_row_old_;

  sc_core::sc_time period_;
  FoldJob job_;
  Sqrt2Approx approx_;
  TraceHooks* tracer_ = nullptr;
  Phase phase_ = Phase::Idle;
  uint64_t edge_ = 0;                // edge index within the phase
  bool checked_ = true;              // partial sums may leave the accumulator range
  bool activity_ = true;
  bool fast_ = false;
  uint64_t act_mask_ = 0, acc_mask_ = 0;
  // 32-bit lanes (fast mode): an acc_bits register toggles popcount(d & m32_)
  // + ext_ x sign(d) bits for the sign-extended 32-bit difference d.
  uint32_t m32_ = 0;
  uint64_t ext_ = 0;
  // Products and partial sums bounded by `bound` fit the 32-bit lanes (and the accumulator).
  bool fits_lanes32(unsigned __int128 bound) const {
    return bound <= static_cast<unsigned __int128>(std::min<int64_t>(INT32_MAX, acc_hi_));
  }
  int weight_reg_bits_ = 7;
  sc_core::sc_event start_, done_;
  PeArrayCounters counters_;

  // Output- and input-stationary folds (pe_array_dataflows.cpp).
  Dataflow flow_ = Dataflow::WeightStationary;
  std::vector<int64_t> act_reg_;      // is/os: activation register per PE
  std::vector<int64_t> df_w_;         // fast mode: the fold's effective weights
  std::vector<DecodedWeight> df_dec_;
  uint64_t df_load_ = 0;                // load_id whose weights df_w_/df_dec_/df_paths_ hold
  uint64_t df_paths_[3] = {0, 0, 0};    // that load's weights by AE path: zero, sqrt2, pow2
  bool df_clear_ = false;               // a fast fold left every register empty but PE (R-1, C-1)'s product and sum
  struct DfLoadCache {                  // fast_fold_df: per weight load (load_id)
    uint64_t load = 0;
    __int128 wsum = 0;                  // largest sum of |w| along the reduction
    uint64_t weight_words = 0;          // weight buffer words the skewed feed reads
    uint64_t toggles = 0;               // the weight lanes' register toggles
    bool have_toggles = false;
  } df_cache_;
  bool clock_edge_df();
  uint64_t fast_fold_df();
  void begin_df();
  uint64_t act_of(uint64_t pixel, uint64_t k) const;
  uint64_t empty_weight_bits() const;
  uint64_t df_stream_len() const;
  uint64_t df_load_edge_bits() const;
  uint64_t df_stream_edge_bits() const;
  uint64_t df_drain_edge_bits() const;

  // ---- Simulation speed: fast mode's own state (pe_array_fast.cpp) ----
  // The sqrt2 approximation of K = approx_terms_ (computed once per K).
  bool approx_valid_ = false;
  int approx_terms_ = 0;
  // A column decoder as a table, per segment configuration and K: code ->
  // decoded fields, effective weight, its magnitude, register bits, AE path.
  // AE paths are counted in three 21-bit fields of one word (up to 2^21 PEs).
  enum AePath { kPathZero, kPathPow2, kPathSqrt2 };
  static constexpr int kPathShift = 21;
  static constexpr uint64_t kPathMask = (uint64_t{1} << kPathShift) - 1;
  struct CodeEntry {
    int64_t w = 0;
    uint64_t mag = 0;       // |w| (|w| of a 64-bit w fits in 64 bits unsigned)
    uint64_t path_one = 1;  // 1 in the field of its AePath
    DecodedWeight d;
    uint16_t bits = 1;  // weight_bits_of(): the zero flag alone for no weight
  };
  struct CodeTable {
    SegmentConfig cfg;
    int terms = 0;
    std::vector<CodeEntry> e;
    // The vector load's lookup (fast_load_vec): the weights and register
    // bits of codes 0..31 (zero past 2^bits), when there are at most 32
    // codes and every |w| fits int32 (vec).
    bool vec = false;
    // Sign symmetric (every vector table of BRSLOG.md's codes): code c with
    // its sign bit (bits - 1) set decodes as c without it, negated, with the
    // sign register bit set; the lookup then needs only the lower half.
    bool sym = false;
    uint32_t max_mag = 0;
    alignas(32) int32_t w32[32] = {}, bits32[32] = {};
    // Sym, and the lower half's weights below 2^24 and register bits below
    // 2^8: each of its 16 entries packed as w | bits << 24 (wb32), one
    // lookup for both.
    bool packed = false;
    alignas(32) int32_t wb32[16] = {};
    // Packed: the lower half's register bits as bytes, in both 16-byte
    // lanes (a vpshufb lookup; fast_fold1).
    alignas(32) int8_t bits8[32] = {};
  };
  std::deque<CodeTable> code_tables_;  // a deque: tables stay where they are
  std::vector<const CodeEntry*> col_table_;  // this fold's table per column
  // What col_table_ was built for (the columns' configurations under K
  // col_key_terms_), and the table every column shares (or null).
  std::vector<SegmentConfig> col_key_;
  int col_key_terms_ = -1;
  const CodeTable* col_key_shared_ = nullptr;
  const CodeTable& code_table(const SegmentConfig& cfg);
  const CodeTable* col_vec_table_ = nullptr;  // the fold's table when every column shares one
  bool fast_load_vec(const CodeTable& t, uint64_t path[3]);
  mutable bool weights_stale_ = false;  // weff_ and dec_ lag the last vector load (held in w32_, wbits16_)
  void sync_weights() const;
  // BRSLog fast load: decodes through the tables, counts the weight toggles
  // from per-row bit differences, prepares the 32-bit lanes. wbits16_ holds
  // every PE's weight register bits (rows of c4_ lanes, zero padded), valid
  // while wbits_valid_ (a per-edge load invalidates it).
  uint64_t fast_load_brslog();
  const CodeTable* fold_tables();                // col_table_ for job_'s columns; the table all share, or null
  uint64_t old_weight_toggles();                 // the old tile's share of the load's weight toggles
  void commit_weight_load(uint64_t toggles);     // wbits16_new_ becomes the registers' (toggles, counters)
  void begin_fast_stream(const uint64_t path_count[3]);
  // A one-pixel fold (fully connected layers at batch 1) decoded and
  // streamed in one pass: a full tile of codes through one packed
  // sign-symmetric table. False (nothing done) when it does not apply.
  bool fast_fold1(uint64_t* edges);
  void finish_stream1(const int32_t* a, uint64_t toggles_p, uint64_t toggles_s, uint64_t act_pop, uint64_t* edges);
  size_t c4_ = 0, c8_ = 0;  // C rounded up to 4 and to 8
  std::vector<uint16_t> wbits16_, wbits16_new_;
  bool wbits_valid_ = false;
  // sum_j d_j and sum_j j d_j of wbits16_'s row differences (row_diff_sums), while wdiff_valid_.
  uint64_t wdiff_sum_ = 0, wdiff_weighted_ = 0;
  bool wdiff_valid_ = false;
  // 32-bit lanes (fast_stream32): when every product and partial sum of the
  // fold provably fits int32 (|a| <= the fold's largest activation, column
  // sums of |w| known), PE rows of c8_ lanes; padding lanes hold zero weights.
  bool fast_stream32(uint64_t* edges);
  bool fast_stream1(uint64_t* edges);  // one pixel
  bool fast_is32(uint64_t len, unsigned __int128 wsum, uint64_t* tp, uint64_t* ts);  // input stationary's stream
  std::vector<int32_t> is_act32_, is_w32_;
  uint64_t is_w32_load_ = 0;  // df_load_ that is_w32_ holds
  bool fast_os32(uint64_t len, uint64_t amax, uint64_t* tp, uint64_t* ts);  // output stationary's stream
  uint64_t os_act_pass(uint64_t len, uint64_t* amax);  // an os fold's activation toggles and max |a|
  bool os_row64(size_t r, uint64_t len, uint64_t* tp, uint64_t* ts);  // one os row in 64-bit lanes
  std::vector<int32_t> os_w32_;  // the os load's weights, rows of c8_ lanes
  uint64_t os_load_ = 0;         // df_load_ that os_w32_ holds
  uint64_t os_wmax_ = 0;         // max |w| of os_w32_
  uint64_t os_overflow_load_ = 0;  // the last load (df_load_) whose 32-bit os stream overflowed
  // Product-register toggles per activation row and code (product_toggles):
  // the products a_p * w(code) of row k over a band's pixels toggle
  // t[k * 32 + code] bits. With the same activations for many m-tiles
  // (FoldJob::act_reuse), a fold's product toggles are a sum of table
  // entries instead of a popcount per PE and pixel.
  struct ProductToggles {
    const CodeTable* table = nullptr;
    uint64_t p0 = 0, p = 0;
    std::vector<uint32_t> t;
    std::vector<uint8_t> have;       // per row k
    std::vector<uint64_t> act;       // per row k: its activation register's toggles (the act pass's)
    std::vector<uint32_t> act_max;   // per row k: max |a|
  };
  const ProductToggles* cached_rows() const;  // the fold's rows, when every one is in ptog_
  bool has_rows(const ProductToggles& pt) const;  // pt holds every row of the fold
  std::unordered_map<uint64_t, ProductToggles> ptog_;  // by act_id (a band's for every m-tile)
  uint64_t ptog_bytes_ = 0;
  std::vector<int32_t> ptog_col_;  // scratch: a fold's activation rows, row after row
  bool product_toggles(const int32_t* acts, uint64_t* toggles);  // acts: fold_acts()
  void product_table_rows(ProductToggles* pt, const int32_t* acts, uint64_t rows, uint64_t P);
  std::vector<int32_t> bottom32_;
  // The fold's activations pixel after pixel, R values each (fold_acts): a
  // band's k-tiles copied out of the pixel-major im2col view (K values
  // apart) once per act_id, kept for the m-tiles that reuse them.
  struct ActTiles {
    uint64_t p0 = 0, p = 0, K = 0;
    std::vector<int32_t> v;     // k-tile t, pixel q, row r: v[(t * p + q) * R + r], zero past the rows
    std::vector<uint8_t> have;  // per k-tile
  };
  std::unordered_map<uint64_t, ActTiles> act_tiles_;  // by act_id
  uint64_t act_tiles_bytes_ = 0;
  std::vector<int32_t> act_scratch_;  // a fold's, when not kept
  const int32_t* fold_acts();
  // Whether fast mode streams this weight-stationary fold on both threads.
  bool splits(const FoldJob& job) const {
    return threads_ > 1 && job.p >= 2 && job.p * static_cast<uint64_t>(R_) * static_cast<uint64_t>(C_) >= split_work_;
  }
  void forget_band(uint64_t act_id);  // frees the band's act_tiles_ and ptog_ entries
  static constexpr uint64_t ptog_row_bytes() {  // ProductToggles per row k
    return 32 * sizeof(uint32_t) + 1 + sizeof(uint64_t) + sizeof(uint32_t);
  }
  uint64_t fast_act_toggles() const;  // the activation registers' toggles over a fast fold
  std::vector<uint64_t> col_sum_;
  std::vector<uint32_t> col_sum32_;  // fast_load_vec's column sums
  bool w32_ready_ = false;      // w32_ and col_mag_max_ describe the loaded tile
  unsigned __int128 col_mag_max_ = 0;  // max over columns of sum_r |w|
  std::vector<int32_t> w32_, ps32_, pr32_;
  // Two-thread stream (set_threads): the worker's registers for the first
  // half of the pixels (it touches nothing else of the array's but the
  // fold's activations, weights and its pixels' output rows).
  struct StreamWorker;
  struct StreamWorkerDeleter {
    void operator()(StreamWorker* w) const;
  };
  std::unique_ptr<StreamWorker, StreamWorkerDeleter> worker_;
  std::vector<int32_t> ps32w_, pr32w_;
  int threads_ = 2;
  uint64_t split_work_ = kDefaultSplitWork;
  uint64_t split_folds_ = 0, worker_chunks_ = 0;
  bool leave_first_chunk_ = false;
  bool vector_load_ = true;
  uint64_t table_reuse_ = kDefaultTableReuse, vector_loads_ = 0, table_folds_ = 0;
  uint64_t one_pass_folds_ = 0, one_pass_fallbacks_ = 0;

 public:
  static constexpr uint64_t kDefaultSplitWork = 16384;  // measured: brsim_bench (README "Simulation speed")
};

}  // namespace brsim
