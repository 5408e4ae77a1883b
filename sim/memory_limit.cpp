#include "memory_limit.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>

#include "errors.h"
#include "shape_limits.h"

namespace brsim {

namespace {
uint64_t g_limit = 0;  // 0: not set yet (the default applies)
}

uint64_t default_memory_limit() {
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  const uint64_t eight = 8ull << 30;
  if (pages <= 0 || page <= 0) return 4ull << 30;
  const uint64_t half = static_cast<uint64_t>(pages) / 2 * static_cast<uint64_t>(page);
  return std::min(half, eight);
}

uint64_t memory_limit() { return g_limit ? g_limit : default_memory_limit(); }
void set_memory_limit(uint64_t bytes) { g_limit = bytes; }

uint64_t parse_memory_size(const std::string& text) {
  const std::string expected = "invalid --max-memory '" + text +
                               "': expected a size such as 512M, 4G or 1.5GiB (K, M, G, T: powers of 1024; a plain "
                               "number is bytes) between 1M and 1024T";
  size_t used = 0;
  double v = 0;
  try {
    v = std::stod(text, &used);
  } catch (const std::exception&) {
    throw ConfigError(expected);
  }
  std::string unit = text.substr(used);
  if (unit.size() == 3 && unit.substr(1) == "iB") unit = unit.substr(0, 1);
  if (unit.size() == 2 && unit[1] == 'B') unit = unit.substr(0, 1);
  double scale = 1;
  if (unit.empty() || unit == "B") scale = 1;
  else if (unit == "K" || unit == "k") scale = 1024.0;
  else if (unit == "M" || unit == "m") scale = 1024.0 * 1024;
  else if (unit == "G" || unit == "g") scale = 1024.0 * 1024 * 1024;
  else if (unit == "T" || unit == "t") scale = 1024.0 * 1024 * 1024 * 1024;
  else throw ConfigError(expected);
  const double bytes = v * scale;
  if (!std::isfinite(bytes) || bytes < 1024.0 * 1024 || bytes > 1024.0 * 1024 * 1024 * 1024 * 1024)
    throw ConfigError(expected);
  return static_cast<uint64_t>(bytes);
}

std::string format_bytes(uint64_t b) {
  char buf[64];
  if (b == UINT64_MAX) return "more than 16 EiB";
  const double x = static_cast<double>(b);
  if (b >= (1ull << 40)) std::snprintf(buf, sizeof buf, "%.2f TiB", x / (1ull << 40));
  else if (b >= (1ull << 30)) std::snprintf(buf, sizeof buf, "%.2f GiB", x / (1ull << 30));
  else if (b >= (1ull << 20)) std::snprintf(buf, sizeof buf, "%.1f MiB", x / (1ull << 20));
  else if (b >= (1ull << 10)) std::snprintf(buf, sizeof buf, "%.1f KiB", x / (1ull << 10));
  else std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(b));
  return buf;
}

void add_max_memory_option(CLI::App* cmd) {
  cmd->add_option_function<std::string>(
      "--max-memory", [](const std::string& s) { set_memory_limit(parse_memory_size(s)); },
      "Refuse work estimated to need more memory than SIZE (e.g. 16G; default: half the physical memory, at most "
      "8G)");
}

void check_memory(uint64_t estimate, const std::string& what) {
  const uint64_t limit = memory_limit();
  if (estimate > limit)
    throw ConfigError(what + " needs about " + format_bytes(estimate) + " of memory, above the limit of " +
                      format_bytes(limit) + ": use smaller inputs, or raise the limit with --max-memory SIZE");
}

uint64_t network_memory_estimate(const Network& net, uint64_t images) {
  // Per value: float weights (4), the quantizer's double copy and codes (8 + 8).
  uint64_t weights = 0, acts = static_cast<uint64_t>(std::max<int64_t>(net.input.numel(), 0)), widest = acts;
  for (const Layer& l : net.layers) {
    weights = saturating_add(weights, saturating_mul(l.weights.size() + l.bias.size(), 20));
    const uint64_t n = static_cast<uint64_t>(std::max<int64_t>(l.out.numel(), 0));
    acts = saturating_add(acts, n);
    widest = std::max(widest, n);
  }
  // Per image: every tensor as int32 for the scoreboard, the float input;
  // once: float inference's widest pair of tensors, per worker (at most 8x).
  const uint64_t per_image = saturating_add(saturating_mul(acts, 4), saturating_mul(net.input.numel(), 4));
  return saturating_add(saturating_add(weights, saturating_mul(per_image, images)), saturating_mul(widest, 8 * 8));
}

}  // namespace brsim
