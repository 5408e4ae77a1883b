#include "layer_plan.h"

#include "dma_timeline.h"
#include "memo.h"

namespace brsim {

namespace {

// The plan on a timeline in cycles from the layer's start: t advances by the
// folds' and output stages' cycles and by stalls; a transfer's ticket is the
// cycle it is done on its channel.
struct Timeline {
  using Ticket = uint64_t;
  const LayerPlan& plan;
  LayerCycles cy;
  uint64_t t = 0;
  DmaTimeline channel[2];  // read, write
  Ticket issue(uint64_t bytes, bool write) {
    const DramConfig& m = plan.a.dram;
    const uint64_t latency = static_cast<uint64_t>(m.latency_cycles);
    return channel[write].complete(t, latency, dram_cycles(bytes, m) - latency);
  }
  Ticket read(const Chunk& c) { return issue(c.bytes, false); }
  Ticket write(const Chunk& c, uint64_t) { return issue(c.bytes, true); }
  void await(Ticket done) {
    if (done > t) {
      cy.stall += done - t;
      t = done;
    }
  }
  void params(uint64_t, Ticket) {}
  void input(uint32_t, uint32_t, uint64_t, const std::vector<Ticket>&) {}
  void tile(uint64_t, uint32_t, uint32_t) {}
  void weights(uint64_t, uint32_t, uint64_t, const std::vector<Ticket>&, uint64_t) {}
  void fold(const PlanFold& f) {
    const Schedule& s = plan.s;
    const FoldTiming ft = fold_timing(s.flow, static_cast<uint64_t>(s.rows), static_cast<uint64_t>(s.cols),
                                      s.load_rows(f.j), s.tile_cols(f.mt), f.p);
    cy.weight_load += ft.load;
    cy.compute += ft.stream;
    cy.drain += ft.drain();
    t += ft.edges();
  }
  void tile_done(uint64_t, uint32_t, uint32_t) {}
  void spill(uint64_t, uint32_t, uint32_t) {}
  void refill(uint64_t, uint32_t, uint32_t, const std::vector<Ticket>&) {}
  void output_stage(uint64_t mt, uint32_t b, uint32_t st) {
    stage(output_stage_cycles(plan.batch_pixels(b, st), plan.s.lane_groups(mt)));
  }
  void pool_stage(uint64_t mt, uint32_t py0, uint32_t py1) {
    stage(pool_stage_cycles(plan.d, plan.s.lane_groups(mt), py1 - py0));
  }
  void stage(uint64_t n) {
    cy.output += n;
    t += n;
  }
  void done() { await(std::max(channel[0].free, channel[1].free)); }
  // walk_one_pixel()'s
  uint64_t now() const { return t; }
  void catch_up(uint64_t to, uint64_t stalled) { cy.stall += stalled, t = to; }
  uint64_t book_load(uint64_t bytes, uint64_t at) {
    const DramConfig& m = plan.a.dram;
    const uint64_t latency = static_cast<uint64_t>(m.latency_cycles);
    if (bytes != load_bytes) load_bytes = bytes, load_data = dram_cycles(bytes, m) - latency;  // (loads come alike)
    return channel[0].complete(at, latency, load_data);
  }
  uint64_t load_bytes = ~uint64_t{0}, load_data = 0;
  void load(uint64_t, uint64_t, uint64_t, uint64_t) {}
  void folds(uint64_t mt, uint64_t j0, uint64_t j1) {  // (their edges are in t already)
    const uint64_t t0 = t;
    for (uint64_t j = j0; j < j1; ++j) fold(PlanFold{mt, j, 0, 1, 0, 0});
    t = t0;
  }
};

}  // namespace

LayerCycles closed_form(const LayerDescriptor& d, const ArchConfig& a) {
  static Memo<LayerCycles> memo;  // (pure: kept like make_schedule's schedules)
  const std::string key = schedule_key(d, a);
  LayerCycles c;
  if (memo.find(key, &c)) return c;
  c = closed_form(d, a, make_schedule(d, a));
  memo.put(key, c);
  return c;
}

LayerCycles closed_form(const LayerDescriptor& d, const ArchConfig& a, const Schedule& s) {
  if (s.passes > 1) {
    // One after the other, each ending when its last write has landed; the
    // full passes alike (the cycles do not depend on the addresses).
    const uint32_t full = d.batch / s.pass_images;
    LayerCycles sum;
    auto add = [&](uint32_t p, uint64_t times) {
      const LayerDescriptor dp = pass_descriptor(d, a, s, p);
      const LayerCycles c = closed_form(dp, a, schedule_of_pass(dp, a, s));
      sum.weight_load += c.weight_load * times, sum.compute += c.compute * times, sum.drain += c.drain * times,
          sum.stall += c.stall * times, sum.output += c.output * times;
    };
    add(0, full);
    if (full < s.passes) add(full, 1);
    return sum;
  }
  const LayerPlan plan(d, a, s);
  Timeline x{plan, {}, 0, {}};
  if (plan.one_pixel()) plan.walk_one_pixel(x);
  else plan.walk(x);
  return x.cy;
}

}  // namespace brsim
