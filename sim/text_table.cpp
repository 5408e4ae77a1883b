#include "text_table.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace brsim {

TextTable::TextTable(std::vector<std::string> headers, std::vector<bool> left_aligned)
    : headers_(std::move(headers)), left_(std::move(left_aligned)) {
  left_.resize(headers_.size(), false);
}

void TextTable::add_row(std::vector<std::string> cells) {
  cells.resize(headers_.size());
  rows_.push_back(std::move(cells));
}

void TextTable::print(std::ostream& os) const {
  std::vector<size_t> width(headers_.size());
  for (size_t c = 0; c < headers_.size(); ++c) {
    width[c] = headers_[c].size();
    for (const auto& r : rows_) width[c] = std::max(width[c], r[c].size());
  }
  auto line = [&](const std::vector<std::string>& cells) {
    std::string out;
    for (size_t c = 0; c < cells.size(); ++c) {
      const std::string pad(width[c] - cells[c].size(), ' ');
      if (c) out += "  ";
      out += left_[c] ? cells[c] + pad : pad + cells[c];
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    os << out << '\n';
  };
  line(headers_);
  size_t total = 0;
  for (size_t c = 0; c < width.size(); ++c) total += width[c] + (c ? 2 : 0);
  os << std::string(total, '-') << '\n';
  for (const auto& r : rows_) line(r);
}

namespace {
std::string printf_double(const char* f, int n, double v) {
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  if (std::isnan(v)) return "nan";
  char buf[64];
  std::snprintf(buf, sizeof buf, f, n, v);
  return buf;
}
}  // namespace

std::string fmt_fixed(double v, int decimals) { return printf_double("%.*f", decimals, v); }
std::string fmt_general(double v, int significant) { return printf_double("%.*g", significant, v); }
std::string fmt_sci(double v, int significant) { return printf_double("%.*e", significant - 1, v); }

}  // namespace brsim
