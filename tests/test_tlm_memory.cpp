// Tier 2 (one SystemC block at a time): the DRAM target and the DMA initiator
// over loosely timed TLM-2.0. Data must round-trip bit exact through both
// ports, each transaction must cost exactly latency + ceil(bytes / bytes per
// cycle) clock cycles of simulated time, counters must be exact per port, and
// every malformed request must be refused without touching memory.
// Linked with sc_main_gtest.cpp (SystemC owns main()).
#include <gtest/gtest.h>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <iterator>
#include <limits>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "dma.h"
#include "asan_main_stack.h"
#include "dram.h"
#include "errors.h"
#include "sc_kernel.h"

using namespace brsim;
using sc_core::sc_time;
using sc_core::sc_time_stamp;

namespace {

// 500 MHz, the default architecture's clock. A function, not a global: an
// sc_time must be made inside the simulation context it is used in.
sc_time period() { return sc_time(2, sc_core::SC_NS); }

// Expected cost of one transaction, computed independently of the model.
uint64_t expected_cycles(int latency, int bpc, uint64_t n) {
  uint64_t beats = 0;
  for (uint64_t sent = 0; sent < n; sent += bpc) ++beats;  // a partial last beat is a whole cycle
  return latency + beats;
}

sc_time cycles_to_time(uint64_t cycles) { return sc_time::from_value(cycles * period().value()); }

std::vector<uint8_t> random_bytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<uint8_t> v(n);
  for (auto& b : v) b = static_cast<uint8_t>(rng());
  return v;
}

std::string hex(uint64_t v) {
  std::ostringstream s;
  s << "0x" << std::hex << v;
  return s.str();
}

// Makes `t` a plain base-protocol request: one incrementing burst, no byte
// enables. (A generic payload cannot be copied, so it is filled in place.)
void payload(tlm::tlm_generic_payload& t, tlm::tlm_command cmd, uint64_t addr, uint8_t* data, unsigned len) {
  t.set_command(cmd);
  t.set_address(addr);
  t.set_data_ptr(data);
  t.set_data_length(len);
  t.set_streaming_width(len);
  t.set_byte_enable_ptr(nullptr);
  t.set_byte_enable_length(0);
  t.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
}

// The host side of the bench: a raw TLM initiator on the DRAM's host port
// (what the testbench uses to load tensors) and the thread that plays the
// test scenario, as the accelerator's controller would.
class Driver : public sc_core::sc_module {
 public:
  tlm_utils::simple_initiator_socket<Driver> host;
  std::function<void()> body;
  bool finished = false;

  SC_HAS_PROCESS(Driver);
  explicit Driver(sc_core::sc_module_name n) : sc_module(n), host("host") { SC_THREAD(run); }

  // One timed host transaction; returns the response, adds its cost to delay.
  tlm::tlm_response_status host_access(tlm::tlm_generic_payload& t, sc_time& delay) {
    host->b_transport(t, delay);
    return t.get_response_status();
  }
  tlm::tlm_response_status host_access(tlm::tlm_command cmd, uint64_t addr, uint8_t* data, unsigned len,
                                       sc_time& delay) {
    tlm::tlm_generic_payload t;
    payload(t, cmd, addr, data, len);
    return host_access(t, delay);
  }
  // Zero-time debug access; returns the bytes moved.
  unsigned debug(tlm::tlm_command cmd, uint64_t addr, uint8_t* data, unsigned len) {
    tlm::tlm_generic_payload t;
    payload(t, cmd, addr, data, len);
    return host->transport_dbg(t);
  }

 private:
  void run() {
    if (body) body();
    finished = true;
  }
};

// One elaboration: DRAM, DMA on its DMA port, the driver on its host port.
struct Bench {
  Dram dram;
  Dma dma;
  Driver drv;
  Bench(const DramConfig& cfg, sc_time dma_period)
      : dram("dram", cfg, period()), dma("dma", dma_period), drv("drv") {
    dma.socket.bind(dram.dma_socket);
    drv.host.bind(dram.host_socket);
  }
  // Runs `body` in the driver's thread until the simulation has no more events.
  void run(std::function<void()> body) {
    drv.body = std::move(body);
    sc_core::sc_start();
    brsim::asan_restore_main_stack();  // back on sc_main's stack (asan_main_stack.h)
    EXPECT_TRUE(drv.finished) << "the scenario thread did not run to its end";
  }
};

class TlmMemory : public ::testing::Test {
 protected:
  // Refused transactions are expected here: count them, do not print them.
  void SetUp() override {
    sc_core::sc_report_handler::set_actions(kDramMsgId, sc_core::SC_WARNING, sc_core::SC_DO_NOTHING);
  }
  // A fresh kernel per elaboration: the previous bench is destroyed first, as
  // reset_systemc_kernel() requires.
  Bench& elaborate(const DramConfig& cfg, sc_time dma_period = period()) {
    bench_.reset();
    reset_systemc_kernel();
    bench_ = std::make_unique<Bench>(cfg, dma_period);
    return *bench_;
  }
  void TearDown() override { bench_.reset(); }

 private:
  std::unique_ptr<Bench> bench_;
};

DramConfig small_dram(int latency = 100, int bpc = 16, uint64_t size = 64 * 1024) {
  DramConfig c;
  c.size_bytes = size;
  c.latency_cycles = latency;
  c.bytes_per_cycle = bpc;
  return c;
}

TEST_F(TlmMemory, DataRoundTripsAndEachTransferCostsLatencyPlusBeats) {
  struct Case {
    int latency, bpc;
    unsigned n;
  };
  // Includes n = 1, n = 0, n not a multiple of bpc, bpc = 1 and zero latency.
  const Case cases[] = {{100, 16, 256}, {100, 16, 257}, {100, 16, 1}, {100, 16, 15}, {0, 1, 1},
                        {0, 1, 1000},   {7, 3, 1000},   {3, 64, 63},  {5, 7, 0},    {1, 4096, 4097}};
  uint32_t seed = 1;
  for (const Case& k : cases) {
    SCOPED_TRACE("latency " + std::to_string(k.latency) + ", bytes/cycle " + std::to_string(k.bpc) +
                 ", n " + std::to_string(k.n));
    Bench& b = elaborate(small_dram(k.latency, k.bpc));
    const uint64_t want = expected_cycles(k.latency, k.bpc, k.n);
    ASSERT_EQ(b.dram.transfer_cycles(k.n), want);
    const auto to_dram = random_bytes(k.n, seed++), from_host = random_bytes(k.n, seed++);
    const uint64_t dma_addr = 0x103, host_addr = 0x8001;  // deliberately unaligned

    b.run([&] {
      // DMA writes, the host reads the same bytes back over its own port.
      sc_time t0 = sc_time_stamp();
      EXPECT_EQ(b.dma.write(dma_addr, to_dram.data(), k.n), want);
      EXPECT_EQ(sc_time_stamp() - t0, cycles_to_time(want));
      std::vector<uint8_t> seen(k.n, 0xEE);
      sc_time delay = sc_core::SC_ZERO_TIME;
      EXPECT_EQ(b.drv.host_access(tlm::TLM_READ_COMMAND, dma_addr, seen.data(), k.n, delay),
                tlm::TLM_OK_RESPONSE);
      EXPECT_EQ(delay, cycles_to_time(want));  // annotated, not waited: the host is loosely timed
      EXPECT_EQ(seen, to_dram);

      // The host writes, the DMA reads back.
      delay = sc_core::SC_ZERO_TIME;
      std::vector<uint8_t> src = from_host;
      EXPECT_EQ(b.drv.host_access(tlm::TLM_WRITE_COMMAND, host_addr, src.data(), k.n, delay),
                tlm::TLM_OK_RESPONSE);
      EXPECT_EQ(delay, cycles_to_time(want));
      std::vector<uint8_t> got(k.n, 0xEE);
      t0 = sc_time_stamp();
      EXPECT_EQ(b.dma.read(host_addr, got.data(), k.n), want);
      EXPECT_EQ(sc_time_stamp() - t0, cycles_to_time(want));
      EXPECT_EQ(got, from_host);
    });
    // Only the two DMA calls moved the controller's clock.
    EXPECT_EQ(sc_time_stamp(), cycles_to_time(2 * want));
  }
}

TEST_F(TlmMemory, BackToBackTransfersAddUpAndMemoryStartsZeroed) {
  Bench& b = elaborate(small_dram(10, 8));
  b.run([&] {
    std::vector<uint8_t> fresh(4096, 0xEE);
    b.dma.read(0, fresh.data(), fresh.size());
    EXPECT_EQ(fresh, std::vector<uint8_t>(4096, 0));  // DRAM contents start at zero

    // A tensor moved in three chunks: the time is the sum of the chunks' costs.
    const auto data = random_bytes(1000, 42);
    const sc_time t0 = sc_time_stamp();
    uint64_t cycles = 0;
    cycles += b.dma.write(0x2000, data.data(), 400);
    cycles += b.dma.write(0x2000 + 400, data.data() + 400, 599);
    cycles += b.dma.write(0x2000 + 999, data.data() + 999, 1);
    const uint64_t want = expected_cycles(10, 8, 400) + expected_cycles(10, 8, 599) + expected_cycles(10, 8, 1);
    EXPECT_EQ(cycles, want);
    EXPECT_EQ(sc_time_stamp() - t0, cycles_to_time(want));
    std::vector<uint8_t> back(1000);
    b.dma.read(0x2000, back.data(), back.size());
    EXPECT_EQ(back, data);
  });
}

// A released memory is kept for the next DRAM of the same size (runs one
// after another in a process): it must start zeroed like a fresh one,
// wherever the last one wrote, and not only where it did.
TEST_F(TlmMemory, AReusedMemoryStartsZeroedWhereverTheLastRunWrote) {
  const uint64_t size = 48ull << 20;
  const uint64_t at[] = {0, 4095, 4096, (size / 2) + 123, size - 300};
  {
    Bench& b = elaborate(small_dram(10, 8, size));
    b.run([&] {
      for (uint64_t a : at) {
        auto data = random_bytes(300, static_cast<uint32_t>(a));
        EXPECT_EQ(b.drv.debug(tlm::TLM_WRITE_COMMAND, a, data.data(), 300), 300u);
      }
      auto block = random_bytes(1 << 20, 5);
      b.dma.write(8ull << 20, block.data(), block.size());
    });
  }
  auto all_zero = [&](Bench& b) {
    std::vector<uint8_t> chunk(1 << 20);
    for (uint64_t a = 0; a < size; a += chunk.size()) {
      ASSERT_EQ(b.drv.debug(tlm::TLM_READ_COMMAND, a, chunk.data(), static_cast<unsigned>(chunk.size())), chunk.size());
      ASSERT_TRUE(std::all_of(chunk.begin(), chunk.end(), [](uint8_t x) { return x == 0; })) << "at " << hex(a);
    }
  };
  const uint64_t reuses = Dram::storage_reuses();
  {
    Bench& b = elaborate(small_dram(10, 8, size));
    EXPECT_EQ(Dram::storage_reuses(), reuses + 1);  // the first memory, not a fresh one
    b.run([&] {
      all_zero(b);
      // Writes elsewhere (host transactions too): the next memory must
      // find these zeroed as well as the first run's.
      auto data = random_bytes(70000, 9);
      sc_time d = sc_core::SC_ZERO_TIME;
      b.drv.host_access(tlm::TLM_WRITE_COMMAND, (size / 3) + 5, data.data(), static_cast<unsigned>(data.size()), d);
      b.dma.write(size - 4096, data.data(), 4096);
    });
  }
  Bench& b = elaborate(small_dram(10, 8, size));
  EXPECT_EQ(Dram::storage_reuses(), reuses + 2);
  b.run([&] { all_zero(b); });
}

// The DMA's direct access reads the memory; writes go through transactions
// (which the memory's reuse relies on to know what to zero).
TEST_F(TlmMemory, DirectAccessIsReadOnly) {
  Bench& b = elaborate(small_dram(10, 8, 4096));
  b.run([&] {
    tlm::tlm_generic_payload t;
    uint8_t byte = 0;
    payload(t, tlm::TLM_READ_COMMAND, 0, &byte, 1);
    tlm::tlm_dmi dmi;
    ASSERT_TRUE(b.dma.socket->get_direct_mem_ptr(t, dmi));
    EXPECT_TRUE(dmi.is_read_allowed());
    EXPECT_FALSE(dmi.is_write_allowed());
    EXPECT_EQ(dmi.get_end_address(), 4095u);
  });
}

TEST_F(TlmMemory, CountersAreExactPerPort) {
  Bench& b = elaborate(small_dram(10, 8, 4096));
  b.run([&] {
    std::vector<uint8_t> buf(200, 7);
    b.dma.write(0, buf.data(), 100);
    b.dma.write(1000, buf.data(), 17);
    b.dma.read(0, buf.data(), 64);
    EXPECT_EQ(b.dma.last_transfer(), "read 0x0+64");
    sc_time d = sc_core::SC_ZERO_TIME;
    b.drv.host_access(tlm::TLM_WRITE_COMMAND, 2000, buf.data(), 33, d);
    b.drv.host_access(tlm::TLM_READ_COMMAND, 2000, buf.data(), 5, d);
    b.drv.host_access(tlm::TLM_READ_COMMAND, 4095, buf.data(), 0, d);  // empty, still a transaction
    // Neither refused requests nor debug accesses are counted.
    b.drv.host_access(tlm::TLM_READ_COMMAND, 4090, buf.data(), 10, d);
    EXPECT_THROW(b.dma.write(4090, buf.data(), 10), DmaError);
    b.drv.debug(tlm::TLM_WRITE_COMMAND, 0, buf.data(), 50);
    b.drv.debug(tlm::TLM_READ_COMMAND, 0, buf.data(), 50);
  });
  const DramCounters& dma = b.dram.dma_counters();
  EXPECT_EQ(dma.bytes_written, 117u);
  EXPECT_EQ(dma.bytes_read, 64u);
  EXPECT_EQ(dma.transactions, 3u);
  const DramCounters& host = b.dram.host_counters();
  EXPECT_EQ(host.bytes_written, 33u);
  EXPECT_EQ(host.bytes_read, 5u);
  EXPECT_EQ(host.transactions, 3u);
  const DmaCounters& c = b.dma.counters();
  EXPECT_EQ(c.bytes_out, 117u);
  EXPECT_EQ(c.bytes_in, 64u);
  EXPECT_EQ(c.transfers, 3u);
  EXPECT_EQ(c.cycles, expected_cycles(10, 8, 100) + expected_cycles(10, 8, 17) + expected_cycles(10, 8, 64));
  EXPECT_EQ(b.dma.last_transfer(), "write 0xffa+10");  // the refused one was the latest
}

TEST_F(TlmMemory, OutOfRangeAccessesAreRefusedAndChangeNothing) {
  const uint64_t size = 4096;
  struct Case {
    uint64_t addr;
    unsigned len;
    const char* what;
  };
  const Case cases[] = {
      {size - 16, 17, "last byte one past the end"},
      {size, 1, "address at the size"},
      {size, 0, "empty access at the size"},
      {uint64_t{1} << 32, 4, "address far beyond the size"},
      {std::numeric_limits<uint64_t>::max() - 7, 16, "address + length wraps to 8"},
  };
  Bench& b = elaborate(small_dram(10, 8, size));
  const auto pattern = random_bytes(size, 7);
  const int warnings_before = sc_core::sc_report_handler::get_count(kDramMsgId);
  b.run([&] {
    std::vector<uint8_t> fill = pattern;
    ASSERT_EQ(b.drv.debug(tlm::TLM_WRITE_COMMAND, 0, fill.data(), size), size);
    for (const Case& k : cases) {
      SCOPED_TRACE(k.what);
      std::vector<uint8_t> junk(k.len, 0xA5), dst(k.len, 0x5A);
      // Raw initiator on the host port: an address error, no time annotated.
      sc_time d = sc_core::SC_ZERO_TIME;
      EXPECT_EQ(b.drv.host_access(tlm::TLM_WRITE_COMMAND, k.addr, junk.data(), k.len, d),
                tlm::TLM_ADDRESS_ERROR_RESPONSE);
      EXPECT_EQ(b.drv.host_access(tlm::TLM_READ_COMMAND, k.addr, dst.data(), k.len, d),
                tlm::TLM_ADDRESS_ERROR_RESPONSE);
      EXPECT_EQ(d, sc_core::SC_ZERO_TIME);
      // Through the DMA: DmaError naming the transfer, its address in hex and the response.
      const sc_time t0 = sc_time_stamp();
      try {
        b.dma.write(k.addr, junk.data(), k.len);
        ADD_FAILURE() << "DMA write did not throw";
      } catch (const DmaError& e) {
        const std::string msg = e.what();
        EXPECT_NE(msg.find("DMA write of " + std::to_string(k.len) + " bytes"), std::string::npos) << msg;
        EXPECT_NE(msg.find(hex(k.addr)), std::string::npos) << msg;
        EXPECT_NE(msg.find("TLM_ADDRESS_ERROR_RESPONSE"), std::string::npos) << msg;
      }
      try {
        b.dma.read(k.addr, dst.data(), k.len);
        ADD_FAILURE() << "DMA read did not throw";
      } catch (const DmaError& e) {
        EXPECT_NE(std::string(e.what()).find("DMA read of"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find(hex(k.addr)), std::string::npos) << e.what();
      }
      EXPECT_EQ(sc_time_stamp(), t0);  // a refused transfer costs no time
      EXPECT_EQ(dst, std::vector<uint8_t>(k.len, 0x5A));  // nothing was read into the buffer
    }
    std::vector<uint8_t> after(size);
    ASSERT_EQ(b.drv.debug(tlm::TLM_READ_COMMAND, 0, after.data(), size), size);
    EXPECT_EQ(after, pattern);
  });
  EXPECT_EQ(b.dram.host_counters().transactions, 0u);
  EXPECT_EQ(b.dram.dma_counters().transactions, 0u);
  EXPECT_EQ(b.dma.counters().transfers, 0u);
  // Each refusal is an SC_WARNING with the DRAM's message id (4 per case).
  EXPECT_EQ(sc_core::sc_report_handler::get_count(kDramMsgId) - warnings_before,
            static_cast<int>(4 * std::size(cases)));
}

TEST_F(TlmMemory, ByteEnablesStreamingAndUnknownCommandsAreRefused) {
  Bench& b = elaborate(small_dram(10, 8, 4096));
  b.run([&] {
    std::vector<uint8_t> zeros(64, 0), data(64, 0x3C), be(64, 0xFF);
    // Check both ports: the host's through the raw initiator, the DMA port
    // by calling the DRAM's target socket directly.
    const std::function<tlm::tlm_response_status(tlm::tlm_generic_payload&, sc_time&)> ports[] = {
        [&](tlm::tlm_generic_payload& t, sc_time& d) { return b.drv.host_access(t, d); },
        [&](tlm::tlm_generic_payload& t, sc_time& d) {
          tlm::tlm_fw_transport_if<>& dma_port = b.dram.dma_socket;  // the socket's export side
          dma_port.b_transport(t, d);
          return t.get_response_status();
        }};
    for (const auto& port : ports) {
      sc_time d = sc_core::SC_ZERO_TIME;
      tlm::tlm_generic_payload t;
      payload(t, tlm::TLM_WRITE_COMMAND, 128, data.data(), 64);
      t.set_byte_enable_ptr(be.data());
      t.set_byte_enable_length(64);
      EXPECT_EQ(port(t, d), tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE);

      payload(t, tlm::TLM_WRITE_COMMAND, 128, data.data(), 64);
      t.set_streaming_width(16);  // a FIFO-style burst onto 16 addresses
      EXPECT_EQ(port(t, d), tlm::TLM_BURST_ERROR_RESPONSE);
      payload(t, tlm::TLM_READ_COMMAND, 128, data.data(), 64);
      t.set_streaming_width(0);
      EXPECT_EQ(port(t, d), tlm::TLM_BURST_ERROR_RESPONSE);

      payload(t, tlm::TLM_IGNORE_COMMAND, 128, data.data(), 64);
      EXPECT_EQ(port(t, d), tlm::TLM_COMMAND_ERROR_RESPONSE);
      EXPECT_EQ(d, sc_core::SC_ZERO_TIME);

      // A streaming width wider than the data is an ordinary burst.
      std::vector<uint8_t> back(64);
      payload(t, tlm::TLM_READ_COMMAND, 128, back.data(), 64);
      t.set_streaming_width(1000);
      EXPECT_EQ(port(t, d), tlm::TLM_OK_RESPONSE);
      EXPECT_EQ(back, zeros);  // none of the refused writes landed
    }
  });
  EXPECT_EQ(b.dram.host_counters().transactions, 1u);
  EXPECT_EQ(b.dram.dma_counters().transactions, 1u);
  EXPECT_EQ(b.dram.host_counters().bytes_written + b.dram.dma_counters().bytes_written, 0u);
}

TEST_F(TlmMemory, DebugTransportIsZeroTimeUncountedAndClipsAtTheEnd) {
  const unsigned size = 1024;
  Bench& b = elaborate(small_dram(100, 16, size));
  b.run([&] {
    const sc_time t0 = sc_time_stamp();
    const auto data = random_bytes(300, 3);
    std::vector<uint8_t> src = data, back(300, 0);
    EXPECT_EQ(b.drv.debug(tlm::TLM_WRITE_COMMAND, 17, src.data(), 300), 300u);
    EXPECT_EQ(b.drv.debug(tlm::TLM_READ_COMMAND, 17, back.data(), 300), 300u);
    EXPECT_EQ(back, data);
    // Past the end: only the bytes that exist are moved, and their count returned.
    std::vector<uint8_t> tail(64, 0xEE);
    EXPECT_EQ(b.drv.debug(tlm::TLM_READ_COMMAND, size - 10, tail.data(), 64), 10u);
    EXPECT_EQ(std::vector<uint8_t>(tail.begin(), tail.begin() + 10), std::vector<uint8_t>(10, 0));
    EXPECT_EQ(tail[10], 0xEE);
    EXPECT_EQ(b.drv.debug(tlm::TLM_READ_COMMAND, size, tail.data(), 1), 0u);
    EXPECT_EQ(b.drv.debug(tlm::TLM_READ_COMMAND, std::numeric_limits<uint64_t>::max(), tail.data(), 2), 0u);
    EXPECT_EQ(b.drv.debug(tlm::TLM_IGNORE_COMMAND, 0, tail.data(), 8), 0u);
    EXPECT_EQ(sc_time_stamp(), t0);

    // Debug and timed accesses see one memory.
    std::vector<uint8_t> via_dma(300, 0);
    b.dma.read(17, via_dma.data(), 300);
    EXPECT_EQ(via_dma, data);
  });
  EXPECT_EQ(b.dram.host_counters().transactions, 0u);
  EXPECT_EQ(b.dram.host_counters().bytes_read + b.dram.host_counters().bytes_written, 0u);
  EXPECT_EQ(b.dram.dma_counters().transactions, 1u);
}

TEST_F(TlmMemory, DmaRefusesWhatOneTransactionCannotCarry) {
  Bench& b = elaborate(small_dram(10, 8), sc_time(3, sc_core::SC_NS));  // DMA clocked differently
  b.run([&] {
    uint8_t byte = 0;
    // 2 ns DRAM cycles are not whole 3 ns DMA cycles: the clocks disagree.
    EXPECT_THROW(b.dma.read(0, &byte, 1), DmaError);
    EXPECT_THROW(b.dma.read(0, nullptr, 8), DmaError);
    try {
      b.dma.write(0x40, &byte, uint64_t{1} << 32);
      ADD_FAILURE() << "a 4 GiB transfer did not throw";
    } catch (const DmaError& e) {
      EXPECT_NE(std::string(e.what()).find("0x40"), std::string::npos) << e.what();
    }
  });
  EXPECT_EQ(b.dma.counters().transfers, 0u);
}

// Reads booked on the DMA's read channel (direct memory access, TLM DMI)
// end on the cycles the same reads issued as transactions end on, and count
// alike; the DRAM grants direct access only within its memory and without
// back-pressure, and the bytes read in place are the memory's.
TEST_F(TlmMemory, BookedReadsEndWhenTransactionsWouldAndDirectAccessIsGrantedWithoutBackPressure) {
  struct Read {
    uint64_t addr, bytes, issue;
  };
  const std::vector<Read> reads = {{0, 160, 0}, {160, 160, 5}, {320, 33, 400}, {353, 1, 401}, {1000, 4096, 402}, {0, 16, 9000}};
  std::vector<uint64_t> done_tlm, done_booked;
  DmaCounters c_tlm, c_booked;
  {
    Bench& b = elaborate(small_dram(37, 16));
    b.run([&] {
      for (const Read& r : reads) {
        const uint64_t id = b.dma.issue(false, r.addr, b.dma.buffer(r.bytes), r.issue, true);
        done_tlm.push_back(b.dma.done_cycle(id));
        EXPECT_EQ(b.dma.take(id, nullptr), "");
      }
    });
    c_tlm = b.dma.counters();
  }
  const std::vector<uint8_t> data = random_bytes(2048, 7);
  Bench& b = elaborate(small_dram(37, 16));
  b.run([&] {
    sc_time delay = sc_core::SC_ZERO_TIME;
    ASSERT_EQ(b.drv.host_access(tlm::TLM_WRITE_COMMAND, 0x400, const_cast<uint8_t*>(data.data()), 2048, delay),
              tlm::TLM_OK_RESPONSE);
    const uint8_t* p = b.dma.direct_read(0x400, 2048);
    ASSERT_NE(p, nullptr);
    EXPECT_TRUE(std::equal(data.begin(), data.end(), p));
    EXPECT_EQ(b.dma.direct_read(64 * 1024 - 10, 20), nullptr);  // past the end
    EXPECT_EQ(b.dma.direct_read(64 * 1024, 1), nullptr);
    for (const Read& r : reads) done_booked.push_back(b.dma.book_read(r.bytes, r.issue));
    b.dram.set_backpressure(1, 5);
    EXPECT_EQ(b.dma.direct_read(0x400, 16), nullptr);  // transactions draw their extra cycles one by one
  });
  c_booked = b.dma.counters();
  EXPECT_EQ(done_booked, done_tlm);
  EXPECT_EQ(c_booked.bytes_in, c_tlm.bytes_in);
  EXPECT_EQ(c_booked.transfers, c_tlm.transfers);
  EXPECT_EQ(c_booked.cycles, c_tlm.cycles);
  EXPECT_EQ(b.dram.dma_counters().transactions, 0u);  // direct access bypasses the target
}

// Elaborates one DRAM (or DMA) and expects ConfigError whose message names `field`.
void expect_config_error(const std::function<void()>& build, const std::string& field) {
  reset_systemc_kernel();
  try {
    build();
    ADD_FAILURE() << "no ConfigError for " << field;
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find(field), std::string::npos) << e.what();
  }
}

TEST(DramConfigValidation, RejectsBadValuesNamingTheField) {
  const auto with = [](std::function<void(DramConfig&)> edit) {
    DramConfig c = small_dram();
    edit(c);
    return [c] { Dram d("dram", c, period()); };
  };
  expect_config_error(with([](DramConfig& c) { c.size_bytes = 0; }), "dram.size_bytes");
  expect_config_error(with([](DramConfig& c) { c.size_bytes = kDramMaxBytes + 1; }), "dram.size_bytes");
  expect_config_error(with([](DramConfig& c) { c.latency_cycles = -1; }), "dram.latency_cycles");
  expect_config_error(with([](DramConfig& c) { c.bytes_per_cycle = 0; }), "dram.bytes_per_cycle");
  expect_config_error(with([](DramConfig& c) { c.bytes_per_cycle = -16; }), "dram.bytes_per_cycle");
  expect_config_error([] { Dram d("dram", small_dram(), sc_core::SC_ZERO_TIME); }, "clock period");
  expect_config_error([] { Dma d("dma", sc_core::SC_ZERO_TIME); }, "clock period");

  // The limits themselves are accepted (validated without allocating 4 GiB).
  DramConfig edge = small_dram(0, 1, kDramMaxBytes);
  EXPECT_NO_THROW(validate(edge));
  edge.size_bytes = 1;
  EXPECT_NO_THROW(validate(edge));
  EXPECT_NO_THROW(validate(DramConfig{}));  // the shipped default
}

}  // namespace
