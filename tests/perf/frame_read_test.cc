// FrameReader reads as much as has arrived in one read(): a whole frame costs one call, two
// frames sent back to back come out as two frames, and a frame trickling in byte by byte is
// still put together.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/transport/transport_test_util.h"
#include "transport/codec.h"
#include "transport/frame.h"

namespace thalia::transport {
namespace {

using testing::SocketPair;

std::vector<uint8_t> EpochFrame(uint64_t epoch, size_t spikes) {
  kernel::EpochBegin e;
  e.epoch = epoch;
  e.t0 = 10 * epoch;
  e.t1 = e.t0 + 10;
  e.inbound.assign(1, {});
  e.external.assign(1, {});
  for (size_t i = 0; i < spikes; ++i) e.inbound[0].push_back({e.t0, 1, static_cast<kernel::NeuronId>(i)});
  flatbuffers::FlatBufferBuilder b;
  std::vector<RegionId> ids = {0};
  EncodeEpochBegin(e, ids, &b);
  auto f = Frame(b);
  return {f.begin(), f.end()};
}

uint64_t EpochOf(const FrameReader& r) {
  auto m = DecodeFrame(r.frame());
  EXPECT_TRUE(m.ok()) << m.status().message();
  return m.ok() ? m.value()->payload_as_EpochBegin()->epoch() : ~uint64_t{0};
}

TEST(FrameRead, AFrameThatArrivedWholeTakesOneRead) {
  for (size_t spikes : {0, 10, 5000}) {  // 5000 spikes: larger than the reader's first buffer
    SocketPair p;
    auto f = EpochFrame(7, spikes);
    ASSERT_TRUE(WriteFrame(p.a.get(), f).ok());
    FrameReader r;
    auto step = r.ReadSome(p.b.get());
    ASSERT_TRUE(step.ok()) << step.status().message();
    if (f.size() > 4096) {  // the first read only fills the initial buffer; one more completes it
      ASSERT_EQ(step.value(), FrameReader::Step::kNeedMore);
      step = r.ReadSome(p.b.get());
      ASSERT_TRUE(step.ok());
    }
    ASSERT_EQ(step.value(), FrameReader::Step::kFrame) << spikes << " spikes";
    EXPECT_EQ(EpochOf(r), 7u);
    // Once grown, the buffer takes a frame of that size in one read.
    ASSERT_TRUE(WriteFrame(p.a.get(), EpochFrame(8, spikes)).ok());
    step = r.ReadSome(p.b.get());
    ASSERT_TRUE(step.ok());
    ASSERT_EQ(step.value(), FrameReader::Step::kFrame);
    EXPECT_EQ(EpochOf(r), 8u);
  }
}

TEST(FrameRead, TwoFramesBackToBackComeOutAsTwoFrames) {
  SocketPair p;
  auto f1 = EpochFrame(1, 3), f2 = EpochFrame(2, 4);
  std::vector<uint8_t> both = f1;
  both.insert(both.end(), f2.begin(), f2.end());
  ASSERT_TRUE(WriteFrame(p.a.get(), both).ok());
  FrameReader r;
  auto step = ReadFrame(p.b.get(), &r, 1000);
  ASSERT_TRUE(step.ok());
  ASSERT_EQ(step.value(), FrameReader::Step::kFrame);
  EXPECT_EQ(EpochOf(r), 1u);
  EXPECT_TRUE(r.HasBufferedFrame());
  p.a.reset();  // nothing more will come: the second frame must come from the buffer
  step = ReadFrame(p.b.get(), &r, 1000);
  ASSERT_TRUE(step.ok()) << step.status().message();
  ASSERT_EQ(step.value(), FrameReader::Step::kFrame);
  EXPECT_EQ(EpochOf(r), 2u);
  EXPECT_FALSE(r.HasBufferedFrame());
  step = ReadFrame(p.b.get(), &r, 1000);
  ASSERT_TRUE(step.ok());
  EXPECT_EQ(step.value(), FrameReader::Step::kEof);
}

TEST(FrameRead, AFrameAndAHalfThenTheRest) {
  SocketPair p;
  auto f1 = EpochFrame(1, 3), f2 = EpochFrame(2, 40);
  std::vector<uint8_t> first = f1;
  first.insert(first.end(), f2.begin(), f2.begin() + 7);  // the next prefix and 3 body bytes
  ASSERT_TRUE(WriteFrame(p.a.get(), first).ok());
  FrameReader r;
  ASSERT_EQ(ReadFrame(p.b.get(), &r, 1000).value(), FrameReader::Step::kFrame);
  EXPECT_EQ(EpochOf(r), 1u);
  EXPECT_FALSE(r.HasBufferedFrame());
  ASSERT_TRUE(WriteFrame(p.a.get(), std::span<const uint8_t>(f2).subspan(7)).ok());
  auto step = ReadFrame(p.b.get(), &r, 1000);
  ASSERT_TRUE(step.ok()) << step.status().message();
  ASSERT_EQ(step.value(), FrameReader::Step::kFrame);
  EXPECT_EQ(EpochOf(r), 2u);
}

TEST(FrameRead, AFrameTricklingInByteByByteIsPutTogether) {
  SocketPair p;
  auto f = EpochFrame(5, 20);
  FrameReader r;
  for (size_t i = 0; i < f.size(); ++i) {
    ASSERT_EQ(::write(p.a.get(), &f[i], 1), 1);
    auto step = r.ReadSome(p.b.get());
    ASSERT_TRUE(step.ok()) << step.status().message();
    ASSERT_EQ(step.value(), i + 1 < f.size() ? FrameReader::Step::kNeedMore : FrameReader::Step::kFrame) << i;
  }
  EXPECT_EQ(EpochOf(r), 5u);
}

TEST(FrameRead, BlockingReadWithoutDeadlineWaitsForTheFrame) {
  SocketPair p;
  auto f = EpochFrame(9, 2);
  ASSERT_TRUE(WriteFrame(p.a.get(), f).ok());
  FrameReader r;
  auto step = ReadFrame(p.b.get(), &r, -1);
  ASSERT_TRUE(step.ok());
  ASSERT_EQ(step.value(), FrameReader::Step::kFrame);
  EXPECT_EQ(EpochOf(r), 9u);
}

}  // namespace
}  // namespace thalia::transport
