// The weight decoder as a clocked SystemC block (BRSLOG.md section 3): one
// code word in per cycle, its {zero, sign, shift, flag} registered out. Its
// logic and reconfiguration register are WeightDecoderUnit's, the unit the
// PE array's column decoders are (array_datapath.h).
#pragma once

#include <systemc>

#include <cstdint>

#include "array_datapath.h"
#include "brslog.h"
#include "datapath.h"

namespace brsim {

// SC_REPORT message id of the decoder's protocol errors (SC_ERROR): a code
// word wider than the configured N bits, a configuration written while busy.
inline constexpr const char kWeightDecoderMsgId[] = "brsim/weight_decoder";

// Timing: on every rising edge out_valid <= in_valid; when in_valid is high
// the data outputs register decode(in_code); when it is low they hold their
// last value (an enabled register: no switching without a decode).
//
// Reconfiguration register: `configure()` is the per-layer register write
// (n2, p and the width N; the datapath widths only bound what is legal). It
// takes effect at the next rising edge and is legal only while idle, i.e.
// while in_valid is low, so no decode in flight sees a half-written register.
class WeightDecoder : public sc_core::sc_module {
 public:
  sc_core::sc_in<bool> clk;
  sc_core::sc_in<bool> in_valid;
  sc_core::sc_in<sc_dt::sc_uint<8>> in_code;  // low N bits: the code word

  sc_core::sc_out<bool> out_valid;
  sc_core::sc_out<bool> out_zero;
  sc_core::sc_out<bool> out_sign;
  sc_core::sc_out<bool> out_flag;               // times sqrt2
  sc_core::sc_out<sc_dt::sc_uint<6>> out_shift;  // h(j) >> 1

  SC_HAS_PROCESS(WeightDecoder);
  // The initial register contents; ConfigError as for configure().
  explicit WeightDecoder(sc_core::sc_module_name name, const SegmentConfig& seg = {},
                         const DatapathConfig& dp = {});

  // Register write. ConfigError (register unchanged) when the segment
  // configuration is invalid or the datapath cannot realize it
  // (check_realizable). An SC_ERROR with kWeightDecoderMsgId when not idle.
  void configure(const SegmentConfig& seg, const DatapathConfig& dp);

  const SegmentConfig& segment() const { return unit_.segment(); }
  const DatapathConfig& datapath() const { return unit_.datapath(); }

  uint64_t decodes() const { return unit_.decodes(); }                    // valid input cycles
  uint64_t reconfigurations() const { return unit_.reconfigurations(); }  // accepted configure() calls

 private:
  void on_clock();
  bool idle() const;

  WeightDecoderUnit unit_;
};

}  // namespace brsim
