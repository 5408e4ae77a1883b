// The image counts of `brsim run` and `brsim accuracy` (--images,
// --calib-images) checked where they enter, and the test set loaded and
// checked against the network (pixels per image, labels below the outputs).
#pragma once

#include <cstdint>
#include <string>

#include "idx_dataset.h"
#include "network.h"

namespace brsim {

// ConfigError naming the option when a count is outside [1, 2^31).
void check_image_counts(int64_t images, int64_t calib_images);

// The first `images` test images (t10k) of `dir`; ConfigError when the set
// holds fewer, or does not fit `net` (check_images_for).
ImageSet load_test_images(const std::string& dir, int64_t images, const Network& net);

}  // namespace brsim
