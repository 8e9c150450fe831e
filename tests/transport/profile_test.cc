// --profile (RunOptions::profile_path): the timeline file is strict JSON in the trace-event
// format, names every process and thread, has a compute span of every worker in every epoch and
// no overlapping spans on one thread; and a profiled run is exactly the run without it.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>

#include "kernel/brain.h"
#include "tests/transport/json_lite.h"
#include "tests/transport/transport_test_util.h"

namespace thalia::transport {
namespace {

namespace fs = std::filesystem;
using testing::Json;

constexpr kernel::Tick kTicks = 300;  // tiny.json: 3 ms epochs, so 10 of them

struct TempFolder {
  fs::path path;
  TempFolder() {
    std::string t = (fs::temp_directory_path() / "thalia_profile_XXXXXX").string();
    path = ::mkdtemp(t.data());
  }
  ~TempFolder() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

struct Outcome {
  testing::RunResult result;
  uint64_t epochs = 0;
};

// Runs tiny.json for kTicks with `options`, the brain ended (and its profile written) on return.
Outcome RunTiny(kernel::RunOptions options) {
  Outcome o;
  o.result = testing::RunFor(testing::LoadExample("tiny.json"), options, kTicks);
  o.epochs = kTicks / testing::LoadExample("tiny.json")->epoch_ticks;
  return o;
}

kernel::RunOptions Options(int workers, const std::string& launch, int threads) {
  kernel::RunOptions o = workers > 0 ? testing::Parallel(workers, launch) : kernel::RunOptions{};
  o.threads = threads;
  o.shards = threads;  // tiny's regions are split too, so every pool thread computes
  o.keep_spikes = true;
  return o;
}

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void ExpectSameRun(const Outcome& got, const Outcome& want) {
  ASSERT_EQ(got.result.error, "");
  ASSERT_EQ(want.result.error, "");
  ASSERT_EQ(got.result.spikes, want.result.spikes);
  ASSERT_EQ(got.result.last_epoch_digests, want.result.last_epoch_digests);
  ASSERT_EQ(got.result.digests, want.result.digests);
}

struct Span {
  int64_t ts = 0, dur = 0;
  std::string cat, name;
  uint64_t epoch = 0;
};

// What a timeline holds, read strictly; the checks every timeline must pass are made here.
struct Timeline {
  Json doc;
  std::map<int, std::string> processes;                 // pid -> name
  std::map<std::pair<int, int>, std::string> threads;  // (pid, tid) -> name
  std::map<std::pair<int, int>, std::vector<Span>> spans;
};

void ReadTimeline(const fs::path& path, Timeline* t) {
  ASSERT_TRUE(fs::exists(path)) << path;
  ASSERT_FALSE(fs::exists(path.string() + ".incomplete"));
  testing::JsonReader reader;
  ASSERT_TRUE(reader.Parse(ReadFile(path), &t->doc)) << reader.error();
  ASSERT_EQ(t->doc.type, Json::kObject);
  ASSERT_EQ(t->doc["displayTimeUnit"].text, "ms");
  ASSERT_EQ(t->doc["traceEvents"].type, Json::kArray);
  const std::set<std::string> categories = {"compute", "waiting", "exchange", "recording", "checkpointing"};
  for (const Json& e : t->doc["traceEvents"].items) {
    ASSERT_EQ(e["pid"].type, Json::kNumber);
    ASSERT_EQ(e["tid"].type, Json::kNumber);
    const int pid = static_cast<int>(e["pid"].Number()), tid = static_cast<int>(e["tid"].Number());
    const std::string ph = e["ph"].text;
    if (ph == "M") {
      if (e["name"].text == "process_name") t->processes[pid] = e["args"]["name"].text;
      if (e["name"].text == "thread_name") t->threads[{pid, tid}] = e["args"]["name"].text;
      continue;
    }
    ASSERT_EQ(ph, "X");
    ASSERT_EQ(e["ts"].type, Json::kNumber);
    ASSERT_EQ(e["dur"].type, Json::kNumber);
    ASSERT_EQ(e["args"]["epoch"].type, Json::kNumber);
    Span s{e["ts"].Nanos(), e["dur"].Nanos(), e["cat"].text, e["name"].text,
           static_cast<uint64_t>(e["args"]["epoch"].Number())};
    ASSERT_GE(s.dur, 0) << s.name;
    ASSERT_TRUE(categories.count(s.cat)) << s.cat;
    ASSERT_TRUE(t->threads.count({pid, tid})) << "span on an unnamed thread " << pid << "/" << tid;
    t->spans[{pid, tid}].push_back(s);
  }
  for (auto& [thread, list] : t->spans) {
    std::sort(list.begin(), list.end(), [](const Span& a, const Span& b) { return a.ts < b.ts; });
    for (size_t i = 1; i < list.size(); ++i)
      ASSERT_LE(list[i - 1].ts + list[i - 1].dur, list[i].ts)
          << "process " << thread.first << " thread " << thread.second << ": '" << list[i - 1].name << "' overlaps '"
          << list[i].name << "' (epoch " << list[i].epoch << ")";
  }
}

// Every process in `pids` is named with `threads` named threads, each of which computed, and
// every one of them computed in every epoch on thread 0.
void ExpectComputeEverywhere(const Timeline& t, const std::vector<int>& pids, int threads, uint64_t epochs) {
  for (int pid : pids) {
    ASSERT_TRUE(t.processes.count(pid)) << "process " << pid << " is not named";
    for (int tid = 0; tid < threads; ++tid) {
      ASSERT_TRUE(t.threads.count({pid, tid})) << "process " << pid << " thread " << tid << " is not named";
      std::set<uint64_t> computed;
      auto it = t.spans.find({pid, tid});
      if (it != t.spans.end())
        for (const Span& s : it->second)
          if (s.cat == "compute") computed.insert(s.epoch);
      for (uint64_t e = 0; e < epochs; ++e)
        ASSERT_TRUE(computed.count(e)) << "process " << pid << " thread " << tid << " computed nothing in epoch " << e;
    }
  }
}

bool HasCategory(const Timeline& t, int pid, int tid, const std::string& cat) {
  auto it = t.spans.find({pid, tid});
  if (it == t.spans.end()) return false;
  for (const Span& s : it->second)
    if (s.cat == cat) return true;
  return false;
}

TEST(Profile, InProcessOnTwoThreadsTimesEveryThreadAndChangesNothing) {
  TempFolder dir;
  kernel::RunOptions o = Options(0, "", 2);
  const Outcome plain = RunTiny(o);
  o.profile_path = (dir.path / "p.json").string();
  const Outcome profiled = RunTiny(o);
  ExpectSameRun(profiled, plain);
  Timeline t;
  ReadTimeline(o.profile_path, &t);
  ExpectComputeEverywhere(t, {0}, 2, profiled.epochs);
  EXPECT_TRUE(HasCategory(t, 0, 0, "exchange"));
  EXPECT_EQ(t.doc["otherData"]["outcome"].text, "shut down");
  EXPECT_EQ(t.doc["otherData"]["stopped_at_epoch"].type, Json::kNull);
}

void ExpectWorkersProfiled(const std::string& launch) {
  TempFolder dir;
  kernel::RunOptions o = Options(2, launch, 2);
  const Outcome plain = RunTiny(o);
  o.profile_path = (dir.path / "p.json").string();
  const Outcome profiled = RunTiny(o);
  ExpectSameRun(profiled, plain);
  Timeline t;
  ReadTimeline(o.profile_path, &t);
  ExpectComputeEverywhere(t, {1, 2}, 2, profiled.epochs);
  EXPECT_TRUE(t.processes.count(0));
  EXPECT_NE(t.processes.at(1).find("worker 0: region"), std::string::npos) << t.processes.at(1);
  for (int pid : {1, 2}) {
    EXPECT_TRUE(HasCategory(t, pid, 0, "waiting")) << pid;
    EXPECT_TRUE(HasCategory(t, pid, 0, "exchange")) << pid;
  }
  EXPECT_TRUE(HasCategory(t, 0, 0, "waiting"));
  EXPECT_TRUE(HasCategory(t, 0, 0, "exchange"));
}

TEST(Profile, ForkedWorkersSendTheirThreadsSpansAndChangeNothing) { ExpectWorkersProfiled("fork"); }
TEST(Profile, SpawnedWorkersSendTheirThreadsSpansAndChangeNothing) { ExpectWorkersProfiled("spawn"); }

TEST(Profile, CoordinatorShareIsTimedInTheCoordinatorsProcess) {
  TempFolder dir;
  kernel::RunOptions o = Options(2, "fork", 2);
  o.coordinator_share = true;
  o.profile_path = (dir.path / "p.json").string();
  const Outcome profiled = RunTiny(o);
  ASSERT_EQ(profiled.result.error, "");
  Timeline t;
  ReadTimeline(o.profile_path, &t);
  ExpectComputeEverywhere(t, {0, 2}, 2, profiled.epochs);
  EXPECT_NE(t.processes.at(0).find("also worker 0"), std::string::npos) << t.processes.at(0);
}

TEST(Profile, WorkersReportTheirThreadsBusyAndWaitTimes) {
  auto brain = kernel::Brain::Create(testing::LoadExample("tiny.json"), Options(2, "fork", 2));
  ASSERT_TRUE(brain.ok()) << brain.status().message();
  ASSERT_TRUE((*brain)->RunUntil(kTicks).ok());
  const auto stats = (*brain)->Stats();
  ASSERT_EQ(stats.size(), 2u);
  for (const kernel::WorkerStats& w : stats) {
    ASSERT_EQ(w.thread_busy_s.size(), 2u) << "worker " << w.worker;
    ASSERT_EQ(w.thread_wait_s.size(), 2u) << "worker " << w.worker;
    for (double b : w.thread_busy_s) EXPECT_GT(b, 0.0) << "worker " << w.worker;
    for (double b : w.thread_wait_s) EXPECT_GE(b, 0.0) << "worker " << w.worker;
  }
}

TEST(Profile, TheSpanLimitStopsTheTimelineAndTheFileSaysWhere) {
  TempFolder dir;
  kernel::RunOptions o = Options(2, "fork", 1);
  o.profile_path = (dir.path / "p.json").string();
  o.profile_max_spans = 40;
  const Outcome profiled = RunTiny(o);
  ASSERT_EQ(profiled.result.error, "");
  Timeline t;
  ReadTimeline(o.profile_path, &t);
  size_t spans = 0;
  for (const auto& [thread, list] : t.spans) spans += list.size();
  EXPECT_EQ(spans, 40u);
  const Json& other = t.doc["otherData"];
  ASSERT_EQ(other["stopped_at_epoch"].type, Json::kNumber);
  EXPECT_LT(other["stopped_at_epoch"].Number(), static_cast<double>(profiled.epochs));
  EXPECT_GT(other["dropped_spans"].Number(), 0.0);
}

TEST(Profile, AFailedRunStillWritesItsTimeline) {
  TempFolder dir;
  kernel::RunOptions o = Options(2, "fork", 1);
  o.profile_path = (dir.path / "p.json").string();
  ::setenv("THALIA_TEST_WORKER_FAULT", "kill:1:4", 1);
  {
    auto brain = kernel::Brain::Create(testing::LoadExample("tiny.json"), o);
    ::unsetenv("THALIA_TEST_WORKER_FAULT");
    ASSERT_TRUE(brain.ok()) << brain.status().message();
    ASSERT_FALSE((*brain)->RunUntil(kTicks).ok());
  }
  Timeline t;
  ReadTimeline(o.profile_path, &t);
  ExpectComputeEverywhere(t, {1, 2}, 1, 4);  // the epochs before the failure
  EXPECT_EQ(t.doc["otherData"]["outcome"].text, "failed");
}

// The command line: a profile folder that cannot be written is refused before the run, like
// --record's; a profiled run with recording and checkpoints prints the same digest line, and its
// report and summary show every worker's threads.
int Thalia(const std::string& args, std::string* out) {
  TempFolder dir;
  const std::string log = (dir.path / "log").string();
  const std::string cmd = "'" + testing::ThaliaBinary() + "' " + args + " >'" + log + "' 2>&1";
  const int status = std::system(cmd.c_str());
  *out = ReadFile(log);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string DigestLine(const std::string& out) {
  const size_t at = out.find("\ndigest ");
  return at == std::string::npos ? "" : out.substr(at + 1, 24);
}

TEST(ProfileCommand, AnUnwritableProfileFolderIsRefusedBeforeTheRun) {
  std::string out;
  const int code = Thalia("run '" + testing::ExamplePath("tiny.json") +
                              "' --until 10ms --quiet --profile /nonexistent-folder-of-thalia/p.json", &out);
  EXPECT_EQ(code, 2) << out;
  EXPECT_NE(out.find("--profile"), std::string::npos) << out;
  EXPECT_EQ(DigestLine(out), "") << out;
}

TEST(ProfileCommand, RecordingAndCheckpointsAreOnTheTimelineAndTheDigestIsUnchanged) {
  TempFolder dir;
  const std::string base = "run '" + testing::ExamplePath("tiny.json") + "' --until 60ms --quiet --workers 2 --threads 2";
  std::string plain_out, out;
  ASSERT_EQ(Thalia(base, &plain_out), 0) << plain_out;
  const fs::path profile = dir.path / "p.json";
  ASSERT_EQ(Thalia(base + " --record '" + (dir.path / "t.trace").string() + "' --checkpoint-every 20ms --checkpoint-dir '" +
                       (dir.path / "ck").string() + "' --profile '" + profile.string() + "' --summary '" +
                       (dir.path / "s.json").string() + "'",
                   &out),
            0)
      << out;
  ASSERT_NE(DigestLine(plain_out), "");
  EXPECT_EQ(DigestLine(out), DigestLine(plain_out));
  EXPECT_NE(out.find("profile " + profile.string()), std::string::npos) << out;
  Timeline t;
  ReadTimeline(profile, &t);
  EXPECT_TRUE(HasCategory(t, 0, 0, "recording"));
  EXPECT_TRUE(HasCategory(t, 0, 0, "checkpointing"));
  EXPECT_TRUE(HasCategory(t, 1, 0, "checkpointing"));
  EXPECT_EQ(t.doc["otherData"]["outcome"].text, "complete");
  // The summary has each worker's threads (sent by the workers with their replies).
  Json summary;
  testing::JsonReader reader;
  ASSERT_TRUE(reader.Parse(ReadFile(dir.path / "s.json"), &summary)) << reader.error();
  ASSERT_EQ(summary["workers"].items.size(), 2u);
  for (const Json& w : summary["workers"].items) {
    EXPECT_EQ(w["thread_busy_s"].items.size(), 2u);
    EXPECT_EQ(w["thread_wait_s"].items.size(), 2u);
  }
  EXPECT_NE(out.find("threads busy"), std::string::npos) << out;
}

}  // namespace
}  // namespace thalia::transport
