// Fast mode's engine (ARCHITECTURE.md "Two speeds, one answer"): a whole
// fold at a time, with the outputs, the counts and the final registers that
// the fold reference's edges give (tests hold the two equal). It computes
// each register's sequence of values from the fold's timing instead of
// stepping edges: decoder tables per segment configuration, word-wide
// popcounts, 8 PEs per AVX2 vector (16 per AVX-512 one), and a second host
// thread that streams folds' last pixels and half of one-pixel runs. Pure
// C++: the SystemC PeArray calls it in fast mode; what it counts by rule
// (cycles, register writes, useful work) comes from fold.h.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <unordered_map>
#include <vector>

#include "arch.h"
#include "array_state.h"
#include "brslog.h"
#include "datapath.h"
#include "fold.h"
#include "sqrt2.h"
#include "sram.h"
#include "tuning.h"

namespace brsim {

class Worker;
struct Stream32;  // (kernels.h)
struct Counts32;

// How often fast mode took each of its paths (for tests and profiling).
struct FastStats {
  uint64_t split_folds = 0;     // folds streamed on two threads
  uint64_t deferred_folds = 0;  // of those, folds whose last pixels streamed on the worker while the engine went on
  uint64_t worker_chunks = 0;   // chunks the worker thread ran
  uint64_t vector_loads = 0;    // loads decoded in vectors
  uint64_t per_pe_loads = 0;    // BRSLog loads decoded PE by PE (the columns' tables differ, or too many codes)
  uint64_t table_folds = 0;     // folds whose product toggles came from the tables
  uint64_t one_pass_folds = 0;  // one-pixel folds decoded and streamed in one pass
  uint64_t one_pass_fallbacks = 0;  // of those, handed back (a product or sum could pass 32 bits)
  uint64_t run_folds = 0;  // one-pixel folds handed over in runs (run_one_pixel: fully connected layers at batch 1)
  uint64_t split_runs = 0;   // runs of one-pixel folds split across two threads (fold1_split)
};

class FastEngine : public WeightSource {
 public:
  FastEngine(const ArchConfig& arch, ArrayState* state, FoldCounters* counters, Sram* weight_buf, Sram* input_buf,
             Sram* output_buf, const FastTuning& tuning = {});
  ~FastEngine() override;

  // A whole fold; returns its edges (fold_timing).
  uint64_t run(const FoldJob& job);
  // n weight-stationary folds in order; returns their edges in all.
  uint64_t run(const FoldJob* jobs, size_t n);
  // A run of n weight-stationary folds of one pixel and `first`'s shape,
  // one weight load after the other (a fully connected layer's m-tile at
  // batch 1): fold i is `first` with codes first.codes + i x rows x cols,
  // k0 first.k0 + i x R and load_id first.load_id + i. The same outputs and
  // counts as run() of each; the per-fold work shared by the run (the
  // columns' tables, the edges' and the useful work's counts) is done once.
  // Returns their edges in all.
  uint64_t run_one_pixel(const FoldJob& first, uint64_t n);

  void set_activity(bool on) { activity_ = on; }
  const FastTuning& tuning() const { return tune_; }
  void set_tuning(const FastTuning& t) { tune_ = t; }
  void set_threads(int n) { tune_.threads = n < 1 ? 1 : n > 2 ? 2 : n; }  // brsim's --threads
  const FastStats& stats() const { return stats_; }

  void materialize(const ArrayState& s) const override;  // WeightSource: the tile of the last vector load

 private:
  // Weight stationary (fast_engine.cpp).
  void ws_fold();
  void fast_load();
  void fast_stream();
  void fixed16_load();
  void begin_fixed16_stream();
  uint64_t fast_act_toggles() const;
  void tile_weight_fixed16(uint64_t tr, uint64_t c, DecodedWeight* d, int64_t* w) const;
  // Input and output stationary (fast_dataflows.cpp).
  void df_begin();
  void df_fold();
  bool fast_is32(uint64_t len, unsigned __int128 wsum, uint64_t* tp, uint64_t* ts);
  bool fast_os32(uint64_t len, uint64_t amax, uint64_t* tp, uint64_t* ts);
  uint64_t os_act_pass(uint64_t len, uint64_t* amax);
  bool os_row64(size_t r, uint64_t len, uint64_t* tp, uint64_t* ts);

  int64_t acc_add(int64_t acc, int64_t x, uint64_t* overflows) const {
    return wrapping_add(acc, x, acc_bits_, acc_lo_, acc_hi_, overflows);
  }
  // Products and partial sums bounded by `bound` fit the 32-bit lanes (and the accumulator).
  bool fits_lanes32(unsigned __int128 bound) const {
    return bound <= static_cast<unsigned __int128>(std::min<int64_t>(INT32_MAX, acc_hi_));
  }
  // Whether this weight-stationary fold streams on both threads.
  bool splits(const FoldJob& job) const {
    return tune_.threads > 1 && job.p >= 2 && job.p * shape_.R * shape_.C >= tune_.split_work;
  }
  Worker& worker();
  // Whether this fold's last pixels stream on the worker while the engine goes on.
  bool defers(const FoldJob& job) const {
    return tune_.threads > 1 && job.p >= 4 && job.p * shape_.R * shape_.C >= tune_.defer_work;
  }
  // The deferred streams (fast_stream32): the worker's registers, the tasks
  // in flight and their counts; sync() waits for them and adds the counts.
  struct Deferred;
  std::unique_ptr<Deferred> deferred_;
  bool deferring() const;  // tasks may be in flight
  void sync();
  uint64_t run_fold_job(const FoldJob& job);  // run(job) without sync()

  ArrayShape shape_;
  ArrayState& s_;
  FoldCounters& c_;
  Sram *wbuf_, *ibuf_, *obuf_;
  FastTuning tune_;
  FastStats stats_;
  int R_, C_;
  int acc_bits_, act_bits_;
  int64_t acc_lo_, acc_hi_;
  uint64_t act_mask_ = 0, acc_mask_ = 0;
  uint64_t acc_words_ = 1;
  // 32-bit lanes: an acc_bits register toggles popcount(d & m32_) + ext_ x
  // sign(d) bits for the sign-extended 32-bit difference d.
  uint32_t m32_ = 0;
  uint64_t ext_ = 0;
  bool activity_ = true;
  FoldJob job_;
  // The sqrt2 approximation of K = approx_terms_ (computed once per K).
  Sqrt2Approx approx_;
  int approx_terms_ = 0;

  // ---- The decoders as tables ----
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
    uint16_t bits = 1;  // the weight register's bits: the zero flag alone for no weight
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
  const CodeTable* fold_tables();  // col_table_ for job_'s columns; the table all share, or null
  const CodeTable* col_vec_table_ = nullptr;  // the fold's table when every column shares one

  // ---- Weight stationary: the load ----
  // BRSLog fast load: decodes through the tables, counts the weight toggles
  // from per-row bit differences, prepares the 32-bit lanes. wbits16_ holds
  // every PE's weight register bits (rows of c4_ lanes, zero padded), valid
  // while wbits_valid_ and no edge-by-edge load ran since (edits_seen_).
  void fast_load_brslog();
  bool fast_load_vec(const CodeTable& t, uint64_t path[3]);
  uint64_t old_weight_toggles();              // the old tile's share of the load's weight toggles
  void commit_weight_load(uint64_t toggles);  // wbits16_new_ becomes the registers' (toggles, buffer reads)
  void begin_fast_stream(const uint64_t path_count[3]);
  size_t c4_ = 0, c8_ = 0;  // C rounded up to 4 and to 8
  std::vector<uint16_t> wbits16_, wbits16_new_;
  bool wbits_valid_ = false;
  uint64_t edits_seen_ = 0;
  // sum_j d_j and sum_j j d_j of wbits16_'s row differences (row_diff_sums), while wdiff_valid_.
  uint64_t wdiff_sum_ = 0, wdiff_weighted_ = 0;
  bool wdiff_valid_ = false;
  std::vector<uint64_t> col_sum_;
  std::vector<uint32_t> col_sum32_;  // fast_load_vec's column sums
  bool w32_ready_ = false;      // w32_ and col_mag_max_ describe the loaded tile
  unsigned __int128 col_mag_max_ = 0;  // max over columns of sum_r |w|
  std::vector<int32_t> w32_, ps32_, pr32_;
  // The 64-bit stream's MAC path (checked: a partial sum may wrap).
  bool checked_ = true, narrow_ = false;
  std::vector<int32_t> weff32_;
  std::vector<uint64_t> old_bits_;

  // ---- Weight stationary: the stream ----
  // 32-bit lanes (fast_stream32): when every product and partial sum of the
  // fold provably fits int32 (|a| <= the fold's largest activation, column
  // sums of |w| known), PE rows of c8_ lanes; padding lanes hold zero weights.
  bool fast_stream32();
  // ... for a fold whose last pixels stream on the worker (Deferred).
  bool defer_stream(const Stream32& s, void (*stream)(const Stream32&, uint64_t, uint64_t, Counts32*, bool),
                    const int32_t* acts, uint64_t act_toggles, bool by_table, uint64_t table_tp);
  bool fast_stream1();  // one pixel
  void count_stream_traffic(uint64_t P, uint64_t rows);  // a ws stream's buffer reads and writes
  void forget_band_if_done();                            // after a band's last fold
  // A one-pixel fold (fully connected layers at batch 1) decoded and
  // streamed in one pass: a full tile of codes through one packed
  // sign-symmetric table. False (nothing done) when it does not apply.
  bool fast_fold1();
  bool fold1_applies() const;            // fast_fold1's conditions on the fold's shape
  bool fold1(const CodeTable& t);        // ... its work, t: the columns' table (packed)
  // run_one_pixel's folds [0, n) on two threads (fold1_split): the first
  // half through fold1() as usual, the second on a lane of its own (pure
  // work on its own scratch), merged in fold order. Returns how many folds
  // are done: n, or fewer where the lane met a fold that needs the two-step
  // path (the caller goes on from there).
  uint64_t fold1_split(const FoldJob& first, uint64_t n, const CodeTable& t);
  // (Cache lines of its own: the worker reads it every fold while the
  // engine's thread writes the members around it.)
  struct alignas(64) Fold1Lane {
    std::vector<uint16_t> bits[2];  // register bits: the previous fold's tile, the current one's
    std::vector<int32_t> w32[2];    // weights: the last fold done, the current one
    int cur = 0;                    // w32[cur]: the last fold done's
    std::vector<int32_t> bottom;    // fold h + k's bottom row at k x C
    uint64_t wdiff_sum = 0, wdiff_weighted = 0;  // row_diff_sums of bits[0]
    uint64_t done = 0;              // folds done (from h)
    uint32_t colmax = 0;            // the last fold's largest column sum of |w|
    int32_t last_p = 0, last_s = 0; // the last fold's PE (R-1, C-1) product and sum
    FoldCounters c;                 // toggles, decodes (added to the engine's in the merge)
    AePaths paths;
  };
  Fold1Lane lane_;
  char lane_pad_[64] = {};
  void run_lane(const FoldJob& first, uint64_t h, uint64_t n, const CodeTable& t);  // lane_: folds [h, n)
  AePaths* run_paths_ = nullptr;         // run_one_pixel: the folds' AE paths, summed (counted at its end)
  void finish_stream1(const int32_t* a, uint64_t toggles_p, uint64_t toggles_s, uint64_t act_pop);
  void add_bottom(int64_t* o, const int32_t* bottom, uint64_t cols);  // a one-pixel fold's sums into its outputs
  void one_pass_tile(const CodeTable* t, uint32_t colmax);           // fold1's tile is the registers'
  // job_ as fold i of a run_one_pixel run from `first` (its codes, k-tile, load).
  void run_fold(const FoldJob& first, uint64_t i) {
    const uint64_t R = static_cast<uint64_t>(R_);
    job_.codes = first.codes + i * first.rows * first.cols, job_.k0 = first.k0 + i * R, job_.load_id = first.load_id + i;
  }
  // A register's toggles from or to zero: its bits under `mask`; in 32-bit
  // lanes, the low 32 bits under m32 plus ext per set sign bit.
  static uint64_t reg_bits(int64_t v, uint64_t mask) {
    return static_cast<uint64_t>(__builtin_popcountll(static_cast<uint64_t>(v) & mask));
  }
  static uint64_t reg32_bits(int32_t v, uint32_t m32, uint64_t ext) {
    return static_cast<uint64_t>(__builtin_popcount(static_cast<uint32_t>(v) & m32)) + ext * (v < 0);
  }
  std::vector<int32_t> bottom32_;
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
  static constexpr uint64_t ptog_row_bytes() {  // ProductToggles per row k
    return 32 * sizeof(uint32_t) + 1 + sizeof(uint64_t) + sizeof(uint32_t);
  }
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
  void forget_band(uint64_t act_id);  // frees the band's act_tiles_ and ptog_ entries
  // The second thread (started on first use); its registers for its share
  // of the pixels, a cache line clear of any other block.
  std::unique_ptr<Worker> worker_;
  std::vector<int32_t> ps32w_, pr32w_;

  // ---- Input and output stationary ----
  std::vector<int64_t> df_w_;  // the fold's effective weights, decoded once per weight load
  std::vector<DecodedWeight> df_dec_;
  uint64_t df_load_ = 0;         // load_id whose weights df_w_/df_dec_/df_paths_ hold
  uint64_t df_paths_[3] = {0, 0, 0};  // that load's weights by AE path: zero, sqrt2, pow2
  struct DfLoadCache {           // per weight load (load_id)
    uint64_t load = 0;
    __int128 wsum = 0;           // largest sum of |w| along the reduction
    uint64_t weight_words = 0;   // weight buffer words the skewed feed reads
    uint64_t toggles = 0;        // the weight lanes' register toggles
    bool have_toggles = false;
  } df_cache_;
  std::vector<uint64_t> df_scratch_;
  std::vector<int32_t> is_act32_, is_w32_;
  uint64_t is_w32_load_ = 0;  // df_load_ that is_w32_ holds
  std::vector<int32_t> os_w32_;  // the os load's weights, rows of c8_ lanes
  uint64_t os_load_ = 0;         // df_load_ that os_w32_ holds
  uint64_t os_wmax_ = 0;         // max |w| of os_w32_
  uint64_t os_overflow_load_ = 0;  // the last load (df_load_) whose 32-bit os stream overflowed
};

}  // namespace brsim
