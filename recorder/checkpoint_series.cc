// Names carry the epoch zero-padded to 9 digits; listing parses the number, so order stays right
// past 10^9 epochs too.
#include "recorder/checkpoint_series.h"

#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>

#include "kernel/digest.h"
#include "recorder/checkpoint_format.h"

namespace thalia::recorder {
namespace {

constexpr char kPrefix[] = "ckpt-";

bool ParseName(const std::string& name, uint64_t* epoch) {
  const std::string prefix = kPrefix, suffix = kCheckpointSuffix;
  if (name.size() <= prefix.size() + suffix.size() || name.rfind(prefix, 0) != 0 ||
      name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0)
    return false;
  const std::string digits = name.substr(prefix.size(), name.size() - prefix.size() - suffix.size());
  if (digits.size() > 19 || !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return false;
  *epoch = std::stoull(digits);
  return true;
}

// ".ckpt-000001234.thck.tmp-<pid>": a write interrupted by a crash of process <pid>.
bool ParseTempName(const std::string& name, long* pid) {
  const std::string prefix = std::string(".") + kPrefix, marker = std::string(kCheckpointSuffix) + ".tmp-";
  size_t at = name.find(marker);
  if (name.rfind(prefix, 0) != 0 || at == std::string::npos) return false;
  const std::string digits = name.substr(at + marker.size());
  if (digits.empty() || digits.size() > 9 ||
      !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return false;
  *pid = std::stol(digits);
  return true;
}

// Removes the temporary files of writes whose process no longer exists (crashed mid-write).
void RemoveStaleTemporaries(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) return;
  std::vector<std::string> stale;
  while (const dirent* e = ::readdir(d)) {
    long pid;
    if (ParseTempName(e->d_name, &pid) && pid != ::getpid() && ::kill(static_cast<pid_t>(pid), 0) != 0 &&
        errno == ESRCH)
      stale.push_back(dir + "/" + e->d_name);
  }
  ::closedir(d);
  for (const std::string& p : stale) ::unlink(p.c_str());
}

}  // namespace

std::string CheckpointPath(const std::string& dir, uint64_t epoch) {
  char name[48];
  std::snprintf(name, sizeof(name), "%s%09llu%s", kPrefix, static_cast<unsigned long long>(epoch),
                kCheckpointSuffix);
  return dir + "/" + name;
}

Result<std::vector<CheckpointEntry>> ListCheckpoints(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) return Status::Invalid("cannot open checkpoint folder " + dir + ": " + std::strerror(errno));
  std::vector<CheckpointEntry> out;
  while (const dirent* e = ::readdir(d)) {
    uint64_t epoch;
    if (ParseName(e->d_name, &epoch)) out.push_back({epoch, dir + "/" + e->d_name});
  }
  ::closedir(d);
  std::sort(out.begin(), out.end(),
            [](const CheckpointEntry& a, const CheckpointEntry& b) { return a.epoch < b.epoch; });
  return out;
}

namespace {

// See CheckpointSeries::Open: whether `dir` (an existing folder) may hold `spec`'s series.
Status CheckFolderIsThisRuns(const std::string& dir, const kernel::BrainSpec& spec) {
  auto list = ListCheckpoints(dir);
  if (!list.ok()) return list.status();
  if (list->empty()) return Status::Ok();
  const std::string& newest = list->back().path;
  const std::string why = " (its checkpoints of the same epochs would be replaced, and --keep would delete the "
                          "others): choose another folder";
  auto c = ReadCheckpointFile(newest);
  if (!c.ok())
    return Status::Invalid("checkpoint folder " + dir + " holds " + newest + ", which cannot be read (" +
                           c.status().message() + "), so it may belong to another run" + why);
  if (c->config != spec.config || c->seed != spec.seed) {
    auto other = kernel::ResolveBrainSpec(c->config, newest);
    const std::string name = other.ok() ? "'" + other.value()->name + "'" : "another configuration";
    return Status::Invalid("checkpoint folder " + dir + " holds checkpoints of another run (" + newest + ": brain " +
                           name + ", seed " + std::to_string(c->seed) + "; this run: brain '" + spec.name +
                           "', seed " + std::to_string(spec.seed) + ")" + why);
  }
  return Status::Ok();
}

}  // namespace

Result<CheckpointSeries> CheckpointSeries::Open(std::string dir, kernel::Tick every_ticks, uint32_t keep,
                                                 const kernel::BrainSpec& owner) {
  if (every_ticks == 0) return Status::Invalid("the checkpoint interval must be at least one tick");
  if (dir.empty()) return Status::Invalid("no checkpoint folder given");
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST)
    return Status::Io("cannot create checkpoint folder " + dir + ": " + std::strerror(errno));
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    return Status::Invalid("checkpoint folder " + dir + " is not a folder");
  THALIA_RETURN_IF_ERROR(CheckFolderIsThisRuns(dir, owner));
  RemoveStaleTemporaries(dir);
  return CheckpointSeries(std::move(dir), every_ticks, keep);
}

CheckpointSeries::~CheckpointSeries() { (void)Wait(); }

Status CheckpointSeries::Wait() {
  if (!writing_.valid()) return Status::Ok();
  return writing_.get();
}

Result<SavedCheckpoint> CheckpointSeries::Save(kernel::Brain& brain, const TracePosition& trace) {
  auto t0 = std::chrono::steady_clock::now();
  THALIA_RETURN_IF_ERROR(Wait());
  const std::string path = CheckpointPath(dir_, brain.epoch());
  auto c = CaptureCheckpoint(brain, trace);
  if (!c.ok()) return c.status();
  SavedCheckpoint saved{path, c->state.epoch, c->state.tick, kernel::CombineDigests(c->digests)};
  // The task owns everything it touches: the captured state, the path, the folder and K.
  writing_ = std::async(std::launch::async, [c = std::move(c).value(), path, dir = dir_, keep = keep_] {
    THALIA_RETURN_IF_ERROR(WriteCheckpointFile(c, path));
    return PruneCheckpoints(dir, keep);
  });
  last_pause_s_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return saved;
}

Status PruneCheckpoints(const std::string& dir, uint32_t keep) {
  if (keep == 0) return Status::Ok();
  auto list = ListCheckpoints(dir);
  if (!list.ok()) return list.status();
  const auto& v = list.value();
  for (size_t i = 0; i + keep < v.size(); ++i)
    if (::unlink(v[i].path.c_str()) != 0 && errno != ENOENT)
      return Status::Io("cannot remove old checkpoint " + v[i].path + ": " + std::strerror(errno));
  return Status::Ok();
}

}  // namespace thalia::recorder
