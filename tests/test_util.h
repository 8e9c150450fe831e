// Helpers shared by the test executables: locating the bundled examples and the built tools.
#pragma once

#include <cstdlib>
#include <memory>
#include <string>

#include "kernel/spec.h"

namespace thalia::testing {

inline std::string SourceRoot() {
  const char* r = std::getenv("THALIA_SOURCE_ROOT");
  return r ? r : ".";
}
inline std::string BuildRoot() {
  const char* r = std::getenv("THALIA_BUILD_ROOT");
  return r ? r : ".";
}
inline std::string ExamplePath(const std::string& name) { return SourceRoot() + "/examples/" + name; }
inline std::string ThaliaBinary() { return BuildRoot() + "/tools/thalia"; }

// Loads a bundled example; aborts the test binary if it does not load (a broken example is a bug).
inline std::shared_ptr<const kernel::BrainSpec> LoadExample(const std::string& name) {
  auto s = kernel::LoadBrainSpec(ExamplePath(name));
  if (!s.ok()) {
    std::fprintf(stderr, "cannot load example %s: %s\n", name.c_str(), s.status().message().c_str());
    std::abort();
  }
  return s.value();
}

}  // namespace thalia::testing
