// Candidates are gathered (header checkpoint, marks, folder), sorted newest first, and the first
// that loads and matches the trace is taken; one that does not load is skipped with its reason
// kept, so a replay never starts from a damaged file and an error says what was tried.
#include "replay/replay_start.h"

#include <algorithm>
#include <sys/stat.h>

#include "kernel/digest.h"
#include "recorder/checkpoint_series.h"

namespace thalia::replay {
namespace {

struct Candidate {
  uint64_t epoch = 0;
  std::string path;
  std::optional<uint64_t> digest;  // as the header or mark recorded it
};

bool Exists(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0;
}

std::string Resolve(const std::string& file, const std::string& trace_path) {
  if (file.empty() || file[0] == '/' || Exists(file)) return file;
  size_t slash = trace_path.rfind('/');
  if (slash == std::string::npos) return file;
  std::string beside = trace_path.substr(0, slash + 1) + file;
  return Exists(beside) ? beside : file;
}

Status CollectMarks(const std::string& trace_path, const recorder::TraceReaderOptions& ro,
                    std::vector<Candidate>* out) {
  auto reader = recorder::TraceReader::Open(trace_path, ro);
  if (!reader.ok()) return reader.status();
  recorder::DecodedRecord rec;
  while (true) {
    auto more = reader.value()->Next(&rec);
    if (!more.ok()) return more.status();
    if (!more.value()) return Status::Ok();
    if (rec.kind == recorder::RecordKind::kMark)
      out->push_back({rec.mark.epoch, Resolve(rec.mark.file, trace_path), rec.mark.digest});
  }
}

// Why a loaded checkpoint cannot start this trace's replay ("" if it can).
std::string Mismatch(const recorder::Checkpoint& c, const Candidate& k, const recorder::TraceHeaderInfo& h) {
  if (c.config != h.config) return "it belongs to another run (another configuration)";
  if (c.state.epoch != k.epoch) return "it holds epoch " + std::to_string(c.state.epoch) + ", not " + std::to_string(k.epoch);
  if (c.state.epoch < h.first_epoch) return "it lies before the trace's first epoch";
  if (k.digest && kernel::CombineDigests(c.digests) != *k.digest) return "its digest differs from the one the trace recorded";
  return "";
}

}  // namespace

Result<std::optional<ReplayStart>> FindReplayStart(const std::string& trace_path,
                                                   const recorder::TraceHeaderInfo& header,
                                                   std::optional<uint64_t> from_epoch,
                                                   const std::string& checkpoint_dir,
                                                   const recorder::TraceReaderOptions& reader_options) {
  const bool segment = !header.checkpoint.path.empty();
  if (!from_epoch && !segment) return std::optional<ReplayStart>();
  std::vector<Candidate> all;
  if (segment)
    all.push_back({header.checkpoint.epoch, Resolve(header.checkpoint.path, trace_path), header.checkpoint.digest});
  if (from_epoch) {
    THALIA_RETURN_IF_ERROR(CollectMarks(trace_path, reader_options, &all));
    if (!checkpoint_dir.empty()) {
      auto list = recorder::ListCheckpoints(checkpoint_dir);
      if (!list.ok()) return list.status();
      for (const auto& e : list.value()) all.push_back({e.epoch, e.path, std::nullopt});
    }
  }
  const uint64_t limit = from_epoch.value_or(header.first_epoch);
  std::vector<Candidate> fit;
  for (const Candidate& c : all)
    if (c.epoch <= limit && c.epoch >= header.first_epoch) fit.push_back(c);
  std::stable_sort(fit.begin(), fit.end(), [](const Candidate& a, const Candidate& b) { return a.epoch > b.epoch; });
  std::string tried;
  for (const Candidate& k : fit) {
    auto c = recorder::ReadCheckpointFile(k.path);
    std::string why = c.ok() ? Mismatch(c.value(), k, header) : c.status().message();
    if (why.empty()) return std::optional<ReplayStart>(ReplayStart{k.path, std::move(c).value()});
    tried += "\n  " + k.path + ": " + why;
  }
  std::string what = trace_path + ": no usable checkpoint at or before epoch " + std::to_string(limit) +
                     (tried.empty() ? " was found" : "; tried:" + tried + "\n");
  if (segment)
    return Status::Invalid(what + " (the trace starts at epoch " + std::to_string(header.first_epoch) +
                           " from checkpoint " + header.checkpoint.path + ", which a replay needs)");
  return Status::Invalid(what + (checkpoint_dir.empty() ? "; give the folder of the run's checkpoints with "
                                                          "--checkpoint-dir, or drop --from to replay from the start"
                                                        : "; drop --from to replay from the start"));
}

}  // namespace thalia::replay
