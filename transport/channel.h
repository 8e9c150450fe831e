// The worker's link to its coordinator: whole frames in, whole frames out. The worker loop
// (transport/worker.h) is written against this, so Unix sockets and MPI share one loop.
// Public API: installed with libthalia (thalia/meson.build lists the installed headers).
#pragma once

#include <cstdint>
#include <span>

#include "kernel/status.h"
#include "transport/frame.h"

namespace thalia::transport {

class Channel {
 public:
  virtual ~Channel() = default;
  // Waits (without a deadline) for the next frame from the coordinator, length prefix included,
  // starting on an 8-byte boundary and valid until the next Receive. An empty span means the
  // coordinator is gone and the worker should end quietly; an error means the link is broken.
  virtual Result<std::span<const uint8_t>> Receive() = 0;
  // Sends one whole frame (length prefix included).
  virtual Status Send(std::span<const uint8_t> frame) = 0;
};

// A Unix socket to the coordinator (not owned).
class SocketChannel final : public Channel {
 public:
  explicit SocketChannel(int fd) : fd_(fd) {}
  Result<std::span<const uint8_t>> Receive() override;
  Status Send(std::span<const uint8_t> frame) override;

 private:
  int fd_;
  FrameReader reader_;
};

}  // namespace thalia::transport
