// thalia._thalia: the compiled half of the thalia package (python/thalia/ is the public half).
#include <pybind11/pybind11.h>

#include "python/src/brain_binding.h"
#include "python/src/files_binding.h"

PYBIND11_MODULE(_thalia, m) {
  m.doc() = "The compiled core of the thalia package; import thalia instead.";
  thalia::python::BindBrain(m);
  thalia::python::BindFiles(m);
}
