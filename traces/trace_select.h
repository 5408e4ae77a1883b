// What a trace records (ARCHITECTURE.md "Outputs of a run", issue 5 item 5,
// STYLE.md practice 8: tracing is opt-in and selective): which blocks, which
// PEs, which cycles and which layer, parsed from the --vcd-* option texts.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace brsim {

// Option names as the CLI spells them; error messages quote them.
inline constexpr const char* kOptVcdBlocks = "--vcd-blocks";
inline constexpr const char* kOptVcdPes = "--vcd-pes";
inline constexpr const char* kOptVcdCycles = "--vcd-cycles";
inline constexpr const char* kOptVcdLayer = "--vcd-layer";

// The blocks a trace can show besides the PEs themselves.
enum class TraceBlock {
  Controller,  // state machine, fold and layer counters
  Dma,         // DRAM <-> buffer transfers
  Decoder,     // weight decoder outputs
  Array,       // the array boundary: activations in, partial sums out
};
inline constexpr int kNumTraceBlocks = 4;
const char* trace_block_name(TraceBlock block);  // "controller", "dma", ...

// A rectangle of PEs, rows and columns inclusive. An empty text or "all"
// selects every PE; "none" selects none.
struct PeSelection {
  static constexpr int kUnbounded = std::numeric_limits<int>::max();
  bool none = false;
  int row_lo = 0, row_hi = kUnbounded;
  int col_lo = 0, col_hi = kUnbounded;

  bool contains(int row, int col) const {
    return !none && row >= row_lo && row <= row_hi && col >= col_lo && col <= col_hi;
  }
  int count(int rows, int cols) const;  // selected PEs of a rows x cols array
};

// A window of clock cycles [begin, end): begin inclusive, end exclusive.
struct CycleWindow {
  uint64_t begin = 0;
  uint64_t end = std::numeric_limits<uint64_t>::max();

  bool contains(uint64_t cycle) const { return cycle >= begin && cycle < end; }
  // Cycles of [0, total) that fall in the window.
  uint64_t cycles_within(uint64_t total) const;
};

// One layer by name or by index, or every layer (empty text or "all").
struct LayerSelector {
  bool all = true;
  bool by_index = false;
  int index = -1;
  std::string name;

  bool matches(int layer_index, const std::string& layer_name) const;
};

// Parsers; each throws ConfigError naming the option and the syntax it expects.
//  blocks: "all", "none" or a comma list of controller,dma,decoder,array.
//  PEs:    "all", "none", or "r<A>[-<B>]" and/or "c<A>[-<B>]" joined by a
//          comma ("r0-r3,c0-c7", "r2,c5", "r1-2"); a missing part means all
//          rows (columns). Both ends inclusive.
//  cycles: "all", "<A>-<B>" (A inclusive, B exclusive, B > A) or "<A>-"
//          (from A to the end).
//  layer:  "all", a layer index ("3") or a layer name ("conv2").
std::vector<TraceBlock> parse_trace_blocks(const std::string& text);
PeSelection parse_pe_selection(const std::string& text);
CycleWindow parse_cycle_window(const std::string& text);
LayerSelector parse_layer_selector(const std::string& text);

// The whole selection. Default: every block, every PE, every cycle, every
// layer; the VCD size limit (vcd_writer.h) keeps that honest.
//
// Cycle numbering: when a layer is selected, the window counts cycles from
// the first cycle of that layer (so "--vcd-layer conv2 --vcd-cycles 0-500"
// is the first 500 cycles of conv2); otherwise from the start of the run.
// The caller passes cycle_selected() the cycle in that numbering.
struct TraceSelection {
  bool blocks[kNumTraceBlocks] = {true, true, true, true};
  PeSelection pes;
  CycleWindow cycles;
  LayerSelector layer;

  // Empty strings keep the defaults.
  static TraceSelection parse(const std::string& blocks, const std::string& pes,
                              const std::string& cycles, const std::string& layer);

  bool block_selected(TraceBlock block) const { return blocks[static_cast<int>(block)]; }
  bool pe_selected(int row, int col) const { return pes.contains(row, col); }
  bool cycle_selected(uint64_t cycle) const { return cycles.contains(cycle); }
  bool layer_selected(int index, const std::string& name) const {
    return layer.matches(index, name);
  }

  // ConfigError when a bounded PE range reaches outside a rows x cols array.
  void check_array(int rows, int cols) const;
  // The selected layer's index among `names`, -1 for all layers; ConfigError
  // when the name or index does not exist (the message lists the layers).
  int resolve_layer(const std::vector<std::string>& names) const;
};

}  // namespace brsim
