// Whole-file I/O for checkpoints: an atomic replace (temporary file, fsync, rename, fsync of the
// folder) and a bounded read. POSIX only.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "kernel/status.h"

namespace thalia::recorder {

// Replaces `path` with `bytes` so that a crash at any moment leaves either the previous file (or
// none) or the complete new one, never a mix. The temporary file is `.<name>.tmp-<pid>` in the
// same folder and is removed on failure.
//
// Test hook: with THALIA_TEST_PAUSE_BEFORE_RENAME=N in the environment, the Nth file this process
// writes (counting from 1) stops after its fsync and before its rename: it prints
// "thalia: paused before rename <tmp>" on stderr and sleeps, so a test can kill the process there.
Status WriteFileAtomically(const std::string& path, std::span<const uint8_t> bytes);

// Reads a whole file; a file larger than `max_size` is refused before any of it is read.
Result<std::vector<uint8_t>> ReadWholeFile(const std::string& path, uint64_t max_size);

}  // namespace thalia::recorder
