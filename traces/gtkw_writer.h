// GTKWave save file (.gtkw) written beside a VCD (issue 5 item 5): it names
// the dump file and lists the traced signals grouped by block (controller,
// DMA, decoder, array boundary, one group per PE), with a display format per
// signal, so `gtkwave trace.gtkw` opens the useful view directly.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "vcd_writer.h"  // TraceSignal

namespace brsim {

struct GtkwOptions {
  uint64_t time_start = 0;     // VCD time (ticks) the view starts at ([timestart])
  bool absolute_paths = true;  // [dumpfile]/[savefile] as absolute paths (GTKWave
                               // then still finds a moved folder's dump file)
};

// The .gtkw text. One group per scope, in order of first appearance; the
// group label is the scope path below the top ("controller",
// "array.pe_r0_c7"). Signals use their VCD names with a bit range for vectors.
std::string render_gtkw(const std::string& gtkw_path, const std::string& vcd_path,
                        const std::vector<TraceSignal>& signals, const GtkwOptions& options = {});

// Writes render_gtkw() to gtkw_path (ConfigError if it cannot).
void write_gtkw(const std::string& gtkw_path, const std::string& vcd_path,
                const std::vector<TraceSignal>& signals, const GtkwOptions& options = {});

// The GTKWave trace flag value (the hex number after '@') for a radix:
// hex 0x22, unsigned decimal 0x24, binary 0x28, signed decimal 0x420 (each
// with right-justified names, 0x20).
uint64_t gtkw_trace_flags(TraceRadix radix, int width);

}  // namespace brsim
