// A readable fixed-width table for the terminal: a header row, a rule, and
// right-aligned columns (left-aligned where asked).
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace brsim {

class TextTable {
 public:
  explicit TextTable(std::vector<std::string> headers, std::vector<bool> left_aligned = {});
  void add_row(std::vector<std::string> cells);
  void print(std::ostream& os) const;

 private:
  std::vector<std::string> headers_;
  std::vector<bool> left_;
  std::vector<std::vector<std::string>> rows_;
};

// Number formatting shared by the reports.
std::string fmt_fixed(double v, int decimals);
std::string fmt_general(double v, int significant);  // %.Ng
std::string fmt_sci(double v, int significant);      // %.Ne

}  // namespace brsim
