// The pieces of the trace format: CRC-32C, the spike encoding, record encoding and verification.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <string>

#include "recorder/crc32c.h"
#include "recorder/trace_format.h"
#include "recorder/trace_records.h"

namespace thalia::recorder {
namespace {

using kernel::Spike;

TEST(Crc32c, MatchesTheStandardCheckValue) {
  // The check value of CRC-32C (RFC 3720, B.4): crc of "123456789".
  const std::string s = "123456789";
  EXPECT_EQ(Crc32c(s.data(), s.size()), 0xe3069283u);
  std::vector<uint8_t> zeros(32, 0);
  EXPECT_EQ(Crc32c(zeros.data(), zeros.size()), 0x8a9136aau);  // RFC 3720 B.4: 32 bytes of 0
}

TEST(Crc32c, ExtendEqualsOneShot) {
  const std::string s = "the quick brown fox jumps over the lazy dog";
  EXPECT_EQ(Crc32cExtend(Crc32c(s.data(), 10), s.data() + 10, s.size() - 10), Crc32c(s.data(), s.size()));
}

// Every implementation this machine runs gives the reference (bytewise) value for any length,
// alignment and starting value, so a file written on one machine verifies on any other.
RC_GTEST_PROP(Crc32c, EveryImplementationEqualsTheBytewiseReference, ()) {
  const auto bytes = *rc::gen::container<std::vector<uint8_t>>(rc::gen::arbitrary<uint8_t>());
  const size_t skip = bytes.empty() ? 0 : *rc::gen::inRange<size_t>(0, std::min<size_t>(bytes.size(), 8));
  const uint32_t start = *rc::gen::arbitrary<uint32_t>();
  const auto impls = Crc32cImplementations();
  RC_ASSERT(impls.size() >= 2u);
  RC_ASSERT(impls[0].name == "bytewise");
  const uint32_t want = impls[0].extend(start, bytes.data() + skip, bytes.size() - skip);
  for (const auto& impl : impls) {
    RC_ASSERT(impl.extend(start, bytes.data() + skip, bytes.size() - skip) == want);
  }
  RC_ASSERT(Crc32cExtend(start, bytes.data() + skip, bytes.size() - skip) == want);
}

TEST(Crc32c, EveryImplementationMatchesTheCheckValueOnLongInput) {
  std::vector<uint8_t> data(100003);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i * 2654435761u >> 13);
  const auto impls = Crc32cImplementations();
  const uint32_t want = impls[0].extend(0, data.data(), data.size());
  for (const auto& impl : impls) {
    EXPECT_EQ(impl.extend(0, data.data(), data.size()), want) << impl.name;
    EXPECT_EQ(impl.extend(0, "123456789", 9), 0xe3069283u) << impl.name;
  }
}

TEST(ChunkHeader, RoundTripsAndRejectsABadMagic) {
  ChunkHeader h{0x12345678u, 1000, 4000, 1ull << 40, 17, 18};
  uint8_t b[kChunkHeaderSize];
  EncodeChunkHeader(h, b);
  ChunkHeader g;
  ASSERT_TRUE(DecodeChunkHeader(b, &g));
  EXPECT_EQ(g.crc, h.crc);
  EXPECT_EQ(g.payload_length, h.payload_length);
  EXPECT_EQ(g.raw_length, h.raw_length);
  EXPECT_EQ(g.first_epoch, h.first_epoch);
  EXPECT_EQ(g.epoch_count, h.epoch_count);
  EXPECT_EQ(g.record_count, h.record_count);
  b[0] ^= 1;
  EXPECT_FALSE(DecodeChunkHeader(b, &g));
}

// Sorted, distinct spikes of a region of `size` neurons in [t0, t1).
std::vector<Spike> Canonical(std::vector<Spike> s) {
  std::sort(s.begin(), s.end(), kernel::CanonicalOrder());
  s.erase(std::unique(s.begin(), s.end()), s.end());
  return s;
}

RC_GTEST_PROP(SpikeCodec, RoundTripsAnyCanonicalSpikeList, ()) {
  const kernel::Tick t0 = *rc::gen::inRange<kernel::Tick>(0, 1ull << 40);
  const kernel::Tick len = *rc::gen::inRange<kernel::Tick>(1, 500);
  const uint32_t size = *rc::gen::inRange<uint32_t>(1, 100000);
  auto raw = *rc::gen::container<std::vector<std::pair<kernel::Tick, uint32_t>>>(
      rc::gen::pair(rc::gen::inRange<kernel::Tick>(0, len), rc::gen::inRange<uint32_t>(0, size)));
  std::vector<Spike> spikes;
  for (auto [t, n] : raw) spikes.push_back({t0 + t, n});
  spikes = Canonical(spikes);
  std::vector<uint8_t> ticks, neurons;
  EncodeSpikes(spikes, t0, &ticks, &neurons);
  std::vector<Spike> back;
  size_t tp = 0, np = 0;
  RC_ASSERT(DecodeSpikes(static_cast<uint32_t>(spikes.size()), ticks, &tp, neurons, &np, t0, t0 + len,
                         size, &back).ok());
  RC_ASSERT(back == spikes);
  RC_ASSERT(tp == ticks.size());
  RC_ASSERT(np == neurons.size());
}

TEST(SpikeCodec, RejectsStreamsThatDoNotFitTheEpochOrRegion) {
  std::vector<Spike> spikes = {{100, 5}, {100, 9}, {104, 2}};
  std::vector<uint8_t> ticks, neurons;
  EncodeSpikes(spikes, 100, &ticks, &neurons);
  std::vector<Spike> out;
  size_t tp = 0, np = 0;
  EXPECT_TRUE(DecodeSpikes(3, ticks, &tp, neurons, &np, 100, 105, 10, &out).ok());
  tp = np = 0;
  EXPECT_EQ(DecodeSpikes(3, ticks, &tp, neurons, &np, 100, 104, 10, &out).kind(), ErrorKind::kCorrupt)
      << "tick 104 is outside [100, 104)";
  tp = np = 0;
  EXPECT_EQ(DecodeSpikes(3, ticks, &tp, neurons, &np, 100, 105, 9, &out).kind(), ErrorKind::kCorrupt)
      << "neuron 9 is outside a region of 9";
  tp = np = 0;
  EXPECT_EQ(DecodeSpikes(4, ticks, &tp, neurons, &np, 100, 105, 10, &out).kind(), ErrorKind::kCorrupt)
      << "more spikes than the streams hold";
  tp = np = 0;
  EXPECT_EQ(DecodeSpikes(1u << 31, ticks, &tp, neurons, &np, 100, 105, 10, &out).kind(), ErrorKind::kCorrupt);
}

TEST(Records, HeaderRoundTripsAndABatchNeedsAHeader) {
  TraceHeaderInfo h;
  h.format_version = kTraceFormatVersion;
  h.config = {1, 2, 3, 4};
  h.seed = 99;
  h.dt_ms = 0.1;
  h.epoch_ticks = 30;
  h.first_epoch = 7;
  h.first_tick = 210;
  h.checkpoint = {"run/ckpt-7", 7, 210, 0xabc};
  h.region_names = {"a", "b"};
  h.region_sizes = {10, 20};
  std::vector<uint8_t> buf;
  AppendHeaderRecord(h, &buf);
  DecodedRecord d;
  ASSERT_TRUE(DecodeRecord(buf, nullptr, &d).ok());
  ASSERT_EQ(d.kind, RecordKind::kHeader);
  EXPECT_EQ(d.header.config, h.config);
  EXPECT_EQ(d.header.checkpoint.path, "run/ckpt-7");
  EXPECT_EQ(d.header.checkpoint.digest, 0xabcu);
  EXPECT_EQ(d.header.first_tick, 210u);
  EXPECT_EQ(d.header.region_sizes, h.region_sizes);

  kernel::EpochBegin b;
  b.epoch = 7;
  b.t0 = 210;
  b.t1 = 240;
  b.external = {{{215, 3, 1.5f, kernel::ExternalInput::kSpike}}, {}};
  b.events = {{210, 0, 0.5f}};
  kernel::EpochDone done;
  done.regions.resize(2);
  done.regions[0].spikes = {{211, 9}};
  done.regions[1].spikes = {{212, 19}, {239, 0}};
  done.regions[1].digest = 42;
  buf.clear();
  AppendBatchRecord(b, done, &buf);
  EXPECT_EQ(DecodeRecord(buf, nullptr, &d).kind(), ErrorKind::kCorrupt);
  ASSERT_TRUE(DecodeRecord(buf, &h, &d).ok());
  EXPECT_EQ(d.batch.external, b.external);
  EXPECT_EQ(d.batch.events, b.events);
  EXPECT_EQ(d.batch.spikes[1], done.regions[1].spikes);
  EXPECT_EQ(d.batch.digests[1], 42u);
  h.region_sizes = {10, 19};  // neuron 19 of region b no longer exists
  EXPECT_EQ(DecodeRecord(buf, &h, &d).kind(), ErrorKind::kCorrupt);
}

TEST(Records, EveryFlippedByteIsRejectedOrDecodesWithoutCrashing) {
  TraceHeaderInfo h;
  h.format_version = kTraceFormatVersion;
  h.dt_ms = 0.1;
  h.epoch_ticks = 30;
  h.region_names = {"a"};
  h.region_sizes = {100};
  kernel::EpochBegin b;
  b.t1 = 30;
  b.external = {{{5, 3, 1.5f, kernel::ExternalInput::kCurrent}}};
  kernel::EpochDone done;
  done.regions.resize(1);
  done.regions[0].spikes = {{1, 9}, {1, 50}, {20, 99}};
  std::vector<uint8_t> buf;
  AppendBatchRecord(b, done, &buf);
  for (size_t i = 0; i < buf.size(); ++i) {
    for (uint8_t mask : {0x01, 0x80, 0xff}) {
      std::vector<uint8_t> bad = buf;
      bad[i] ^= mask;
      DecodedRecord d;
      Status st = DecodeRecord(bad, &h, &d);
      if (st.ok() && d.kind == RecordKind::kBatch) {
        for (const Spike& s : d.batch.spikes[0]) {
          EXPECT_LT(s.neuron, 100u);
          EXPECT_LT(s.tick, d.batch.t1);
        }
      } else if (!st.ok()) {
        EXPECT_EQ(st.kind(), ErrorKind::kCorrupt);
      }
    }
  }
}

}  // namespace
}  // namespace thalia::recorder
