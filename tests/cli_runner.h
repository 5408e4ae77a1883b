// Runs the brsim binary (path compiled in as BRSIM_BINARY) and captures its
// output and exit status, for tests of the command line as a user sees it.
#pragma once

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>

struct CliResult {
  int status = -1;  // exit status
  std::string out;  // stdout and stderr, interleaved
};

inline CliResult run_brsim(const std::string& args) {
  CliResult r;
  const std::string cmd = std::string(BRSIM_BINARY) + " " + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  const int st = pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}
