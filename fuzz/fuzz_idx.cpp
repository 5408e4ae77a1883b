// libFuzzer harness: the IDX reader. The first byte splits the input into
// the images file and the labels file.
#include <vector>

#include "fuzz_input.h"
#include "idx_dataset.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const size_t split = 1 + std::min<size_t>(size - 1, static_cast<size_t>(data[0]) * 8);
  const std::vector<uint8_t> images(data + 1, data + split), labels(data + split, data + size);
  return brsim_fuzz::expect_config_errors_only([&] {
    const brsim::ImageSet s = brsim::parse_idx(images, labels, "fuzz-images", "fuzz-labels");
    for (int64_t i = 0; i < s.count; ++i) (void)s.image(i)[0];
  });
}
