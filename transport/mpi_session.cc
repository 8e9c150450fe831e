// MPI start-up for `thalia run --executor mpi` and the end of the job. Worker ranks loop: wait
// for a Setup, serve that executor until its Shutdown, and again, until a Shutdown arrives
// instead of a Setup (rank 0's MpiSession::Finish) or a failure.
#include "transport/mpi_session.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "transport/codec.h"
#include "transport/frame.h"
#include "transport/mpi_world.h"
#include "transport/worker.h"

namespace thalia::transport {
namespace {

// How long a failed worker rank waits for rank 0 to read its Error and abort the job.
constexpr std::chrono::seconds kAwaitAbort{60};

bool AsksForMpi(int argc, char** argv) {
  if (argc < 2 || std::strcmp(argv[1], "run") != 0) return false;
  for (int i = 2; i < argc; ++i) {
    if (std::strcmp(argv[i], "--") == 0) return false;
    if (std::strcmp(argv[i], "--executor=mpi") == 0) return true;
    if (std::strcmp(argv[i], "--executor") == 0 && i + 1 < argc && std::strcmp(argv[i + 1], "mpi") == 0) return true;
  }
  return false;
}

[[noreturn]] void RunWorkerRank(const mpi::World& world) {
  mpi::MpiChannel channel(world.comm);
  while (true) {
    bool ended = false;
    mpi::MpiPeerLink peers(world.comm);  // the direct spike exchange, if the Setup asks for it
    int code = ServeFromSetup(channel, &ended, &peers);
    if (code != 0) {
      channel.AwaitAbort(kAwaitAbort);
      std::fprintf(stderr, "thalia: MPI rank %d failed and rank 0 did not end the job\n", world.rank);
      std::_Exit(code);  // without MPI_Finalize: mpirun ends the job
    }
    if (ended) break;
  }
  channel.Complete();
  MPI_Comm comm = world.comm;
  MPI_Comm_free(&comm);
  MPI_Finalize();
  std::exit(0);
}

// Tells every worker rank, waiting for a Setup, to end.
void ReleaseWorkers(const mpi::World& world) {
  flatbuffers::FlatBufferBuilder b(64);
  FinishMessage(&b, wire::Payload::Shutdown, wire::CreateShutdown(b));
  std::vector<MPI_Request> requests(static_cast<size_t>(world.size > 1 ? world.size - 1 : 0));
  for (int r = 1; r < world.size; ++r)
    MPI_Isend(b.GetBufferPointer(), static_cast<int>(b.GetSize()), MPI_BYTE, r, mpi::kFrameTag, world.comm,
              &requests[static_cast<size_t>(r - 1)]);
  MPI_Waitall(static_cast<int>(requests.size()), requests.data(), MPI_STATUSES_IGNORE);
}

}  // namespace

bool HaveMpi() { return true; }

int MpiSession::Finish(int exit_code) {
  if (!active_) return exit_code;
  active_ = false;
  const mpi::World* world = mpi::GetWorld();
  if (mpi::WorkersState() != mpi::Workers::kIdle) {
    std::fflush(nullptr);
    MPI_Abort(world->comm, exit_code != 0 ? exit_code : 1);
  }
  ReleaseWorkers(*world);
  MPI_Comm comm = world->comm;
  MPI_Comm_free(&comm);
  MPI_Finalize();
  return exit_code;
}

MpiSession MaybeStartMpi(int argc, char** argv) {
  if (!AsksForMpi(argc, argv)) return MpiSession();
  return StartMpi(argc, argv);
}

MpiSession StartMpi(int argc, char** argv) {
  int provided = 0;
  // Only the main thread calls MPI; other threads (trace and checkpoint writers) never do.
  MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
  mpi::World world;
  MPI_Comm_dup(MPI_COMM_WORLD, &world.comm);
  MPI_Comm_rank(world.comm, &world.rank);
  MPI_Comm_size(world.comm, &world.size);
  mpi::SetWorld(world);
  if (world.rank != 0) RunWorkerRank(world);
  return MpiSession(true);
}

}  // namespace thalia::transport
