// Helpers for the recorder and replay tests: a temporary folder, recording a run through the
// API, byte-level corruption (cut, flip) and running the built `thalia` binary.
#pragma once

#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "kernel/brain.h"
#include "recorder/trace_writer.h"
#include "tests/test_util.h"

namespace thalia::testing {

// A fresh folder under $TMPDIR (or the system's), removed with its contents at the end.
class TempDir {
 public:
  TempDir() {
    std::string base = std::filesystem::temp_directory_path().string() + "/thalia_test_XXXXXX";
    std::vector<char> buf(base.begin(), base.end());
    buf.push_back('\0');
    if (!mkdtemp(buf.data())) std::abort();
    path_ = buf.data();
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string File(const std::string& name) const { return path_ + "/" + name; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline std::vector<uint8_t> ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}
inline void WriteBytes(const std::string& path, const std::vector<uint8_t>& b) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

// Records `ticks` of `spec` to `path` through the API; `drive` (if given) runs between slices of
// `slice` ticks so a test can inject input. Returns the brain (for its spikes and digests).
inline std::unique_ptr<kernel::Brain> RecordRun(std::shared_ptr<const kernel::BrainSpec> spec,
                                                const std::string& path, kernel::Tick ticks,
                                                kernel::RunOptions opts = {},
                                                recorder::TraceWriterOptions wopts = {},
                                                const std::function<void(kernel::Brain&)>& drive = {},
                                                kernel::Tick slice = 0) {
  opts.keep_spikes = true;
  auto brain = kernel::Brain::Create(spec, opts);
  if (!brain.ok()) std::abort();
  auto w = recorder::TraceWriter::Open(path, *brain.value(), wopts);
  if (!w.ok()) std::abort();
  brain.value()->AddObserver(w.value().get());
  if (slice == 0) slice = ticks;
  while (brain.value()->tick() < ticks) {
    if (drive) drive(*brain.value());
    if (!brain.value()->RunUntil(std::min(ticks, brain.value()->tick() + slice)).ok()) std::abort();
  }
  brain.value()->RemoveObserver(w.value().get());
  if (!w.value()->Close().ok()) std::abort();
  return std::move(brain).value();
}

struct CommandResult {
  bool signaled = false;
  int exit_code = -1;
  std::string out;  // stdout and stderr together
};

// Runs `thalia ARGS` with output captured to a file in `dir`.
inline CommandResult RunThalia(const std::string& args, const TempDir& dir) {
  const std::string log = dir.File("cmd.log");
  const std::string cmd = "'" + ThaliaBinary() + "' " + args + " >'" + log + "' 2>&1";
  int status = std::system(cmd.c_str());
  CommandResult r;
  // std::system runs /bin/sh; a child killed by a signal shows as 128+N from the shell.
  if (WIFSIGNALED(status)) r.signaled = true;
  if (WIFEXITED(status)) {
    r.exit_code = WEXITSTATUS(status);
    if (r.exit_code > 128) r.signaled = true;
  }
  auto bytes = ReadBytes(log);
  r.out.assign(bytes.begin(), bytes.end());
  return r;
}

}  // namespace thalia::testing
