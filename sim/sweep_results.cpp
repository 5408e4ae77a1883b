// Sweep results (docs/sweeps.md): one point's result read from its
// subprocess, the Pareto front, sweep.csv and sweep.json, the point labels of
// the plots.
#include "sweep.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>
#include <sstream>

#include "errors.h"
#include "svg_plot.h"
#include "file_io.h"
#include "text_table.h"

namespace brsim {

namespace fs = std::filesystem;

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

}  // namespace

std::string fmt_num(double v) { return fmt_general(v, 12); }

std::string point_dir_name(int point) {
  char b[16];
  std::snprintf(b, sizeof b, "%04d", point);
  return b;
}



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
}  // namespace brsim
