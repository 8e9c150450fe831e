// MPI state shared by the session and the executor; frame transfer; the worker ranks' channel.
#include "transport/mpi_world.h"

#include <thread>

#include "transport/frame.h"

namespace thalia::transport::mpi {
namespace {

// Written once by the main thread at start-up, then only read; only that thread uses MPI.
World g_world;
bool g_have_world = false;
Workers g_workers = Workers::kIdle;

}  // namespace

const World* GetWorld() { return g_have_world ? &g_world : nullptr; }
void SetWorld(const World& world) {
  g_world = world;
  g_have_world = true;
}
Workers WorkersState() { return g_workers; }
void SetWorkersState(Workers state) { g_workers = state; }

void Backoff::Pause() {
  // ~64 polls cost a few microseconds each; after that, sleeps of 10 us doubling to 200 us. On
  // an oversubscribed machine a spinning rank would take the core a region needs.
  constexpr int kFreePolls = 64;
  constexpr int kMaxPauseUs = 200;
  if (++polls_ <= kFreePolls) return;
  pause_us_ = pause_us_ == 0 ? 10 : std::min(kMaxPauseUs, pause_us_ * 2);
  std::this_thread::sleep_for(std::chrono::microseconds(pause_us_));
}

Result<bool> TryReceiveFrame(MPI_Comm comm, int source, std::vector<uint8_t>* buffer, int tag) {
  int flag = 0;
  MPI_Status status;
  MPI_Iprobe(source, tag, comm, &flag, &status);
  if (!flag) return false;
  int count = 0;
  MPI_Get_count(&status, MPI_BYTE, &count);
  if (count == MPI_UNDEFINED || count < 0 || static_cast<size_t>(count) < kFrameHeaderBytes + kMinFrameBytes ||
      static_cast<size_t>(count) > kFrameHeaderBytes + kMaxFrameBytes)
    return Status::Corrupt("an MPI message of " + std::to_string(count) + " bytes from rank " +
                           std::to_string(source) + " is no frame (limit " + std::to_string(kMaxFrameBytes) + ")");
  buffer->resize(static_cast<size_t>(count));
  MPI_Recv(buffer->data(), count, MPI_BYTE, source, tag, comm, MPI_STATUS_IGNORE);
  return true;
}

Result<std::span<const uint8_t>> MpiChannel::Receive() {
  Backoff backoff;
  while (true) {
    if (send_ != MPI_REQUEST_NULL) {
      int flag = 0;
      MPI_Test(&send_, &flag, MPI_STATUS_IGNORE);
    }
    auto got = TryReceiveFrame(comm_, 0, &buffer_);
    if (!got.ok()) return got.status();
    if (got.value()) return std::span<const uint8_t>(buffer_.data(), buffer_.size());
    backoff.Pause();
  }
}

Status MpiChannel::Send(std::span<const uint8_t> frame) {
  if (frame.size() > kFrameHeaderBytes + kMaxFrameBytes)
    return Status::Internal("frame of " + std::to_string(frame.size()) + " bytes is over the limit");
  Complete();
  out_.assign(frame.begin(), frame.end());
  MPI_Isend(out_.data(), static_cast<int>(out_.size()), MPI_BYTE, 0, kFrameTag, comm_, &send_);
  return Status::Ok();
}

void MpiChannel::Complete() {
  if (send_ != MPI_REQUEST_NULL) MPI_Wait(&send_, MPI_STATUS_IGNORE);
}

void MpiChannel::AwaitAbort(std::chrono::seconds limit) {
  const auto end = std::chrono::steady_clock::now() + limit;
  Backoff backoff;
  while (std::chrono::steady_clock::now() < end) {
    int flag = 0;
    if (send_ != MPI_REQUEST_NULL) MPI_Test(&send_, &flag, MPI_STATUS_IGNORE);  // the Error must leave
    flag = 0;
    MPI_Iprobe(0, kFrameTag, comm_, &flag, MPI_STATUS_IGNORE);
    if (flag) return;
    backoff.Pause();
  }
}

MpiPeerLink::~MpiPeerLink() {
  // A rank ends its link only once its peers have what it sent (they received every epoch's
  // spikes before the coordinator could end the run).
  for (Out& o : out_)
    if (o.request != MPI_REQUEST_NULL) MPI_Wait(&o.request, MPI_STATUS_IGNORE);
}

Status MpiPeerLink::Send(int peer, std::span<const uint8_t> frame) {
  if (peer < 0) return Status::Internal("no worker " + std::to_string(peer));
  if (frame.size() > kFrameHeaderBytes + kMaxFrameBytes)
    return Status::Invalid("a spike exchange of " + std::to_string(frame.size()) + " bytes for worker " +
                           std::to_string(peer) + " is over the frame limit");
  if (out_.size() <= static_cast<size_t>(peer)) out_.resize(static_cast<size_t>(peer) + 1);
  Out& o = out_[static_cast<size_t>(peer)];
  if (o.request != MPI_REQUEST_NULL) MPI_Wait(&o.request, MPI_STATUS_IGNORE);
  o.bytes.assign(frame.begin(), frame.end());
  MPI_Isend(o.bytes.data(), static_cast<int>(o.bytes.size()), MPI_BYTE, peer + 1, kPeerTag, comm_, &o.request);
  return Status::Ok();
}

Result<std::span<const uint8_t>> MpiPeerLink::Receive(int peer) {
  Backoff backoff;
  while (true) {
    // Sends still in flight progress while this rank waits.
    for (Out& o : out_)
      if (o.request != MPI_REQUEST_NULL) {
        int flag = 0;
        MPI_Test(&o.request, &flag, MPI_STATUS_IGNORE);
      }
    auto got = TryReceiveFrame(comm_, peer + 1, &in_, kPeerTag);
    if (!got.ok()) return got.status();
    if (got.value()) return std::span<const uint8_t>(in_.data(), in_.size());
    backoff.Pause();
  }
}

}  // namespace thalia::transport::mpi
