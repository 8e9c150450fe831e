// Worker faults through the `thalia` binary: a worker killed at an epoch drawn from fixed seeds,
// a worker that stops answering (--hang-timeout), a worker that closes its socket in the middle
// of a frame, a coordinator that does so, and a coordinator killed outright. Every run must end
// with an error naming the worker, its regions and the epoch, leave no process behind, and leave
// its trace prefix and checkpoints readable, the newest resuming to the uninterrupted digest.
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <random>

#include "kernel/registry.h"
#include "tests/faults/fault_util.h"
#include "transport/codec.h"
#include "transport/frame.h"
#include "transport/unique_fd.h"
#include "transport/worker.h"

namespace thalia::testing {
namespace {

// tiny.json has 5 regions; with this placement worker 0 hosts cortex, pfc and cerebellum and
// worker 1 hippocampus and striatum. `thalia run` cuts epochs (30 ticks) at its 20 ms slices:
// 1 s is epochs 0..349.
const char kPlacement[] = "0,1,0,1,0";
const char* const kRegionsOf[] = {"regions cortex, pfc, cerebellum", "regions hippocampus, striatum"};

// Runs tiny.json to 1 s in two workers, recording and checkpointing every 100 ms, with the
// worker fault hook set to `fault` (see transport/worker.h).
ThaliaResult RunWithFault(const ScratchDir& dir, const std::string& launch, const std::string& fault,
                          const std::vector<std::string>& extra = {}) {
  BecomeSubreaper();
  std::vector<std::string> args = {"run", ExamplePath("tiny.json"), "--until", "1s", "--quiet",
                                   "--workers", "2", "--launch", launch, "--placement", kPlacement,
                                   "--record", dir / "t.trace", "--checkpoint-every", "100ms",
                                   "--checkpoint-dir", dir / "ck"};
  args.insert(args.end(), extra.begin(), extra.end());
  return RunThaliaLimited(args, dir / "run", {"THALIA_TEST_WORKER_FAULT=" + fault}, 0);
}

// What a failed run at epoch `epoch` must leave: the trace's prefix up to that epoch, readable
// (it never closed), and checkpoints that all load, the newest resuming to the straight digest.
void ExpectIntactFiles(const ScratchDir& dir, uint64_t epoch) {
  EXPECT_FALSE(std::filesystem::exists(dir / "t.trace")) << "a failed run must not complete its trace";
  TraceSummary trace = ReadTrace(dir / "t.trace.incomplete");
  EXPECT_EQ(trace.error, "");
  EXPECT_FALSE(trace.complete);
  EXPECT_EQ(trace.epochs, epoch) << "every epoch before the failing one is in the trace";
  auto list = Checkpoints(dir / "ck");
  ASSERT_FALSE(list.empty());
  for (const auto& e : list) {
    auto c = recorder::ReadCheckpointFile(e.path);
    ASSERT_TRUE(c.ok()) << c.status().message();
    EXPECT_LE(c->state.epoch, epoch);
  }
  EXPECT_TRUE(Contains(ReadText(dir / "run.err"), "continue from its newest checkpoint: thalia run --resume " +
                                                       list.back().path + " --until 1s\n"))
      << ReadText(dir / "run.err");
  auto resumed = RunThalia({"run", "--resume", list.back().path, "--until", "1s", "--quiet"}, dir / "resumed");
  ASSERT_EQ(resumed.status, 0) << resumed.err;
  EXPECT_EQ(DigestLine(resumed.out), StraightDigest("1s")) << "resumed from " << list.back().path;
}

class WorkerFault : public ::testing::TestWithParam<const char*> {};

TEST_P(WorkerFault, KilledAtARandomEpochEndsTheRunNamingWorkerRegionsAndEpoch) {
  for (unsigned seed : {11u, 12u, 13u}) {
    std::mt19937 rng(seed);
    const uint64_t epoch = 40 + rng() % 280;  // after the first checkpoint, before the end
    const int worker = static_cast<int>(seed % 2);
    SCOPED_TRACE("seed " + std::to_string(seed) + ": worker " + std::to_string(worker) + " killed at epoch " +
                 std::to_string(epoch));
    ScratchDir dir;
    auto r = RunWithFault(dir, GetParam(), "kill:" + std::to_string(worker) + ":" + std::to_string(epoch));
    EXPECT_TRUE(StrayChildren().empty()) << "the coordinator left a worker behind";
    EXPECT_EQ(r.status, 1) << r.err;
    EXPECT_TRUE(Contains(r.err, "worker " + std::to_string(worker) + " (pid ")) << r.err;
    EXPECT_TRUE(Contains(r.err, kRegionsOf[worker])) << r.err;
    EXPECT_TRUE(Contains(r.err, ") died during epoch " + std::to_string(epoch) + ";")) << r.err;
    EXPECT_TRUE(Contains(r.err, "killed by signal 9 (SIGKILL)")) << r.err;
    EXPECT_EQ(DigestLine(r.out), "");
    ExpectIntactFiles(dir, epoch);
  }
}

TEST_P(WorkerFault, StalledWorkerIsDeclaredHungAfterTheHangTimeout) {
  const uint64_t epoch = 150;
  ScratchDir dir;
  auto t0 = std::chrono::steady_clock::now();
  auto r = RunWithFault(dir, GetParam(), "stall:1:" + std::to_string(epoch), {"--hang-timeout", "1500ms"});
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(20));
  EXPECT_TRUE(StrayChildren().empty()) << "the coordinator left a worker behind";
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_TRUE(Contains(r.err, std::string("worker 1 (pid ")) && Contains(r.err, kRegionsOf[1])) << r.err;
  EXPECT_TRUE(Contains(r.err, ") hung: no reply within 1500 ms during epoch " + std::to_string(epoch))) << r.err;
  EXPECT_TRUE(Contains(r.err, "killed by signal 9 (SIGKILL)")) << r.err;
  ExpectIntactFiles(dir, epoch);
}

TEST_P(WorkerFault, WorkerClosingItsSocketMidFrameIsReportedAsDeath) {
  const uint64_t epoch = 77;
  ScratchDir dir;
  auto r = RunWithFault(dir, GetParam(), "cut:0:" + std::to_string(epoch));
  EXPECT_TRUE(StrayChildren().empty()) << "the coordinator left a worker behind";
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_TRUE(Contains(r.err, std::string("worker 0 (pid ")) && Contains(r.err, kRegionsOf[0])) << r.err;
  EXPECT_TRUE(Contains(r.err, "died (the peer closed the connection in the middle of a frame) during epoch " +
                                  std::to_string(epoch)))
      << r.err;
  EXPECT_TRUE(Contains(r.err, "exited with status 1")) << r.err;
  ExpectIntactFiles(dir, epoch);
}

TEST_P(WorkerFault, KilledCoordinatorTakesItsWorkersWithIt) {
  BecomeSubreaper();
  ScratchDir dir;
  ThaliaProcess p({"run", ExamplePath("tiny.json"), "--until", "100s", "--quiet", "--workers", "2", "--launch",
                   GetParam()},
                  dir / "run");
  std::vector<pid_t> workers;
  for (int i = 0; i < 2000 && workers.size() < 2 && !p.Exited(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    workers = ChildrenOf(p.pid());
  }
  ASSERT_EQ(workers.size(), 2u) << p.err();
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // under way
  p.Signal(SIGKILL);
  EXPECT_EQ(p.Wait(), 128 + SIGKILL);
  EXPECT_TRUE(ReapStrays(5.0).empty()) << "a worker outlived its coordinator";
  for (pid_t w : workers) EXPECT_TRUE(::kill(w, 0) != 0 && errno == ESRCH) << "worker " << w << " still exists";
}

INSTANTIATE_TEST_SUITE_P(ForkAndSpawn, WorkerFault, ::testing::Values("fork", "spawn"));

// --- The coordinator's side of a cut frame: this test is the coordinator of one real worker. ---

// A worker serving every region of tiny.json over `fd`, with stderr in `err_path`: forked
// (ServeWorker on regions built here) or spawned (`thalia __worker --fd 3`).
pid_t StartWorker(bool spawn, const kernel::BrainSpec& spec, int fd, int other_fd, const std::string& err_path) {
  pid_t pid = ::fork();
  if (pid != 0) return pid;
  ::close(other_fd);
  int e = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  ::dup2(e, 2);
  if (spawn) {
    ::dup2(fd, 3);
    std::string bin = ThaliaBinary();
    char fd_text[] = "3";
    char* argv[] = {bin.data(), const_cast<char*>(transport::kWorkerCommand), const_cast<char*>("--fd"), fd_text,
                    nullptr};
    ::execv(bin.c_str(), argv);
    ::_exit(127);
  }
  std::vector<std::unique_ptr<kernel::Region>> regions;
  for (kernel::RegionId r = 0; r < spec.regions.size(); ++r) regions.push_back(kernel::BuildRegion(spec, r));
  ::_exit(transport::ServeWorker(fd, 0, std::move(regions)));
}

std::vector<uint8_t> Bytes(const flatbuffers::FlatBufferBuilder& b) {
  auto f = transport::Frame(b);
  return {f.begin(), f.end()};
}

struct CutCase {
  bool spawn;
  bool during_setup;  // else during the first EpochBegin
};

class CoordinatorCut : public ::testing::TestWithParam<CutCase> {};

TEST_P(CoordinatorCut, WorkerExitsWithAClearErrorWhenTheCoordinatorClosesMidFrame) {
  BecomeSubreaper();
  const CutCase c = GetParam();
  auto spec = LoadExample("tiny.json");
  const size_t n = spec->regions.size();
  ScratchDir dir;
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  transport::UniqueFd mine(sv[0]), theirs(sv[1]);
  const pid_t pid = StartWorker(c.spawn, *spec, theirs.get(), mine.get(), dir / "worker.err");
  theirs.reset();

  flatbuffers::FlatBufferBuilder b;
  std::vector<uint32_t> all;
  for (uint32_t r = 0; r < n; ++r) all.push_back(r);
  std::vector<uint8_t> frame;
  if (c.spawn) {
    auto ids = b.CreateVector(all);
    auto config = b.CreateVector(spec->config);
    transport::FinishMessage(&b, wire::Payload::Setup,
                             wire::CreateSetup(b, transport::kProtocolVersion, 0, ids, config));
    frame = Bytes(b);
  }
  if (!c.during_setup) {
    if (c.spawn) {
      ASSERT_TRUE(transport::WriteFrame(mine.get(), frame, 5000).ok());
    }
    transport::FrameReader reader;
    auto ready = transport::ReadFrame(mine.get(), &reader, 20000);
    ASSERT_TRUE(ready.ok() && ready.value() == transport::FrameReader::Step::kFrame);
    ASSERT_TRUE(transport::DecodeFrame(reader.frame()).value()->payload_as_Ready());
    kernel::EpochBegin begin;
    begin.t1 = spec->epoch_ticks;
    begin.inbound.resize(n);
    begin.external.resize(n);
    std::vector<kernel::RegionId> ids(all.begin(), all.end());
    transport::EncodeEpochBegin(begin, ids, &b);
    frame = Bytes(b);
  }
  // Half a frame, then the coordinator's end closes as if it had crashed mid-send.
  frame.resize(frame.size() / 2);
  ASSERT_TRUE(transport::WriteFrame(mine.get(), frame, 5000).ok());
  mine.reset();

  int ws = 0;
  auto end = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (::waitpid(pid, &ws, WNOHANG) == 0 && std::chrono::steady_clock::now() < end)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  if (std::chrono::steady_clock::now() >= end) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &ws, 0);
    FAIL() << "the worker did not exit after its coordinator closed mid-frame";
  }
  ASSERT_TRUE(WIFEXITED(ws)) << "the worker crashed: wait status " << ws;
  EXPECT_EQ(WEXITSTATUS(ws), 1);
  const std::string err = ReadText(dir / "worker.err");
  EXPECT_TRUE(Contains(err, "the peer closed the connection in the middle of a frame")) << err;
  EXPECT_TRUE(ReapStrays(0).empty());
}

INSTANTIATE_TEST_SUITE_P(SetupAndEpoch, CoordinatorCut,
                         ::testing::Values(CutCase{true, true}, CutCase{true, false}, CutCase{false, false}),
                         [](const auto& info) {
                           return std::string(info.param.spawn ? "Spawned" : "Forked") +
                                  (info.param.during_setup ? "DuringSetup" : "DuringEpoch");
                         });

}  // namespace
}  // namespace thalia::testing
