// The top of the RTL cross-check under Verilator (rtl/tb/xcheck.cpp): every RTL block
// in many parameter sets at once, so that one Verilated model covers them.
// Each instance also drives its parameters on a *_par output, so the C++
// side reads which configuration it checks instead of repeating this list.
//   decoders:  N = 3..8 x SHIFT_BITS = 1..6                    (36)
//   AEs:       K = 1..7 x A in {2, 3, 8, 16, 17, 32} x
//              (SHIFT_BITS, ACC) in {(4, 48), (6, 64), (1, max(8, A + q_K + 1))}  (126)
//   fixed16 multipliers: A in {2, 8, 16, 32} x ACC in {A + 16, 64}        (8)
//   PEs:       brslog_pe and fixed16_pe in a few widths, small ACC to wrap
//   arrays:    4x4 ws arrays as brsim runs them: BRSLog (defaults), fixed16,
//              and BRSLog with N = 4, K = 6, A = 16, ACC = 40
module xcheck_top #(
    parameter integer NDEC = 36,
    parameter integer NAE = 126,
    parameter integer NMUL = 8,
    parameter integer NBPE = 4,
    parameter integer NFPE = 2
) (
    input  wire                 clk,
    // decoders
    input  wire                 cfg_we,
    input  wire [6:0]           cfg_n2,
    input  wire                 cfg_p,
    input  wire [7:0]           code,
    output wire [NDEC*9-1:0]    dec_out,   // {shift (6, zero-extended), flag, sign, zero}
    output wire [NDEC*8-1:0]    dec_par,   // {SHIFT_BITS, N}
    // AEs
    input  wire [31:0]          ae_a,
    input  wire                 ae_zero,
    input  wire                 ae_sign,
    input  wire                 ae_flag,
    input  wire [5:0]           ae_shift,
    output wire [NAE*64-1:0]    ae_out,    // ACC bits, zero-padded
    output wire [NAE*32-1:0]    ae_par,    // {ACC, SHIFT_BITS, K, A}
    // fixed16 multipliers
    input  wire [31:0]          mul_a,
    input  wire [15:0]          mul_w,
    output wire [NMUL*64-1:0]   mul_out,
    output wire [NMUL*16-1:0]   mul_par,   // {ACC, A}
    // PEs (all share the controls and operands, each takes its widths)
    input  wire                 pe_rst,
    input  wire                 pe_wload,
    input  wire [8:0]           pe_wfields, // {shift (6), flag, sign, zero}
    input  wire [15:0]          pe_wq,
    input  wire                 pe_clr,
    input  wire                 pe_stream,
    input  wire [31:0]          pe_a,
    input  wire [63:0]          pe_psum_in,
    output wire [NBPE*9-1:0]    bpe_w,
    output wire [NBPE*32-1:0]   bpe_act,
    output wire [NBPE*64-1:0]   bpe_prod,
    output wire [NBPE*64-1:0]   bpe_psum,
    output wire [NBPE*32-1:0]   bpe_par,   // {ACC, SHIFT_BITS, K, A}
    output wire [NFPE*16-1:0]   fpe_w,
    output wire [NFPE*32-1:0]   fpe_act,
    output wire [NFPE*64-1:0]   fpe_prod,
    output wire [NFPE*64-1:0]   fpe_psum,
    output wire [NFPE*16-1:0]   fpe_par,   // {ACC, A}
    // arrays: 0 = BRSLog defaults, 1 = fixed16, 2 = BRSLog N4 K6 A16 ACC40
    input  wire [2:0]           arr_rst,
    input  wire [2:0]           arr_cfg_we,
    input  wire [4*4-1:0]       arr_cfg_n2,   // per column, 4 bits (N - 1 of the widest)
    input  wire [3:0]           arr_cfg_p,
    input  wire [2:0]           arr_wload,
    input  wire [4*16-1:0]      arr_w_in,     // per column: code (N bits) or w_q (16 bits)
    input  wire [2:0]           arr_clr,
    input  wire [2:0]           arr_stream,
    input  wire [4*16-1:0]      arr_act_in,   // per row, A bits used
    output wire [3*4*48-1:0]    arr_psum_out,
    output wire [3*4*16-1:0]    arr_dec_out,
    output wire [3*16*16-1:0]   arr_pe_w,
    output wire [3*16*16-1:0]   arr_pe_act,
    output wire [3*16*48-1:0]   arr_pe_prod,
    output wire [3*16*48-1:0]   arr_pe_psum
);
  // q_K of the greedy sqrt2 expansion (brslog_ae's table).
  function integer q_of(input integer k);
    case (k)
      1: q_of = 0;
      2: q_of = 1;
      3: q_of = 4;
      4: q_of = 6;
      5: q_of = 7;
      6: q_of = 13;
      default: q_of = 15;
    endcase
  endfunction
  function integer a_of(input integer i);
    case (i)
      0: a_of = 2;
      1: a_of = 3;
      2: a_of = 8;
      3: a_of = 16;
      4: a_of = 17;
      default: a_of = 32;
    endcase
  endfunction
  function integer max8(input integer x);
    max8 = x < 8 ? 8 : x;
  endfunction

  genvar n, s, k, ai, v, i;
  generate
    // ---- decoders
    for (n = 3; n <= 8; n = n + 1) begin : g_dn
      for (s = 1; s <= 6; s = s + 1) begin : g_ds
        localparam integer I = (n - 3) * 6 + (s - 1);
        wire z, sg, f;
        wire [s-1:0] sh;
        brslog_decoder #(.N(n), .SHIFT_BITS(s)) dut (
            .clk(clk), .cfg_we(cfg_we), .cfg_n2(cfg_n2[n-2:0]), .cfg_p(cfg_p), .code(code[n-1:0]),
            .zero(z), .sign(sg), .flag(f), .shift(sh));
        if (s < 6) begin : g_pad
          assign dec_out[I*9+:9] = {{(6 - s){1'b0}}, sh, f, sg, z};
        end else begin : g_full
          assign dec_out[I*9+:9] = {sh, f, sg, z};
        end
        assign dec_par[I*8+:8] = {s[3:0], n[3:0]};
      end
    end

    // ---- AEs
    for (k = 1; k <= 7; k = k + 1) begin : g_ak
      for (ai = 0; ai < 6; ai = ai + 1) begin : g_aa
        for (v = 0; v < 3; v = v + 1) begin : g_av
          localparam integer I = ((k - 1) * 6 + ai) * 3 + v;
          localparam integer A = a_of(ai);
          localparam integer SB = v == 0 ? 4 : v == 1 ? 6 : 1;
          localparam integer ACC = v == 0 ? 48 : v == 1 ? 64 : max8(A + q_of(k) + 1);
          wire [ACC-1:0] p;
          brslog_ae #(.A(A), .K(k), .SHIFT_BITS(SB), .ACC(ACC)) dut (
              .a(ae_a[A-1:0]), .zero(ae_zero), .sign(ae_sign), .flag(ae_flag), .shift(ae_shift[SB-1:0]),
              .product(p));
          if (ACC < 64) begin : g_pad
            assign ae_out[I*64+:64] = {{(64 - ACC){1'b0}}, p};
          end else begin : g_full
            assign ae_out[I*64+:64] = p;
          end
          assign ae_par[I*32+:32] = {ACC[7:0], SB[7:0], k[7:0], A[7:0]};
        end
      end
    end

    // ---- fixed16 multipliers
    for (i = 0; i < NMUL; i = i + 1) begin : g_mul
      localparam integer A = i / 2 == 0 ? 2 : i / 2 == 1 ? 8 : i / 2 == 2 ? 16 : 32;
      localparam integer ACC = i % 2 == 0 ? A + 16 : 64;
      wire [ACC-1:0] p;
      fixed16_mul #(.A(A), .W(16), .ACC(ACC)) dut (.a(mul_a[A-1:0]), .w(mul_w), .product(p));
      if (ACC < 64) begin : g_pad
        assign mul_out[i*64+:64] = {{(64 - ACC){1'b0}}, p};
      end else begin : g_full
        assign mul_out[i*64+:64] = p;
      end
      assign mul_par[i*16+:16] = {ACC[7:0], A[7:0]};
    end

    // ---- PEs: (A, K, SHIFT_BITS, ACC) = (16, 4, 4, 48), (8, 7, 3, 40), (32, 1, 6, 64), (3, 2, 2, 8)
    for (i = 0; i < NBPE; i = i + 1) begin : g_bpe
      localparam integer A = i == 0 ? 16 : i == 1 ? 8 : i == 2 ? 32 : 3;
      localparam integer K = i == 0 ? 4 : i == 1 ? 7 : i == 2 ? 1 : 2;
      localparam integer SB = i == 0 ? 4 : i == 1 ? 3 : i == 2 ? 6 : 2;
      localparam integer ACC = i == 0 ? 48 : i == 1 ? 40 : i == 2 ? 64 : 8;
      wire [SB+2:0] w;
      wire [A-1:0] a;
      wire [ACC-1:0] pr, ps;
      brslog_pe #(.A(A), .K(K), .SHIFT_BITS(SB), .ACC(ACC)) dut (
          .clk(clk), .rst(pe_rst), .w_load(pe_wload), .w_in({pe_wfields[SB+2:3], pe_wfields[2:0]}), .w_out(w),
          .clr(pe_clr), .stream(pe_stream), .a_in(pe_a[A-1:0]), .a_out(a), .psum_in(pe_psum_in[ACC-1:0]),
          .psum_out(ps), .product_out(pr));
      assign bpe_w[i*9+:9] = {{(6 - SB){1'b0}}, w};
      if (A < 32) begin : g_apad
        assign bpe_act[i*32+:32] = {{(32 - A){1'b0}}, a};
      end else begin : g_afull
        assign bpe_act[i*32+:32] = a;
      end
      if (ACC < 64) begin : g_pad
        assign bpe_prod[i*64+:64] = {{(64 - ACC){1'b0}}, pr};
        assign bpe_psum[i*64+:64] = {{(64 - ACC){1'b0}}, ps};
      end else begin : g_full
        assign bpe_prod[i*64+:64] = pr;
        assign bpe_psum[i*64+:64] = ps;
      end
      assign bpe_par[i*32+:32] = {ACC[7:0], SB[7:0], K[7:0], A[7:0]};
    end
    // (A, ACC) = (16, 48), (8, 24)
    for (i = 0; i < NFPE; i = i + 1) begin : g_fpe
      localparam integer A = i == 0 ? 16 : 8;
      localparam integer ACC = i == 0 ? 48 : 24;
      wire [A-1:0] a;
      wire [ACC-1:0] pr, ps;
      fixed16_pe #(.A(A), .ACC(ACC)) dut (
          .clk(clk), .rst(pe_rst), .w_load(pe_wload), .w_in(pe_wq), .w_out(fpe_w[i*16+:16]),
          .clr(pe_clr), .stream(pe_stream), .a_in(pe_a[A-1:0]), .a_out(a), .psum_in(pe_psum_in[ACC-1:0]),
          .psum_out(ps), .product_out(pr));
      assign fpe_act[i*32+:32] = {{(32 - A){1'b0}}, a};
      assign fpe_prod[i*64+:64] = {{(64 - ACC){1'b0}}, pr};
      assign fpe_psum[i*64+:64] = {{(64 - ACC){1'b0}}, ps};
      assign fpe_par[i*16+:16] = {ACC[7:0], A[7:0]};
    end

    // ---- 4x4 arrays, outputs widened to the common layout
    for (i = 0; i < 3; i = i + 1) begin : g_arr
      localparam integer FX = i == 1 ? 1 : 0;
      localparam integer N = i == 2 ? 4 : 5;
      localparam integer K = i == 2 ? 6 : 4;
      localparam integer A = 16;
      localparam integer ACC = i == 2 ? 40 : 48;
      localparam integer WI = FX != 0 ? 16 : N;
      localparam integer WR = FX != 0 ? 16 : 7;
      wire [4*(N-1)-1:0] n2;
      wire [4*WI-1:0] w_in;
      wire [4*A-1:0] act_in;
      wire [4*ACC-1:0] psum_out;
      wire [4*WR-1:0] a_dec;
      wire [16*WR-1:0] pe_w;
      wire [16*A-1:0] pe_act;
      wire [16*ACC-1:0] pe_prod, pe_psum;
      for (s = 0; s < 4; s = s + 1) begin : g_io
        assign n2[s*(N-1)+:(N-1)] = arr_cfg_n2[s*4+:(N-1)];
        assign w_in[s*WI+:WI] = arr_w_in[s*16+:WI];
        assign act_in[s*A+:A] = arr_act_in[s*16+:A];
        assign arr_psum_out[(i*4+s)*48+:48] = {{(48 - ACC){1'b0}}, psum_out[s*ACC+:ACC]};
        assign arr_dec_out[(i*4+s)*16+:16] = {{(16 - WR){1'b0}}, a_dec[s*WR+:WR]};
      end
      for (s = 0; s < 16; s = s + 1) begin : g_pe
        assign arr_pe_w[(i*16+s)*16+:16] = {{(16 - WR){1'b0}}, pe_w[s*WR+:WR]};
        assign arr_pe_act[(i*16+s)*16+:16] = {{(16 - A){1'b0}}, pe_act[s*A+:A]};
        assign arr_pe_prod[(i*16+s)*48+:48] = {{(48 - ACC){1'b0}}, pe_prod[s*ACC+:ACC]};
        assign arr_pe_psum[(i*16+s)*48+:48] = {{(48 - ACC){1'b0}}, pe_psum[s*ACC+:ACC]};
      end
      pe_array_ws #(.R(4), .C(4), .FIXED16(FX), .N(N), .K(K), .A(A), .SHIFT_BITS(4), .ACC(ACC)) dut (
          .clk(clk), .rst(arr_rst[i]), .cfg_we(arr_cfg_we[i]), .cfg_n2(n2), .cfg_p(arr_cfg_p),
          .w_load(arr_wload[i]), .w_in(w_in), .clr(arr_clr[i]), .stream(arr_stream[i]), .act_in(act_in),
          .psum_out(psum_out), .dec_out(a_dec), .pe_w(pe_w), .pe_act(pe_act), .pe_prod(pe_prod),
          .pe_psum(pe_psum));
    end
  endgenerate
endmodule
