#include "fast_engine.h"

#include <stdexcept>

#include "deferred.h"
#include "worker.h"

namespace brsim {

FastEngine::FastEngine(const ArchConfig& arch, ArrayState* state, FoldCounters* counters, Sram* weight_buf,
                       Sram* input_buf, Sram* output_buf, const FastTuning& tuning)
    : shape_(arch),
      s_(*state),
      c_(*counters),
      wbuf_(weight_buf),
      ibuf_(input_buf),
      obuf_(output_buf),
      tune_(tuning),
      R_(arch.rows),
      C_(arch.cols),
      acc_bits_(arch.datapath.acc_bits),
      act_bits_(arch.datapath.act_bits) {
  acc_hi_ = static_cast<int64_t>((static_cast<__int128>(1) << (acc_bits_ - 1)) - 1);
  acc_lo_ = -acc_hi_ - 1;
  act_mask_ = s_.act_mask();
  acc_mask_ = s_.acc_mask();
  acc_words_ = output_buf->words(static_cast<uint64_t>(acc_bits_));
  m32_ = acc_bits_ >= 32 ? ~0u : (1u << acc_bits_) - 1u;
  ext_ = acc_bits_ > 32 ? static_cast<uint64_t>(acc_bits_ - 32) : 0;
  const size_t R = static_cast<size_t>(R_);
  c4_ = (static_cast<size_t>(C_) + 3) / 4 * 4;
  c8_ = (static_cast<size_t>(C_) + 7) / 8 * 8;
  wbits16_.assign(R * c4_, 0);
  wbits16_new_.assign(R * c4_, 0);
  w32_.assign(R * c8_, 0);
  ps32_.assign(R * c8_, 0);
  pr32_.assign(R * c8_, 0);
  weff32_.assign(R * static_cast<size_t>(C_), 0);
}

FastEngine::~FastEngine() {
  sync();
  if (s_.lazy_weights == this) s_.sync_weights();  // the registers outlive the engine's copy of them
}

Worker& FastEngine::worker() {
  // A fold's hand-overs take microseconds; between two m-tiles of a fully
  // connected layer the caller works alone for about 80 us, and waking a
  // sleeping worker costs tens of microseconds (docs/fast-mode.md "Two threads").
  constexpr std::chrono::microseconds kSpin{200};
  if (!worker_) worker_ = std::make_unique<Worker>(kSpin);
  return *worker_;
}

uint64_t FastEngine::run(const FoldJob& job) { return run(&job, 1); }

uint64_t FastEngine::run_fold_job(const FoldJob& job) {
  job_ = job;
  if (shape_.pe == PeType::BrsLog && approx_terms_ != job.sqrt2_terms) {  // K changes per layer at most
    approx_ = sqrt2_approx(job.sqrt2_terms);
    approx_terms_ = job.sqrt2_terms;
  }
  ++c_.folds;
  if (shape_.flow == Dataflow::WeightStationary) {
    ws_fold();
  } else {
    if (shape_.flow == Dataflow::OutputStationary) df_begin();  // os has no load phase
    df_fold();
  }
  const FoldTiming t = fold_timing(shape_, job);
  count_fold_edges(shape_, t, &c_);
  return t.edges();
}

uint64_t FastEngine::run_one_pixel(const FoldJob& first, uint64_t n) {
  if (n == 0) return 0;
  sync();  // (nothing is in flight between the engine's calls)
  if (shape_.flow != Dataflow::WeightStationary || first.p != 1 || !first.codes)
    throw std::logic_error("internal: run_one_pixel takes weight-stationary folds of one pixel with codes");
  job_ = first;
  if (shape_.pe == PeType::BrsLog && approx_terms_ != first.sqrt2_terms) {
    approx_ = sqrt2_approx(first.sqrt2_terms);
    approx_terms_ = first.sqrt2_terms;
  }
  const CodeTable* t = fold1_applies() ? fold_tables() : nullptr;
  if (t && (!t->packed || uint64_t{t->max_mag} * static_cast<uint64_t>(R_) > UINT32_MAX)) t = nullptr;
  AePaths paths;
  run_paths_ = &paths;
  uint64_t i = 0;
  if (t && tune_.threads > 1 && n >= tune_.split_run) i = fold1_split(first, n, *t);
  for (; i < n; ++i) {
    run_fold(first, i);
    if (t && fold1(*t)) continue;
    fast_load();  // ws_fold's two steps
    fast_stream();
  }
  run_paths_ = nullptr;
  c_.folds += n;
  count_useful_work(shape_, first, paths, &c_, n);
  const FoldTiming f = fold_timing(shape_, first);
  const FoldTiming all{f.load * n, f.stream * n, f.skew * n, f.shift_out * n};
  count_fold_edges(shape_, all, &c_);
  stats_.run_folds += n;
  return all.edges();
}

uint64_t FastEngine::run(const FoldJob* jobs, size_t n) {
  uint64_t edges = 0;
  try {
    for (size_t i = 0; i < n; ++i) edges += run_fold_job(jobs[i]);
  } catch (...) {
    sync();  // no deferred stream outlives the call (its outputs are the caller's)
    throw;
  }
  sync();  // the outputs and counts are complete when the engine returns
  return edges;
}

}  // namespace brsim
