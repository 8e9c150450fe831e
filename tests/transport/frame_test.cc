// Frames on the wire: round trips, and garbage, oversized, truncated or bit-flipped frames
// rejected with a clear error (never a crash), on the decoder and on live sockets.
#include "transport/frame.h"

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <thread>

#include "tests/transport/transport_test_util.h"
#include "transport/codec.h"
#include "transport/worker.h"

namespace thalia::transport {
namespace {

using testing::SocketPair;

std::vector<uint8_t> ValidFrame() {
  kernel::EpochBegin e;
  e.epoch = 3;
  e.t0 = 30;
  e.t1 = 40;
  e.inbound = {{{30, 1, 2}, {31, 1, 3}}, {{33, 0, 9}}};
  e.external = {{{35, 1, 0.5f, kernel::ExternalInput::kSpike}}, {}};
  e.events = {{32, 1, 0.25f}};
  flatbuffers::FlatBufferBuilder b;
  std::vector<RegionId> ids = {0, 1};
  EncodeEpochBegin(e, ids, &b);
  auto f = Frame(b);
  return {f.begin(), f.end()};
}

void WriteRaw(int fd, const std::vector<uint8_t>& bytes) {
  ASSERT_EQ(::write(fd, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
}

std::vector<uint8_t> Header(uint32_t len) {
  return {static_cast<uint8_t>(len), static_cast<uint8_t>(len >> 8), static_cast<uint8_t>(len >> 16),
          static_cast<uint8_t>(len >> 24)};
}

TEST(Frame, ValidFrameRoundTripsThroughASocket) {
  SocketPair p;
  std::vector<uint8_t> f = ValidFrame();
  ASSERT_TRUE(WriteFrame(p.a.get(), f).ok());
  FrameReader r;
  auto step = ReadFrame(p.b.get(), &r, 1000);
  ASSERT_TRUE(step.ok()) << step.status().message();
  ASSERT_EQ(step.value(), FrameReader::Step::kFrame);
  auto m = DecodeFrame(r.frame());
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_EQ(m.value()->payload_as_EpochBegin()->epoch(), 3u);
}

TEST(Frame, OversizedLengthIsRejectedBeforeTheBodyIsRead) {
  SocketPair p;
  WriteRaw(p.a.get(), Header(0xfffffff0u));
  FrameReader r(1 << 20);
  auto step = ReadFrame(p.b.get(), &r, 1000);
  ASSERT_FALSE(step.ok());
  EXPECT_EQ(step.status().kind(), ErrorKind::kCorrupt);
  EXPECT_NE(step.status().message().find("over the limit"), std::string::npos) << step.status().message();
}

TEST(Frame, DecoderChecksTheLimitFirst) {
  std::vector<uint8_t> f = ValidFrame();
  auto m = DecodeFrame(f, /*limit=*/16);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("exceeds the limit"), std::string::npos);
}

TEST(Frame, GarbageBodyIsRejected) {
  std::vector<uint8_t> f = Header(64);
  for (int i = 0; i < 64; ++i) f.push_back(static_cast<uint8_t>(i * 37 + 11));
  auto m = DecodeFrame(f);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().kind(), ErrorKind::kCorrupt);
}

TEST(Frame, WrongPrefixIsRejected) {
  std::vector<uint8_t> f = ValidFrame();
  f[0] ^= 1;
  EXPECT_FALSE(DecodeFrame(f).ok());
}

TEST(Frame, EveryTruncationAndBitFlipIsRejectedOrDecodesSafely) {
  const std::vector<uint8_t> good = ValidFrame();
  for (size_t n = 0; n < good.size(); ++n) {
    std::vector<uint8_t> cut(good.begin(), good.begin() + static_cast<long>(n));
    EXPECT_FALSE(DecodeFrame(cut).ok()) << "cut at " << n;
  }
  int accepted = 0;
  for (size_t i = 0; i < good.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::vector<uint8_t> f = good;
      f[i] ^= static_cast<uint8_t>(1u << bit);
      auto m = DecodeFrame(f);
      if (!m.ok()) continue;
      ++accepted;  // a flip in a value (a tick, a neuron) still verifies; decoding must stay safe
      if (const wire::EpochBegin* e = m.value()->payload_as_EpochBegin()) {
        kernel::EpochBegin out;
        std::vector<RegionId> ids;
        (void)DecodeEpochBegin(*e, 2, &out, &ids);
      }
    }
  }
  EXPECT_LT(accepted, static_cast<int>(good.size() * 8));
}

TEST(Frame, EndInsideAFrameIsAnErrorAndAtABoundaryIsEof) {
  {
    SocketPair p;
    std::vector<uint8_t> f = ValidFrame();
    f.resize(f.size() / 2);
    WriteRaw(p.a.get(), f);
    p.a.reset();
    FrameReader r;
    auto step = ReadFrame(p.b.get(), &r, 1000);
    ASSERT_FALSE(step.ok());
    EXPECT_NE(step.status().message().find("middle of a frame"), std::string::npos);
  }
  {
    SocketPair p;
    p.a.reset();
    FrameReader r;
    auto step = ReadFrame(p.b.get(), &r, 1000);
    ASSERT_TRUE(step.ok());
    EXPECT_EQ(step.value(), FrameReader::Step::kEof);
  }
}

TEST(Frame, ReadTimesOutOnASilentPeer) {
  SocketPair p;
  FrameReader r;
  auto step = ReadFrame(p.b.get(), &r, 50);
  ASSERT_FALSE(step.ok());
  EXPECT_EQ(step.status().message().rfind("timeout", 0), 0u);
}

// A live worker loop fed garbage answers with a fatal Error frame and stops; never crashes.
void ExpectWorkerRejects(const std::vector<uint8_t>& bytes, const std::string& expected) {
  SocketPair p;
  int code = -1;
  std::thread worker([&] { code = ServeWorker(p.b.get(), 0, {}); });
  FrameReader r;
  auto ready = ReadFrame(p.a.get(), &r, 5000);
  ASSERT_TRUE(ready.ok());
  ASSERT_NE(DecodeFrame(r.frame()).value()->payload_as_Ready(), nullptr);
  WriteRaw(p.a.get(), bytes);
  auto reply = ReadFrame(p.a.get(), &r, 5000);
  worker.join();
  EXPECT_EQ(code, 1);
  ASSERT_TRUE(reply.ok()) << reply.status().message();
  auto m = DecodeFrame(r.frame());
  ASSERT_TRUE(m.ok());
  const wire::Error* e = m.value()->payload_as_Error();
  ASSERT_NE(e, nullptr);
  EXPECT_TRUE(e->fatal());
  EXPECT_NE(e->message()->str().find(expected), std::string::npos) << e->message()->str();
}

TEST(Frame, LiveWorkerRejectsGarbage) {
  std::vector<uint8_t> f = Header(32);
  for (int i = 0; i < 32; ++i) f.push_back(0xab);
  ExpectWorkerRejects(f, "bad frame");
}

TEST(Frame, LiveWorkerRejectsAnOversizedFrame) {
  ExpectWorkerRejects(Header(0x7fffffffu), "over the limit");
}

TEST(Frame, LiveWorkerRejectsAnEpochForRegionsItDoesNotHost) {
  ExpectWorkerRejects(ValidFrame(), "region 0 does not exist");
}

}  // namespace
}  // namespace thalia::transport
