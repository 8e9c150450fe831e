// Built by install_test.py against an installed libthalia only. Unlike examples/train_loop.cc it
// never calls MaybeRunWorker, so its spawned workers must be the `thalia` installed with the
// library, found without any variable set. Prints the versions, then (unless --versions) the
// libthalia it loaded, each worker's executable and the digest of a run of CONFIG for DURATION_MS.
//
// usage: spawn_installed CONFIG DURATION_MS | --versions
#include <dlfcn.h>
#include <unistd.h>

#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "kernel/brain.h"
#include "recorder/checkpoint_format.h"
#include "recorder/trace_format.h"
#include "thalia/version.h"
#include "transport/install.h"

namespace {

std::string ExecutableOf(int pid) {
  char path[4096];
  const std::string link = "/proc/" + std::to_string(pid) + "/exe";
  const ssize_t n = ::readlink(link.c_str(), path, sizeof path - 1);
  return n < 0 ? "?" : std::string(path, static_cast<size_t>(n));
}

}  // namespace

int main(int argc, char** argv) {
  const bool versions_only = argc == 2 && std::string(argv[1]) == "--versions";
  if (argc != 3 && !versions_only) {
    std::fprintf(stderr, "usage: spawn_installed CONFIG DURATION_MS | --versions\n");
    return 2;
  }
  const thalia::FormatVersionSet formats = thalia::FormatVersions();
  std::printf("header %s library %s\n", THALIA_VERSION, thalia::LibraryVersion());
  std::printf("formats trace %u/%u checkpoint %u/%u\n", formats.trace,
              thalia::recorder::kTraceFormatVersion, formats.checkpoint,
              thalia::recorder::kCheckpointVersion);
  if (versions_only) return 0;
  // Which libthalia this process loaded (the install test checks it is the installed one).
  Dl_info info{};
  if (::dladdr(reinterpret_cast<void*>(&thalia::LibraryVersion), &info) != 0 && info.dli_fname)
    std::printf("loaded %s\n", info.dli_fname);
  thalia::transport::Install();
  auto spec = thalia::kernel::LoadBrainSpec(argv[1]);
  if (!spec.ok()) {
    std::fprintf(stderr, "%s\n", spec.status().message().c_str());
    return 2;
  }
  thalia::kernel::RunOptions options;
  options.workers = 2;
  options.launch = "spawn";
  auto brain = thalia::kernel::Brain::Create(spec.value(), options);
  if (!brain.ok()) {
    std::fprintf(stderr, "%s\n", brain.status().message().c_str());
    return 1;
  }
  const thalia::kernel::Tick until =
      thalia::kernel::MsToTicks(std::atof(argv[2]), spec.value()->dt_ms);
  if (thalia::Status st = brain.value()->RunUntil(until); !st.ok()) {
    std::fprintf(stderr, "%s\n", st.message().c_str());
    return 1;
  }
  for (const auto& w : brain.value()->Stats())
    std::printf("worker %d %s\n", w.worker, ExecutableOf(w.pid).c_str());
  auto digest = brain.value()->Digest();
  if (!digest.ok()) {
    std::fprintf(stderr, "%s\n", digest.status().message().c_str());
    return 1;
  }
  std::printf("digest %016" PRIx64 "\n", digest.value());
  return 0;
}
