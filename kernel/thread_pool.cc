// The pool and barrier. Waiting spins for a bounded number of rounds before it blocks on the
// atomic (a futex on Linux): a one-tick window between two threads is shorter than a wake-up.
#include "kernel/thread_pool.h"

#include <sched.h>

#include <chrono>

namespace thalia::kernel {
namespace {

constexpr int kSpinRounds = 4000;  // about 10-40 us of pause instructions, then block

inline void CpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#else
  std::this_thread::yield();
#endif
}

// Waits until `a` no longer holds `old`.
template <typename T>
void WaitChange(const std::atomic<T>& a, T old) {
  for (int i = 0; i < kSpinRounds; ++i) {
    if (a.load(std::memory_order_acquire) != old) return;
    CpuRelax();
  }
  while (a.load(std::memory_order_acquire) == old) a.wait(old, std::memory_order_acquire);
}

}  // namespace

uint64_t ThreadPool::NowNs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

SpinBarrier::SpinBarrier(uint32_t parties)
    : parties_(parties == 0 ? 1 : parties), lines_(new Line[parties_ <= kFlagParties ? parties_ : 2]) {}

SpinBarrier::~SpinBarrier() = default;

void SpinBarrier::ArriveAndWait(uint32_t index) {
  if (parties_ <= 1) return;
  if (parties_ <= kFlagParties) {
    std::atomic<uint32_t>& mine = lines_[index].word;
    const uint32_t round = mine.load(std::memory_order_relaxed) + 1;
    mine.store(round, std::memory_order_release);
    mine.notify_all();  // only a check of the waiter count unless some party blocked
    // Every other party has arrived `round` times (or is one barrier ahead: it may pass this
    // barrier and arrive at the next before this thread reads its word).
    for (uint32_t j = 0; j < parties_; ++j) {
      if (j == index) continue;
      const std::atomic<uint32_t>& other = lines_[j].word;
      uint32_t seen = other.load(std::memory_order_acquire);
      while (static_cast<int32_t>(seen - round) < 0) {
        WaitChange(other, seen);
        seen = other.load(std::memory_order_acquire);
      }
    }
    return;
  }
  std::atomic<uint32_t>& arrived = lines_[0].word;
  std::atomic<uint32_t>& generation = lines_[1].word;
  const uint32_t gen = generation.load(std::memory_order_acquire);
  if (arrived.fetch_add(1, std::memory_order_acq_rel) + 1 == parties_) {
    arrived.store(0, std::memory_order_relaxed);
    generation.fetch_add(1, std::memory_order_acq_rel);
    generation.notify_all();
    return;
  }
  WaitChange(generation, gen);
}

ThreadPool::ThreadPool(uint32_t threads)
    : size_(threads == 0 ? 1 : threads),
      busy_ns_(new std::atomic<uint64_t>[size_]),
      wait_ns_(new std::atomic<uint64_t>[size_]),
      sections_(new std::vector<Section>[size_]) {
  for (uint32_t i = 0; i < size_; ++i) {
    busy_ns_[i].store(0, std::memory_order_relaxed);
    wait_ns_[i].store(0, std::memory_order_relaxed);
  }
  threads_.reserve(size_ - 1);
  for (uint32_t i = 1; i < size_; ++i) threads_.emplace_back([this, i] { Loop(i); });
}

ThreadPool::~ThreadPool() {
  stop_.store(true, std::memory_order_release);
  generation_.fetch_add(1, std::memory_order_acq_rel);
  generation_.notify_all();
  for (std::thread& t : threads_) t.join();
}

void ThreadPool::RunOn(uint32_t index, const std::function<void(uint32_t)>& fn) {
  const uint64_t wait0 = profiling_ ? wait_ns_[index].load(std::memory_order_relaxed) : 0;
  const uint64_t t0 = NowNs();
  fn(index);
  const uint64_t t1 = NowNs();
  busy_ns_[index].fetch_add(t1 - t0, std::memory_order_relaxed);
  if (profiling_) sections_[index].push_back({t0, t1, wait_ns_[index].load(std::memory_order_relaxed) - wait0});
}

void ThreadPool::Run(const std::function<void(uint32_t)>& fn) {
  if (size_ == 1) {
    RunOn(0, fn);
    return;
  }
  fn_ = &fn;
  running_.store(size_ - 1, std::memory_order_relaxed);
  generation_.fetch_add(1, std::memory_order_acq_rel);  // publishes fn_ and running_
  generation_.notify_all();
  RunOn(0, fn);
  for (uint32_t left = running_.load(std::memory_order_acquire); left != 0;
       left = running_.load(std::memory_order_acquire))
    WaitChange(running_, left);
  fn_ = nullptr;
}

void ThreadPool::Loop(uint32_t index) {
  uint64_t seen = 0;
  while (true) {
    WaitChange(generation_, seen);
    seen = generation_.load(std::memory_order_acquire);
    if (stop_.load(std::memory_order_acquire)) return;
    RunOn(index, *fn_);
    if (running_.fetch_sub(1, std::memory_order_acq_rel) == 1) running_.notify_all();
  }
}

std::vector<double> ThreadPool::BusySeconds() const {
  std::vector<double> out(size_);
  for (uint32_t i = 0; i < size_; ++i) {
    const uint64_t busy = busy_ns_[i].load(), wait = wait_ns_[i].load();
    out[i] = static_cast<double>(busy > wait ? busy - wait : 0) * 1e-9;
  }
  return out;
}

std::vector<double> ThreadPool::WaitSeconds() const {
  std::vector<double> out(size_);
  for (uint32_t i = 0; i < size_; ++i) out[i] = static_cast<double>(wait_ns_[i].load()) * 1e-9;
  return out;
}

uint32_t AvailableCores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    const int n = CPU_COUNT(&set);
    if (n > 0) return static_cast<uint32_t>(n);
  }
  const unsigned hc = std::thread::hardware_concurrency();
  return hc > 0 ? hc : 1;
}

}  // namespace thalia::kernel
