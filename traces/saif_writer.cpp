// SAIF activity recorder and writer (saif_writer.h).
#include "saif_writer.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <stdexcept>

#include "errors.h"

namespace brsim {
namespace {

// SAIF identifiers escape every character other than letters, digits and '_'.
std::string saif_escape(const std::string& s) {
  std::string out;
  for (char ch : s) {
    const bool plain = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                       (ch >= '0' && ch <= '9') || ch == '_';
    if (!plain) out += '\\';
    out += ch;
  }
  return out;
}

std::string quoted(const std::string& s) {
  std::string out = "\"";
  for (char ch : s) {
    if (ch == '"' || ch == '\\') out += '\\';
    out += ch;
  }
  return out + "\"";
}

struct InstanceNode {
  std::string name;
  std::vector<InstanceNode> children;
  std::map<std::string, size_t> child_index;  // name -> position in children
  std::vector<size_t> signals;
};

void insert(InstanceNode& root, const std::vector<std::string>& path, size_t signal) {
  InstanceNode* node = &root;
  for (const std::string& part : path) {
    auto it = node->child_index.find(part);
    if (it == node->child_index.end()) {
      it = node->child_index.emplace(part, node->children.size()).first;
      node->children.push_back(InstanceNode{part, {}, {}, {}});
    }
    node = &node->children[it->second];
  }
  node->signals.push_back(signal);
}

}  // namespace

SaifRecorder::SaifRecorder(uint64_t clock_period_ps)
    : timescale_(TraceTimescale::for_period_ps(clock_period_ps)) {}

int SaifRecorder::add_signal(const std::vector<std::string>& scope, const std::string& name,
                             int width) {
  if (started_)
    throw std::logic_error("SaifRecorder: signals must be declared before the first cycle");
  if (width < 1 || width > 64)
    throw std::logic_error("SaifRecorder: signal '" + name + "' width must be 1..64");
  if (scope.empty() || name.empty())
    throw std::logic_error("SaifRecorder: a signal needs a scope and a name");
  signals_.push_back(TraceSignal{scope, name, width, TraceRadix::Auto});
  Slot slot;
  slot.mask = width == 64 ? ~uint64_t{0} : (uint64_t{1} << width) - 1;
  slot.bit_base = high_.size();
  slots_.push_back(slot);
  high_.resize(high_.size() + static_cast<size_t>(width), 0);
  toggles_.resize(toggles_.size() + static_cast<size_t>(width), 0);
  return static_cast<int>(signals_.size() - 1);
}

void SaifRecorder::begin_cycle(uint64_t cycle) {
  if (finished_) throw std::logic_error("SaifRecorder: begin_cycle after finish");
  if (!started_) {
    started_ = true;
    start_ = cycle;
  } else if (cycle <= cycle_) {
    throw std::logic_error("SaifRecorder: cycle " + std::to_string(cycle) + " after cycle " +
                           std::to_string(cycle_));
  }
  cycle_ = cycle;
}

// Adds the cycles since the last change to the 1-time of every bit at 1.
void SaifRecorder::accumulate_high(Slot& s, uint64_t until) {
  const uint64_t dt = until - s.since;
  for (uint64_t v = s.value; v != 0; v &= v - 1)
    high_[s.bit_base + static_cast<size_t>(__builtin_ctzll(v))] += dt;
  s.since = until;
}

void SaifRecorder::change(Slot& s, uint64_t value) {
  if (!started_ || finished_)
    throw std::logic_error("SaifRecorder: sample outside begin_cycle ... finish");
  if (!s.seen) {
    s.seen = true;
    s.first = s.since = cycle_;
    s.value = value;
    return;
  }
  accumulate_high(s, cycle_);
  for (uint64_t d = s.value ^ value; d != 0; d &= d - 1)
    ++toggles_[s.bit_base + static_cast<size_t>(__builtin_ctzll(d))];
  s.value = value;
}

void SaifRecorder::finish() { finish(started_ ? cycle_ + 1 : 0); }

void SaifRecorder::finish(uint64_t end_cycle) {
  if (finished_) throw std::logic_error("SaifRecorder: finish called twice");
  if (started_ && end_cycle <= cycle_)
    throw std::logic_error("SaifRecorder: end cycle must follow the last sampled cycle");
  if (!started_) start_ = end_cycle;
  end_ = end_cycle;
  for (Slot& s : slots_) {
    if (s.seen) {
      accumulate_high(s, end_);
    } else {
      s.first = s.since = end_;  // never sampled: unknown throughout
    }
  }
  finished_ = true;
}

void SaifRecorder::require_finished(const char* what) const {
  if (!finished_) throw std::logic_error(std::string("SaifRecorder: ") + what + " before finish");
}

SaifBitActivity SaifRecorder::bit_activity(int id, int bit) const {
  require_finished("bit_activity");
  const Slot& s = slots_.at(static_cast<size_t>(id));
  if (bit < 0 || bit >= signals_[static_cast<size_t>(id)].width)
    throw std::out_of_range("SaifRecorder: bit index");
  SaifBitActivity a;
  a.t1 = high_[s.bit_base + static_cast<size_t>(bit)];
  a.tx = s.first - start_;
  a.t0 = duration_cycles() - a.t1 - a.tx;
  a.tc = toggles_[s.bit_base + static_cast<size_t>(bit)];
  return a;
}

uint64_t SaifRecorder::toggles(int id) const {
  const Slot& s = slots_.at(static_cast<size_t>(id));
  uint64_t sum = 0;
  for (int b = 0; b < signals_[static_cast<size_t>(id)].width; ++b)
    sum += toggles_[s.bit_base + static_cast<size_t>(b)];
  return sum;
}

std::string SaifRecorder::render(const SaifHeader& h) const {
  require_finished("render");
  const uint64_t k = timescale_.ticks_per_cycle;
  std::string out;
  out += "(SAIFILE\n(SAIFVERSION \"2.0\")\n(DIRECTION \"backward\")\n";
  out += h.design.empty() ? "(DESIGN )\n" : "(DESIGN " + quoted(h.design) + ")\n";
  out += "(DATE " + quoted(h.date) + ")\n";
  out += "(VENDOR " + quoted(h.vendor) + ")\n";
  out += "(PROGRAM_NAME " + quoted(h.program) + ")\n";
  out += "(VERSION " + quoted(h.version) + ")\n";
  out += "(DIVIDER / )\n";
  out += "(TIMESCALE " + timescale_.text + ")\n";
  out += "(DURATION " + std::to_string(duration_cycles() * k) + ")\n";

  InstanceNode root;
  for (size_t i = 0; i < signals_.size(); ++i) insert(root, signals_[i].scope, i);
  struct Emit {
    const SaifRecorder& r;
    std::string& out;
    uint64_t k;
    void operator()(const InstanceNode& n, const std::string& pad) {
      out += pad + "(INSTANCE " + saif_escape(n.name) + "\n";
      if (!n.signals.empty()) {
        out += pad + "  (NET\n";
        for (size_t i : n.signals) {
          const TraceSignal& s = r.signals_[i];
          for (int b = 0; b < s.width; ++b) {
            const SaifBitActivity a = r.bit_activity(static_cast<int>(i), b);
            std::string net = saif_escape(s.name);
            if (s.width > 1) net += "\\[" + std::to_string(b) + "\\]";
            out += pad + "    (" + net + "\n";
            out += pad + "      (T0 " + std::to_string(a.t0 * k) + ") (T1 " +
                   std::to_string(a.t1 * k) + ") (TX " + std::to_string(a.tx * k) + ")\n";
            out += pad + "      (TC " + std::to_string(a.tc) + ") (IG 0)\n";
            out += pad + "    )\n";
          }
        }
        out += pad + "  )\n";
      }
      for (const InstanceNode& c : n.children) (*this)(c, pad + "  ");
      out += pad + ")\n";
    }
  } emit{*this, out, k};
  for (const InstanceNode& c : root.children) emit(c, "");
  out += ")\n";
  return out;
}

void SaifRecorder::write(const std::string& path, const SaifHeader& header) const {
  const std::string text = render(header);
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f)
    throw ConfigError("--saif: cannot open '" + path + "' for writing: " + std::strerror(errno));
  const bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  if (std::fclose(f) != 0 || !ok)
    throw ConfigError("--saif: writing '" + path + "' failed: " + std::strerror(errno));
}

}  // namespace brsim
