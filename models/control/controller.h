// The controller (ARCHITECTURE.md "data flow"): a register map on a TLM-2.0
// target socket (layer descriptor, start, status, cycle count, done
// interrupt) and one thread that runs a layer: DMA of parameters, input
// bands and weight tiles, folds on the PE array, and the output stage
// (requantize, ReLU, pooling; BRSLOG.md section 7) writing back to DRAM.
#pragma once

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_target_socket.h>

#include <array>
#include <deque>
#include <memory>
#include <cstdint>
#include <string>
#include <vector>

#include "arch.h"
#include "dma.h"
#include "layer_schedule.h"
#include "pe_array.h"
#include "requant.h"
#include "sram.h"

namespace brsim {

class TraceHooks;

// Register map (32-bit registers, byte offsets). README "Register map".
namespace reg {
constexpr uint32_t kId = 0x00;          // RO  0x42525331 ("BRS1")
constexpr uint32_t kCtrl = 0x04;        // WO  bit0 START, bit1 IRQ_CLEAR
constexpr uint32_t kStatus = 0x08;      // RO  bit0 BUSY, bit1 DONE, bit2 ERROR
constexpr uint32_t kCyclesLo = 0x0C;    // RO  cycles of the last layer, low word
constexpr uint32_t kCyclesHi = 0x10;    // RO  high word
constexpr uint32_t kErrorCode = 0x14;   // RO  1 bad descriptor, 2 DMA error
constexpr uint32_t kLayerCfg = 0x20;    // RW  bit0 FC, bit1 RELU, bits[3:2] POOL (0 none, 1 max, 2 avg), bit4 PER_CHANNEL
constexpr uint32_t kInC = 0x24;         // RW
constexpr uint32_t kInH = 0x28;         // RW
constexpr uint32_t kInW = 0x2C;         // RW
constexpr uint32_t kOutM = 0x30;        // RW
constexpr uint32_t kKernel = 0x34;      // RW  kh [15:0], kw [31:16]
constexpr uint32_t kStride = 0x38;      // RW  sh [15:0], sw [31:16]
constexpr uint32_t kPad = 0x3C;         // RW  top [7:0], left [15:8], bottom [23:16], right [31:24]
constexpr uint32_t kInAddr = 0x40;      // RW  DRAM byte addresses
constexpr uint32_t kWAddr = 0x44;       // RW
constexpr uint32_t kParamAddr = 0x48;   // RW
constexpr uint32_t kOutAddr = 0x4C;     // RW
constexpr uint32_t kSegCfg = 0x50;      // RW  n2 [7:0], p [8], sqrt2 terms K [19:16]
constexpr uint32_t kPoolKernel = 0x54;  // RW  kh [15:0], kw [31:16]
constexpr uint32_t kPoolStride = 0x58;  // RW  sh [15:0], sw [31:16]
constexpr uint32_t kPoolPad = 0x5C;     // RW  top, left, bottom, right bytes
constexpr uint32_t kMapBytes = 0x60;
constexpr uint32_t kIdValue = 0x42525331;
constexpr uint32_t kStatusBusy = 1, kStatusDone = 2, kStatusError = 4;
}  // namespace reg

// The register words of a descriptor (what the host writes), and back.
std::vector<std::pair<uint32_t, uint32_t>> descriptor_registers(const LayerDescriptor& d, int sqrt2_terms);
LayerDescriptor descriptor_from_registers(const std::array<uint32_t, reg::kMapBytes / 4>& regs, int* sqrt2_terms);

// Per-layer statistics the controller keeps (the last layer's and totals).
struct LayerStats {
  LayerCycles cycles;
  uint64_t macs = 0;
  uint64_t folds = 0;
  uint64_t array_overflows = 0, output_overflows = 0;
  RequantStats requant;
  uint64_t dram_bytes_read = 0, dram_bytes_written = 0;
  uint64_t weight_reads = 0, input_reads = 0, input_writes = 0, output_reads = 0, output_writes = 0;  // words
  uint64_t weight_writes = 0, decodes = 0;
  // Actions and switching activity of the PE array (FoldCounters).
  uint64_t ae_sqrt2 = 0, ae_pow2 = 0, ae_zero = 0, fixed16_muls = 0, acc_adds = 0, reg_write_bits = 0;
  uint64_t toggles_weight = 0, toggles_act = 0, toggles_product = 0, toggles_psum = 0;
  void add(const LayerStats& o);  // sums every field
};

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
  // Batches of queued folds the second host thread ran so far (flush_folds).
  uint64_t runner_batches() const { return runner_batches_; }

 private:
  void b_transport(tlm::tlm_generic_payload& t, sc_core::sc_time& delay);
  void run();
  // The DMA's read and write channels: transfers queue in issue order;
  // dma_await() stalls the controller until one is done (see closed_form()).
  void read_channel();
  void write_channel();
  void dma_channel(int ch);  // 0 read, 1 write
  uint64_t dma_issue(bool write, uint64_t addr, std::vector<uint8_t> data);
  std::vector<uint64_t> dma_issue_reads(const std::vector<Chunk>& chunks);
  void dma_await(uint64_t id, std::vector<uint8_t>* data);
  std::vector<uint8_t> dma_buffer(uint64_t bytes);
  std::vector<std::vector<uint8_t>> spare_bufs_;  // read buffers to reuse (dma_buffer)
  void dma_read_all(const std::vector<uint64_t>& ids, std::vector<uint8_t>* bytes);
  void dma_read_serial(const std::vector<Chunk>& chunks, std::vector<uint8_t>* bytes);
  void dma_await_cycle(uint64_t cycle);
  void dma_drain(bool report_errors);
  void run_layer(const LayerDescriptor& d, int sqrt2_terms);
  void wait_cycles(uint64_t n);
  void run_fold(const FoldJob& job);
  // Decoupled weight-stationary folds are queued (their codes in the queue) and
  // run by the array in batches (PeArray::run_folds_now). The controller's
  // time advances by each fold's edges when it is queued (fast mode's: 2R
  // + P + C - 1, checked against what the array returns), so the DMA
  // timeline is the same, and the array sees the same folds in the same
  // order. A full queue of one-pixel folds (fully connected layers at batch
  // 1; with the array's two threads) runs on a second host thread
  // (FoldRunner) while the controller goes on with its DMA and unpacking;
  // larger folds run on the simulation's thread. flush_folds(true) waits
  // for every queued fold: at the end of a band's loads (the output stage
  // reads the sums) and after an error. Until then only the runner touches
  // the array; of the buffers' counters it adds reads (and the output
  // buffer's writes), the controller the input and weight buffers' writes
  // and occupancy (Sram keeps them on separate cache lines).
  struct alignas(64) FoldBatch {
    std::vector<FoldJob> jobs;
    std::vector<size_t> offsets;  // each job's codes at codes[offset]
    std::vector<uint8_t> codes;  // (grown, never shrunk: used of them hold codes)
    size_t used = 0;
    uint64_t edges = 0, ran = 0;  // edges expected, and as the array ran them
    void clear() { jobs.clear(), offsets.clear(), used = 0, edges = ran = 0; }
    uint8_t* append(size_t n) {
      if (used + n > codes.size()) codes.resize(std::max(2 * codes.size(), used + n));
      used += n;
      return codes.data() + used - n;
    }
  };
  // Where a weight load's n codes are unpacked: straight into the fold
  // queue when run_fold() will queue the fold (no copy then), else into
  // *scratch.
  uint8_t* codes_buffer(uint64_t n, std::vector<uint8_t>* scratch);
  bool queues_folds() const;
  const uint8_t* staged_ = nullptr;  // codes_buffer()'s last place in queued_
  void flush_folds(bool wait);
  void finish_batch();  // waits for the batch on the runner, checks its edges
  FoldBatch queued_, running_;
  class FoldRunner;
  std::unique_ptr<FoldRunner> runner_;
  uint64_t runner_batches_ = 0;

  ArchConfig arch_;
  PeArray* array_;
  Dma* dma_;
  Sram *wbuf_, *ibuf_, *obuf_;
  sc_core::sc_time period_;
  std::array<uint32_t, reg::kMapBytes / 4> regs_{};
  sc_core::sc_event start_;
  LayerStats last_;
  std::string error_;
  int state_ = 0;
  uint64_t fold_index_ = 0;
  uint64_t layers_started_ = 0;
  uint64_t load_ids_ = 0;  // FoldJob::load_id of the weight loads so far
  uint64_t act_ids_ = 0;   // FoldJob::act_id: one per im2col view built so far
  struct DmaRequest {
    bool write = false, done = false, awaited = false;
    uint64_t addr = 0, issue_cycle = 0, done_cycle = 0;  // done_cycle: decoupled mode
    std::vector<uint8_t> data;
    std::string error;
  };
  uint64_t dma_transfer(DmaRequest& r);
  // Requests dma_base_id_, dma_base_id_ + 1, ..., from the oldest not yet
  // awaited (ids are issued in order; awaited ones leave from the front).
  std::deque<DmaRequest> dma_reqs_;
  uint64_t dma_base_id_ = 0;
  DmaRequest& dma_request(uint64_t id);
  std::deque<uint64_t> dma_queue_[2];       // read, write: waiting for (or on) the channel
  uint64_t dma_next_id_ = 0, channel_free_[2] = {0, 0};
  sc_core::sc_event dma_issued_[2], dma_done_;
  TraceHooks* tracer_ = nullptr;
  uint64_t now_cycle() const;
  void set_state(int s);

  // Temporal decoupling (TLM-2.0 loosely timed) when the array runs in fast
  // mode untraced: folds, DMA transfers
  // and output-stage cycles add to local_ (the controller's time ahead of the
  // kernel's) instead of waiting; sync() waits it out at the end of a layer.
  // The timeline, and so every cycle count, is the synchronized one's.
  // Fixed for a layer (set when it starts): the array's fields share cache
  // lines with what its fold runner writes on every fold, so the controller
  // does not read them per transfer.
  bool decoupled() const { return decoupled_; }
  bool decoupled_ = false;
  int array_threads_ = 1;  // the array's host threads (PeArray::threads), for the layer
  void sync();
  uint64_t local_ = 0;       // cycles ahead of the kernel's time
  uint64_t base_cycle_ = 0;  // decoupled: the kernel's cycle while the layer runs (it waits only in sync())
  uint64_t timeline_cycle() const { return (decoupled_ ? base_cycle_ : now_cycle()) + local_; }
};

}  // namespace brsim
