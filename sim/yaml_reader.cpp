#include "yaml_reader.h"

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace brsim {

namespace {

// Limits of the project's YAML files (architectures, energy tables, sweeps):
// each is a few hundred lines, so these refuse only hostile or broken files.
constexpr uintmax_t kMaxYamlBytes = 4u << 20;    // 4 MiB of text
constexpr int kMaxYamlNesting = 64;              // flow brackets [ { nested
constexpr size_t kMaxYamlNodes = 1000000;        // nodes visited, aliases expanded

// Flow-collection nesting outside quotes and comments: yaml-cpp's parser
// recurses once per level, so a file of a million '[' would exhaust the stack.
int flow_nesting(const std::string& text) {
  int depth = 0, deepest = 0;
  char quote = 0;
  bool comment = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (comment) {
      comment = c != '\n';
    } else if (quote) {
      if (c == quote) quote = 0;
    } else if (c == '\'' || c == '"') {
      quote = c;
    } else if (c == '#' && (i == 0 || text[i - 1] == ' ' || text[i - 1] == '\t' || text[i - 1] == '\n')) {
      comment = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

// Every mapping's keys are scalars and distinct (yaml-cpp keeps duplicates and
// answers node[key] with the first, so a second value would be ignored
// silently); aliases may not expand past kMaxYamlNodes nodes.
void check_structure(const YAML::Node& n, const std::string& path, const std::string& where, size_t* visited) {
  if (++*visited > kMaxYamlNodes)
    throw ConfigError(path + ": more than " + std::to_string(kMaxYamlNodes) +
                      " YAML nodes once aliases are expanded (expected a small configuration file)");
  const std::string here = where.empty() ? "(top level)" : where;
  if (n.IsSequence()) {
    size_t i = 0;
    for (const YAML::Node& e : n) check_structure(e, path, where + "[" + std::to_string(i++) + "]", visited);
  } else if (n.IsMap()) {
    std::set<std::string> seen;
    for (const auto& kv : n) {
      if (!kv.first.IsScalar())
        throw ConfigError(path + ": field '" + here + "': a key is " + YamlReader::shown(kv.first) +
                          ": expected a plain name");
      const std::string k = kv.first.Scalar();
      const std::string field = where.empty() ? k : where + "." + k;
      if (!seen.insert(k).second)
        throw ConfigError(path + ": field '" + field + "': duplicate key (each key may appear once)");
      check_structure(kv.second, path, field, visited);
    }
  }
}

}  // namespace

YAML::Node parse_yaml_text(const std::string& text, const std::string& path) {
  if (flow_nesting(text) > kMaxYamlNesting)
    throw ConfigError(path + ": not valid YAML: brackets nested more than " + std::to_string(kMaxYamlNesting) +
                      " deep");
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::ParserException& e) {
    throw ConfigError(path + ": not valid YAML: " + e.what());
  } catch (const YAML::Exception& e) {
    throw ConfigError(path + ": not valid YAML: " + e.what());
  }
  size_t visited = 0;
  check_structure(root, path, "", &visited);
  return root;
}

YAML::Node load_yaml_file(const std::string& path, const std::string& what) {
  std::error_code ec;
  const auto st = std::filesystem::status(path, ec);
  if (ec || !std::filesystem::exists(st)) throw ConfigError(path + ": cannot open the " + what + " (no such file)");
  if (std::filesystem::is_directory(st))
    throw ConfigError(path + ": cannot open the " + what + ": it is a folder, expected a YAML file");
  const uintmax_t size = std::filesystem::is_regular_file(st) ? std::filesystem::file_size(path, ec) : 0;
  if (!ec && size > kMaxYamlBytes)
    throw ConfigError(path + ": the " + what + " is " + std::to_string(size) + " bytes, expected at most " +
                      std::to_string(kMaxYamlBytes) + " (4 MiB)");
  std::ifstream f(path, std::ios::binary);
  if (!f) throw ConfigError(path + ": cannot open the " + what);
  std::string text;
  char buf[65536];
  while (f.read(buf, sizeof buf) || f.gcount() > 0) {
    text.append(buf, static_cast<size_t>(f.gcount()));
    if (text.size() > kMaxYamlBytes)
      throw ConfigError(path + ": the " + what + " is larger than " + std::to_string(kMaxYamlBytes) +
                        " bytes (4 MiB)");
  }
  return parse_yaml_text(text, path);
}

}  // namespace brsim
