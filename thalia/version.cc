// The run-time side of thalia/version.h: the versions the library was built with.
#include "thalia/version.h"

#include "kernel/region.h"
#include "recorder/checkpoint_format.h"
#include "recorder/trace_format.h"
#include "transport/frame.h"

namespace thalia {

const char* LibraryVersion() { return THALIA_VERSION; }

FormatVersionSet FormatVersions() {
  return FormatVersionSet{
      .trace = recorder::kTraceFormatVersion,
      .checkpoint = recorder::kCheckpointVersion,
      .region_state = kernel::kRegionStateVersion,
      .protocol = transport::kProtocolVersion,
  };
}

}  // namespace thalia
