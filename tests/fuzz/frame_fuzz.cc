// Fuzz target: the wire format (transport/frame.h) and the message codec (transport/codec.h) as
// a coordinator or worker applies them to what arrives on a socket. First byte 0: the rest is one
// frame for DecodeFrame and the decoders; 1: the rest is a byte stream read through FrameReader
// from a socket, every complete frame decoded in turn.
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "transport/codec.h"
#include "transport/frame.h"
#include "transport/unique_fd.h"

namespace {

using namespace thalia;
using namespace thalia::transport;

constexpr size_t kRegions = 8;
constexpr size_t kLimit = size_t{1} << 20;

// What the coordinator and the workers read out of each message they accept.
void Consume(const wire::Message& m) {
  switch (m.payload_type()) {
    case wire::Payload::EpochBegin: {
      kernel::EpochBegin begin;
      std::vector<RegionId> regions;
      (void)DecodeEpochBegin(*m.payload_as_EpochBegin(), kRegions, &begin, &regions);
      break;
    }
    case wire::Payload::EpochDone: {
      const wire::EpochDone& d = *m.payload_as_EpochDone();
      std::vector<RegionId> expected;
      for (RegionId r = 0; r < (d.regions() ? std::min<size_t>(d.regions()->size(), kRegions) : 0); ++r)
        expected.push_back(r);
      kernel::EpochDone done;
      done.regions.resize(kRegions);
      EpochTiming timing;
      (void)DecodeEpochDone(d, d.epoch(), expected, &done, &timing);
      break;
    }
    case wire::Payload::Error: {
      const wire::Error& e = *m.payload_as_Error();
      if (e.message()) (void)e.message()->str();
      break;
    }
    default:
      break;
  }
}

void DecodeOne(const uint8_t* data, size_t size) {
  // Frames arrive in 8-aligned buffers (FrameReader's heap storage); copy there.
  std::unique_ptr<uint64_t[]> aligned(new uint64_t[size / 8 + 1]);
  std::memcpy(aligned.get(), data, size);
  auto m = DecodeFrame({reinterpret_cast<const uint8_t*>(aligned.get()), size}, kLimit);
  if (m.ok()) Consume(*m.value());
}

void ReadStream(const uint8_t* data, size_t size) {
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) return;
  UniqueFd reader_end(sv[0]), writer_end(sv[1]);
  int bytes = 1 << 20;
  (void)::setsockopt(writer_end.get(), SOL_SOCKET, SO_SNDBUF, &bytes, sizeof bytes);
  (void)::setsockopt(reader_end.get(), SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
  if (::send(writer_end.get(), data, size, MSG_NOSIGNAL | MSG_DONTWAIT) != static_cast<ssize_t>(size)) return;
  writer_end.reset();
  FrameReader reader(kLimit);
  while (true) {
    auto step = ReadFrame(reader_end.get(), &reader, 1000);
    if (!step.ok() || step.value() != FrameReader::Step::kFrame) return;
    auto m = DecodeFrame(reader.frame(), kLimit);
    if (m.ok()) Consume(*m.value());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1 || size > (size_t{1} << 18)) return 0;
  if (data[0] == 1)
    ReadStream(data + 1, size - 1);
  else
    DecodeOne(data + 1, size - 1);
  return 0;
}
