// DMA engine: see dma.h. One call is one TLM transaction on the DRAM's DMA
// port; the engine blocks its caller for the DRAM's annotated delay, so the
// controller's timeline carries the memory cost cycle for cycle.
#include "dma.h"

#include <limits>
#include <sstream>

#include "errors.h"

namespace brsim {

using sc_core::sc_time;

namespace {
std::string hex(uint64_t v) {
  std::ostringstream s;
  s << "0x" << std::hex << v;
  return s.str();
}
}  // namespace

Dma::Dma(sc_core::sc_module_name name, sc_time clock_period)
    : sc_module(name), socket("socket"), period_(clock_period) {
  if (period_ == sc_core::SC_ZERO_TIME)
    throw ConfigError(std::string(this->name()) + ": clock period must be > 0");
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
