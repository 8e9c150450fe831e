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

// Any canonical spike lists of several regions, one bit stream, read back exactly.
RC_GTEST_PROP(SpikeCodec, RoundTripsAnyCanonicalSpikeLists, ()) {
  const kernel::Tick t0 = *rc::gen::inRange<kernel::Tick>(0, 1ull << 40);
  const kernel::Tick len = *rc::gen::inRange<kernel::Tick>(1, 500);
  const auto sizes = *rc::gen::container<std::vector<uint32_t>>(rc::gen::inRange<uint32_t>(1, 100000));
  std::vector<std::vector<Spike>> regions;
  std::vector<uint8_t> bits;
  SpikeBitWriter writer(&bits);
  for (uint32_t size : sizes) {
    auto raw = *rc::gen::container<std::vector<std::pair<kernel::Tick, uint32_t>>>(
        rc::gen::pair(rc::gen::inRange<kernel::Tick>(0, len), rc::gen::inRange<uint32_t>(0, size)));
    std::vector<Spike> spikes;
    for (auto [t, n] : raw) spikes.push_back({t0 + t, n});
    regions.push_back(Canonical(spikes));
    writer.Add(regions.back(), t0, t0 + len, size);
  }
  writer.Finish();
  SpikeBitReader reader(bits);
  for (size_t r = 0; r < sizes.size(); ++r) {
    std::vector<Spike> back;
    RC_ASSERT(reader.Read(static_cast<uint32_t>(regions[r].size()), t0, t0 + len, sizes[r], &back).ok());
    RC_ASSERT(back == regions[r]);
  }
  RC_ASSERT(reader.Finish().ok());
}

// Every region of every epoch full (the densest case) and a lone spike at the grid's last
// position (the longest gap) both round-trip.
TEST(SpikeCodec, RoundTripsTheDensestAndTheSparsestEpoch) {
  std::vector<Spike> all, last = {{109, 6}};
  for (kernel::Tick t = 100; t < 110; ++t)
    for (uint32_t n = 0; n < 7; ++n) all.push_back({t, n});
  std::vector<uint8_t> bits;
  SpikeBitWriter writer(&bits);
  writer.Add(all, 100, 110, 7);
  writer.Add(last, 100, 110, 7);
  writer.Finish();
  SpikeBitReader reader(bits);
  std::vector<Spike> back;
  ASSERT_TRUE(reader.Read(70, 100, 110, 7, &back).ok());
  EXPECT_EQ(back, all);
  ASSERT_TRUE(reader.Read(1, 100, 110, 7, &back).ok());
  EXPECT_EQ(back, last);
  EXPECT_TRUE(reader.Finish().ok());
}

// The parameter tracks the mean gap: 2^k near (positions / count) ln 2.
TEST(SpikeCodec, RiceParameterFollowsTheMeanGap) {
  EXPECT_EQ(RiceParameter(1000, 0), 0);
  EXPECT_EQ(RiceParameter(0, 0), 0);
  EXPECT_EQ(RiceParameter(1000, 1000), 0);
  EXPECT_EQ(RiceParameter(1000, 500), 0);
  EXPECT_EQ(RiceParameter(1000, 100), 2);     // gap 9, 9 ln 2 ~ 6
  EXPECT_EQ(RiceParameter(400000, 220), 10);  // CUBA's epoch: gap ~1800, 1800 ln 2 ~ 1250
  EXPECT_EQ(RiceParameter(uint64_t{1} << 63, 1), 62);
}

// A stream that does not fit its epoch, region or counts is corrupt, never read past its end.
TEST(SpikeCodec, RejectsStreamsThatDoNotFitTheEpochOrRegion) {
  std::vector<Spike> spikes = {{100, 5}, {100, 9}, {104, 2}};
  std::vector<uint8_t> bits;
  SpikeBitWriter writer(&bits);
  writer.Add(spikes, 100, 105, 10);
  writer.Finish();
  std::vector<Spike> out;
  {
    SpikeBitReader r(bits);
    EXPECT_TRUE(r.Read(3, 100, 105, 10, &out).ok());
    EXPECT_EQ(out, spikes);
    EXPECT_TRUE(r.Finish().ok());
  }
  // The parameter is the same for these grids (50 vs 40 positions, 3 spikes), so only the
  // bounds differ: the last spike's position, 42, is outside both smaller grids.
  ASSERT_EQ(RiceParameter(50, 3), RiceParameter(40, 3));
  EXPECT_EQ(SpikeBitReader(bits).Read(3, 100, 104, 10, &out).kind(), ErrorKind::kCorrupt)
      << "tick 104 is outside [100, 104)";
  EXPECT_EQ(SpikeBitReader(bits).Read(3, 100, 105, 8, &out).kind(), ErrorKind::kCorrupt)
      << "a grid of 5 ticks x 8 neurons";
  EXPECT_EQ(SpikeBitReader(bits).Read(1u << 31, 100, 105, 10, &out).kind(), ErrorKind::kCorrupt);
  EXPECT_EQ(SpikeBitReader(bits).Read(60, 100, 105, 10, &out).kind(), ErrorKind::kCorrupt)
      << "more spikes than the grid has positions";
  EXPECT_EQ(SpikeBitReader(bits).Read(1, 105, 100, 10, &out).kind(), ErrorKind::kCorrupt)
      << "an empty tick range";
  EXPECT_EQ(SpikeBitReader(bits).Read(1, 0, ~kernel::Tick{0}, 1u << 31, &out).kind(), ErrorKind::kCorrupt)
      << "a grid of more than 2^64 positions";
  {
    std::vector<uint8_t> two;
    SpikeBitWriter w(&two);
    w.Add(spikes, 100, 105, 10);
    w.Add(spikes, 100, 105, 10);
    w.Finish();
    SpikeBitReader r(two);
    EXPECT_TRUE(r.Read(3, 100, 105, 10, &out).ok());
    EXPECT_EQ(r.Finish().kind(), ErrorKind::kCorrupt) << "a region's spikes left unread";
  }
  {
    std::vector<uint8_t> longer = bits;
    longer.push_back(0);
    SpikeBitReader r(longer);
    EXPECT_TRUE(r.Read(3, 100, 105, 10, &out).ok());
    EXPECT_EQ(r.Finish().kind(), ErrorKind::kCorrupt) << "a byte after the stream";
  }
  {
    std::vector<uint8_t> cut(bits.begin(), bits.end() - 1);
    EXPECT_EQ(SpikeBitReader(cut).Read(3, 100, 105, 10, &out).kind(), ErrorKind::kCorrupt);
  }
  {
    std::vector<uint8_t> ones(bits.size(), 0xff);
    EXPECT_EQ(SpikeBitReader(ones).Read(3, 100, 105, 10, &out).kind(), ErrorKind::kCorrupt)
        << "a run of ones past the grid";
  }
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
  AppendBatchRecord(b, done, h.region_sizes, &buf);
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
  AppendBatchRecord(b, done, h.region_sizes, &buf);
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
