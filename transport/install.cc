// The factory the kernel calls when a run asks for workers.
#include "transport/install.h"

#include "kernel/executor.h"
#include "transport/socket_executor.h"

namespace thalia::transport {

void Install() {
  kernel::SetParallelExecutorFactory(
      [](const kernel::BrainSpec& spec,
         const kernel::RunOptions& run) -> Result<std::unique_ptr<kernel::Executor>> {
        if (run.executor == "mpi")
          return Status::Invalid("--executor mpi: this build has no MPI executor");
        if (!run.executor.empty() && run.executor != "socket" && run.executor != "inproc")
          return Status::Invalid("--executor: expected inproc or socket, got '" + run.executor + "'");
        auto options = SocketOptionsFor(spec, run);
        if (!options.ok()) return options.status();
        return MakeSocketExecutor(std::move(options).value());
      });
}

}  // namespace thalia::transport
