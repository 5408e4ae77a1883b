// The arithmetic element (AE) as a clocked SystemC block (BRSLOG.md section 6;
// the fixed16 baseline of section 8): one MAC per cycle, psum_out = wrap(psum_in + P).
// Its product and configuration register are AeUnit's, the unit every PE of
// the array multiplies with (array_datapath.h).
#pragma once

#include <systemc>

#include <cstdint>
#include <string>

#include "array_datapath.h"
#include "datapath.h"
#include "sqrt2.h"

namespace brsim {

// SC_REPORT message id of the AE's protocol errors (SC_ERROR): an input out of
// its configured range, a configuration written while busy.
inline constexpr const char kArithmeticElementMsgId[] = "brsim/arithmetic_element";

// Action counts for the energy model (one per valid cycle, by kind).
struct AeCounters {
  uint64_t ops_sqrt2 = 0;      // BRSLog op through the sqrt2 path (flag = 1)
  uint64_t ops_base2 = 0;      // BRSLog op, base-2 path (flag = 0)
  uint64_t ops_zero = 0;       // zero weight: product gated, psum passes through
  uint64_t fixed16_mults = 0;  // fixed16 mode: one 16-bit multiply
  uint64_t overflows = 0;      // partial sums that left the acc_bits range (wrapped)
  uint64_t reconfigurations = 0;
  uint64_t ops() const { return ops_sqrt2 + ops_base2 + ops_zero + fixed16_mults; }
};

// Timing: on every rising edge out_valid <= in_valid; when in_valid is high
// psum_out registers wrap(psum_in + P) at acc_bits, with
// P = ae_product(act, {w_zero, w_sign, w_shift, w_flag}, A_K) in BRSLog mode or
// P = fixed16_product(act, w_fixed) in fixed16 mode; when it is low psum_out
// holds. Inputs must lie in their configured ranges (act in A bits, psum_in
// in acc_bits, a shift whose largest product fits acc_bits): anything else
// is an SC_ERROR with kArithmeticElementMsgId and the op is dropped.
//
// Reconfiguration register: `configure()` is the per-layer register write
// (K, widths, BRSLog or fixed16). It takes effect at the next rising edge and
// is legal only while idle (in_valid low).
class ArithmeticElement : public sc_core::sc_module {
 public:
  sc_core::sc_in<bool> clk;
  sc_core::sc_in<bool> in_valid;
  sc_core::sc_in<sc_dt::sc_int<32>> act;  // activation, A-bit two's complement
  // The decoded BRSLog weight (WeightDecoder's outputs); ignored in fixed16 mode.
  sc_core::sc_in<bool> w_zero;
  sc_core::sc_in<bool> w_sign;
  sc_core::sc_in<bool> w_flag;
  sc_core::sc_in<sc_dt::sc_uint<6>> w_shift;
  sc_core::sc_in<sc_dt::sc_int<16>> w_fixed;  // fixed16 mode: w_q; ignored in BRSLog mode
  sc_core::sc_in<sc_dt::sc_int<64>> psum_in;  // acc_bits, sign-extended

  sc_core::sc_out<bool> out_valid;
  sc_core::sc_out<sc_dt::sc_int<64>> psum_out;  // acc_bits, sign-extended

  SC_HAS_PROCESS(ArithmeticElement);
  // The initial register contents; ConfigError as for configure().
  explicit ArithmeticElement(sc_core::sc_module_name name, const DatapathConfig& dp = {}, bool fixed16 = false);

  // Register write. ConfigError (register unchanged) when the datapath is
  // invalid, when its accumulator cannot hold even a shift-0 product (BRSLog),
  // or when acc_bits < act_bits + 16 (fixed16). An SC_ERROR with
  // kArithmeticElementMsgId when not idle.
  void configure(const DatapathConfig& dp, bool fixed16);

  const DatapathConfig& datapath() const { return unit_.datapath(); }
  bool fixed16() const { return unit_.fixed16(); }
  const Sqrt2Approx& approx() const { return unit_.approx(); }
  // Largest shift whose products the accumulator holds (BRSLog mode).
  int shift_limit() const { return unit_.shift_limit(); }
  const AeCounters& counters() const { return counters_; }

 private:
  void on_clock();
  bool idle() const;
  void protocol_error(const std::string& what);

  AeUnit unit_;
  Accumulator acc_{48};  // the wrap-and-count adder: reset to psum_in, add P
  AeCounters counters_;
};

}  // namespace brsim
