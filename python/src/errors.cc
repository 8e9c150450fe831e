// Status to Python exception: the kind names are handed to thalia._errors.make_error, which
// picks the class and parses the worker, its regions and the epoch out of a worker failure.
#include "python/src/errors.h"

namespace py = pybind11;

namespace thalia::python {
namespace {

const char* KindName(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kOk: return "ok";
    case ErrorKind::kInvalidInput: return "invalid";
    case ErrorKind::kIo: return "io";
    case ErrorKind::kWorker: return "worker";
    case ErrorKind::kCorrupt: return "corrupt";
    case ErrorKind::kDiverged: return "diverged";
    case ErrorKind::kInternal: return "internal";
  }
  return "internal";
}

const char* DomainName(Domain domain) {
  switch (domain) {
    case Domain::kConfig: return "config";
    case Domain::kFile: return "file";
    case Domain::kRun: return "run";
  }
  return "run";
}

}  // namespace

void Raise(const Status& status, Domain domain, int64_t epoch) {
  py::object make = py::module_::import("thalia._errors").attr("make_error");
  py::object epoch_obj = epoch < 0 ? py::object(py::none()) : py::object(py::int_(epoch));
  py::object error = make(KindName(status.kind()), DomainName(domain), status.message(), epoch_obj);
  PyErr_SetObject(reinterpret_cast<PyObject*>(Py_TYPE(error.ptr())), error.ptr());
  throw py::error_already_set();
}

}  // namespace thalia::python
