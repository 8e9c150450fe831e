// The checkpoint file format: CRC-32C, round trips of every field, and refusal (never a crash,
// never a wrong load) of flipped, cut, other-version and crafted files.
#include "recorder/checkpoint_format.h"

#include <gtest/gtest.h>
#include <zstd.h>

#include <cstring>
#include <random>
#include <string_view>

#include "recorder/checkpoint.h"
#include "recorder/checkpoint_file.h"
#include "recorder/checkpoint_series.h"
#include "tests/recorder/checkpoint_test_util.h"

namespace thalia::recorder {
namespace {

std::span<const uint8_t> Bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// A checkpoint of the tiny brain after a short run, with pending API input and events.
Checkpoint SmallCheckpoint() {
  auto brain = kernel::Brain::Create(testing::LoadExample("tiny.json"), testing::Options());
  THALIA_CHECK(brain.ok());
  THALIA_CHECK((*brain)->RunUntil(333).ok());
  THALIA_CHECK((*brain)->InjectSpike(1, 7, 0.5f, 400).ok());
  THALIA_CHECK((*brain)->SetCurrent(2, 3, 1.25f, 900).ok());
  THALIA_CHECK((*brain)->Reward(0.75f).ok());
  auto c = CaptureCheckpoint(**brain, {"run.trace", 11});
  THALIA_CHECK(c.ok());
  return std::move(c).value();
}

const std::vector<uint8_t>& SmallFile() {
  static const std::vector<uint8_t> file = EncodeCheckpoint(SmallCheckpoint()).value();
  return file;
}

TEST(CheckpointFormat, RoundTripKeepsEveryField) {
  Checkpoint a = SmallCheckpoint();
  auto file = EncodeCheckpoint(a);
  ASSERT_TRUE(file.ok()) << file.status().message();
  auto b = DecodeCheckpoint(file.value(), "mem");
  ASSERT_TRUE(b.ok()) << b.status().message();
  EXPECT_EQ(b->format_version, kCheckpointVersion);
  EXPECT_EQ(b->config, a.config);
  EXPECT_EQ(b->seed, 42u);
  EXPECT_EQ(b->state.tick, 333u);
  EXPECT_EQ(b->state.epoch, a.state.epoch);
  EXPECT_EQ(b->state.modulators, a.state.modulators);
  ASSERT_EQ(b->state.pending_events.size(), 1u);
  EXPECT_EQ(b->state.pending_events, a.state.pending_events);
  EXPECT_EQ(b->state.in_flight, a.state.in_flight);
  EXPECT_EQ(b->state.pending_external, a.state.pending_external);
  EXPECT_EQ(b->state.pending_external[1].size(), 1u);
  EXPECT_EQ(b->state.pending_external[2].size(), 1u);
  EXPECT_EQ(b->state.regions, a.state.regions);
  EXPECT_EQ(b->region_names, a.region_names);
  EXPECT_EQ(b->digests, a.digests);
  EXPECT_EQ(b->trace.path, "run.trace");
  EXPECT_EQ(b->trace.epochs_recorded, 11u);
  EXPECT_EQ(b->executor, "inproc");
}

TEST(CheckpointFormat, EveryFlippedByteIsRefused) {
  const std::vector<uint8_t>& good = SmallFile();
  std::mt19937_64 rng(20240601);
  std::vector<size_t> positions;
  for (size_t i = 0; i < kCheckpointHeaderSize; ++i) positions.push_back(i);
  for (int i = 0; i < 400; ++i) positions.push_back(rng() % good.size());
  for (size_t pos : positions) {
    std::vector<uint8_t> bad = good;
    bad[pos] ^= static_cast<uint8_t>(1u << (rng() % 8));
    auto r = DecodeCheckpoint(bad, "flipped");
    ASSERT_FALSE(r.ok()) << "flip at byte " << pos << " was accepted";
    EXPECT_TRUE(r.status().kind() == ErrorKind::kCorrupt || r.status().kind() == ErrorKind::kInvalidInput);
    EXPECT_EQ(r.status().ExitCode(), 2);
  }
}

TEST(CheckpointFormat, EveryTruncationIsRefusedAsTruncated) {
  const std::vector<uint8_t>& good = SmallFile();
  std::mt19937_64 rng(7);
  std::vector<size_t> lengths = {0, 1, 8, kCheckpointHeaderSize - 1, kCheckpointHeaderSize,
                                 kCheckpointHeaderSize + 1, good.size() - 1};
  for (int i = 0; i < 200; ++i) lengths.push_back(rng() % good.size());
  for (size_t len : lengths) {
    std::vector<uint8_t> cut(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(len));
    auto r = DecodeCheckpoint(cut, "cut");
    ASSERT_FALSE(r.ok()) << "cut at " << len << " was accepted";
    EXPECT_EQ(r.status().kind(), ErrorKind::kCorrupt) << r.status().message();
    EXPECT_NE(r.status().message().find("truncated"), std::string::npos) << r.status().message();
  }
}

TEST(CheckpointFormat, AppendedBytesAreRefused) {
  std::vector<uint8_t> longer = SmallFile();
  longer.push_back(0);
  EXPECT_EQ(DecodeCheckpoint(longer, "long").status().kind(), ErrorKind::kCorrupt);
}

// Rewrites the header with `edit` applied and a CRC that matches again.
std::vector<uint8_t> Reheader(std::vector<uint8_t> file, void (*edit)(CheckpointHeader*)) {
  CheckpointHeader h = DecodeCheckpointHeader(file, "x").value();
  edit(&h);
  std::span<const uint8_t> payload(file.data() + kCheckpointHeaderSize, file.size() - kCheckpointHeaderSize);
  h.crc = CheckpointCrc(h, payload);
  auto bytes = EncodeCheckpointHeader(h);
  std::memcpy(file.data(), bytes.data(), bytes.size());
  return file;
}

TEST(CheckpointFormat, OtherVersionIsRefusedAsSuch) {
  for (uint32_t v : {0u, kCheckpointVersion + 1, 0xffffffffu}) {
    static uint32_t version;
    version = v;
    auto file = Reheader(SmallFile(), [](CheckpointHeader* h) { h->version = version; });
    auto r = DecodeCheckpoint(file, "other.thck");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().kind(), ErrorKind::kInvalidInput);
    EXPECT_NE(r.status().message().find("format version " + std::to_string(v)), std::string::npos)
        << r.status().message();
    EXPECT_NE(r.status().message().find("thalia version that wrote it"), std::string::npos);
  }
}

TEST(CheckpointFormat, UnknownFlagsAreRefused) {
  auto file = Reheader(SmallFile(), [](CheckpointHeader* h) { h->flags = 4; });
  EXPECT_EQ(DecodeCheckpoint(file, "f").status().kind(), ErrorKind::kCorrupt);
}

TEST(CheckpointFormat, ValidChecksumOverGarbageIsRefused) {
  std::mt19937_64 rng(99);
  for (int round = 0; round < 50; ++round) {
    std::vector<uint8_t> payload(1 + rng() % 4000);
    for (auto& b : payload) b = static_cast<uint8_t>(rng());
    if (round % 2) {  // a well-formed zstd frame holding garbage: reaches the verifier
      std::vector<uint8_t> z(ZSTD_compressBound(payload.size()));
      z.resize(ZSTD_compress(z.data(), z.size(), payload.data(), payload.size(), 1));
      payload.swap(z);
    }
    CheckpointHeader h;
    h.payload_size = payload.size();
    h.raw_size = round % 2 ? ZSTD_getFrameContentSize(payload.data(), payload.size()) : rng() % 100000;
    h.crc = CheckpointCrc(h, payload);
    auto header = EncodeCheckpointHeader(h);
    std::vector<uint8_t> file(header.begin(), header.end());
    file.insert(file.end(), payload.begin(), payload.end());
    auto r = DecodeCheckpoint(file, "crafted");
    ASSERT_FALSE(r.ok()) << "round " << round;
    EXPECT_EQ(r.status().kind(), ErrorKind::kCorrupt) << r.status().message();
  }
}

TEST(CheckpointFormat, SizesBeyondTheLimitAreRefusedBeforeAllocating) {
  auto file = Reheader(SmallFile(), [](CheckpointHeader* h) { h->raw_size = uint64_t{1} << 40; });
  auto r = DecodeCheckpoint(file, "huge");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("limit"), std::string::npos);
}

TEST(CheckpointFile, NotACheckpointIsRefused) {
  testing::ScratchDir dir;
  testing::WriteBytes(dir / "x.thck", std::vector<uint8_t>(100, 'a'));
  auto r = ReadCheckpointFile(dir / "x.thck");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("not a thalia checkpoint"), std::string::npos);
  EXPECT_EQ(ReadCheckpointFile(dir / "missing.thck").status().kind(), ErrorKind::kInvalidInput);
  EXPECT_EQ(ReadCheckpointFile(dir.path()).status().kind(), ErrorKind::kInvalidInput);
}

TEST(CheckpointFile, AtomicWriteReplacesAndLeavesNoTemporaryFile) {
  testing::ScratchDir dir;
  const std::string path = dir / "a.bin";
  ASSERT_TRUE(WriteFileAtomically(path, Bytes("first")).ok());
  ASSERT_TRUE(WriteFileAtomically(path, Bytes("second, longer")).ok());
  auto got = testing::ReadBytes(path);
  EXPECT_EQ(std::string(got.begin(), got.end()), "second, longer");
  int files = 0;
  for (auto& e : std::filesystem::directory_iterator(dir.path())) files += e.is_regular_file();
  EXPECT_EQ(files, 1);
  EXPECT_EQ(WriteFileAtomically(dir / "no/such/folder.bin", Bytes("x")).kind(), ErrorKind::kIo);
}

TEST(CheckpointSeries, NamesSortByEpochAndKeepPrunesTheOldest) {
  testing::ScratchDir dir;
  EXPECT_EQ(CheckpointPath(dir.path(), 1234), dir / "ckpt-000001234.thck");
  auto spec = testing::LoadExample("tiny.json");
  auto series = CheckpointSeries::Open(dir / "ck", 100, 2, *spec);
  ASSERT_TRUE(series.ok()) << series.status().message();
  EXPECT_EQ(series->NextDue(0), 100u);
  EXPECT_EQ(series->NextDue(99), 100u);
  EXPECT_EQ(series->NextDue(100), 200u);
  auto brain = kernel::Brain::Create(spec, testing::Options());
  ASSERT_TRUE(brain.ok());
  std::vector<std::string> written;
  for (kernel::Tick t : {100, 200, 300}) {
    ASSERT_TRUE((*brain)->RunUntil(t).ok());
    auto p = series->Save(**brain);
    ASSERT_TRUE(p.ok()) << p.status().message();
    written.push_back(p->path);
    EXPECT_EQ(p->tick, t);
    EXPECT_EQ(p->epoch, (*brain)->epoch());
  }
  ASSERT_TRUE(series->Wait().ok());
  testing::WriteBytes(dir / "ck/.ckpt-000000099.thck.tmp-1", {1, 2, 3});  // an interrupted write
  testing::WriteBytes(dir / "ck/notes.txt", {1});
  auto list = ListCheckpoints(dir / "ck");
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].path, written[1]);
  EXPECT_EQ((*list)[1].path, written[2]);
  EXPECT_LT((*list)[0].epoch, (*list)[1].epoch);
  EXPECT_EQ((*list)[1].epoch, (*brain)->epoch());
}

}  // namespace
}  // namespace thalia::recorder
