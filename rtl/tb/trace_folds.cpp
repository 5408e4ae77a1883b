#include "trace_folds.h"

#include <map>
#include <stdexcept>

#include "brslog.h"

namespace rtlcheck {

std::vector<TraceFold> find_folds(const VcdReader& v, const std::string& path) {
  const int st = v.require("accelerator.controller.state"), fo = v.require("accelerator.controller.fold");
  std::vector<TraceFold> folds;
  VcdState s(v);
  uint64_t state = 0, fold = 0;
  bool have = false, open = false;
  for (uint64_t c = s.next_cycle(); c != UINT64_MAX; c = s.next_cycle()) {
    s.advance_to(c);
    const uint64_t ns = s.value(st), nf = s.value(fo);
    const bool changed = !have || ns != state || nf != fold;
    if (changed && open) {
      folds.back().end = c;
      open = false;
    }
    if (changed && ns == 2 && s.known(st)) {
      folds.push_back(TraceFold{c, 0});
      open = true;
    }
    state = ns, fold = nf, have = true;
  }
  if (open) throw std::runtime_error(path + ": the trace ends inside a fold");
  return folds;
}

bool invert_decoded(const std::vector<uint64_t>& regs, int bits, std::vector<uint32_t>* codes, int* n2_out, int* p_out) {
  for (int n2 = 0; n2 <= brsim::num_levels(bits); ++n2)
    for (int p = 0; p < 2; ++p) {
      const brsim::SegmentConfig cfg{bits, n2, p, 0};
      std::map<uint64_t, uint32_t> inv;
      for (uint32_t code = 0; code < (1u << bits); ++code)
        inv.emplace(brsim::register_bits(brsim::decode(code, cfg)), code);
      std::vector<uint32_t> out;
      out.reserve(regs.size());
      for (uint64_t r : regs) {
        const auto it = inv.find(r);
        if (it == inv.end()) break;
        out.push_back(it->second);
      }
      if (out.size() != regs.size()) continue;
      *codes = std::move(out);
      *n2_out = n2;
      *p_out = p;
      return true;
    }
  return false;
}

}  // namespace rtlcheck
