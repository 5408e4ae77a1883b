// DMA engine: moves bytes between DRAM (over a TLM-2.0 initiator socket) and
// the on-chip buffers, through a read and a write channel (independent, as
// AXI's). The controller queues transfers on them (issue) and waits for the
// ones it needs (done, done_event, take). Each transfer is one TLM
// transaction whose annotated delay its channel's thread waits out; the
// channels are pipelined (dma_timeline.h). A temporally decoupled controller
// (TLM-2.0 loosely timed) has each transaction run when it is issued and its
// completion follow from the channel's timeline, with no kernel event.
// A decoupled controller may also book reads on the read channel's
// timeline without a transaction and read their bytes in place, where the
// DRAM grants direct memory access (TLM DMI; direct_read, book_read).
#pragma once

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>

#include <algorithm>
#include <cstdint>
#include <deque>
#include <stdexcept>
#include <string>
#include <vector>

#include "dma_timeline.h"

namespace brsim {

// SC_REPORT message id: each transfer is logged at SC_DEBUG verbosity (free
// when the verbosity is lower: nothing is formatted).
inline constexpr const char kDmaMsgId[] = "brsim/dma";

// bytes_in: DRAM -> chip (reads); bytes_out: chip -> DRAM (writes); cycles:
// the sum of the cycles the transfers took. Failed transfers are not counted.
struct DmaCounters {
  uint64_t bytes_in = 0, bytes_out = 0, transfers = 0, cycles = 0;
};

class TraceHooks;

class Dma : public sc_core::sc_module {
 public:
  tlm_utils::simple_initiator_socket<Dma> socket;
  SC_HAS_PROCESS(Dma);

  // ConfigError if clock_period is zero. bytes_per_cycle: the DRAM's
  // bandwidth, which splits a transfer's cycles into latency and data.
  Dma(sc_core::sc_module_name name, sc_core::sc_time clock_period, int bytes_per_cycle = 16);

  // ---- The channels ----
  // Queues a transfer issued at cycle `issue_cycle` on the read or write
  // channel; returns its id. Synchronized, the channel's thread moves it
  // (done_event() fires when it is done); decoupled, it runs now and
  // done_cycle() says when it is done on the channel's timeline.
  uint64_t issue(bool write, uint64_t addr, std::vector<uint8_t> data, uint64_t issue_cycle, bool decoupled);
  bool done(uint64_t id);
  bool is_write(uint64_t id) { return request(id).write; }
  uint64_t done_cycle(uint64_t id);
  const sc_core::sc_event& done_event() const { return done_; }
  // A done transfer leaves: its bytes (a read's data) into *data (if given),
  // and its error ("" when it succeeded).
  std::string take(uint64_t id, std::vector<uint8_t>* data);
  // A zeroed buffer for a read of `bytes`, reusing the ones taken before.
  std::vector<uint8_t> buffer(uint64_t bytes);
  std::vector<uint64_t> outstanding() const;  // ids not taken yet, in order
  uint64_t channels_free() const { return std::max(timeline_[0].free, timeline_[1].free); }
  void set_tracer(TraceHooks* t) { tracer_ = t; }

  // ---- Reads booked on the timeline (a decoupled controller's bulk path) ----
  // The DRAM's bytes [addr, addr + bytes) in place, when the DRAM grants
  // direct memory access to them (TLM DMI: no back-pressure) and transfers
  // are not logged (verbosity below SC_DEBUG); null otherwise. No grant is
  // kept: the caller asks again for each layer.
  const uint8_t* direct_read(uint64_t addr, uint64_t bytes);
  // A read of `bytes` issued at `issue_cycle` (after direct_read granted
  // its bytes), booked on the read channel's timeline as issue() would run
  // its transaction (the grant's latency, then bytes_per_cycle): returns
  // the cycle it is done, and counts it as a transfer.
  uint64_t book_read(uint64_t bytes, uint64_t issue_cycle) {
    const uint64_t data = (bytes + bytes_per_cycle_ - 1) / bytes_per_cycle_;
    counters_.bytes_in += bytes;
    ++counters_.transfers;
    counters_.cycles += dmi_latency_ + data;
    return timeline_[0].complete(issue_cycle, dmi_latency_, data);
  }

  // ---- One transaction ----

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
  struct Request {
    bool write = false, done = false, taken = false;
    uint64_t addr = 0, issue_cycle = 0, done_cycle = 0;  // done_cycle: decoupled
    std::vector<uint8_t> data;
    std::string error;
  };
  Request& request(uint64_t id);  // an id not taken yet (a logic_error otherwise)
  uint64_t run(Request& r);       // its transaction; returns the cycle it is done on its channel
  void channel(int ch);           // a channel's thread: 0 read, 1 write
  void read_channel() { channel(0); }
  void write_channel() { channel(1); }
  uint64_t now_cycle() const;
  // Requests base_id_, base_id_ + 1, ..., from the oldest not yet taken
  // (ids are issued in order; taken ones leave from the front).
  std::deque<Request> reqs_;
  uint64_t base_id_ = 0, next_id_ = 0;
  std::deque<uint64_t> queue_[2];  // read, write: waiting for (or on) the channel
  DmaTimeline timeline_[2];
  sc_core::sc_event issued_[2], done_;
  std::vector<std::vector<uint8_t>> spare_;  // read buffers to reuse
  TraceHooks* tracer_ = nullptr;
  uint64_t bytes_per_cycle_;
  uint64_t dmi_latency_ = 0;  // cycles, from the last direct_read grant
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
