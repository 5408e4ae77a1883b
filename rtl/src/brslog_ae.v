// BRSLog arithmetic element (BRSLOG.md sections 4 and 6), combinational:
//   P = zero ? 0 : (-1)^sign * ((a * m) << shift),  m = flag ? c_K : 2^q_K,
// with a * c_K computed as shifts and adds of the greedy signed power-of-two
// expansion A_K = c_K / 2^q_K of sqrt2 (K terms), no multiplier:
//   a * m = (a << q_K) + sum_{i=1}^{K-1} +-(a_s << (q_K - e_i)),
// where a_s is the activation on the sqrt2 path and 0 on the base-2 path.
//
// Hardware choices (they do not change the result):
// - operand isolation: a zero weight forces the activation to 0 (the whole
//   datapath holds still and P = 0), and the K-1 sqrt2 terms see 0 on the
//   base-2 path, so their adders carry the base-2 value through unchanged;
// - the sign is applied before the barrel shifter, on the narrow A+q_K+1-bit
//   value (-(x) << s == -(x << s) in two's complement);
// - the product is computed at its natural width A + q_K + 1 + 2^SHIFT_BITS - 1
//   and sign-extended (or cut) to ACC bits; the simulator refuses
//   configurations whose largest product does not fit ACC (section 6), so the
//   cut never loses a bit of a realizable product.
module brslog_ae #(
    parameter integer A = 16,          // activation bits [2, 32]
    parameter integer K = 4,           // sqrt2 terms [1, 7]
    parameter integer SHIFT_BITS = 4,  // shift field bits [1, 6]
    parameter integer ACC = 48         // product (accumulator) bits [8, 64]
) (
    input  wire [A-1:0]          a,      // signed activation
    input  wire                  zero,
    input  wire                  sign,
    /* verilator lint_off UNUSEDSIGNAL */  // K = 1: A_1 = 1, the flag changes nothing
    input  wire                  flag,
    /* verilator lint_on UNUSEDSIGNAL */
    input  wire [SHIFT_BITS-1:0] shift,
    output wire [ACC-1:0]        product // signed, in units of 2^(e_base - q_K)
);
  // Term i of the greedy expansion is term_neg(i) ? -2^-e : +2^-e with
  // e = term_exp(i): 1 + 2^-1 - 2^-4 - 2^-6 - 2^-7 + 2^-13 + 2^-15
  // (BRSLOG.md section 4; the tests hold it to sqrt2_approx() for every K).
  function integer term_exp(input integer i);
    case (i)
      0: term_exp = 0;
      1: term_exp = 1;
      2: term_exp = 4;
      3: term_exp = 6;
      4: term_exp = 7;
      5: term_exp = 13;
      default: term_exp = 15;
    endcase
  endfunction
  function integer term_neg(input integer i);
    term_neg = (i >= 2 && i <= 4) ? 1 : 0;
  endfunction

  localparam integer Q = term_exp(K - 1);                 // q_K
  localparam integer MW = A + Q + 1;                      // a * m and -(a * m): |m| < 2^(Q+1)
  localparam integer NAT = MW + (1 << SHIFT_BITS) - 1;    // after the largest shift

  wire [A-1:0]  a_g = zero ? {A{1'b0}} : a;               // zero weight: datapath gated
  wire [MW-1:0] a_gx = {{(MW - A){a_g[A-1]}}, a_g};
  // a * m: the base-2 value a << q_K plus the K-1 further sqrt2 terms of
  // the sqrt2-path operand s (0 on the base-2 path): a chain of K-1 adders.
  function [MW-1:0] shift_add(input [MW-1:0] base, input [MW-1:0] s);
    integer i;
    begin
      shift_add = base << Q;
      for (i = 1; i < K; i = i + 1)
        if (term_neg(i) != 0) shift_add = shift_add - (s << (Q - term_exp(i)));
        else shift_add = shift_add + (s << (Q - term_exp(i)));
    end
  endfunction

  wire [MW-1:0] m;                                        // a * (flag ? c_K : 2^q_K)
  generate
    if (K == 1) begin : g_k1                              // A_1 = 1: both paths are a
      assign m = a_gx;
    end else begin : g_terms
      wire [A-1:0]  a_s = flag ? a_g : {A{1'b0}};         // sqrt2 path only
      wire [MW-1:0] a_sx = {{(MW - A){a_s[A-1]}}, a_s};
      assign m = shift_add(a_gx, a_sx);
    end
  endgenerate

  wire [MW-1:0]  sm = sign ? (~m + {{(MW - 1){1'b0}}, 1'b1}) : m;
  wire [NAT-1:0] smx = {{(NAT - MW){sm[MW-1]}}, sm};
  /* verilator lint_off UNUSEDSIGNAL */  // NAT > ACC: the bits above ACC are cut
  wire [NAT-1:0] shifted = smx << shift;
  /* verilator lint_on UNUSEDSIGNAL */
  generate
    if (NAT >= ACC) begin : g_cut
      assign product = shifted[ACC-1:0];
    end else begin : g_ext
      assign product = {{(ACC - NAT){shifted[NAT-1]}}, shifted};
    end
  endgenerate
endmodule
