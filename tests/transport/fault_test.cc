// Failures of workers: killed, throwing, hung, unstartable. Each must end the run with a message
// naming the worker, its region and the epoch, a kWorker status, and no child process left.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <stdexcept>
#include <thread>

#include "kernel/brain.h"
#include "kernel/population_region.h"
#include "kernel/registry.h"
#include "tests/transport/transport_test_util.h"

namespace thalia::transport {
namespace {

using Clock = std::chrono::steady_clock;
using testing::Parallel;

// A pfc region that misbehaves at epoch 3: throws, or stops answering.
class FaultyRegion final : public kernel::Region {
 public:
  enum Mode { kThrow, kHang };
  FaultyRegion(const kernel::BrainSpec& spec, kernel::RegionId id, Mode mode) : inner_(spec, id), mode_(mode) {}
  const kernel::RegionSpec& spec() const override { return inner_.spec(); }
  kernel::Tick tick() const override { return inner_.tick(); }
  void Advance(const kernel::EpochContext& ctx, std::span<const kernel::InSpike> in,
               std::span<const kernel::ExternalInput> ext, std::vector<kernel::Spike>* out) override {
    if (ctx.epoch == 3) {
      if (mode_ == kThrow) throw std::runtime_error("synthetic failure in epoch 3");
      std::this_thread::sleep_for(std::chrono::seconds(60));
    }
    inner_.Advance(ctx, in, ext, out);
  }
  void VisitState(kernel::StateVisitor& v) override { inner_.VisitState(v); }
  kernel::RegionCounters counters() const override { return inner_.counters(); }
  double Cost() const override { return inner_.Cost(); }

 private:
  kernel::PopulationRegion inner_;
  Mode mode_;
};

// Forked workers inherit these registrations; spawned ones would not have them (they exist
// only in this test binary), so the faulty regions are tested with fork.
void RegisterFaultyTypes() {
  const kernel::RegionType* pfc = kernel::FindRegionType("pfc");
  for (auto entry : {std::pair{"test_throws", FaultyRegion::kThrow}, std::pair{"test_hangs", FaultyRegion::kHang}}) {
    const FaultyRegion::Mode mode = entry.second;
    kernel::RegionType t = *pfc;
    t.name = entry.first;
    t.factory = [mode](const kernel::BrainSpec& spec, kernel::RegionId id) -> std::unique_ptr<kernel::Region> {
      return std::make_unique<FaultyRegion>(spec, id, mode);
    };
    kernel::RegisterRegionType(t);
  }
}

std::shared_ptr<const kernel::BrainSpec> TwoRegions(const std::string& second_type) {
  RegisterFaultyTypes();
  std::string json = R"({"name": "faulty", "regions": [
      {"name": "cortex", "type": "cortex", "size": 200},
      {"name": "flaky", "type": ")" + second_type + R"(", "size": 100}],
    "pathways": [{"from": "cortex", "to": "flaky", "indegree": 10, "weight": 0.03, "delay_ms": 2}]})";
  auto config = kernel::ParseConfigJson(json, "faulty.json");
  EXPECT_TRUE(config.ok()) << config.status().message();
  auto spec = kernel::ResolveBrainSpec(std::move(config).value(), "faulty.json");
  EXPECT_TRUE(spec.ok()) << spec.status().message();
  return spec.value();
}

void ExpectContains(const std::string& text, const std::string& part) {
  EXPECT_NE(text.find(part), std::string::npos) << "'" << part << "' not in: " << text;
}

TEST(Faults, KilledWorkerEndsTheRunQuicklyNamingWorkerAndRegion) {
  auto spec = testing::LoadExample("tiny.json");
  kernel::RunOptions o = Parallel(3, "fork", {0, 1, 2, 0, 1});
  o.hang_timeout_ms = 60000;  // death must be seen by EOF, not by the hang timeout
  auto brain = kernel::Brain::Create(spec, o);
  ASSERT_TRUE(brain.ok()) << brain.status().message();
  ASSERT_TRUE((*brain)->RunUntil(100).ok());
  const int victim = (*brain)->Stats()[2].pid;  // worker 2 hosts pfc
  Clock::time_point killed_at;
  std::thread killer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    killed_at = Clock::now();
    ::kill(victim, SIGKILL);
  });
  Status st = (*brain)->RunUntil(10'000'000);  // far beyond what 100 ms of wall time reaches
  auto ended_at = Clock::now();
  killer.join();
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.kind(), ErrorKind::kWorker);
  EXPECT_EQ(st.ExitCode(), 1);
  EXPECT_LT(ended_at - killed_at, std::chrono::seconds(2));
  ExpectContains(st.message(), "worker 2 (pid " + std::to_string(victim) + ", region pfc)");
  ExpectContains(st.message(), ") died");
  ExpectContains(st.message(), "during epoch ");
  ExpectContains(st.message(), "killed by signal 9 (SIGKILL)");
  EXPECT_TRUE(testing::NoChildLeft());
  EXPECT_FALSE((*brain)->RunUntil(20'000'000).ok());  // stays stopped
}

TEST(Faults, ThrowingRegionReportsItsNameAndTheException) {
  auto spec = TwoRegions("test_throws");
  auto brain = kernel::Brain::Create(spec, Parallel(2, "fork"));
  ASSERT_TRUE(brain.ok()) << brain.status().message();
  Status st = (*brain)->StepEpochs(10);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.kind(), ErrorKind::kWorker);
  ExpectContains(st.message(), "region 'flaky' threw: synthetic failure in epoch 3");
  ExpectContains(st.message(), "during epoch 3");
  ExpectContains(st.message(), "exited with status 1");
  EXPECT_TRUE(testing::NoChildLeft());
}

TEST(Faults, ThrowingRegionInProcessEndsTheRunNamingIt) {
  auto spec = TwoRegions("test_throws");
  auto brain = kernel::Brain::Create(spec, kernel::RunOptions{});
  ASSERT_TRUE(brain.ok()) << brain.status().message();
  Status st = (*brain)->StepEpochs(10);
  ASSERT_FALSE(st.ok());
  ExpectContains(st.message(), "region 'flaky' threw: synthetic failure in epoch 3");
  ExpectContains(st.message(), "epoch 3 (ticks ");
  EXPECT_EQ((*brain)->epoch(), 3u);
  EXPECT_FALSE((*brain)->RunUntil(20'000'000).ok());  // stays stopped
}

TEST(Faults, FaultyBrainMatchesSequentialBeforeItsFailingEpoch) {
  // The same brain runs fine in workers up to the failing epoch and matches the sequential run.
  auto spec = TwoRegions("test_throws");
  auto par = testing::RunFor(spec, Parallel(2, "fork"), 3 * spec->epoch_ticks);
  kernel::RunOptions seq;
  auto ref = testing::RunFor(spec, seq, 3 * spec->epoch_ticks);
  ASSERT_EQ(par.error, "");
  EXPECT_EQ(par.digests, ref.digests);
}

TEST(Faults, HungWorkerIsKilledAfterTheHangTimeout) {
  auto spec = TwoRegions("test_hangs");
  kernel::RunOptions o = Parallel(2, "fork");
  o.hang_timeout_ms = 300;
  auto brain = kernel::Brain::Create(spec, o);
  ASSERT_TRUE(brain.ok());
  auto t0 = Clock::now();
  Status st = (*brain)->StepEpochs(10);
  ASSERT_FALSE(st.ok());
  EXPECT_LT(Clock::now() - t0, std::chrono::seconds(3));
  EXPECT_EQ(st.kind(), ErrorKind::kWorker);
  ExpectContains(st.message(), "region flaky) hung: no reply within 300 ms during epoch 3");
  ExpectContains(st.message(), "killed by signal 9");
  EXPECT_TRUE(testing::NoChildLeft());
}

TEST(Faults, UnknownRegionTypeInASpawnedWorkerIsAClearError) {
  // The type exists here but not in the thalia binary the worker runs.
  auto spec = TwoRegions("test_throws");
  auto brain = kernel::Brain::Create(spec, Parallel(2, "spawn"));
  ASSERT_FALSE(brain.ok());
  ExpectContains(brain.status().message(), "during start-up");
  ExpectContains(brain.status().message(), "regions[1].type: expected a registered region type");
  EXPECT_TRUE(testing::NoChildLeft());
}

TEST(Faults, MissingWorkerBinaryIsAClearError) {
  auto spec = testing::LoadExample("tiny.json");
  kernel::RunOptions o = Parallel(2, "spawn");
  o.worker_binary = testing::BuildRoot() + "/no-such-thalia";
  auto brain = kernel::Brain::Create(spec, o);
  ASSERT_FALSE(brain.ok());
  ExpectContains(brain.status().message(), "no-such-thalia");
  ExpectContains(brain.status().message(), "not executable");
}

TEST(Faults, BadPlacementIsInvalidInput) {
  auto spec = testing::LoadExample("tiny.json");
  auto out_of_range = kernel::Brain::Create(spec, Parallel(2, "fork", {0, 1, 2, 0, 1}));
  ASSERT_FALSE(out_of_range.ok());
  EXPECT_EQ(out_of_range.status().kind(), ErrorKind::kInvalidInput);
  ExpectContains(out_of_range.status().message(), "region 'pfc' on worker 2");
  auto empty_worker = kernel::Brain::Create(spec, Parallel(3, "fork", {0, 1, 0, 1, 0}));
  ASSERT_FALSE(empty_worker.ok());
  ExpectContains(empty_worker.status().message(), "worker 2 hosts no region");
  EXPECT_TRUE(testing::NoChildLeft());
}

TEST(Faults, NormalEndLeavesNoChild) {
  auto spec = testing::LoadExample("tiny.json");
  {
    auto brain = kernel::Brain::Create(spec, Parallel(3, "spawn"));
    ASSERT_TRUE(brain.ok());
    ASSERT_TRUE((*brain)->RunUntil(200).ok());
  }  // destroyed without an explicit Shutdown
  EXPECT_TRUE(testing::NoChildLeft());
}

}  // namespace
}  // namespace thalia::transport
