#include "idx_dataset.h"

#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "errors.h"

namespace brsim {

namespace {

// Whole file, inflated if gzipped (gzread passes plain files through).
std::vector<uint8_t> read_maybe_gz(const std::string& path) {
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

ImageSet load_idx(const std::string& dir, const std::string& prefix, int64_t limit) {
  const std::string ipath = find_file(dir, prefix + "-images-idx3-ubyte");
  const std::string lpath = find_file(dir, prefix + "-labels-idx1-ubyte");
  const std::vector<uint8_t> ib = read_maybe_gz(ipath), lb = read_maybe_gz(lpath);
  if (ib.size() < 16 || be32(ib, 0) != 0x00000803)
    throw ConfigError(ipath + ": bad magic number: expected 0x00000803 (IDX unsigned byte, 3 dimensions)");
  if (lb.size() < 8 || be32(lb, 0) != 0x00000801)
    throw ConfigError(lpath + ": bad magic number: expected 0x00000801 (IDX unsigned byte, 1 dimension)");
  ImageSet s;
  const int64_t n = be32(ib, 4);
  s.rows = be32(ib, 8);
  s.cols = be32(ib, 12);
  if (static_cast<int64_t>(be32(lb, 4)) != n)
    throw ConfigError(lpath + ": holds " + std::to_string(be32(lb, 4)) + " labels, the images file " +
                      std::to_string(n) + " images");
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

}  // namespace brsim
