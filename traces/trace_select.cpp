// Parsing and checking of the trace selection options (trace_select.h).
#include "trace_select.h"

#include <algorithm>
#include <cctype>
#include <sstream>

#include "errors.h"

namespace brsim {
namespace {

const char* const kBlockNames[kNumTraceBlocks] = {"controller", "dma", "decoder", "array"};

const char* const kBlocksSyntax =
    "expected 'all', 'none' or a comma list of controller,dma,decoder,array";
const char* const kPesSyntax =
    "expected 'all', 'none', or rows and columns like 'r0-r3,c0-c7', 'r2,c5' or 'r1-2'"
    " (both ends inclusive)";
const char* const kCyclesSyntax =
    "expected 'all', '<first>-<end>' (first inclusive, end exclusive, e.g. '1000-2000')"
    " or '<first>-' (to the end of the run)";
const char* const kLayerSyntax = "expected 'all', a layer index (e.g. '3') or a layer name";

std::string trim(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

std::string lower(std::string s) {
  for (char& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return s;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  for (char ch : s) {
    if (ch == sep) {
      out.push_back(trim(cur));
      cur.clear();
    } else {
      cur += ch;
    }
  }
  out.push_back(trim(cur));
  return out;
}

[[noreturn]] void fail(const char* option, const std::string& text, const char* syntax,
                       const std::string& why = "") {
  std::string msg = std::string(option) + ": '" + text + "' is not valid";
  if (!why.empty()) msg += " (" + why + ")";
  msg += "; ";
  msg += syntax;
  throw ConfigError(msg);
}

// A decimal number without sign; false on anything else or on overflow.
bool parse_u64(const std::string& s, uint64_t& out) {
  if (s.empty() || s.size() > 19) return false;
  uint64_t v = 0;
  for (char ch : s) {
    if (ch < '0' || ch > '9') return false;
    v = v * 10 + static_cast<uint64_t>(ch - '0');
  }
  out = v;
  return true;
}

bool parse_index(const std::string& s, int& out) {
  uint64_t v = 0;
  if (!parse_u64(s, v) || v > 1000000) return false;
  out = static_cast<int>(v);
  return true;
}

// "r3", "r0-r3", "r0-3" (prefix = 'r') into an inclusive range.
bool parse_pe_axis(const std::string& tok, char prefix, int& lo, int& hi) {
  if (tok.size() < 2 || tok[0] != prefix) return false;
  const std::string body = tok.substr(1);
  const size_t dash = body.find('-');
  if (dash == std::string::npos) {
    if (!parse_index(body, lo)) return false;
    hi = lo;
    return true;
  }
  std::string second = body.substr(dash + 1);
  if (!second.empty() && second[0] == prefix) second = second.substr(1);
  return parse_index(body.substr(0, dash), lo) && parse_index(second, hi);
}

}  // namespace

const char* trace_block_name(TraceBlock block) { return kBlockNames[static_cast<int>(block)]; }

int PeSelection::count(int rows, int cols) const {
  if (none || rows <= 0 || cols <= 0) return 0;
  const int r = std::max(0, std::min(row_hi, rows - 1) - row_lo + 1);
  const int c = std::max(0, std::min(col_hi, cols - 1) - col_lo + 1);
  return r * c;
}

uint64_t CycleWindow::cycles_within(uint64_t total) const {
  const uint64_t e = std::min(end, total);
  return e > begin ? e - begin : 0;
}

bool LayerSelector::matches(int layer_index, const std::string& layer_name) const {
  if (all) return true;
  return by_index ? layer_index == index : layer_name == name;
}

std::vector<TraceBlock> parse_trace_blocks(const std::string& text) {
  const std::string t = lower(trim(text));
  std::vector<TraceBlock> out;
  if (t.empty() || t == "all") {
    for (int i = 0; i < kNumTraceBlocks; ++i) out.push_back(static_cast<TraceBlock>(i));
    return out;
  }
  if (t == "none") return out;
  for (const std::string& tok : split(t, ',')) {
    int found = -1;
    for (int i = 0; i < kNumTraceBlocks; ++i)
      if (tok == kBlockNames[i]) found = i;
    if (found < 0)
      fail(kOptVcdBlocks, text, kBlocksSyntax,
           tok.empty() ? "empty item" : "unknown block '" + tok + "'");
    const auto b = static_cast<TraceBlock>(found);
    if (std::find(out.begin(), out.end(), b) == out.end()) out.push_back(b);
  }
  return out;
}

PeSelection parse_pe_selection(const std::string& text) {
  const std::string t = lower(trim(text));
  PeSelection sel;
  if (t.empty() || t == "all") return sel;
  if (t == "none") {
    sel.none = true;
    return sel;
  }
  bool have_row = false, have_col = false;
  for (const std::string& tok : split(t, ',')) {
    int lo = 0, hi = 0;
    if (!tok.empty() && tok[0] == 'r' && !have_row && parse_pe_axis(tok, 'r', lo, hi)) {
      if (hi < lo) fail(kOptVcdPes, text, kPesSyntax, "row range '" + tok + "' runs backwards");
      sel.row_lo = lo;
      sel.row_hi = hi;
      have_row = true;
    } else if (!tok.empty() && tok[0] == 'c' && !have_col && parse_pe_axis(tok, 'c', lo, hi)) {
      if (hi < lo) fail(kOptVcdPes, text, kPesSyntax, "column range '" + tok + "' runs backwards");
      sel.col_lo = lo;
      sel.col_hi = hi;
      have_col = true;
    } else {
      fail(kOptVcdPes, text, kPesSyntax, tok.empty() ? "empty item" : "cannot read '" + tok + "'");
    }
  }
  return sel;
}

CycleWindow parse_cycle_window(const std::string& text) {
  const std::string t = lower(trim(text));
  CycleWindow w;
  if (t.empty() || t == "all") return w;
  const size_t dash = t.find('-');
  if (dash == std::string::npos) fail(kOptVcdCycles, text, kCyclesSyntax, "no '-'");
  const std::string a = trim(t.substr(0, dash));
  const std::string b = trim(t.substr(dash + 1));
  if (!parse_u64(a, w.begin)) fail(kOptVcdCycles, text, kCyclesSyntax, "bad first cycle");
  if (b.empty()) return w;
  if (!parse_u64(b, w.end)) fail(kOptVcdCycles, text, kCyclesSyntax, "bad end cycle");
  if (w.end <= w.begin) fail(kOptVcdCycles, text, kCyclesSyntax, "the window is empty");
  return w;
}

LayerSelector parse_layer_selector(const std::string& text) {
  const std::string t = trim(text);
  LayerSelector sel;
  if (t.empty() || lower(t) == "all") return sel;
  sel.all = false;
  int idx = 0;
  if (parse_index(t, idx)) {
    sel.by_index = true;
    sel.index = idx;
    return sel;
  }
  if (t[0] == '-' || t.find_first_of(" \t,") != std::string::npos)
    fail(kOptVcdLayer, text, kLayerSyntax);
  sel.name = t;
  return sel;
}

TraceSelection TraceSelection::parse(const std::string& blocks, const std::string& pes,
                                     const std::string& cycles, const std::string& layer) {
  TraceSelection s;
  for (bool& b : s.blocks) b = false;
  for (TraceBlock b : parse_trace_blocks(blocks)) s.blocks[static_cast<int>(b)] = true;
  s.pes = parse_pe_selection(pes);
  s.cycles = parse_cycle_window(cycles);
  s.layer = parse_layer_selector(layer);
  return s;
}

void TraceSelection::check_array(int rows, int cols) const {
  if (pes.none) return;
  auto out_of = [&](int hi, int n) { return hi != PeSelection::kUnbounded && hi >= n; };
  auto lo_out = [&](int lo, int n) { return lo >= n; };
  if (out_of(pes.row_hi, rows) || lo_out(pes.row_lo, rows) || out_of(pes.col_hi, cols) ||
      lo_out(pes.col_lo, cols)) {
    std::ostringstream m;
    m << kOptVcdPes << ": the selection reaches outside the " << rows << " x " << cols
      << " array (rows r0-r" << rows - 1 << ", columns c0-c" << cols - 1 << ")";
    throw ConfigError(m.str());
  }
}

int TraceSelection::resolve_layer(const std::vector<std::string>& names) const {
  if (layer.all) return -1;
  if (layer.by_index) {
    if (layer.index < static_cast<int>(names.size())) return layer.index;
    std::ostringstream m;
    m << kOptVcdLayer << ": layer index " << layer.index << " does not exist; the network has "
      << names.size() << " layers (0-" << static_cast<int>(names.size()) - 1 << ")";
    throw ConfigError(m.str());
  }
  for (size_t i = 0; i < names.size(); ++i)
    if (names[i] == layer.name) return static_cast<int>(i);
  std::ostringstream m;
  m << kOptVcdLayer << ": no layer is named '" << layer.name << "'; the layers are:";
  for (size_t i = 0; i < names.size(); ++i) m << (i ? ", " : " ") << names[i];
  throw ConfigError(m.str());
}

}  // namespace brsim
