// A handle on one child process: it reaps its child in its destructor (killing it first if it
// still runs), so no zombie survives any path out of the code that started it.
#pragma once

#include <sys/types.h>

#include <string>

namespace thalia::transport {

class ChildProcess {
 public:
  ChildProcess() = default;
  explicit ChildProcess(pid_t pid) : pid_(pid) {}
  ~ChildProcess() { KillAndReap(); }
  ChildProcess(ChildProcess&& o) noexcept;
  ChildProcess& operator=(ChildProcess&& o) noexcept;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  bool running() const { return pid_ > 0 && !reaped_; }
  // Reaps the child if it has exited; true once it is reaped.
  bool TryReap();
  // Waits up to timeout_ms for the child to exit by itself, then kills it; always reaps.
  void WaitOrKill(int timeout_ms);
  void KillAndReap() { WaitOrKill(0); }
  // How the child ended ("exited with status 1", "was killed by signal 9 (SIGKILL)"), once reaped.
  std::string Describe() const;
  // Forgets the child without reaping it (for the forked child's copy of its siblings' handles).
  void Abandon() { pid_ = -1; }

 private:
  pid_t pid_ = -1;
  bool reaped_ = false;
  int wait_status_ = 0;
};

}  // namespace thalia::transport
