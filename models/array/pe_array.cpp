#include "pe_array.h"

#include "trace_hooks.h"

namespace brsim {

PeArray::PeArray(sc_core::sc_module_name name, const ArchConfig& arch, sc_core::sc_time period, Sram* weight_buf,
                 Sram* input_buf, Sram* output_buf)
    : sc_module(name),
      state_(ArrayShape(arch)),
      reference_(arch, &state_, &counters_, weight_buf, input_buf, output_buf),
      engine_(arch, &state_, &counters_, weight_buf, input_buf, output_buf),
      period_(period) {
  SC_METHOD(tick);
  sensitive << start_;
  dont_initialize();
}

void PeArray::set_activity(bool on) {
  reference_.set_activity(on);
  engine_.set_activity(on);
}

void PeArray::set_tracer(TraceHooks* t) {
  tracer_ = t;
  if (t) set_activity(true);
}

void PeArray::start(const FoldJob& job) {
  job_ = job;
  start_.notify(sc_core::SC_ZERO_TIME);
}

bool PeArray::traced_edge() {
  const bool last = reference_.edge();
  if (tracer_)
    tracer_->array_edge(static_cast<uint64_t>(sc_core::sc_time_stamp() / period_ + 0.5), *this, state_.feed.data());
  return last;
}

void PeArray::tick() {
  if (!running_) {  // woken by start(): the fold begins on the next edge
    if (fast_ && tracer_ == nullptr) {
      // Fast mode: every edge of the fold now, in one activation; done fires
      // when the cycle-by-cycle model's last edge would.
      done_.notify(period_ * static_cast<double>(engine_.run(job_)));
      next_trigger();
      return;
    }
    reference_.begin(job_);
    running_ = true;
    if (fast_) {  // traced: the reference's edges, all in this activation
      uint64_t edges = 1;
      while (!traced_edge()) ++edges;
      running_ = false;
      done_.notify(period_ * static_cast<double>(edges));
      next_trigger();
      return;
    }
    next_trigger(period_);
    return;
  }
  if (traced_edge()) {
    running_ = false;
    done_.notify(sc_core::SC_ZERO_TIME);
    next_trigger();  // back to static sensitivity: the next start()
    return;
  }
  next_trigger(period_);  // the next rising edge
}

}  // namespace brsim
