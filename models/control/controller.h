// The controller (ARCHITECTURE.md "data flow"): the register map on a
// TLM-2.0 target socket (registers.h: layer descriptor, start, status, cycle
// count, done interrupt) and one thread that runs a layer: it executes the
// layer's plan (layer_plan.h) in SystemC time, with the DMA's transfers, the
// PE array's folds and the output stage (output_stage.h) writing back to
// DRAM. In fast mode, untraced, it runs temporally decoupled (TLM-2.0 loosely
// timed, a tlm_quantumkeeper): transfers, folds and stages advance its local
// time, which the kernel catches up with once per layer.
#pragma once

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_target_socket.h>
#include <tlm_utils/tlm_quantumkeeper.h>

#include <cstdint>
#include <string>
#include <vector>

#include "arch.h"
#include "dma.h"
#include "fold_queue.h"
#include "layer_plan.h"
#include "layer_stats.h"
#include "pe_array.h"
#include "registers.h"
#include "requant.h"
#include "sram.h"

namespace brsim {

class TraceHooks;

class Controller : public sc_core::sc_module {
 public:
  SC_HAS_PROCESS(Controller);
  sc_core::sc_out<bool> irq;
  tlm_utils::simple_target_socket<Controller> reg_socket;

  Controller(sc_core::sc_module_name name, const ArchConfig& arch, sc_core::sc_time period, PeArray* array, Dma* dma,
             Sram* wbuf, Sram* ibuf, Sram* obuf);
  ~Controller() override;

  const LayerStats& last_layer() const { return last_; }
  const std::string& error_message() const { return error_; }
  // Controller state for traces: 0 idle, 1 DMA, 2 fold, 3 output stage.
  const int& state() const { return state_; }
  const uint64_t& fold_index() const { return fold_index_; }
  sc_core::sc_time clock_period() const { return period_; }
  void set_tracer(TraceHooks* t) { tracer_ = t; }

 private:
  class LayerRun;  // the plan's executor (controller.cpp)
  void b_transport(tlm::tlm_generic_payload& t, sc_core::sc_time& delay);
  void run();
  void run_layer(const LayerDescriptor& d, int sqrt2_terms);
  void set_state(int s);
  uint64_t now_cycle() const;

  // Time. Synchronized, the controller waits for everything; decoupled
  // (fixed when a layer starts: fast mode, untraced), folds, stalls and
  // output stages add to the quantum keeper's local time, and transfers
  // complete on the DMA channels' timelines.
  bool decoupled_ = false;
  tlm_utils::tlm_quantumkeeper qk_;
  uint64_t base_cycle_ = 0;  // decoupled: the kernel's cycle while the layer runs (it waits only at its end)
  uint64_t timeline_cycle() const;
  void advance(uint64_t cycles);  // the controller's time moves on by `cycles`

  // DMA: transfers issued on the DMA's channels, waited for (a stall) and taken.
  uint64_t dma_issue(bool write, uint64_t addr, std::vector<uint8_t> data);
  void dma_wait(uint64_t id);
  void dma_take(uint64_t id, std::vector<uint8_t>* data);  // DmaError for a failed transfer
  void dma_drain(bool report_errors);  // every transfer taken: the layer's writes have landed

  // Folds: on the array (synchronized: started, waited for; decoupled: run
  // now), or queued for fast mode's engine (decoupled weight stationary).
  void run_fold(const FoldJob& job);
  bool queues_folds() const { return decoupled_ && arch_.dataflow == Dataflow::WeightStationary; }

  ArchConfig arch_;
  PeArray* array_;
  Dma* dma_;
  Sram *wbuf_, *ibuf_, *obuf_;
  sc_core::sc_time period_;
  RegisterFile regs_{};
  sc_core::sc_event start_;
  LayerStats last_;
  std::string error_;
  int state_ = 0;
  uint64_t fold_index_ = 0;
  uint64_t layers_started_ = 0;
  uint64_t load_ids_ = 0;  // FoldJob::load_id of the weight loads so far
  uint64_t act_ids_ = 0;   // FoldJob::act_id: one per im2col view (a kept tile's chunks: one) built so far
  FoldQueue queue_;
  TraceHooks* tracer_ = nullptr;
};

}  // namespace brsim
