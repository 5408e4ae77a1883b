// Running a sweep (docs/sweeps.md): each point a brsim subprocess in its
// own folder, a bounded number at a time, shards, and the merge of shards.
#include "sweep.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <map>
#include <thread>

#include "arch_yaml.h"
#include "errors.h"
#include "file_io.h"

extern char** environ;

namespace brsim {

namespace fs = std::filesystem;

// ---------------------------------------------------------------- running

Shard parse_shard(const std::string& text) {
  const size_t s = text.find('/');
  Shard sh;
  bool good = s != std::string::npos && s > 0 && s + 1 < text.size() && s <= 6 && text.size() - s - 1 <= 6;
  for (size_t i = 0; good && i < text.size(); ++i) good = i == s || std::isdigit(static_cast<unsigned char>(text[i]));
  if (good) sh.index = std::stoi(text.substr(0, s)), sh.count = std::stoi(text.substr(s + 1));
  if (!good || sh.count < 1 || sh.index >= sh.count)
    throw ConfigError("invalid --shard '" + text + "': expected i/N with 0 <= i < N (0-based), e.g. 0/8");
  return sh;
}

namespace {

pid_t spawn_point(const std::vector<std::string>& argv, const std::string& dir) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  const std::string out = dir + "/stdout.json", err = dir + "/stderr.txt";
  posix_spawn_file_actions_addchdir_np(&fa, dir.c_str());
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&fa, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, argv[0].c_str(), &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) throw ConfigError("cannot start " + argv[0] + ": " + std::strerror(rc));
  return pid;
}

std::string shell_quote(const std::string& s) {
  if (!s.empty() && s.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./=:,+") ==
                        std::string::npos)
    return s;
  std::string o = "'";
  for (char c : s) o += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return o + "'";
}

}  // namespace

SweepTable run_sweep(const SweepSpec& s, const SweepRunOptions& o) {
  if (o.jobs < 1) throw ConfigError("invalid -j " + std::to_string(o.jobs) + ": expected >= 1");
  const fs::path out = fs::absolute(o.out).lexically_normal();
  std::error_code ec;
  if (fs::is_regular_file(out / "sweep.json")) fs::remove_all(out / "points", ec);  // a previous sweep's points
  fs::create_directories(out / "points", ec);
  if (ec) throw ConfigError("--out " + o.out + ": cannot create the folder (" + ec.message() + ")");

  std::vector<const SweepPoint*> todo;
  for (const SweepPoint& p : s.points)
    if (p.index % o.shard.count == o.shard.index) todo.push_back(&p);
  SweepProgress prog;
  prog.total = static_cast<int>(todo.size());
  struct Running {
    int point;
    std::string dir;
    std::chrono::steady_clock::time_point t0;
  };
  std::map<pid_t, Running> running;
  std::vector<PointResult> results;
  size_t next = 0;
  auto last_shown = std::chrono::steady_clock::now();
  auto show = [&](bool force) {  // on a change, and twice a second so the clock ticks
    const auto now = std::chrono::steady_clock::now();
    if (o.on_progress && (force || now - last_shown > std::chrono::milliseconds(500))) o.on_progress(prog), last_shown = now;
  };
  show(true);
  int nap_ms = 1;
  while (next < todo.size() || !running.empty()) {
    bool changed = false;
    while (next < todo.size() && running.size() < static_cast<size_t>(o.jobs)) {
      const SweepPoint& p = *todo[next++];
      const std::string dir = (out / "points" / point_dir_name(p.index)).string();
      fs::create_directories(dir, ec);
      write_file(dir + "/arch.yaml", "# sweep " + s.name + ", point " + std::to_string(p.index) + "\n" + arch_to_yaml(p.arch));
      std::vector<std::string> argv = point_argv(s, p, o.exe);
      // The points share the quantizer's search results (the same weights
      // under the same policy are searched once per sweep folder).
      argv.insert(argv.end(), {"--quant-cache", (out / "quant_cache").string()});
      std::string cmd = "cd " + shell_quote(dir) + " &&";
      for (const std::string& a : argv) cmd += " " + shell_quote(a);
      write_file(dir + "/command.txt", cmd + "\n");
      running[spawn_point(argv, dir)] = {p.index, dir, std::chrono::steady_clock::now()};
      changed = true;
    }
    // Reap finished points (ours only, by pid); nap 1..64 ms between polls.
    for (auto it = running.begin(); it != running.end();) {
      int status = 0;
      const pid_t pid = waitpid(it->first, &status, WNOHANG);
      if (pid == 0 || (pid < 0 && errno == EINTR)) {
        ++it;
        continue;
      }
      if (pid < 0) throw ConfigError(std::string("waiting for point ") + std::to_string(it->second.point) + ": " + std::strerror(errno));
      PointResult r = read_point_result(it->second.point, status, read_text(it->second.dir + "/stdout.json"),
                                        read_text(it->second.dir + "/stderr.txt"));
      r.host_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - it->second.t0).count();
      prog.done += 1, prog.failed += !r.ok;
      results.push_back(std::move(r));
      it = running.erase(it);
      changed = true;
    }
    prog.running = static_cast<int>(running.size());
    if (changed && next < todo.size()) continue;  // refill before showing
    show(changed);
    if (!changed && !running.empty()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(nap_ms));
      nap_ms = std::min(64, nap_ms * 2);
    } else {
      nap_ms = 1;
    }
  }
  std::sort(results.begin(), results.end(), [](const PointResult& a, const PointResult& b) { return a.point < b.point; });
  SweepTable t = table_of(s);
  t.results = std::move(results);
  write_sweep_dir(out.string(), t, {{"index", o.shard.index}, {"count", o.shard.count}});
  return t;
}

SweepTable merge_sweeps(const std::string& out, const std::vector<std::string>& dirs) {
  if (dirs.empty()) throw ConfigError("brsim sweep merge: give the shard folders to merge");
  std::vector<SweepTable> shards;
  for (const std::string& d : dirs) shards.push_back(read_sweep_dir(d));
  SweepTable t = shards[0];
  t.results.clear();
  std::map<int, size_t> from;  // point -> shard
  for (size_t k = 0; k < shards.size(); ++k) {
    if (shards[k].hash != t.hash || shards[k].params != t.params)
      throw ConfigError(dirs[k] + ": from a different sweep than " + dirs[0] + " (sweep '" + shards[k].name + "', hash " +
                        shards[k].hash + " vs '" + t.name + "', hash " + t.hash +
                        "); merge joins the shards of one sweep file");
    for (const PointResult& r : shards[k].results) {
      const auto ins = from.emplace(r.point, k);
      if (!ins.second)
        throw ConfigError("point " + std::to_string(r.point) + " is in both " + dirs[ins.first->second] + " and " +
                          dirs[k] + ": overlapping shards");
      t.results.push_back(r);
    }
  }
  std::vector<int> missing;
  for (int p = 0; p < static_cast<int>(t.params.size()); ++p)
    if (!from.count(p)) missing.push_back(p);
  if (!missing.empty()) {
    std::string list;
    for (size_t i = 0; i < missing.size() && i < 12; ++i) list += (i ? ", " : "") + std::to_string(missing[i]);
    if (missing.size() > 12) list += ", ...";
    throw ConfigError(std::to_string(missing.size()) + " of " + std::to_string(t.params.size()) +
                      " points missing (no shard ran them): " + list);
  }
  std::sort(t.results.begin(), t.results.end(), [](const PointResult& a, const PointResult& b) { return a.point < b.point; });
  const fs::path o = fs::absolute(out).lexically_normal();
  std::error_code ec;
  for (const std::string& d : dirs)
    if (fs::exists(o) && fs::equivalent(o, fs::absolute(d), ec))
      throw ConfigError("--out " + out + " is one of the shards; merge into a new folder");
  if (fs::is_regular_file(o / "sweep.json")) fs::remove_all(o / "points", ec);
  fs::create_directories(o / "points", ec);
  if (ec) throw ConfigError("--out " + out + ": cannot create the folder (" + ec.message() + ")");
  for (const auto& [point, k] : from) {
    const fs::path src = fs::path(dirs[k]) / "points" / point_dir_name(point);
    if (fs::is_directory(src))
      fs::copy(src, o / "points" / point_dir_name(point), fs::copy_options::recursive | fs::copy_options::overwrite_existing, ec);
  }
  write_sweep_dir(o.string(), t, nullptr, dirs);
  return t;
}

}  // namespace brsim
