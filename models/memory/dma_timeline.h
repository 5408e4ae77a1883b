// A DMA channel's timeline (docs/cycle-model.md "Memory"): its transfers are
// worked in issue order and pipelined, so a transfer issued at cycle t that
// spends `latency` cycles before its data and `data` cycles moving it is
// done at max(t + latency, the previous transfer's done) + data. A lone
// transfer costs latency + data; a burst of queued ones pays the latency
// once. The DMA engine (dma.h) and the closed form (layer_plan.h) both
// keep their channels with it.
#pragma once

#include <algorithm>
#include <cstdint>

namespace brsim {

struct DmaTimeline {
  uint64_t free = 0;  // the cycle the channel's last transfer is done
  uint64_t complete(uint64_t issue, uint64_t latency, uint64_t data) {
    free = std::max(issue + latency, free) + data;
    return free;
  }
};

}  // namespace brsim
