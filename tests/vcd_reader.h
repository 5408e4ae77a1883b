// The tests' one VCD reader: whitespace tokens, $scope/$var/$upscope in the
// header, then "#time" and value changes; x and z read as unknown. Values
// are looked up by full dotted name ("accelerator.array.pe_r0_c0.psum").
#pragma once

#include <cstdint>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace brsim_test {

// A just-enough VCD reader: whitespace tokens, $scope/$var/$upscope in the
// header, then "#time" and value changes. Unknown values read as nullopt-ish
// (known == false).
struct VcdChange {
  uint64_t time;
  uint64_t value;
  bool known;
};

struct VcdVar {
  std::string full_name;  // "accelerator.array.pe_r0_c0.psum"
  std::string range;      // "[47:0]" or ""
  int width = 0;
  std::vector<VcdChange> changes;
};

struct VcdFile {
  std::string timescale;
  std::map<std::string, VcdVar> vars;       // by full name
  std::map<std::string, std::string> code;  // id code -> full name
  std::vector<uint64_t> times;              // every "#t"
  std::set<std::string> scopes;             // every scope path

  const VcdVar& var(const std::string& name) const {
    auto it = vars.find(name);
    if (it == vars.end()) throw std::runtime_error("no variable " + name);
    return it->second;
  }
  // The value at `time` (the last change at or before it).
  bool value_at(const std::string& name, uint64_t time, uint64_t& value) const {
    const VcdVar& v = var(name);
    bool found = false, known = false;
    for (const VcdChange& c : v.changes) {
      if (c.time > time) break;
      found = true;
      known = c.known;
      value = c.value;
    }
    return found && known;
  }
  // The value at `time`; 0 before the first change and while unknown.
  uint64_t at(const std::string& name, uint64_t time) const {
    uint64_t v = 0;
    return value_at(name, time, v) ? v : 0;
  }
  bool has(const std::string& name) const { return vars.count(name) != 0; }
  // The time of the first change of `name` to `value` (nullopt-free: false when none).
  bool first_time(const std::string& name, uint64_t value, uint64_t* time) const {
    for (const VcdChange& c : var(name).changes)
      if (c.known && c.value == value) {
        *time = c.time;
        return true;
      }
    return false;
  }
};

inline VcdFile read_vcd(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) throw std::runtime_error("cannot open " + path);
  std::ostringstream text;
  text << file.rdbuf();
  std::istringstream in(text.str());
  VcdFile f;
  std::vector<std::string> scope;
  std::string tok;
  bool header = true;
  uint64_t now = 0;
  auto skip_to_end = [&](std::string* text) {
    std::string t;
    while (in >> t && t != "$end")
      if (text) *text += (text->empty() ? "" : " ") + t;
  };
  auto record = [&](const std::string& bits, const std::string& id) {
    auto it = f.code.find(id);
    if (it == f.code.end()) throw std::runtime_error("unknown id " + id);
    VcdChange c{now, 0, true};
    for (char ch : bits) {
      if (ch == 'x' || ch == 'X' || ch == 'z' || ch == 'Z') c.known = false;
      c.value = (c.value << 1) | (ch == '1' ? 1 : 0);
    }
    f.vars[it->second].changes.push_back(c);
  };
  while (in >> tok) {
    if (header) {
      if (tok == "$scope") {
        std::string kind, name;
        in >> kind >> name;
        scope.push_back(name);
        std::string path;
        for (const auto& s : scope) path += (path.empty() ? "" : ".") + s;
        f.scopes.insert(path);
        skip_to_end(nullptr);
      } else if (tok == "$upscope") {
        scope.pop_back();
        skip_to_end(nullptr);
      } else if (tok == "$var") {
        std::string type, width, id, name, rest;
        in >> type >> width >> id >> name;
        std::string range;
        skip_to_end(&range);
        std::string full;
        for (const auto& s : scope) full += s + ".";
        full += name;
        VcdVar v;
        v.full_name = full;
        v.range = range;
        v.width = std::stoi(width);
        f.vars[full] = v;
        f.code[id] = full;
      } else if (tok == "$timescale") {
        skip_to_end(&f.timescale);
      } else if (tok == "$enddefinitions") {
        skip_to_end(nullptr);
        header = false;
      } else if (tok[0] == '$') {
        skip_to_end(nullptr);
      }
      continue;
    }
    if (tok[0] == '#') {
      now = std::stoull(tok.substr(1));
      f.times.push_back(now);
    } else if (tok == "$dumpvars" || tok == "$end" || tok == "$dumpall" || tok == "$dumpon" ||
               tok == "$dumpoff") {
      continue;
    } else if (tok[0] == '$') {
      skip_to_end(nullptr);  // $comment in the body
    } else if (tok[0] == 'b' || tok[0] == 'B') {
      std::string id;
      in >> id;
      record(tok.substr(1), id);
    } else {
      record(tok.substr(0, 1), tok.substr(1));
    }
  }
  return f;
}

// Sign-extends the low `bits` of a VCD value.
inline int64_t sign_extend(uint64_t v, int bits) {
  const int sh = 64 - bits;
  return static_cast<int64_t>(v << sh) >> sh;
}

}  // namespace brsim_test
