// The accelerator top (ARCHITECTURE.md "data flow"): clock, DRAM, DMA,
// controller with its register map, the three on-chip buffers and the PE
// array, wired together. The host reaches it through two TLM-2.0 target
// sockets (registers and DRAM) and the done interrupt.
#pragma once

#include <systemc>

#include <memory>

#include "trace_hooks.h"
#include "arch.h"
#include "controller.h"
#include "dma.h"
#include "dram.h"
#include "pe_array.h"
#include "sram.h"

namespace brsim {

class Accelerator : public sc_core::sc_module {
 public:
  explicit Accelerator(sc_core::sc_module_name name, const ArchConfig& arch);

  sc_core::sc_time period;  // one clock period (1 / clock_mhz)
  sc_core::sc_signal<bool, sc_core::SC_MANY_WRITERS> irq;
  Sram weight_buffer, input_buffer, output_buffer;
  PeArray array;
  Dram dram;
  Dma dma;
  Controller controller;

  // Host-side sockets to bind an initiator to.
  tlm_utils::simple_target_socket<Controller>& reg_socket() { return controller.reg_socket; }
  tlm_utils::simple_target_socket<Dram>& mem_socket() { return dram.host_socket; }
  const ArchConfig& arch() const { return arch_; }
  // Opt-in tracing (nullptr: off); records the registers' reset values.
  void attach_tracer(TraceHooks* t);

 private:
  ArchConfig arch_;
};

}  // namespace brsim
