// Synthesis wrapper: the BRSLog AE with its own weight decoder and
// reconfiguration register (code word in, product out), for the "AE with
// the decoder" area figure. In the array one decoder serves a column of R
// PEs; this counts it whole against one AE.
module brslog_ae_dec #(
    parameter integer N = 5,
    parameter integer K = 4,
    parameter integer A = 16,
    parameter integer SHIFT_BITS = 4,
    parameter integer ACC = 48
) (
    input  wire           clk,
    input  wire           cfg_we,
    input  wire [N-2:0]   cfg_n2,
    input  wire           cfg_p,
    input  wire [N-1:0]   code,
    input  wire [A-1:0]   a,
    output wire [ACC-1:0] product
);
  wire zero, sign, flag;
  wire [SHIFT_BITS-1:0] shift;
  brslog_decoder #(.N(N), .SHIFT_BITS(SHIFT_BITS)) dec (
      .clk(clk), .cfg_we(cfg_we), .cfg_n2(cfg_n2), .cfg_p(cfg_p), .code(code),
      .zero(zero), .sign(sign), .flag(flag), .shift(shift));
  brslog_ae #(.A(A), .K(K), .SHIFT_BITS(SHIFT_BITS), .ACC(ACC)) ae (
      .a(a), .zero(zero), .sign(sign), .flag(flag), .shift(shift), .product(product));
endmodule
