// The accelerator as the host programs it: the register map over TLM-2.0
// (read back, refused accesses, the layer descriptor's round trip) and the
// architecture configuration's checks with their messages.
#include <gtest/gtest.h>

#include <tlm_utils/simple_initiator_socket.h>

#include <array>
#include <functional>

#include "accel_case.h"
#include "asan_main_stack.h"
#include "config_error.h"
#include "sc_kernel.h"

using namespace brsim;
using namespace brsim_test;

namespace {

// A bare initiator for register-map tests.
struct RegProbe : sc_core::sc_module {
  SC_HAS_PROCESS(RegProbe);
  tlm_utils::simple_initiator_socket<RegProbe> socket{"socket"};
  tlm_utils::simple_initiator_socket<RegProbe> mem{"mem"};  // bound, unused
  std::function<void(RegProbe&)> body;
  explicit RegProbe(sc_core::sc_module_name n) : sc_module(n) { SC_THREAD(run); }
  void run() { body(*this); }
  tlm::tlm_response_status access(tlm::tlm_command cmd, uint64_t addr, uint32_t* v, unsigned len = 4) {
    tlm::tlm_generic_payload t;
    sc_core::sc_time d = sc_core::SC_ZERO_TIME;
    t.set_command(cmd);
    t.set_address(addr);
    t.set_data_ptr(reinterpret_cast<uint8_t*>(v));
    t.set_data_length(len);
    t.set_streaming_width(len);
    socket->b_transport(t, d);
    return t.get_response_status();
  }
};

}  // namespace

TEST(RegisterMap, ReadsBackWhatWasWrittenAndRejectsOutsideAccesses) {
  reset_systemc_kernel();
  {
    Accelerator acc("acc", ArchConfig{});
    RegProbe probe("probe");
    probe.socket.bind(acc.reg_socket());
    probe.mem.bind(acc.mem_socket());
    bool done = false;
    probe.body = [&](RegProbe& p) {
      uint32_t v = 0;
      EXPECT_EQ(p.access(tlm::TLM_READ_COMMAND, reg::kId, &v), tlm::TLM_OK_RESPONSE);
      EXPECT_EQ(v, reg::kIdValue);
      for (uint32_t a = reg::kLayerCfg; a < reg::kMapBytes; a += 4) {
        uint32_t w = 0xA5000000u ^ (a * 2654435761u);
        EXPECT_EQ(p.access(tlm::TLM_WRITE_COMMAND, a, &w), tlm::TLM_OK_RESPONSE);
      }
      for (uint32_t a = reg::kLayerCfg; a < reg::kMapBytes; a += 4) {
        uint32_t r = 0;
        EXPECT_EQ(p.access(tlm::TLM_READ_COMMAND, a, &r), tlm::TLM_OK_RESPONSE);
        EXPECT_EQ(r, 0xA5000000u ^ (a * 2654435761u)) << "register 0x" << std::hex << a;
      }
      uint32_t w = 1;
      EXPECT_EQ(p.access(tlm::TLM_WRITE_COMMAND, reg::kMapBytes, &w), tlm::TLM_ADDRESS_ERROR_RESPONSE);
      EXPECT_EQ(p.access(tlm::TLM_READ_COMMAND, 0x1000, &w), tlm::TLM_ADDRESS_ERROR_RESPONSE);
      EXPECT_EQ(p.access(tlm::TLM_READ_COMMAND, reg::kInC + 2, &w), tlm::TLM_ADDRESS_ERROR_RESPONSE);
      EXPECT_EQ(p.access(tlm::TLM_READ_COMMAND, reg::kInC, &w, 2), tlm::TLM_BURST_ERROR_RESPONSE);
      EXPECT_EQ(p.access(tlm::TLM_WRITE_COMMAND, reg::kId, &w), tlm::TLM_COMMAND_ERROR_RESPONSE);
      EXPECT_EQ(p.access(tlm::TLM_WRITE_COMMAND, reg::kStatus, &w), tlm::TLM_COMMAND_ERROR_RESPONSE);
      // The descriptor round-trips through the registers.
      LayerDescriptor d;
      d.in_c = 7, d.in_h = 9, d.in_w = 11, d.out_m = 13, d.kh = 3, d.kw = 5, d.stride_h = 2, d.stride_w = 1;
      d.pad_t = 1, d.pad_l = 2, d.pad_b = 0, d.pad_r = 4, d.in_addr = 0x100, d.w_addr = 0x2000, d.n2 = 6, d.p = 1;
      d.relu = true, d.pool = PoolKind::Avg, d.pool_kh = 3, d.pool_sh = 2;
      for (const auto& [a, val] : descriptor_registers(d, 5)) {
        uint32_t x = val;
        p.access(tlm::TLM_WRITE_COMMAND, a, &x);
      }
      std::array<uint32_t, reg::kMapBytes / 4> regs{};
      for (uint32_t a = 0; a < reg::kMapBytes; a += 4) p.access(tlm::TLM_READ_COMMAND, a, &regs[a / 4]);
      int k = 0;
      const LayerDescriptor back = descriptor_from_registers(regs, &k);
      EXPECT_EQ(k, 5);
      EXPECT_EQ(back.in_c, 7u);
      EXPECT_EQ(back.kw, 5u);
      EXPECT_EQ(back.pad_r, 4u);
      EXPECT_EQ(back.w_addr, 0x2000u);
      EXPECT_EQ(back.n2, 6);
      EXPECT_EQ(back.p, 1);
      EXPECT_TRUE(back.relu);
      EXPECT_EQ(back.pool, PoolKind::Avg);
      EXPECT_EQ(back.pool_kh, 3u);
      done = true;
      sc_core::sc_stop();
    };
    sc_core::sc_start();
    brsim::asan_restore_main_stack();  // back on sc_main's stack (asan_main_stack.h)
    EXPECT_TRUE(done);
  }
  reset_systemc_kernel();
}

TEST(ArchValidation, RejectsBadConfigurationsWithClearMessages) {
  auto message = [](const ArchConfig& a) { return config_error([&] { validate(a); }); };
  ArchConfig a;
  a.rows = 0;
  EXPECT_NE(message(a).find("invalid array rows 0"), std::string::npos);
  a = ArchConfig{};
  a.cols = -4;
  EXPECT_NE(message(a).find("invalid array cols -4"), std::string::npos);
  a = ArchConfig{};
  a.dram.bytes_per_cycle = 0;
  EXPECT_NE(message(a).find("dram.bytes_per_cycle"), std::string::npos);
  EXPECT_EQ(config_error([] { parse_pe_type("int8"); }), "unknown PE type 'int8': expected brslog or fixed16");
  // A weight tile larger than the weight buffer.
  a = ArchConfig{};
  a.rows = a.cols = 64;
  a.weight_buffer.capacity_bytes = 1024;
  LayerDescriptor d;
  d.in_c = 64, d.out_m = 64, d.fc = true;
  std::string m = config_error([&] { make_schedule(d, a); });
  EXPECT_NE(m.find("weight_buffer too small for one tile: a 64x64 weight tile needs 2560 bytes"), std::string::npos) << m;
  // The smallest input tile (one 5x5 window column: 100 bytes) larger than
  // the input buffer.
  a = ArchConfig{};
  a.input_buffer.capacity_bytes = 64;
  d = LayerDescriptor{};
  d.in_c = 64, d.in_h = 8, d.in_w = 8, d.kh = d.kw = 5, d.out_m = 8;
  m = config_error([&] { make_schedule(d, a); });
  EXPECT_NE(m.find("input_buffer too small for one tile"), std::string::npos) << m;
}
