// The top of the gate-level power run (rtl/tb/gl_power.cpp): the Yosys
// netlists of the AE, the 16-bit multiplier and the reconfigurable weight
// decoder (rtl/synth/synth.sh writes them as *_gl modules), each with its
// own inputs, so each can be driven by its own operand stream.
module gl_top (
    input  wire        clk,
    input  wire [15:0] ae_a,
    input  wire        ae_zero,
    input  wire        ae_sign,
    input  wire        ae_flag,
    input  wire [3:0]  ae_shift,
    output wire [47:0] ae_product,
    input  wire [15:0] mul_a,
    input  wire [15:0] mul_w,
    output wire [47:0] mul_product,
    input  wire        dec_cfg_we,
    input  wire [3:0]  dec_cfg_n2,
    input  wire        dec_cfg_p,
    input  wire [4:0]  dec_code,
    output wire        dec_zero,
    output wire        dec_sign,
    output wire        dec_flag,
    output wire [3:0]  dec_shift
);
  brslog_ae_gl ae (.a(ae_a), .zero(ae_zero), .sign(ae_sign), .flag(ae_flag), .shift(ae_shift), .product(ae_product));
  fixed16_mul_gl mul (.a(mul_a), .w(mul_w), .product(mul_product));
  brslog_decoder_gl dec (.clk(clk), .cfg_we(dec_cfg_we), .cfg_n2(dec_cfg_n2), .cfg_p(dec_cfg_p), .code(dec_code),
                         .zero(dec_zero), .sign(dec_sign), .flag(dec_flag), .shift(dec_shift));
endmodule
