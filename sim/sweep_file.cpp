// Sweep files (`brsim sweep`, docs/sweeps.md): the YAML file, its
// parameters and workload, and their expansion into points in a fixed order.
#include "sweep.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>

#include "arch_yaml.h"
#include "errors.h"
#include "idx_dataset.h"
#include "memory_limit.h"
#include "quantizer.h"
#include "shape_limits.h"
#include "yaml_reader.h"

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

}  // namespace brsim
