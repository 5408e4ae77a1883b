// The baseline's weight-stationary PE (BRSLOG.md section 8): a 16-bit w_q
// register, the activation register, the 16-bit multiplier and the
// accumulator. Same ports and timing as brslog_pe, with the weight register
// holding w_q instead of the decoded fields.
module fixed16_pe #(
    parameter integer A = 16,
    parameter integer ACC = 48,
    parameter integer PRODUCT_REG = 1
) (
    input  wire           clk,
    input  wire           rst,
    input  wire           w_load,
    input  wire [15:0]    w_in,
    output reg  [15:0]    w_out,
    input  wire           clr,
    input  wire           stream,
    input  wire [A-1:0]   a_in,
    output reg  [A-1:0]   a_out,
    input  wire [ACC-1:0] psum_in,
    output reg  [ACC-1:0] psum_out,
    output wire [ACC-1:0] product_out
);
  wire [ACC-1:0] p;
  fixed16_mul #(.A(A), .W(16), .ACC(ACC)) mul (.a(a_out), .w(w_out), .product(p));

  always @(posedge clk) begin
    if (rst) w_out <= 16'd0;
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
