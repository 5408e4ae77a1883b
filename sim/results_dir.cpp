#include "results_dir.h"

#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <vector>

#include "errors.h"

namespace brsim {

namespace fs = std::filesystem;

ResultsDir::ResultsDir(const std::string& dir) : shown_(dir) {
  std::error_code ec;
  fs::path p = fs::absolute(dir, ec).lexically_normal();
  if (ec || dir.empty()) throw ConfigError("--out '" + dir + "': not a usable folder name");
  if (p.filename().empty()) p = p.parent_path();  // "out/" or "."
  target_ = p;
  const std::string tag = ".brsim-tmp-" + std::to_string(::getpid());
  if (fs::exists(target_, ec) && !fs::is_directory(target_, ec))
    throw ConfigError("--out " + dir + ": exists and is not a folder");
  in_place_ = fs::is_directory(target_, ec) && !fs::is_empty(target_, ec);
  if (!in_place_) {
    fs::create_directories(target_.parent_path(), ec);
    if (ec) throw ConfigError("--out " + dir + ": cannot create the results folder (" + ec.message() + ")");
    temp_ = target_.parent_path() / ("." + target_.filename().string() + tag);
  } else {
    temp_ = target_ / tag;
  }
  fs::remove_all(temp_, ec);
  if (!fs::create_directory(temp_, ec) || ec)
    throw ConfigError("--out " + dir + ": cannot create the results folder (" +
                      (ec ? ec.message() : std::string("already exists")) + ")");
}

ResultsDir::~ResultsDir() {
  if (committed_) return;
  std::error_code ec;
  fs::remove_all(temp_, ec);
}

void ResultsDir::write(const std::string& name, const std::string& text) {
  std::ofstream f(temp_ / name, std::ios::binary);
  f << text;
  f.flush();
  if (!f) throw ConfigError(shown_ + "/" + name + ": cannot write");
}

void ResultsDir::commit() {
  std::error_code ec;
  auto fail = [&](const std::string& what) {
    throw ConfigError("--out " + shown_ + ": cannot " + what + " (" + ec.message() + ")");
  };
  if (!in_place_) {
    if (fs::is_directory(target_)) fs::remove(target_, ec);  // an empty folder, or one made meanwhile
    ec.clear();
    fs::rename(temp_, target_, ec);
    if (ec) fail("move the results into place");
    committed_ = true;
    return;
  }
  fs::remove(target_ / "summary.json", ec);
  ec.clear();
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(temp_)) files.push_back(e.path().filename());
  std::stable_partition(files.begin(), files.end(), [](const fs::path& f) { return f != "summary.json"; });
  for (const fs::path& f : files) {
    fs::rename(temp_ / f, target_ / f, ec);
    if (ec) fail("move " + f.string() + " into place");
  }
  fs::remove(temp_, ec);
  committed_ = true;
}

}  // namespace brsim
