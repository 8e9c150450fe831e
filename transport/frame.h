// The wire format between coordinator and workers: a frame is a little-endian uint32 body length
// followed by the body, one FlatBuffers wire::Message (schemas/messages.fbs, identifier "THMS") —
// exactly what FlatBufferBuilder::FinishSizePrefixed produces. A receiver checks the length
// against its limit before reading the body, then runs flatbuffers::Verifier on the body.
// Rule: bump kProtocolVersion whenever messages.fbs changes in a way either side must know.
// Public API: installed with libthalia (thalia/meson.build lists the installed headers).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "kernel/status.h"
#include "schemas/messages_generated.h"

namespace thalia::transport {

// 2: regions split over workers (Setup parts, digest entries of parts).
inline constexpr uint32_t kProtocolVersion = 3;
inline constexpr size_t kFrameHeaderBytes = 4;
// Largest body accepted: room for the state of a region with ~100M synapses.
inline constexpr size_t kMaxFrameBytes = size_t{1} << 30;
// Smallest possible FlatBuffers body with a file identifier (root offset + identifier).
inline constexpr size_t kMinFrameBytes = 8;

// Checks one whole frame (length prefix included): the prefix against the frame's size and the
// limit first, then the Verifier. The returned message points into `frame`. The frame must
// start on an 8-byte boundary (FlatBuffers aligns fields relative to the frame's start, prefix
// included, which is why frames are verified whole).
Result<const wire::Message*> DecodeFrame(std::span<const uint8_t> frame,
                                         size_t limit = kMaxFrameBytes);

// Writes a whole frame (prefix included) with as few send() calls as the socket allows; never
// raises SIGPIPE (a dead peer is an error). With timeout_ms >= 0, a peer that stops reading for
// that long is a kWorker error starting with "timeout".
Status WriteFrame(int fd, std::span<const uint8_t> frame, int timeout_ms = -1);

// Reads frames from one socket into a reused buffer. ReadSome does a single read() of as many
// bytes as the buffer holds, so a frame that has arrived whole costs one system call, and after
// poll() reported the socket readable it never blocks: one reader per worker lets the
// coordinator wait for all workers at once. Bytes that follow a frame (a peer that sent two)
// are kept for the next ReadSome, which then returns the next frame without reading if it is
// whole. Not thread-safe.
class FrameReader {
 public:
  enum class Step { kNeedMore, kFrame, kEof };
  explicit FrameReader(size_t limit = kMaxFrameBytes) : limit_(limit) {}
  // kEof only at a frame boundary; an end inside a frame is an error.
  Result<Step> ReadSome(int fd);
  // The frame ReadSome last completed (prefix included), valid until the next ReadSome.
  std::span<const uint8_t> frame() const { return {buffer_.data(), frame_len_}; }
  bool mid_frame() const { return got_ > (complete_ ? frame_len_ : 0); }
  // True if the next ReadSome returns a frame already in the buffer, without reading.
  bool HasBufferedFrame() const;

 private:
  static constexpr size_t kInitialBytes = 4096;
  // Checks the length prefix once it is in (before any buffer is sized for the body) and sees
  // whether the frame is whole.
  Result<Step> Parse();

  size_t limit_;
  // The frame being read, prefix first, and any bytes that followed it; grows to the largest
  // frame seen, never shrinks. Its heap storage is aligned for any FlatBuffers scalar.
  std::vector<uint8_t> buffer_ = std::vector<uint8_t>(kInitialBytes);
  size_t got_ = 0;        // bytes of buffer_ filled
  size_t frame_len_ = 0;  // prefix + body, once the prefix is in; else 0
  bool complete_ = false;
};

// Reads one whole frame, waiting at most timeout_ms in all (< 0: forever). A timeout is a
// kWorker error whose message starts with "timeout".
Result<FrameReader::Step> ReadFrame(int fd, FrameReader* reader, int timeout_ms);

}  // namespace thalia::transport
