// The stats registry (gem5's Stats, in small): every counter the hardware
// keeps is declared once with its name, unit and description, and every
// operation on a whole set of counters (difference, sum, copy between the
// array's and the layer's sets, the stats.txt dump) walks that declaration
// instead of a hand-kept list of fields. A new counter is one line in its
// registry (fold.cpp for the array's, layer_stats.cpp for a layer's) and
// the place that counts it. Pure C++.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace brsim {

template <class T>
struct StatDef {
  const char* name;  // dotted, unique within its set: "cycles.compute", "array.ae_sqrt2"
  const char* unit;  // what one count is: "cycles", "MACs", "bytes", "bit toggles"
  const char* desc;  // one line
  uint64_t& (*ref)(T&);
  uint64_t get(const T& t) const { return ref(const_cast<T&>(t)); }
};

// A registry: the counters of T, in report order.
template <class T>
using StatSet = std::vector<StatDef<T>>;

// into += from, counter by counter.
template <class T>
void add_stats(const StatSet<T>& set, T* into, const T& from) {
  for (const StatDef<T>& s : set) s.ref(*into) += s.get(from);
}

// after - before, counter by counter.
template <class T>
T diff_stats(const StatSet<T>& set, const T& after, const T& before) {
  T d{};
  for (const StatDef<T>& s : set) s.ref(d) = s.get(after) - s.get(before);
  return d;
}

// The counter of `set` called `name`, or nullptr.
template <class T>
const StatDef<T>* find_stat(const StatSet<T>& set, const std::string& name) {
  for (const StatDef<T>& s : set)
    if (name == s.name) return &s;
  return nullptr;
}

}  // namespace brsim

// One registry entry for a member (or a member of a member) of T.
#define BRSIM_STAT(T, member, name, unit, desc) \
  StatDef<T> { name, unit, desc, [](T& x) -> uint64_t& { return x.member; } }
