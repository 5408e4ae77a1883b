// BRSLog weight decoder with its reconfiguration register (BRSLOG.md
// sections 1-3): code word {s, j} -> {zero, sign, flag, shift}, with the
// per-layer segment configuration (n2, p) held in a register written once
// per layer (cfg_we). Combinational from code to fields; the fields feed the
// top row of a PE column, whose weight registers hold them.
//
//   n2 == 0:          h(j) = j - 1
//   1 <= j <= n2:     h(j) = 2 (j - 1)          shift = j - 1, flag = 0
//   j > n2 >= 1:      h(j) = j + n2 + p - 2     shift = h >> 1, flag = h & 1
//   j == 0:           zero = 1, shift = 0, flag = 0 (sign passes through)
//
// The two non-base-2 cases share one adder: h = j + off - 2 with
// off = (n2 == 0) ? 1 : n2 + p. The shift field is SHIFT_BITS wide (the
// datapath limit of section 6): configurations whose largest shift does not
// fit are refused by the simulator before they reach the decoder.
// RECONFIG = 0 builds a hard-wired decoder for one split (FIXED_N2, FIXED_P)
// instead, without the register: the synthesis report measures the cost of
// reconfigurability as the difference.
module brslog_decoder #(
    parameter integer N = 5,          // code word bits [3, 8]
    parameter integer SHIFT_BITS = 4, // shift field bits [1, 6]
    parameter integer RECONFIG = 1,   // 1: (n2, p) from the register; 0: hard-wired
    parameter integer FIXED_N2 = 0,
    parameter integer FIXED_P = 0
) (
    /* verilator lint_off UNUSEDSIGNAL */  // unused when hard-wired
    input  wire                  clk,
    input  wire                  cfg_we,  // load the reconfiguration register
    input  wire [N-2:0]          cfg_n2,  // number of base-2 levels, [0, 2^(N-1) - 1]
    input  wire                  cfg_p,   // boundary step: 0 = x sqrt2, 1 = x2
    /* verilator lint_on UNUSEDSIGNAL */
    input  wire [N-1:0]          code,
    output wire                  zero,
    output wire                  sign,
    output wire                  flag,
    output wire [SHIFT_BITS-1:0] shift
);
  // Reconfiguration state (n2, p): N bits, written before a layer.
  wire [N-2:0] n2_r;
  wire         p_r;
  generate
    if (RECONFIG != 0) begin : g_reg
      reg [N-2:0] n2_q;
      reg         p_q;
      always @(posedge clk)
        if (cfg_we) begin
          n2_q <= cfg_n2;
          p_q  <= cfg_p;
        end
      assign n2_r = n2_q;
      assign p_r = p_q;
    end else begin : g_fixed
      localparam [N-2:0] N2 = FIXED_N2[N-2:0];
      localparam P = FIXED_P[0];
      assign n2_r = N2;
      assign p_r = P;
    end
  endgenerate

  wire [N-2:0] j = code[N-2:0];
  assign sign = code[N-1];
  assign zero = (j == {(N - 1){1'b0}});

  wire         n2_zero = (n2_r == {(N - 1){1'b0}});
  wire         base2 = !n2_zero && (j <= n2_r);  // j >= 1 unless zero (masked below)
  wire [N-1:0] off = n2_zero ? {{(N - 1){1'b0}}, 1'b1} : {1'b0, n2_r} + {{(N - 1){1'b0}}, p_r};
  wire [N-1:0] h = {1'b0, j} + off - {{(N - 2){1'b0}}, 2'd2};
  wire [N-2:0] j_m1 = j - {{(N - 2){1'b0}}, 1'b1};
  /* verilator lint_off UNUSEDSIGNAL */  // SHIFT_BITS < N - 1: the top bits are never needed
  wire [N-2:0] shift_full = base2 ? j_m1 : h[N-1:1];
  /* verilator lint_on UNUSEDSIGNAL */

  assign flag = !zero && !base2 && h[0];
  generate
    if (SHIFT_BITS > N - 1) begin : g_wide
      assign shift = zero ? {SHIFT_BITS{1'b0}} : {{(SHIFT_BITS - N + 1){1'b0}}, shift_full};
    end else if (SHIFT_BITS == N - 1) begin : g_same
      assign shift = zero ? {SHIFT_BITS{1'b0}} : shift_full;
    end else begin : g_narrow
      assign shift = zero ? {SHIFT_BITS{1'b0}} : shift_full[SHIFT_BITS-1:0];
    end
  endgenerate
endmodule
