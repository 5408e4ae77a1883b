// Fast mode's weight-stationary stream (FastEngine): a fold's pixels
// through the array in 32-bit lanes (on two threads for large folds), one
// pixel folds in one pass with their load, product toggles from per-row
// tables, and the 64-bit fallback; the same outputs, counts and final
// registers as the fold reference's P + R + C - 1 stream edges.
#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "fast_engine.h"
#include "kernels.h"
#include "kernels512.h"
#include "stream_fn.h"
#include "simd.h"
#include "deferred.h"
#include "worker.h"

namespace brsim {

namespace {

// One pixel through every row of the array (fast mode): mac_row_activity_avx2 for
// r = 0..R-1, the row's activation a[r] (0 for r >= rows).
#if BRSIM_X86
__attribute__((target("avx2"))) void fold_pixel_avx2(int64_t* psum, int64_t* prod, const int64_t* zero_row,
                                                     const int32_t* a, size_t rows, size_t R, const int32_t* w,
                                                     size_t C, uint64_t mask, uint64_t* tp, uint64_t* ts) {
  const int32_t none = 0;
  for (size_t r = 0; r < R; ++r)
    mac_row_activity_avx2<true>(&psum[r * C], &prod[r * C], r ? &psum[(r - 1) * C] : zero_row, r < rows ? &a[r] : &none,
                                &w[r * C], C, mask, tp, ts);
}
#endif  // BRSIM_X86

}  // namespace

bool FastEngine::deferring() const { return deferred_ && deferred_->pending; }

void FastEngine::sync() {
  if (!deferring()) return;
  worker().drain();
  Deferred& d = *deferred_;
  c_.toggles_product += d.tp, c_.toggles_psum += d.ts, c_.output_overflows += d.overflows;
  d.tp = d.ts = d.overflows = 0;
  d.pending = false;
}

// A weight-stationary fold: its load and stream in one pass (one pixel, a
// full tile through one packed table), or one after the other. A fold that
// does not defer its stream waits for the deferred ones (it adds to their
// outputs, in fold order).
void FastEngine::ws_fold() {
  if (deferring() && !defers(job_)) sync();
  if (fast_fold1()) return;
  fast_load();
  fast_stream();
}

// The fold's activations as P rows of R values (pixel p's row r at
// [p * R + r], zero past job_.rows). In the im2col view a pixel's values are
// K apart, so a fold streaming straight from it touches a new cache line (and
// often a new page) per pixel; copied once per band and k-tile, the fold
// reads one contiguous block. Kept by act_id while later m-tiles will reuse
// the band (FoldJob::act_reuse), up to 256 MiB in all.
const int32_t* FastEngine::fold_acts() {
  constexpr uint64_t kMaxBytes = uint64_t{256} << 20;
  const uint64_t P = job_.p, K = job_.act_stride, rows = job_.rows, R = static_cast<uint64_t>(R_);
  auto copy = [&](int32_t* dst) {
    const int32_t* src = job_.act + job_.p0 * K + job_.k0;
    for (uint64_t p = 0; p < P; ++p, src += K, dst += R) {
      std::memcpy(dst, src, rows * sizeof(int32_t));
      std::fill(dst + rows, dst + R, 0);
    }
  };
  auto scratch = [&] {  // this fold's alone
    act_scratch_.resize(P * R);
    copy(act_scratch_.data());
    return act_scratch_.data();
  };
  const uint64_t tiles = (K + R - 1) / R;
  if (job_.act_id == 0 || job_.k0 % R != 0) return scratch();
  auto it = act_tiles_.find(job_.act_id);
  if (it == act_tiles_.end() || it->second.p0 != job_.p0 || it->second.p != P || it->second.K != K) {
    if (job_.act_reuse <= 1) return scratch();  // no later m-tile reads these
    if (deferring()) worker().drain();  // (deferred streams read the kept tiles)
    const uint64_t bytes = tiles * P * R * sizeof(int32_t);
    if (it == act_tiles_.end()) {
      if (act_tiles_bytes_ + bytes > kMaxBytes) act_tiles_.clear(), act_tiles_bytes_ = 0;
      it = act_tiles_.emplace(job_.act_id, ActTiles{}).first;
    }
    ActTiles& t = it->second;
    act_tiles_bytes_ += bytes - t.v.size() * sizeof(int32_t);  // (an entry of another shape: its size is replaced)
    t.p0 = job_.p0, t.p = P, t.K = K;
    t.v.resize(tiles * P * R);
    t.have.assign(tiles, 0);
  }
  ActTiles& t = it->second;
  const uint64_t kt = job_.k0 / R;
  int32_t* const dst = &t.v[kt * P * R];
  if (!t.have[kt]) {
    copy(dst);
    t.have[kt] = 1;
  }
  return dst;
}

// fast_stream() in 32-bit lanes when the fold allows it: every product and
// partial sum is at most (max |a|) * (max column sum of |w|) in magnitude,
// so when that fits int32 (and the accumulator) nothing wraps in the array.
// False (nothing done) otherwise. Same counts and final state as fast_stream.
bool FastEngine::fast_stream32() {
#if BRSIM_X86
  const uint64_t P = job_.p, rows = job_.rows;
  if (!w32_ready_ || !kHasAvx2 || P == 0 || act_bits_ > 32) return false;
  if (P == 1) return fast_stream1();
  const size_t R = static_cast<size_t>(R_), C = static_cast<size_t>(C_);
  const uint32_t amask = static_cast<uint32_t>(act_mask_);
  const bool split = splits(job_);
  const int32_t* const acts = fold_acts();
  uint64_t amax = 0, act_toggles = 0;
  if (const ProductToggles* pt = activity_ ? cached_rows() : nullptr) {  // the rows' pass, kept
    for (uint64_t r = 0; r < rows; ++r) {
      act_toggles += pt->act[job_.k0 + r];
      amax = std::max<uint64_t>(amax, pt->act_max[job_.k0 + r]);
    }
    act_toggles *= static_cast<uint64_t>(C_);
  } else if (split) {  // the activation pass in two halves
    struct ActPass {
      const int32_t* act;
      uint64_t stride, P, rows;
      uint32_t mask;
      uint64_t toggles[2], amax[2];
    } ap{acts, R, P, rows, amask, {0, 0}, {0, 0}};
    auto half = [](void* c, uint64_t i, int) {
      ActPass& a = *static_cast<ActPass*>(c);
      const uint64_t mid = a.P / 2;
      a.toggles[i] = act_pass_avx2(a.act, a.stride, i ? mid : 0, i ? a.P : mid, a.P, a.rows, a.mask, &a.amax[i]);
    };
    stats_.worker_chunks += worker().run_chunks(half, &ap, 2);
    amax = std::max(ap.amax[0], ap.amax[1]);
    act_toggles = (ap.toggles[0] + ap.toggles[1]) * static_cast<uint64_t>(C_);
  } else {
    act_toggles = act_pass_avx2(acts, R, 0, P, P, rows, amask, &amax) *
                  static_cast<uint64_t>(C_);
  }
  if (!fits_lanes32(col_mag_max_ * amax)) {
    sync();  // (the 64-bit stream adds to the outputs the deferred ones add to)
    return false;
  }

  const Stream32 s{ps32_.data(), pr32_.data(), w32_.data(), acts, R, rows, R, c8_,
                   job_.out, job_.cols, acc_lo_, acc_hi_, acc_bits_, m32_};
  Counts32 n;
  uint64_t table_tp = 0;
  const bool by_table = activity_ && product_toggles(acts, &table_tp);
  const StreamFn stream = stream_fn(activity_, acc_bits_ < 32, !by_table, c8_, R);
  // The activations kept for later m-tiles (not this fold's scratch, which
  // the next fold overwrites): the last pixels on the worker meanwhile.
  if (defers(job_) && acts != act_scratch_.data()) return defer_stream(s, stream, acts, act_toggles, by_table, table_tp);
  sync();
  // Two threads: the pixels in two halves (each costs one pixel to set its
  // registers up). Halves rather than more, smaller chunks: each thread then
  // keeps its pixels' outputs, which every k-tile of the m-tile adds to, in
  // its own core's cache (AlexNet conv2: 0.051 s against 0.055-0.060 s with
  // 4-8 chunks). The caller's registers end up holding pixel P - 1, as one
  // thread's would.
  if (split) {
    // The worker's registers, a cache line clear of any other block (it
    // writes them every pixel: a line shared with the caller's data would
    // bounce between the cores).
    constexpr size_t kPad = 64 / sizeof(int32_t);
    ps32w_.resize(ps32_.size() + 2 * kPad);
    pr32w_.resize(pr32_.size() + 2 * kPad);
    struct Chunks {
      StreamFn fn;
      Stream32 s[2];  // the caller's registers, the worker's
      uint64_t P, chunk, at[2];
      Counts32 n[2];
    } t{stream, {s, s}, P, 0, {~uint64_t{0}, ~uint64_t{0}}, {}};
    t.s[1].ps = ps32w_.data() + kPad, t.s[1].pr = pr32w_.data() + kPad;
    const uint64_t chunks = 2;
    t.chunk = (P + chunks - 1) / chunks;
    auto chunk = [](void* c, uint64_t i, int th) {
      Chunks& k = *static_cast<Chunks*>(c);
      stream_chunk(k.fn, k.s[th], i * k.chunk, std::min(k.P, (i + 1) * k.chunk), &k.at[th], &k.n[th]);
    };
    stats_.worker_chunks += worker().run_chunks(chunk, &t, (P + t.chunk - 1) / t.chunk);
    n = t.n[0];
    n.pop_p += t.n[1].pop_p, n.pop_s += t.n[1].pop_s, n.sign_p += t.n[1].sign_p, n.sign_s += t.n[1].sign_s;
    n.out_overflows += t.n[1].out_overflows;
    if (t.at[0] != P - 1) {  // the final registers: pixel P - 1's
      Counts32 setup;
      stream(s, P - 1, P, &setup, false);
    }
    ++stats_.split_folds;
  } else {
    stream(s, 0, P, &n, true);
  }
  c_.output_overflows += n.out_overflows;
  count_stream_traffic(P, rows);
  // After the fold every register returns to zero but PE (R-1, C-1)'s
  // product and sum (fast_stream): count those last toggles.
  const size_t last32 = (R - 1) * c8_ + (C - 1);
  if (activity_) {
    // Every register but the last clears: count all, then take the last one back.
    uint64_t negp = 0, negs = 0;
    if (by_table) {  // PE (R-1, C-1)'s product: its last activation times its weight
      pr32_[last32] = acts[(P - 1) * R + R - 1] * w32_[last32];  // zero past the rows
      n.pop_p = table_tp;
    } else {
      clear_toggles_avx2(pr32_.data(), R * c8_, m32_, &n.pop_p, &negp);
    }
    clear_toggles_avx2(ps32_.data(), R * c8_, m32_, &n.pop_s, &negs);
    n.pop_p -= static_cast<uint64_t>(__builtin_popcount(static_cast<uint32_t>(pr32_[last32]) & m32_));
    n.pop_s -= static_cast<uint64_t>(__builtin_popcount(static_cast<uint32_t>(ps32_[last32]) & m32_));
    negp -= pr32_[last32] < 0, negs -= ps32_[last32] < 0;
    const uint64_t tp = n.products(ext_) + ext_ * negp, ts = n.psums(ext_) + ext_ * negs;
    c_.toggles_act += act_toggles;
    c_.toggles_product += tp;
    c_.toggles_psum += ts;
    s_.prod[R * C - 1] = pr32_[last32];
  }
  s_.psum[R * C - 1] = ps32_[last32];
  std::fill(ps32_.begin(), ps32_.end(), 0);
  std::fill(pr32_.begin(), pr32_.end(), 0);
  forget_band_if_done();
  return true;
#else
  return false;  // no vector kernels: fast_stream()
#endif
}

// fast_stream32's stream and counts for a fold whose activations are kept
// (acts): pixels [0, mid) here, [mid, P) posted to the worker with a copy of
// the weights (Deferred::run), this thread's share of the counts added now.
// The registers the next fold's load reads (PE (R-1, C-1)'s product and
// sum, pixel P - 1's) are computed here from the activations and weights.
#if BRSIM_X86
bool FastEngine::defer_stream(const Stream32& s, StreamFn stream, const int32_t* acts, uint64_t act_toggles,
                              bool by_table, uint64_t table_tp) {
  const size_t R = static_cast<size_t>(R_), C = static_cast<size_t>(C_);
  const uint64_t P = job_.p, rows = job_.rows;
  Worker& w = worker();
  constexpr size_t kPad = 64 / sizeof(int32_t);
  if (!deferred_) {  // (the array's shape and widths are the engine's for good)
    deferred_ = std::make_unique<Deferred>();
    Deferred& d = *deferred_;
    d.R = R, d.c8 = c8_, d.last32 = (R - 1) * c8_ + (C - 1), d.m32 = m32_, d.ext = ext_;
    d.ps.assign(R * c8_ + 2 * kPad, 0), d.pr.assign(R * c8_ + 2 * kPad, 0);
  }
  Deferred& d = *deferred_;
  const uint64_t share = std::min<uint64_t>(tune_.defer_share, 99);
  const uint64_t mid = std::min(P - 1, std::max<uint64_t>(1, P - P * share / 100));
  if (d.pending && (d.out != job_.out || d.P != P || d.mid != mid)) sync();  // (each thread keeps to its own outputs)
  d.out = job_.out, d.P = P, d.mid = mid;
  w.wait_room();
  Deferred::Task& t = d.tasks[w.tasks_posted() % Worker::kTasks];
  t.d = &d, t.fn = stream, t.s = s, t.p0 = mid, t.p1 = P, t.activity = activity_, t.by_table = by_table;
  t.w.assign(w32_.begin(), w32_.end());
  t.s.w = t.w.data(), t.s.ps = d.ps.data() + kPad, t.s.pr = d.pr.data() + kPad;
  w.post(&Deferred::run, &t);
  if (!d.pending) d.pending = true;
  Counts32 n;
  stream(s, 0, mid, &n, true);
  c_.output_overflows += n.out_overflows;
  count_stream_traffic(P, rows);
  // PE (R-1, C-1) after pixel P - 1: its product, and its sum (column C - 1's, exact in 32 bits).
  const size_t last32 = (R - 1) * c8_ + (C - 1);
  const int32_t* a = acts + (P - 1) * R;
  const int32_t last_p = a[R - 1] * w32_[last32];
  int64_t last_s = 0;
  for (size_t r = 0; r < R; ++r) last_s += int64_t{a[r]} * w32_[r * c8_ + (C - 1)];
  if (activity_) {
    c_.toggles_act += act_toggles;
    c_.toggles_product += by_table ? table_tp - reg32_bits(last_p, m32_, ext_) : n.products(ext_);
    c_.toggles_psum += n.psums(ext_);
    s_.prod[R * C - 1] = last_p;
  }
  s_.psum[R * C - 1] = last_s;
  std::fill(ps32_.begin(), ps32_.end(), 0);  // (this thread's registers hold pixel mid - 1)
  std::fill(pr32_.begin(), pr32_.end(), 0);
  ++stats_.split_folds, ++stats_.deferred_folds, ++stats_.worker_chunks;
  forget_band_if_done();
  return true;
}
#endif

// A ws fold's stream through the buffers: P pixels of `rows` activations
// read, P x cols sums read and written back.
void FastEngine::count_stream_traffic(uint64_t P, uint64_t rows) {
  ibuf_->read_words(P * ibuf_->words(rows * static_cast<uint64_t>(act_bits_)));
  obuf_->read_words(acc_words_ * P * job_.cols);
  obuf_->write_words(acc_words_ * P * job_.cols);
}

// The band's last m-tile (act_reuse 1) ends with its last k-tile: nothing
// reads the band's tiles and tables after it.
void FastEngine::forget_band_if_done() {
  if (job_.act_id != 0 && job_.act_reuse <= 1 && job_.k0 + static_cast<uint64_t>(R_) >= job_.act_stride)
    forget_band(job_.act_id);
}

void FastEngine::forget_band(uint64_t act_id) {
  if (deferring()) worker().drain();  // (deferred streams read the band's tiles)
  const auto t = act_tiles_.find(act_id);
  if (t != act_tiles_.end()) {
    act_tiles_bytes_ -= t->second.v.size() * sizeof(int32_t);
    act_tiles_.erase(t);
  }
  const auto p = ptog_.find(act_id);
  if (p != ptog_.end()) {
    ptog_bytes_ -= ptog_row_bytes() * p->second.have.size();
    ptog_.erase(p);
  }
}

// The fold's product-register toggles from the per-row table (ProductToggles),
// filling the rows it lacks: when every column decodes through one vector
// table and the activations serve enough m-tiles (or their rows are in the
// table already). Every PE counts from zero back to zero, PE (R-1, C-1)
// too (fast_stream32 takes its last clear back). False: count them per PE.
bool FastEngine::product_toggles(const int32_t* acts, uint64_t* toggles) {
  constexpr uint64_t kMaxBytes = uint64_t{256} << 20;  // the tables of every band kept, up to this size
  const CodeTable* const table = col_vec_table_;
  if (!table || job_.act_id == 0 || !kHasAvx2 || job_.p >= (uint64_t{1} << 24)) return false;
  const uint64_t K = job_.act_stride, rows = job_.rows, P = job_.p, k0 = job_.k0, cols = job_.cols;
  // Worth it when the rows serve enough columns (m-tiles x C): a row costs 32 codes.
  const bool worth = tune_.table_reuse != UINT64_MAX && job_.act_reuse * static_cast<uint64_t>(C_) >= tune_.table_reuse;
  auto it = ptog_.find(job_.act_id);
  if (it == ptog_.end() || it->second.table != table || it->second.p0 != job_.p0 || it->second.p != P ||
      it->second.have.size() != K) {
    if (!worth) return false;
    if (it == ptog_.end()) {
      if (ptog_bytes_ + K * ptog_row_bytes() > kMaxBytes) ptog_.clear(), ptog_bytes_ = 0;
      it = ptog_.emplace(job_.act_id, ProductToggles{}).first;
    }
    ProductToggles& pt = it->second;
    ptog_bytes_ += (K - pt.have.size()) * ptog_row_bytes();  // (an entry of another shape: its size is replaced)
    pt.table = table, pt.p0 = job_.p0, pt.p = P;
    pt.have.assign(K, 0);
    pt.t.resize(K * 32);
    pt.act.resize(K);
    pt.act_max.resize(K);
  }
  ProductToggles& pt = it->second;
  if (!has_rows(pt)) {
    if (!worth) return false;
    product_table_rows(&pt, acts, rows, P);
  }
  const uint32_t* t = &pt.t[k0 * 32];
  // The next k-tile's rows (the m-tile's next fold), ahead of their use:
  // the tables of a band are too big to stay in the cache between m-tiles.
  if (k0 + 2 * static_cast<uint64_t>(R_) <= K)
    for (uint64_t i = 0; i < static_cast<uint64_t>(R_) * 32; i += 16) __builtin_prefetch(&t[static_cast<uint64_t>(R_) * 32 + i]);
  uint64_t sum = 0;
  for (uint64_t r = 0; r < rows; ++r) {
    const uint8_t* codes = &job_.codes[r * cols];
    const uint32_t* tr = &t[r * 32];
    for (uint64_t c = 0; c < cols; ++c) sum += tr[codes[c]];
  }
  *toggles = sum;
  ++stats_.table_folds;
  return true;
}

// The rows of the fold the table lacks: each row's activations in a line
// (fold_acts() is pixel-major), then row_product_toggles and row_act_pass.
// Rows are independent: a fold that streams on two threads splits them too.
void FastEngine::product_table_rows(ProductToggles* pt, const int32_t* act, uint64_t rows, uint64_t P) {
#if BRSIM_X86
  ptog_col_.resize(rows * P);
  struct Rows {
    ProductToggles* pt;
    const int32_t* act;
    int32_t* col;
    uint64_t rows, P, R, k0;
    uint32_t m32, amask;
    uint64_t ext;
  } job{pt, act, ptog_col_.data(), rows, P, static_cast<uint64_t>(R_), job_.k0, m32_,
        static_cast<uint32_t>(act_mask_), ext_};
  auto part = [](void* c, uint64_t i, int) __attribute__((target("avx2"))) {
    const Rows& j = *static_cast<const Rows*>(c);
    const uint64_t r0 = i * j.rows / 2, r1 = (i + 1) * j.rows / 2;
    __m256i tw[4];
    for (int v = 0; v < 4; ++v) tw[v] = _mm256_load_si256(reinterpret_cast<const __m256i*>(j.pt->table->w32 + 8 * v));
    for (uint64_t r = r0; r < r1; ++r) {
      const uint64_t k = j.k0 + r;
      if (j.pt->have[k]) continue;
      int32_t* x = &j.col[r * j.P];
      for (uint64_t p = 0; p < j.P; ++p) x[p] = j.act[p * j.R + r];
      if (kHasAvx512) row_product_toggles512(x, j.P, j.pt->table->w32, j.m32, j.ext, &j.pt->t[k * 32]);
      else row_product_toggles(x, j.P, tw, j.m32, j.ext, &j.pt->t[k * 32]);
      uint64_t mx = 0;
      j.pt->act[k] = row_act_pass(x, j.P, j.amask, &mx);
      j.pt->act_max[k] = static_cast<uint32_t>(mx);
      j.pt->have[k] = 1;
    }
  };
  if (splits(job_) && rows >= 2) {
    stats_.worker_chunks += worker().run_chunks(part, &job, 2);
  } else {
    part(&job, 0, 0), part(&job, 1, 0);
  }
#else
  (void)pt, (void)act, (void)rows, (void)P;  // product_toggles() never calls it
#endif
}

bool FastEngine::has_rows(const ProductToggles& pt) const {
  for (uint64_t r = 0; r < job_.rows; ++r)
    if (!pt.have[job_.k0 + r]) return false;
  return true;
}

const FastEngine::ProductToggles* FastEngine::cached_rows() const {
  if (job_.act_id == 0) return nullptr;
  const auto it = ptog_.find(job_.act_id);
  if (it == ptog_.end()) return nullptr;
  const ProductToggles& pt = it->second;
  if (pt.p0 != job_.p0 || pt.p != job_.p || pt.have.size() != job_.act_stride || !has_rows(pt)) return nullptr;
  return &pt;
}

// The one-pass kernel of a one-pixel fold (fold1_512 or fold1_avx2): the
// tile's weights into w32, the bottom row's sums into bottom, the products'
// and sums' pops and signs into n; returns the largest column sum of |w|.
namespace {
BRSIM_TARGET_AVX2 uint32_t fold1_kernel(const int32_t* tbl16, int code_bits, const uint8_t* codes, const int32_t* a,
                                        size_t R, size_t C, bool activity, uint32_t m32, int32_t* w32, int32_t* bottom,
                                        Counts32* n) {
#if BRSIM_X86
  const int half_mask = (1 << (code_bits - 1)) - 1;
  if (kHasAvx512 && C % 16 == 0) return fold1_512(tbl16, half_mask, code_bits, codes, a, R, C, activity, m32, w32, bottom, n);
  const __m256i w0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(tbl16));
  const __m256i w1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(tbl16 + 8));
  if (activity && m32 != ~0u) return fold1_avx2<true, true>(w0, w1, half_mask, code_bits, codes, a, R, C, m32, w32, bottom, n);
  if (activity && C == 16) return fold1_avx2<true, false, 16>(w0, w1, half_mask, code_bits, codes, a, R, C, m32, w32, bottom, n);
  if (activity) return fold1_avx2<true, false>(w0, w1, half_mask, code_bits, codes, a, R, C, m32, w32, bottom, n);
  return fold1_avx2<false, false>(w0, w1, half_mask, code_bits, codes, a, R, C, m32, w32, bottom, n);
#else
  (void)tbl16, (void)code_bits, (void)codes, (void)a, (void)R, (void)C, (void)activity, (void)m32, (void)w32, (void)bottom, (void)n;
  return 0;
#endif
}

// A tile's register bits (rows of C 16-bit lanes) and its zero and sqrt2 paths.
BRSIM_TARGET_AVX2 void fold1_bits(const int8_t* bits8, int code_bits, const uint8_t* codes, size_t n, uint16_t* nb,
                                  uint64_t* zero_paths, uint64_t* sqrt2_paths) {
#if BRSIM_X86
  const int half_mask = (1 << (code_bits - 1)) - 1;
  if (kHasAvx512)
    fold1_bits512(codes, n, reinterpret_cast<const uint8_t*>(bits8), half_mask, code_bits - 1, nb, zero_paths, sqrt2_paths);
  else
    fold1_bits_avx2(codes, n, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(bits8)), half_mask, code_bits - 1, nb,
                    zero_paths, sqrt2_paths);
#else
  (void)bits8, (void)code_bits, (void)codes, (void)n, (void)nb, (void)zero_paths, (void)sqrt2_paths;
#endif
}

// The largest |a| and the sum of popcount(a & amask) over a[0..rows): eight
// at a time in AVX2 where the CPU has it, the rest one at a time.
BRSIM_TARGET_AVX2 void act_stats(const int32_t* a, uint64_t rows, uint32_t amask, uint64_t* amax, uint64_t* pop) {
  uint64_t mx = 0, p = 0, r = 0;
#if BRSIM_X86
  if (kHasAvx2 && rows >= 8) {
    const __m256i am = _mm256_set1_epi32(static_cast<int>(amask));
    __m256i mx8 = _mm256_setzero_si256(), pop4 = mx8;
    for (; r + 8 <= rows; r += 8) {
      const __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a + r));
      mx8 = _mm256_max_epu32(mx8, _mm256_abs_epi32(x));  // |INT32_MIN| = 2^31 as unsigned
      pop4 = _mm256_add_epi64(pop4, popcount_lanes(_mm256_and_si256(x, am)));
    }
    alignas(32) uint32_t l[8];
    _mm256_store_si256(reinterpret_cast<__m256i*>(l), mx8);
    mx = *std::max_element(l, l + 8), p = sum_u64_lanes(pop4);
  }
#endif
  for (; r < rows; ++r) {
    const int64_t x = a[r];
    mx = std::max<uint64_t>(mx, static_cast<uint64_t>(x < 0 ? -x : x));
    p += static_cast<uint64_t>(__builtin_popcount(static_cast<uint32_t>(a[r]) & amask));
  }
  *amax = mx, *pop = p;
}
}  // namespace

// A one-pixel fold whose tile is full (C a multiple of 8, R of 16) and whose
// columns share one packed sign-symmetric table (CodeTable::packed: the
// lower half's weights and register bits small): fast_load_brslog() and
// fast_stream1() in two passes over the codes, register bits by bytes
// (fold1_bits_avx2) and weights with the stream (fold1_avx2), with the
// same counts and final state. False, with nothing done, when it does not
// apply or a product or sum could pass 32 bits (fast_load() then decodes
// again).
bool FastEngine::fast_fold1() {
  if (!fold1_applies()) return false;
  const CodeTable* const t = fold_tables();
  if (!t || !t->packed || uint64_t{t->max_mag} * static_cast<uint64_t>(R_) > UINT32_MAX) return false;
  return fold1(*t);
}

bool FastEngine::fold1_applies() const {
  const uint64_t R = static_cast<uint64_t>(R_), C = static_cast<uint64_t>(C_);
  return BRSIM_X86 && job_.p == 1 && job_.codes && shape_.pe == PeType::BrsLog && kHasAvx2 && tune_.vector_load &&
         act_bits_ <= 32 && job_.rows == R && job_.cols == C && C % 8 == 0 && R % 16 == 0;
}

BRSIM_TARGET_AVX2 bool FastEngine::fold1(const CodeTable& table) {
#if BRSIM_X86
  const size_t R = static_cast<size_t>(R_), C = static_cast<size_t>(C_);
  const CodeTable* const t = &table;
  // The activations: the largest |a| and the pops of their registers.
  const int32_t* const a = job_.act + job_.k0;
  uint64_t amax = 0, act_pop = 0;
  act_stats(a, R, static_cast<uint32_t>(act_mask_), &amax, &act_pop);
  const int code_bits = t->cfg.bits;
  bottom32_.resize(c8_);
  Counts32 n;
  const uint32_t colmax =
      fold1_kernel(t->w32, code_bits, job_.codes, a, R, C, activity_, m32_, w32_.data(), bottom32_.data(), &n);
  if (!fits_lanes32(uint64_t{colmax} * amax)) {
    ++stats_.one_pass_fallbacks;
    return false;
  }
  ++stats_.one_pass_folds;
  // The load (fast_load_brslog's, vector decode) ...
  uint64_t path[3];
  fold1_bits(t->bits8, code_bits, job_.codes, R * C, wbits16_new_.data(), &path[kPathZero], &path[kPathSqrt2]);
  path[kPathPow2] = R * C - path[kPathZero] - path[kPathSqrt2];
  commit_weight_load(old_weight_toggles());
  ++stats_.vector_loads;
  c_.decodes += R * C;
  one_pass_tile(t, colmax);
  begin_fast_stream(path);
  // ... and the pixel (fast_stream1's).
  finish_stream1(a, n.products(ext_), n.psums(ext_), act_pop);
  return true;
#else
  (void)table;
  return false;  // no vector kernels: fast_load() and fast_stream()
#endif
}

// fold1()'s work for folds [h, n) of a run, on lane_'s own scratch and
// counts, as the engine would do them after fold h - 1 (whose tile's
// register bits it takes from that fold's codes): each fold's load (its
// weight toggles against the previous tile), its stream (the bottom row
// kept for the merge) and its registers' toggles, but the boundary's (the
// last PE's values of fold h - 1, known only when the first half is done).
// Stops before a fold whose products or sums could pass 32 bits.
void FastEngine::run_lane(const FoldJob& first, uint64_t h, uint64_t n, const CodeTable& t) {
  // Locals only while it runs: the engine's half runs on the other thread
  // and writes the members next to these (a shared cache line would bounce
  // between the cores every fold).
  Fold1Lane& L = lane_;
  const size_t R = static_cast<size_t>(R_), C = static_cast<size_t>(C_), c4 = c4_, c8 = c8_;
  const uint64_t tile = R * C;
  const int code_bits = t.cfg.bits;
  const bool activity = activity_;
  const uint32_t m32 = m32_, amask = static_cast<uint32_t>(act_mask_);
  const uint64_t ext = ext_, acc_mask = acc_mask_;
  const unsigned __int128 bound = static_cast<unsigned __int128>(std::min<int64_t>(INT32_MAX, acc_hi_));
  // (`first` lies on the other thread's stack, beside what it writes every fold.)
  const uint8_t* const codes0 = first.codes;
  const int32_t* const act0 = first.act + first.k0;
  for (auto& b : L.bits) b.resize(R * c4);
  for (auto& w : L.w32) w.assign(R * c8, 0);
  L.bottom.resize((n - h) * C);
  uint16_t* bits_old = L.bits[0].data();
  uint16_t* bits_new = L.bits[1].data();
  int cur = 0;
  uint64_t zero = 0, sqrt2 = 0, wsum = 0, wweighted = 0, done = 0;
  uint64_t tw = 0, tp = 0, ts = 0, ta = 0, decodes = 0, pz = 0, ps2 = 0, pp = 0;
  uint32_t colmax_last = 0;
  int32_t last_p = 0, last_s = 0;
  fold1_bits(t.bits8, code_bits, codes0 + (h - 1) * tile, tile, bits_old, &zero, &sqrt2);
  if (activity) row_diff_sums_best(bits_old, R, c4, &wsum, &wweighted);
  auto bits = [m32, ext](int32_t v) { return reg32_bits(v, m32, ext); };
  for (uint64_t i = h; i < n; ++i) {
    const uint8_t* codes = codes0 + i * tile;
    const int32_t* a = act0 + i * R;
    uint64_t amax = 0, act_pop = 0;
    act_stats(a, R, amask, &amax, &act_pop);
    Counts32 k;
    int32_t* const w32 = L.w32[cur ^ 1].data();
    int32_t* const bottom = &L.bottom[(i - h) * C];
    const uint32_t colmax = fold1_kernel(t.w32, code_bits, codes, a, R, C, activity, m32, w32, bottom, &k);
    if (static_cast<unsigned __int128>(uint64_t{colmax} * amax) > bound) break;  // fits_lanes32: else the caller's fold1() takes it
    cur ^= 1, colmax_last = colmax;
    // The load: register bits, paths, weight toggles (commit_weight_load's).
    fold1_bits(t.bits8, code_bits, codes, tile, bits_new, &zero, &sqrt2);
    pz += zero, ps2 += sqrt2, pp += tile - zero - sqrt2;
    if (activity) {
      uint64_t w = R * wsum - wweighted;  // old_weight_toggles()
      row_diff_sums_best(bits_new, R, c4, &wsum, &wweighted);
      w += wweighted + R * row_diff(&bits_old[0], &bits_new[(R - 1) * c4], c4);
      tw += w;
    }
    std::swap(bits_old, bits_new);
    decodes += tile;
    // The stream's start (begin_fast_stream's: the last PE's values of the
    // fold before, but at h) and its end (finish_stream1's).
    if (activity && i > h) {
      tp += reg_bits(last_p, acc_mask), ts += reg_bits(last_s, acc_mask);
    }
    last_p = a[R - 1] * w32[(R - 1) * c8 + (C - 1)];
    last_s = bottom[C - 1];
    if (activity) {
      tp += 2 * k.products(ext) - bits(last_p);
      ts += 2 * k.psums(ext) - bits(last_s);
      ta += 2 * act_pop * C;
    }
    ++done;
  }
  L.cur = cur, L.colmax = colmax_last, L.last_p = last_p, L.last_s = last_s, L.done = done;
  L.wdiff_sum = wsum, L.wdiff_weighted = wweighted;
  if (bits_old != L.bits[0].data()) L.bits[0].swap(L.bits[1]);  // L.bits[0]: the last fold's tile
  L.c = FoldCounters{};
  L.c.toggles_weight = tw, L.c.toggles_product = tp, L.c.toggles_psum = ts, L.c.toggles_act = ta, L.c.decodes = decodes;
  L.paths.zero = pz, L.paths.sqrt2 = ps2, L.paths.pow2 = pp;
}

BRSIM_TARGET_AVX2 uint64_t FastEngine::fold1_split(const FoldJob& first, uint64_t n, const CodeTable& t) {
  const size_t R = static_cast<size_t>(R_), C = static_cast<size_t>(C_);
  const uint64_t h = n / 2;
  struct Halves {
    FastEngine* e;
    const FoldJob* first;
    const CodeTable* t;
    uint64_t h, n, engine_done;
  } halves{this, &first, &t, h, n, 0};
  auto half = [](void* c, uint64_t i, int) {
    Halves& x = *static_cast<Halves*>(c);
    if (i == 0) return x.e->run_lane(*x.first, x.h, x.n, *x.t);  // the worker's, first (the caller claims from the back)
    FastEngine& e = *x.e;  // folds [0, h) through fold1(), up to a fold that needs the two-step path
    for (; x.engine_done < x.h; ++x.engine_done) {
      e.run_fold(*x.first, x.engine_done);
      if (!e.fold1(*x.t)) break;
    }
  };
  stats_.worker_chunks += worker().run_chunks(half, &halves, 2);
  ++stats_.split_runs;
  // The first half's rest (from a fold fold1() handed back), here.
  for (uint64_t j = halves.engine_done; j < h; ++j) {
    run_fold(first, j);
    if (fold1(t)) continue;
    fast_load();
    fast_stream();
  }
  // The lane's folds, merged in fold order.
  const Fold1Lane& L = lane_;
  if (L.done == 0) return h;
  const size_t last = R * C - 1;
  if (activity_) {  // fold h's begin_fast_stream: the last PE's values of fold h - 1
    c_.toggles_product += reg_bits(s_.prod[last], acc_mask_), c_.toggles_psum += reg_bits(s_.psum[last], acc_mask_);
  }
  for (uint64_t k = 0; k < L.done; ++k) add_bottom(first.out, &L.bottom[k * C], first.cols);
  c_.toggles_weight += L.c.toggles_weight, c_.toggles_product += L.c.toggles_product;
  c_.toggles_psum += L.c.toggles_psum, c_.toggles_act += L.c.toggles_act, c_.decodes += L.c.decodes;
  run_paths_->zero += L.paths.zero, run_paths_->sqrt2 += L.paths.sqrt2, run_paths_->pow2 += L.paths.pow2;
  stats_.one_pass_folds += L.done, stats_.vector_loads += L.done;
  wbuf_->read_words(L.done * first.rows * wbuf_->words(first.cols * static_cast<uint64_t>(shape_.weight_bits)));
  ibuf_->read_words(L.done * ibuf_->words(first.rows * static_cast<uint64_t>(act_bits_)));
  obuf_->read_words(L.done * acc_words_ * first.cols);
  obuf_->write_words(L.done * acc_words_ * first.cols);
  // The engine's state after the lane's last fold.
  const uint64_t f = h + L.done;
  run_fold(first, f - 1);
  std::copy(L.bits[0].begin(), L.bits[0].end(), wbits16_.begin());
  wdiff_sum_ = L.wdiff_sum, wdiff_weighted_ = L.wdiff_weighted;
  wbits_valid_ = true, wdiff_valid_ = activity_;
  std::copy(L.w32[L.cur].begin(), L.w32[L.cur].end(), w32_.begin());
  one_pass_tile(&t, L.colmax);
  s_.prod[last] = activity_ ? L.last_p : 0;
  s_.psum[last] = L.last_s;
  return f;
}

// The registers hold a tile the one-pass kernel decoded through table t
// (w32_, wbits16_): the stream's bounds and the lazy weights follow from it.
void FastEngine::one_pass_tile(const CodeTable* t, uint32_t colmax) {
  col_vec_table_ = t;
  narrow_ = w32_ready_ = true;
  col_mag_max_ = colmax;
  checked_ = col_mag_max_ * (static_cast<unsigned __int128>(1) << (act_bits_ - 1)) > static_cast<unsigned __int128>(acc_hi_);
  s_.lazy_weights = this;
}

// fast_stream32() for a fold of one pixel (stream1_avx2): the activation
// pass, the stream and the registers' clearing in one pass over the array.
bool FastEngine::fast_stream1() {
#if BRSIM_X86
  const uint64_t rows = job_.rows;
  const size_t R = static_cast<size_t>(R_);
  const int32_t* const a = job_.act + job_.k0;
  const uint32_t amask = static_cast<uint32_t>(act_mask_);
  uint64_t amax = 0, act_pop = 0;
  act_stats(a, rows, amask, &amax, &act_pop);
  if (!fits_lanes32(col_mag_max_ * amax)) return false;
  bottom32_.resize(c8_);
  Counts32 n;
  if (activity_) stream1_avx2<true>(a, w32_.data(), rows, R, c8_, m32_, &n, bottom32_.data());
  else stream1_avx2<false>(a, w32_.data(), rows, R, c8_, m32_, &n, bottom32_.data());
  finish_stream1(a, n.products(ext_), n.psums(ext_), act_pop);
  return true;
#else
  return false;
#endif
}

// A one-pixel fold's bottom row (cols sums) added into its outputs o: four
// at a time while no sum leaves the accumulator range (as stream32_avx2),
// then one at a time, wrapping and counting.
void FastEngine::add_bottom(int64_t* o, const int32_t* bottom, uint64_t cols) {
  uint64_t c = 0;
#if BRSIM_X86
  if (acc_bits_ <= 62) c = add_outputs_avx2(o, bottom, cols, acc_lo_, acc_hi_);
#endif
  for (; c < cols; ++c) o[c] = wrapping_add(o[c], bottom[c], acc_bits_, acc_lo_, acc_hi_, &c_.output_overflows);
}

// A one-pixel fold's end (fast_stream1, fast_fold1), its bottom row's sums
// in bottom32_: the outputs, the buffers' words, the registers' toggles
// (toggles_p and toggles_s: every PE's value counted once), the cycles.
void FastEngine::finish_stream1(const int32_t* a, uint64_t toggles_p, uint64_t toggles_s, uint64_t act_pop) {
  const uint64_t rows = job_.rows;
  const size_t R = static_cast<size_t>(R_), C = static_cast<size_t>(C_);
  add_bottom(job_.out, bottom32_.data(), job_.cols);
  ibuf_->read_words(ibuf_->words(rows * static_cast<uint64_t>(act_bits_)));
  obuf_->read_words(acc_words_ * job_.cols);
  obuf_->write_words(acc_words_ * job_.cols);
  // PE (R-1, C-1) keeps its product and sum (fast_stream): its values.
  const int32_t last_a = R - 1 < rows ? a[R - 1] : 0;
  const int32_t last_p = last_a * w32_[(R - 1) * c8_ + (C - 1)];
  const int32_t last_s = bottom32_[C - 1];
  if (activity_) {
    auto bits = [&](int32_t v) { return reg32_bits(v, m32_, ext_); };
    // Every register 0 -> value -> 0, but the last PE's 0 -> value.
    c_.toggles_product += 2 * toggles_p - bits(last_p);
    c_.toggles_psum += 2 * toggles_s - bits(last_s);
    c_.toggles_act += 2 * act_pop * static_cast<uint64_t>(C_);
    s_.prod[R * C - 1] = last_p;
  }
  s_.psum[R * C - 1] = last_s;
}

// Fast mode's stream phase: the register values of every PE follow from the
// WS timing (docs/cycle-model.md "Cycle model"): PE (r, c) holds pixel p's activation
// after edge p + r + c, its product after edge p + r + c + 1 and the partial
// sum of rows 0..r for pixel p likewise. So the fold is computed pixel by
// pixel, row by row, with the same adds (and wraps), the same toggles between
// consecutive register values and the same final register state as the
// edges of the fold reference.
void FastEngine::fast_stream() {
  if (fast_stream32()) return;
  s_.sync_weights();
  const size_t R = static_cast<size_t>(R_), C = static_cast<size_t>(C_);
  const uint64_t P = job_.p, rows = job_.rows;
  // s_.psum and s_.prod hold, per PE, the last pixel's values ("the register").
  std::fill(s_.psum.begin(), s_.psum.end(), 0);
  std::fill(s_.prod.begin(), s_.prod.end(), 0);
  uint64_t tp = 0, ts = 0;
  const bool fast_path = !checked_ && narrow_ && activity_ && kHasAvx2;
  if (fast_path)  // the BRSLog fast load leaves weff32_ to its users
    for (size_t i = 0; i < R * C; ++i) weff32_[i] = static_cast<int32_t>(s_.weff[i]);
  for (uint64_t p = 0; p < P; ++p) {
    const int32_t* arow = &job_.act[p * job_.act_stride + job_.k0];
#if BRSIM_X86
    if (fast_path) {
      fold_pixel_avx2(s_.psum.data(), s_.prod.data(), s_.zero_row.data(), arow, rows, R, weff32_.data(), C, acc_mask_, &tp,
                      &ts);
    } else
#endif
    {
      for (size_t r = 0; r < R; ++r) {
        int64_t* ps = &s_.psum[r * C];
        int64_t* pr = &s_.prod[r * C];
        const int64_t* above = r ? &s_.psum[(r - 1) * C] : s_.zero_row.data();
        const int32_t a = r < rows ? arow[r] : 0;
        for (size_t c = 0; c < C; ++c) {
          const int64_t prod = static_cast<int64_t>(a) * s_.weff[r * C + c];
          const int64_t next = checked_ ? acc_add(above[c], prod, &c_.array_overflows) : above[c] + prod;
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
    const int64_t* bottom = &s_.psum[(R - 1) * C];
    int64_t* out = &job_.out[p * job_.cols];
    for (uint64_t c = 0; c < job_.cols; ++c) {
      out[c] = acc_add(out[c], bottom[c], &c_.output_overflows);
    }
  }
  count_stream_traffic(P, rows);
  // After the fold every register returns to zero (the bubbles behind the
  // last pixel) except PE (R-1, C-1), which still holds the last pixel's
  // product and sum: count the other registers' last toggles, then clear them.
  const size_t last = (R - 1) * C + (C - 1);
  if (activity_) {
    for (size_t i = 0; i < R * C; ++i) {
      if (i == last) continue;
      tp += static_cast<uint64_t>(__builtin_popcountll(static_cast<uint64_t>(s_.prod[i]) & acc_mask_));
      ts += static_cast<uint64_t>(__builtin_popcountll(static_cast<uint64_t>(s_.psum[i]) & acc_mask_));
    }
    c_.toggles_act += fast_act_toggles();
    c_.toggles_product += tp;
    c_.toggles_psum += ts;
  }
  for (size_t i = 0; i < R * C; ++i)
    if (i != last) s_.prod[i] = s_.psum[i] = 0;
  std::fill(s_.act_ring.begin(), s_.act_ring.end(), 0);
  std::fill(s_.feed.begin(), s_.feed.end(), 0);
}

// Activation registers over a fast fold: each row's stream (0, A[0], ..,
// A[P-1], 0) passes through all C registers of the row and leaves them at zero.
uint64_t FastEngine::fast_act_toggles() const {
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
