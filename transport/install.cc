// The factory the kernel calls when a run asks for workers: the socket executor, or the MPI
// executor in builds with MPI (THALIA_HAVE_MPI, set by meson -Dmpi=enabled).
#include "transport/install.h"

#include "kernel/executor.h"
#include "transport/socket_executor.h"
#if THALIA_HAVE_MPI
#include "transport/mpi_executor.h"
#endif

namespace thalia::transport {

void Install() {
  kernel::SetParallelExecutorFactory(
      [](const kernel::BrainSpec& spec,
         const kernel::RunOptions& run) -> Result<std::unique_ptr<kernel::Executor>> {
#if THALIA_HAVE_MPI
        if (run.executor == "mpi") {
          auto options = MpiOptionsFor(spec, run);
          if (!options.ok()) return options.status();
          return MakeMpiExecutor(std::move(options).value());
        }
        const char* const kKinds = "inproc, socket or mpi";
#else
        if (run.executor == "mpi")
          return Status::Invalid("--executor mpi: this build has no MPI executor (configure with meson -Dmpi=enabled)");
        const char* const kKinds = "inproc or socket";
#endif
        if (!run.executor.empty() && run.executor != "socket" && run.executor != "inproc")
          return Status::Invalid(std::string("--executor: expected ") + kKinds + ", got '" + run.executor + "'");
        auto options = SocketOptionsFor(spec, run);
        if (!options.ok()) return options.status();
        return MakeSocketExecutor(std::move(options).value());
      });
}

}  // namespace thalia::transport
