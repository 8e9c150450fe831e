// How a Status from the C++ libraries becomes a Python exception: ValueError for unusable input,
// thalia.FormatError for unusable traces and checkpoints, thalia.RunError for failed runs
// (python/thalia/_errors.py builds them, so their fields are filled in one place).
#pragma once

#include <pybind11/pybind11.h>

#include <cstdint>
#include <string>

#include "kernel/status.h"

namespace thalia::python {

// What the failing call was doing; it decides the exception a kInvalidInput or kIo becomes.
enum class Domain {
  kConfig,  // building a brain from a configuration or arguments: ValueError
  kFile,    // reading a trace or checkpoint: FormatError (OSError when the file system fails)
  kRun,     // running a brain: RunError
};

// Raises the exception for `status` (which must not be ok). `epoch` is the epoch the brain was
// at (-1 when there is no brain). Call with the GIL held.
[[noreturn]] void Raise(const Status& status, Domain domain, int64_t epoch = -1);

// Raises only if `status` is an error.
inline void Check(const Status& status, Domain domain, int64_t epoch = -1) {
  if (!status.ok()) Raise(status, domain, epoch);
}

}  // namespace thalia::python
