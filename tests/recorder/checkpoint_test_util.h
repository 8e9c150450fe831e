// Helpers of the checkpoint tests: a scratch folder, whole-file byte access and running the
// `thalia` binary as a child process (synchronously, or started to be killed).
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include "kernel/executor.h"
#include "tests/test_util.h"

namespace thalia::testing {

// Options of a run in this process (or with `workers` worker processes, launched by `launch`).
inline kernel::RunOptions Options(int workers = 0, bool keep_spikes = false, const std::string& launch = "") {
  kernel::RunOptions o;
  o.workers = workers;
  o.keep_spikes = keep_spikes;
  o.launch = launch;
  return o;
}

// A fresh folder under $TMPDIR (or the system's default), removed with its contents at the end.
class ScratchDir {
 public:
  ScratchDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "thalia-ckpt-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data()) ? tmpl : "";
  }
  ~ScratchDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

inline std::vector<uint8_t> ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}
inline void WriteBytes(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}
inline std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// The exit status of a reaped child (a waitpid status), or 128 + signal number.
inline int ExitStatus(int ws) { return WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws); }

// A `thalia` child process with stdout and stderr sent to files; killed and reaped if still
// running when destroyed.
class ThaliaProcess {
 public:
  // `env`: extra NAME=VALUE entries. `fsize_limit` > 0: RLIMIT_FSIZE set to it with SIGXFSZ
  // ignored, so a write past the limit fails with EFBIG, as a write to a full disk fails with
  // ENOSPC.
  ThaliaProcess(const std::vector<std::string>& args, const std::string& out_prefix,
                const std::vector<std::string>& env = {}, rlim_t fsize_limit = 0)
      : out_(out_prefix + ".out"), err_(out_prefix + ".err") {
    pid_ = ::fork();
    if (pid_ == 0) {
      int o = ::open(out_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      int e = ::open(err_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ::dup2(o, 1);
      ::dup2(e, 2);
      for (const std::string& kv : env) ::putenv(const_cast<char*>(kv.c_str()));
      if (fsize_limit > 0) {
        ::signal(SIGXFSZ, SIG_IGN);  // an ignored disposition survives exec
        rlimit lim{fsize_limit, fsize_limit};
        if (::setrlimit(RLIMIT_FSIZE, &lim) != 0) ::_exit(126);
      }
      std::vector<char*> argv;
      std::string bin = ThaliaBinary();
      argv.push_back(bin.data());
      for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      ::execv(bin.c_str(), argv.data());
      ::_exit(127);
    }
  }
  ~ThaliaProcess() {
    if (pid_ > 0 && status_ < 0) {
      ::kill(pid_, SIGKILL);
      Wait();
    }
  }
  ThaliaProcess(const ThaliaProcess&) = delete;
  ThaliaProcess& operator=(const ThaliaProcess&) = delete;

  pid_t pid() const { return pid_; }
  void Signal(int sig) { ::kill(pid_, sig); }
  // Exit status, or 128 + signal number.
  int Wait() {
    if (status_ >= 0) return status_;
    int ws = 0;
    while (::waitpid(pid_, &ws, 0) < 0 && errno == EINTR) {
    }
    status_ = ExitStatus(ws);
    return status_;
  }
  bool Exited() {
    if (status_ >= 0) return true;
    int ws = 0;
    if (::waitpid(pid_, &ws, WNOHANG) != pid_) return false;
    status_ = ExitStatus(ws);
    return true;
  }
  // Polls stderr until it contains `text` (true) or the process ends or `timeout_s` passes.
  bool WaitForStderr(const std::string& text, double timeout_s) {
    auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
    while (std::chrono::steady_clock::now() < end) {
      if (ReadText(err_).find(text) != std::string::npos) return true;
      if (Exited()) return ReadText(err_).find(text) != std::string::npos;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return false;
  }
  std::string out() const { return ReadText(out_); }
  std::string err() const { return ReadText(err_); }

 private:
  std::string out_, err_;
  pid_t pid_ = -1;
  int status_ = -1;
};

struct ThaliaResult {
  int status;
  std::string out, err;
};
// Runs `thalia args...` to its end (see ThaliaProcess).
inline ThaliaResult RunThalia(const std::vector<std::string>& args, const std::string& out_prefix,
                              const std::vector<std::string>& env = {}, rlim_t fsize_limit = 0) {
  ThaliaProcess p(args, out_prefix, env, fsize_limit);
  int st = p.Wait();
  return {st, p.out(), p.err()};
}

// The value of the last "digest <hex>" line of `thalia run` output ("" if none).
inline std::string DigestLine(const std::string& out) {
  size_t at = out.rfind("digest ");
  if (at == std::string::npos) return "";
  return out.substr(at + 7, 16);
}

}  // namespace thalia::testing
