// IDX image/label files (the MNIST family's format), plain or gzipped, read
// with zlib. The default location is Debian's dataset-fashion-mnist package.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace brsim {

constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";

struct ImageSet {
  int64_t count = 0, rows = 0, cols = 0;
  std::vector<uint8_t> pixels;  // count x rows x cols
  std::vector<uint8_t> labels;  // count
  const uint8_t* image(int64_t i) const { return pixels.data() + i * rows * cols; }
};

// Reads `<dir>/<prefix>-images-idx3-ubyte[.gz]` and `<prefix>-labels-idx1-ubyte[.gz]`
// (prefix "train" or "t10k"); at most `limit` images (0 = all). ConfigError
// naming the file and the field when a file is missing or malformed.
ImageSet load_idx(const std::string& dir, const std::string& prefix, int64_t limit = 0);

}  // namespace brsim
