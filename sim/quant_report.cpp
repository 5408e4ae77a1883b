#include "quant_report.h"

#include <algorithm>
#include <cmath>

#include "text_table.h"

namespace brsim {

namespace {

bool is_fixed16(const QuantizedWeights& q) { return q.options.policy.kind == PolicyKind::Fixed16; }

std::string shape_string(const std::vector<int64_t>& shape) {
  std::string s;
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? "x" : "") + std::to_string(shape[i]);
  return s;
}

uint64_t count_of(const QuantizedWeights& q) {
  uint64_t n = 1;
  for (int64_t d : q.shape) n *= static_cast<uint64_t>(d);
  return n;
}

// JSON has no infinity: an exact quantization (mse = 0) reports sqnr_db null.
nlohmann::json finite_or_null(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }

void put_stats(nlohmann::json& j, const QuantStats& s) {
  j["mse"] = s.mse;
  j["sqnr_db"] = finite_or_null(s.sqnr_db);
  j["zero_fraction"] = s.zero_fraction;
}

void put_config(nlohmann::json& j, const SegmentConfig& c) {
  j["n2"] = c.n2;
  j["n1"] = c.n1();
  j["p"] = c.p;
  j["e_base"] = c.e_base;
}

std::string range_string(int lo, int hi) { return lo == hi ? std::to_string(lo) : std::to_string(lo) + ".." + std::to_string(hi); }

}  // namespace

void print_quant_table(const std::vector<QuantReportRow>& rows, std::ostream& os) {
  TextTable t({"layer", "shape", "policy", "n2:n1", "p", "e_base", "MSE", "SQNR (dB)", "zeros (%)",
               "weights (B)", "vs fp32"},
              {true, true, true, false, false, false, false, false, false, false, false});
  for (const QuantReportRow& r : rows) {
    const QuantizedWeights& q = r.weights;
    std::string ratio = "-", p = "-", e = "-";
    if (is_fixed16(q)) {
      ratio = "f_w=" + std::to_string(q.f_w);
    } else if (q.configs.size() == 1) {
      const SegmentConfig& c = q.configs[0];
      ratio = std::to_string(c.n2) + ":" + std::to_string(c.n1());
      p = std::to_string(c.p);
      e = std::to_string(c.e_base);
    } else {
      // Per-channel: the range over the channels.
      int n2lo = 1 << 20, n2hi = -1, plo = 1, phi = 0, elo = 1 << 20, ehi = -(1 << 20);
      for (const SegmentConfig& c : q.configs) {
        n2lo = std::min(n2lo, c.n2), n2hi = std::max(n2hi, c.n2);
        plo = std::min(plo, c.p), phi = std::max(phi, c.p);
        elo = std::min(elo, c.e_base), ehi = std::max(ehi, c.e_base);
      }
      ratio = "n2 " + range_string(n2lo, n2hi);
      p = range_string(plo, phi);
      e = range_string(elo, ehi);
    }
    const double fp32 = 4.0 * static_cast<double>(count_of(q));
    t.add_row({r.name, shape_string(q.shape), q.options.policy.name(), ratio, p, e, fmt_sci(q.stats.mse, 3),
               fmt_fixed(q.stats.sqnr_db, 2), fmt_fixed(q.stats.zero_fraction * 100.0, 2),
               std::to_string(q.storage_bytes()), fmt_fixed(fp32 / static_cast<double>(q.storage_bytes()), 2) + "x"});
  }
  t.print(os);
}

nlohmann::json quant_json(const std::vector<QuantReportRow>& rows) {
  nlohmann::json layers = nlohmann::json::array();
  for (const QuantReportRow& r : rows) {
    const QuantizedWeights& q = r.weights;
    nlohmann::json j;
    j["name"] = r.name;
    j["shape"] = q.shape;
    j["policy"] = q.options.policy.name();
    j["bits"] = is_fixed16(q) ? 16 : q.options.bits;
    j["sqrt2_terms"] = q.options.datapath.sqrt2_terms;
    j["codebook"] = to_string(q.options.codebook);
    j["rounding"] = to_string(q.options.rounding);
    j["granularity"] = to_string(q.options.granularity);
    if (is_fixed16(q)) {
      j["f_w"] = q.f_w;
      for (const char* k : {"n2", "n1", "p", "e_base"}) j[k] = nullptr;
    } else if (q.configs.size() == 1) {
      put_config(j, q.configs[0]);
    } else {
      for (const char* k : {"n2", "n1", "p", "e_base"}) j[k] = nullptr;
    }
    put_stats(j, q.stats);
    j["weights"] = count_of(q);
    j["weight_bytes"] = q.storage_bytes();
    j["fp32_bytes"] = 4 * count_of(q);
    j["compression"] = 4.0 * static_cast<double>(count_of(q)) / static_cast<double>(q.storage_bytes());
    j["histogram"] = q.stats.histogram;
    if (!is_fixed16(q) && q.configs.size() > 1) {
      nlohmann::json ch = nlohmann::json::array();
      for (size_t c = 0; c < q.configs.size(); ++c) {
        nlohmann::json cj;
        cj["channel"] = c;
        put_config(cj, q.configs[c]);
        put_stats(cj, q.channel_stats[c]);
        ch.push_back(cj);
      }
      j["channels"] = ch;
    }
    layers.push_back(j);
  }
  return nlohmann::json{{"layers", layers}};
}

void print_histogram(const QuantReportRow& row, std::ostream& os) {
  const QuantizedWeights& q = row.weights;
  if (q.stats.histogram.empty()) return;
  const int bits = q.options.bits;
  const uint64_t peak = *std::max_element(q.stats.histogram.begin(), q.stats.histogram.end());
  os << "code histogram of " << row.name << " (" << q.options.policy.name() << "), weights per code word:\n";
  // Signed magnitude order: most negative first, then zero, then positive.
  const int L = num_levels(bits);
  for (int v = -L; v <= L; ++v) {
    const uint32_t code = make_code(v < 0, v < 0 ? -v : v, bits);
    uint64_t n = q.stats.histogram[code];
    if (v == 0) n += q.stats.histogram[make_code(1, 0, bits)];
    const int bar = peak ? static_cast<int>(std::lround(50.0 * static_cast<double>(n) / static_cast<double>(peak))) : 0;
    char label[16];
    std::snprintf(label, sizeof label, "%+4d", v);
    os << "  j " << label << " " << std::string(static_cast<size_t>(bar), '#') << " " << n << "\n";
  }
}

}  // namespace brsim
