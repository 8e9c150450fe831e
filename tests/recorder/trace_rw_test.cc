// The writer and reader end to end on the tiny brain: what is recorded is what ran; chunking
// does not change it; a crash-cut, truncated or corrupted trace reads as its intact prefix or
// fails with a message naming the chunk, and never yields a wrong batch.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <random>
#include <thread>

#include "recorder/trace_format.h"
#include "recorder/trace_reader.h"
#include "recorder/trace_writer.h"
#include "tests/recorder/trace_test_util.h"

namespace thalia::recorder {
namespace {

using testing::TempDir;

struct ReadBack {
  Status status;
  std::vector<TraceBatch> batches;
  std::vector<TraceMark> marks;
  bool complete = false;
  std::string end_reason;
};

ReadBack ReadAll(const std::string& path, TraceReaderOptions o = {}) {
  ReadBack rb;
  auto r = TraceReader::Open(path, o);
  if (!r.ok()) {
    rb.status = r.status();
    return rb;
  }
  DecodedRecord rec;
  while (true) {
    auto more = r.value()->Next(&rec);
    if (!more.ok()) {
      rb.status = more.status();
      return rb;
    }
    if (!more.value()) break;
    if (rec.kind == RecordKind::kBatch) rb.batches.push_back(rec.batch);
    if (rec.kind == RecordKind::kMark) rb.marks.push_back(rec.mark);
  }
  rb.complete = r.value()->complete();
  rb.end_reason = r.value()->end_reason();
  return rb;
}

bool SameBatch(const TraceBatch& a, const TraceBatch& b) {
  return a.epoch == b.epoch && a.t0 == b.t0 && a.t1 == b.t1 && a.spikes == b.spikes &&
         a.digests == b.digests && a.events == b.events && a.external == b.external &&
         a.modulators == b.modulators && a.full_digest == b.full_digest;
}

constexpr kernel::Tick kTicks = 3000;  // 300 ms of the tiny brain

class TraceRw : public ::testing::Test {
 protected:
  void SetUp() override {
    spec_ = testing::LoadExample("tiny.json");
    TraceWriterOptions w;
    w.chunk_raw_bytes = 8 << 10;  // several chunks even for a short run
    brain_ = testing::RecordRun(spec_, dir_.File("run.trace"), kTicks, {}, w);
    original_ = ReadAll(dir_.File("run.trace"));
    ASSERT_TRUE(original_.status.ok()) << original_.status.message();
  }
  // A fresh brain run for `epochs` epochs while recording to `path`; the writer is left open (for
  // the test to close or abandon) and no longer observes the brain.
  struct Recording {
    std::unique_ptr<kernel::Brain> brain;
    std::unique_ptr<TraceWriter> writer;
  };
  void RecordEpochs(const std::string& path, uint64_t epochs, Recording* out) {
    out->brain = kernel::Brain::Create(spec_).value();
    auto w = TraceWriter::Open(path, *out->brain);
    ASSERT_TRUE(w.ok()) << w.status().message();
    out->writer = std::move(w).value();
    out->brain->AddObserver(out->writer.get());
    ASSERT_TRUE(out->brain->StepEpochs(epochs).ok());
    out->brain->RemoveObserver(out->writer.get());
  }
  TempDir dir_;
  std::shared_ptr<const kernel::BrainSpec> spec_;
  std::unique_ptr<kernel::Brain> brain_;
  ReadBack original_;
};

TEST_F(TraceRw, RecordedBatchesAreWhatTheBrainRan) {
  EXPECT_TRUE(original_.complete);
  ASSERT_EQ(original_.batches.size(), brain_->epoch());
  EXPECT_EQ(original_.batches.back().t1, kTicks);
  EXPECT_EQ(original_.batches.back().digests, brain_->epoch_digests());
  EXPECT_FALSE(std::filesystem::exists(dir_.File("run.trace.incomplete")));
  for (kernel::RegionId r = 0; r < spec_->regions.size(); ++r) {
    std::vector<kernel::Spike> all;
    for (const TraceBatch& b : original_.batches) all.insert(all.end(), b.spikes[r].begin(), b.spikes[r].end());
    EXPECT_EQ(all, brain_->TakeSpikes(r)) << spec_->regions[r].name;
    EXPECT_FALSE(all.empty());
  }
}

TEST_F(TraceRw, ChunkSizeDoesNotChangeTheRecords) {
  TraceWriterOptions one_chunk;
  one_chunk.chunk_raw_bytes = 64u << 20;
  testing::RecordRun(spec_, dir_.File("big.trace"), kTicks, {}, one_chunk);
  ReadBack big = ReadAll(dir_.File("big.trace"));
  ASSERT_TRUE(big.status.ok());
  ASSERT_EQ(big.batches.size(), original_.batches.size());
  for (size_t i = 0; i < big.batches.size(); ++i) EXPECT_TRUE(SameBatch(big.batches[i], original_.batches[i])) << i;
  EXPECT_GT(std::filesystem::file_size(dir_.File("run.trace")), std::filesystem::file_size(dir_.File("big.trace")))
      << "small chunks cost headers and compression";
}

TEST_F(TraceRw, CheckpointMarksSitBetweenTheirBatches) {
  auto brain = kernel::Brain::Create(spec_).value();
  auto w = TraceWriter::Open(dir_.File("marks.trace"), *brain).value();
  brain->AddObserver(w.get());
  ASSERT_TRUE(brain->StepEpochs(3).ok());
  ASSERT_TRUE(w->MarkCheckpoint(brain->epoch(), brain->tick(), "ckpt-3", 77).ok());
  ASSERT_TRUE(brain->StepEpochs(2).ok());
  ASSERT_TRUE(w->Close().ok());
  auto r = TraceReader::Open(dir_.File("marks.trace")).value();
  DecodedRecord rec;
  std::vector<std::string> order;
  while (r->Next(&rec).value())
    order.push_back(rec.kind == RecordKind::kMark ? "mark " + rec.mark.file + " " + std::to_string(rec.mark.epoch)
                                                  : std::to_string(rec.batch.epoch));
  EXPECT_EQ(order, (std::vector<std::string>{"0", "1", "2", "mark ckpt-3 3", "3", "4"}));
}

TEST_F(TraceRw, AnAbandonedTraceIsAReadablePrefixUnderItsIncompleteName) {
  Recording recording;
  ASSERT_NO_FATAL_FAILURE(RecordEpochs(dir_.File("cut.trace"), 20, &recording));
  ASSERT_TRUE(recording.writer->Abandon().ok());
  EXPECT_FALSE(std::filesystem::exists(dir_.File("cut.trace")));
  ReadBack rb = ReadAll(dir_.File("cut.trace.incomplete"));
  ASSERT_TRUE(rb.status.ok()) << rb.status.message();
  EXPECT_FALSE(rb.complete);
  EXPECT_EQ(rb.batches.size(), 20u);
  EXPECT_NE(rb.end_reason.find("did not close"), std::string::npos) << rb.end_reason;
}

// Never losing a record: an unfinished trace (what a crash leaves) is never overwritten, and a
// finished trace written over another keeps the other as TRACE.old, byte for byte.
TEST_F(TraceRw, AnUnfinishedTraceIsNeverOverwritten) {
  Recording recording;
  ASSERT_NO_FATAL_FAILURE(RecordEpochs(dir_.File("cut.trace"), 5, &recording));
  ASSERT_TRUE(recording.writer->Abandon().ok());
  recording.writer.reset();
  const std::vector<uint8_t> cut = testing::ReadBytes(dir_.File("cut.trace.incomplete"));
  ASSERT_FALSE(cut.empty());
  Status check = TraceWriter::CheckTarget(dir_.File("cut.trace"));
  EXPECT_EQ(check.ExitCode(), 2);
  EXPECT_NE(check.message().find("cut.trace.incomplete exists"), std::string::npos) << check.message();
  auto again = TraceWriter::Open(dir_.File("cut.trace"), *recording.brain);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().ExitCode(), 2);
  EXPECT_EQ(testing::ReadBytes(dir_.File("cut.trace.incomplete")), cut);
  EXPECT_TRUE(TraceWriter::CheckTarget(dir_.File("other.trace")).ok());
}

TEST_F(TraceRw, AFinishedTraceWrittenOverAnotherKeepsItAsOld) {
  const std::vector<uint8_t> first = testing::ReadBytes(dir_.File("run.trace"));
  Recording recording;
  ASSERT_NO_FATAL_FAILURE(RecordEpochs(dir_.File("run.trace"), 3, &recording));
  EXPECT_EQ(testing::ReadBytes(dir_.File("run.trace")), first) << "replaced before the new one was finished";
  ASSERT_TRUE(recording.writer->Close().ok());
  EXPECT_EQ(recording.writer->previous_path(), dir_.File("run.trace.old"));
  EXPECT_EQ(testing::ReadBytes(dir_.File("run.trace.old")), first);
  ReadBack rb = ReadAll(dir_.File("run.trace"));
  ASSERT_TRUE(rb.status.ok()) << rb.status.message();
  EXPECT_TRUE(rb.complete);
  EXPECT_EQ(rb.batches.size(), 3u);
  // A third trace at the same path keeps the second as run.trace.old.1: nothing is deleted.
  const std::vector<uint8_t> second = testing::ReadBytes(dir_.File("run.trace"));
  auto w3 = TraceWriter::Open(dir_.File("run.trace"), *recording.brain).value();
  ASSERT_TRUE(w3->Close().ok());
  EXPECT_EQ(w3->previous_path(), dir_.File("run.trace.old.1"));
  EXPECT_EQ(testing::ReadBytes(dir_.File("run.trace.old")), first);
  EXPECT_EQ(testing::ReadBytes(dir_.File("run.trace.old.1")), second);
}

TEST_F(TraceRw, AKilledRecorderLeavesTheChunksItFlushedByAge) {
  const std::string path = dir_.File("killed.trace");
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    auto brain = kernel::Brain::Create(spec_).value();
    TraceWriterOptions o;
    o.chunk_max_age_ms = 20;
    auto w = TraceWriter::Open(path, *brain, o).value();
    brain->AddObserver(w.get());
    if (!brain->StepEpochs(40).ok()) _exit(1);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // longer than the chunk age
    _exit(0);  // no Close: as if the process died here
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  ReadBack rb = ReadAll(path + ".incomplete");
  ASSERT_TRUE(rb.status.ok()) << rb.status.message();
  EXPECT_FALSE(rb.complete);
  ASSERT_EQ(rb.batches.size(), 40u) << "every epoch was flushed by the chunk age";
  for (size_t i = 0; i < rb.batches.size(); ++i) EXPECT_TRUE(SameBatch(rb.batches[i], original_.batches[i]));
}

class Recorder : public TraceReporter {
 public:
  void Dropped(uint64_t offset, uint64_t bytes, const std::string& reason) override {
    ++calls;
    last_offset = offset;
    last_bytes = bytes;
    last_reason = reason;
  }
  int calls = 0;
  uint64_t last_offset = 0, last_bytes = 0;
  std::string last_reason;
};

TEST_F(TraceRw, TruncatedAt20RandomOffsetsReadsAnExactPrefix) {
  const std::vector<uint8_t> bytes = testing::ReadBytes(dir_.File("run.trace"));
  std::mt19937_64 rng(20240611);
  for (int i = 0; i < 20; ++i) {
    const size_t cut = std::uniform_int_distribution<size_t>(0, bytes.size() - 1)(rng);
    SCOPED_TRACE("cut at " + std::to_string(cut) + " of " + std::to_string(bytes.size()));
    testing::WriteBytes(dir_.File("cut.trace"), {bytes.begin(), bytes.begin() + static_cast<long>(cut)});
    Recorder reporter;
    TraceReaderOptions o;
    o.reporter = &reporter;
    ReadBack rb = ReadAll(dir_.File("cut.trace"), o);
    if (!rb.status.ok()) {
      // Only a cut inside the file header or the header chunk makes the trace unusable.
      EXPECT_TRUE(rb.status.kind() == ErrorKind::kInvalidInput || rb.status.kind() == ErrorKind::kCorrupt);
      EXPECT_LT(cut, 2000u) << rb.status.message();
      continue;
    }
    EXPECT_FALSE(rb.complete);
    EXPECT_EQ(reporter.calls, 1);
    EXPECT_EQ(reporter.last_offset + reporter.last_bytes, cut);
    ASSERT_LE(rb.batches.size(), original_.batches.size());
    for (size_t k = 0; k < rb.batches.size(); ++k) ASSERT_TRUE(SameBatch(rb.batches[k], original_.batches[k]));
  }
}

TEST_F(TraceRw, TwentyFlippedBytesAreCaughtOrHarmless) {
  const std::vector<uint8_t> bytes = testing::ReadBytes(dir_.File("run.trace"));
  std::mt19937_64 rng(777);
  for (int i = 0; i < 20; ++i) {
    std::vector<uint8_t> bad = bytes;
    const size_t at = std::uniform_int_distribution<size_t>(0, bytes.size() - 1)(rng);
    bad[at] ^= static_cast<uint8_t>(std::uniform_int_distribution<int>(1, 255)(rng));
    SCOPED_TRACE("byte " + std::to_string(at) + " of " + std::to_string(bytes.size()));
    testing::WriteBytes(dir_.File("bad.trace"), bad);
    ReadBack rb = ReadAll(dir_.File("bad.trace"));
    if (!rb.status.ok()) {
      EXPECT_TRUE(rb.status.kind() == ErrorKind::kCorrupt || rb.status.kind() == ErrorKind::kInvalidInput);
      EXPECT_NE(rb.status.message().find("bad.trace"), std::string::npos) << rb.status.message();
      continue;
    }
    // Not an error: the flip hit a part whose loss only costs the footer; no batch may differ.
    ASSERT_LE(rb.batches.size(), original_.batches.size());
    for (size_t k = 0; k < rb.batches.size(); ++k) ASSERT_TRUE(SameBatch(rb.batches[k], original_.batches[k]));
  }
}

TEST_F(TraceRw, ACorruptChunkNamesItselfOrEndsTheLenientPrefix) {
  std::vector<uint8_t> bytes = testing::ReadBytes(dir_.File("run.trace"));
  // The second data chunk: skip the file header and the header chunk and the first data chunk.
  size_t off = kFileHeaderSize;
  for (int k = 0; k < 2; ++k) off += kChunkHeaderSize + GetU32(bytes.data() + off + 8);
  bytes[off + kChunkHeaderSize + 5] ^= 0x40;
  testing::WriteBytes(dir_.File("bad.trace"), bytes);
  ReadBack strict = ReadAll(dir_.File("bad.trace"));
  EXPECT_EQ(strict.status.kind(), ErrorKind::kCorrupt);
  EXPECT_NE(strict.status.message().find("chunk 2 at byte " + std::to_string(off)), std::string::npos)
      << strict.status.message();
  EXPECT_NE(strict.status.message().find("checksum"), std::string::npos);
  Recorder reporter;
  TraceReaderOptions o;
  o.strict = false;
  o.reporter = &reporter;
  ReadBack lenient = ReadAll(dir_.File("bad.trace"), o);
  ASSERT_TRUE(lenient.status.ok());
  EXPECT_EQ(reporter.last_offset, off);
  ASSERT_GT(lenient.batches.size(), 0u);
  ASSERT_LT(lenient.batches.size(), original_.batches.size());
  for (size_t k = 0; k < lenient.batches.size(); ++k) EXPECT_TRUE(SameBatch(lenient.batches[k], original_.batches[k]));
}

TEST(TraceReader, RefusesWhatIsNotATrace) {
  TempDir dir;
  testing::WriteBytes(dir.File("x.trace"), {'h', 'e', 'l', 'l', 'o'});
  auto r = TraceReader::Open(dir.File("x.trace"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().kind(), ErrorKind::kInvalidInput);
  EXPECT_NE(r.status().message().find("not a thalia trace"), std::string::npos);
  EXPECT_EQ(TraceReader::Open(dir.File("missing.trace")).status().kind(), ErrorKind::kInvalidInput);
}

// A trace of another format version is refused with a message naming the version found and the
// one this build reads, from the file header or (if only that one says so) the trace header.
TEST(TraceReader, RefusesAnotherFormatVersionNamingBoth) {
  TempDir dir;
  testing::RecordRun(testing::LoadExample("tiny.json"), dir.File("run.trace"), 100);
  const std::vector<uint8_t> good = testing::ReadBytes(dir.File("run.trace"));
  const std::string reads = "this thalia reads version " + std::to_string(kTraceFormatVersion);
  for (uint32_t v : {kTraceFormatVersion - 1, kTraceFormatVersion + 1}) {
    std::vector<uint8_t> bad = good;
    PutU32(bad.data() + 8, v);
    testing::WriteBytes(dir.File("other.trace"), bad);
    auto r = TraceReader::Open(dir.File("other.trace"));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().kind(), ErrorKind::kInvalidInput);
    EXPECT_NE(r.status().message().find("trace format version " + std::to_string(v) + ", " + reads),
              std::string::npos)
        << r.status().message();
  }
}

// Issue 16: a low-rate network (Brette et al. 2007's CUBA, 4,000 neurons at ~5.5 Hz, one region,
// 10 ms epochs) records under 2 bytes per spike, counted honestly: the whole file over every
// spike. Version 1's varint streams took 2.14 bytes per spike on this run; version 2 takes 1.71.
TEST(TraceSize, ALowRateCubaRunTakesUnderTwoBytesPerSpike) {
  TempDir dir;
  constexpr kernel::Tick kTwoSeconds = 20000;
  auto brain = testing::RecordRun(testing::LoadExample("cuba.json"), dir.File("cuba.trace"), kTwoSeconds);
  const uint64_t spikes = brain->TakeSpikes(0).size();
  ASSERT_GT(spikes, 30000u) << "CUBA's rate changed: this test needs a low-rate run that fires";
  const uint64_t bytes = std::filesystem::file_size(dir.File("cuba.trace"));
  const double per_spike = static_cast<double>(bytes) / static_cast<double>(spikes);
  std::printf("cuba.json 2 s: %llu bytes, %llu spikes, %.3f bytes/spike\n", static_cast<unsigned long long>(bytes),
              static_cast<unsigned long long>(spikes), per_spike);
  EXPECT_LT(per_spike, 2.0);
}

}  // namespace
}  // namespace thalia::recorder
