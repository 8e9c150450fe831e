// Where the `thalia` installed with libthalia lies, for the spawned workers of a program that is
// not `thalia` itself. Only the copy of installed_worker.cc compiled into libthalia
// (thalia/meson.build) knows the install paths; the build tree's component libraries find none.
#pragma once

#include <string>

namespace thalia::transport {

// The `thalia` beside the shared libthalia this code runs from (the library's folder, then the
// relative path from libdir to bindir: a moved prefix or a DESTDIR copy finds its own), else
// <prefix>/<bindir>/thalia; the first that is executable, or empty.
std::string InstalledWorkerBinary();

}  // namespace thalia::transport
