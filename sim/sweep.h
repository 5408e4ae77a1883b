// Architecture sweeps (`brsim sweep`, docs/sweeps.md): a YAML grid or list
// of architecture points expanded in a fixed order, each point run as a brsim
// subprocess, one CSV row per point with the Pareto front over (latency,
// energy, area), plots, and shards whose merge equals the unsharded sweep.
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "arch.h"

namespace brsim {

// What every point runs: `brsim layer` (network, topology, layer) or `brsim run` (model).
struct SweepWorkload {
  enum class Kind { Network, Model, Topology, Layer } kind = Kind::Network;
  std::string network;                   // network: alexnet
  std::string path;                      // model / topology, resolved
  int64_t images = 100, calib_images = 500;
  std::string dataset;                   // model: IDX folder, resolved
  std::vector<std::string> layer_args;   // layer: --ifmap ... as argv
  nlohmann::json as_written;             // the workload mapping as the file gives it (hashed, recorded)
};

// One point: the resolved architecture and weight policy.
struct SweepPoint {
  int index = 0;
  ArchConfig arch;
  std::string policy;  // resolved policy name (fixed16 on a fixed16 array)
};

struct SweepSpec {
  std::string file;  // the sweep YAML as given on the command line
  std::string name;
  SweepWorkload workload;
  std::string base_arch;     // resolved path of base_arch (empty: built-in defaults)
  std::string mode = "fast";  // --mode of every point: fast (default) or cycle, identical results
  std::string energy;         // --energy table (resolved path), empty: the default table
  uint64_t seed = 1;
  std::vector<SweepPoint> points;  // in index order
  std::string hash;                // 16 hex digits over everything that defines the results
};

// Loads and expands a sweep file; ConfigError "FILE: field 'F': what" on bad input.
SweepSpec load_sweep(const std::string& path);

// CSV columns: the parameters (one cell each per point) and the results.
const std::vector<std::string>& sweep_param_names();
const std::vector<std::string>& sweep_result_names();
std::string sweep_csv_header();
std::vector<std::string> point_params(const SweepPoint& p);  // cells in sweep_param_names() order

// The argv of one point's subprocess (run inside the point's folder, which
// holds arch.yaml); argv[0] is `exe`.
std::vector<std::string> point_argv(const SweepSpec& s, const SweepPoint& p, const std::string& exe);

struct PointResult {
  int point = 0;
  bool ok = false;
  std::string error;  // first error line when !ok
  uint64_t cycles_per_image = 0, macs_per_image = 0;
  double latency_us = 0, energy_pj_per_image = 0, pj_per_mac = 0, avg_power_mw = 0, area_um2 = 0, utilization = 0;
  std::optional<double> top1;  // hardware top-1 (model workloads)
  std::vector<std::pair<std::string, double>> layer_utilization;
  double host_seconds = 0;  // wall time of the subprocess (sweep.json only, not in the CSV)
};

// Reads a finished point's stdout (summary JSON) and stderr; `status` as from waitpid.
PointResult read_point_result(int point, int status, const std::string& stdout_text, const std::string& stderr_text);

// Pareto flags, minimising all three: a point is dominated only by one that is
// <= in every objective and < in at least one (so duplicates are all optimal).
struct Objectives {
  double latency = 0, energy = 0, area = 0;
};
std::vector<bool> pareto_flags(const std::vector<Objectives>& pts);
// Flags of `pareto_flags` over the ok results (false for failed points).
std::vector<bool> pareto_of_results(const std::vector<PointResult>& rs);

// What a sweep folder holds: the expanded points (their parameter cells) and
// the results of the points that ran. Enough to write the CSV and plots.
struct SweepTable {
  std::string name, hash, sweep_file;
  nlohmann::json workload;
  std::vector<std::vector<std::string>> params;  // all points, by index
  std::vector<PointResult> results;              // sorted by point
};

SweepTable table_of(const SweepSpec& s);
// sweep.csv text; Pareto flags over the `ok` rows of `t.results`.
std::string sweep_csv(const SweepTable& t);
// Writes sweep.csv, sweep.json and the two plots into `dir`; `shard` and
// `merged_from` are recorded in sweep.json.
void write_sweep_dir(const std::string& dir, const SweepTable& t, const nlohmann::json& shard,
                     const std::vector<std::string>& merged_from = {});
SweepTable read_sweep_dir(const std::string& dir);  // from DIR/sweep.json
// The parameters that take more than one value over the sweep (for labels).
std::vector<size_t> varying_params(const SweepTable& t);
std::string point_label(const SweepTable& t, int point, const std::vector<size_t>& varying);

struct Shard {
  int index = 0, count = 1;  // 0-based: runs the points with point % count == index
};
Shard parse_shard(const std::string& text);  // "i/N"

struct SweepProgress {
  int total = 0, done = 0, running = 0, failed = 0;
};

struct SweepRunOptions {
  std::string out;        // results folder
  int jobs = 1;           // concurrent subprocesses
  Shard shard;
  std::string exe;        // the brsim binary
  std::function<void(const SweepProgress&)> on_progress;
};

// Runs the shard's points (`jobs` subprocesses at a time) and writes the
// folder; returns the table (results of this shard's points).
SweepTable run_sweep(const SweepSpec& s, const SweepRunOptions& o);

// Joins shard folders into `out`: same sweep (hash), no point twice, none
// missing; copies their points/ folders. ConfigError otherwise.
SweepTable merge_sweeps(const std::string& out, const std::vector<std::string>& shard_dirs);

// Shared by the sweep's files (sweep_file.cpp, sweep_results.cpp, sweep_run.cpp).
std::string fmt_num(double v);          // a number in a CSV cell: 12 significant digits
std::string point_dir_name(int point);  // a point's folder under points/: 0007

}  // namespace brsim
