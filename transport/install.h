// Makes the kernel use the socket executor for runs with workers (kernel::SetParallelExecutorFactory).
// Public API: installed with libthalia (thalia/meson.build lists the installed headers).
#pragma once

namespace thalia::transport {

// Call once before creating a Brain that may run in parallel (thalia run and tests do).
void Install();

}  // namespace thalia::transport
