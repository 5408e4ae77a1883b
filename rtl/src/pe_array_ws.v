// An R x C weight-stationary PE array with its column weight decoders
// (ARCHITECTURE.md "The PE array and its timing"; docs/cycle-model.md "Cycle model"), the
// RTL twin of the simulator's PeArray in the ws dataflow. One clock; the
// control inputs say what each rising edge does (a fold is R load edges, the
// last with clr, then P + R + C - 1 stream edges):
//   w_load: weights shift down one row; row 0 takes each column decoder's
//           output for w_in (BRSLog code words; fixed16: w_q as is)
//   clr:    activation, product and partial-sum registers clear
//   stream: every PE multiplies-accumulates (psum from the PE above, 0 in
//           row 0); activations shift right, row r's column 0 takes act_in[r]
// cfg_we loads each column decoder's (n2, p) reconfiguration register.
// The pe_* outputs expose every PE's registers (PE (r, c) at index r*C + c)
// for the cycle-by-cycle cross-check with the simulator's traces.
module pe_array_ws #(
    parameter integer R = 4,
    parameter integer C = 4,
    parameter integer FIXED16 = 0,     // 1: fixed16 PEs, no decoders
    parameter integer N = 5,           // code word bits
    parameter integer K = 4,
    parameter integer A = 16,
    parameter integer SHIFT_BITS = 4,
    parameter integer ACC = 48,
    // Weight input and register widths.
    parameter integer WI = (FIXED16 != 0) ? 16 : N,
    parameter integer WR = (FIXED16 != 0) ? 16 : SHIFT_BITS + 3
) (
    input  wire               clk,
    input  wire               rst,
    /* verilator lint_off UNUSEDSIGNAL */  // fixed16 arrays have no decoders
    input  wire               cfg_we,
    input  wire [C*(N-1)-1:0] cfg_n2,
    input  wire [C-1:0]       cfg_p,
    /* verilator lint_on UNUSEDSIGNAL */
    input  wire               w_load,
    input  wire [C*WI-1:0]    w_in,
    input  wire               clr,
    input  wire               stream,
    input  wire [R*A-1:0]     act_in,
    output wire [C*ACC-1:0]   psum_out,
    output wire [C*WR-1:0]    dec_out,     // what enters row 0 on a load edge
    output wire [R*C*WR-1:0]  pe_w,
    output wire [R*C*A-1:0]   pe_act,
    output wire [R*C*ACC-1:0] pe_prod,
    output wire [R*C*ACC-1:0] pe_psum
);
  genvar r, c;
  generate
    for (c = 0; c < C; c = c + 1) begin : g_dec
      if (FIXED16 != 0) begin : g_fixed
        assign dec_out[c*WR+:WR] = w_in[c*WI+:WI];
      end else begin : g_brslog
        wire zero, sign, flag;
        wire [SHIFT_BITS-1:0] shift;
        brslog_decoder #(.N(N), .SHIFT_BITS(SHIFT_BITS)) dec (
            .clk(clk), .cfg_we(cfg_we), .cfg_n2(cfg_n2[c*(N-1)+:(N-1)]), .cfg_p(cfg_p[c]),
            .code(w_in[c*WI+:WI]), .zero(zero), .sign(sign), .flag(flag), .shift(shift));
        assign dec_out[c*WR+:WR] = {shift, flag, sign, zero};
      end
    end

    for (r = 0; r < R; r = r + 1) begin : g_row
      for (c = 0; c < C; c = c + 1) begin : g_col
        localparam integer I = r * C + c;
        wire [WR-1:0]  w_above = (r == 0) ? dec_out[c*WR+:WR] : pe_w[(I-C)*WR+:WR];
        wire [A-1:0]   a_left = (c == 0) ? act_in[r*A+:A] : pe_act[(I-1)*A+:A];
        wire [ACC-1:0] ps_above = (r == 0) ? {ACC{1'b0}} : pe_psum[(I-C)*ACC+:ACC];
        if (FIXED16 != 0) begin : g_fixed
          fixed16_pe #(.A(A), .ACC(ACC)) pe (
              .clk(clk), .rst(rst), .w_load(w_load), .w_in(w_above), .w_out(pe_w[I*WR+:WR]),
              .clr(clr), .stream(stream), .a_in(a_left), .a_out(pe_act[I*A+:A]),
              .psum_in(ps_above), .psum_out(pe_psum[I*ACC+:ACC]), .product_out(pe_prod[I*ACC+:ACC]));
        end else begin : g_brslog
          brslog_pe #(.A(A), .K(K), .SHIFT_BITS(SHIFT_BITS), .ACC(ACC)) pe (
              .clk(clk), .rst(rst), .w_load(w_load), .w_in(w_above), .w_out(pe_w[I*WR+:WR]),
              .clr(clr), .stream(stream), .a_in(a_left), .a_out(pe_act[I*A+:A]),
              .psum_in(ps_above), .psum_out(pe_psum[I*ACC+:ACC]), .product_out(pe_prod[I*ACC+:ACC]));
        end
      end
    end
    for (c = 0; c < C; c = c + 1) begin : g_out
      assign psum_out[c*ACC+:ACC] = pe_psum[((R-1)*C+c)*ACC+:ACC];
    end
  endgenerate
endmodule
