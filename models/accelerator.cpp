#include "accelerator.h"

namespace brsim {

namespace {
const ArchConfig& validated(const ArchConfig& a) {
  validate(a);
  return a;
}
}  // namespace

Accelerator::Accelerator(sc_core::sc_module_name name, const ArchConfig& arch)
    : sc_module(name),
      period(sc_core::sc_time(1000.0 / validated(arch).clock_mhz, sc_core::SC_NS)),
      irq("irq"),
      weight_buffer("weight_buffer", arch.weight_buffer),
      input_buffer("input_buffer", arch.input_buffer),
      output_buffer("output_buffer", arch.output_buffer),
      array("array", arch, period, &weight_buffer, &input_buffer, &output_buffer),
      dram("dram", arch.dram, period),
      dma("dma", period, arch.dram.bytes_per_cycle),
      controller("controller", arch, period, &array, &dma, &weight_buffer, &input_buffer, &output_buffer),
      arch_(arch) {
  controller.irq(irq);
  dma.socket.bind(dram.dma_socket);
}

void Accelerator::attach_tracer(TraceHooks* t) {
  array.set_tracer(t);
  controller.set_tracer(t);
  dma.set_tracer(t);
  if (t) t->initial_state(array);
}

}  // namespace brsim
