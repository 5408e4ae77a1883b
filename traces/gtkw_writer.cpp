// GTKWave save file writer (gtkw_writer.h). Format as GTKWave 3.3 reads it
// (savefile.c: parsewavline): "[key] value" settings, "@<hex flags>" sets the
// flags of the traces that follow, "-label" adds a blank/label row, which the
// group flags turn into a group start or end, and a bare name adds a trace.
#include "gtkw_writer.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>

#include "errors.h"

namespace brsim {
namespace {

// GTKWave's TR_* trace flag bits (analyzer.h).
constexpr uint64_t kTrHex = 0x2, kTrDec = 0x4, kTrBin = 0x8, kTrRjustify = 0x20;
constexpr uint64_t kTrBlank = 0x200, kTrSigned = 0x400;
constexpr uint64_t kTrGrpBegin = 0x800000, kTrGrpEnd = 0x1000000;

std::string display_path(const std::string& p, bool absolute) {
  if (!absolute) return p;
  std::error_code ec;
  const std::filesystem::path a = std::filesystem::absolute(p, ec);
  return ec ? p : a.lexically_normal().string();
}

std::string hex(uint64_t v) {
  char tmp[24];
  std::snprintf(tmp, sizeof(tmp), "%llx", static_cast<unsigned long long>(v));
  return tmp;
}

std::string join(const std::vector<std::string>& parts, size_t from) {
  std::string s;
  for (size_t i = from; i < parts.size(); ++i) s += (i > from ? "." : "") + parts[i];
  return s;
}

}  // namespace

uint64_t gtkw_trace_flags(TraceRadix radix, int width) {
  switch (radix) {
    case TraceRadix::Hex:
      return kTrHex | kTrRjustify;
    case TraceRadix::Dec:
      return kTrDec | kTrRjustify;
    case TraceRadix::Signed:
      return kTrSigned | kTrRjustify;
    case TraceRadix::Bin:
      return kTrBin | kTrRjustify;
    case TraceRadix::Auto:
      break;
  }
  return (width == 1 ? kTrBin : kTrHex) | kTrRjustify;
}

std::string render_gtkw(const std::string& gtkw_path, const std::string& vcd_path,
                        const std::vector<TraceSignal>& signals, const GtkwOptions& options) {
  std::string out;
  out += "[*] brsim trace view: gtkwave " + gtkw_path + "\n";
  out += "[dumpfile] \"" + display_path(vcd_path, options.absolute_paths) + "\"\n";
  out += "[savefile] \"" + display_path(gtkw_path, options.absolute_paths) + "\"\n";
  out += "[timestart] " + std::to_string(options.time_start) + "\n";

  // Open the hierarchy in the signal search tree, every scope once.
  std::set<std::string> opened;
  for (const TraceSignal& s : signals) {
    std::string prefix;
    for (const std::string& part : s.scope) {
      prefix += part + ".";
      if (opened.insert(prefix).second) out += "[treeopen] " + prefix + "\n";
    }
  }

  // Groups: scopes in order of first appearance, each with its signals.
  std::map<std::vector<std::string>, size_t> group_of;
  std::vector<std::vector<size_t>> members;
  for (size_t i = 0; i < signals.size(); ++i) {
    auto it = group_of.emplace(signals[i].scope, members.size()).first;
    if (it->second == members.size()) members.emplace_back();
    members[it->second].push_back(i);
  }
  for (const std::vector<size_t>& group : members) {
    const std::vector<std::string>& scope = signals[group.front()].scope;
    const std::string label = scope.size() > 1 ? join(scope, 1) : join(scope, 0);
    out += "@" + hex(kTrGrpBegin | kTrBlank) + "\n-" + label + "\n";
    uint64_t flags = 0;
    for (size_t i : group) {
      const TraceSignal& s = signals[i];
      const uint64_t f = gtkw_trace_flags(s.radix, s.width);
      if (f != flags) out += "@" + hex(f) + "\n";
      flags = f;
      out += s.gtkwave_name() + "\n";
    }
    out += "@" + hex(kTrGrpEnd | kTrBlank) + "\n-" + label + "\n";
  }
  return out;
}

void write_gtkw(const std::string& gtkw_path, const std::string& vcd_path,
                const std::vector<TraceSignal>& signals, const GtkwOptions& options) {
  const std::string text = render_gtkw(gtkw_path, vcd_path, signals, options);
  std::FILE* f = std::fopen(gtkw_path.c_str(), "wb");
  if (!f)
    throw ConfigError("--vcd: cannot open '" + gtkw_path +
                      "' for writing: " + std::strerror(errno));
  const bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  if (std::fclose(f) != 0 || !ok)
    throw ConfigError("--vcd: writing '" + gtkw_path + "' failed: " + std::strerror(errno));
}

}  // namespace brsim
