// brsim_bench: simulation speed, measured (never asserted in tests).
//  1. Cycle-by-cycle AlexNet conv2 on a 16x16 array (no tracing): simulated
//     MACs and cycles per host second, against the golden reference's own
//     throughput on the same layer in the same process.
//  2. The whole AlexNet-shaped network (5 conv + 3 FC) cycle by cycle: time
//     (wall and CPU), MACs and cycles per host second, the ratio to the
//     golden model's time on each layer, and peak memory (resident set size).
//  3. The network again in fast mode (--mode fast), in five rounds over its
//     layers (fast_rounds), each layer's median kept, the golden model timed
//     in the same rounds: MACs and cycles per host second and the ratio.
//  4. The whole process of `brsim layer --network alexnet --mode fast`: the
//     weight quantizer's search over the network's weights with the direct
//     (brute-force) search and the fast one, in the same process, as a
//     ratio; the command's phases as it runs them (weights, quantizer,
//     program, golden model, simulation), with two threads and with one;
//     and the command itself, run as a subprocess (fast mode with --threads
//     2 and 1, interleaved, and cycle by cycle), in wall time and simulated
//     MACs per host second, as ratios to the golden model's time on the same
//     layers measured here. Then, where the torchvision check has exported
//     it (build/tests/torchvision/resnet50.onnx), `brsim run resnet50.onnx
//     --mode fast --inputs random --images 1`, whole process, three runs.
// Usage: brsim_bench [--quick | --fast [layer [runs]] | --process | --phases]  (--quick: conv2 only;
// --fast: fast mode only: conv2, then the network as in 3; with a layer
// name, that layer only, `runs` times (6 by default) alternating one thread
// and two, for profiling; --process: part 4 only; --phases: part 4
// without the direct search). Fast mode runs with its default two threads
// and, as the baseline, with one (FastEngine::set_threads).
#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>

#include "accel_host.h"
#include "accel_tracer.h"
#include "accelerator.h"
#include "qnet.h"
#include "host_threads.h"
#include "quantizer.h"
#include "synthetic_layer.h"

using namespace brsim;

namespace {

struct Prepared {
  QuantizedNetwork q;
  AccelProgram prog;
  std::vector<float> input;  // the layer's float input (for the golden model)
  std::vector<ActTensor> inputs;
  std::vector<std::vector<ActTensor>> expected;
  double golden_s = 0;  // the median of three runs
};

// The median of a sample (the machine is shared: one slow spell moves a
// mean or a best far more than a median).
double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// One run of the golden model on the prepared layer: host seconds.
double golden_once(const Prepared& p, std::vector<ActTensor>* outs) {
  const auto t0 = std::chrono::steady_clock::now();
  run_quantized(p.q, p.input, nullptr, outs);
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

Prepared prepare(const LayerSpec& s, const ArchConfig& arch) {
  Prepared p;
  const SyntheticLayer sl = make_synthetic_layer(s, 1);
  NetQuantOptions o;
  o.weights.datapath = arch.datapath;
  p.q = quantize_network(sl.net, sl.formats, o);
  p.prog = compile_network(p.q, arch);
  p.input = sl.input;
  std::vector<ActTensor> outs;
  std::vector<double> t;
  for (int i = 0; i < 3; ++i) t.push_back(golden_once(p, &outs));
  p.golden_s = median(t);
  p.inputs = {quantize_input(p.q, sl.input, nullptr)};
  p.expected = {{outs.back()}};
  return p;
}

double cpu_seconds() {  // this process, all threads (user + system)
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + 1e-6 * static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

double peak_rss_mib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;
}

// Fast mode on one prepared layer: `reps` runs with two threads and `reps`
// with one, interleaved, host (wall) seconds and process CPU seconds of
// each; exact: every run bit exact with the same cycles and toggles.
struct FastRuns {
  std::vector<double> two, one, cpu_two, cpu_one;
  bool exact = true;
  uint64_t macs = 0, cycles = 0;
};

void fast_runs(const Prepared& p, int reps, FastRuns* f) {
  const auto two = [](Accelerator& acc) { acc.array.set_fast(true); };
  const auto one = [](Accelerator& acc) {
    acc.array.set_fast(true);
    acc.array.fast_engine().set_threads(1);
  };
  for (int i = 0; i < 2 * reps; ++i) {
    const double cpu0 = cpu_seconds();
    const AccelRunResult r = run_accelerator(p.prog, p.inputs, &p.expected, nullptr, true, i % 2 ? one : two);
    const double cpu = cpu_seconds() - cpu0;
    (i % 2 ? f->one : f->two).push_back(r.host_seconds);
    (i % 2 ? f->cpu_one : f->cpu_two).push_back(cpu);
    const LayerStats& st = r.layers[0].stats;
    const bool first = f->macs == 0 && f->cycles == 0;
    if (first) f->macs = st.macs, f->cycles = r.cycles();
    f->exact &= r.bit_exact && st.macs == f->macs && r.cycles() == f->cycles;
  }
}

// The network in fast mode: every layer prepared first; then rounds, each
// running every layer once in each of three ways (golden model, fast mode
// with two threads and with one). Each layer keeps the median of its
// rounds in each way: the machine's slow spells (they come and go over
// seconds here) then rarely move a layer's figure, and all three ways are
// timed alike, in the same rounds.
constexpr int kRounds = 5;
struct LayerFast {
  FastRuns fast;
  std::vector<double> golden;
};
std::vector<LayerFast> fast_rounds(const std::vector<LayerSpec>& specs, const ArchConfig& arch) {
  std::vector<Prepared> layers;
  for (const LayerSpec& s : specs) layers.push_back(prepare(s, arch));
  std::vector<LayerFast> all(layers.size());
  std::vector<ActTensor> outs;
  for (int round = 0; round < kRounds; ++round)
    for (size_t l = 0; l < layers.size(); ++l) {
      all[l].golden.push_back(golden_once(layers[l], &outs));
      fast_runs(layers[l], 1, &all[l].fast);
    }
  return all;
}

// Prints the fast-mode rounds, per layer and in all, next to the golden
// model timed in the same rounds: medians of the rounds, wall time (and the
// process's CPU time: on a shared machine the wall time also holds the
// time other jobs had the cores), simulated MACs and cycles per host
// second, and the ratio golden model's time / fast mode's time (above 1:
// fast mode is faster). cycles: each layer's cycles from the
// cycle-by-cycle run (empty: none ran), which fast mode must equal.
// Returns whether every fast run was bit exact with the same counts.
bool report_fast_rounds(const std::vector<LayerFast>& net, const std::vector<LayerSpec>& specs,
                        const std::vector<uint64_t>& cycles) {
  double fs = 0, fs1 = 0, cs = 0, cs1 = 0, fm = 0, fc = 0, gs = 0, fcm = 0, fcs = 0, fcs1 = 0, fcg = 0;
  bool ok = true;
  std::printf("AlexNet-shaped network, fast mode, medians of %d rounds per layer (the golden model in the same rounds); "
              "ratio = golden model's time / fast mode's:\n",
              kRounds);
  std::printf("  %-6s %9s | %-44s | %-44s | %8s %8s\n", "layer", "MACs", "two threads (default): wall, CPU, rate",
              "one thread: wall, CPU, rate", "golden", "ratio");
  for (size_t l = 0; l < net.size(); ++l) {
    const FastRuns& t = net[l].fast;
    const double two = median(t.two), one = median(t.one), g = median(net[l].golden);
    const double c2 = median(t.cpu_two), c1 = median(t.cpu_one);
    const double lm = static_cast<double>(t.macs), lc = static_cast<double>(t.cycles);
    ok &= t.exact && (cycles.empty() || t.cycles == cycles[l]);
    fs += two, fs1 += one, cs += c2, cs1 += c1, fm += lm, fc += lc, gs += g;
    if (specs[l].fc) fcm += lm, fcs += two, fcs1 += one, fcg += g;
    std::printf("  %-6s %7.1f M | %6.3f s %6.3f s %7.1f M MAC/s %6.2f M cyc/s | %6.3f s %6.3f s %7.1f M MAC/s %6.2f M cyc/s "
                "| %6.3f s %6.2fx\n",
                specs[l].name.c_str(), lm / 1e6, two, c2, lm / two / 1e6, lc / two / 1e6, one, c1, lm / one / 1e6,
                lc / one / 1e6, g, g / two);
  }
  std::printf("  %-6s %7.1f M | %6.3f s %6.3f s %7.1f M MAC/s %6.2f M cyc/s | %6.3f s %6.3f s %7.1f M MAC/s %6.2f M cyc/s "
              "| %6.3f s %6.2fx, bit exact%s: %s\n",
              "total", fm / 1e6, fs, cs, fm / fs / 1e6, fc / fs / 1e6, fs1, cs1, fm / fs1 / 1e6, fc / fs1 / 1e6, gs, gs / fs,
              cycles.empty() ? "" : ", cycles as cycle by cycle", ok ? "yes" : "NO");
  if (fcm > 0)
    std::printf("  fully connected layers: %.1f M MACs, %.1f M MAC/s (one thread %.1f M MAC/s), golden model %.1f M MAC/s, "
                "ratio %.2fx\n",
                fcm / 1e6, fcm / fcs / 1e6, fcm / fcs1 / 1e6, fcm / fcg / 1e6, fcg / fcs);
  return ok;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// The weight quantizer's search over every layer of the network, as `brsim
// layer` gives it its weights (float Laplace draws, as doubles), with the
// direct search and the fast one; each layer's configurations must agree.
// Returns the fast search's total time (0 if any layer disagreed).
double report_search(const std::vector<LayerSpec>& specs, const ArchConfig& arch) {
  QuantOptions o;
  o.datapath = arch.datapath;
  o.bits = arch.weight_bits;
  double brute_s = 0, fast_s = 0, n_all = 0;
  bool same = true;
  std::printf("Weight quantizer, segment search per layer (direct search = the baseline, same weights, same process):\n");
  for (size_t i = 0; i < specs.size(); ++i) {
    std::vector<double> w;
    {
      const SyntheticLayer sl = make_synthetic_layer(specs[i], 1 + i);
      const std::vector<float>& f = sl.net->layers[0].weights;
      w.assign(f.begin(), f.end());
    }
    auto t0 = std::chrono::steady_clock::now();
    const SegmentConfig a = search_segment_brute_force(w.data(), w.size(), o);
    const double tb = seconds_since(t0);
    t0 = std::chrono::steady_clock::now();
    const SegmentConfig b = search_segment_fast(w.data(), w.size(), o);
    const double tf = seconds_since(t0);
    same &= a == b;
    brute_s += tb, fast_s += tf, n_all += static_cast<double>(w.size());
    std::printf("  %-6s %9zu weights: direct %7.3f s, fast %7.4f s (%6.1fx), %s%s\n", specs[i].name.c_str(), w.size(), tb,
                tf, tb / tf, to_string(b).c_str(), a == b ? "" : " DIFFERENT");
  }
  std::printf("  total  %9.0f weights: direct %7.3f s (%.1f M weights/s), fast %7.4f s (%.1f M weights/s): %.1fx faster, "
              "same configurations: %s (%d host threads)\n\n",
              n_all, brute_s, n_all / brute_s / 1e6, fast_s, n_all / fast_s / 1e6, brute_s / fast_s, same ? "yes" : "NO",
              host_threads());
  return same ? fast_s : 0;
}

// `brsim layer --network alexnet --mode fast`, phase by phase, one layer
// after the other (as the command runs them with --threads 1; with two
// threads it prepares layers while others simulate), wall seconds per phase.
struct Phases {
  double weights = 0, quantize = 0, program = 0, golden = 0, simulation = 0;
  double total() const { return weights + quantize + program + golden + simulation; }
};

Phases host_phases(const std::vector<LayerSpec>& specs, const ArchConfig& arch, int threads, bool* exact) {
  Phases ph;
  set_host_threads(threads);
  NetQuantOptions o;
  o.weights.bits = arch.weight_bits;
  o.weights.datapath = arch.datapath;
  const auto fast_mode = [threads](Accelerator& acc) {
    acc.array.set_fast(true);
    acc.array.fast_engine().set_threads(threads);
  };
  for (size_t i = 0; i < specs.size(); ++i) {
    auto t0 = std::chrono::steady_clock::now();
    const SyntheticLayer sl = make_synthetic_layer(specs[i], 1 + i);
    ph.weights += seconds_since(t0);
    t0 = std::chrono::steady_clock::now();
    const QuantizedNetwork q = quantize_network(sl.net, sl.formats, o);
    ph.quantize += seconds_since(t0);
    t0 = std::chrono::steady_clock::now();
    const AccelProgram prog = compile_network(q, arch);
    ph.program += seconds_since(t0);
    t0 = std::chrono::steady_clock::now();
    const GoldenRun golden = golden_run(q, prog, {sl.input});
    ph.golden += seconds_since(t0);
    t0 = std::chrono::steady_clock::now();
    const AccelRunResult r = run_accelerator(prog, golden.inputs, &golden.expected, nullptr, true, fast_mode);
    ph.simulation += seconds_since(t0);
    *exact &= r.bit_exact;
  }
  return ph;
}

// Runs `brsim ARGS...` (the binary beside this one), its output to
// /dev/null; wall seconds, or -1 if it failed.
double run_brsim(const std::vector<std::string>& args) {
  char self[4096];
  const ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
  if (len <= 0) return -1;
  std::string exe(self, static_cast<size_t>(len));
  exe = exe.substr(0, exe.rfind('/') + 1) + "brsim";
  std::vector<std::string> all = {exe};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  const auto t0 = std::chrono::steady_clock::now();
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, exe.c_str(), &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  int status = 0;
  if (rc != 0 || waitpid(pid, &status, 0) != pid) return -1;
  const double s = seconds_since(t0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? s : -1;
}

// Part 4: the whole process (with_search: also the direct search's
// baseline). Returns whether everything agreed and ran.
bool report_process(const std::vector<LayerSpec>& specs, const ArchConfig& arch, bool with_search) {
  bool ok = !with_search || report_search(specs, arch) > 0;
  double macs = 0;
  for (const LayerSpec& s : specs) macs += static_cast<double>(s.macs());
  // The golden model on the same layers, this process: the median of three.
  double golden_s = 0;
  for (const LayerSpec& s : specs) golden_s += prepare(s, arch).golden_s;
  bool exact = true;
  const Phases two = host_phases(specs, arch, 2, &exact), one = host_phases(specs, arch, 1, &exact);
  ok &= exact;
  std::printf("`brsim layer --network alexnet --mode fast`, its phases in this process, one layer after the other (wall "
              "time, summed over the layers; host threads and fast mode's threads 2 | 1; the command itself prepares "
              "layers on one thread while it simulates others on the other):\n");
  const char* names[] = {"weights and input (make_synthetic_layer)", "quantizer (quantize_network)",
                         "program (compile_network)", "golden model (golden_run)",
                         "simulation, fast mode (run_accelerator)"};
  const double a[] = {two.weights, two.quantize, two.program, two.golden, two.simulation};
  const double b[] = {one.weights, one.quantize, one.program, one.golden, one.simulation};
  for (int r = 0; r < 5; ++r)
    std::printf("  %-42s %7.3f s %5.1f %% | %7.3f s %5.1f %%\n", names[r], a[r], 100.0 * a[r] / two.total(), b[r],
                100.0 * b[r] / one.total());
  std::printf("  %-42s %7.3f s         | %7.3f s        = %.2fx | %.2fx the golden model's time on the network "
              "(%.3f s, median of three), bit exact: %s\n",
              "total", two.total(), one.total(), two.total() / golden_s, one.total() / golden_s, golden_s,
              exact ? "yes" : "NO");
  set_host_threads(2);
  // The command as a user runs it: three runs of each way, interleaved,
  // the median and the range.
  struct Way {
    const char* what;
    std::vector<std::string> args;
    int runs;
    std::vector<double> t;
  };
  Way ways[] = {{"--mode fast (--threads 2, the default)", {"layer", "--network", "alexnet", "--mode", "fast"}, 3, {}},
                {"--mode fast --threads 1", {"layer", "--network", "alexnet", "--mode", "fast", "--threads", "1"}, 3, {}},
                {"--mode cycle", {"layer", "--network", "alexnet"}, 3, {}}};
  for (int round = 0; round < 3; ++round)
    for (Way& w : ways) {
      if (round >= w.runs) continue;
      const double t = run_brsim(w.args);
      if (t < 0) {
        ok = false;
        std::printf("  brsim %s failed\n", w.what);
        continue;
      }
      w.t.push_back(t);
    }
  std::printf("  the command as a user runs it (`brsim layer --network alexnet ...`, whole process, wall time):\n");
  for (const Way& w : ways) {
    if (w.t.empty()) continue;
    const double med = median(w.t), lo = *std::min_element(w.t.begin(), w.t.end()),
                 hi = *std::max_element(w.t.begin(), w.t.end());
    std::printf("    %-40s %6.2f s (%.2f-%.2f s, median of %zu) = %5.0f M simulated MAC per host second, %5.2fx the "
                "golden model's time\n",
                w.what, med, lo, hi, w.t.size(), macs / med / 1e6, med / golden_s);
  }
  // ResNet-50 from ONNX (import, calibration, quantization, golden model,
  // fast simulation), where the torchvision check exported it beside us.
  char self[4096];
  const ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
  const std::string dir = len > 0 ? std::string(self, static_cast<size_t>(len)) : std::string();
  const std::string model = dir.substr(0, dir.rfind('/') + 1) + "tests/torchvision/resnet50.onnx";
  if (access(model.c_str(), R_OK) == 0) {
    char out[] = "/tmp/brsim_bench_resnet50_XXXXXX";
    if (mkdtemp(out)) {
      std::vector<double> t;
      for (int run = 0; run < 3; ++run) {
        const double s = run_brsim({"run", model, "--mode", "fast", "--inputs", "random", "--images", "1", "--out",
                                    std::string(out) + "/" + std::to_string(run)});
        ok &= s >= 0;
        if (s >= 0) t.push_back(s);
      }
      std::error_code ec;
      std::filesystem::remove_all(out, ec);
      if (!t.empty())
        std::printf("  `brsim run resnet50.onnx --mode fast --inputs random --images 1` (whole process, wall time): "
                    "%.2f s (%.2f-%.2f s, median of %zu)\n",
                    median(t), *std::min_element(t.begin(), t.end()), *std::max_element(t.begin(), t.end()), t.size());
    }
  }
  std::printf("\n");
  return ok;
}

}  // namespace

int sc_main(int argc, char** argv) {
  use_transparent_huge_pages(argv);  // the host memory setup of brsim itself (sim/main.cpp)
  keep_freed_host_memory();
  const bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  const bool fast_only = argc > 1 && std::strcmp(argv[1], "--fast") == 0;
  const bool process_only = argc > 1 && std::strcmp(argv[1], "--process") == 0;
  const bool phases_only = argc > 1 && std::strcmp(argv[1], "--phases") == 0;
  const auto fast_mode = [](Accelerator& acc) { acc.array.set_fast(true); };
  const auto fast_one_thread = [](Accelerator& acc) {
    acc.array.set_fast(true);
    acc.array.fast_engine().set_threads(1);
  };
  const ArchConfig arch;  // 16x16, 5-bit BRSLog, K = 4
  const std::vector<LayerSpec> alexnet = alexnet_layers();

  if (process_only || phases_only) return report_process(alexnet, arch, process_only) ? 0 : 1;
  std::printf("brsim_bench: cycle-by-cycle simulation on a %dx%d BRSLog array, no tracing\n\n", arch.rows, arch.cols);
  const Prepared c2 = prepare(alexnet[1], arch);
  if (fast_only && argc > 2) {
    for (const LayerSpec& s : alexnet)
      if (s.name == argv[2]) {
        const Prepared p = prepare(s, arch);
        const int runs = argc > 3 ? std::max(2, std::atoi(argv[3])) : 6;
        for (int i = 0; i < runs; ++i) {  // one thread, then two: interleaved against load changes
          const double cpu0 = cpu_seconds();
          const AccelRunResult fr =
              run_accelerator(p.prog, p.inputs, &p.expected, nullptr, true, i % 2 ? fast_mode : fast_one_thread);
          const double cpu = cpu_seconds() - cpu0;
          const double lm = static_cast<double>(fr.layers[0].stats.macs);
          std::printf("  %-6s fast %7.3f s %8.1f M MAC/s (CPU time %.3f s, %d thread%s; golden model %.3f s = %.2fx), "
                      "bit exact: %s\n",
                      s.name.c_str(), fr.host_seconds, lm / fr.host_seconds / 1e6, cpu, i % 2 ? 2 : 1, i % 2 ? "s" : "",
                      p.golden_s, p.golden_s / fr.host_seconds, fr.bit_exact ? "yes" : "NO");
        }
      }
    return 0;
  }
  if (fast_only) {
    // Fast mode only: conv2, then the network layer by layer.
    const AccelRunResult f = run_accelerator(c2.prog, c2.inputs, &c2.expected, nullptr, true, fast_mode);
    const AccelRunResult f1 = run_accelerator(c2.prog, c2.inputs, &c2.expected, nullptr, true, fast_one_thread);
    const double m = static_cast<double>(f.layers[0].stats.macs);
    std::printf("AlexNet conv2 fast mode: %7.3f s  %8.1f M MAC/s (1 thread: %7.3f s %8.1f M MAC/s; golden %8.1f M "
                "MAC/s: ratio %.2fx), bit exact: %s\n",
                f.host_seconds, m / f.host_seconds / 1e6, f1.host_seconds, m / f1.host_seconds / 1e6,
                m / c2.golden_s / 1e6, c2.golden_s / f.host_seconds, f.bit_exact && f1.bit_exact ? "yes" : "NO");
    bool ok = f.bit_exact && f1.bit_exact;
    ok &= report_fast_rounds(fast_rounds(alexnet, arch), alexnet, {});
    return ok ? 0 : 1;
  }
  const AccelRunResult r = run_accelerator(c2.prog, c2.inputs, &c2.expected);
  const double macs = static_cast<double>(r.layers[0].stats.macs), cycles = static_cast<double>(r.cycles());
  std::printf("AlexNet conv2 (27x27x96 -> 256, 5x5, pad 2): %.0f MACs, %.0f cycles, bit exact: %s\n", macs, cycles,
              r.bit_exact ? "yes" : "NO");
  std::printf("  cycle-by-cycle : %7.3f s  %8.1f M simulated MAC/s  %7.3f M cycles/s\n", r.host_seconds,
              macs / r.host_seconds / 1e6, cycles / r.host_seconds / 1e6);
  std::printf("  golden model   : %7.3f s  %8.1f M MAC/s (same layer, same process)\n", c2.golden_s,
              macs / c2.golden_s / 1e6);
  std::printf("  ratio          : cycle-by-cycle runs at %.1f %% of the golden model's MAC rate\n\n",
              100.0 * (macs / r.host_seconds) / (macs / c2.golden_s));
  // Activity counting and tracing: off, on (the default), one PE traced.
  const AccelRunResult off = run_accelerator(c2.prog, c2.inputs, &c2.expected, nullptr, false);
  TraceOptions topt;
  topt.vcd_path = "/tmp/brsim_bench_one_pe.vcd";
  topt.select = TraceSelection::parse("none", "r0,c0", "all", "");
  topt.expected_cycles = r.cycles();
  AccelRunResult one;
  {
    AccelTracer tracer(topt, arch, {c2.prog.layers[0].name});
    one = run_accelerator(c2.prog, c2.inputs, &c2.expected, &tracer);
  }
  std::remove(topt.vcd_path.c_str());
  std::remove("/tmp/brsim_bench_one_pe.gtkw");
  std::printf("tracing and activity (same layer):\n");
  std::printf("  activity off, no tracer : %7.3f s  %8.1f M MAC/s\n", off.host_seconds, macs / off.host_seconds / 1e6);
  std::printf("  activity on,  no tracer : %7.3f s  %8.1f M MAC/s (the default, above)\n", r.host_seconds,
              macs / r.host_seconds / 1e6);
  std::printf("  VCD of one PE           : %7.3f s  %8.1f M MAC/s = %.2fx the untraced time\n", one.host_seconds,
              macs / one.host_seconds / 1e6, one.host_seconds / r.host_seconds);
  const AccelRunResult fast = run_accelerator(c2.prog, c2.inputs, &c2.expected, nullptr, true, fast_mode);
  std::printf("  fast mode (--mode fast) : %7.3f s  %8.1f M MAC/s = %.1f %% of the golden model, identical counts: %s\n\n",
              fast.host_seconds, macs / fast.host_seconds / 1e6, 100.0 * c2.golden_s / fast.host_seconds,
              fast.layers[0].stats.cycles == r.layers[0].stats.cycles &&
                      fast.layers[0].stats.toggles_psum == r.layers[0].stats.toggles_psum
                  ? "yes"
                  : "NO");
  if (quick) return r.bit_exact ? 0 : 1;

  double total_s = 0, total_cpu = 0, total_macs = 0, total_cycles = 0, total_golden = 0;
  bool exact = true;
  std::vector<uint64_t> cycles_of;
  std::printf("AlexNet-shaped network, layer by layer, cycle by cycle (wall time, the process's CPU time; ratio = the "
              "golden model's time, median of three in this process, / the simulation's):\n");
  for (const LayerSpec& s : alexnet) {
    const Prepared p = prepare(s, arch);
    const double cpu0 = cpu_seconds();
    const AccelRunResult lr = run_accelerator(p.prog, p.inputs, &p.expected);
    const double cpu = cpu_seconds() - cpu0;
    exact &= lr.bit_exact;
    cycles_of.push_back(lr.cycles());
    total_s += lr.host_seconds, total_cpu += cpu, total_golden += p.golden_s;
    total_macs += static_cast<double>(lr.layers[0].stats.macs);
    total_cycles += static_cast<double>(lr.cycles());
    const double lm = static_cast<double>(lr.layers[0].stats.macs), lc = static_cast<double>(lr.cycles());
    std::printf("  %-6s %12llu MACs %11llu cycles %7.3f s (CPU %7.3f s) %8.1f M MAC/s %7.3f M cycles/s, ratio %.4fx\n",
                s.name.c_str(), static_cast<unsigned long long>(lr.layers[0].stats.macs),
                static_cast<unsigned long long>(lr.cycles()), lr.host_seconds, cpu, lm / lr.host_seconds / 1e6,
                lc / lr.host_seconds / 1e6, p.golden_s / lr.host_seconds);
  }
  std::printf("  total  %12.0f MACs %11.0f cycles %7.3f s (CPU %7.3f s) %8.1f M MAC/s %7.3f M cycles/s, ratio %.4fx, "
              "bit exact: %s\n",
              total_macs, total_cycles, total_s, total_cpu, total_macs / total_s / 1e6, total_cycles / total_s / 1e6,
              total_golden / total_s, exact ? "yes" : "NO");
  std::printf("peak memory (resident), layer by layer: %.1f MiB\n\n", peak_rss_mib());

  exact &= report_fast_rounds(fast_rounds(alexnet, arch), alexnet, cycles_of);
  std::printf("\n");
  exact &= report_process(alexnet, arch, true);
  return exact ? 0 : 1;
}
