#include "accel_host.h"
#include "asan_main_stack.h"

#include <malloc.h>
#include <unistd.h>

#include <tlm_utils/simple_initiator_socket.h>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <string>

#include "accelerator.h"
#include "errors.h"
#include "sc_kernel.h"

namespace brsim {

GoldenRun golden_run(const QuantizedNetwork& q, const AccelProgram& prog, const std::vector<std::vector<float>>& xs) {
  GoldenRun g;
  for (const std::vector<float>& x : xs) {
    std::vector<ActTensor> outs;
    run_quantized(q, x, nullptr, &outs);
    std::vector<ActTensor> per;
    for (const AccelLayer& l : prog.layers) {
      if (!l.sliced) {  // the one step with this output (a group's step copies its channels)
        per.push_back(std::move(outs[l.output_index]));
        continue;
      }
      // A group of a grouped conv: its channels of the layer's output.
      const ActTensor& full = outs[l.output_index];
      ActTensor part;
      part.h = full.h, part.w = full.w, part.frac_bits = full.frac_bits;
      const size_t hw = static_cast<size_t>(full.h * full.w);
      part.c = l.desc.out_m;
      part.data.assign(full.data.begin() + static_cast<std::ptrdiff_t>(l.out_c0 * hw),
                       full.data.begin() + static_cast<std::ptrdiff_t>((l.out_c0 + l.desc.out_m) * hw));
      per.push_back(std::move(part));
    }
    g.expected.push_back(std::move(per));
    g.inputs.push_back(quantize_input(q, x, nullptr));
  }
  return g;
}

uint64_t AccelRunResult::cycles() const {
  uint64_t n = 0;
  for (const LayerRunStats& l : layers) n += l.stats.cycles.total();
  return n;
}

std::string first_mismatch(const std::string& layer, const ActTensor& want, const std::vector<int32_t>& got) {
  if (got.size() != want.data.size())
    return layer + ": output has " + std::to_string(got.size()) + " values, the golden model " +
           std::to_string(want.data.size());
  for (size_t i = 0; i < got.size(); ++i) {
    if (got[i] == want.data[i]) continue;
    const int64_t hw = want.h * want.w;
    const int64_t c = static_cast<int64_t>(i) / hw, y = (static_cast<int64_t>(i) % hw) / want.w, x = static_cast<int64_t>(i) % want.w;
    return layer + ": first mismatch at channel " + std::to_string(c) + ", row " + std::to_string(y) + ", column " +
           std::to_string(x) + ": hardware " + std::to_string(got[i]) + ", golden " + std::to_string(want.data[i]);
  }
  return "";
}

namespace {

class Host : public sc_core::sc_module {
 public:
  SC_HAS_PROCESS(Host);
  tlm_utils::simple_initiator_socket<Host> reg_socket{"reg_socket"};
  tlm_utils::simple_initiator_socket<Host> mem_socket{"mem_socket"};
  sc_core::sc_in<bool> irq{"irq"};

  Host(sc_core::sc_module_name n, const AccelProgram& prog, const std::vector<ActTensor>& inputs,
       const std::vector<std::vector<ActTensor>>* expected, Controller* ctrl, AccelRunResult* out)
      : sc_module(n), prog_(prog), inputs_(inputs), expected_(expected), ctrl_(ctrl), out_(out) {
    SC_THREAD(main);
  }

 private:
  void access(tlm_utils::simple_initiator_socket<Host>& s, tlm::tlm_command cmd, uint64_t addr, uint8_t* data,
              uint64_t len) {
    tlm::tlm_generic_payload t;
    sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
    t.set_command(cmd);
    t.set_address(addr);
    t.set_data_ptr(data);
    t.set_data_length(static_cast<unsigned>(len));
    t.set_streaming_width(static_cast<unsigned>(len));
    t.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
    s->b_transport(t, delay);  // host-side loads take no accelerator time
    if (!t.is_response_ok())
      throw ConfigError("host access at 0x" + to_hex(addr) + " (" + std::to_string(len) + " bytes) failed: " +
                        t.get_response_string());
  }
  static std::string to_hex(uint64_t v) {
    char b[24];
    std::snprintf(b, sizeof b, "%llx", static_cast<unsigned long long>(v));
    return b;
  }
  void write_reg(uint32_t a, uint32_t v) { access(reg_socket, tlm::TLM_WRITE_COMMAND, a, reinterpret_cast<uint8_t*>(&v), 4); }
  uint32_t read_reg(uint32_t a) {
    uint32_t v = 0;
    access(reg_socket, tlm::TLM_READ_COMMAND, a, reinterpret_cast<uint8_t*>(&v), 4);
    return v;
  }
  // (by reference: a layer's weights are tens of MB; a write only reads them)
  void write_mem(uint64_t a, const std::vector<uint8_t>& bytes) {
    if (!bytes.empty())
      access(mem_socket, tlm::TLM_WRITE_COMMAND, a, const_cast<uint8_t*>(bytes.data()), bytes.size());
  }
  std::vector<uint8_t> read_mem(uint64_t a, uint64_t n) {
    std::vector<uint8_t> b(n);
    if (n) access(mem_socket, tlm::TLM_READ_COMMAND, a, b.data(), n);
    return b;
  }

  void main() {
    try {
      run();
    } catch (const ConfigError& e) {
      out_->error = e.what();
    }
    sc_core::sc_stop();
  }

  void run() {
    const ArchConfig& a = prog_.arch;
    if (read_reg(reg::kId) != reg::kIdValue) throw ConfigError("accelerator ID register mismatch");
    for (const AccelLayer& l : prog_.layers) {
      if (l.vector) {
        if (out_->layers.size() <= l.row) out_->layers.resize(l.row + 1);
        LayerRunStats& s = out_->layers[l.row];
        s.name = l.name;
        s.vector = true;
        s.op = l.op;
        s.vec = l.vec;
        s.batch = static_cast<uint32_t>(a.batch);
        const VectorCost c = vector_cost(l.vec, a);  // per image; a batch runs the step once per image
        s.closed_form.output = c.lane_cycles * static_cast<uint64_t>(a.batch);
        s.closed_form.stall = c.dram_cycles * static_cast<uint64_t>(a.batch);
        continue;
      }
      write_mem(l.desc.w_addr, l.weights);
      write_mem(l.desc.param_addr, l.params);
      if (out_->layers.size() <= l.row) {
        out_->layers.resize(l.row + 1);
        LayerRunStats& s = out_->layers[l.row];
        s.name = l.name;
        s.desc = l.desc;
        s.op = l.op;
        s.groups = l.groups;
        s.batch = l.desc.batch;
      }
      LayerCycles& cf = out_->layers[l.row].closed_form;
      const LayerCycles c = closed_form(l.desc, a);  // a whole batch
      cf.weight_load += c.weight_load, cf.compute += c.compute, cf.drain += c.drain, cf.stall += c.stall,
          cf.output += c.output;
    }
    const size_t batch = static_cast<size_t>(a.batch);
    const uint64_t ab = static_cast<uint64_t>(act_bytes(a));
    for (size_t img = 0; img < inputs_.size(); img += batch) {
      // The batch's images, one after the other; the last batch holds the rest.
      const uint32_t n = static_cast<uint32_t>(std::min(batch, inputs_.size() - img));
      for (uint32_t i = 0; i < n; ++i)
        write_mem(prog_.input_addr() + i * inputs_[img].data.size() * ab, encode_activations(inputs_[img + i].data, a));
      std::vector<int32_t> got;
      std::vector<std::vector<int32_t>> outs(n);
      for (size_t li = 0; li < prog_.layers.size(); ++li) {
        const AccelLayer& l = prog_.layers[li];
        if (l.vector) {  // once per image of the batch
          LayerRunStats& s = out_->layers[l.row];
          for (uint32_t i = 0; i < n; ++i) {
            got = run_vector(l, i);
            ++s.images;
            if (expected_ && !check(img + i, li, l, got)) return;
          }
          ++s.batches;
          continue;
        }
        LayerDescriptor d = l.desc;
        d.batch = n;
        for (const auto& [addr, value] : descriptor_registers(d, l.sqrt2_terms)) write_reg(addr, value);
        write_reg(reg::kCtrl, 1);  // START
        wait(irq.posedge_event());
        const uint32_t status = read_reg(reg::kStatus);
        write_reg(reg::kCtrl, 2);  // IRQ_CLEAR
        if (status & reg::kStatusError) {
          out_->error = "layer " + l.name + ": accelerator error " + std::to_string(read_reg(reg::kErrorCode)) + ": " +
                        ctrl_->error_message();
          return;
        }
        const uint64_t cycles = read_reg(reg::kCyclesLo) | (uint64_t{read_reg(reg::kCyclesHi)} << 32);
        LayerRunStats& s = out_->layers[l.row];
        const LayerStats& ls = ctrl_->last_layer();
        if (cycles != ls.cycles.total()) throw ConfigError("cycle register disagrees with the controller's count");
        s.stats.add(ls);
        if (!l.sliced || l.out_c0 == 0) s.images += n, ++s.batches;
        // Each image's output, checked by the scoreboard on its own.
        const uint64_t values = d.out_image_values();
        for (uint32_t i = 0; i < n; ++i) {
          got = decode_activations(read_mem(d.out_addr + i * d.out_image_step(ab), values * ab), a);
          if (expected_) {
            ++out_->tensors_compared;
            const std::string m = first_mismatch("image " + std::to_string(img + i) + ", layer " + l.name,
                                                 (*expected_)[img + i][li], got);
            if (!m.empty()) {
              out_->bit_exact = false;
              out_->mismatch = m;
              return;
            }
          }
          outs[i] = std::move(got);
        }
      }
      if (prog_.graph)
        for (uint32_t i = 0; i < n; ++i)
          outs[i] = decode_activations(read_mem(prog_.final_addr + i * prog_.final_stride, prog_.final_values * ab), a);
      for (std::vector<int32_t>& o : outs) out_->outputs.push_back(std::move(o));
      out_->images += n;
    }
  }

  // A step of the vector unit on image i of the batch: its operands read
  // from DRAM, the result written back, the unit's cycles waited (vector_unit.h).
  std::vector<int32_t> run_vector(const AccelLayer& l, uint32_t i) {
    const ArchConfig& a = prog_.arch;
    const VectorDescriptor& v = l.vec;
    const uint64_t ab = static_cast<uint64_t>(act_bytes(a));
    auto stride = [&](size_t k) { return k < l.image_strides.size() ? l.image_strides[k] : uint64_t{0}; };
    std::vector<std::vector<int32_t>> ops;
    for (size_t k = 0; k < v.in.size(); ++k) {
      const VectorDescriptor::Operand& o = v.in[k];
      ops.push_back(decode_activations(read_mem(o.addr + i * stride(k), uint64_t{o.c} * o.h * o.w * ab), a));
    }
    LayerStats st;
    std::vector<int32_t> out = vector_compute(v, ops, a.datapath.act_bits, &st.requant);
    write_mem(v.out_addr + i * stride(v.in.size()), encode_activations(out, a));
    const VectorCost c = vector_cost(v, a);
    st.cycles.output = c.lane_cycles;
    st.cycles.stall = c.dram_cycles;
    st.dram_bytes_read = c.dram_bytes_read;
    st.dram_bytes_written = c.dram_bytes_written;
    st.input_writes = st.input_reads = c.input_words;
    st.output_writes = st.output_reads = c.output_words;
    st.acc_adds = c.element_ops;
    wait(ctrl_->clock_period() * static_cast<double>(st.cycles.total()));
    out_->layers[l.row].stats.add(st);
    return out;
  }

  bool check(size_t img, size_t li, const AccelLayer& l, const std::vector<int32_t>& got) {
    ++out_->tensors_compared;
    const std::string m = first_mismatch("image " + std::to_string(img) + ", layer " + l.name, (*expected_)[img][li], got);
    if (m.empty()) return true;
    out_->bit_exact = false;
    out_->mismatch = m;
    return false;
  }

  const AccelProgram& prog_;
  const std::vector<ActTensor>& inputs_;
  const std::vector<std::vector<ActTensor>>* expected_;
  Controller* ctrl_;
  AccelRunResult* out_;
};

}  // namespace

void keep_freed_host_memory() {
  // Blocks below 192 MiB from the heap (not mmap), and the heap's top not
  // trimmed below 1 GiB: freed buffers (a layer's weights, codes, decoded
  // copies, the array's activation blocks) are reused as they are, without
  // faulting fresh zero pages in again; on a virtual machine the first touch
  // of a page can cost more than the work done in it. The DRAM model
  // (256 MiB by default, calloc'd) still maps fresh zero pages: only those
  // it touches cost anything.
  mallopt(M_MMAP_THRESHOLD, 192 << 20);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
}

void use_transparent_huge_pages(char** argv) {
  const char* set = std::getenv("GLIBC_TUNABLES");
  std::string tunables = set ? set : "";
  if (tunables.find("glibc.malloc.hugetlb") != std::string::npos) return;
  tunables += (tunables.empty() ? "" : ":") + std::string("glibc.malloc.hugetlb=1");
  if (setenv("GLIBC_TUNABLES", tunables.c_str(), 1) != 0) return;
  execv("/proc/self/exe", argv);
}

AccelRunResult run_accelerator(const AccelProgram& prog, const std::vector<ActTensor>& inputs,
                               const std::vector<std::vector<ActTensor>>* expected, TraceHooks* tracer,
                               bool activity, const std::function<void(Accelerator&)>& setup,
                               const std::function<void(Accelerator&)>& after) {
  quiet_systemc_banner();
  reset_systemc_kernel();
  AccelRunResult result;
  {
    Accelerator acc("accelerator", prog.arch);
    Host host("host", prog, inputs, expected, &acc.controller, &result);
    host.reg_socket.bind(acc.reg_socket());
    host.mem_socket.bind(acc.mem_socket());
    host.irq(acc.irq);
    acc.array.set_activity(activity);
    acc.attach_tracer(tracer);
    if (setup) setup(acc);
    const auto t0 = std::chrono::steady_clock::now();
    sc_core::sc_start();
    asan_restore_main_stack();  // back on sc_main's stack (asan_main_stack.h)
    result.host_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (tracer) tracer->finish(static_cast<uint64_t>(sc_core::sc_time_stamp() / acc.period + 0.5));
    if (after) after(acc);
  }
  reset_systemc_kernel();
  if (!result.error.empty()) throw ConfigError(result.error);
  return result;
}

}  // namespace brsim
