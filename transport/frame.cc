// Frames: the size limit is checked as soon as the 4 length bytes are in, before any buffer is
// sized for the body, so a hostile length can never make the reader allocate.
#include "transport/frame.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "kernel/big_alloc.h"

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

namespace {

uint32_t PrefixAt(const uint8_t* h) {
  return static_cast<uint32_t>(h[0]) | static_cast<uint32_t>(h[1]) << 8 | static_cast<uint32_t>(h[2]) << 16 |
         static_cast<uint32_t>(h[3]) << 24;
}

}  // namespace

Result<FrameReader::Step> FrameReader::Parse() {
  if (frame_len_ == 0 && got_ >= kFrameHeaderBytes) {
    const uint32_t len = PrefixAt(buffer_.data());
    if (len > limit_)
      return Status::Corrupt("frame announces " + std::to_string(len) + " bytes, over the limit of " +
                             std::to_string(limit_));
    if (len < kMinFrameBytes)
      return Status::Corrupt("frame announces " + std::to_string(len) + " bytes, too short for a message");
    frame_len_ = kFrameHeaderBytes + len;
    if (buffer_.size() < frame_len_) {  // kept for later frames; a large one in fresh pages
      std::vector<uint8_t> bigger = kernel::FreshBytes(frame_len_);
      std::memcpy(bigger.data(), buffer_.data(), got_);
      buffer_.swap(bigger);
    }
  }
  if (frame_len_ == 0 || got_ < frame_len_) return Step::kNeedMore;
  complete_ = true;
  return Step::kFrame;
}

bool FrameReader::HasBufferedFrame() const {
  if (!complete_) return false;
  const size_t rest = got_ - frame_len_;
  if (rest < kFrameHeaderBytes) return false;
  return rest >= kFrameHeaderBytes + PrefixAt(buffer_.data() + frame_len_);
}

Result<FrameReader::Step> FrameReader::ReadSome(int fd) {
  if (complete_) {
    // Drop the delivered frame; what followed it moves to the front (frames start 8-aligned).
    const size_t rest = got_ - frame_len_;
    if (rest > 0) std::memmove(buffer_.data(), buffer_.data() + frame_len_, rest);
    got_ = rest;
    frame_len_ = 0;
    complete_ = false;
    auto step = Parse();
    if (!step.ok() || step.value() == Step::kFrame) return step;
  }
  ssize_t n;
  do {
    n = ::read(fd, buffer_.data() + got_, buffer_.size() - got_);
  } while (n < 0 && errno == EINTR);
  // A reset is how a peer that died with our data unread says goodbye: an end like EOF.
  if (n < 0 && errno != ECONNRESET)
    return Status::Worker(std::string("cannot read from the peer: ") + std::strerror(errno));
  if (n <= 0) {
    if (!mid_frame()) return Step::kEof;
    return Status::Worker("the peer closed the connection in the middle of a frame");
  }
  got_ += static_cast<size_t>(n);
  return Parse();
}

Result<FrameReader::Step> ReadFrame(int fd, FrameReader* reader, int timeout_ms) {
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms < 0 ? 0 : timeout_ms);
  while (true) {
    // Blocking without a deadline: read() itself waits, no poll() needed (one system call).
    if (timeout_ms < 0 || reader->HasBufferedFrame()) {
      auto step = reader->ReadSome(fd);
      if (!step.ok() || step.value() != FrameReader::Step::kNeedMore) return step;
      continue;
    }
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
