// A unique temporary folder per test (brsim-TEST-XXXXXX under the system
// temp folder), removed with everything in it when the object goes away.
// Tests write files only here, never directly into the system temp folder.
// read_file reads a file whole (the one helper of the tests for that).
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <system_error>
#include <utility>

namespace brsim_test {

class TempDir {
 public:
  // `tag` (optional) is part of the folder name, to tell folders apart.
  explicit TempDir(const std::string& tag = "") {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = info ? std::string(info->test_suite_name()) + "." + info->name() : "test";
    if (!tag.empty()) name += "." + tag;
    for (char& c : name)
      if (!isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') c = '_';
    std::string pattern = (std::filesystem::temp_directory_path() / ("brsim-" + name + "-XXXXXX")).string();
    if (!mkdtemp(pattern.data())) throw std::system_error(errno, std::generic_category(), "mkdtemp " + pattern);
    path_ = pattern;
  }
  ~TempDir() {
    if (path_.empty()) return;
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(TempDir&& o) noexcept : path_(std::exchange(o.path_, std::string())) {}
  TempDir& operator=(TempDir&&) = delete;
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  operator const std::string&() const { return path_; }
  // PATH/NAME (not created).
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  // Writes `text` to PATH/NAME and returns that path.
  std::string write(const std::string& name, const std::string& text) const {
    const std::string p = file(name);
    std::ofstream f(p, std::ios::binary);
    f << text;
    return p;
  }

 private:
  std::string path_;
};

// The whole file at `path`, byte for byte ("" when it cannot be read).
inline std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

}  // namespace brsim_test
