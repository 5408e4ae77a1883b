// The host side of a simulation (ARCHITECTURE.md "data flow"): writes the
// program's weights, parameters and each input into the DRAM model over
// TLM-2.0, programs every layer's registers, starts it, waits for the done
// interrupt, reads the output back, and hands it to the scoreboard, which
// compares it with the golden model bit for bit and stops at the first
// mismatch (with its coordinates).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "accel_program.h"
#include "controller.h"
#include "trace_hooks.h"
#include "golden.h"
#include "qnet.h"

namespace brsim {

class Accelerator;

struct LayerRunStats {
  std::string name;
  LayerDescriptor desc;     // an array layer's (a grouped conv: one group's)
  std::string op;           // "conv", "fc", or a vector op ("add", "concat", "maxpool", ...)
  uint32_t groups = 1;      // a grouped conv's groups, each one GEMM of desc's shape
  bool vector = false;      // a vector-unit layer (vec)
  VectorDescriptor vec;
  LayerStats stats;         // summed over the images run
  LayerCycles closed_form;  // per batch of arch.batch images (per image at batch 1)
  uint64_t images = 0;
  uint64_t batches = 0;     // batches run (the last may hold fewer images: images <= batches x batch)
  uint32_t batch = 1;       // images per batch (arch.batch)
};

struct AccelRunResult {
  std::vector<LayerRunStats> layers;
  uint64_t images = 0;
  std::vector<std::vector<int32_t>> outputs;  // the last layer's output per image
  bool bit_exact = true;                      // every compared tensor matched
  uint64_t tensors_compared = 0;
  std::string mismatch;                       // the first mismatch, if any
  std::string error;                          // an accelerator error (status ERROR)
  double host_seconds = 0;                    // wall time inside the simulation kernel
  uint64_t cycles() const;                    // all layers, all images
};

// Runs the inputs through the accelerator in batches of prog.arch.batch
// images (the last batch holds the rest: fewer images, programmed as a
// smaller batch), each layer once per batch. expected[i][l] is the golden
// output of accelerator layer l on input i; pass nullptr to skip checking.
// `tracer` (optional) records a VCD/SAIF of the run; it is finished (files
// closed) when the run ends. `activity` off skips switching-activity counting.
// `setup` and `after` (optional) see the accelerator before and after the
// simulation (what-if knobs and their counters, e.g. DRAM back-pressure).
// The host process keeps the memory it frees in blocks below 192 MiB (glibc
// would return each large block to the kernel and fault it in again, zeroed,
// on the next layer or run: a fifth of a fast run's time; with 64 MiB, the
// AlexNet-shaped network's FC layers took 25 % more page faults and a fifth
// more simulation time). Call once, first.
void keep_freed_host_memory();

// Large host buffers (a layer's weights, codes and decoded copies: hundreds
// of MB for the AlexNet-shaped network's FC layers) are touched for the first
// time once per run; with transparent huge pages that is one page fault per
// 2 MiB instead of one per 4 KiB (on the 2-core VM of docs/performance.md,
// `brsim layer --network alexnet --mode fast --threads 1`: 104 k page faults
// -> 3 k, 7.3 s -> 6.4 s). glibc reads its malloc tunables only at process
// start, so this re-executes the program once (/proc/self/exe, same
// arguments) with glibc.malloc.hugetlb=1 added to GLIBC_TUNABLES, unless that
// tunable is already set (by the user, or by this call before the exec).
// If the exec fails the program goes on as it is. Call first, with main's argv.
void use_transparent_huge_pages(char** argv);

AccelRunResult run_accelerator(const AccelProgram& prog, const std::vector<ActTensor>& inputs,
                               const std::vector<std::vector<ActTensor>>* expected, TraceHooks* tracer = nullptr,
                               bool activity = true, const std::function<void(Accelerator&)>& setup = nullptr,
                               const std::function<void(Accelerator&)>& after = nullptr);

// The accelerator's inputs (quantized) and the golden model's output of
// every accelerator layer, for each float input: what the scoreboard checks.
struct GoldenRun {
  std::vector<ActTensor> inputs;
  std::vector<std::vector<ActTensor>> expected;  // [input][accelerator layer]
};
GoldenRun golden_run(const QuantizedNetwork& q, const AccelProgram& prog, const std::vector<std::vector<float>>& xs);

// Describes the first difference of two tensors ("" when equal).
std::string first_mismatch(const std::string& layer, const ActTensor& want, const std::vector<int32_t>& got);

}  // namespace brsim
