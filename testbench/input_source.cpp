#include "input_source.h"

#include <cmath>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>

#include "errors.h"

namespace brsim {

std::vector<std::vector<float>> random_inputs(const Network& net, int64_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<std::vector<float>> xs(static_cast<size_t>(n), std::vector<float>(static_cast<size_t>(net.input.numel())));
  for (auto& x : xs)
    for (float& v : x) v = static_cast<float>(std::ldexp(static_cast<double>(rng() >> 40), -24));  // 24 bits in [0, 1)
  return xs;
}

std::vector<std::vector<float>> load_npy_inputs(const std::string& path, const Network& net, int64_t n) {
  auto fail = [&](const std::string& what) -> void { throw ConfigError(path + ": " + what); };
  std::ifstream f(path, std::ios::binary);
  if (!f) fail(std::string("cannot open the input file (") + std::strerror(errno) + ")");
  char magic[8];
  if (!f.read(magic, 8) || std::memcmp(magic, "\x93NUMPY", 6) != 0) fail("not a NumPy .npy file (bad magic)");
  uint32_t hlen = 0;
  if (magic[6] == 1) {
    unsigned char b[2];
    if (!f.read(reinterpret_cast<char*>(b), 2)) fail("truncated header");
    hlen = b[0] | (b[1] << 8);
  } else if (magic[6] == 2 || magic[6] == 3) {
    unsigned char b[4];
    if (!f.read(reinterpret_cast<char*>(b), 4)) fail("truncated header");
    hlen = b[0] | (b[1] << 8) | (b[2] << 16) | (uint32_t{b[3]} << 24);
  } else {
    fail("unknown .npy version " + std::to_string(static_cast<int>(magic[6])));
  }
  if (hlen > (1u << 20)) fail("header of " + std::to_string(hlen) + " bytes: expected at most 1 MiB");
  std::string h(hlen, '\0');
  if (!f.read(&h[0], hlen)) fail("truncated header");
  if (h.find("'descr': '<f4'") == std::string::npos)
    fail("field 'descr': expected '<f4' (little-endian float32)");
  if (h.find("'fortran_order': False") == std::string::npos) fail("field 'fortran_order': expected False (C order)");
  const size_t s0 = h.find("'shape': ("), s1 = h.find(')', s0);
  if (s0 == std::string::npos || s1 == std::string::npos) fail("field 'shape' is missing");
  std::vector<int64_t> dims;
  std::stringstream ss(h.substr(s0 + 10, s1 - s0 - 10));
  std::string tok;
  while (std::getline(ss, tok, ',')) {
    if (tok.find_first_not_of(" ") == std::string::npos) continue;
    try {
      dims.push_back(std::stoll(tok));
    } catch (const std::exception&) {
      fail("field 'shape': '" + tok + "' is not an integer");
    }
  }
  int64_t per = 1;
  for (size_t i = 1; i < dims.size(); ++i) per *= dims[i];
  const TensorShape& in = net.input;
  const bool ok = dims.size() >= 2 && per == in.numel() &&
                  (dims.size() != 4 || (dims[1] == in.c && dims[2] == in.h && dims[3] == in.w));
  if (!ok)
    fail("field 'shape': expected N x " + std::to_string(in.c) + " x " + std::to_string(in.h) + " x " +
         std::to_string(in.w) + " (the network input)");
  if (dims[0] < n)
    fail("holds " + std::to_string(dims[0]) + " inputs, --images asks for " + std::to_string(n));
  std::vector<std::vector<float>> xs(static_cast<size_t>(n), std::vector<float>(static_cast<size_t>(per)));
  for (auto& x : xs) {
    if (!f.read(reinterpret_cast<char*>(x.data()), static_cast<std::streamsize>(x.size() * 4)))
      fail("truncated data: expected " + std::to_string(dims[0]) + " x " + std::to_string(per) + " float32 values");
    for (float v : x)
      if (!std::isfinite(v)) fail("contains a non-finite value");
  }
  return xs;
}

}  // namespace brsim
