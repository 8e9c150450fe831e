// Small POSIX helpers the trace writer and reader share: a move-only file descriptor, full
// writes and reads, and the fsync of a folder that makes a rename durable.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <string>

#include "kernel/status.h"

namespace thalia::recorder {

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() { reset(); }
  UniqueFd(UniqueFd&& o) noexcept : fd_(o.release()) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept {
    if (this != &o) reset(o.release());
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int release() {
    int f = fd_;
    fd_ = -1;
    return f;
  }
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

// Writes all n bytes (retrying short writes and EINTR); the error names `path`.
Status WriteAll(int fd, const void* data, size_t n, const std::string& path);
// Reads exactly n bytes at `offset`; returns the number read (less only at end of file).
Result<size_t> ReadAt(int fd, void* data, size_t n, uint64_t offset, const std::string& path);
// fsync of the folder holding `path`, so a rename in it survives a power loss.
Status SyncParentDir(const std::string& path);
std::string ErrnoText();

}  // namespace thalia::recorder
