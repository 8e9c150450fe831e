// Parallel performance, side by side: several run modes of one brain are built once, then
// measured round by round in rotating order (medians over rounds), by wall time and by CPU time
// of the coordinator and of each worker process, so a shared machine's load shows as a spread
// rather than as a bias. Every mode must end with the same digest (the run fails otherwise).
// Usage: parallel_bench THALIA_BINARY CONFIG.json SECTION [ROUNDS]
//   roundtrip: 5 tiny regions (20 neurons, 10-tick epochs): sequential, 5 workers, 5 with the
//              coordinator hosting one share (CONFIG unused); then the machine's floors: a socket
//              ping-pong, 2 context switches, and a 5-child hand-off waiting by sched_yield and by
//              futex (no messages, no work)
//   workers:   CONFIG sequentially and with 1, 2, 3 and 5 workers, and 2 with a coordinator share
//   neurons:   CONFIG with every region size scaled to 10k, 50k, 100k and 200k neurons in all
//   rate:      two 25k-neuron regions, drive rate varied: cost against the spike rate
//   ceiling:   what the machine itself allows: the two halves `--workers 2` places (their own
//              pathways only) each run alone, then both at once in two processes with no messages;
//              (alone + alone) / together bounds the speedup of any 2-process run of this split
#include <sched.h>
#include <linux/futex.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "bench/bench_util.h"
#include "kernel/brain.h"
#include "kernel/registry.h"
#include "schemas/config_generated.h"
#include "transport/install.h"
#include "transport/placement.h"

namespace thalia {
namespace {

using Clock = std::chrono::steady_clock;
using SpecPtr = std::shared_ptr<const kernel::BrainSpec>;

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "parallel_bench: %s\n", what.c_str());
  std::exit(2);
}

using bench::FromJson;

double CpuSeconds(clockid_t clock) {
  timespec ts{};
  if (::clock_gettime(clock, &ts) != 0) return 0;
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

std::string LoadAverage() {
  double l[3] = {0, 0, 0};
  if (::getloadavg(l, 3) != 3) return "?";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.2f %.2f %.2f", l[0], l[1], l[2]);
  return buf;
}

struct Mode {
  std::string label;
  int workers = 0;  // 0: in-process
  bool share = false;
};

// Per epoch, in seconds.
struct Sample {
  double wall = 0, coordinator_cpu = 0, worker_cpu_max = 0, cpu_total = 0;
};

// One brain in one mode, with the CPU clocks of its processes.
class Subject {
 public:
  Subject(SpecPtr spec, const Mode& mode, const std::string& binary) : mode_(mode) {
    kernel::RunOptions o;
    o.workers = mode.workers;
    o.launch = "fork";
    o.worker_binary = binary;
    o.coordinator_share = mode.share;
    auto b = kernel::Brain::Create(std::move(spec), o);
    if (!b.ok()) Die(b.status().message());
    brain_ = std::move(b).value();
    for (const kernel::WorkerStats& w : brain_->Stats()) {
      if (w.pid == static_cast<int>(::getpid())) continue;  // the coordinator's own share
      clockid_t c;
      if (::clock_getcpuclockid(w.pid, &c) != 0) Die("no CPU clock for worker pid " + std::to_string(w.pid));
      worker_clocks_.push_back(c);
    }
  }
  const Mode& mode() const { return mode_; }

  Sample Measure(uint64_t epochs) {
    std::vector<double> w0;
    for (clockid_t c : worker_clocks_) w0.push_back(CpuSeconds(c));
    const double c0 = CpuSeconds(CLOCK_PROCESS_CPUTIME_ID);
    const auto t0 = Clock::now();
    if (Status st = brain_->StepEpochs(epochs); !st.ok()) Die(st.message());
    const double wall = std::chrono::duration<double>(Clock::now() - t0).count();
    const double e = static_cast<double>(epochs);
    Sample s;
    s.wall = wall / e;
    s.coordinator_cpu = (CpuSeconds(CLOCK_PROCESS_CPUTIME_ID) - c0) / e;
    s.cpu_total = s.coordinator_cpu;
    for (size_t i = 0; i < worker_clocks_.size(); ++i) {
      double w = (CpuSeconds(worker_clocks_[i]) - w0[i]) / e;
      s.worker_cpu_max = std::max(s.worker_cpu_max, w);
      s.cpu_total += w;
    }
    return s;
  }
  uint64_t Digest() {
    auto d = brain_->Digest();
    if (!d.ok()) Die(d.status().message());
    return d.value();
  }
  double SpikesPerNeuronSecond() const {
    uint64_t spikes = 0, neurons = 0;
    for (kernel::RegionId r = 0; r < brain_->spec().regions.size(); ++r) {
      spikes += brain_->counters(r).spikes;
      neurons += brain_->spec().regions[r].size;
    }
    double seconds = kernel::TicksToMs(brain_->tick(), brain_->spec().dt_ms) * 1e-3;
    return seconds > 0 ? static_cast<double>(spikes) / static_cast<double>(neurons) / seconds : 0;
  }

 private:
  Mode mode_;
  std::unique_ptr<kernel::Brain> brain_;
  std::vector<clockid_t> worker_clocks_;
};

struct Result {
  Mode mode;
  Sample median;
};

// Epochs covering the first 100 ms simulated: the start-up transient (every region begins from
// its initial state) is not what a long run spends its time on, so no sample includes it.
uint64_t WarmUpEpochs(const kernel::BrainSpec& spec) {
  const kernel::Tick t = kernel::MsToTicks(100, spec.dt_ms);
  return std::max<uint64_t>(3, (t + spec.epoch_ticks - 1) / spec.epoch_ticks);
}

// Builds every mode, warms up, then `rounds` rounds of `epochs` epochs each in rotating order.
// Checks that all modes end with one digest. Returns medians (first mode first).
std::vector<Result> Compare(SpecPtr spec, const std::vector<Mode>& modes, const std::string& binary,
                            uint64_t epochs, int rounds, double* rate_hz = nullptr) {
  // Construction order matters: a fork shares every page of this process with the child, and
  // regions that run in this process (sequential, coordinator share) measured up to ~25% slower
  // when later subjects forked after them (copy-on-write of pages the children keep). So
  // subjects with regions here are built after every fork: workers only, then coordinator
  // shares, then in-process.
  std::vector<std::unique_ptr<Subject>> subjects(modes.size());
  for (int stage = 0; stage < 3; ++stage)
    for (size_t i = 0; i < modes.size(); ++i) {
      const Mode& m = modes[i];
      if ((m.workers == 0 ? 2 : m.share ? 1 : 0) != stage) continue;
      subjects[i] = std::make_unique<Subject>(spec, m, binary);
      subjects[i]->Measure(WarmUpEpochs(*spec));
    }
  std::vector<std::vector<Sample>> samples(modes.size());
  for (int round = 0; round < rounds; ++round)
    for (size_t i = 0; i < modes.size(); ++i) {
      size_t k = (i + static_cast<size_t>(round)) % modes.size();
      samples[k].push_back(subjects[k]->Measure(epochs));
    }
  if (rate_hz) *rate_hz = subjects[0]->SpikesPerNeuronSecond();
  const uint64_t d0 = subjects[0]->Digest();
  for (auto& s : subjects)
    if (s->Digest() != d0) Die("mode '" + s->mode().label + "' ends with another digest than '" + modes[0].label + "'");
  std::vector<Result> out;
  for (size_t i = 0; i < modes.size(); ++i) {
    Result r{modes[i], {}};
    auto pick = [&](double Sample::*f) {
      std::vector<double> v;
      for (const Sample& s : samples[i]) v.push_back(s.*f);
      return Median(v);
    };
    r.median = {pick(&Sample::wall), pick(&Sample::coordinator_cpu), pick(&Sample::worker_cpu_max),
                pick(&Sample::cpu_total)};
    out.push_back(r);
  }
  return out;
}

// Speedup estimated from CPU time alone (what an idle machine with this many cores would give,
// wake-ups aside): the coordinator's work is serial with the workers' unless it hosts a share
// itself, and no epoch takes less than all the CPU time spread over every core.
double CpuBoundSpeedup(const Sample& seq, const Result& r) {
  if (r.mode.workers == 0) return 1;
  double path = r.mode.share ? std::max(r.median.coordinator_cpu, r.median.worker_cpu_max)
                             : r.median.worker_cpu_max + r.median.coordinator_cpu;
  const double cores = static_cast<double>(std::max(1L, ::sysconf(_SC_NPROCESSORS_ONLN)));
  path = std::max(path, r.median.cpu_total / cores);
  return path > 0 ? seq.cpu_total / path : 0;
}

void PrintTable(const std::vector<Result>& results, double unit, const char* unit_name) {
  const Sample& seq = results[0].median;
  std::printf("| mode | wall %s/epoch | speedup | efficiency | coordinator CPU | max worker CPU | CPU total / seq | CPU-bound speedup |\n",
              unit_name);
  std::printf("|---|---|---|---|---|---|---|---|\n");
  for (const Result& r : results) {
    const double speedup = seq.wall / r.median.wall;
    const int shares = std::max(1, r.mode.workers);
    std::printf("| %s | %.3f | %.2fx | %.0f%% | %.3f | %.3f | %.2f | %.2fx |\n", r.mode.label.c_str(),
                r.median.wall * unit, speedup, 100.0 * speedup / shares, r.median.coordinator_cpu * unit,
                r.median.worker_cpu_max * unit, r.median.cpu_total / seq.cpu_total, CpuBoundSpeedup(seq, r));
  }
}

std::string ReadFile(const std::string& path) {
  std::ifstream f(path);
  if (!f) Die("cannot read " + path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}


// Two regions of `n` neurons each, driven by Poisson input at `drive_hz`, exchanging spikes
// with 2 ms delays (20-tick epochs).
std::string TwoDriven(int n, double drive_hz) {
  auto region = [&](const char* name) {
    return std::string(R"({"name": ")") + name + R"(", "type": "generic", "size": )" + std::to_string(n) +
           R"(, "populations": [{"name": "e", "size": )" + std::to_string(n) +
           R"(, "neuron": {"synapse": "Current", "bias": 10}}], "pathways": [{"from": "e", "to": "e", "indegree": 20, "weight": 0.2, "delay_ms": 1.5}], "drives": [{"population": "e", "rate_hz": )" +
           std::to_string(drive_hz) + R"(, "inputs": 20, "weight": 1.5}]})";
  };
  return R"({"name": "rate", "seed": 5, "regions": [)" + region("a") + ", " + region("b") +
         R"(], "pathways": [{"from": "a", "to": "b", "indegree": 20, "weight": 0.2, "delay_ms": 2}, {"from": "b", "to": "a", "indegree": 20, "weight": 0.2, "delay_ms": 2}]})";
}

// One sequential run of `epochs` epochs in a forked copy of `brain` (warmed up first so that
// copy-on-write faults are not timed), started when `go` becomes readable; writes its wall and
// CPU seconds to `result`.
pid_t ForkTimedRun(kernel::Brain* brain, uint64_t epochs, int ready, int go, int result) {
  pid_t pid = ::fork();
  if (pid != 0) return pid;
  if (!brain->StepEpochs(3).ok()) ::_exit(1);
  char c = 0;
  if (::write(ready, &c, 1) != 1 || ::read(go, &c, 1) != 1) ::_exit(1);
  const double c0 = CpuSeconds(CLOCK_PROCESS_CPUTIME_ID);
  const auto t0 = Clock::now();
  if (!brain->StepEpochs(epochs).ok()) ::_exit(1);
  double out[2] = {std::chrono::duration<double>(Clock::now() - t0).count(),
                   CpuSeconds(CLOCK_PROCESS_CPUTIME_ID) - c0};
  ::_exit(::write(result, out, sizeof out) == static_cast<ssize_t>(sizeof out) ? 0 : 1);
}

// Runs a forked copy of each brain, all at once; returns the slowest copy's wall and CPU seconds.
std::pair<double, double> RunCopies(const std::vector<kernel::Brain*>& brains, uint64_t epochs) {
  const int copies = static_cast<int>(brains.size());
  int ready[2], go[2], result[2];
  if (::pipe(ready) != 0 || ::pipe(go) != 0 || ::pipe(result) != 0) Die("pipe failed");
  std::vector<pid_t> pids;
  for (kernel::Brain* brain : brains) pids.push_back(ForkTimedRun(brain, epochs, ready[1], go[0], result[1]));
  char c = 0;
  for (int i = 0; i < copies; ++i)
    if (::read(ready[0], &c, 1) != 1) Die("a copy failed to start");
  for (int i = 0; i < copies; ++i)
    if (::write(go[1], &c, 1) != 1) Die("cannot start the copies");
  std::pair<double, double> worst{0, 0};
  for (int i = 0; i < copies; ++i) {
    double r[2];
    if (::read(result[0], r, sizeof r) != static_cast<ssize_t>(sizeof r)) Die("a copy failed");
    if (r[0] > worst.first) worst = {r[0], r[1]};
  }
  for (pid_t p : pids) {
    int status = 0;
    ::waitpid(p, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) Die("a copy failed");
  }
  for (int fd : {ready[0], ready[1], go[0], go[1], result[0], result[1]}) ::close(fd);
  return worst;
}

// Forks `n` children, child i running child_main(i) and exiting; returns their pids for Reap.
template <typename F>
std::vector<pid_t> ForkChildren(int n, F child_main) {
  std::vector<pid_t> children;
  for (int i = 0; i < n; ++i) {
    pid_t pid = ::fork();
    if (pid < 0) Die("fork failed");
    if (pid == 0) {
      child_main(i);
      ::_exit(0);
    }
    children.push_back(pid);
  }
  return children;
}

void Reap(const std::vector<pid_t>& children) {
  for (pid_t pid : children) {
    int status = 0;
    ::waitpid(pid, &status, 0);
  }
}

// The floor under any per-epoch exchange here: one byte to a process blocked in read() on an
// AF_UNIX socket and one byte back, no work in between (median over `n`, microseconds).
double PingPongMicros(int n) {
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) Die("socketpair failed");
  const std::vector<pid_t> child = ForkChildren(1, [&](int) {
    ::close(sv[0]);
    char c;
    while (::read(sv[1], &c, 1) == 1)
      if (::write(sv[1], &c, 1) != 1) break;
  });
  ::close(sv[1]);
  std::vector<double> t;
  char c = 0;
  for (int i = 0; i < n; ++i) {
    const auto t0 = Clock::now();
    if (::write(sv[0], &c, 1) != 1 || ::read(sv[0], &c, 1) != 1) Die("ping-pong failed");
    t.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
  }
  ::close(sv[0]);
  Reap(child);
  return Median(t);
}

// The cheapest hand-off this machine allows, with no messages and no work: a coordinator and
// `processes` forked children share one page; each epoch the coordinator publishes the epoch
// number, every child sees it and answers with it, and everyone waits by `sched_yield()` (never
// blocking, never sleeping). Per epoch that is every process scheduled once: on 2 cores with
// 6 processes, at least 3 context switches on each core, in sequence. With `one_cpu`, all of
// them are pinned to the coordinator's CPU, so with 1 child an epoch is exactly 2 context
// switches. Returns the median microseconds per epoch over 5 batches of `epochs`.
double HandOffMicros(int processes, int epochs, bool one_cpu) {
  struct alignas(64) Slot {
    std::atomic<int64_t> value{0};
  };
  const size_t bytes = sizeof(Slot) * static_cast<size_t>(processes + 1);
  void* page = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (page == MAP_FAILED) Die("mmap of the hand-off page failed");
  Slot* slot = new (page) Slot[processes + 1];  // [0]: the coordinator's epoch; [1 + i]: child i's
  cpu_set_t saved;
  CPU_ZERO(&saved);
  if (one_cpu) {
    if (::sched_getaffinity(0, sizeof saved, &saved) != 0) Die("sched_getaffinity failed");
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(::sched_getcpu(), &one);
    if (::sched_setaffinity(0, sizeof one, &one) != 0) Die("sched_setaffinity failed");
  }
  const int batches = 5;
  const int64_t last = static_cast<int64_t>(epochs) * batches;
  const std::vector<pid_t> children = ForkChildren(processes, [&](int i) {
    for (int64_t e = 1; e <= last; ++e) {
      while (slot[0].value.load(std::memory_order_acquire) < e) ::sched_yield();
      slot[1 + i].value.store(e, std::memory_order_release);
    }
  });
  std::vector<double> per_epoch;
  int64_t e = 0;
  for (int b = 0; b < batches; ++b) {
    const auto t0 = Clock::now();
    for (int k = 0; k < epochs; ++k) {
      slot[0].value.store(++e, std::memory_order_release);
      for (int i = 0; i < processes; ++i)
        while (slot[1 + i].value.load(std::memory_order_acquire) < e) ::sched_yield();
    }
    per_epoch.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count() / epochs);
  }
  Reap(children);
  if (one_cpu && ::sched_setaffinity(0, sizeof saved, &saved) != 0) Die("sched_setaffinity failed");
  ::munmap(page, bytes);
  return Median(per_epoch);
}

// The same hand-off with every process blocking instead of yielding, the cheapest a blocking
// transport could be: the coordinator bumps a shared epoch word and wakes all children with one
// FUTEX_WAKE; each child, woken, adds one to a shared count, and the last of them wakes the
// coordinator, which waits on that count. Per epoch: 1 + `processes` futex waits and 2 wakes, no
// messages and no work. Returns the median microseconds per epoch over 5 batches of `epochs`.
double FutexHandOffMicros(int processes, int epochs) {
  struct Shared {
    alignas(64) std::atomic<uint32_t> epoch{0};
    alignas(64) std::atomic<uint32_t> done{0};
  };
  static_assert(sizeof(std::atomic<uint32_t>) == 4, "futex words are 32 bits");
  auto futex = [](std::atomic<uint32_t>* word, int op, uint32_t value) {
    return ::syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), op, value, nullptr, nullptr, 0);
  };
  void* page = ::mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (page == MAP_FAILED) Die("mmap of the hand-off page failed");
  Shared* s = new (page) Shared;
  const int batches = 5;
  const uint32_t last = static_cast<uint32_t>(epochs * batches);
  const uint32_t n = static_cast<uint32_t>(processes);
  const std::vector<pid_t> children = ForkChildren(processes, [&](int) {
    for (uint32_t e = 1; e <= last; ++e) {
      uint32_t seen;
      while ((seen = s->epoch.load(std::memory_order_acquire)) < e) futex(&s->epoch, FUTEX_WAIT, seen);
      if (s->done.fetch_add(1, std::memory_order_acq_rel) + 1 == e * n) futex(&s->done, FUTEX_WAKE, 1);
    }
  });
  std::vector<double> per_epoch;
  uint32_t e = 0;
  for (int b = 0; b < batches; ++b) {
    const auto t0 = Clock::now();
    for (int k = 0; k < epochs; ++k) {
      s->epoch.store(++e, std::memory_order_release);
      futex(&s->epoch, FUTEX_WAKE, n);
      uint32_t d;
      while ((d = s->done.load(std::memory_order_acquire)) < e * n) futex(&s->done, FUTEX_WAIT, d);
    }
    per_epoch.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count() / epochs);
  }
  Reap(children);
  ::munmap(page, sizeof(Shared));
  return Median(per_epoch);
}

// The regions that `--workers 2` would give worker `part` (automatic placement), as a brain of
// their own: the other regions and every pathway to or from them dropped.
// The configuration `json`, changed by `edit` on its object form, resolved as `name`.
template <typename Edit>
SpecPtr Edited(const std::string& json, const std::string& name, Edit edit) {
  auto bytes = kernel::ParseConfigJson(json, name);
  if (!bytes.ok()) Die(bytes.status().message());
  auto brain = schema::UnPackBrain(bytes.value().data());
  edit(*brain);
  flatbuffers::FlatBufferBuilder fbb;
  schema::FinishBrainBuffer(fbb, schema::Brain::Pack(fbb, brain.get()));
  auto spec = kernel::ResolveBrainSpec(std::vector<uint8_t>(fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize()), name);
  if (!spec.ok()) Die(spec.status().message());
  return spec.value();
}

// Every region and population size the configuration gives, multiplied by `factor`.
SpecPtr Scaled(const std::string& json, const std::string& name, double factor) {
  auto scale = [&](uint32_t n) { return n == 0 ? 0u : static_cast<uint32_t>(std::max(1L, std::lround(n * factor))); };
  return Edited(json, name, [&](schema::BrainT& brain) {
    for (auto& region : brain.regions) {
      region->size = scale(region->size);
      for (auto& pop : region->populations) pop->size = scale(pop->size);
    }
  });
}

SpecPtr Part(const std::string& json, const std::string& name, int part) {
  SpecPtr whole = FromJson(json, name);
  auto placed = transport::PlaceRegions(*whole, transport::EstimateCosts(*whole), 2, {});
  if (!placed.ok()) Die(placed.status().message());
  return Edited(json, name + " (part " + std::to_string(part) + ")", [&](schema::BrainT& brain) {
    std::vector<std::string> kept;
    std::vector<std::unique_ptr<schema::RegionT>> regions;
    for (size_t r = 0; r < brain.regions.size(); ++r) {
      if (placed.value()[r] != part) continue;
      kept.push_back(brain.regions[r]->name);
      brain.regions[r]->worker = -1;
      regions.push_back(std::move(brain.regions[r]));
    }
    brain.regions = std::move(regions);
    // A pathway end is "region" or "region.population".
    auto inside = [&](const std::string& end) {
      return std::find(kept.begin(), kept.end(), end.substr(0, end.find('.'))) != kept.end();
    };
    std::vector<std::unique_ptr<schema::PathwayT>> pathways;
    for (auto& pw : brain.pathways)
      if (inside(pw->from) && inside(pw->to)) pathways.push_back(std::move(pw));
    brain.pathways = std::move(pathways);
  });
}

// Alone: each part of the 2-worker placement run by itself, one after the other (the sequential
// machine's cost of the split work); together: both parts at once in two processes with no
// messages. alone(0) + alone(1) over together is the speedup the machine allows this split.
void Ceiling(const std::string& json, const std::string& name, int rounds) {
  std::vector<std::unique_ptr<kernel::Brain>> parts;
  for (int part = 0; part < 2; ++part) {
    kernel::RunOptions o;
    o.workers = 0;
    SpecPtr spec = Part(json, name, part);
    auto b = kernel::Brain::Create(spec, o);
    if (!b.ok()) Die(b.status().message());
    if (!b.value()->StepEpochs(WarmUpEpochs(*spec)).ok()) Die("warm-up failed");
    parts.push_back(std::move(b).value());
  }
  const uint64_t epochs = 20;
  std::vector<double> alone[2], alone_cpu[2], together, together_cpu;
  for (int r = 0; r < rounds; ++r) {
    for (int k = 0; k < 3; ++k) {
      const int what = (k + r) % 3;  // 0, 1: one part alone; 2: both at once
      if (what < 2) {
        auto [wall, cpu] = RunCopies({parts[what].get()}, epochs);
        alone[what].push_back(wall / static_cast<double>(epochs));
        alone_cpu[what].push_back(cpu / static_cast<double>(epochs));
      } else {
        auto [wall, cpu] = RunCopies({parts[0].get(), parts[1].get()}, epochs);
        together.push_back(wall / static_cast<double>(epochs));
        together_cpu.push_back(cpu / static_cast<double>(epochs));
      }
    }
  }
  const double a0 = Median(alone[0]), a1 = Median(alone[1]), t = Median(together);
  std::printf("| run | wall ms/epoch | CPU ms/epoch (slowest process) |\n|---|---|---|\n");
  std::printf("| part 0 alone | %.2f | %.2f |\n", a0 * 1e3, Median(alone_cpu[0]) * 1e3);
  std::printf("| part 1 alone | %.2f | %.2f |\n", a1 * 1e3, Median(alone_cpu[1]) * 1e3);
  std::printf("| both at once, two processes | %.2f | %.2f |\n", t * 1e3, Median(together_cpu) * 1e3);
  std::printf("machine ceiling for this 2-way split: (%.2f + %.2f) / %.2f = %.2fx\n", a0 * 1e3, a1 * 1e3,
              t * 1e3, (a0 + a1) / t);
}

}  // namespace
}  // namespace thalia

int main(int argc, char** argv) {
  using namespace thalia;
  if (argc < 4) {
    std::fprintf(stderr, "usage: parallel_bench THALIA_BINARY CONFIG.json roundtrip|workers|neurons|rate|ceiling [ROUNDS]\n");
    return 2;
  }
  const std::string binary = argv[1], config = argv[2], section = argv[3];
  const int rounds = argc > 4 ? std::max(1, std::atoi(argv[4])) : 5;
  transport::Install();
  std::printf("section %s, %d rounds, load average before: %s\n", section.c_str(), rounds, LoadAverage().c_str());
  if (section == "roundtrip") {
    auto ring = FromJson(bench::TinyRing(5, "ring"), "ring.json");
    auto r = Compare(ring, {{"sequential", 0, false}, {"5 workers", 5, false}, {"5, coordinator share", 5, true}},
                     binary, 1000, rounds);
    PrintTable(r, 1e6, "us");
    for (size_t i = 1; i < r.size(); ++i)
      std::printf("%s: round trip %.1f us/epoch over sequential (wall), %.1f us of CPU in all processes\n",
                  r[i].mode.label.c_str(), (r[i].median.wall - r[0].median.wall) * 1e6,
                  (r[i].median.cpu_total - r[0].median.cpu_total) * 1e6);
    std::printf("floor: one byte to a blocked process and back over a socketpair: %.1f us (median of 2000)\n",
                PingPongMicros(2000));
    std::printf("floor: 2 context switches (1 child, both on one CPU, shared memory, sched_yield): %.1f us\n",
                HandOffMicros(1, 2000, true));
    std::printf("floor: hand-off to 5 children and back, no messages, no work (shared memory, sched_yield): "
                "%.1f us/epoch\n",
                HandOffMicros(5, 2000, false));
    std::printf("floor: hand-off to 5 children and back, no messages, no work (shared memory, futex: all "
                "block): %.1f us/epoch\n",
                FutexHandOffMicros(5, 2000));
  } else if (section == "workers") {
    auto spec = FromJson(ReadFile(config), config);
    auto r = Compare(spec,
                     {{"sequential", 0, false},
                      {"1 worker", 1, false},
                      {"2 workers", 2, false},
                      {"3 workers", 3, false},
                      {"5 workers", 5, false},
                      {"2, coordinator share", 2, true}},
                     binary, 10, rounds);
    PrintTable(r, 1e3, "ms");
  } else if (section == "neurons") {
    const std::string json = ReadFile(config);
    uint64_t total = 0;
    for (const auto& reg : FromJson(json, config)->regions) total += reg.size;
    for (int target : {10000, 50000, 100000, 200000}) {
      double f = static_cast<double>(target) / static_cast<double>(total);
      auto spec = Scaled(json, config, f);
      uint64_t n = 0;
      for (const auto& reg : spec->regions) n += reg.size;
      const uint64_t epochs = std::max<uint64_t>(4, 1000000 / static_cast<uint64_t>(target));
      double rate = 0;
      auto r = Compare(spec, {{"sequential", 0, false}, {"2 workers", 2, false}, {"2, coordinator share", 2, true}},
                       binary, epochs, rounds, &rate);
      std::printf("\n%lu neurons (%.1f Hz), %lu epochs per sample; per neuron per tick: %.1f ns sequential\n",
                  static_cast<unsigned long>(n), rate, static_cast<unsigned long>(epochs),
                  r[0].median.wall * 1e9 / static_cast<double>(n) / static_cast<double>(spec->epoch_ticks));
      PrintTable(r, 1e3, "ms");
    }
  } else if (section == "rate") {
    for (double hz : {40.0, 80.0, 160.0, 320.0, 640.0}) {
      auto spec = FromJson(TwoDriven(25000, hz), "rate.json");
      double rate = 0;
      auto r = Compare(spec, {{"sequential", 0, false}, {"2 workers", 2, false}, {"2, coordinator share", 2, true}},
                       binary, 20, rounds, &rate);
      std::printf("\ndrive %.0f Hz: network rate %.1f Hz, %.0f spikes per epoch\n", hz, rate,
                  rate * 50000 * kernel::TicksToMs(spec->epoch_ticks, spec->dt_ms) * 1e-3);
      PrintTable(r, 1e3, "ms");
    }
  } else if (section == "ceiling") {
    Ceiling(ReadFile(config), config, rounds);
  } else {
    Die("unknown section '" + section + "'");
  }
  std::printf("load average after: %s\n", LoadAverage().c_str());
  return 0;
}
