// Reading, summarizing and comparing the hardware results (hw_report.h).
#include <algorithm>
#include <cmath>
#include <fstream>

#include "errors.h"
#include "hw_report.h"

namespace brsim {

namespace {

using nlohmann::json;

// Field access that names the file and the field on every error.
class ResultsReader {
 public:
  explicit ResultsReader(std::string file) : file_(std::move(file)) {}
  [[noreturn]] void fail(const std::string& field, const std::string& what) const {
    throw ConfigError(file_ + ": field '" + field + "': " + what);
  }
  const json& at(const json& j, const std::string& key, const std::string& field) const {
    if (!j.is_object() || !j.contains(key)) fail(field, "missing");
    return j.at(key);
  }
  uint64_t count(const json& j, const std::string& key, const std::string& field) const {
    const json& v = at(j, key, field);
    if (!v.is_number_unsigned() && !(v.is_number_integer() && v.get<int64_t>() >= 0))
      fail(field, "expected a non-negative integer");
    return v.get<uint64_t>();
  }
  std::string text(const json& j, const std::string& key, const std::string& field) const {
    const json& v = at(j, key, field);
    if (!v.is_string()) fail(field, "expected a string");
    return v.get<std::string>();
  }

 private:
  std::string file_;
};

const char* kPathNames[3] = {"zero", "pow2", "sqrt2"};

}  // namespace

HwSwitching HwResults::ae_total() const {
  HwSwitching t;
  for (const HwSwitching& s : ae) {
    t.ops += s.ops;
    t.toggles += s.toggles;
    t.load_toggles += s.load_toggles;
  }
  return t;
}

const HwDesign& HwResults::design(const std::string& name) const {
  const auto it = designs.find(name);
  if (it == designs.end()) throw ConfigError(path + ": field 'designs." + name + "': missing");
  return it->second;
}

HwResults load_hw_results(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw ConfigError(path + ": cannot open the hardware results (rtl/measure.sh writes them)");
  json j;
  try {
    j = json::parse(in);
  } catch (const json::exception& e) {
    throw ConfigError(path + ": not valid JSON: " + e.what());
  }
  const ResultsReader rd(path);
  if (rd.text(j, "format", "format") != "brsim-hw-results-1")
    rd.fail("format", "expected brsim-hw-results-1");
  HwResults r;
  r.path = path;
  const json& tools = rd.at(j, "tools", "tools");
  r.yosys = rd.text(tools, "yosys", "tools.yosys");
  r.verilator = rd.text(tools, "verilator", "tools.verilator");
  r.flow = rd.text(j, "flow", "flow");
  const json& dp = rd.at(j, "datapath", "datapath");
  r.bits = static_cast<int>(rd.count(dp, "bits", "datapath.bits"));
  r.sqrt2_terms = static_cast<int>(rd.count(dp, "sqrt2_terms", "datapath.sqrt2_terms"));
  r.act_bits = static_cast<int>(rd.count(dp, "act_bits", "datapath.act_bits"));
  r.shift_bits = static_cast<int>(rd.count(dp, "shift_bits", "datapath.shift_bits"));
  r.acc_bits = static_cast<int>(rd.count(dp, "acc_bits", "datapath.acc_bits"));
  const json& ds = rd.at(j, "designs", "designs");
  if (!ds.is_object()) rd.fail("designs", "expected a mapping");
  for (const auto& [name, d] : ds.items()) {
    const std::string f = "designs." + name;
    HwDesign h;
    h.cells = rd.count(d, "cells", f + ".cells");
    h.flip_flops = rd.count(d, "flip_flops", f + ".flip_flops");
    h.transistors = rd.count(d, "transistors", f + ".transistors");
    const json& types = rd.at(d, "cell_types", f + ".cell_types");
    for (const auto& [t, n] : types.items()) h.cell_types[t] = rd.count(types, t, f + ".cell_types." + t);
    r.designs[name] = h;
  }
  const json& sw = rd.at(j, "switching", "switching");
  r.model = rd.text(sw, "model", "switching.model");
  r.layer = rd.text(sw, "layer", "switching.layer");
  r.array = rd.text(sw, "array", "switching.array");
  r.pes_traced = rd.count(sw, "pes_traced", "switching.pes_traced");
  r.folds = rd.count(sw, "folds", "switching.folds");
  r.layer_macs = rd.count(sw, "layer_macs", "switching.layer_macs");
  r.vectors_checked = rd.count(sw, "vectors_checked", "switching.vectors_checked");
  const json& seg = rd.at(sw, "segment_config", "switching.segment_config");
  r.n2 = static_cast<int>(rd.count(seg, "n2", "switching.segment_config.n2"));
  r.p = static_cast<int>(rd.count(seg, "p", "switching.segment_config.p"));
  const json& ae = rd.at(sw, "brslog_ae", "switching.brslog_ae");
  for (int q = 0; q < 3; ++q) {
    const std::string n = kPathNames[q];
    r.ae[q].ops = rd.count(rd.at(ae, "ops", "switching.brslog_ae.ops"), n, "switching.brslog_ae.ops." + n);
    r.ae[q].toggles = rd.count(rd.at(ae, "toggles", "switching.brslog_ae.toggles"), n, "switching.brslog_ae.toggles." + n);
    r.ae[q].load_toggles =
        rd.count(rd.at(ae, "load_toggles", "switching.brslog_ae.load_toggles"), n, "switching.brslog_ae.load_toggles." + n);
  }
  auto one = [&](const std::string& key, const std::string& ops_key) {
    const json& s = rd.at(sw, key, "switching." + key);
    HwSwitching h;
    h.ops = rd.count(s, ops_key, "switching." + key + "." + ops_key);
    h.toggles = rd.count(s, "toggles", "switching." + key + ".toggles");
    h.load_toggles = rd.count(s, "load_toggles", "switching." + key + ".load_toggles");
    return h;
  };
  r.mul = one("fixed16_mul", "ops");
  r.decoder = one("brslog_decoder", "decodes");
  if (r.mul.ops == 0 || r.ae_total().ops == 0 || r.decoder.ops == 0) rd.fail("switching", "no operations measured");
  for (const char* d : {"fixed16_mul", "brslog_ae", "brslog_ae_dec", "brslog_decoder", "brslog_pe", "fixed16_pe"})
    if (!r.designs.count(d)) rd.fail(std::string("designs.") + d, "missing");
  return r;
}

HwFigures hw_figures(const HwResults& r) {
  HwFigures f;
  auto t = [&](const char* n) { return static_cast<double>(r.design(n).transistors); };
  f.mul_t = t("fixed16_mul");
  f.ae_t = t("brslog_ae");
  f.ae_dec_t = t("brslog_ae_dec");
  f.dec_t = t("brslog_decoder");
  f.pe_brslog_t = t("brslog_pe");
  f.pe_fixed16_t = t("fixed16_pe");
  double sum = 0;
  for (const auto& [name, d] : r.designs) {
    if (name.rfind("brslog_decoder_fixed_", 0) != 0) continue;
    const double x = static_cast<double>(d.transistors);
    f.fixed_dec_min = f.fixed_decoders ? std::min(f.fixed_dec_min, x) : x;
    f.fixed_dec_max = std::max(f.fixed_dec_max, x);
    sum += x;
    ++f.fixed_decoders;
  }
  f.fixed_dec_mean = f.fixed_decoders ? sum / f.fixed_decoders : 0.0;
  f.reconfig_t = f.fixed_decoders ? f.dec_t - f.fixed_dec_mean : 0.0;
  f.area_ae = f.ae_t / f.mul_t;
  f.area_ae_dec = f.ae_dec_t / f.mul_t;
  f.area_pe = f.pe_brslog_t / f.pe_fixed16_t;
  const HwSwitching ae = r.ae_total();
  f.toggle_ratio = ae.toggles_per_op() / r.mul.toggles_per_op();
  f.power_ratio = ae.load_per_op() / r.mul.load_per_op();
  for (int k = 1; k <= 7; ++k) {
    const std::string n = k == r.sqrt2_terms ? "brslog_ae" : "brslog_ae_k" + std::to_string(k);
    const auto it = r.designs.find(n);
    if (it != r.designs.end()) f.ae_by_k[static_cast<size_t>(k)] = static_cast<double>(it->second.transistors);
  }
  return f;
}

std::string compare_hw_results(const HwResults& fresh, const HwResults& committed, bool* identical) {
  *identical = fresh.yosys == committed.yosys;
  if (!*identical) {
    const HwFigures a = hw_figures(fresh), b = hw_figures(committed);
    const std::pair<const char*, std::pair<double, double>> ratios[] = {
        {"AE / multiplier area", {a.area_ae, b.area_ae}},
        {"AE with decoder / multiplier area", {a.area_ae_dec, b.area_ae_dec}},
        {"AE / multiplier switching (load-weighted)", {a.power_ratio, b.power_ratio}}};
    for (const auto& [what, v] : ratios)
      if (std::fabs(v.first - v.second) > 0.03)
        return std::string(what) + ": " + std::to_string(v.first) + " here, " + std::to_string(v.second) + " in " +
               committed.path + " (" + fresh.yosys + " vs " + committed.yosys + ")";
    return "";
  }
  auto diff = [&](const std::string& field, uint64_t x, uint64_t y) {
    return field + ": " + std::to_string(x) + " here, " + std::to_string(y) + " in " + committed.path;
  };
  for (const auto& [name, d] : committed.designs) {
    const auto it = fresh.designs.find(name);
    if (it == fresh.designs.end()) return "designs." + name + ": in " + committed.path + " but not measured here";
    const HwDesign& e = it->second;
    if (e.transistors != d.transistors) return diff("designs." + name + ".transistors", e.transistors, d.transistors);
    if (e.cells != d.cells) return diff("designs." + name + ".cells", e.cells, d.cells);
    if (e.flip_flops != d.flip_flops) return diff("designs." + name + ".flip_flops", e.flip_flops, d.flip_flops);
    if (e.cell_types != d.cell_types) return "designs." + name + ".cell_types differ from " + committed.path;
  }
  for (const auto& [name, d] : fresh.designs)
    if (!committed.designs.count(name)) return "designs." + name + ": measured here but not in " + committed.path;
  const std::pair<std::string, std::pair<uint64_t, uint64_t>> counts[] = {
      {"switching.layer_macs", {fresh.layer_macs, committed.layer_macs}},
      {"switching.pes_traced", {fresh.pes_traced, committed.pes_traced}},
      {"switching.folds", {fresh.folds, committed.folds}},
      {"switching.fixed16_mul.ops", {fresh.mul.ops, committed.mul.ops}},
      {"switching.fixed16_mul.toggles", {fresh.mul.toggles, committed.mul.toggles}},
      {"switching.fixed16_mul.load_toggles", {fresh.mul.load_toggles, committed.mul.load_toggles}},
      {"switching.brslog_decoder.decodes", {fresh.decoder.ops, committed.decoder.ops}},
      {"switching.brslog_decoder.toggles", {fresh.decoder.toggles, committed.decoder.toggles}},
      {"switching.brslog_decoder.load_toggles", {fresh.decoder.load_toggles, committed.decoder.load_toggles}}};
  for (const auto& [field, v] : counts)
    if (v.first != v.second) return diff(field, v.first, v.second);
  for (int q = 0; q < 3; ++q) {
    auto name = [&](const char* what) { return std::string("switching.brslog_ae.") + what + "." + kPathNames[q]; };
    if (fresh.ae[q].ops != committed.ae[q].ops) return diff(name("ops"), fresh.ae[q].ops, committed.ae[q].ops);
    if (fresh.ae[q].toggles != committed.ae[q].toggles)
      return diff(name("toggles"), fresh.ae[q].toggles, committed.ae[q].toggles);
    if (fresh.ae[q].load_toggles != committed.ae[q].load_toggles)
      return diff(name("load_toggles"), fresh.ae[q].load_toggles, committed.ae[q].load_toggles);
  }
  return "";
}

}  // namespace brsim
