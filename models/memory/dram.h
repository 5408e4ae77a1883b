// DRAM model (ARCHITECTURE.md "data flow"): a byte-addressed memory behind
// TLM-2.0 target sockets, loosely timed. Each transaction costs
// latency + ceil(bytes / bytes_per_cycle) clock cycles, annotated on the
// delay. The host socket loads and reads tensors; the DMA socket is the
// accelerator's. Bytes and transactions are counted per socket. The DMA
// socket grants direct memory access (TLM DMI) to the whole memory while
// there is no back-pressure (a transfer's cost is then latency + data
// cycles, the DMI grant's latency being the per-transaction latency);
// accesses through it bypass the target and are not counted here.
#pragma once

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_target_socket.h>

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <vector>

#include "arch.h"

namespace brsim {

// SC_REPORT message id of the DRAM: a rejected transaction (bad address,
// command, byte enables or streaming width) is an SC_WARNING with this id, so
// tests and runs can count them (sc_report_handler::get_count).
inline constexpr const char kDramMsgId[] = "brsim/dram";

// Largest modelled memory: 4 GiB, a 32-bit DRAM address space.
inline constexpr uint64_t kDramMaxBytes = uint64_t{1} << 32;

// ConfigError naming the field (dram.size_bytes, dram.latency_cycles,
// dram.bytes_per_cycle) and its range. Allocates nothing.
void validate(const DramConfig& d);

struct DramCounters {
  uint64_t bytes_read = 0, bytes_written = 0, transactions = 0;
};

class Dram : public sc_core::sc_module {
 public:
  tlm_utils::simple_target_socket<Dram> host_socket;
  tlm_utils::simple_target_socket<Dram> dma_socket;

  // Validates cfg (ConfigError) and a positive clock period.
  Dram(sc_core::sc_module_name name, const DramConfig& cfg, sc_core::sc_time clock_period);

  // Cycles one transaction of `bytes` costs: latency + ceil(bytes / bytes_per_cycle).
  uint64_t transfer_cycles(uint64_t bytes) const;
  const DramCounters& host_counters() const { return host_; }
  const DramCounters& dma_counters() const { return dma_; }
  uint64_t size() const { return size_; }
  // Back-pressure for tests and what-if runs: every DMA transaction waits
  // an extra 0..max_extra cycles drawn from a seeded generator (contention,
  // refresh). The extra cycles are counted; the host socket is unaffected.
  void set_backpressure(uint64_t seed, uint64_t max_extra);
  uint64_t backpressure_cycles() const { return extra_total_; }
  const DramConfig& config() const { return cfg_; }
  // How many Drams of this process took a released memory (zeroed) rather
  // than a fresh one (StorageDeleter).
  static uint64_t storage_reuses();

 private:
  void b_transport_host(tlm::tlm_generic_payload& t, sc_core::sc_time& delay);
  void b_transport_dma(tlm::tlm_generic_payload& t, sc_core::sc_time& delay);
  unsigned debug_transport(tlm::tlm_generic_payload& t);
  bool get_direct_mem_ptr(tlm::tlm_generic_payload& t, tlm::tlm_dmi& dmi);
  void access(tlm::tlm_generic_payload& t, sc_core::sc_time& delay, DramCounters& c);
  bool in_range(uint64_t addr, uint64_t len) const { return addr < size_ && len <= size_ - addr; }

  // calloc'd storage: zero pages cost nothing until touched, so the default
  // 256 MiB memory is cheap for a network that uses a few hundred KiB. A
  // released memory is kept for the next Dram of the same size in the
  // process (runs one after another: layers, sweep points), which zeroes
  // only the blocks the last one wrote (dirty_) instead of faulting fresh
  // pages in. Every write goes through access() or debug_transport(): the
  // direct access the DMA takes is read only.
  static constexpr uint64_t kDirtyBlock = uint64_t{64} << 10;  // bytes per dirty_ bit
  void mark_dirty(uint64_t addr, uint64_t len) {
    for (uint64_t b = addr / kDirtyBlock, e = (addr + len - 1) / kDirtyBlock; b <= e; ++b) dirty_[b / 64] |= uint64_t{1} << (b % 64);
  }
  struct StorageDeleter {
    uint64_t size;
    const std::vector<uint64_t>* dirty;  // the blocks written (the Dram's dirty_, alive while mem_ is)
    void operator()(uint8_t* p) const;
  };

  DramConfig cfg_;
  sc_core::sc_time period_;
  uint64_t size_ = 0;
  uint64_t rng_state_ = 0, max_extra_ = 0, extra_total_ = 0;
  std::vector<uint64_t> dirty_;  // (declared before mem_: its deleter reads it)
  std::unique_ptr<uint8_t[], StorageDeleter> mem_{nullptr, StorageDeleter{0, nullptr}};
  DramCounters host_, dma_;
};

}  // namespace brsim
