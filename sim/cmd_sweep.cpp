// `brsim sweep SWEEP.yaml` and `brsim sweep merge`: architecture sweeps run
// as brsim subprocesses in parallel (docs/sweeps.md), a progress bar on a
// terminal, and a summary of the Pareto-optimal and failed points.
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <thread>

#include "commands.h"
#include "errors.h"
#include "memory_limit.h"
#include "sweep.h"
#include "text_table.h"

namespace brsim {

namespace {

struct SweepArgs {
  std::string file;
  int jobs = 0;  // 0: one per core
  std::string out, shard;
  bool list = false;
  std::string merge_out;
  std::vector<std::string> merge_dirs;
};

std::string self_exe() {
  char buf[4096];
  const ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) throw ConfigError("cannot find the brsim binary (/proc/self/exe) to run the sweep's points");
  return std::string(buf, static_cast<size_t>(n));
}

// The cores this process may run on (respects taskset, cgroups cpusets, Slurm).
int usable_cores() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0) return std::max(1, CPU_COUNT(&set));
  return std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
}

// One status line on stderr, redrawn in place; only on a terminal.
class SweepBar {
 public:
  explicit SweepBar(std::string name) : name_(std::move(name)), on_(isatty(STDERR_FILENO) == 1) {}
  ~SweepBar() { clear(); }
  void show(const SweepProgress& p) {
    if (!on_ || p.total == 0) return;
    const int width = 28, filled = p.done * width / p.total;
    const long s = static_cast<long>(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count());
    std::fprintf(stderr, "\rsweep %s [%.*s%*s] %d/%d points done, %d running, %d failed, %ld:%02ld  ", name_.c_str(),
                 filled, "############################", width - filled, "", p.done, p.total, p.running, p.failed,
                 s / 60, s % 60);
    std::fflush(stderr);
  }
  void clear() {
    if (!on_) return;
    std::fprintf(stderr, "\r%*s\r", 110, "");
    std::fflush(stderr);
    on_ = false;
  }

 private:
  std::string name_;
  bool on_;
  std::chrono::steady_clock::time_point t0_ = std::chrono::steady_clock::now();
};

void print_summary(const SweepTable& t, const std::string& out, double seconds, const std::string& what) {
  const std::vector<size_t> vary = varying_params(t);
  std::vector<Objectives> obj;
  size_t ok = 0, failed = 0;
  for (const PointResult& r : t.results) {
    if (r.ok) ++ok, obj.push_back({r.latency_us, r.energy_pj_per_image, r.area_um2});
    else ++failed;
  }
  const std::vector<bool> pareto = pareto_flags(obj);
  size_t npareto = 0;
  for (bool b : pareto) npareto += b;
  std::cout << what << ": " << ok << " ok, " << failed << " failed; " << npareto
            << " Pareto-optimal over (latency, energy, area)";
  if (seconds > 0) std::cout << "; " << fmt_fixed(seconds, 1) << " s";
  std::cout << "\n";
  if (npareto) {
    bool top1 = false;
    for (const PointResult& r : t.results) top1 = top1 || r.top1.has_value();
    std::vector<std::string> head = {"point", "configuration", "latency (us)", "energy (nJ)", "area (mm^2)",
                                     "power (mW)", "util (%)"};
    if (top1) head.push_back("top-1 (%)");
    TextTable tt(head, {false, true});
    size_t k = 0;
    for (const PointResult& r : t.results) {
      if (!r.ok || !pareto[k++]) continue;
      std::vector<std::string> row = {std::to_string(r.point), point_label(t, r.point, vary), fmt_general(r.latency_us, 6),
                                      fmt_fixed(r.energy_pj_per_image / 1e3, 2), fmt_fixed(r.area_um2 / 1e6, 4),
                                      fmt_fixed(r.avg_power_mw, 2), fmt_fixed(100 * r.utilization, 2)};
      if (top1) row.push_back(r.top1 ? fmt_fixed(100 * *r.top1, 2) : "");
      tt.add_row(row);
    }
    std::cout << "\nPareto-optimal points:\n";
    tt.print(std::cout);
  }
  if (failed) {
    std::cout << "\nfailed points:\n";
    int shown = 0;
    for (const PointResult& r : t.results)
      if (!r.ok && shown++ < 10)
        std::cout << "  " << r.point << " (" << point_label(t, r.point, vary) << "): " << r.error << "\n";
    if (shown > 10) std::cout << "  ... and " << shown - 10 << " more (sweep.csv)\n";
  }
  std::cout << "\nresults: " << out
            << "/{sweep.csv, sweep.json, energy_vs_latency.svg, utilization_per_layer.svg, points/NNNN/}\n";
}

void run_sweep_cmd(const SweepArgs& a) {
  if (a.file.empty()) throw ConfigError("brsim sweep needs a sweep file: brsim sweep SWEEP.yaml (see docs/sweeps.md)");
  const SweepSpec s = load_sweep(a.file);
  if (a.list) {
    std::vector<std::string> head = {"point"};
    for (const std::string& n : sweep_param_names()) head.push_back(n);
    TextTable tt(head);
    for (const SweepPoint& p : s.points) {
      std::vector<std::string> row = {std::to_string(p.index)};
      for (const std::string& c : point_params(p)) row.push_back(c.empty() ? "-" : c);
      tt.add_row(row);
    }
    std::cout << "sweep " << s.name << " (" << a.file << "): " << s.points.size() << " points, hash " << s.hash << "\n";
    tt.print(std::cout);
    return;
  }
  SweepRunOptions o;
  o.out = a.out.empty() ? "results/sweep/" + s.name : a.out;
  o.jobs = a.jobs ? a.jobs : usable_cores();
  if (a.jobs < 0) throw ConfigError("invalid -j " + std::to_string(a.jobs) + ": expected >= 1");
  if (!a.shard.empty()) o.shard = parse_shard(a.shard);
  o.exe = self_exe();
  SweepBar bar(s.name);
  o.on_progress = [&bar](const SweepProgress& p) { bar.show(p); };
  const auto t0 = std::chrono::steady_clock::now();
  const SweepTable t = run_sweep(s, o);
  bar.clear();
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::string what = "sweep " + s.name + " (" + a.file + "): ";
  if (o.shard.count > 1)
    what += "shard " + std::to_string(o.shard.index) + "/" + std::to_string(o.shard.count) + ", " +
            std::to_string(t.results.size()) + " of " + std::to_string(s.points.size()) + " points";
  else
    what += std::to_string(s.points.size()) + (s.points.size() == 1 ? " point" : " points");
  what += " with -j " + std::to_string(o.jobs);
  print_summary(t, o.out, secs, what);
  if (o.shard.count > 1)
    std::cout << "this shard's Pareto flags cover its own points only; join the shards with: brsim sweep merge --out DIR "
                 "SHARD_DIR...\n";
}

}  // namespace

void add_sweep_command(CLI::App& app) {
  auto args = std::make_shared<SweepArgs>();
  CLI::App* cmd = app.add_subcommand(
      "sweep", "Run a grid of architectures (SWEEP.yaml) in parallel: CSV, Pareto front, plots; 'sweep merge' joins shards");
  cmd->add_option("file", args->file, "Sweep file (YAML, docs/sweeps.md)");
  cmd->add_option("-j,--jobs", args->jobs, "Points run at once (subprocesses; default: one per usable core)");
  cmd->add_option("--out", args->out, "Results folder (default: results/sweep/NAME)");
  cmd->add_option("--shard", args->shard, "Run only shard i of N, i/N with 0 <= i < N: the points with point % N == i");
  cmd->add_flag("--list", args->list, "Print the expanded points and exit");
  add_max_memory_option(cmd);
  CLI::App* merge = cmd->add_subcommand("merge", "Join shard folders into one sweep (CSV with global Pareto flags, plots)");
  merge->add_option("--out", args->merge_out, "Merged results folder")->required();
  merge->add_option("shards", args->merge_dirs, "Shard folders (from brsim sweep --shard i/N --out DIR)")->required();
  cmd->require_subcommand(0, 1);
  cmd->callback([args, merge] {
    if (merge->parsed()) {
      if (!args->file.empty())
        throw ConfigError("brsim sweep merge takes no sweep file: brsim sweep merge --out DIR SHARD_DIR...");
      const SweepTable t = merge_sweeps(args->merge_out, args->merge_dirs);
      print_summary(t, args->merge_out, 0,
                    "merged " + std::to_string(args->merge_dirs.size()) + " shard folder(s) of sweep " + t.name + ", " +
                        std::to_string(t.results.size()) + " points");
      return;
    }
    run_sweep_cmd(*args);
  });
}

}  // namespace brsim
