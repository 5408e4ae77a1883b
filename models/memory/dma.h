// DMA engine: moves bytes between DRAM (over a TLM-2.0 initiator socket) and
// the on-chip buffers. Called from the controller's thread; each call is one
// transaction whose annotated delay the DMA waits out, so the controller's
// time advances by exactly the DRAM's transfer cycles. A temporally decoupled
// caller (TLM-2.0 loosely timed) passes its local time offset instead: the
// delay is added to it and nothing waits.
#pragma once

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>

#include <cstdint>
#include <stdexcept>
#include <string>

namespace brsim {

// SC_REPORT message id: each transfer is logged at SC_DEBUG verbosity (free
// when the verbosity is lower: nothing is formatted).
inline constexpr const char kDmaMsgId[] = "brsim/dma";

// bytes_in: DRAM -> chip (reads); bytes_out: chip -> DRAM (writes); cycles:
// the sum of the cycles the transfers took. Failed transfers are not counted.
struct DmaCounters {
  uint64_t bytes_in = 0, bytes_out = 0, transfers = 0, cycles = 0;
};

class Dma : public sc_core::sc_module {
 public:
  tlm_utils::simple_initiator_socket<Dma> socket;

  // ConfigError if clock_period is zero.
  Dma(sc_core::sc_module_name name, sc_core::sc_time clock_period);

  // Blocking: one TLM read/write of `bytes` at DRAM address `addr`, then
  // wait() for the annotated delay. Returns the cycles it took. Must be
  // called from an SC_THREAD/SC_CTHREAD. A TLM error response throws
  // DmaError with the address, length and response (no time passes then).
  // Also DmaError when bytes exceeds one TLM transaction (2^32 - 1 bytes),
  // the data pointer is null, or the delay is not a whole number of cycles.
  // With `local_offset` (the caller's time ahead of the kernel's), the
  // transaction starts at that offset and the call returns with the offset
  // advanced by the transfer instead of waiting: callable from anywhere.
  uint64_t read(uint64_t addr, uint8_t* dst, uint64_t bytes, sc_core::sc_time* local_offset = nullptr);
  uint64_t write(uint64_t addr, const uint8_t* src, uint64_t bytes, sc_core::sc_time* local_offset = nullptr);

  const DmaCounters& counters() const { return counters_; }
  std::string last_transfer() const;  // for traces: "read 0x1000+256"

 private:
  uint64_t transfer(tlm::tlm_command cmd, uint64_t addr, uint8_t* data, uint64_t bytes, sc_core::sc_time* local_offset);
  sc_core::sc_time period_;
  DmaCounters counters_;
  // The last transfer, formatted only when asked (a transfer must stay cheap).
  bool last_is_read_ = true, any_ = false;
  uint64_t last_addr_ = 0, last_bytes_ = 0;
  // Reused: one read and one write may be in flight (the read and write channels).
  tlm::tlm_generic_payload payload_[2];
};

// A failed DMA transfer: a bug in whoever programmed it (controller, testbench).
class DmaError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace brsim
