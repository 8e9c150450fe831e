// The FlatBuffers codec of the epoch messages: round trips for a subset of regions, and the
// checks a verified but meaningless message must still fail.
#include "transport/codec.h"

#include <gtest/gtest.h>

#include "transport/frame.h"

namespace thalia::transport {
namespace {

kernel::EpochBegin SampleBegin() {
  kernel::EpochBegin b;
  b.epoch = 7;
  b.t0 = 70;
  b.t1 = 80;
  b.modulators.level = {0.5f, -1.25f, 3.0f};
  b.modulators.since = {1, 22, 333};
  b.events = {{71, 0, 1.5f}, {79, 2, -0.25f}};
  b.inbound = {{{70, 1, 5}, {71, 2, 9}}, {}, {{75, 0, 3}}};
  b.external = {{}, {{72, 4, 2.0f, kernel::ExternalInput::kCurrent}}, {{70, 1, -1.0f, kernel::ExternalInput::kSpike}}};
  b.full_digest = true;
  return b;
}

const wire::Message* Decode(const flatbuffers::FlatBufferBuilder& b) {
  auto m = DecodeFrame(Frame(b));
  EXPECT_TRUE(m.ok()) << m.status().message();
  return m.ok() ? m.value() : nullptr;
}

TEST(Codec, EpochBeginRoundTripsForTheChosenRegions) {
  kernel::EpochBegin in = SampleBegin();
  flatbuffers::FlatBufferBuilder b;
  std::vector<RegionId> chosen = {0, 2};
  EncodeEpochBegin(in, chosen, &b);
  const wire::Message* m = Decode(b);
  ASSERT_NE(m, nullptr);
  kernel::EpochBegin out;
  out.inbound = {{{1, 1, 1}}, {{9, 9, 9}}, {}};  // stale content must be replaced
  std::vector<RegionId> ids;
  ASSERT_TRUE(DecodeEpochBegin(*m->payload_as_EpochBegin(), 3, &out, &ids).ok());
  EXPECT_EQ(ids, chosen);
  EXPECT_EQ(out.epoch, 7u);
  EXPECT_EQ(out.t0, 70u);
  EXPECT_EQ(out.t1, 80u);
  EXPECT_EQ(out.modulators, in.modulators);
  EXPECT_EQ(out.events, in.events);
  EXPECT_TRUE(out.full_digest);
  EXPECT_EQ(out.inbound[0], in.inbound[0]);
  EXPECT_TRUE(out.inbound[1].empty());
  EXPECT_EQ(out.inbound[2], in.inbound[2]);
  EXPECT_EQ(out.external[2], in.external[2]);
  EXPECT_TRUE(out.external[1].empty());
}

TEST(Codec, EpochDoneRoundTrips) {
  kernel::EpochDone in;
  in.epoch = 4;
  in.regions.resize(3);
  in.regions[1].spikes = {{40, 3}, {41, 0}, {41, 7}};
  in.regions[1].digest = 0x0123456789abcdefull;
  in.regions[1].counters = {10, 20, 30};
  in.regions[2].digest = 42;
  flatbuffers::FlatBufferBuilder b;
  std::vector<RegionId> ids = {1, 2};
  EpochTiming sent;
  sent.busy_ns = 123;
  sent.wait_ns = 456;
  EncodeEpochDone(in, ids, sent, &b);
  const wire::Message* m = Decode(b);
  ASSERT_NE(m, nullptr);
  kernel::EpochDone out;
  out.regions.resize(3);
  EpochTiming t;
  ASSERT_TRUE(DecodeEpochDone(*m->payload_as_EpochDone(), 4, ids, &out, &t).ok());
  EXPECT_EQ(out.regions[1].spikes, in.regions[1].spikes);
  EXPECT_EQ(out.regions[1].digest, in.regions[1].digest);
  EXPECT_EQ(out.regions[1].counters.synaptic_events, 20u);
  EXPECT_EQ(out.regions[2].digest, 42u);
  EXPECT_EQ(t.busy_ns, 123u);
  EXPECT_EQ(t.wait_ns, 456u);
  EXPECT_TRUE(t.thread_busy_ns.empty());
  EXPECT_TRUE(t.spans.empty());
}

TEST(Codec, EpochDoneCarriesThreadTimesAndProfileSpans) {
  kernel::EpochDone in;
  in.epoch = 4;
  in.regions.resize(2);
  EpochTiming sent;
  sent.thread_busy_ns = {5, 6};
  sent.thread_wait_ns = {1, 2};
  sent.spans = {{100, 150, 4, 1, 0, 1, kernel::SpanKind::kCompute}, {150, 160, 3, -1, 0, 0, kernel::SpanKind::kEncode}};
  flatbuffers::FlatBufferBuilder b;
  std::vector<RegionId> ids = {1};
  EncodeEpochDone(in, ids, sent, &b);
  kernel::EpochDone out;
  out.regions.resize(2);
  EpochTiming t;
  ASSERT_TRUE(DecodeEpochDone(*Decode(b)->payload_as_EpochDone(), 4, ids, &out, &t).ok());
  EXPECT_EQ(t.thread_busy_ns, sent.thread_busy_ns);
  EXPECT_EQ(t.thread_wait_ns, sent.thread_wait_ns);
  ASSERT_EQ(t.spans.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(t.spans[i].start_ns, sent.spans[i].start_ns);
    EXPECT_EQ(t.spans[i].end_ns, sent.spans[i].end_ns);
    EXPECT_EQ(t.spans[i].epoch, sent.spans[i].epoch);
    EXPECT_EQ(t.spans[i].region, sent.spans[i].region);
    EXPECT_EQ(t.spans[i].thread, sent.spans[i].thread);
    EXPECT_EQ(t.spans[i].kind, sent.spans[i].kind);
  }
}

TEST(Codec, AProfileSpanOutOfRangeIsRejected) {
  kernel::EpochDone in;
  in.epoch = 4;
  in.regions.resize(2);
  std::vector<RegionId> ids = {1};
  for (kernel::ProfileSpan bad : {kernel::ProfileSpan{200, 100, 4, -1, 0, 0, kernel::SpanKind::kCompute},
                                  kernel::ProfileSpan{100, 200, 4, 2, 0, 0, kernel::SpanKind::kCompute},
                                  kernel::ProfileSpan{100, 200, 4, -1, 0, 0, static_cast<kernel::SpanKind>(200)}}) {
    EpochTiming sent;
    sent.spans = {bad};
    flatbuffers::FlatBufferBuilder b;
    EncodeEpochDone(in, ids, sent, &b);
    kernel::EpochDone out;
    out.regions.resize(2);
    EpochTiming t;
    EXPECT_FALSE(DecodeEpochDone(*Decode(b)->payload_as_EpochDone(), 4, ids, &out, &t).ok());
  }
}

TEST(Codec, EpochDoneForAnotherEpochOrRegionIsRejected) {
  kernel::EpochDone in;
  in.epoch = 4;
  in.regions.resize(2);
  flatbuffers::FlatBufferBuilder b;
  std::vector<RegionId> ids = {1};
  EncodeEpochDone(in, ids, {}, &b);
  const wire::Message* m = Decode(b);
  kernel::EpochDone out;
  out.regions.resize(2);
  EpochTiming t;
  EXPECT_FALSE(DecodeEpochDone(*m->payload_as_EpochDone(), 5, ids, &out, &t).ok());
  std::vector<RegionId> other = {0};
  EXPECT_FALSE(DecodeEpochDone(*m->payload_as_EpochDone(), 4, other, &out, &t).ok());
}

TEST(Codec, EpochBeginNamingAMissingRegionIsRejected) {
  kernel::EpochBegin in = SampleBegin();
  flatbuffers::FlatBufferBuilder b;
  std::vector<RegionId> chosen = {2};
  EncodeEpochBegin(in, chosen, &b);
  kernel::EpochBegin out;
  std::vector<RegionId> ids;
  Status st = DecodeEpochBegin(*Decode(b)->payload_as_EpochBegin(), 2, &out, &ids);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.kind(), ErrorKind::kCorrupt);
}

TEST(Codec, BadModulatorIndexIsRejected) {
  kernel::EpochBegin in = SampleBegin();
  in.events[0].modulator = 3;
  flatbuffers::FlatBufferBuilder b;
  std::vector<RegionId> chosen = {0};
  EncodeEpochBegin(in, chosen, &b);
  kernel::EpochBegin out;
  std::vector<RegionId> ids;
  EXPECT_FALSE(DecodeEpochBegin(*Decode(b)->payload_as_EpochBegin(), 3, &out, &ids).ok());
}

}  // namespace
}  // namespace thalia::transport
