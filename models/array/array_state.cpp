#include "array_state.h"

#include <algorithm>

namespace brsim {

namespace {
inline uint64_t pop(uint64_t x) { return static_cast<uint64_t>(__builtin_popcountll(x)); }
}  // namespace

ArrayState::ArrayState(const ArrayShape& s) : shape(s), R(static_cast<int>(s.R)), C(static_cast<int>(s.C)) {
  const size_t n = static_cast<size_t>(R) * static_cast<size_t>(C);
  weff.assign(n, 0);
  dec.assign(n, DecodedWeight{});
  ring_len = static_cast<size_t>(C) + 1024;
  act_ring.assign(static_cast<size_t>(R) * ring_len, 0);
  base = ring_len - static_cast<size_t>(C);
  act_reg.assign(n, 0);
  psum.assign(n, 0);
  prod.assign(n, 0);
  feed.assign(static_cast<size_t>(R), 0);
  zero_row.assign(static_cast<size_t>(C), 0);
}

void ArrayState::clear_for_ws_stream(bool activity, FoldCounters* c) {
  const uint64_t am = act_mask(), cm = acc_mask();
  if (activity)
    for (int r = 0; r < R; ++r)
      for (int col = 0; col < C; ++col) {
        const size_t i = static_cast<size_t>(r * C + col);
        c->toggles_act += pop(static_cast<uint64_t>(act_at(r, col)) & am);
        c->toggles_product += pop(static_cast<uint64_t>(prod[i]) & cm);
        c->toggles_psum += pop(static_cast<uint64_t>(psum[i]) & cm);
      }
  std::fill(act_ring.begin(), act_ring.end(), 0);
  base = ring_len - static_cast<size_t>(C);
  std::fill(psum.begin(), psum.end(), 0);
  std::fill(prod.begin(), prod.end(), 0);
}

void ArrayState::clear_for_df_stream(bool activity, FoldCounters* c) {
  sync_weights();
  const size_t n = psum.size();
  const uint64_t am = acc_mask();
  if (df_clear) {  // after a fast fold only PE (R-1, C-1) holds a product and a sum
    if (activity) {
      c->toggles_product += pop(static_cast<uint64_t>(prod[n - 1]) & am);
      c->toggles_psum += pop(static_cast<uint64_t>(psum[n - 1]) & am);
    }
    prod[n - 1] = psum[n - 1] = 0;
  } else {
    const bool os = shape.flow == Dataflow::OutputStationary;
    if (activity)
      for (size_t i = 0; i < n; ++i) {
        c->toggles_product += pop(static_cast<uint64_t>(prod[i]) & am);
        c->toggles_psum += pop(static_cast<uint64_t>(psum[i]) & am);
        c->toggles_weight += pop(weight_bits(i) ^ empty_weight_bits());
        if (os) c->toggles_act += pop(static_cast<uint64_t>(act_reg[i]) & act_mask());
      }
    std::fill(prod.begin(), prod.end(), 0);
    std::fill(psum.begin(), psum.end(), 0);
    std::fill(weff.begin(), weff.end(), 0);
    std::fill(dec.begin(), dec.end(), DecodedWeight{});
    if (os) std::fill(act_reg.begin(), act_reg.end(), 0);
  }
  df_clear = false;
}

}  // namespace brsim
