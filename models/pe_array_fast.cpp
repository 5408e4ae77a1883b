// Fast mode's BRSLog weight load and 32-bit stream (pe_array.h, "fast mode's
// own state"): the same register values, counts and outputs as the
// cycle-by-cycle array (tests FastMode.*), computed per fold with table
// lookups, word-wide popcounts and 8 PEs per AVX2 vector.
#include <immintrin.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>

#include "avx2_popcount.h"
#include "datapath.h"
#include "pe_array.h"

namespace brsim {

namespace {

const bool kAvx2 = __builtin_cpu_supports("avx2");

// sum over j in [1, R) of weight(j) * popcount(row j ^ row j-1) for rows of
// c4 16-bit lanes (four PEs per 64-bit word; padding lanes are zero in both).
// old: weight R - j, else j (see fast_load: how often each difference is seen).
uint64_t weighted_row_diffs(const uint16_t* w, size_t R, size_t c4, bool old) {
  uint64_t t = 0;
  for (size_t j = 1; j < R; ++j) {
    uint64_t d = 0;
    for (size_t k = 0; k < c4; k += 4) {
      uint64_t a, b;
      std::memcpy(&a, &w[j * c4 + k], 8);
      std::memcpy(&b, &w[(j - 1) * c4 + k], 8);
      d += static_cast<uint64_t>(__builtin_popcountll(a ^ b));
    }
    t += d * (old ? R - j : j);
  }
  return t;
}

// popcount(row a ^ row b) over c4 16-bit lanes.
uint64_t row_diff(const uint16_t* a, const uint16_t* b, size_t c4) {
  uint64_t d = 0;
  for (size_t k = 0; k < c4; k += 4) {
    uint64_t x, y;
    std::memcpy(&x, &a[k], 8);
    std::memcpy(&y, &b[k], 8);
    d += static_cast<uint64_t>(__builtin_popcountll(x ^ y));
  }
  return d;
}

// One fold's pixels through the array in 32-bit lanes.
struct Stream32 {
  int32_t *ps, *pr;             // R rows of c8 lanes: the registers after the previous pixel
  const int32_t* w;             // R rows of c8 lanes (zero padded)
  const int32_t* act;           // pixel p, row r: act[p * act_stride + r]
  uint64_t act_stride, rows, R, c8;
  int64_t* out;                 // pixel p, column c: out[p * cols + c]
  uint64_t cols;
  int64_t acc_lo, acc_hi;
  int acc_bits;
  uint32_t m32;                 // the low min(acc_bits, 32) bits
};

struct Counts32 {
  uint64_t pop_p = 0, pop_s = 0;    // popcount((x ^ y) & m32), products and partial sums
  uint64_t sign_p = 0, sign_s = 0;  // sign bits of x ^ y (each stands for acc_bits - 32 toggles)
  uint64_t out_overflows = 0;
};

__attribute__((target("avx2"))) inline uint64_t sum_u64_lanes(__m256i v) {
  alignas(32) uint64_t l[4];
  _mm256_store_si256(reinterpret_cast<__m256i*>(l), v);
  return l[0] + l[1] + l[2] + l[3];
}

// Pixels [p0, p1): row r of pixel p takes product a[p][r] * w and partial sum
// (row r - 1's sum of pixel p) + product, rows top to bottom, and the toggles
// against the registers' previous (pixel p - 1) values are counted. The
// sum of the bottom row goes to the output buffer (a wrapping accumulation).
// A partial sum only flows down its column, so each block of 8 columns runs
// through the rows with the sum from above kept in a register.
// With sign-extended 32-bit values, the acc_bits-bit register toggles
// popcount((x ^ y) & m32) + (acc_bits - 32) * sign(x ^ y) bits.
// Registers x[0..n) clearing to zero: sum of popcount(x & m32) and the
// count of negative values (each stands for acc_bits - 32 more toggles).
__attribute__((target("avx2"))) void clear_toggles_avx2(const int32_t* x, size_t n, uint32_t m32, uint64_t* pop,
                                                        uint64_t* neg) {
  const __m256i zero = _mm256_setzero_si256();
  const __m256i m = _mm256_set1_epi32(static_cast<int>(m32));
  __m256i acc = zero;
  uint64_t sign = 0;
  for (size_t i = 0; i < n; i += 8) {  // n is a multiple of 8
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + i));
    sign += static_cast<uint64_t>(__builtin_popcount(_mm256_movemask_ps(_mm256_castsi256_ps(v))));
    acc = _mm256_add_epi64(acc, _mm256_sad_epu8(popcount_bytes(_mm256_and_si256(v, m)), zero));
  }
  *pop += sum_u64_lanes(acc);
  *neg += sign;
}

// kMasked: acc_bits < 32 (only then does m32 clear bits).
// out: false leaves the output buffer alone (a pixel that only sets the
// registers up for the pixels after it).
template <bool kActivity, bool kMasked>
__attribute__((target("avx2"))) void stream32_avx2(const Stream32& s, uint64_t p0, uint64_t p1, Counts32* n,
                                                   bool out) {
  // Locals: the stores below could alias the fields of s.
  int32_t* const ps = s.ps;
  int32_t* const pr = s.pr;
  const int32_t* const w = s.w;
  const size_t R = s.R, rows = s.rows, c8 = s.c8, n8 = c8 / 8;
  const __m256i zero = _mm256_setzero_si256();
  const __m256i m = _mm256_set1_epi32(static_cast<int>(s.m32));
  __m256i accp = zero, accs = zero;  // 64-bit lanes: popcounts
  uint64_t sign_p = 0, sign_s = 0, out_overflows = 0;
  for (uint64_t p = p0; p < p1; ++p) {
    const int32_t* a = &s.act[p * s.act_stride];
    for (size_t v = 0; v < n8; ++v) {
      __m256i above = zero;
      for (size_t r0 = 0; r0 < R; r0 += 16) {
        __m256i cp = zero, cs = zero;  // byte lanes: at most 8 per row, 16 rows
        const size_t r1 = std::min(R, r0 + 16);
        for (size_t r = r0; r < r1; ++r) {
          const size_t i = r * c8 + 8 * v;
          const __m256i av = _mm256_set1_epi32(r < rows ? a[r] : 0);
          const __m256i prod = _mm256_mullo_epi32(av, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + i)));
          const __m256i next = _mm256_add_epi32(above, prod);
          if (kActivity) {
            __m256i dp = _mm256_xor_si256(prod, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(pr + i)));
            __m256i ds = _mm256_xor_si256(next, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ps + i)));
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(pr + i), prod);
            sign_p += static_cast<uint64_t>(__builtin_popcount(_mm256_movemask_ps(_mm256_castsi256_ps(dp))));
            sign_s += static_cast<uint64_t>(__builtin_popcount(_mm256_movemask_ps(_mm256_castsi256_ps(ds))));
            if (kMasked) dp = _mm256_and_si256(dp, m), ds = _mm256_and_si256(ds, m);
            cp = _mm256_add_epi8(cp, popcount_bytes(dp));
            cs = _mm256_add_epi8(cs, popcount_bytes(ds));
          }
          _mm256_storeu_si256(reinterpret_cast<__m256i*>(ps + i), next);
          above = next;
        }
        if (kActivity) {
          accp = _mm256_add_epi64(accp, _mm256_sad_epu8(cp, zero));
          accs = _mm256_add_epi64(accs, _mm256_sad_epu8(cs, zero));
        }
      }
    }
    // The bottom row's sums for pixel p go to the output buffer. Both terms
    // lie within the accumulator range, so only 64-bit accumulators can
    // leave int64.
    if (!out) continue;
    const int32_t* bottom = &ps[(R - 1) * c8];
    int64_t* o = &s.out[p * s.cols];
    for (uint64_t c = 0; c < s.cols; ++c) o[c] = wrapping_add(o[c], bottom[c], s.acc_bits, s.acc_lo, s.acc_hi, &out_overflows);
  }
  n->pop_p += sum_u64_lanes(accp);
  n->pop_s += sum_u64_lanes(accs);
  // Sign bits count only above 32 bits (kMasked: acc_bits <= 32, none).
  if (!kMasked) n->sign_p += sign_p, n->sign_s += sign_s;
  n->out_overflows += out_overflows;
}

// One pass over a fold's activations (rows of `rows` values, P of them),
// pixels [p0, p1): the largest |a| and the toggles of one activation
// register the stream (0, A[0], .., A[P-1], 0) passes through, summed over
// the rows: the changes into pixels p0 .. p1 - 1 and, when p1 = P, the
// last one back to zero (so the passes of consecutive ranges add up).
__attribute__((target("avx2"))) uint64_t act_pass_avx2(const int32_t* act, uint64_t stride, uint64_t p0, uint64_t p1,
                                                       uint64_t P, uint64_t rows, uint32_t mask, uint64_t* amax) {
  const __m256i zero = _mm256_setzero_si256();
  const __m256i m = _mm256_set1_epi32(static_cast<int>(mask));
  __m256i acc = zero, mx = zero;
  const uint64_t last = p1 == P ? P : p1 - 1;  // the last step: pixel p1 - 1, or the zero after pixel P - 1
  for (uint64_t r0 = 0; r0 < rows; r0 += 8) {
    // Lanes past the last row load nothing (zero): no toggles, no magnitude.
    alignas(32) int32_t lane_on[8];
    for (uint64_t k = 0; k < 8; ++k) lane_on[k] = r0 + k < rows ? -1 : 0;
    const __m256i on = _mm256_load_si256(reinterpret_cast<const __m256i*>(lane_on));
    __m256i prev = p0 > 0 ? _mm256_maskload_epi32(&act[(p0 - 1) * stride + r0], on) : zero;
    __m256i cnt = zero;  // byte lanes, flushed every 31 pixels
    for (uint64_t p = p0; p <= last; ++p) {
      const __m256i x = p < P ? _mm256_maskload_epi32(&act[p * stride + r0], on) : zero;
      cnt = _mm256_add_epi8(cnt, popcount_bytes(_mm256_and_si256(_mm256_xor_si256(x, prev), m)));
      mx = _mm256_max_epu32(mx, _mm256_abs_epi32(x));  // |INT32_MIN| = 2^31 as unsigned
      prev = x;
      if ((p - p0) % 31 == 30) {
        acc = _mm256_add_epi64(acc, _mm256_sad_epu8(cnt, zero));
        cnt = zero;
      }
    }
    acc = _mm256_add_epi64(acc, _mm256_sad_epu8(cnt, zero));
  }
  alignas(32) uint32_t l[8];
  _mm256_store_si256(reinterpret_cast<__m256i*>(l), mx);
  *amax = *std::max_element(l, l + 8);
  return sum_u64_lanes(acc);
}

// Spins (a while) until done() holds; false if it still does not.
template <typename Done>
bool spin_until(Done done) {
  constexpr auto kSpin = std::chrono::microseconds(20);
  const auto t0 = std::chrono::steady_clock::now();
  do {
    for (int i = 0; i < 64; ++i) {
      if (done()) return true;
      _mm_pause();
    }
  } while (std::chrono::steady_clock::now() - t0 < kSpin);
  return done();
}

using StreamFn = void (*)(const Stream32&, uint64_t, uint64_t, Counts32*, bool);

// Pixels [p0, p1) through registers that hold pixel *at (~0: none yet).
void stream_chunk(StreamFn fn, const Stream32& st, uint64_t p0, uint64_t p1, uint64_t* at, Counts32* n) {
  if (*at != p0 - 1 || p0 == 0) {
    if (p0 == 0) {  // the fold's registers start from zero
      std::fill(st.ps, st.ps + st.R * st.c8, 0);
      std::fill(st.pr, st.pr + st.R * st.c8, 0);
    } else {  // set up with pixel p0 - 1: uncounted, no output
      Counts32 setup;
      fn(st, p0 - 1, p0, &setup, false);
    }
  }
  fn(st, p0, p1, n, true);
  *at = p1 - 1;
}

}  // namespace

// The second thread of a fast-mode fold (PeArray::set_threads): runs a
// task's chunks with the calling thread. The worker claims chunks from the
// front, the caller from the back, one atomic word (generation, front,
// back) deciding who runs which. So the caller never waits for a worker
// that has not started (a busy machine): it runs the whole task itself, and
// waits only for the chunks the worker did claim. A fold's chunks write
// disjoint data and each thread its own counts, added up afterwards, so
// which thread runs which chunk changes nothing.
struct PeArray::StreamWorker {
  // A task: chunk(ctx, i, thread) runs chunk i on thread 0 (the caller) or 1.
  using ChunkFn = void (*)(void* ctx, uint64_t i, int thread);
  static constexpr int kSide = 20;  // bits of front and back; the generation above
  static constexpr uint64_t kSideMask = (uint64_t{1} << kSide) - 1;
  static uint64_t pack(uint64_t gen, uint64_t front, uint64_t back) {
    return gen << (2 * kSide) | front << kSide | back;
  }
  static uint64_t gen_of(uint64_t s) { return s >> (2 * kSide); }
  static uint64_t front_of(uint64_t s) { return (s >> kSide) & kSideMask; }
  static uint64_t back_of(uint64_t s) { return s & kSideMask; }

  std::mutex m;
  std::condition_variable work_cv, done_cv;
  std::atomic<uint64_t> posted{0};     // the current task's generation (0: none yet)
  std::atomic<uint64_t> state{0};      // pack(generation, front, back)
  std::atomic<uint64_t> completed{0};  // chunks the worker finished this generation
  bool quit = false;                   // under m
  // The task, set before its generation is posted; the worker reads it only
  // after claiming a chunk of that generation.
  ChunkFn fn = nullptr;
  void* ctx = nullptr;
  std::thread thread;

  StreamWorker() : thread([this] { loop(); }) {}
  ~StreamWorker() {
    {
      std::lock_guard<std::mutex> l(m);
      quit = true;
    }
    work_cv.notify_one();
    thread.join();
  }
  void loop() {
    uint64_t seen = 0;
    auto has_work = [&] { return posted.load(std::memory_order_acquire) != seen; };
    for (;;) {
      if (!spin_until(has_work)) {
        std::unique_lock<std::mutex> l(m);
        work_cv.wait(l, [&] { return quit || has_work(); });
        if (!has_work()) return;  // quit
      }
      seen = posted.load(std::memory_order_acquire);
      for (;;) {
        uint64_t st = state.load(std::memory_order_acquire);
        if (gen_of(st) != seen || front_of(st) >= back_of(st)) break;
        if (!state.compare_exchange_weak(st, st + (uint64_t{1} << kSide), std::memory_order_acq_rel)) continue;
        fn(ctx, front_of(st), 1);
        {
          std::lock_guard<std::mutex> l(m);
          completed.fetch_add(1, std::memory_order_release);
        }
        done_cv.notify_one();
      }
    }
  }
  // Runs chunks [0, chunks) of task (f, c) on both threads; returns when all
  // are done, with the number the worker ran. min_back 1: the caller leaves
  // chunk 0 to the worker (tests).
  uint64_t run(ChunkFn f, void* c, uint64_t chunks, uint64_t min_back) {
    fn = f, ctx = c;
    completed.store(0, std::memory_order_relaxed);
    uint64_t gen = (posted.load(std::memory_order_relaxed) + 1) & ((uint64_t{1} << (64 - 2 * kSide)) - 1);
    if (gen == 0) gen = 1;
    state.store(pack(gen, 0, chunks), std::memory_order_release);
    {
      std::lock_guard<std::mutex> l(m);
      posted.store(gen, std::memory_order_release);
    }
    work_cv.notify_one();
    for (;;) {
      uint64_t st = state.load(std::memory_order_acquire);
      if (front_of(st) >= back_of(st) || back_of(st) <= min_back) break;
      if (!state.compare_exchange_weak(st, st - 1, std::memory_order_acq_rel)) continue;
      f(c, back_of(st) - 1, 0);
    }
    // The chunks below `front` are the worker's: wait until it has claimed
    // and run the last of them.
    uint64_t front = 0;
    auto done = [&] {
      const uint64_t st = state.load(std::memory_order_acquire);
      front = front_of(st);
      return front >= back_of(st) && completed.load(std::memory_order_acquire) == front;
    };
    if (!spin_until(done)) {
      std::unique_lock<std::mutex> l(m);
      done_cv.wait(l, done);
    }
    return front;
  }
};

void PeArray::StreamWorkerDeleter::operator()(StreamWorker* w) const { delete w; }

PeArray::~PeArray() = default;

// The decoder table of `cfg` under this fold's K (built on first use).
const PeArray::CodeEntry* PeArray::code_table(const SegmentConfig& cfg) {
  for (const CodeTable& t : code_tables_)
    if (t.terms == approx_terms_ && t.cfg == cfg) return t.e.data();
  CodeTable t;
  t.cfg = cfg;
  t.terms = approx_terms_;
  t.e.resize(size_t{1} << cfg.bits);
  for (uint32_t code = 0; code < t.e.size(); ++code) {
    CodeEntry& e = t.e[code];
    e.d = decode(code, cfg);
    e.w = ae_effective_weight(e.d, approx_);
    e.mag = e.w < 0 ? 0 - static_cast<uint64_t>(e.w) : static_cast<uint64_t>(e.w);
    e.bits = static_cast<uint16_t>(register_bits(e.d));
    const int path = e.d.zero ? kPathZero : e.d.flag ? kPathSqrt2 : kPathPow2;
    e.path_one = uint64_t{1} << (kPathShift * path);
  }
  code_tables_.push_back(std::move(t));  // the entries stay where they are
  return code_tables_.back().e.data();
}

// fast_load() for BRSLog PEs. Column c's toggles over the R load edges
// (fast_load) sum to sum_j (R - j) |O_j ^ O_j-1| + sum_j j |N_j ^ N_j-1| +
// R |O_0 ^ N_R-1| over rows j of the old (O) and new (N) tile: whole rows at
// once, four PEs per popcount. Returns R.
uint64_t PeArray::fast_load_brslog() {
  const size_t R = static_cast<size_t>(R_), C = static_cast<size_t>(C_);
  const uint64_t rows = job_.rows, cols = job_.cols;
  col_table_.resize(C);
  for (uint64_t c = 0; c < cols; ++c)
    col_table_[c] = c > 0 && job_.col_cfg[c] == job_.col_cfg[c - 1] ? col_table_[c - 1] : code_table(job_.col_cfg[c]);
  if (!wbits_valid_) {  // the per-edge load ran last: take its registers
    for (size_t r = 0; r < R; ++r)
      for (size_t c = 0; c < C; ++c) wbits16_[r * c4_ + c] = static_cast<uint16_t>(weight_bits_of(r * C + c));
    wbits_valid_ = true;
  }
  uint64_t t = activity_ ? weighted_row_diffs(wbits16_.data(), R, c4_, true) : 0;

  // Decode the tile (outside it, zero weights) into the views of the weights
  // (weff32_ is filled where it is used). Raw pointers: the stores cannot
  // alias the members then, so nothing is reloaded per PE.
  static const CodeEntry kNone;
  DecodedWeight* const dec = dec_.data();
  int64_t* const weff = weff_.data();
  int32_t* const w32 = w32_.data();
  uint16_t* const nb = wbits16_new_.data();
  col_sum_.assign(C, 0);
  uint64_t* const col_sum = col_sum_.data();
  const CodeEntry* const* const table = col_table_.data();
  const size_t c4 = c4_, c8 = c8_;
  uint64_t paths = 0, mag_or = 0;
  for (size_t r = 0; r < R; ++r) {
    const uint32_t* codes = r < rows ? &job_.codes[r * cols] : nullptr;
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
  const uint64_t path[3] = {paths & kPathMask, (paths >> kPathShift) & kPathMask, paths >> (2 * kPathShift)};
  counters_.decodes += rows * cols;
  if (activity_) {
    t += weighted_row_diffs(wbits16_new_.data(), R, c4_, false);
    t += R * row_diff(&wbits16_[0], &wbits16_new_[(R - 1) * c4_], c4_);
    counters_.toggles_weight += t;
  }
  wbits16_.swap(wbits16_new_);
  for (uint64_t r = 0; r < rows; ++r) wbuf_->read_bits(cols * static_cast<uint64_t>(wbits_));
  counters_.reg_writes += static_cast<uint64_t>(R) * weff_.size() * static_cast<uint64_t>(weight_reg_bits_);
  counters_.load_cycles += R;

  // The MAC path (begin_stream's choice) from the column sums of |w|.
  const bool narrow = mag_or <= INT32_MAX;
  col_mag_max_ = 0;
  for (size_t c = 0; c < C; ++c) {
    unsigned __int128 sum = col_sum[c];
    if (!narrow) {  // rare: weights beyond 32 bits, sums in 128 bits
      sum = 0;
      for (size_t r = 0; r < R; ++r) {
        const int64_t w = weff[r * C + c];
        sum += w < 0 ? 0 - static_cast<uint64_t>(w) : static_cast<uint64_t>(w);
      }
    }
    col_mag_max_ = std::max(col_mag_max_, sum);
  }
  narrow_ = narrow;
  checked_ = col_mag_max_ * (static_cast<unsigned __int128>(1) << (act_bits_ - 1)) >
             static_cast<unsigned __int128>(acc_hi_);
  w32_ready_ = narrow;
  begin_fast_stream(path);
  return R;
}

// begin_stream() after a fold: every register is zero then but PE (R-1,
// C-1)'s product and partial sum (the last pixel's; fast_stream), so only
// those two clear with toggles. Counts the fold's actions (count_fold_actions)
// from the AE paths of its weights.
void PeArray::begin_fast_stream(const uint64_t path_count[3]) {
  phase_ = Phase::Stream;
  edge_ = 0;
  const size_t last = weff_.size() - 1;
  if (activity_) {
    counters_.toggles_product += static_cast<uint64_t>(__builtin_popcountll(static_cast<uint64_t>(prod_[last]) & acc_mask_));
    counters_.toggles_psum += static_cast<uint64_t>(__builtin_popcountll(static_cast<uint64_t>(psum_[last]) & acc_mask_));
  }
  prod_[last] = psum_[last] = 0;
  const uint64_t p = job_.p, tile = job_.rows * job_.cols;
  counters_.ae_zero += p * path_count[kPathZero];
  counters_.ae_pow2 += p * path_count[kPathPow2];
  counters_.ae_sqrt2 += p * path_count[kPathSqrt2];
  counters_.acc_adds += p * tile + p * job_.cols;
  counters_.reg_writes += static_cast<uint64_t>(R_ * C_) * static_cast<uint64_t>(act_bits_ + 2 * acc_bits_) *
                          (p + static_cast<uint64_t>(R_ + C_ - 1));
}

// fast_stream() in 32-bit lanes when the fold allows it: every product and
// partial sum is at most (max |a|) * (max column sum of |w|) in magnitude,
// so when that fits int32 (and the accumulator) nothing wraps in the array.
// False (nothing done) otherwise. Same counts and final state as fast_stream.
bool PeArray::fast_stream32(uint64_t* edges) {
  const uint64_t P = job_.p, rows = job_.rows;
  if (!w32_ready_ || !kAvx2 || P == 0 || act_bits_ > 32) return false;
  const size_t R = static_cast<size_t>(R_), C = static_cast<size_t>(C_);
  const uint32_t amask = static_cast<uint32_t>(act_mask_);
  const bool split = threads_ > 1 && P >= 2 && P * R * C >= split_work_;
  if (split && !worker_) worker_.reset(new StreamWorker);
  const uint64_t min_back = leave_first_chunk_ ? 1 : 0;
  uint64_t amax = 0, act_toggles = 0;
  if (split) {  // the activation pass in two halves
    struct ActPass {
      const int32_t* act;
      uint64_t stride, P, rows;
      uint32_t mask;
      uint64_t toggles[2], amax[2];
    } ap{job_.act + job_.k0, job_.act_stride, P, rows, amask, {0, 0}, {0, 0}};
    auto half = [](void* c, uint64_t i, int) {
      ActPass& a = *static_cast<ActPass*>(c);
      const uint64_t mid = a.P / 2;
      a.toggles[i] = act_pass_avx2(a.act, a.stride, i ? mid : 0, i ? a.P : mid, a.P, a.rows, a.mask, &a.amax[i]);
    };
    worker_chunks_ += worker_->run(half, &ap, 2, min_back);
    amax = std::max(ap.amax[0], ap.amax[1]);
    act_toggles = (ap.toggles[0] + ap.toggles[1]) * static_cast<uint64_t>(C_);
  } else {
    act_toggles = act_pass_avx2(job_.act + job_.k0, job_.act_stride, 0, P, P, rows, amask, &amax) *
                  static_cast<uint64_t>(C_);
  }
  const unsigned __int128 bound = col_mag_max_ * amax;
  if (bound > static_cast<unsigned __int128>(std::min<int64_t>(INT32_MAX, acc_hi_))) return false;

  const Stream32 s{ps32_.data(), pr32_.data(), w32_.data(), job_.act + job_.k0, job_.act_stride, rows, R, c8_,
                   job_.out, job_.cols, acc_lo_, acc_hi_, acc_bits_,
                   acc_bits_ >= 32 ? ~0u : (1u << acc_bits_) - 1u};
  const uint64_t ext = acc_bits_ > 32 ? static_cast<uint64_t>(acc_bits_ - 32) : 0;
  Counts32 n;
  const StreamFn stream = !activity_       ? stream32_avx2<false, false>
                          : acc_bits_ < 32 ? stream32_avx2<true, true>
                                           : stream32_avx2<true, false>;
  // Two threads: chunks of at least 32 pixels (each costs one pixel to set
  // its registers up), 2 to 8 of them; the caller's registers end up
  // holding pixel P - 1, as one thread's would.
  if (split) {
    ps32w_.resize(ps32_.size());
    pr32w_.resize(pr32_.size());
    struct Chunks {
      StreamFn fn;
      Stream32 s[2];  // the caller's registers, the worker's
      uint64_t P, chunk, at[2];
      Counts32 n[2];
    } t{stream, {s, s}, P, 0, {~uint64_t{0}, ~uint64_t{0}}, {}};
    t.s[1].ps = ps32w_.data(), t.s[1].pr = pr32w_.data();
    const uint64_t chunks = std::min<uint64_t>(8, std::max<uint64_t>(2, P / 32));
    t.chunk = (P + chunks - 1) / chunks;
    auto chunk = [](void* c, uint64_t i, int th) {
      Chunks& k = *static_cast<Chunks*>(c);
      stream_chunk(k.fn, k.s[th], i * k.chunk, std::min(k.P, (i + 1) * k.chunk), &k.at[th], &k.n[th]);
    };
    worker_chunks_ += worker_->run(chunk, &t, (P + t.chunk - 1) / t.chunk, min_back);
    n = t.n[0];
    n.pop_p += t.n[1].pop_p, n.pop_s += t.n[1].pop_s, n.sign_p += t.n[1].sign_p, n.sign_s += t.n[1].sign_s;
    n.out_overflows += t.n[1].out_overflows;
    if (t.at[0] != P - 1) {  // the final registers: pixel P - 1's
      Counts32 setup;
      stream(s, P - 1, P, &setup, false);
    }
    ++split_folds_;
  } else {
    stream(s, 0, P, &n, true);
  }
  counters_.output_overflows += n.out_overflows;
  ibuf_->read_words(P * ibuf_->words(rows * static_cast<uint64_t>(act_bits_)));
  obuf_->read_words(acc_words_ * P * job_.cols);
  obuf_->write_words(acc_words_ * P * job_.cols);
  // After the fold every register returns to zero but PE (R-1, C-1)'s
  // product and sum (fast_stream): count those last toggles.
  const size_t last32 = (R - 1) * c8_ + (C - 1);
  if (activity_) {
    // Every register but the last clears: count all, then take the last one back.
    const uint32_t m32 = s.m32;
    uint64_t negp = 0, negs = 0;
    clear_toggles_avx2(pr32_.data(), R * c8_, m32, &n.pop_p, &negp);
    clear_toggles_avx2(ps32_.data(), R * c8_, m32, &n.pop_s, &negs);
    n.pop_p -= static_cast<uint64_t>(__builtin_popcount(static_cast<uint32_t>(pr32_[last32]) & m32));
    n.pop_s -= static_cast<uint64_t>(__builtin_popcount(static_cast<uint32_t>(ps32_[last32]) & m32));
    negp -= pr32_[last32] < 0, negs -= ps32_[last32] < 0;
    const uint64_t tp = n.pop_p + ext * (n.sign_p + negp), ts = n.pop_s + ext * (n.sign_s + negs);
    counters_.toggles_act += act_toggles;
    counters_.toggles_product += tp;
    counters_.toggles_psum += ts;
    prod_[R * C - 1] = pr32_[last32];
  }
  psum_[R * C - 1] = ps32_[last32];
  std::fill(ps32_.begin(), ps32_.end(), 0);
  std::fill(pr32_.begin(), pr32_.end(), 0);
  counters_.stream_cycles += P;
  counters_.drain_cycles += static_cast<uint64_t>(R_ + C_ - 1);
  counters_.macs += P * rows * job_.cols;
  phase_ = Phase::Idle;
  *edges = P + static_cast<uint64_t>(R_ + C_ - 1);
  return true;
}

}  // namespace brsim
