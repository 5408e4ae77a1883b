#include "sc_weight_decoder.h"

#include <string>

namespace brsim {

WeightDecoder::WeightDecoder(sc_core::sc_module_name name, const SegmentConfig& seg, const DatapathConfig& dp)
    : sc_core::sc_module(name),
      clk("clk"),
      in_valid("in_valid"),
      in_code("in_code"),
      out_valid("out_valid"),
      out_zero("out_zero"),
      out_sign("out_sign"),
      out_flag("out_flag"),
      out_shift("out_shift"),
      unit_(seg, dp) {  // the reset value of the register must be legal too
  SC_METHOD(on_clock);
  sensitive << clk.pos();
  dont_initialize();
}

bool WeightDecoder::idle() const {
  // Before the end of elaboration the ports are not bound yet and nothing runs.
  const sc_core::sc_status st = sc_core::sc_get_status();
  if (st == sc_core::SC_UNITIALIZED || st == sc_core::SC_ELABORATION ||
      st == sc_core::SC_BEFORE_END_OF_ELABORATION)
    return true;
  return !in_valid.read();
}

void WeightDecoder::configure(const SegmentConfig& seg, const DatapathConfig& dp) {
  check_realizable(seg, dp);
  if (!idle()) {
    const std::string msg = std::string(name()) + ": configuration register written while a decode is in flight "
                            "(in_valid high); write it between layers, after the stream has drained";
    SC_REPORT_ERROR(kWeightDecoderMsgId, msg.c_str());
    return;  // when the report does not throw, the write is dropped (and reported)
  }
  unit_.configure(seg, dp);
}

void WeightDecoder::on_clock() {
  const bool valid = in_valid.read();
  out_valid.write(valid);
  if (!valid) return;  // data registers hold
  const uint32_t code = static_cast<uint32_t>(in_code.read().to_uint());
  if (!unit_.fits(code)) {
    const std::string msg = std::string(name()) + ": code word " + std::to_string(code) + " does not fit the " +
                            std::to_string(segment().bits) + "-bit configuration (" + to_string(segment()) + ")";
    SC_REPORT_ERROR(kWeightDecoderMsgId, msg.c_str());
    out_valid.write(false);  // when the report does not throw, the word is dropped
    return;
  }
  const DecodedWeight d = unit_.decode(code);
  out_zero.write(d.zero);
  out_sign.write(d.sign);
  out_flag.write(d.flag != 0);
  out_shift.write(d.shift);
}

}  // namespace brsim
