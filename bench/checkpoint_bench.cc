// Checkpoint throughput and pause: how fast a brain's state is captured, compressed and written
// (and read back and restored), in MB of raw state per second, and how much wall time periodic
// checkpoints add to a run, measured side by side in one process.
// Usage: checkpoint_bench CONFIG [--reps N] [--dir DIR] [--workers N] [--pause 0|1]
// (DIR defaults to $TMPDIR; with --workers the brain runs in N forked workers and every capture
// collects the region states from them.)
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "kernel/brain.h"
#include "recorder/checkpoint.h"
#include "recorder/checkpoint_file.h"
#include "recorder/checkpoint_series.h"
#include "transport/install.h"

namespace {

using namespace thalia;
using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

void Check(const Status& st) {
  if (!st.ok()) {
    std::fprintf(stderr, "checkpoint_bench: %s\n", st.message().c_str());
    std::exit(1);
  }
}

int g_workers = 0;

kernel::RunOptions Options() {
  kernel::RunOptions o;
  o.workers = g_workers;
  if (g_workers > 0) o.launch = "fork";
  return o;
}

std::unique_ptr<kernel::Brain> Make(std::shared_ptr<const kernel::BrainSpec> spec) {
  kernel::RunOptions o = Options();
  auto b = kernel::Brain::Create(spec, o);
  Check(b.status().ok() || b.ok() ? Status::Ok() : b.status());
  return std::move(b).value();
}

enum class Mode { kNone, kInline, kBackground };

// Wall time of a run to `until` in steps of `every` ticks, with a checkpoint after each step:
// none, written inline (SaveCheckpoint), or as `thalia run` does (CheckpointSeries: capture
// inline, compress and write on a background thread), until the last one is on disk.
double g_loop_pause_s = 0;  // summed CheckpointSeries::last_pause_s (background mode)

double TimedRun(std::shared_ptr<const kernel::BrainSpec> spec, kernel::Tick until, kernel::Tick every,
                Mode mode, const std::string& dir) {
  auto brain = Make(spec);
  std::filesystem::remove_all(dir + "/checkpoint_bench_series");  // every run starts empty
  auto series = recorder::CheckpointSeries::Open(dir + "/checkpoint_bench_series", every, 1, *spec);
  Check(series.ok() ? Status::Ok() : series.status());
  auto t0 = Clock::now();
  for (kernel::Tick t = every; t <= until; t += every) {
    Check(brain->RunUntil(t));
    if (mode == Mode::kInline) Check(recorder::SaveCheckpoint(*brain, dir + "/checkpoint_bench.thck"));
    if (mode == Mode::kBackground) {
      auto saved = series->Save(*brain);
      Check(saved.ok() ? Status::Ok() : saved.status());
      g_loop_pause_s += series->last_pause_s();
    }
  }
  Check(series->Wait());
  return Seconds(t0);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::string(argv[1]) == "--help") {
    std::printf("usage: checkpoint_bench CONFIG [--reps N] [--dir DIR] [--workers N] [--pause 0|1]\n"
                "  --pause 0 skips the run-pause measurement (nine 1 s runs) for large brains\n");
    return argc < 2 ? 2 : 0;
  }
  int reps = 10;
  bool pause = true;
  const char* tmp = std::getenv("TMPDIR");
  std::string dir = tmp ? tmp : std::filesystem::temp_directory_path().string();
  for (int i = 2; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--reps") reps = std::atoi(argv[i + 1]);
    else if (a == "--dir") dir = argv[i + 1];
    else if (a == "--workers") g_workers = std::atoi(argv[i + 1]);
    else if (a == "--pause") pause = std::atoi(argv[i + 1]) != 0;
  }
  transport::Install();
  auto spec = kernel::LoadBrainSpec(argv[1]);
  Check(spec.ok() ? Status::Ok() : spec.status());
  const std::string path = dir + "/checkpoint_bench.thck";

  auto brain = Make(spec.value());
  Check(brain->RunUntil(kernel::MsToTicks(200, spec.value()->dt_ms)));
  double capture_s = 0, encode_s = 0, write_s = 0, read_s = 0, restore_s = 0;
  uint64_t raw = 0, file = 0;
  for (int r = 0; r < reps; ++r) {
    auto t0 = Clock::now();
    auto c = recorder::CaptureCheckpoint(*brain);
    Check(c.ok() ? Status::Ok() : c.status());
    capture_s += Seconds(t0);
    t0 = Clock::now();
    auto bytes = recorder::EncodeCheckpoint(c.value());
    Check(bytes.ok() ? Status::Ok() : bytes.status());
    encode_s += Seconds(t0);
    t0 = Clock::now();
    Check(recorder::WriteFileAtomically(path, bytes.value()));
    write_s += Seconds(t0);
    raw = c->config.size();
    for (const auto& s : c->state.regions) raw += s.size();
    file = bytes->size();
    t0 = Clock::now();
    auto back = recorder::ReadCheckpointFile(path);
    Check(back.ok() ? Status::Ok() : back.status());
    read_s += Seconds(t0);
    t0 = Clock::now();
    auto resumed = recorder::ResumeBrain(back.value(), Options());
    Check(resumed.ok() ? Status::Ok() : resumed.status());
    restore_s += Seconds(t0);
  }
  const double mb = static_cast<double>(raw) / 1e6 * reps;
  std::printf("brain %s, %s: %.3f MB of state, file %.3f MB (%.0f%%), %d repetitions, folder %s\n",
              spec.value()->name.c_str(), brain->executor_name().c_str(), static_cast<double>(raw) / 1e6, static_cast<double>(file) / 1e6,
              100.0 * static_cast<double>(file) / static_cast<double>(raw), reps, dir.c_str());
  std::printf("save: %.0f MB/s (capture %.2f ms, encode+zstd %.2f ms, write+fsync+rename %.2f ms per checkpoint)\n",
              mb / (capture_s + encode_s + write_s), 1e3 * capture_s / reps, 1e3 * encode_s / reps,
              1e3 * write_s / reps);
  std::printf("load: %.0f MB/s (read+verify+decompress %.2f ms, restore+digest check %.2f ms per checkpoint)\n",
              mb / (read_s + restore_s), 1e3 * read_s / reps, 1e3 * restore_s / reps);

  if (!pause) {
    std::filesystem::remove(path);
    return 0;
  }
  const kernel::Tick until = kernel::MsToTicks(1000, spec.value()->dt_ms);
  const kernel::Tick every = kernel::MsToTicks(100, spec.value()->dt_ms);
  // Interleave the modes so drift on a shared machine hits all alike.
  double t[3] = {0, 0, 0};
  for (int r = 0; r < 3; ++r)
    for (Mode m : {Mode::kNone, Mode::kInline, Mode::kBackground}) t[static_cast<int>(m)] += TimedRun(spec.value(), until, every, m, dir);
  const double n = 3.0 * static_cast<double>(until / every);
  std::printf("run 1 s simulated, checkpoint every 100 ms: none %.3f s; inline %.3f s (+%.1f%%, %.2f ms per checkpoint); "
              "background write %.3f s (+%.1f%%, %.2f ms per checkpoint, of which the loop waited %.2f ms)\n",
              t[0] / 3, t[1] / 3, 100.0 * (t[1] - t[0]) / t[0], 1e3 * (t[1] - t[0]) / n, t[2] / 3,
              100.0 * (t[2] - t[0]) / t[0], 1e3 * (t[2] - t[0]) / n, 1e3 * g_loop_pause_s / n);
  std::filesystem::remove_all(dir + "/checkpoint_bench_series");
  std::filesystem::remove(path);
  return 0;
}
