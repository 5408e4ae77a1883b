// What the hardware reports to a tracer (ARCHITECTURE.md "Modelling rules",
// STYLE.md practice 8): the controller's state, DMA transfers and every
// clock edge of the PE array. The blocks call these hooks only when a tracer
// is attached, so tracing off costs a null-pointer test per cycle. traces/
// implements them (AccelTracer: VCD, SAIF, GTKWave save file); models/ does
// not depend on traces/.
#pragma once

#include <cstdint>

namespace brsim {

class PeArray;

class TraceHooks {
 public:
  virtual ~TraceHooks() = default;
  // cycle = simulated time / clock period.
  virtual void begin_layer(int started, uint64_t cycle) = 0;  // started: layers started so far
  virtual void controller(uint64_t cycle, int state, uint64_t fold) = 0;
  virtual void dma(uint64_t cycle, bool busy, bool write, uint64_t addr, uint64_t bytes) = 0;
  // After a clock edge of the array: its registers (PeArray's accessors) and
  // what entered each row this edge (`feed`, R values).
  virtual void array_edge(uint64_t cycle, const PeArray& array, const int64_t* feed) = 0;
  virtual void initial_state(const PeArray& array) = 0;  // cycle 0: every register's reset value
  virtual void finish(uint64_t end_cycle) = 0;            // the run ended: close what was written
};

}  // namespace brsim
