// Reading the project's YAML files (architectures, sweeps, energy tables)
// with yaml-cpp: every error names the file and the field and says what was
// expected.
#pragma once

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <string>
#include <type_traits>
#include <vector>

#include "errors.h"

namespace brsim {

// Loads `path`; ConfigError "PATH: cannot open the WHAT" or "PATH: not valid
// YAML: ...". Refuses folders, files over 4 MiB, duplicate or non-scalar
// keys, and aliases that expand past a million nodes (docs/reliability.md).
YAML::Node load_yaml_file(const std::string& path, const std::string& what);
// The same checks on text already read; `path` names it in messages.
YAML::Node parse_yaml_text(const std::string& text, const std::string& path);

class YamlReader {
 public:
  explicit YamlReader(std::string file) : file_(std::move(file)) {}

  [[noreturn]] void fail(const std::string& field, const std::string& what) const {
    throw ConfigError(file_ + ": field '" + field + "': " + what);
  }
  // How a value is shown in messages: 'text', nothing, a list, a mapping.
  static std::string shown(const YAML::Node& n) {
    if (!n || n.IsNull()) return "nothing";
    if (n.IsScalar()) return "'" + n.Scalar() + "'";
    return n.IsSequence() ? "a list" : "a mapping";
  }
  // A mapping whose keys are all in `allowed` (`where` empty: the top level).
  void keys(const YAML::Node& n, const std::string& where, const std::vector<std::string>& allowed) const {
    if (!n.IsMap()) fail(where.empty() ? "(top level)" : where, "expected a mapping, got " + shown(n));
    for (const auto& kv : n) {
      const std::string k = kv.first.as<std::string>();
      if (std::find(allowed.begin(), allowed.end(), k) == allowed.end()) {
        std::string list;
        for (const std::string& a : allowed) list += (list.empty() ? "" : ", ") + a;
        fail(where.empty() ? k : where + "." + k, "unknown key (expected one of: " + list + ")");
      }
    }
  }
  // n[key] into *out when present (else *out keeps its default).
  template <typename T>
  void get(const YAML::Node& n, const std::string& key, const std::string& field, T* out) const {
    const YAML::Node v = n[key];
    if (!v) return;
    try {
      *out = v.as<T>();
    } catch (const YAML::Exception&) {
      fail(field, std::string("expected ") + type_name<T>() + ", got " + shown(v));
    }
  }
  std::string str(const YAML::Node& n, const std::string& field) const {
    if (!n.IsScalar() || n.Scalar().empty()) fail(field, "expected a string, got " + shown(n));
    return n.Scalar();
  }
  // An integer in [lo, INT_MAX]; `what` describes it in the message.
  long long integer(const YAML::Node& n, const std::string& field, long long lo, const std::string& what) const {
    long long v = 0;
    try {
      if (!n.IsScalar()) throw YAML::Exception(YAML::Mark(), "");
      v = n.as<long long>();
    } catch (const YAML::Exception&) {
      fail(field, "expected " + what + ", got " + shown(n));
    }
    if (v < lo || v > INT_MAX) fail(field, "expected " + what + ", got " + shown(n));
    return v;
  }
  // A positive finite number.
  double number(const YAML::Node& n, const std::string& field, const std::string& what) const {
    double v = 0;
    try {
      if (!n.IsScalar()) throw YAML::Exception(YAML::Mark(), "");
      v = n.as<double>();
    } catch (const YAML::Exception&) {
      fail(field, "expected " + what + ", got " + shown(n));
    }
    if (!(v > 0) || !std::isfinite(v)) fail(field, "expected " + what + ", got " + shown(n));
    return v;
  }
  const std::string& file() const { return file_; }

 private:
  template <typename T>
  static const char* type_name() {
    if (std::is_same<T, std::string>::value) return "a string";
    if (std::is_same<T, bool>::value) return "true or false";
    if (std::is_floating_point<T>::value) return "a number";
    return "an integer";
  }
  std::string file_;
};

}  // namespace brsim
