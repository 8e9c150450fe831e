// MPI start-up and end for the `thalia` program (DESIGN.md, "Processes and transport"): under
// `mpirun -np N thalia run ... --executor mpi` every rank runs the same command line; rank 0
// goes on to coordinate, ranks 1..N-1 become workers here, before anything parses or writes files.
#pragma once

namespace thalia::transport {

// True if this build has the MPI executor (meson -Dmpi=enabled).
bool HaveMpi();

// Rank 0's hold on MPI, from MaybeStartMpi to the end of main(). Move-only.
class MpiSession {
 public:
  MpiSession() = default;
  explicit MpiSession(bool active) : active_(active) {}
  MpiSession(MpiSession&& o) noexcept : active_(o.active_) { o.active_ = false; }
  MpiSession& operator=(MpiSession&&) = delete;
  ~MpiSession() { (void)Finish(0); }
  bool active() const { return active_; }
  // Ends MPI for the whole job and returns `exit_code`. If the workers are idle (no MPI executor
  // is running), tells them to end and finalises: mpirun ends with this exit code. If an MPI
  // executor failed or is still running, calls MPI_Abort so mpirun ends every rank (the
  // failure was reported before): it does not return. Idempotent; nothing if inactive.
  int Finish(int exit_code);

 private:
  bool active_ = false;
};

// Call in main() right after MaybeRunWorker. Does nothing (inactive session) unless argv is
// `thalia run ... --executor mpi` and this build has MPI. Then initialises MPI; rank 0 returns
// an active session; every other rank serves as a worker until rank 0 ends, then exits the
// process. Also without mpirun (a single rank) it returns a session: the run then fails with a
// clear message asking for mpirun.
MpiSession MaybeStartMpi(int argc, char** argv);

// Starts MPI whatever argv says (test programs run under mpirun); as MaybeStartMpi otherwise.
// In a build without MPI, returns an inactive session.
MpiSession StartMpi(int argc, char** argv);

}  // namespace thalia::transport
