// Helpers of the fault-injection tests: this process as the subreaper of everything it starts
// (so an orphaned worker becomes our child and is seen), a scan of /proc for our children, and
// `thalia` runs with a file-size limit (a full disk) or a worker fault hook in the environment.
#pragma once

#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "recorder/checkpoint.h"
#include "recorder/checkpoint_series.h"
#include "recorder/trace_reader.h"
#include "tests/recorder/checkpoint_test_util.h"

namespace thalia::testing {

// Makes this process the reaper of its orphaned descendants (a worker whose coordinator died
// without reaping it becomes our child instead of init's). Idempotent.
inline void BecomeSubreaper() { (void)::prctl(PR_SET_CHILD_SUBREAPER, 1); }

// The processes whose parent is `parent` (running or zombie), from /proc.
inline std::vector<pid_t> ChildrenOf(pid_t parent) {
  std::vector<pid_t> out;
  for (const auto& e : std::filesystem::directory_iterator("/proc")) {
    const std::string name = e.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in(e.path() / "stat");
    std::string stat((std::istreambuf_iterator<char>(in)), {});
    // pid (comm) state ppid ...: comm may hold spaces and parentheses, so parse after the last ')'.
    size_t close = stat.rfind(')');
    if (close == std::string::npos) continue;
    char state = 0;
    long ppid = -1;
    if (std::sscanf(stat.c_str() + close + 1, " %c %ld", &state, &ppid) == 2 && ppid == parent)
      out.push_back(static_cast<pid_t>(std::stol(name)));
  }
  return out;
}

// Our children other than `except`: after a `thalia` run ended and was reaped, any is a worker
// its coordinator left behind.
inline std::vector<pid_t> StrayChildren() { return ChildrenOf(::getpid()); }

// Waits up to `timeout_s` for every stray child to end, reaping them; returns those still alive.
inline std::vector<pid_t> ReapStrays(double timeout_s) {
  auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  while (true) {
    int ws;
    while (::waitpid(-1, &ws, WNOHANG) > 0) {
    }
    auto left = StrayChildren();
    if (left.empty() || std::chrono::steady_clock::now() >= end) return left;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

// Runs `thalia args...` to its end with stdout/stderr in files, extra environment entries and,
// if fsize_limit > 0, RLIMIT_FSIZE set to it with SIGXFSZ ignored: a write past the limit then
// fails with EFBIG, as a write to a full disk fails with ENOSPC.
inline ThaliaResult RunThaliaLimited(const std::vector<std::string>& args, const std::string& out_prefix,
                                     const std::vector<std::string>& env, rlim_t fsize_limit) {
  return RunThalia(args, out_prefix, env, fsize_limit);
}

// What a trace file holds when read to its end strictly: epochs, whether it closed cleanly, and
// the error if it is not a readable prefix.
struct TraceSummary {
  std::string error;
  uint64_t epochs = 0;
  bool complete = false;
};
inline TraceSummary ReadTrace(const std::string& path) {
  TraceSummary s;
  auto r = recorder::TraceReader::Open(path);
  if (!r.ok()) {
    s.error = r.status().message();
    return s;
  }
  recorder::DecodedRecord rec;
  while (true) {
    auto more = r.value()->Next(&rec);
    if (!more.ok()) {
      s.error = more.status().message();
      return s;
    }
    if (!more.value()) break;
  }
  s.epochs = r.value()->epochs_read();
  s.complete = r.value()->complete();
  return s;
}

// The checkpoints in `dir`, oldest first (none if the folder does not exist).
inline std::vector<recorder::CheckpointEntry> Checkpoints(const std::string& dir) {
  if (!std::filesystem::exists(dir)) return {};
  auto l = recorder::ListCheckpoints(dir);
  return l.ok() ? l.value() : std::vector<recorder::CheckpointEntry>{};
}

// The digest `thalia run tiny.json --until UNTIL` prints, computed once per UNTIL.
inline std::string StraightDigest(const std::string& until) {
  static std::map<std::string, std::string> cache;
  auto it = cache.find(until);
  if (it != cache.end()) return it->second;
  ScratchDir dir;
  auto r = RunThalia({"run", ExamplePath("tiny.json"), "--until", until, "--quiet"}, dir / "straight");
  if (r.status != 0) return "straight run failed: " + r.err;
  return cache[until] = DigestLine(r.out);
}

inline bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace thalia::testing
