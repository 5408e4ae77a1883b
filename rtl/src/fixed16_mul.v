// The baseline's 16-bit fixed-point multiplier (BRSLOG.md section 8):
// P = a * w_q, an A x W signed multiplier, product sign-extended (or cut) to
// ACC bits. Written as `*` so that synthesis builds its own generic
// multiplier, as the published comparison's "16-bit fixed-point multiplier".
module fixed16_mul #(
    parameter integer A = 16,    // activation bits
    parameter integer W = 16,    // weight bits
    parameter integer ACC = 32   // product bits (A + W keeps every product)
) (
    input  wire [A-1:0]   a,     // signed
    input  wire [W-1:0]   w,     // signed w_q
    output wire [ACC-1:0] product
);
  wire signed [A+W-1:0] full = $signed(a) * $signed(w);
  generate
    if (A + W >= ACC) begin : g_cut
      assign product = full[ACC-1:0];
    end else begin : g_ext
      assign product = {{(ACC - A - W){full[A+W-1]}}, full};
    end
  endgenerate
endmodule
