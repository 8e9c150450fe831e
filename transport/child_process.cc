// Reaping: waitpid with WNOHANG in a short sleep loop bounded by the timeout, then SIGKILL and a
// blocking waitpid (a SIGKILLed child always ends, so that wait is bounded).
#include "transport/child_process.h"

#include <sys/wait.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <ctime>
#include <utility>

namespace thalia::transport {

ChildProcess::ChildProcess(ChildProcess&& o) noexcept
    : pid_(std::exchange(o.pid_, -1)), reaped_(o.reaped_), wait_status_(o.wait_status_) {}

ChildProcess& ChildProcess::operator=(ChildProcess&& o) noexcept {
  if (this != &o) {
    KillAndReap();
    pid_ = std::exchange(o.pid_, -1);
    reaped_ = o.reaped_;
    wait_status_ = o.wait_status_;
  }
  return *this;
}

bool ChildProcess::TryReap() {
  if (pid_ <= 0) return true;
  if (reaped_) return true;
  int status = 0;
  pid_t r;
  do {
    r = ::waitpid(pid_, &status, WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r == pid_ || (r < 0 && errno == ECHILD)) {
    reaped_ = true;
    wait_status_ = r == pid_ ? status : 0;
  }
  return reaped_;
}

void ChildProcess::WaitOrKill(int timeout_ms) {
  if (pid_ <= 0 || reaped_) return;
  const timespec step{0, 1000000};  // 1 ms
  for (int waited = 0; waited < timeout_ms; ++waited) {
    if (TryReap()) return;
    ::nanosleep(&step, nullptr);
  }
  if (TryReap()) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  pid_t r;
  do {
    r = ::waitpid(pid_, &status, 0);
  } while (r < 0 && errno == EINTR);
  reaped_ = true;
  wait_status_ = r == pid_ ? status : 0;
}

std::string ChildProcess::Describe() const {
  if (pid_ <= 0) return "not started";
  if (!reaped_) return "still running";
  if (WIFEXITED(wait_status_)) return "exited with status " + std::to_string(WEXITSTATUS(wait_status_));
  if (WIFSIGNALED(wait_status_)) {
    int sig = WTERMSIG(wait_status_);
    const char* abbrev = sigabbrev_np(sig);
    return "was killed by signal " + std::to_string(sig) + (abbrev ? std::string(" (SIG") + abbrev + ")" : "");
  }
  return "ended with wait status " + std::to_string(wait_status_);
}

}  // namespace thalia::transport
