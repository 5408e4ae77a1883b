// The PE array (ARCHITECTURE.md "The PE array and its timing"): R x C
// processing elements as one clocked process over flat PE state
// (ArrayState). Cycle by cycle, each activation is one rising edge of the
// fold reference (fold_reference.h: weight, output or input stationary,
// with the array's decoders and AEs); in fast mode one activation runs a
// whole fold through fast mode's engine (models/fast/), with the same
// outputs, cycles, counts and final registers. The controller hands it
// folds (FoldJob) and waits for done().
#pragma once

#include <systemc>

#include <cstdint>
#include <vector>

#include "arch.h"
#include "array_state.h"
#include "fast_engine.h"
#include "fold.h"
#include "fold_reference.h"
#include "sram.h"

namespace brsim {

class TraceHooks;

class PeArray : public sc_core::sc_module {
 public:
  SC_HAS_PROCESS(PeArray);
  // The array's clock edges are its process activations, one per period
  // while a fold runs (no clock signal toggles while the array is idle).
  PeArray(sc_core::sc_module_name name, const ArchConfig& arch, sc_core::sc_time period, Sram* weight_buf,
          Sram* input_buf, Sram* output_buf);

  // Starts a fold on the next rising edge; done() fires after its last edge.
  void start(const FoldJob& job);
  const sc_core::sc_event& done() const { return done_; }
  bool busy() const { return running_; }
  // Switching-activity counting (on by default); off makes the array faster.
  void set_activity(bool on);
  // Fast mode: a fold's edges run in one activation (no per-cycle kernel
  // events), through fast mode's engine unless a tracer is attached.
  void set_fast(bool on) { fast_ = on; }
  bool fast() const { return fast_; }
  // Fast mode for a temporally decoupled caller (no tracer): runs a whole
  // fold now, without kernel events, and returns its edges; the caller's
  // local time advances by them. Same results and counts as start().
  uint64_t run_fold_now(const FoldJob& job) { return engine_.run(job); }
  uint64_t run_folds_now(const FoldJob* jobs, size_t n) { return engine_.run(jobs, n); }
  // Fast mode's engine: its tuning (threads, paths) and what it took.
  FastEngine& fast_engine() { return engine_; }
  const FastEngine& fast_engine() const { return engine_; }
  // Traces every edge into `t` (nullptr: off). Tracing needs activity on
  // (the product registers are kept only then).
  void set_tracer(TraceHooks* t);
  const FoldCounters& counters() const { return counters_; }
  const ArrayDatapath& datapath() const { return reference_.datapath(); }

  // PE state, for traces and tests (stable addresses for the whole run).
  int rows() const { return state_.R; }
  int cols() const { return state_.C; }
  Dataflow dataflow() const { return state_.shape.flow; }
  const std::vector<int64_t>& psum() const { return state_.psum; }
  const std::vector<int64_t>& products() const { return state_.prod; }
  int64_t act_at(int r, int c) const { return state_.act_at(r, c); }
  const std::vector<DecodedWeight>& decoded() const {
    state_.sync_weights();
    return state_.dec;
  }
  const std::vector<int64_t>& weights() const {
    state_.sync_weights();
    return state_.weff;
  }

 private:
  void tick();
  bool traced_edge();  // one edge of the reference, reported to the tracer; true when the fold ends

  ArrayState state_;
  FoldCounters counters_;
  FoldReference reference_;
  FastEngine engine_;
  sc_core::sc_time period_;
  FoldJob job_;
  TraceHooks* tracer_ = nullptr;
  bool fast_ = false, running_ = false;
  sc_core::sc_event start_, done_;
};

}  // namespace brsim
