// Frames: the size limit is checked as soon as the 4 length bytes are in, before any buffer is
// sized for the body, so a hostile length can never make the reader allocate.
#include "transport/frame.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

namespace thalia::transport {

Result<const wire::Message*> DecodeFrame(std::span<const uint8_t> frame, size_t limit) {
  if (frame.size() < kFrameHeaderBytes) return Status::Corrupt("frame shorter than its length prefix");
  const size_t body = frame.size() - kFrameHeaderBytes;
  if (body > limit)
    return Status::Corrupt("frame of " + std::to_string(body) + " bytes exceeds the limit of " + std::to_string(limit));
  if (body < kMinFrameBytes)
    return Status::Corrupt("frame of " + std::to_string(body) + " bytes is too short for a message");
  if (flatbuffers::GetPrefixedSize(frame.data()) != body)
    return Status::Corrupt("frame length prefix says " + std::to_string(flatbuffers::GetPrefixedSize(frame.data())) +
                           " bytes, the frame has " + std::to_string(body));
  if (!flatbuffers::BufferHasIdentifier(frame.data(), wire::MessageIdentifier(), /*size_prefixed=*/true))
    return Status::Corrupt("frame is not a Thalia message (wrong file identifier)");
  flatbuffers::Verifier verifier(frame.data(), frame.size(), /*max_depth=*/64, /*max_tables=*/1u << 22);
  if (!wire::VerifySizePrefixedMessageBuffer(verifier))
    return Status::Corrupt("frame of " + std::to_string(body) + " bytes fails FlatBuffers verification");
  const wire::Message* m = wire::GetSizePrefixedMessage(frame.data());
  if (m->payload_type() == wire::Payload::NONE) return Status::Corrupt("frame holds an empty message");
  // The Verifier accepts a union whose type is set but whose table is absent; every reader
  // dereferences payload_as_<Type>() once the type matched, so such a frame is refused here.
  if (m->payload() == nullptr) return Status::Corrupt("frame names a payload type but holds no payload");
  return m;
}

Status WriteFrame(int fd, std::span<const uint8_t> frame, int timeout_ms) {
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms < 0 ? 0 : timeout_ms);
  const int flags = MSG_NOSIGNAL | (timeout_ms >= 0 ? MSG_DONTWAIT : 0);
  size_t sent = 0;
  while (sent < frame.size()) {
    ssize_t n = ::send(fd, frame.data() + sent, frame.size() - sent, flags);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
        pollfd p{fd, POLLOUT, 0};
        if (left <= 0 || ::poll(&p, 1, static_cast<int>(left)) == 0)
          return Status::Worker("timeout: the peer read nothing for " + std::to_string(timeout_ms) + " ms");
        continue;
      }
      return Status::Worker(std::string("cannot send to the peer: ") + std::strerror(errno));
    }
    sent += static_cast<size_t>(n);
  }
  return Status::Ok();
}

Result<FrameReader::Step> FrameReader::ReadSome(int fd) {
  if (complete_) {
    complete_ = false;
    header_got_ = 0;
    body_got_ = 0;
    body_len_ = 0;
  }
  uint8_t* dst;
  size_t want;
  if (header_got_ < kFrameHeaderBytes) {
    dst = buffer_.data() + header_got_;
    want = kFrameHeaderBytes - header_got_;
  } else {
    dst = buffer_.data() + kFrameHeaderBytes + body_got_;
    want = body_len_ - body_got_;
  }
  ssize_t n;
  do {
    n = ::read(fd, dst, want);
  } while (n < 0 && errno == EINTR);
  // A reset is how a peer that died with our data unread says goodbye: an end like EOF.
  if (n < 0 && errno != ECONNRESET)
    return Status::Worker(std::string("cannot read from the peer: ") + std::strerror(errno));
  if (n <= 0) {
    if (!mid_frame()) return Step::kEof;
    return Status::Worker("the peer closed the connection in the middle of a frame");
  }
  if (header_got_ < kFrameHeaderBytes) {
    header_got_ += static_cast<size_t>(n);
    if (header_got_ < kFrameHeaderBytes) return Step::kNeedMore;
    const uint8_t* h = buffer_.data();
    uint32_t len = static_cast<uint32_t>(h[0]) | static_cast<uint32_t>(h[1]) << 8 |
                   static_cast<uint32_t>(h[2]) << 16 | static_cast<uint32_t>(h[3]) << 24;
    if (len > limit_)
      return Status::Corrupt("frame announces " + std::to_string(len) + " bytes, over the limit of " +
                             std::to_string(limit_));
    if (len < kMinFrameBytes)
      return Status::Corrupt("frame announces " + std::to_string(len) + " bytes, too short for a message");
    body_len_ = len;
    if (buffer_.size() < kFrameHeaderBytes + len) buffer_.resize(kFrameHeaderBytes + len);
    return Step::kNeedMore;
  }
  body_got_ += static_cast<size_t>(n);
  if (body_got_ < body_len_) return Step::kNeedMore;
  complete_ = true;
  return Step::kFrame;
}

Result<FrameReader::Step> ReadFrame(int fd, FrameReader* reader, int timeout_ms) {
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms < 0 ? 0 : timeout_ms);
  while (true) {
    int wait = -1;
    if (timeout_ms >= 0) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
      wait = left < 0 ? 0 : static_cast<int>(left);
    }
    pollfd p{fd, POLLIN, 0};
    int r = ::poll(&p, 1, wait);
    if (r < 0) {
      if (errno == EINTR) continue;
      return Status::Worker(std::string("poll failed: ") + std::strerror(errno));
    }
    if (r == 0)
      return Status::Worker("timeout: no message within " + std::to_string(timeout_ms) + " ms");
    auto step = reader->ReadSome(fd);
    if (!step.ok() || step.value() != FrameReader::Step::kNeedMore) return step;
  }
}

}  // namespace thalia::transport
