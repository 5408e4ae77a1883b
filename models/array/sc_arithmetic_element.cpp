#include "sc_arithmetic_element.h"

#include <string>

#include "errors.h"

namespace brsim {

namespace {
bool fits_bits(int64_t v, int bits) { return wrap_to_bits(v, bits) == v; }
}  // namespace

ArithmeticElement::ArithmeticElement(sc_core::sc_module_name name, const DatapathConfig& dp, bool fixed16)
    : sc_core::sc_module(name),
      clk("clk"),
      in_valid("in_valid"),
      act("act"),
      w_zero("w_zero"),
      w_sign("w_sign"),
      w_flag("w_flag"),
      w_shift("w_shift"),
      w_fixed("w_fixed"),
      psum_in("psum_in"),
      out_valid("out_valid"),
      psum_out("psum_out") {
  configure(dp, fixed16);  // the reset value of the register
  counters_.reconfigurations = 0;
  SC_METHOD(on_clock);
  sensitive << clk.pos();
  dont_initialize();
}

bool ArithmeticElement::idle() const {
  // Before the end of elaboration the ports are not bound yet and nothing runs.
  const sc_core::sc_status st = sc_core::sc_get_status();
  if (st == sc_core::SC_UNITIALIZED || st == sc_core::SC_ELABORATION ||
      st == sc_core::SC_BEFORE_END_OF_ELABORATION)
    return true;
  return !in_valid.read();
}

void ArithmeticElement::protocol_error(const std::string& what) {
  const std::string msg = std::string(name()) + ": " + what;
  SC_REPORT_ERROR(kArithmeticElementMsgId, msg.c_str());
}

void ArithmeticElement::configure(const DatapathConfig& dp, bool fixed16) {
  AeUnit(dp, fixed16);  // a value the register cannot hold: ConfigError, before the protocol check
  if (!idle()) {
    protocol_error("configuration register written while an op is in flight (in_valid high); "
                   "write it between layers, after the stream has drained");
    return;  // when the report does not throw, the write is dropped (and reported)
  }
  unit_.configure(dp, fixed16);
  acc_ = Accumulator(dp.acc_bits);
  ++counters_.reconfigurations;
}

void ArithmeticElement::on_clock() {
  const bool valid = in_valid.read();
  out_valid.write(valid);
  if (!valid) return;  // psum register holds

  const int64_t a = act.read().to_int64();
  const int64_t psum = psum_in.read().to_int64();
  if (!fits_bits(a, datapath().act_bits)) {
    protocol_error("activation " + std::to_string(a) + " does not fit " + std::to_string(datapath().act_bits) + " bits");
    out_valid.write(false);
    return;
  }
  if (!fits_bits(psum, datapath().acc_bits)) {
    protocol_error("psum_in " + std::to_string(psum) + " does not fit the " + std::to_string(datapath().acc_bits) +
                   "-bit accumulator");
    out_valid.write(false);
    return;
  }

  int64_t p = 0;
  if (unit_.fixed16()) {
    p = AeUnit::product(a, static_cast<int16_t>(w_fixed.read().to_int()));
    ++counters_.fixed16_mults;
  } else {
    DecodedWeight d;
    d.zero = w_zero.read();
    d.sign = w_sign.read();
    d.flag = w_flag.read() ? 1 : 0;
    d.shift = static_cast<uint8_t>(w_shift.read().to_uint());
    if (!d.zero && d.shift > unit_.shift_limit()) {
      protocol_error("shift " + std::to_string(d.shift) + " exceeds " + std::to_string(unit_.shift_limit()) +
                     ", the largest this datapath realizes (shift_bits " + std::to_string(datapath().shift_bits) +
                     ", acc_bits " + std::to_string(datapath().acc_bits) + "): the decoder's segment configuration "
                     "is not realizable here");
      out_valid.write(false);
      return;
    }
    p = AeUnit::product(a, unit_.weight(d));
    if (d.zero) ++counters_.ops_zero;
    else if (d.flag) ++counters_.ops_sqrt2;
    else ++counters_.ops_base2;
  }

  acc_.reset();
  acc_.add(psum);  // in range: never counts
  const uint64_t before = acc_.overflows();
  acc_.add(p);
  counters_.overflows += acc_.overflows() - before;
  psum_out.write(acc_.value());
}

}  // namespace brsim
