// `brsim codebook`: the levels of one segment configuration (BRSLOG.md
// sections 2-4), as a readable table or as CSV with the fixed columns
// code,sign,j,h,shift,flag,ideal,hardware.
#include <iomanip>
#include <iostream>
#include <memory>
#include <sstream>

#include "cli_options.h"
#include "commands.h"
#include "datapath.h"
#include "quantizer.h"
#include "text_table.h"

namespace brsim {

namespace {

struct CodebookArgs {
  SegmentConfig cfg{5, 6, 0, -10};
  DatapathConfig dp;
  std::string format = "text";
};

std::string exact(double v) {
  if (v == 0.0) return "0";
  std::ostringstream os;
  os << std::setprecision(17) << v;
  return os.str();
}

std::string binary(uint32_t code, int bits) {
  std::string s;
  for (int b = bits - 1; b >= 0; --b) s += ((code >> b) & 1u) ? '1' : '0';
  return s;
}

void run_codebook(const CodebookArgs& a) {
  check_realizable(a.cfg, a.dp);
  const Sqrt2Approx approx = sqrt2_approx(a.dp.sqrt2_terms);
  const SegmentConfig& cfg = a.cfg;
  const uint32_t n = 1u << cfg.bits;
  if (a.format == "csv") {
    std::cout << "code,sign,j,h,shift,flag,ideal,hardware\n";
    for (uint32_t code = 0; code < n; ++code) {
      const int j = code_index(code, cfg.bits);
      const DecodedWeight d = decode(code, cfg);
      std::cout << code << ',' << code_sign(code, cfg.bits) << ',' << j << ','
                << (j ? half_exponent(j, cfg) : 0) << ',' << int(d.shift) << ',' << int(d.flag) << ','
                << exact(ideal_value(code, cfg)) << ',' << exact(hardware_value(code, cfg, approx)) << '\n';
    }
    return;
  }
  std::cout << "BRSLog codebook: " << cfg.bits << "-bit codes, n2:n1 = " << cfg.n2 << ":" << cfg.n1()
            << ", p = " << cfg.p << " (boundary step x" << (cfg.p ? " 2" : " sqrt2") << "), e_base = " << cfg.e_base
            << " (smallest level 2^" << cfg.e_base << ")\n"
            << "sqrt2 approximation: K = " << approx.k << ", A_K = " << approx.expression() << " = "
            << exact(approx.value()) << " = " << approx.c << "/2^" << approx.q << " (error "
            << fmt_fixed(approx.relative_error() * 100.0, 4) << " %)\n"
            << "values are real weights (unitless); hw err = hardware / ideal - 1\n\n";
  TextTable t({"code", "bin", "sign", "j", "h", "shift", "flag", "segment", "ideal", "hardware", "hw err %"},
              {false, false, false, false, false, false, false, true, false, false, false});
  for (uint32_t code = 0; code < n; ++code) {
    const int j = code_index(code, cfg.bits);
    const DecodedWeight d = decode(code, cfg);
    const double ideal = ideal_value(code, cfg), hw = hardware_value(code, cfg, approx);
    const char* segment = j == 0 ? "zero" : (cfg.n2 >= 1 && j <= cfg.n2 ? "base-2" : "base-sqrt2");
    t.add_row({std::to_string(code), binary(code, cfg.bits), code_sign(code, cfg.bits) ? "-" : "+",
               std::to_string(j), j ? std::to_string(half_exponent(j, cfg)) : "-", std::to_string(d.shift),
               std::to_string(d.flag), segment, j ? fmt_general(ideal, 12) : "0", j ? fmt_general(hw, 12) : "0",
               j ? fmt_fixed((hw / ideal - 1.0) * 100.0, 4) : "-"});
  }
  t.print(std::cout);
}

}  // namespace

void add_codebook_command(CLI::App& app) {
  auto args = std::make_shared<CodebookArgs>();
  CLI::App* cmd = app.add_subcommand("codebook", "Print every code word of one BRSLog segment configuration");
  cmd->add_option("--bits", args->cfg.bits, "Code word width N in bits [3, 8]")->capture_default_str();
  cmd->add_option("--n2", args->cfg.n2, "Number of base-2 levels, in [0, 2^(N-1)-1]")->capture_default_str();
  cmd->add_option("--p", args->cfg.p, "Boundary step: 0 = x sqrt2, 1 = x2")->capture_default_str();
  cmd->add_option("--e-base", args->cfg.e_base, "Smallest level is 2^e_base")->capture_default_str();
  cmd->add_option("--sqrt2-terms", args->dp.sqrt2_terms, "K, terms of the sqrt2 expansion [1, 7]")
      ->capture_default_str();
  cmd->add_option("--act-bits", args->dp.act_bits, "Activation width A in bits (datapath limit check)")
      ->capture_default_str();
  cmd->add_option("--acc-bits", args->dp.acc_bits, "Accumulator width in bits (datapath limit check)")
      ->capture_default_str();
  cmd->add_option("--shift-bits", args->dp.shift_bits, "Decoder shift field width in bits")->capture_default_str();
  add_format_option(cmd, args->format, "Output format", {"text", "csv"});
  cmd->callback([args] { run_codebook(*args); });
}

}  // namespace brsim
