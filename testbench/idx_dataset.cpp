#include "idx_dataset.h"

#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "errors.h"
#include "shape_limits.h"

namespace brsim {

namespace {

// Whole file, inflated if gzipped (gzread passes plain files through).
std::vector<uint8_t> read_maybe_gz(const std::string& path) {
  if (std::filesystem::is_directory(path)) throw ConfigError(path + ": cannot open: it is a folder, expected an IDX file");
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) throw ConfigError(path + ": cannot open (" + std::strerror(errno) + ")");
  std::vector<uint8_t> out;
  uint8_t buf[1 << 16];
  for (;;) {
    const int n = gzread(f, buf, sizeof buf);
    if (n < 0) {
      int err = 0;
      const std::string msg = gzerror(f, &err);
      gzclose(f);
      throw ConfigError(path + ": read error (" + msg + ")");
    }
    if (n == 0) break;
    out.insert(out.end(), buf, buf + n);
    if (out.size() > (size_t{1} << 32)) {  // larger than any IDX header can describe with 2^24-pixel images
      gzclose(f);
      throw ConfigError(path + ": more than 4 GiB of data: expected an IDX file");
    }
  }
  gzclose(f);
  return out;
}

uint32_t be32(const std::vector<uint8_t>& b, size_t at) {
  return (uint32_t{b[at]} << 24) | (uint32_t{b[at + 1]} << 16) | (uint32_t{b[at + 2]} << 8) | b[at + 3];
}

std::string find_file(const std::string& dir, const std::string& name) {
  for (const std::string& p : {dir + "/" + name + ".gz", dir + "/" + name}) {
    std::ifstream f(p);
    if (f) return p;
  }
  throw ConfigError(dir + "/" + name + "[.gz]: file not found (install Debian's dataset-fashion-mnist, or pass "
                    "--dataset DIR with IDX files)");
}

}  // namespace

ImageSet parse_idx(const std::vector<uint8_t>& ib, const std::vector<uint8_t>& lb, const std::string& ipath,
                   const std::string& lpath, int64_t limit) {
  if (ib.size() < 16 || be32(ib, 0) != 0x00000803)
    throw ConfigError(ipath + ": bad magic number: expected 0x00000803 (IDX unsigned byte, 3 dimensions)");
  if (lb.size() < 8 || be32(lb, 0) != 0x00000801)
    throw ConfigError(lpath + ": bad magic number: expected 0x00000801 (IDX unsigned byte, 1 dimension)");
  ImageSet s;
  s.images_path = ipath, s.labels_path = lpath;
  const int64_t n = be32(ib, 4);
  s.rows = be32(ib, 8);
  s.cols = be32(ib, 12);
  if (n == 0) throw ConfigError(ipath + ": field 'number of images' is 0: expected at least 1 image");
  // rows and cols are each below 2^32: their product is checked, never formed unchecked.
  if (s.rows < 1 || s.cols < 1 || checked_product({s.rows, s.cols}, int64_t{1} << 24) < 0)
    throw ConfigError(ipath + ": fields 'rows' x 'columns' = " + std::to_string(s.rows) + " x " +
                      std::to_string(s.cols) + ": expected 1 to 16777216 (2^24) pixels per image");
  if (static_cast<int64_t>(be32(lb, 4)) != n)
    throw ConfigError(lpath + ": holds " + std::to_string(be32(lb, 4)) + " labels, the images file " +
                      std::to_string(n) + " images");
  // n < 2^32 and rows x cols <= 2^24: the product fits 64 bits.
  const uint64_t need = 16 + static_cast<uint64_t>(n) * static_cast<uint64_t>(s.rows * s.cols);
  if (ib.size() != need)
    throw ConfigError(ipath + ": " + std::to_string(ib.size()) + " bytes, expected " + std::to_string(need) +
                      " for its header's " + std::to_string(n) + " images (truncated?)");
  if (lb.size() != 8 + static_cast<uint64_t>(n)) throw ConfigError(lpath + ": size does not match its header (truncated?)");
  s.count = (limit > 0 && limit < n) ? limit : n;
  const size_t px = static_cast<size_t>(s.count * s.rows * s.cols);
  s.pixels.assign(ib.begin() + 16, ib.begin() + 16 + static_cast<std::ptrdiff_t>(px));
  s.labels.assign(lb.begin() + 8, lb.begin() + 8 + s.count);
  return s;
}

ImageSet load_idx(const std::string& dir, const std::string& prefix, int64_t limit) {
  const std::string ipath = find_file(dir, prefix + "-images-idx3-ubyte");
  const std::string lpath = find_file(dir, prefix + "-labels-idx1-ubyte");
  return parse_idx(read_maybe_gz(ipath), read_maybe_gz(lpath), ipath, lpath, limit);
}

void check_images_for(const ImageSet& s, const Network& net) {
  if (net.input.numel() != s.rows * s.cols)
    throw ConfigError(s.images_path + ": images of " + std::to_string(s.rows) + "x" + std::to_string(s.cols) +
                      " pixels do not match the network input " + net.input.str() + " of " + net.source);
  const int64_t classes = net.layers.empty() ? 0 : net.layers.back().out.numel();
  for (int64_t i = 0; i < s.count; ++i)
    if (s.labels[static_cast<size_t>(i)] >= classes)
      throw ConfigError(s.labels_path + ": label " + std::to_string(s.labels[static_cast<size_t>(i)]) + " of image " +
                        std::to_string(i) + ": expected a class in [0, " + std::to_string(classes - 1) +
                        "] (the network has " + std::to_string(classes) + " outputs)");
}

}  // namespace brsim
