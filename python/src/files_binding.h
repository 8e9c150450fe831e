// The C++ side of thalia.Trace, Trace.replay and thalia.Checkpoint: one pass over a trace into
// numpy arrays, replay verdicts as dicts, and what a checkpoint holds.
#pragma once

#include <pybind11/pybind11.h>

namespace thalia::python {

// Registers thalia._thalia.scan_trace, read_spikes, replay and read_checkpoint.
void BindFiles(pybind11::module_& m);

}  // namespace thalia::python
