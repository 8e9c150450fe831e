// Small POSIX helpers the trace writer and reader share: full writes and reads, and the fsync of a folder that makes a rename durable.
// Public API: installed with libthalia (thalia/meson.build lists the installed headers).
#pragma once

#include <unistd.h>

#include <cstdint>
#include <string>

#include "kernel/status.h"
#include "transport/unique_fd.h"

namespace thalia::recorder {

// The one move-only descriptor owner of the project (recorder -> transport is an allowed arrow).
using transport::UniqueFd;

// Writes all n bytes (retrying short writes and EINTR); the error names `path`.
Status WriteAll(int fd, const void* data, size_t n, const std::string& path);
// Reads exactly n bytes at `offset`; returns the number read (less only at end of file).
Result<size_t> ReadAt(int fd, void* data, size_t n, uint64_t offset, const std::string& path);
// fsync of the folder holding `path`, so a rename in it survives a power loss.
Status SyncParentDir(const std::string& path);
std::string ErrnoText();

}  // namespace thalia::recorder
