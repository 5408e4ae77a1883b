#include "vcd_reader.h"

#include <fstream>
#include <numeric>
#include <sstream>
#include <stdexcept>
#include <unordered_map>

namespace rtlcheck {

namespace {
struct RawChange {
  uint64_t time;
  int signal;
  uint64_t value;
  bool known;
};
}  // namespace

VcdReader::VcdReader(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path + ": cannot open the VCD file");
  std::unordered_map<std::string, int> by_code;
  std::vector<std::string> scope;
  std::vector<RawChange> raw;
  std::string line;
  size_t line_no = 0;
  bool header = true;
  uint64_t time = 0;
  uint64_t stated_ticks = 0;  // ticks per cycle the file states, 0 if it does not
  auto fail = [&](const std::string& what) {
    throw std::runtime_error(path + ":" + std::to_string(line_no) + ": " + what);
  };
  auto parse_bits = [&](const std::string& bits, uint64_t* v, bool* known) {
    if (bits.size() > 64) fail("a value wider than 64 bits");
    *v = 0;
    *known = true;
    for (char ch : bits) {
      *v <<= 1;
      if (ch == '1') *v |= 1;
      else if (ch != '0') *known = false;
    }
  };
  while (std::getline(in, line)) {
    ++line_no;
    std::istringstream ls(line);
    std::string tok;
    if (!(ls >> tok)) continue;
    if (header) {
      if (tok == "$scope") {
        std::string kind, name;
        ls >> kind >> name;
        scope.push_back(name);
      } else if (tok == "$upscope") {
        if (scope.empty()) fail("$upscope without $scope");
        scope.pop_back();
      } else if (tok == "$var") {
        std::string kind, code, name;
        int width = 0;
        if (!(ls >> kind >> width >> code >> name) || width < 1) fail("malformed $var");
        if (width > 64) fail("signal " + name + " is wider than 64 bits");
        std::string full;
        for (const std::string& s : scope) full += s + ".";
        full += name;
        by_code[code] = static_cast<int>(signals_.size());
        by_name_[full] = static_cast<int>(signals_.size());
        signals_.push_back({full, width});
      } else if (tok == "$comment") {
        // brsim states the clock: "one clock cycle = 2000 ps = 2 x 1 ns".
        std::string rest;
        std::getline(in, rest);
        ++line_no;
        const size_t eq = rest.rfind("= ");
        const size_t x = rest.find(" x ", eq == std::string::npos ? 0 : eq);
        if (eq != std::string::npos && x != std::string::npos) {
          try {
            stated_ticks = std::stoull(rest.substr(eq + 2, x - eq - 2));
          } catch (const std::exception&) {
            stated_ticks = 0;
          }
        }
      } else if (tok == "$enddefinitions") {
        header = false;
      }
      continue;
    }
    const char c0 = tok[0];
    if (c0 == '$') continue;  // $dumpvars, $end, ...
    if (c0 == '#') {
      try {
        time = std::stoull(tok.substr(1));
      } catch (const std::exception&) {
        fail("malformed time '" + tok + "'");
      }
      continue;
    }
    RawChange ch{time, 0, 0, false};
    std::string code;
    if (c0 == 'b' || c0 == 'B') {
      if (!(ls >> code)) fail("vector value without an identifier");
      parse_bits(tok.substr(1), &ch.value, &ch.known);
    } else if (c0 == '0' || c0 == '1' || c0 == 'x' || c0 == 'X' || c0 == 'z' || c0 == 'Z') {
      code = tok.substr(1);
      parse_bits(tok.substr(0, 1), &ch.value, &ch.known);
    } else {
      fail("unexpected '" + tok + "'");
    }
    const auto it = by_code.find(code);
    if (it == by_code.end()) fail("unknown identifier '" + code + "'");
    ch.signal = it->second;
    raw.push_back(ch);
  }
  if (header) throw std::runtime_error(path + ": no $enddefinitions (not a VCD file?)");
  uint64_t g = 0;
  for (const RawChange& c : raw) g = std::gcd(g, c.time);
  ticks_ = stated_ticks ? stated_ticks : (g ? g : 1);
  if (g % ticks_ != 0)
    throw std::runtime_error(path + ": a time is not a whole number of clock cycles of " + std::to_string(ticks_) +
                             " ticks");
  changes_.reserve(raw.size());
  for (const RawChange& c : raw) changes_.push_back({c.time / ticks_, c.signal, c.value, c.known});
}

int VcdReader::find(const std::string& name) const {
  const auto it = by_name_.find(name);
  return it == by_name_.end() ? -1 : it->second;
}

int VcdReader::require(const std::string& name) const {
  const int s = find(name);
  if (s < 0) throw std::runtime_error("the VCD has no signal " + name);
  return s;
}

size_t VcdState::advance_to(uint64_t cycle) {
  size_t n = 0;
  const std::vector<VcdChange>& ch = r_.changes();
  while (next_ < ch.size() && ch[next_].cycle <= cycle) {
    const VcdChange& c = ch[next_++];
    value_[static_cast<size_t>(c.signal)] = c.value;
    known_[static_cast<size_t>(c.signal)] = c.known;
    ++n;
  }
  return n;
}

uint64_t VcdState::next_cycle() const {
  return next_ < r_.changes().size() ? r_.changes()[next_].cycle : UINT64_MAX;
}

}  // namespace rtlcheck
