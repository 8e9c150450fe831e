// `thalia regions`: the registered region types, with their default sizes.
#include <cstdio>

#include "kernel/registry.h"
#include "tools/args.h"
#include "tools/commands.h"

namespace thalia::tools {

int RegionsCommand(int argc, char** argv) {
  Args args("thalia regions", "Lists the region types a configuration can use (\"type\" of a region).");
  if (Status st = args.Parse(argc, argv); !st.ok()) {
    std::fprintf(stderr, "thalia regions: %s\n", st.message().c_str());
    return 2;
  }
  if (args.help()) {
    std::printf("%s", args.Help().c_str());
    return 0;
  }
  std::printf("%-12s %8s  %s\n", "type", "neurons", "description");
  for (const kernel::RegionType* t : kernel::RegionTypes())
    std::printf("%-12s %8u  %s\n", t->name.c_str(), t->default_size, t->description.c_str());
  return 0;
}

}  // namespace thalia::tools
