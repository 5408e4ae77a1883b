// DRAM model: see dram.h. Loosely timed: a transaction completes inside
// b_transport and only annotates its cost on the delay; the initiator (the DMA)
// waits it out.
#include "dram.h"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include "errors.h"

namespace brsim {

using sc_core::sc_time;
using tlm::tlm_generic_payload;

namespace {
// The last released DRAM storage (Dram::StorageDeleter), kept for reuse,
// and the blocks its Dram wrote.
struct SpareStorage {
  std::mutex m;
  uint8_t* p = nullptr;
  uint64_t size = 0;
  std::vector<uint64_t> dirty;
  uint64_t reuses = 0;
};
SpareStorage& spare() {
  static SpareStorage s;
  return s;
}

// Zeroed storage of `size` bytes: the spare one if it has that size (its
// written blocks zeroed, every other byte is still zero), else calloc'd.
uint8_t* zeroed_storage(uint64_t size, uint64_t block) {
  uint8_t* p = nullptr;
  std::vector<uint64_t> dirty;
  {
    SpareStorage& s = spare();
    std::lock_guard<std::mutex> l(s.m);
    if (s.p && s.size == size) {
      std::swap(p, s.p);
      dirty.swap(s.dirty);
      ++s.reuses;
    }
  }
  if (!p) return static_cast<uint8_t*>(std::calloc(size, 1));
  const uint64_t blocks = dirty.size() * 64;
  auto written = [&](uint64_t b) { return (dirty[b / 64] >> (b % 64)) & 1; };
  for (uint64_t b = 0; b < blocks; ++b) {
    if (!written(b)) continue;
    uint64_t e = b + 1;  // a run of written blocks at once
    while (e < blocks && written(e)) ++e;
    const uint64_t a = b * block, z = std::min(size, e * block);
    if (a < z) std::memset(p + a, 0, z - a);
    b = e;
  }
  return p;
}

const char* command_name(tlm::tlm_command cmd) {
  switch (cmd) {
    case tlm::TLM_READ_COMMAND: return "read";
    case tlm::TLM_WRITE_COMMAND: return "write";
    case tlm::TLM_IGNORE_COMMAND: return "ignore";
  }
  return "unknown";
}
}  // namespace

void validate(const DramConfig& d) {
  if (d.size_bytes == 0 || d.size_bytes > kDramMaxBytes)
    throw ConfigError("dram.size_bytes = " + std::to_string(d.size_bytes) +
                      ": expected 1 to " + std::to_string(kDramMaxBytes) + " bytes (4 GiB)");
  if (d.latency_cycles < 0)
    throw ConfigError("dram.latency_cycles = " + std::to_string(d.latency_cycles) +
                      ": expected >= 0 cycles");
  if (d.bytes_per_cycle < 1)
    throw ConfigError("dram.bytes_per_cycle = " + std::to_string(d.bytes_per_cycle) +
                      ": expected >= 1 bytes per cycle");
}

Dram::Dram(sc_core::sc_module_name name, const DramConfig& cfg, sc_time clock_period)
    : sc_module(name), host_socket("host_socket"), dma_socket("dma_socket"), cfg_(cfg),
      period_(clock_period) {
  validate(cfg_);
  if (period_ == sc_core::SC_ZERO_TIME)
    throw ConfigError(std::string(this->name()) + ": clock period must be > 0");
  size_ = cfg_.size_bytes;
  // Zero-initialised memory, as DRAM contents are defined to start at 0.
  dirty_.assign((size_ + kDirtyBlock * 64 - 1) / (kDirtyBlock * 64), 0);
  mem_ = std::unique_ptr<uint8_t[], StorageDeleter>(zeroed_storage(size_, kDirtyBlock), StorageDeleter{size_, &dirty_});
  if (!mem_)
    throw ConfigError("dram.size_bytes = " + std::to_string(size_) +
                      ": cannot allocate that much host memory for the model");
  host_socket.register_b_transport(this, &Dram::b_transport_host);
  host_socket.register_transport_dbg(this, &Dram::debug_transport);
  dma_socket.register_b_transport(this, &Dram::b_transport_dma);
  dma_socket.register_get_direct_mem_ptr(this, &Dram::get_direct_mem_ptr);
}

uint64_t Dram::storage_reuses() {
  std::lock_guard<std::mutex> l(spare().m);
  return spare().reuses;
}

void Dram::StorageDeleter::operator()(uint8_t* p) const {
  SpareStorage& s = spare();
  uint8_t* old = p;
  {
    std::lock_guard<std::mutex> l(s.m);
    std::swap(old, s.p);
    s.size = size;
    s.dirty = *dirty;
  }
  std::free(old);
}

void Dram::set_backpressure(uint64_t seed, uint64_t max_extra) {
  rng_state_ = seed;
  max_extra_ = max_extra;
  extra_total_ = 0;
  // (the DMA asks for direct access per layer and keeps no grant: nothing to invalidate)
}

// The whole memory, to read, while a DMA transaction's cost is
// latency + data cycles (no back-pressure); refused otherwise.
bool Dram::get_direct_mem_ptr(tlm_generic_payload&, tlm::tlm_dmi& dmi) {
  dmi.set_start_address(0);
  dmi.set_end_address(size_ - 1);
  if (max_extra_) {
    dmi.set_granted_access(tlm::tlm_dmi::DMI_ACCESS_NONE);
    return false;
  }
  dmi.set_dmi_ptr(mem_.get());
  dmi.allow_read();  // (writes go through transactions, which mark the blocks they write)
  const sc_time latency = sc_time::from_value(static_cast<uint64_t>(cfg_.latency_cycles) * period_.value());
  dmi.set_read_latency(latency);
  dmi.set_write_latency(latency);
  return true;
}

uint64_t Dram::transfer_cycles(uint64_t bytes) const {
  const uint64_t bpc = static_cast<uint64_t>(cfg_.bytes_per_cycle);
  // Streaming cycles rounded up: a partly filled last beat still takes a cycle.
  return static_cast<uint64_t>(cfg_.latency_cycles) + bytes / bpc + (bytes % bpc != 0 ? 1 : 0);
}

void Dram::b_transport_host(tlm_generic_payload& t, sc_time& delay) { access(t, delay, host_); }
void Dram::b_transport_dma(tlm_generic_payload& t, sc_time& delay) { access(t, delay, dma_); }

void Dram::access(tlm_generic_payload& t, sc_time& delay, DramCounters& c) {
  const tlm::tlm_command cmd = t.get_command();
  const uint64_t addr = t.get_address();
  const uint64_t len = t.get_data_length();

  // Checks in a fixed order; the first that fails decides the response.
  // A rejected request moves no data, costs no time and is not counted.
  tlm::tlm_response_status status = tlm::TLM_OK_RESPONSE;
  if (cmd != tlm::TLM_READ_COMMAND && cmd != tlm::TLM_WRITE_COMMAND)
    status = tlm::TLM_COMMAND_ERROR_RESPONSE;
  else if (!in_range(addr, len))
    status = tlm::TLM_ADDRESS_ERROR_RESPONSE;
  else if (t.get_byte_enable_ptr() != nullptr)
    status = tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE;  // the DRAM port has no write strobes
  else if (t.get_streaming_width() < len)
    status = tlm::TLM_BURST_ERROR_RESPONSE;  // only incrementing bursts (no FIFO-style streaming)

  if (status != tlm::TLM_OK_RESPONSE) {
    t.set_response_status(status);
    std::ostringstream msg;
    msg << name() << ": rejected " << (&c == &host_ ? "host" : "dma") << " " << command_name(cmd)
        << " (address 0x" << std::hex << addr << std::dec << ", " << len << " bytes, size " << size_
        << "): " << t.get_response_string();
    SC_REPORT_WARNING(kDramMsgId, msg.str().c_str());
    return;
  }

  uint8_t* cell = mem_.get() + addr;
  if (len != 0) {
    if (cmd == tlm::TLM_READ_COMMAND)
      std::memcpy(t.get_data_ptr(), cell, len);
    else
      std::memcpy(cell, t.get_data_ptr(), len), mark_dirty(addr, len);
  }
  (cmd == tlm::TLM_READ_COMMAND ? c.bytes_read : c.bytes_written) += len;
  ++c.transactions;
  // Exact integer time (no double rounding): cycles x period in kernel ticks.
  uint64_t extra = 0;
  if (max_extra_ && &c == &dma_) {
    // splitmix64: a seeded, platform-independent sequence.
    uint64_t z = (rng_state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    extra = (z ^ (z >> 31)) % (max_extra_ + 1);
    extra_total_ += extra;
  }
  delay += sc_time::from_value((transfer_cycles(len) + extra) * period_.value());
  t.set_dmi_allowed(false);
  t.set_response_status(tlm::TLM_OK_RESPONSE);
}

// Zero-time, uncounted access for the testbench and debuggers. Uses only the
// command, address, data pointer and length; an access running past the end is
// cut at the end and the bytes actually moved are returned.
unsigned Dram::debug_transport(tlm_generic_payload& t) {
  const tlm::tlm_command cmd = t.get_command();
  const uint64_t addr = t.get_address();
  if ((cmd != tlm::TLM_READ_COMMAND && cmd != tlm::TLM_WRITE_COMMAND) || addr >= size_) return 0;
  const uint64_t n = std::min<uint64_t>(t.get_data_length(), size_ - addr);
  if (n == 0) return 0;
  if (cmd == tlm::TLM_READ_COMMAND)
    std::memcpy(t.get_data_ptr(), mem_.get() + addr, n);
  else
    std::memcpy(mem_.get() + addr, t.get_data_ptr(), n), mark_dirty(addr, n);
  return static_cast<unsigned>(n);
}

}  // namespace brsim
