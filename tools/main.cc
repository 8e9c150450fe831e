// The `thalia` command: a thin main over the subcommand table.
#include <cstdio>
#include <cstring>
#include <new>
#include <string>

#include "tools/commands.h"
#include "transport/mpi_session.h"
#include "transport/worker.h"

namespace {

struct Command {
  const char* name;
  int (*run)(int, char**);
  const char* summary;
};

const Command kCommands[] = {
    {"run", thalia::tools::RunCommand, "run a brain configuration (sequential or parallel)"},
    {"replay", thalia::tools::ReplayCommand, "replay a trace in this process and compare it with the record"},
    {"trace", thalia::tools::TraceCommand, "inspect a trace: info, spikes (CSV), raster (SVG)"},
    {"regions", thalia::tools::RegionsCommand, "list the registered region types"},
    {"checkpoint", thalia::tools::CheckpointCommand, "inspect a checkpoint (checkpoint info FILE)"},
};

void Usage(FILE* out) {
  std::fprintf(out, "usage: thalia COMMAND [options]   (thalia COMMAND --help for details)\n\ncommands:\n");
  for (const Command& c : kCommands) std::fprintf(out, "  %-12s %s\n", c.name, c.summary);
}

}  // namespace

int main(int argc, char** argv) {
  thalia::transport::MaybeRunWorker(argc, argv);  // spawned workers run and exit here
  auto mpi = thalia::transport::MaybeStartMpi(argc, argv);  // so do MPI ranks other than 0
  if (argc < 2) {
    Usage(stderr);
    return 2;
  }
  std::string cmd = argv[1];
  if (cmd == "--help" || cmd == "-h" || cmd == "help") {
    Usage(stdout);
    return 0;
  }
  for (const Command& c : kCommands) {
    if (cmd != c.name) continue;
    // The libraries report failures as Status; what is left is memory running out somewhere
    // other than a region's build (which says which region): a failed run, said plainly.
    try {
      return mpi.Finish(c.run(argc - 2, argv + 2));
    } catch (const std::bad_alloc&) {
      std::fprintf(stderr, "thalia %s: out of memory\n", c.name);
      return mpi.Finish(1);
    }
  }
  std::fprintf(stderr, "thalia: unknown command '%s'\n\n", cmd.c_str());
  Usage(stderr);
  return 2;
}
