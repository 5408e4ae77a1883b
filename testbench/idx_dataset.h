// IDX image/label files (the MNIST family's format), plain or gzipped, read
// with zlib. The default location is Debian's dataset-fashion-mnist package.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "network.h"

namespace brsim {

constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";

struct ImageSet {
  int64_t count = 0, rows = 0, cols = 0;
  std::vector<uint8_t> pixels;  // count x rows x cols
  std::vector<uint8_t> labels;  // count
  std::string images_path, labels_path;  // the files read (messages)
  const uint8_t* image(int64_t i) const { return pixels.data() + i * rows * cols; }
};

// Reads `<dir>/<prefix>-images-idx3-ubyte[.gz]` and `<prefix>-labels-idx1-ubyte[.gz]`
// (prefix "train" or "t10k"); at most `limit` images (0 = all). ConfigError
// naming the file and the field when a file is missing or malformed.
// Refuses empty files, sizes that do not match the header, and images of
// more than 2^24 pixels.
ImageSet load_idx(const std::string& dir, const std::string& prefix, int64_t limit = 0);

// Parses IDX bytes already in memory (the fuzz harness and tests);
// `ipath`/`lpath` name them in messages.
ImageSet parse_idx(const std::vector<uint8_t>& images, const std::vector<uint8_t>& labels, const std::string& ipath,
                   const std::string& lpath, int64_t limit = 0);

// ConfigError naming the file when the images do not fit `net`: an image's
// pixel count differs from the network input's values, or a label is not
// below the number of network outputs (classes).
void check_images_for(const ImageSet& s, const Network& net);

}  // namespace brsim
