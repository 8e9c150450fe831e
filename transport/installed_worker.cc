// The install paths come from the build (thalia/meson.build defines THALIA_INSTALL_BINDIR and,
// when libdir and bindir are both under the prefix, THALIA_LIBDIR_TO_BINDIR) for libthalia only, so
// programs of the build tree never pick up some other installed thalia.
#include "transport/installed_worker.h"

#include <dlfcn.h>
#include <unistd.h>

#include <filesystem>
#include <system_error>

namespace thalia::transport {
namespace {

[[maybe_unused]] bool Executable(const std::filesystem::path& path) {
  return ::access(path.c_str(), X_OK) == 0;
}

#ifdef THALIA_LIBDIR_TO_BINDIR
// dladdr names the object holding this variable: libthalia.so when the library is shared, the
// program itself when it is static (then the program's folder says nothing of the install).
const char kAnchor = 0;

std::filesystem::path BesideSharedLibrary() {
  Dl_info info{};
  if (::dladdr(&kAnchor, &info) == 0 || info.dli_fname == nullptr) return {};
  std::error_code ec, ec_self;
  const auto object = std::filesystem::canonical(info.dli_fname, ec);
  const auto self = std::filesystem::canonical("/proc/self/exe", ec_self);
  if (ec || (!ec_self && object == self)) return {};
  return (object.parent_path() / THALIA_LIBDIR_TO_BINDIR / "thalia").lexically_normal();
}
#endif

}  // namespace

std::string InstalledWorkerBinary() {
#ifdef THALIA_LIBDIR_TO_BINDIR
  if (auto beside = BesideSharedLibrary(); !beside.empty() && Executable(beside))
    return beside.string();
#endif
#ifdef THALIA_INSTALL_BINDIR
  if (const std::filesystem::path installed =
          std::filesystem::path(THALIA_INSTALL_BINDIR) / "thalia";
      Executable(installed))
    return installed.string();
#endif
  return "";
}

}  // namespace thalia::transport
