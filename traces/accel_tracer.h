// Opt-in, selective tracing of the cycle-by-cycle accelerator (ARCHITECTURE.md
// "Modelling rules", STYLE.md practice 8): a VCD of chosen blocks
// (controller state and counters, DMA transfers, the column decoders, the
// array boundary), chosen PEs, a cycle window and a layer, with a GTKWave
// save file beside it; and a SAIF activity file of the PE registers. The
// array and controller call it only when a tracer is attached, so tracing
// off costs a null-pointer test per cycle.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "arch.h"
#include "trace_hooks.h"
#include "saif_writer.h"
#include "trace_select.h"
#include "vcd_writer.h"

namespace brsim {

struct TraceOptions {
  std::string vcd_path;   // empty: no VCD
  std::string saif_path;  // empty: no SAIF
  TraceSelection select;  // blocks, PEs, cycle window, layer (the VCD's)
  TraceLimit limit;       // refuse a VCD estimated above limit.max_bytes unless forced
  uint64_t expected_cycles = 0;  // the run's cycles (closed form), for the size estimate
};

class AccelTracer : public TraceHooks {
 public:
  // Opens the files and declares the signals. ConfigError for a selection
  // outside the array, an unknown layer, or a VCD over the size limit.
  AccelTracer(const TraceOptions& opt, const ArchConfig& arch, const std::vector<std::string>& layer_names);
  ~AccelTracer() override;

  // The VCD's size estimate (0 without a VCD), stated before the run.
  uint64_t estimated_vcd_bytes() const { return estimate_; }
  std::string describe_estimate() const;

  // Hooks (cycle = simulated time / clock period).
  void begin_layer(int started, uint64_t cycle) override;
  void controller(uint64_t cycle, int state, uint64_t fold) override;
  void dma(uint64_t cycle, bool busy, bool write, uint64_t addr, uint64_t bytes) override;
  void array_edge(uint64_t cycle, const PeArray& array, const int64_t* feed) override;
  void initial_state(const PeArray& array) override;
  // Closes the files and writes the .gtkw beside the VCD.
  void finish(uint64_t end_cycle) override;

  uint64_t saif_toggles() const;  // TC summed over every SAIF net

 private:
  bool vcd_on(uint64_t cycle) const;
  void begin(uint64_t cycle);

  TraceOptions opt_;
  ArchConfig arch_;
  uint64_t period_ps_ = 2000;
  std::vector<std::string> layers_;
  std::unique_ptr<VcdWriter> vcd_;
  std::unique_ptr<SaifRecorder> saif_;
  uint64_t estimate_ = 0;
  int layer_ = -1;
  uint64_t layer_start_ = 0;
  uint64_t last_cycle_ = 0;
  bool started_ = false, finished_ = false;
  // VCD signal ids (-1: not traced).
  int ctrl_state_ = -1, ctrl_layer_ = -1, ctrl_fold_ = -1;
  int dma_busy_ = -1, dma_write_ = -1, dma_addr_ = -1, dma_bytes_ = -1;
  std::vector<int> dec_zero_, dec_sign_, dec_flag_, dec_shift_;  // per column
  std::vector<int> act_in_, psum_out_;                            // per row, per column
  struct PeIds {
    int r, c;
    int zero, sign, flag, shift, act, product, psum;
  };
  std::vector<PeIds> pes_;
  struct SaifPe {
    int r, c;
    int weight, act, product, psum;
  };
  std::vector<SaifPe> saif_pes_;
};

}  // namespace brsim
