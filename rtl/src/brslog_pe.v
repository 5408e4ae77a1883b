// A weight-stationary BRSLog PE (ARCHITECTURE.md "The PE array and its
// timing"; docs/cycle-model.md "Cycle model"): the decoded weight register, the
// activation register, the AE and the accumulator (partial-sum register,
// ACC bits, wrapping). One clock; every register updates on its rising edge:
//   w_load:  the weight register takes the one above (or the column decoder's)
//   clr:     activation, product and partial sum clear (the fold's start)
//   stream:  P = AE(act, weight); product <= P; psum <= psum_in + P (wraps);
//            act <= a_in (from the PE on the left)
// The weight register is packed as the simulator traces it (register_bits):
// bit 0 zero, bit 1 sign, bit 2 flag, bits 3.. shift.
// PRODUCT_REG = 1 keeps a product register (the simulator's traced
// `product`, which nothing else reads); 0 is the PE as it would be built.
module brslog_pe #(
    parameter integer A = 16,
    parameter integer K = 4,
    parameter integer SHIFT_BITS = 4,
    parameter integer ACC = 48,
    parameter integer PRODUCT_REG = 1
) (
    input  wire                    clk,
    input  wire                    rst,       // synchronous: zero weight, registers 0
    input  wire                    w_load,
    input  wire [SHIFT_BITS+2:0]   w_in,
    output reg  [SHIFT_BITS+2:0]   w_out,
    input  wire                    clr,
    input  wire                    stream,
    input  wire [A-1:0]            a_in,
    output reg  [A-1:0]            a_out,
    input  wire [ACC-1:0]          psum_in,
    output reg  [ACC-1:0]          psum_out,
    output wire [ACC-1:0]          product_out
);
  wire [ACC-1:0] p;
  brslog_ae #(.A(A), .K(K), .SHIFT_BITS(SHIFT_BITS), .ACC(ACC)) ae (
      .a(a_out), .zero(w_out[0]), .sign(w_out[1]), .flag(w_out[2]), .shift(w_out[SHIFT_BITS+2:3]),
      .product(p));

  always @(posedge clk) begin
    if (rst) w_out <= {{(SHIFT_BITS + 2){1'b0}}, 1'b1};
    else if (w_load) w_out <= w_in;
    if (rst || clr) begin
      a_out <= {A{1'b0}};
      psum_out <= {ACC{1'b0}};
    end else if (stream) begin
      a_out <= a_in;
      psum_out <= psum_in + p;
    end
  end

  generate
    if (PRODUCT_REG != 0) begin : g_prod
      reg [ACC-1:0] prod_r;
      always @(posedge clk)
        if (rst || clr) prod_r <= {ACC{1'b0}};
        else if (stream) prod_r <= p;
      assign product_out = prod_r;
    end else begin : g_noprod
      assign product_out = p;
    end
  endgenerate
endmodule
