// DMA engine: see dma.h. A transfer is one TLM transaction on the DRAM's
// DMA port, whose annotated delay its channel waits out, so the controller's
// timeline carries the memory cost cycle for cycle.
#include "dma.h"

#include <limits>
#include <sstream>

#include "errors.h"
#include "trace_hooks.h"

namespace brsim {

using sc_core::sc_time;

namespace {
std::string hex(uint64_t v) {
  std::ostringstream s;
  s << "0x" << std::hex << v;
  return s.str();
}
}  // namespace

Dma::Dma(sc_core::sc_module_name name, sc_time clock_period, int bytes_per_cycle)
    : sc_module(name), socket("socket"), bytes_per_cycle_(static_cast<uint64_t>(bytes_per_cycle)), period_(clock_period) {
  if (period_ == sc_core::SC_ZERO_TIME)
    throw ConfigError(std::string(this->name()) + ": clock period must be > 0");
  if (bytes_per_cycle < 1) throw ConfigError(std::string(this->name()) + ": bytes_per_cycle must be >= 1");
  SC_THREAD(read_channel);
  SC_THREAD(write_channel);
}

uint64_t Dma::now_cycle() const { return static_cast<uint64_t>(sc_core::sc_time_stamp() / period_ + 0.5); }

uint64_t Dma::issue(bool write, uint64_t addr, std::vector<uint8_t> data, uint64_t issue_cycle, bool decoupled) {
  const uint64_t id = next_id_++;
  if (reqs_.empty()) base_id_ = id;
  reqs_.emplace_back();
  Request& r = reqs_.back();
  r.write = write, r.addr = addr, r.data = std::move(data), r.issue_cycle = issue_cycle;
  if (decoupled) {
    r.done_cycle = issue_cycle;
    try {
      r.done_cycle = run(r);
    } catch (const DmaError& e) {
      r.error = e.what();
    }
    r.done = true;
  } else {
    queue_[write ? 1 : 0].push_back(id);
    issued_[write ? 1 : 0].notify(sc_core::SC_ZERO_TIME);
  }
  return id;
}

// The request's TLM transaction (loosely timed: the DRAM annotates its
// delay, latency + data cycles) on its channel's timeline: the data cycles
// at the DRAM's bandwidth, the rest before them.
uint64_t Dma::run(Request& r) {
  sc_time offset = sc_core::SC_ZERO_TIME;
  const uint64_t cycles = r.write ? write(r.addr, r.data.data(), r.data.size(), &offset)
                                  : read(r.addr, r.data.data(), r.data.size(), &offset);
  const uint64_t data = std::min<uint64_t>(cycles, (r.data.size() + bytes_per_cycle_ - 1) / bytes_per_cycle_);
  return timeline_[r.write ? 1 : 0].complete(r.issue_cycle, cycles - data, data);
}

// A channel's thread (synchronized mode): one transfer at a time in the
// order issued, its delay waited out.
void Dma::channel(int ch) {
  for (;;) {
    while (queue_[ch].empty()) wait(issued_[ch]);
    Request& r = request(queue_[ch].front());
    const uint64_t bytes = r.data.size();
    if (tracer_) tracer_->dma(now_cycle(), true, r.write, r.addr, bytes);
    uint64_t done = now_cycle();
    try {
      done = run(r);
    } catch (const DmaError& e) {
      r.error = e.what();  // the controller reports it when it takes the transfer
    }
    if (done > now_cycle()) wait(period_ * static_cast<double>(done - now_cycle()));
    if (tracer_) tracer_->dma(now_cycle(), false, r.write, r.addr, bytes);
    r.done = true;
    queue_[ch].pop_front();
    done_.notify(sc_core::SC_ZERO_TIME);
  }
}

Dma::Request& Dma::request(uint64_t id) {
  if (id < base_id_ || id - base_id_ >= reqs_.size() || reqs_[id - base_id_].taken)
    throw std::logic_error("internal: DMA request " + std::to_string(id) + " is not outstanding");
  return reqs_[id - base_id_];
}

bool Dma::done(uint64_t id) { return request(id).done; }
uint64_t Dma::done_cycle(uint64_t id) { return request(id).done_cycle; }

std::string Dma::take(uint64_t id, std::vector<uint8_t>* data) {
  Request& r = request(id);
  std::string err = std::move(r.error);
  if (data) data->swap(r.data);
  if (spare_.size() < 8) spare_.push_back(std::move(r.data));  // the caller's old buffer, for reuse
  r.taken = true;
  while (!reqs_.empty() && reqs_.front().taken) reqs_.pop_front(), ++base_id_;
  return err;
}

std::vector<uint8_t> Dma::buffer(uint64_t bytes) {
  std::vector<uint8_t> b;
  if (!spare_.empty()) b.swap(spare_.back()), spare_.pop_back();
  b.assign(bytes, 0);
  return b;
}

const uint8_t* Dma::direct_read(uint64_t addr, uint64_t bytes) {
  if (sc_core::sc_report_handler::get_verbosity_level() >= sc_core::SC_DEBUG) return nullptr;  // each transfer is logged
  tlm::tlm_generic_payload t;
  t.set_command(tlm::TLM_READ_COMMAND);
  t.set_address(addr);
  tlm::tlm_dmi dmi;
  if (!socket->get_direct_mem_ptr(t, dmi) || !dmi.is_read_allowed() || dmi.get_dmi_ptr() == nullptr) return nullptr;
  if (addr < dmi.get_start_address() || addr > dmi.get_end_address() || bytes > dmi.get_end_address() - addr + 1)
    return nullptr;
  const sc_time latency = dmi.get_read_latency();
  if (latency.value() % period_.value() != 0) return nullptr;  // not whole cycles: the transactions say how
  dmi_latency_ = latency.value() / period_.value();
  return dmi.get_dmi_ptr() + (addr - dmi.get_start_address());
}

std::vector<uint64_t> Dma::outstanding() const {
  std::vector<uint64_t> ids;
  for (size_t i = 0; i < reqs_.size(); ++i)
    if (!reqs_[i].taken) ids.push_back(base_id_ + i);
  return ids;
}

uint64_t Dma::read(uint64_t addr, uint8_t* dst, uint64_t bytes, sc_time* local_offset) {
  return transfer(tlm::TLM_READ_COMMAND, addr, dst, bytes, local_offset);
}

uint64_t Dma::write(uint64_t addr, const uint8_t* src, uint64_t bytes, sc_time* local_offset) {
  // The payload's data pointer is non-const; a write command only reads it.
  return transfer(tlm::TLM_WRITE_COMMAND, addr, const_cast<uint8_t*>(src), bytes, local_offset);
}

std::string Dma::last_transfer() const {
  if (!any_) return "";
  return std::string(last_is_read_ ? "read" : "write") + " " + hex(last_addr_) + "+" + std::to_string(last_bytes_);
}

uint64_t Dma::transfer(tlm::tlm_command cmd, uint64_t addr, uint8_t* data, uint64_t bytes, sc_time* local_offset) {
  const bool is_read = cmd == tlm::TLM_READ_COMMAND;
  any_ = true, last_is_read_ = is_read, last_addr_ = addr, last_bytes_ = bytes;
  const auto failed = [&]() {
    return std::string("DMA ") + (is_read ? "read" : "write") + " of " + std::to_string(bytes) + " bytes at " +
           hex(addr) + " failed: ";
  };

  // One call is one bus transaction: nothing is split, so the length must fit
  // the generic payload's 32-bit data length.
  if (bytes > std::numeric_limits<unsigned int>::max())
    throw DmaError(failed() + "longer than one TLM transaction (4294967295 bytes)");
  if (data == nullptr && bytes != 0) throw DmaError(failed() + "null data pointer");

  tlm::tlm_generic_payload& t = payload_[is_read ? 0 : 1];
  t.set_command(cmd);
  t.set_address(addr);
  t.set_data_ptr(data);
  t.set_data_length(static_cast<unsigned int>(bytes));
  t.set_streaming_width(static_cast<unsigned int>(bytes));  // a plain incrementing burst
  t.set_byte_enable_ptr(nullptr);
  t.set_byte_enable_length(0);
  t.set_dmi_allowed(false);
  t.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);

  // Loosely timed: the transaction starts at the caller's local offset.
  const sc_time start = local_offset ? *local_offset : sc_core::SC_ZERO_TIME;
  sc_time delay = start;
  socket->b_transport(t, delay);
  if (t.is_response_error()) throw DmaError(failed() + t.get_response_string());

  // The DRAM annotates whole cycles of the same clock; anything else means the
  // two blocks were built with different periods.
  const sc_time took = delay - start;
  if (took.value() % period_.value() != 0)
    throw DmaError(failed() + "delay " + took.to_string() + " is not a whole number of " + period_.to_string() +
                   " cycles");
  const uint64_t cycles = took.value() / period_.value();

  if (sc_core::sc_report_handler::get_verbosity_level() >= sc_core::SC_DEBUG) {
    const std::string msg = std::string(name()) + ": " + last_transfer() + " " + std::to_string(cycles) + " cycles";
    SC_REPORT_INFO_VERB(kDmaMsgId, msg.c_str(), sc_core::SC_DEBUG);
  }

  // The caller's time advances by the transfer's cycles: now, or on its offset.
  if (local_offset) *local_offset = delay;
  else sc_core::wait(took);
  (is_read ? counters_.bytes_in : counters_.bytes_out) += bytes;
  ++counters_.transfers;
  counters_.cycles += cycles;
  return cycles;
}

}  // namespace brsim
