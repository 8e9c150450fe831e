// POSIX file helpers; every error says which file and what the system said.
#include "recorder/file_util.h"

#include <fcntl.h>

#include <cerrno>
#include <cstring>

namespace thalia::recorder {

std::string ErrnoText() { return std::strerror(errno); }

Status WriteAll(int fd, const void* data, size_t n, const std::string& path) {
  const auto* p = static_cast<const uint8_t*>(data);
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return Status::Io(path + ": write failed: " + ErrnoText());
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
  return Status::Ok();
}

Result<size_t> ReadAt(int fd, void* data, size_t n, uint64_t offset, const std::string& path) {
  auto* p = static_cast<uint8_t*>(data);
  size_t done = 0;
  while (done < n) {
    ssize_t r = ::pread(fd, p + done, n - done, static_cast<off_t>(offset + done));
    if (r < 0) {
      if (errno == EINTR) continue;
      return Status::Io(path + ": read failed: " + ErrnoText());
    }
    if (r == 0) break;
    done += static_cast<size_t>(r);
  }
  return done;
}

Status SyncParentDir(const std::string& path) {
  size_t slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) return Status::Io(dir + ": cannot open folder to sync it: " + ErrnoText());
  if (::fsync(fd.get()) != 0) return Status::Io(dir + ": fsync failed: " + ErrnoText());
  return Status::Ok();
}

}  // namespace thalia::recorder
