// Each OS resource is held by a small RAII owner; every failing call names the file and errno.
#include "recorder/checkpoint_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "kernel/big_alloc.h"
#include "recorder/file_util.h"

namespace thalia::recorder {
namespace {

// Removes the temporary file unless released (after the rename).
class TempFile {
 public:
  explicit TempFile(std::string path) : path_(std::move(path)) {}
  ~TempFile() {
    if (!path_.empty()) ::unlink(path_.c_str());
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  const std::string& path() const { return path_; }
  void Release() { path_.clear(); }

 private:
  std::string path_;
};

Status Errno(const std::string& what, const std::string& path) {
  return Status::Io(what + " " + path + ": " + std::strerror(errno));
}

std::atomic<uint64_t> files_written{0};

void MaybePauseForTest(const std::string& tmp) {
  const char* n = std::getenv("THALIA_TEST_PAUSE_BEFORE_RENAME");
  if (!n) return;
  uint64_t count = files_written.fetch_add(1) + 1;
  if (std::strtoull(n, nullptr, 10) != count) return;
  std::fprintf(stderr, "thalia: paused before rename %s\n", tmp.c_str());
  std::fflush(stderr);
  for (int i = 0; i < 600; ++i) ::usleep(100000);  // a test kills the process long before
}

std::string Folder(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}
}  // namespace

Status WriteFileAtomically(const std::string& path, std::span<const uint8_t> bytes) {
  const std::string folder = Folder(path);
  const std::string base = path.substr(path.rfind('/') == std::string::npos ? 0 : path.rfind('/') + 1);
  TempFile tmp(folder + "/." + base + ".tmp-" + std::to_string(::getpid()));
  {
    UniqueFd fd(::open(tmp.path().c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (!fd.valid()) return Errno("cannot create", tmp.path());
    THALIA_RETURN_IF_ERROR(WriteAll(fd.get(), bytes.data(), bytes.size(), tmp.path()));
    if (::fsync(fd.get()) != 0) return Errno("cannot fsync", tmp.path());
    // close() can report a deferred write error.
    if (::close(fd.release()) != 0) return Errno("cannot close", tmp.path());
  }
  MaybePauseForTest(tmp.path());
  if (::rename(tmp.path().c_str(), path.c_str()) != 0) return Errno("cannot rename to", path);
  tmp.Release();
  // The rename is durable only once the folder's entry is on disk.
  return SyncParentDir(path);
}

Result<std::vector<uint8_t>> ReadWholeFile(const std::string& path, uint64_t max_size) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    const bool missing = errno == ENOENT;
    Status st = Errno("cannot open", path);
    return missing ? Status::Invalid(st.message()) : st;
  }
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return Errno("cannot stat", path);
  if (!S_ISREG(st.st_mode)) return Status::Invalid(path + " is not a regular file");
  if (static_cast<uint64_t>(st.st_size) > max_size)
    return Status::Invalid(path + " is " + std::to_string(st.st_size) +
                           " bytes, more than the limit of " + std::to_string(max_size));
  std::vector<uint8_t> out = kernel::FreshBytes(static_cast<size_t>(st.st_size));
  size_t done = 0;
  while (done < out.size()) {
    ssize_t r = ::read(fd.get(), out.data() + done, out.size() - done);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return Errno("cannot read", path);
    if (r == 0) break;  // shrank while reading: decode sees it as truncated
    done += static_cast<size_t>(r);
  }
  out.resize(done);
  return out;
}

}  // namespace thalia::recorder
