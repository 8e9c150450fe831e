// A persistent pool of threads that run one function on every thread at once (a parallel
// section), and the barrier those threads meet at inside it. The shards of a region run on it
// (kernel/population_region.h); it decides nothing about results, only who computes what.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

namespace thalia::kernel {

// Threads of one process meeting at the end of each window of ticks. Waits by spinning briefly
// (a window of one tick is a few microseconds) and then blocking, so a descheduled peer on a
// busy machine costs a wake-up, not a spinning core. Reusable at once.
//
// Up to kFlagParties threads, each party has its own cache line holding how many times it has
// arrived: arriving is one store to that line and waiting reads the others' lines, so no
// read-modify-write of a shared line is on the way (between two threads, one line crosses from
// the last to arrive to the other). More parties share one counter (sense-reversing), which
// keeps the number of lines each party reads constant.
class SpinBarrier {
 public:
  static constexpr uint32_t kFlagParties = 4;
  explicit SpinBarrier(uint32_t parties);
  ~SpinBarrier();
  SpinBarrier(const SpinBarrier&) = delete;
  SpinBarrier& operator=(const SpinBarrier&) = delete;
  // Returns when all `parties` threads have called it; `index` in [0, parties) is the caller's,
  // each thread its own. Everything a thread wrote before its call is visible to every thread
  // after the return (release/acquire on the arrival words).
  void ArriveAndWait(uint32_t index);
  uint32_t parties() const { return parties_; }

 private:
  struct alignas(64) Line {
    std::atomic<uint32_t> word{0};
  };
  const uint32_t parties_;
  // Flags: arrivals by party (each written by its party only). Counter: arrived_ in line 0,
  // generation_ in line 1 (the waiters' line, written once per barrier).
  std::unique_ptr<Line[]> lines_;
};

class ThreadPool {
 public:
  // A pool of `threads` threads in all: the caller of Run and threads - 1 of its own.
  explicit ThreadPool(uint32_t threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  uint32_t size() const { return size_; }
  // Runs fn(i) for every i in [0, size()) at once, fn(0) on the calling thread; returns when
  // all have returned. One Run at a time (the caller's thread owns the pool). fn must not throw:
  // an exception escaping a pool thread ends the process, so catch inside.
  void Run(const std::function<void(uint32_t)>& fn);
  // Seconds each thread has spent inside Run's function since the pool started, less what it
  // reported as waiting (AddWaitNs); and what it reported. For the end-of-run report.
  std::vector<double> BusySeconds() const;
  std::vector<double> WaitSeconds() const;
  // Thread `index` (the argument its function got) waited `ns` inside the function (a barrier).
  void AddWaitNs(uint32_t index, uint64_t ns) { wait_ns_[index].fetch_add(ns, std::memory_order_relaxed); }
  // Since the pool started, in nanoseconds: thread `index`'s time inside Run's function
  // (barrier waits included), and its waits. Read by the thread that calls Run.
  uint64_t BusyNs(uint32_t index) const { return busy_ns_[index].load(std::memory_order_relaxed); }
  uint64_t WaitNs(uint32_t index) const { return wait_ns_[index].load(std::memory_order_relaxed); }
  static uint64_t NowNs();  // steady_clock: CLOCK_MONOTONIC on Linux, one clock for the host

  // Profiling (--profile, kernel/profile.h). While on, each Run records on every thread when its
  // function started and ended (the clock reads Run makes anyway) and how much of that the thread
  // reported waiting; off (the default), Run records nothing and allocates nothing.
  struct Section {
    uint64_t start_ns = 0, end_ns = 0, wait_ns = 0;
  };
  // Called by the thread that calls Run, between Runs.
  void SetProfiling(bool on) { profiling_ = on; }
  bool profiling() const { return profiling_; }
  // Thread `index`'s sections since they were last cleared; the caller clears them. Only between
  // Runs, on the thread that calls Run (Run's return orders every thread's writes before it).
  std::vector<Section>& sections(uint32_t index) { return sections_[index]; }

 private:
  void Loop(uint32_t index);
  // Runs fn(index) on this thread, counting its time (and its section, when profiling).
  void RunOn(uint32_t index, const std::function<void(uint32_t)>& fn);

  const uint32_t size_;
  std::vector<std::thread> threads_;
  const std::function<void(uint32_t)>* fn_ = nullptr;  // written before generation_ is bumped
  std::atomic<uint64_t> generation_{0};
  std::atomic<uint32_t> running_{0};
  std::atomic<bool> stop_{false};
  std::unique_ptr<std::atomic<uint64_t>[]> busy_ns_, wait_ns_;
  bool profiling_ = false;  // written between Runs; read by the pool threads after generation_
  std::unique_ptr<std::vector<Section>[]> sections_;  // one per thread, each written by its own
};

// The number of CPUs this process may run on (sched_getaffinity), at least 1: what
// `--threads auto` takes.
uint32_t AvailableCores();

}  // namespace thalia::kernel
