// A results folder written atomically (docs/reliability.md "Results
// folders"): the files go to a temporary folder that is renamed into place
// at commit(), so a run that fails leaves no folder that looks complete.
#pragma once

#include <filesystem>
#include <string>

namespace brsim {

class ResultsDir {
 public:
  // `dir` as given (--out): a new folder, or an existing one whose other
  // files are kept. Throws ConfigError when it cannot be created.
  explicit ResultsDir(const std::string& dir);
  ~ResultsDir();  // removes the temporary folder unless committed
  ResultsDir(const ResultsDir&) = delete;
  ResultsDir& operator=(const ResultsDir&) = delete;

  void write(const std::string& name, const std::string& text);  // ConfigError on a write error
  // A new folder: one rename of the temporary folder. An existing folder:
  // its old summary.json goes first, each new file is renamed in, and
  // summary.json comes last, so summary.json marks a complete set.
  void commit();

 private:
  std::string shown_;                    // the folder as the user gave it (messages)
  std::filesystem::path target_, temp_;  // absolute
  bool in_place_ = false;                // the target existed with files: temp_ is inside it
  bool committed_ = false;
};

}  // namespace brsim
