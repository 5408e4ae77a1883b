#include "image_options.h"

#include "errors.h"

namespace brsim {

void check_image_counts(int64_t images, int64_t calib_images) {
  constexpr int64_t kMax = (int64_t{1} << 31) - 1;
  if (images < 1 || images > kMax)
    throw ConfigError("invalid --images " + std::to_string(images) + ": expected an integer in [1, " +
                      std::to_string(kMax) + "] (and at most the test set's images)");
  if (calib_images < 1 || calib_images > kMax)
    throw ConfigError("invalid --calib-images " + std::to_string(calib_images) + ": expected an integer in [1, " +
                      std::to_string(kMax) + "] (training images used for calibration)");
}

ImageSet load_test_images(const std::string& dir, int64_t images, const Network& net) {
  ImageSet s = load_idx(dir, "t10k", images);
  if (s.count < images)
    throw ConfigError("invalid --images " + std::to_string(images) + ": the test set " + s.images_path + " holds " +
                      std::to_string(s.count) + " images");
  check_images_for(s, net);
  return s;
}

}  // namespace brsim
