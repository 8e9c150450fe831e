// MpiSession in a build without MPI (meson -Dmpi=disabled): no rank ever starts; `--executor
// mpi` is refused by the executor factory (transport/install.cc).
#include "transport/mpi_session.h"

namespace thalia::transport {

bool HaveMpi() { return false; }

int MpiSession::Finish(int exit_code) {
  active_ = false;
  return exit_code;
}

MpiSession MaybeStartMpi(int, char**) { return MpiSession(); }
MpiSession StartMpi(int, char**) { return MpiSession(); }

}  // namespace thalia::transport
