// Per-layer quantization reports (readable table and JSON), shared by
// `brsim quantize` on the demo tensor and on imported models.
#pragma once

#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <vector>

#include "quantizer.h"

namespace brsim {

struct QuantReportRow {
  std::string name;
  QuantizedWeights weights;
};

void print_quant_table(const std::vector<QuantReportRow>& rows, std::ostream& os);
// {"layers": [{"name", "policy", "n2", "n1", "p", "e_base", "mse", "sqnr_db", ...}]}
nlohmann::json quant_json(const std::vector<QuantReportRow>& rows);
// A code histogram as text bars, code word by code word.
void print_histogram(const QuantReportRow& row, std::ostream& os);

}  // namespace brsim
