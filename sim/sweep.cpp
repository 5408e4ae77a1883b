#include "sweep.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <chrono>
#include <cerrno>
#include <climits>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "arch_yaml.h"
#include "errors.h"
#include "idx_dataset.h"
#include "quantizer.h"
#include "svg_plot.h"
#include "text_table.h"
#include "memory_limit.h"
#include "shape_limits.h"
#include "yaml_reader.h"

extern char** environ;

namespace brsim {

namespace fs = std::filesystem;

namespace {

// ---------------------------------------------------------------- the file

using Reader = YamlReader;

// Memory of one expanded point: its architecture, parameter cells, dedupe
// entry, command line and result row (measured: about 2 KiB; twice that).
constexpr uint64_t kSweepBytesPerPoint = 4096;

bool parse_pair(const std::string& t, long long* a, long long* b) {
  const size_t x = t.find('x');
  if (x == std::string::npos || x == 0 || x + 1 >= t.size()) return false;
  for (size_t i = 0; i < t.size(); ++i)
    if (i != x && !std::isdigit(static_cast<unsigned char>(t[i]))) return false;
  if (x > 6 || t.size() - x - 1 > 6) return false;
  *a = std::stoll(t.substr(0, x)), *b = std::stoll(t.substr(x + 1));
  return *a >= 1 && *b >= 1;
}

std::string fmt_num(double v) { return fmt_general(v, 12); }

// A parameter the grid and points may set, in the fixed expansion order.
struct Draft {
  ArchConfig arch;
  std::string policy;  // empty: the PE's default
};
struct Param {
  const char* key;
  // Validates one value; returns its canonical text.
  std::string (*parse)(const Reader& r, const YAML::Node& n, const std::string& field);
  void (*apply)(Draft& d, const std::string& v);
};

std::string kib_value(const Reader& r, const YAML::Node& n, const std::string& f) {
  const double v = r.number(n, f, "a positive size in KiB");
  if (std::fabs(v * 1024 - std::round(v * 1024)) > 1e-9 || v * 1024 > 1e12)
    r.fail(f, "expected a whole number of bytes (KiB x 1024), got " + Reader::shown(n));
  return fmt_num(v);
}
uint64_t kib_bytes(const std::string& v) { return static_cast<uint64_t>(std::llround(std::stod(v) * 1024)); }

const std::vector<Param>& params() {
  static const std::vector<Param> p = {
      {"array",
       [](const Reader& r, const YAML::Node& n, const std::string& f) {
         long long a = 0, b = 0;
         if (!n.IsScalar() || !parse_pair(n.Scalar(), &a, &b))
           r.fail(f, "expected a ROWSxCOLS string with positive integers (e.g. 16x16), got " + Reader::shown(n));
         return std::to_string(a) + "x" + std::to_string(b);
       },
       [](Draft& d, const std::string& v) {
         const size_t x = v.find('x');
         d.arch.rows = std::stoi(v.substr(0, x)), d.arch.cols = std::stoi(v.substr(x + 1));
       }},
      {"rows",
       [](const Reader& r, const YAML::Node& n, const std::string& f) {
         return std::to_string(r.integer(n, f, 1, "a positive integer (PE rows)"));
       },
       [](Draft& d, const std::string& v) { d.arch.rows = std::stoi(v); }},
      {"cols",
       [](const Reader& r, const YAML::Node& n, const std::string& f) {
         return std::to_string(r.integer(n, f, 1, "a positive integer (PE columns)"));
       },
       [](Draft& d, const std::string& v) { d.arch.cols = std::stoi(v); }},
      {"pe",
       [](const Reader& r, const YAML::Node& n, const std::string& f) {
         try {
           return to_string(parse_pe_type(r.str(n, f)));
         } catch (const ConfigError& e) {
           r.fail(f, e.what());
         }
       },
       [](Draft& d, const std::string& v) { d.arch.pe = parse_pe_type(v); }},
      {"dataflow",
       [](const Reader& r, const YAML::Node& n, const std::string& f) {
         try {
           return to_string(parse_dataflow(r.str(n, f)));
         } catch (const ConfigError& e) {
           r.fail(f, e.what());
         }
       },
       [](Draft& d, const std::string& v) { d.arch.dataflow = parse_dataflow(v); }},
      {"bits",
       [](const Reader& r, const YAML::Node& n, const std::string& f) {
         return std::to_string(r.integer(n, f, 1, "a positive integer (weight code width, bits)"));
       },
       [](Draft& d, const std::string& v) { d.arch.weight_bits = std::stoi(v); }},
      {"sqrt2_terms",
       [](const Reader& r, const YAML::Node& n, const std::string& f) {
         return std::to_string(r.integer(n, f, 1, "a positive integer (terms of the sqrt2 expansion)"));
       },
       [](Draft& d, const std::string& v) { d.arch.datapath.sqrt2_terms = std::stoi(v); }},
      {"policy",
       [](const Reader& r, const YAML::Node& n, const std::string& f) {
         try {
           return Policy::parse(r.str(n, f)).name();
         } catch (const ConfigError& e) {
           r.fail(f, e.what());
         }
       },
       [](Draft& d, const std::string& v) { d.policy = v; }},
      {"weight_buffer_kib", kib_value, [](Draft& d, const std::string& v) { d.arch.weight_buffer.capacity_bytes = kib_bytes(v); }},
      {"input_buffer_kib", kib_value, [](Draft& d, const std::string& v) { d.arch.input_buffer.capacity_bytes = kib_bytes(v); }},
      {"output_buffer_kib", kib_value, [](Draft& d, const std::string& v) { d.arch.output_buffer.capacity_bytes = kib_bytes(v); }},
      {"dram_bytes_per_cycle",
       [](const Reader& r, const YAML::Node& n, const std::string& f) {
         return std::to_string(r.integer(n, f, 1, "a positive integer (DRAM bandwidth, bytes per cycle)"));
       },
       [](Draft& d, const std::string& v) { d.arch.dram.bytes_per_cycle = std::stoi(v); }},
      {"dram_latency_cycles",
       [](const Reader& r, const YAML::Node& n, const std::string& f) {
         return std::to_string(r.integer(n, f, 0, "a non-negative integer (DRAM latency, cycles)"));
       },
       [](Draft& d, const std::string& v) { d.arch.dram.latency_cycles = std::stoi(v); }},
      {"clock_mhz",
       [](const Reader& r, const YAML::Node& n, const std::string& f) {
         return fmt_num(r.number(n, f, "a positive clock frequency in MHz"));
       },
       [](Draft& d, const std::string& v) { d.arch.clock_mhz = std::stod(v); }},
      {"double_buffer_weights",
       [](const Reader& r, const YAML::Node& n, const std::string& f) {
         const std::string v = n.IsScalar() ? n.Scalar() : "";
         if (v != "true" && v != "false") r.fail(f, "expected true or false, got " + Reader::shown(n));
         return v;
       },
       [](Draft& d, const std::string& v) { d.arch.double_buffer_weights = v == "true"; }},
      {"double_buffer_activations",
       [](const Reader& r, const YAML::Node& n, const std::string& f) {
         const std::string v = n.IsScalar() ? n.Scalar() : "";
         if (v != "true" && v != "false") r.fail(f, "expected true or false, got " + Reader::shown(n));
         return v;
       },
       [](Draft& d, const std::string& v) { d.arch.double_buffer_activations = v == "true"; }},
      {"batch",
       [](const Reader& r, const YAML::Node& n, const std::string& f) {
         const std::string expected = "an integer in [1, " + std::to_string(kMaxBatch) + "] (images per batch)";
         const int64_t v = r.integer(n, f, 1, expected);
         if (v > kMaxBatch) r.fail(f, "expected " + expected + ", got " + Reader::shown(n));
         return std::to_string(v);
       },
       [](Draft& d, const std::string& v) { d.arch.batch = std::stoi(v); }},
  };
  return p;
}

std::vector<std::string> param_keys() {
  std::vector<std::string> k;
  for (const Param& p : params()) k.push_back(p.key);
  return k;
}

// Relative paths: the sweep file's folder first, then the current directory.
std::string resolve_path(const Reader& r, const std::string& value, const std::string& field, bool dir) {
  fs::path p(value);
  std::vector<fs::path> tries;
  if (p.is_absolute()) {
    tries.push_back(p);
  } else {
    tries.push_back(fs::path(r.file()).parent_path() / p);
    tries.push_back(fs::current_path() / p);
  }
  for (const fs::path& t : tries) {
    std::error_code ec;
    if (dir ? fs::is_directory(t, ec) : fs::is_regular_file(t, ec)) return fs::absolute(t).lexically_normal().string();
  }
  r.fail(field, std::string("no ") + (dir ? "folder" : "file") + " '" + value + "'" +
                    (p.is_absolute() ? "" : " (looked in the sweep file's folder and the current directory)"));
}

nlohmann::json yaml_to_json(const YAML::Node& n) {
  if (n.IsMap()) {
    nlohmann::json j = nlohmann::json::object();
    for (const auto& kv : n) j[kv.first.as<std::string>()] = yaml_to_json(kv.second);
    return j;
  }
  if (n.IsSequence()) {
    nlohmann::json j = nlohmann::json::array();
    for (const auto& v : n) j.push_back(yaml_to_json(v));
    return j;
  }
  return n.IsScalar() ? nlohmann::json(n.Scalar()) : nlohmann::json();
}

SweepWorkload parse_workload(const Reader& r, const YAML::Node& w) {
  if (!w) r.fail("workload", "missing: give {network: alexnet}, {model: FILE.onnx, images: N}, {topology: FILE.csv} or {layer: {...}}");
  r.keys(w, "workload", {"network", "model", "images", "dataset", "calib_images", "topology", "layer"});
  SweepWorkload s;
  s.as_written = yaml_to_json(w);
  const int kinds = !!w["network"] + !!w["model"] + !!w["topology"] + !!w["layer"];
  if (kinds != 1) r.fail("workload", "expected exactly one of network, model, topology, layer");
  if (!w["model"])
    for (const char* k : {"images", "dataset", "calib_images"})
      if (w[k]) r.fail(std::string("workload.") + k, "only with workload.model");
  if (w["network"]) {
    s.kind = SweepWorkload::Kind::Network;
    s.network = r.str(w["network"], "workload.network");
    if (s.network != "alexnet") r.fail("workload.network", "expected alexnet, got '" + s.network + "'");
  } else if (w["model"]) {
    s.kind = SweepWorkload::Kind::Model;
    s.path = resolve_path(r, r.str(w["model"], "workload.model"), "workload.model", false);
    if (w["images"]) s.images = r.integer(w["images"], "workload.images", 1, "a positive number of test images");
    if (w["calib_images"])
      s.calib_images = r.integer(w["calib_images"], "workload.calib_images", 1, "a positive number of images");
    s.dataset = w["dataset"] ? resolve_path(r, r.str(w["dataset"], "workload.dataset"), "workload.dataset", true)
                             : kFashionMnistDir;
  } else if (w["topology"]) {
    s.kind = SweepWorkload::Kind::Topology;
    s.path = resolve_path(r, r.str(w["topology"], "workload.topology"), "workload.topology", false);
  } else {
    s.kind = SweepWorkload::Kind::Layer;
    const YAML::Node l = w["layer"];
    r.keys(l, "workload.layer", {"ifmap", "kernel", "channels", "filters", "stride", "padding", "fc", "name"});
    long long a = 0, b = 0;
    for (const char* k : {"ifmap", "kernel"}) {
      const std::string f = std::string("workload.layer.") + k;
      if (!l[k] && std::string(k) == "kernel") continue;
      if (!l[k]) r.fail(f, "missing: expected HxW, e.g. 8x8");
      if (!l[k].IsScalar() || !parse_pair(l[k].Scalar(), &a, &b))
        r.fail(f, "expected HxW with positive integers (e.g. 8x8), got " + Reader::shown(l[k]));
      s.layer_args.insert(s.layer_args.end(), {std::string("--") + k, std::to_string(a) + "x" + std::to_string(b)});
    }
    for (const char* k : {"channels", "filters"}) {
      if (!l[k]) r.fail(std::string("workload.layer.") + k, "missing: expected a positive integer");
      s.layer_args.insert(s.layer_args.end(), {std::string("--") + k,
                                               std::to_string(r.integer(l[k], std::string("workload.layer.") + k, 1,
                                                                        "a positive integer"))});
    }
    if (l["stride"])
      s.layer_args.insert(s.layer_args.end(),
                          {"--stride", std::to_string(r.integer(l["stride"], "workload.layer.stride", 1, "a positive integer"))});
    if (l["padding"])
      s.layer_args.insert(s.layer_args.end(), {"--padding", std::to_string(r.integer(l["padding"], "workload.layer.padding",
                                                                                      0, "a non-negative integer"))});
    if (l["fc"]) {
      bool fc = false;
      try {
        fc = l["fc"].as<bool>();
      } catch (const YAML::Exception&) {
        r.fail("workload.layer.fc", "expected true or false, got " + Reader::shown(l["fc"]));
      }
      if (fc) s.layer_args.push_back("--fc");
    }
    if (l["name"]) s.layer_args.insert(s.layer_args.end(), {"--name", r.str(l["name"], "workload.layer.name")});
  }
  return s;
}

// FNV-1a, 64 bits: the sweep's identity for merge (not a security hash).
struct Fnv {
  uint64_t h = 1469598103934665603ull;
  void add(const std::string& s) {
    for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
    h = (h ^ 0xff) * 1099511628211ull;  // field separator
  }
  void add_file(const std::string& path) {  // streamed: models can be large
    std::ifstream f(path, std::ios::binary);
    char buf[1 << 16];
    while (f.read(buf, sizeof buf) || f.gcount() > 0)
      for (std::streamsize i = 0; i < f.gcount(); ++i) h = (h ^ static_cast<unsigned char>(buf[i])) * 1099511628211ull;
    h = (h ^ 0xff) * 1099511628211ull;
  }
  std::string hex() const {
    char b[20];
    std::snprintf(b, sizeof b, "%016llx", static_cast<unsigned long long>(h));
    return b;
  }
};

}  // namespace

// ---------------------------------------------------------------- expansion

const std::vector<std::string>& sweep_param_names() {
  static const std::vector<std::string> n = {"rows", "cols", "pe", "dataflow", "bits", "sqrt2_terms", "policy",
                                             "weight_buffer_kib", "input_buffer_kib", "output_buffer_kib",
                                             "dram_bytes_per_cycle", "dram_latency_cycles", "clock_mhz",
                                             "double_buffer_weights", "double_buffer_activations", "batch"};
  return n;
}

const std::vector<std::string>& sweep_result_names() {
  static const std::vector<std::string> n = {"cycles_per_image", "latency_us", "energy_pj_per_image", "pj_per_mac",
                                             "avg_power_mw", "area_um2", "utilization", "macs_per_image", "top1"};
  return n;
}

std::string sweep_csv_header() {
  std::string h = "point,status,error";
  for (const std::string& n : sweep_param_names()) h += "," + n;
  for (const std::string& n : sweep_result_names()) h += "," + n;
  return h + ",pareto";
}

std::vector<std::string> point_params(const SweepPoint& p) {
  const ArchConfig& a = p.arch;
  const bool f16 = a.pe == PeType::Fixed16;
  return {std::to_string(a.rows), std::to_string(a.cols), to_string(a.pe), to_string(a.dataflow),
          f16 ? "16" : std::to_string(a.weight_bits), f16 ? "" : std::to_string(a.datapath.sqrt2_terms), p.policy,
          fmt_num(a.weight_buffer.capacity_bytes / 1024.0), fmt_num(a.input_buffer.capacity_bytes / 1024.0),
          fmt_num(a.output_buffer.capacity_bytes / 1024.0), std::to_string(a.dram.bytes_per_cycle),
          std::to_string(a.dram.latency_cycles), fmt_num(a.clock_mhz), a.double_buffer_weights ? "true" : "false",
          a.double_buffer_activations ? "true" : "false", std::to_string(a.batch)};
}

SweepSpec load_sweep(const std::string& path) {
  const YAML::Node root = load_yaml_file(path, "sweep file");
  const Reader r(path);
  if (!root || root.IsNull()) r.fail("(top level)", "empty file: expected name, workload, grid and/or points");
  r.keys(root, "", {"name", "workload", "base_arch", "grid", "points", "seed", "mode", "energy"});
  SweepSpec s;
  s.file = path;
  s.name = root["name"] ? r.str(root["name"], "name") : fs::path(path).stem().string();
  // The name becomes the default results folder: keep it a plain file name.
  if (s.name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.") != std::string::npos ||
      s.name[0] == '.')
    r.fail("name", "expected letters, digits, '_', '-' or '.' (not first), got '" + s.name + "'");
  s.workload = parse_workload(r, root["workload"]);
  if (root["seed"]) s.seed = static_cast<uint64_t>(r.integer(root["seed"], "seed", 0, "a non-negative integer"));
  if (root["mode"]) {
    s.mode = r.str(root["mode"], "mode");
    if (s.mode != "fast" && s.mode != "cycle") r.fail("mode", "expected fast or cycle, got '" + s.mode + "'");
  }
  if (root["energy"]) s.energy = resolve_path(r, r.str(root["energy"], "energy"), "energy", false);
  ArchConfig base;
  if (root["base_arch"]) {
    s.base_arch = resolve_path(r, r.str(root["base_arch"], "base_arch"), "base_arch", false);
    base = load_arch_yaml(s.base_arch);
  }

  // The grid: every key a non-empty list; cartesian product, first key outermost.
  const std::vector<Param>& ps = params();
  std::vector<std::vector<std::string>> axes(ps.size());
  const YAML::Node grid = root["grid"], pts = root["points"];
  if (!grid && !pts) r.fail("grid", "missing: give a grid of parameter lists and/or a list of points");
  if (grid) {
    if (grid.IsNull() || (grid.IsMap() && grid.size() == 0))
      r.fail("grid", "empty: give at least one parameter list (e.g. array: [8x8, 16x16]), or use points");
    r.keys(grid, "grid", param_keys());
    if (grid["array"] && (grid["rows"] || grid["cols"]))
      r.fail(grid["rows"] ? "grid.rows" : "grid.cols", "give either array (ROWSxCOLS) or rows and cols, not both");
    for (size_t k = 0; k < ps.size(); ++k) {
      const YAML::Node v = grid[ps[k].key];
      if (!v) continue;
      const std::string f = std::string("grid.") + ps[k].key;
      if (!v.IsSequence() || v.size() == 0)
        r.fail(f, std::string("expected a non-empty list") + (k == 0 ? " of ROWSxCOLS strings" : "") + ", got " +
                      (v.IsSequence() ? "an empty list" : Reader::shown(v)));
      for (size_t i = 0; i < v.size(); ++i) axes[k].push_back(ps[k].parse(r, v[i], f + "[" + std::to_string(i) + "]"));
    }
  }
  // Count the points before expanding them (a grid of a few long lists
  // multiplies quickly): each costs a few KiB here and in the results.
  uint64_t count = grid ? 1 : 0;
  for (const auto& axis : axes)
    if (!axis.empty()) count = saturating_mul(count, axis.size());
  if (pts && pts.IsSequence()) count = saturating_add(count, pts.size());
  check_memory(saturating_mul(count, kSweepBytesPerPoint),
               path + ": the sweep's " + (count == UINT64_MAX ? std::string("more than 2^64") : std::to_string(count)) +
                   " points");
  std::vector<Draft> drafts;
  auto finish = [&](Draft d, bool explicit_point, const std::string& where) -> bool {
    if (d.arch.pe == PeType::Fixed16) {
      // The fixed16 PE has 16-bit weights and no sqrt2 terms: those axes collapse.
      if (explicit_point && !d.policy.empty() && d.policy != "fixed16")
        r.fail(where + ".policy", "policy " + d.policy + " does not run on pe fixed16 (its policy is fixed16)");
      d.policy = "fixed16";
      d.arch.weight_bits = base.weight_bits, d.arch.datapath.sqrt2_terms = base.datapath.sqrt2_terms;
    } else if (d.policy == "fixed16") {
      if (explicit_point) r.fail(where + ".policy", "policy fixed16 runs only on pe fixed16");
      return false;  // the grid pairs policy fixed16 with fixed16 PEs only
    } else if (d.policy.empty()) {
      d.policy = "brslog";
    }
    drafts.push_back(d);
    return true;
  };
  if (grid) {
    std::vector<size_t> at(ps.size(), 0);
    for (bool more = true; more;) {
      Draft d{base, ""};
      for (size_t k = 0; k < ps.size(); ++k)
        if (!axes[k].empty()) ps[k].apply(d, axes[k][at[k]]);
      finish(d, false, "grid");
      more = false;
      for (size_t k = ps.size(); k-- > 0;) {  // odometer: the last key turns fastest
        if (axes[k].empty()) continue;
        if (++at[k] < axes[k].size()) {
          more = true;
          break;
        }
        at[k] = 0;
      }
    }
  }
  if (pts) {
    if (!pts.IsSequence()) r.fail("points", "expected a list of mappings such as {array: 16x16, pe: fixed16}");
    for (size_t i = 0; i < pts.size(); ++i) {
      const std::string where = "points[" + std::to_string(i) + "]";
      if (pts[i].IsNull()) {  // `- {}` or `-`: the base architecture
        finish(Draft{base, ""}, true, where);
        continue;
      }
      r.keys(pts[i], where, param_keys());
      if (pts[i]["array"] && (pts[i]["rows"] || pts[i]["cols"]))
        r.fail(where + (pts[i]["rows"] ? ".rows" : ".cols"), "give either array (ROWSxCOLS) or rows and cols, not both");
      Draft d{base, ""};
      for (const Param& p : ps)
        if (pts[i][p.key]) p.apply(d, p.parse(r, pts[i][p.key], where + "." + p.key));
      finish(d, true, where);
    }
  }
  // Dedupe on the parameter cells (they determine the architecture); keep the first.
  std::set<std::vector<std::string>> seen;
  for (const Draft& d : drafts) {
    SweepPoint p{static_cast<int>(s.points.size()), d.arch, d.policy};
    if (seen.insert(point_params(p)).second) s.points.push_back(p);
  }
  if (s.points.empty())
    r.fail(grid ? "grid" : "points", "expands to no runnable point (policy fixed16 pairs only with pe fixed16)");

  Fnv h;
  h.add("brsim-sweep/1");
  h.add(s.name);
  h.add(s.workload.as_written.dump());
  if (!s.workload.path.empty()) h.add_file(s.workload.path);
  h.add(s.mode);
  if (!s.energy.empty()) h.add_file(s.energy);
  h.add(std::to_string(s.seed));
  for (const SweepPoint& p : s.points) {
    h.add(arch_to_yaml(p.arch));
    h.add(p.policy);
  }
  s.hash = h.hex();
  return s;
}

std::vector<std::string> point_argv(const SweepSpec& s, const SweepPoint& p, const std::string& exe) {
  std::vector<std::string> a{exe};
  const SweepWorkload& w = s.workload;
  switch (w.kind) {
    case SweepWorkload::Kind::Model:
      a.insert(a.end(), {"run", w.path, "--images", std::to_string(w.images), "--dataset", w.dataset,
                         "--calib-images", std::to_string(w.calib_images)});
      break;
    case SweepWorkload::Kind::Network: a.insert(a.end(), {"layer", "--network", w.network}); break;
    case SweepWorkload::Kind::Topology: a.insert(a.end(), {"layer", "--topology", w.path}); break;
    case SweepWorkload::Kind::Layer:
      a.push_back("layer");
      a.insert(a.end(), w.layer_args.begin(), w.layer_args.end());
      break;
  }
  if (w.kind != SweepWorkload::Kind::Model) a.insert(a.end(), {"--seed", std::to_string(s.seed)});
  a.insert(a.end(), {"--arch", "arch.yaml", "--policy", p.policy, "--out", ".", "--format", "json"});
  // Points run in parallel processes: one host thread each.
  a.insert(a.end(), {"--mode", s.mode, "--threads", "1"});
  if (!s.energy.empty()) a.insert(a.end(), {"--energy", s.energy});
  return a;
}

// ---------------------------------------------------------------- results

PointResult read_point_result(int point, int status, const std::string& out, const std::string& err) {
  PointResult r;
  r.point = point;
  auto first_error = [&]() {
    std::istringstream in(err);
    std::string line, first;
    while (std::getline(in, line)) {
      while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
      if (line.empty()) continue;
      if (first.empty()) first = line;
      if (line.find("error") != std::string::npos || line.find("Error") != std::string::npos) {
        first = line;
        break;
      }
    }
    const std::string pre = "brsim: error: ";
    if (first.rfind(pre, 0) == 0) first = first.substr(pre.size());
    return first.size() > 400 ? first.substr(0, 397) + "..." : first;
  };
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    r.error = first_error();
    if (r.error.empty())
      r.error = WIFSIGNALED(status) ? "killed by signal " + std::to_string(WTERMSIG(status))
                                    : "exit status " + std::to_string(WEXITSTATUS(status));
    return r;
  }
  try {
    const nlohmann::json j = nlohmann::json::parse(out);
    const nlohmann::json& t = j.at("totals");
    const nlohmann::json& e = j.at("energy");
    r.cycles_per_image = t.at("cycles_per_image").get<uint64_t>();
    r.macs_per_image = t.at("macs_per_image").get<uint64_t>();
    r.latency_us = t.at("latency_us_per_image").get<double>();
    r.utilization = t.at("utilization").get<double>();
    r.energy_pj_per_image = e.at("total_pj_per_image").get<double>();
    r.pj_per_mac = e.at("pj_per_mac").get<double>();
    r.avg_power_mw = e.at("avg_power_mw").get<double>();
    r.area_um2 = e.at("area_um2").get<double>();
    if (j.contains("accuracy")) r.top1 = j["accuracy"].at("hardware_top1").get<double>();
    for (const nlohmann::json& l : j.at("layers"))
      r.layer_utilization.emplace_back(l.at("name").get<std::string>(), l.at("utilization").get<double>());
    r.ok = true;
  } catch (const std::exception& ex) {
    r.error = std::string("unreadable result on stdout: ") + ex.what();
  }
  return r;
}

std::vector<bool> pareto_flags(const std::vector<Objectives>& pts) {
  std::vector<bool> f(pts.size(), true);
  for (size_t i = 0; i < pts.size(); ++i)
    for (size_t j = 0; j < pts.size() && f[i]; ++j) {
      const Objectives &a = pts[j], &b = pts[i];
      if (a.latency <= b.latency && a.energy <= b.energy && a.area <= b.area &&
          (a.latency < b.latency || a.energy < b.energy || a.area < b.area))
        f[i] = false;
    }
  return f;
}

std::vector<bool> pareto_of_results(const std::vector<PointResult>& rs) {
  std::vector<Objectives> obj;
  for (const PointResult& r : rs)
    if (r.ok) obj.push_back({r.latency_us, r.energy_pj_per_image, r.area_um2});
  const std::vector<bool> ok_flags = pareto_flags(obj);
  std::vector<bool> f(rs.size(), false);
  for (size_t i = 0, k = 0; i < rs.size(); ++i)
    if (rs[i].ok) f[i] = ok_flags[k++];
  return f;
}

namespace {

std::string csv_cell(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string o = "\"";
  for (char c : s) o += c == '"' ? std::string("\"\"") : c == '\n' || c == '\r' ? std::string(" ") : std::string(1, c);
  return o + "\"";
}

std::string point_dir_name(int point) {
  char b[16];
  std::snprintf(b, sizeof b, "%04d", point);
  return b;
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary);
  f << text;
  if (!f) throw ConfigError(path + ": cannot write");
}

std::string read_text(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

}  // namespace

SweepTable table_of(const SweepSpec& s) {
  SweepTable t;
  t.name = s.name, t.hash = s.hash, t.sweep_file = s.file, t.workload = s.workload.as_written;
  for (const SweepPoint& p : s.points) t.params.push_back(point_params(p));
  return t;
}

std::string sweep_csv(const SweepTable& t) {
  std::ostringstream o;
  o << sweep_csv_header() << "\n";
  const std::vector<bool> pareto = pareto_of_results(t.results);
  for (size_t i = 0; i < t.results.size(); ++i) {
    const PointResult& r = t.results[i];
    o << r.point << ',' << (r.ok ? "ok" : "error") << ',' << csv_cell(r.error);
    for (const std::string& c : t.params.at(static_cast<size_t>(r.point))) o << ',' << csv_cell(c);
    if (r.ok)
      o << ',' << r.cycles_per_image << ',' << fmt_num(r.latency_us) << ',' << fmt_num(r.energy_pj_per_image) << ','
        << fmt_num(r.pj_per_mac) << ',' << fmt_num(r.avg_power_mw) << ',' << fmt_num(r.area_um2) << ','
        << fmt_num(r.utilization) << ',' << r.macs_per_image << ',' << (r.top1 ? fmt_num(*r.top1) : "");
    else
      o << ",,,,,,,,,";
    o << ',' << (pareto[i] ? 1 : 0) << "\n";
  }
  return o.str();
}

// Columns of sweep_param_names() by name, for the labels.
constexpr size_t kRows = 0, kCols = 1, kPe = 2, kBits = 4, kSqrt2Terms = 5, kPolicy = 6, kWeightBuf = 7, kInputBuf = 8,
                 kOutputBuf = 9;

std::vector<size_t> varying_params(const SweepTable& t) {
  std::vector<size_t> v;
  for (size_t c = 0; c < sweep_param_names().size(); ++c) {
    // bits and sqrt2_terms count on BRSLog points only (fixed16 has neither)
    const bool brslog_only = c == kBits || c == kSqrt2Terms;
    std::set<std::string> values;
    for (const auto& p : t.params)
      if (!brslog_only || p[kPe] != "fixed16") values.insert(p[c]);
    if (values.size() > 1) v.push_back(c);
  }
  return v;
}

std::string point_label(const SweepTable& t, int point, const std::vector<size_t>& varying) {
  const std::vector<std::string>& p = t.params.at(static_cast<size_t>(point));
  std::string s;
  auto add = [&](const std::string& x) {
    if (!x.empty()) s += (s.empty() ? "" : " ") + x;
  };
  bool array_done = false, buffers_done = false;
  for (size_t c : varying) {
    const std::string& n = sweep_param_names()[c];
    const std::string& v = p[c];
    if (n == "rows" || n == "cols") {
      if (!array_done) add(p[kRows] + "x" + p[kCols]);
      array_done = true;
    } else if (n == "bits") {
      add(v + "-bit");
    } else if (n == "sqrt2_terms") {
      add(v.empty() ? "" : "K" + v);
    } else if (n == "weight_buffer_kib" || n == "input_buffer_kib" || n == "output_buffer_kib") {
      if (p[kWeightBuf] == p[kInputBuf] && p[kInputBuf] == p[kOutputBuf]) {  // all three alike: say it once
        if (!buffers_done) add("buffers " + v + " KiB");
        buffers_done = true;
      } else {
        add(n.substr(0, 1) + "buf " + v + " KiB");
      }
    } else if (n == "dram_bytes_per_cycle") {
      add(v + " B/cyc");
    } else if (n == "dram_latency_cycles") {
      add("lat " + v);
    } else if (n == "clock_mhz") {
      add(v + " MHz");
    } else if (n == "double_buffer_weights") {
      add(v == "true" ? "double-buffered" : "serial weights");
    } else if (n == "double_buffer_activations") {
      add(v == "true" ? "double-buffered acts" : "serial acts");
    } else if (n == "batch") {
      add("batch " + v);
    } else if (n == "pe" && std::find(varying.begin(), varying.end(), kPolicy) != varying.end()) {
      // skipped: the varying policy names the PE already (policy fixed16 <=> pe fixed16)
    } else {
      add(v);
    }
  }
  return s.empty() ? "base" : s;
}

namespace {

nlohmann::json result_json(const PointResult& r, bool pareto) {
  nlohmann::json j = {{"point", r.point}, {"status", r.ok ? "ok" : "error"}, {"error", r.error},
                      {"host_seconds", r.host_seconds}};
  if (!r.ok) return j;
  j["cycles_per_image"] = r.cycles_per_image;
  j["macs_per_image"] = r.macs_per_image;
  j["latency_us"] = r.latency_us;
  j["energy_pj_per_image"] = r.energy_pj_per_image;
  j["pj_per_mac"] = r.pj_per_mac;
  j["avg_power_mw"] = r.avg_power_mw;
  j["area_um2"] = r.area_um2;
  j["utilization"] = r.utilization;
  j["top1"] = r.top1 ? nlohmann::json(*r.top1) : nlohmann::json();
  j["pareto"] = pareto;
  nlohmann::json layers = nlohmann::json::array();
  for (const auto& l : r.layer_utilization) layers.push_back({{"name", l.first}, {"utilization", l.second}});
  j["layers"] = layers;
  return j;
}

}  // namespace

void write_sweep_dir(const std::string& dir, const SweepTable& t, const nlohmann::json& shard,
                     const std::vector<std::string>& merged_from) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw ConfigError("--out " + dir + ": cannot create the folder (" + ec.message() + ")");
  write_file(dir + "/sweep.csv", sweep_csv(t));
  nlohmann::json j;
  j["format"] = "brsim-sweep/1";
  j["name"] = t.name;
  j["sweep_file"] = t.sweep_file;
  j["hash"] = t.hash;
  j["workload"] = t.workload;
  j["parameters"] = sweep_param_names();
  nlohmann::json points = nlohmann::json::array();
  for (size_t i = 0; i < t.params.size(); ++i) points.push_back({{"point", i}, {"params", t.params[i]}});
  j["points"] = points;
  j["shard"] = shard;
  if (!merged_from.empty()) j["merged_from"] = merged_from;
  const std::vector<bool> pareto = pareto_of_results(t.results);
  nlohmann::json results = nlohmann::json::array();
  for (size_t i = 0; i < t.results.size(); ++i) results.push_back(result_json(t.results[i], pareto[i]));
  j["results"] = results;
  write_file(dir + "/sweep.json", j.dump(1) + "\n");
  write_sweep_plots(dir, t);
}

SweepTable read_sweep_dir(const std::string& dir) {
  const std::string path = dir + "/sweep.json";
  if (!fs::is_regular_file(path)) throw ConfigError(dir + ": not a sweep folder (no sweep.json)");
  SweepTable t;
  try {
    const nlohmann::json j = nlohmann::json::parse(read_text(path));
    if (j.at("format") != "brsim-sweep/1") throw ConfigError("unknown format " + j.at("format").dump());
    if (j.at("parameters").get<std::vector<std::string>>() != sweep_param_names())
      throw ConfigError("written by a brsim with other sweep parameters");
    t.name = j.at("name").get<std::string>();
    t.hash = j.at("hash").get<std::string>();
    t.sweep_file = j.at("sweep_file").get<std::string>();
    t.workload = j.at("workload");
    for (const nlohmann::json& p : j.at("points")) {
      t.params.push_back(p.at("params").get<std::vector<std::string>>());
      if (t.params.back().size() != sweep_param_names().size()) throw ConfigError("a point with the wrong parameters");
    }
    for (const nlohmann::json& q : j.at("results")) {
      PointResult r;
      r.point = q.at("point").get<int>();
      if (r.point < 0 || static_cast<size_t>(r.point) >= t.params.size())
        throw ConfigError("result of point " + std::to_string(r.point) + " outside the sweep");
      r.ok = q.at("status") == "ok";
      r.error = q.at("error").get<std::string>();
      r.host_seconds = q.value("host_seconds", 0.0);
      if (r.ok) {
        r.cycles_per_image = q.at("cycles_per_image").get<uint64_t>();
        r.macs_per_image = q.at("macs_per_image").get<uint64_t>();
        r.latency_us = q.at("latency_us").get<double>();
        r.energy_pj_per_image = q.at("energy_pj_per_image").get<double>();
        r.pj_per_mac = q.at("pj_per_mac").get<double>();
        r.avg_power_mw = q.at("avg_power_mw").get<double>();
        r.area_um2 = q.at("area_um2").get<double>();
        r.utilization = q.at("utilization").get<double>();
        if (!q.at("top1").is_null()) r.top1 = q.at("top1").get<double>();
        for (const nlohmann::json& l : q.at("layers"))
          r.layer_utilization.emplace_back(l.at("name").get<std::string>(), l.at("utilization").get<double>());
      }
      t.results.push_back(r);
    }
  } catch (const nlohmann::json::exception& e) {
    throw ConfigError(path + ": malformed: " + e.what());
  } catch (const ConfigError& e) {
    throw ConfigError(path + ": " + e.what());
  }
  return t;
}

// ---------------------------------------------------------------- running

Shard parse_shard(const std::string& text) {
  const size_t s = text.find('/');
  Shard sh;
  bool good = s != std::string::npos && s > 0 && s + 1 < text.size() && s <= 6 && text.size() - s - 1 <= 6;
  for (size_t i = 0; good && i < text.size(); ++i) good = i == s || std::isdigit(static_cast<unsigned char>(text[i]));
  if (good) sh.index = std::stoi(text.substr(0, s)), sh.count = std::stoi(text.substr(s + 1));
  if (!good || sh.count < 1 || sh.index >= sh.count)
    throw ConfigError("invalid --shard '" + text + "': expected i/N with 0 <= i < N (0-based), e.g. 0/8");
  return sh;
}

namespace {

pid_t spawn_point(const std::vector<std::string>& argv, const std::string& dir) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  const std::string out = dir + "/stdout.json", err = dir + "/stderr.txt";
  posix_spawn_file_actions_addchdir_np(&fa, dir.c_str());
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&fa, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, argv[0].c_str(), &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) throw ConfigError("cannot start " + argv[0] + ": " + std::strerror(rc));
  return pid;
}

std::string shell_quote(const std::string& s) {
  if (!s.empty() && s.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./=:,+") ==
                        std::string::npos)
    return s;
  std::string o = "'";
  for (char c : s) o += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return o + "'";
}

}  // namespace

SweepTable run_sweep(const SweepSpec& s, const SweepRunOptions& o) {
  if (o.jobs < 1) throw ConfigError("invalid -j " + std::to_string(o.jobs) + ": expected >= 1");
  const fs::path out = fs::absolute(o.out).lexically_normal();
  std::error_code ec;
  if (fs::is_regular_file(out / "sweep.json")) fs::remove_all(out / "points", ec);  // a previous sweep's points
  fs::create_directories(out / "points", ec);
  if (ec) throw ConfigError("--out " + o.out + ": cannot create the folder (" + ec.message() + ")");

  std::vector<const SweepPoint*> todo;
  for (const SweepPoint& p : s.points)
    if (p.index % o.shard.count == o.shard.index) todo.push_back(&p);
  SweepProgress prog;
  prog.total = static_cast<int>(todo.size());
  struct Running {
    int point;
    std::string dir;
    std::chrono::steady_clock::time_point t0;
  };
  std::map<pid_t, Running> running;
  std::vector<PointResult> results;
  size_t next = 0;
  auto last_shown = std::chrono::steady_clock::now();
  auto show = [&](bool force) {  // on a change, and twice a second so the clock ticks
    const auto now = std::chrono::steady_clock::now();
    if (o.on_progress && (force || now - last_shown > std::chrono::milliseconds(500))) o.on_progress(prog), last_shown = now;
  };
  show(true);
  int nap_ms = 1;
  while (next < todo.size() || !running.empty()) {
    bool changed = false;
    while (next < todo.size() && running.size() < static_cast<size_t>(o.jobs)) {
      const SweepPoint& p = *todo[next++];
      const std::string dir = (out / "points" / point_dir_name(p.index)).string();
      fs::create_directories(dir, ec);
      write_file(dir + "/arch.yaml", "# sweep " + s.name + ", point " + std::to_string(p.index) + "\n" + arch_to_yaml(p.arch));
      std::vector<std::string> argv = point_argv(s, p, o.exe);
      // The points share the quantizer's search results (the same weights
      // under the same policy are searched once per sweep folder).
      argv.insert(argv.end(), {"--quant-cache", (out / "quant_cache").string()});
      std::string cmd = "cd " + shell_quote(dir) + " &&";
      for (const std::string& a : argv) cmd += " " + shell_quote(a);
      write_file(dir + "/command.txt", cmd + "\n");
      running[spawn_point(argv, dir)] = {p.index, dir, std::chrono::steady_clock::now()};
      changed = true;
    }
    // Reap finished points (ours only, by pid); nap 1..64 ms between polls.
    for (auto it = running.begin(); it != running.end();) {
      int status = 0;
      const pid_t pid = waitpid(it->first, &status, WNOHANG);
      if (pid == 0 || (pid < 0 && errno == EINTR)) {
        ++it;
        continue;
      }
      if (pid < 0) throw ConfigError(std::string("waiting for point ") + std::to_string(it->second.point) + ": " + std::strerror(errno));
      PointResult r = read_point_result(it->second.point, status, read_text(it->second.dir + "/stdout.json"),
                                        read_text(it->second.dir + "/stderr.txt"));
      r.host_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - it->second.t0).count();
      prog.done += 1, prog.failed += !r.ok;
      results.push_back(std::move(r));
      it = running.erase(it);
      changed = true;
    }
    prog.running = static_cast<int>(running.size());
    if (changed && next < todo.size()) continue;  // refill before showing
    show(changed);
    if (!changed && !running.empty()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(nap_ms));
      nap_ms = std::min(64, nap_ms * 2);
    } else {
      nap_ms = 1;
    }
  }
  std::sort(results.begin(), results.end(), [](const PointResult& a, const PointResult& b) { return a.point < b.point; });
  SweepTable t = table_of(s);
  t.results = std::move(results);
  write_sweep_dir(out.string(), t, {{"index", o.shard.index}, {"count", o.shard.count}});
  return t;
}

SweepTable merge_sweeps(const std::string& out, const std::vector<std::string>& dirs) {
  if (dirs.empty()) throw ConfigError("brsim sweep merge: give the shard folders to merge");
  std::vector<SweepTable> shards;
  for (const std::string& d : dirs) shards.push_back(read_sweep_dir(d));
  SweepTable t = shards[0];
  t.results.clear();
  std::map<int, size_t> from;  // point -> shard
  for (size_t k = 0; k < shards.size(); ++k) {
    if (shards[k].hash != t.hash || shards[k].params != t.params)
      throw ConfigError(dirs[k] + ": from a different sweep than " + dirs[0] + " (sweep '" + shards[k].name + "', hash " +
                        shards[k].hash + " vs '" + t.name + "', hash " + t.hash +
                        "); merge joins the shards of one sweep file");
    for (const PointResult& r : shards[k].results) {
      const auto ins = from.emplace(r.point, k);
      if (!ins.second)
        throw ConfigError("point " + std::to_string(r.point) + " is in both " + dirs[ins.first->second] + " and " +
                          dirs[k] + ": overlapping shards");
      t.results.push_back(r);
    }
  }
  std::vector<int> missing;
  for (int p = 0; p < static_cast<int>(t.params.size()); ++p)
    if (!from.count(p)) missing.push_back(p);
  if (!missing.empty()) {
    std::string list;
    for (size_t i = 0; i < missing.size() && i < 12; ++i) list += (i ? ", " : "") + std::to_string(missing[i]);
    if (missing.size() > 12) list += ", ...";
    throw ConfigError(std::to_string(missing.size()) + " of " + std::to_string(t.params.size()) +
                      " points missing (no shard ran them): " + list);
  }
  std::sort(t.results.begin(), t.results.end(), [](const PointResult& a, const PointResult& b) { return a.point < b.point; });
  const fs::path o = fs::absolute(out).lexically_normal();
  std::error_code ec;
  for (const std::string& d : dirs)
    if (fs::exists(o) && fs::equivalent(o, fs::absolute(d), ec))
      throw ConfigError("--out " + out + " is one of the shards; merge into a new folder");
  if (fs::is_regular_file(o / "sweep.json")) fs::remove_all(o / "points", ec);
  fs::create_directories(o / "points", ec);
  if (ec) throw ConfigError("--out " + out + ": cannot create the folder (" + ec.message() + ")");
  for (const auto& [point, k] : from) {
    const fs::path src = fs::path(dirs[k]) / "points" / point_dir_name(point);
    if (fs::is_directory(src))
      fs::copy(src, o / "points" / point_dir_name(point), fs::copy_options::recursive | fs::copy_options::overwrite_existing, ec);
  }
  write_sweep_dir(o.string(), t, nullptr, dirs);
  return t;
}

}  // namespace brsim
