// The trace-event file: a "process_name" and "thread_name" metadata event ("ph": "M") for every
// process and thread, then one complete event ("ph": "X") per span, "ts" and "dur" in
// microseconds from the profiler's start, with nanosecond digits; "otherData" says what the
// clock is and whether the timeline stops early. Written in pieces (a long run's file can be
// hundreds of MB), never built whole in memory.
#include "kernel/profile.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "kernel/thread_pool.h"

namespace thalia::kernel {
namespace {

// JSON string contents (without quotes) for names the user chose (regions).
std::string Escaped(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '"' || c == '\\') {
      o += '\\';
      o += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      o += buf;
    } else {
      o += c;
    }
  }
  return o;
}

// Microseconds with nanosecond digits, signed: a worker on another host (MPI) has its own
// clock, which may read less than the coordinator's origin.
void PrintMicros(std::FILE* f, int64_t ns) {
  const char* sign = ns < 0 ? "-" : "";
  const uint64_t a = ns < 0 ? static_cast<uint64_t>(-(ns + 1)) + 1 : static_cast<uint64_t>(ns);
  std::fprintf(f, "%s%" PRIu64 ".%03" PRIu64, sign, a / 1000, a % 1000);
}

Status SyncFolder(const std::string& path) {
  std::filesystem::path folder = std::filesystem::path(path).parent_path();
  const std::string dir = folder.empty() ? "." : folder.string();
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Status::Io(dir + ": cannot open to sync: " + std::strerror(errno));
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return Status::Io(dir + ": fsync failed: " + std::strerror(errno));
  return Status::Ok();
}

}  // namespace

const char* ProfileCategory(SpanKind kind) {
  switch (kind) {
    case SpanKind::kCompute: return "compute";
    case SpanKind::kBarrierWait:
    case SpanKind::kWaitRequest:
    case SpanKind::kWaitReplies: return "waiting";
    case SpanKind::kAssemble:
    case SpanKind::kSend:
    case SpanKind::kDecode:
    case SpanKind::kEncode:
    case SpanKind::kRoute:
    case SpanKind::kPeerExchange: return "exchange";
    case SpanKind::kRecord: return "recording";
    case SpanKind::kCheckpoint: return "checkpointing";
  }
  return "unknown";
}

const char* ProfileName(SpanKind kind) {
  switch (kind) {
    case SpanKind::kCompute: return "compute";
    case SpanKind::kBarrierWait: return "waiting at barriers";
    case SpanKind::kWaitRequest: return "waiting for the coordinator";
    case SpanKind::kWaitReplies: return "waiting for workers";
    case SpanKind::kAssemble: return "exchange: assemble EpochBegin";
    case SpanKind::kSend: return "exchange: encode and send";
    case SpanKind::kDecode: return "exchange: decode";
    case SpanKind::kEncode: return "exchange: encode and send reply";
    case SpanKind::kRoute: return "exchange: route spikes";
    case SpanKind::kPeerExchange: return "exchange: spikes with peer workers";
    case SpanKind::kRecord: return "recording";
    case SpanKind::kCheckpoint: return "checkpointing";
  }
  return "unknown";
}

uint64_t ProfileNow() { return ThreadPool::NowNs(); }

void AppendAdvanceSpans(uint64_t epoch, int32_t region, uint16_t process, uint64_t start_ns, uint64_t end_ns,
                        ThreadPool* pool, std::vector<ProfileSpan>* out) {
  auto add = [&](SpanKind kind, uint16_t thread, uint64_t a, uint64_t b) {
    if (b > a) out->push_back({a, b, epoch, region, process, thread, kind});
  };
  uint64_t cursor = start_ns;  // thread 0: work outside the pool's sections is compute too
  if (pool) {
    for (uint32_t t = 0; t < pool->size(); ++t) {
      auto& sections = pool->sections(t);
      const auto thread = static_cast<uint16_t>(t);
      for (const ThreadPool::Section& s : sections) {
        const uint64_t from = t == 0 ? std::max(cursor, s.start_ns) : s.start_ns;
        const uint64_t wait_from = s.end_ns - std::min(s.wait_ns, s.end_ns - from);
        add(SpanKind::kCompute, thread, t == 0 ? cursor : from, wait_from);
        add(SpanKind::kBarrierWait, thread, wait_from, s.end_ns);
        if (t == 0) cursor = std::max(cursor, s.end_ns);
      }
      sections.clear();
    }
  }
  add(SpanKind::kCompute, 0, cursor, end_ns);
}

Profiler::Profiler(std::string path, uint64_t max_spans)
    : path_(std::move(path)), max_spans_(max_spans), origin_ns_(ProfileNow()) {}

void Profiler::Add(const ProfileSpan& span) {
  if (spans_.size() >= max_spans_) {
    if (!full_) stopped_at_epoch_ = span.epoch;
    full_ = true;
    ++dropped_;
    return;
  }
  spans_.push_back(span);
}

void Profiler::AddAround(SpanKind kind, uint64_t epoch, uint64_t start_ns, uint64_t end_ns, uint64_t mark) {
  uint64_t cursor = start_ns;
  const size_t end = spans_.size();  // the pieces added below are not holes
  for (size_t i = mark; i < end; ++i) {
    const ProfileSpan& s = spans_[i];
    if (s.process != 0 || s.thread != 0 || s.end_ns <= cursor) continue;
    if (s.start_ns > cursor) Add(kind, epoch, cursor, std::min(s.start_ns, end_ns));
    cursor = s.end_ns;
  }
  if (end_ns > cursor) Add(kind, epoch, cursor, end_ns);
}

void Profiler::DescribeProcess(uint16_t process, const std::string& label, int pid, uint32_t threads) {
  if (processes_.size() <= process) processes_.resize(process + 1u);
  processes_[process] = {label, pid, threads == 0 ? 1 : threads};
}

namespace {

void WriteMetadata(std::FILE* f, const char* what, size_t pid, size_t tid, const std::string& name, bool* first) {
  std::fprintf(f, "%s\n{\"name\":\"%s\",\"ph\":\"M\",\"pid\":%zu,\"tid\":%zu,\"args\":{\"name\":\"%s\"}}",
               *first ? "" : ",", what, pid, tid, Escaped(name).c_str());
  std::fprintf(f, ",\n{\"name\":\"%s_sort_index\",\"ph\":\"M\",\"pid\":%zu,\"tid\":%zu,\"args\":{\"sort_index\":%zu}}",
               what[0] == 'p' ? "process" : "thread", pid, tid, what[0] == 'p' ? pid : tid);
  *first = false;
}

// Thread names: the coordinator's thread 0 runs the epoch loop; a worker's serves requests.
void WriteDocument(std::FILE* f, const std::vector<ProfileSpan>& spans, std::vector<size_t> threads,
                          const std::vector<std::string>& labels, const std::vector<int>& pids,
                          const std::vector<std::string>& regions, uint64_t origin_ns, const std::string& other) {
  for (const ProfileSpan& s : spans) {
    if (threads.size() <= s.process) threads.resize(s.process + 1u, 0);
    threads[s.process] = std::max<size_t>(threads[s.process], s.thread + 1u);
  }
  std::fprintf(f, "{\"traceEvents\":[");
  bool first = true;
  for (size_t p = 0; p < threads.size(); ++p) {
    if (threads[p] == 0) continue;
    std::string label = p < labels.size() && !labels[p].empty()
                            ? labels[p]
                            : (p == 0 ? std::string("coordinator") : "worker " + std::to_string(p - 1));
    if (p < pids.size() && pids[p] != 0) label += " (pid " + std::to_string(pids[p]) + ")";
    WriteMetadata(f, "process_name", p, 0, label, &first);
    for (size_t t = 0; t < threads[p]; ++t) {
      std::string name = "thread " + std::to_string(t);
      if (t == 0) name += p == 0 ? " (epoch loop)" : " (serves the coordinator)";
      WriteMetadata(f, "thread_name", p, t, name, &first);
    }
  }
  for (const ProfileSpan& s : spans) {
    const auto k = static_cast<SpanKind>(s.kind);
    const bool named = s.region >= 0 && static_cast<size_t>(s.region) < regions.size();
    std::string name = ProfileName(k);
    if (named && k == SpanKind::kCompute) name += " " + regions[static_cast<size_t>(s.region)];
    std::fprintf(f, "%s\n{\"name\":\"%s\",\"cat\":\"%s\",\"ph\":\"X\",\"pid\":%u,\"tid\":%u,\"ts\":", first ? "" : ",",
                 Escaped(name).c_str(), ProfileCategory(k), static_cast<unsigned>(s.process),
                 static_cast<unsigned>(s.thread));
    first = false;
    PrintMicros(f, static_cast<int64_t>(s.start_ns - origin_ns));
    std::fprintf(f, ",\"dur\":");
    PrintMicros(f, static_cast<int64_t>(s.end_ns >= s.start_ns ? s.end_ns - s.start_ns : 0));
    std::fprintf(f, ",\"args\":{\"epoch\":%" PRIu64, s.epoch);
    if (named) std::fprintf(f, ",\"region\":\"%s\"", Escaped(regions[static_cast<size_t>(s.region)]).c_str());
    std::fprintf(f, "}}");
  }
  std::fprintf(f, "\n],\n\"displayTimeUnit\":\"ms\",\n\"otherData\":%s}\n", other.c_str());
}

}  // namespace

void Profiler::WriteTo(std::FILE* f) const {
  std::vector<size_t> threads;
  std::vector<std::string> labels;
  std::vector<int> pids;
  for (const Process& p : processes_) {
    threads.push_back(p.label.empty() ? 0 : p.threads);
    labels.push_back(p.label);
    pids.push_back(p.pid);
  }
  std::string other = "{\"format\":\"thalia profile 1\",";
  other += "\"clock\":\"CLOCK_MONOTONIC of each host, microseconds from the start of the run's profile; "
           "processes on one host share it, MPI ranks on other hosts have their own\",";
  other += "\"barrier_waits\":\"a section's waits at the barriers between windows are summed and drawn at its end\",";
  other += "\"outcome\":\"" + Escaped(outcome_) + "\",";
  other += "\"spans\":" + std::to_string(spans_.size()) + ",\"dropped_spans\":" + std::to_string(dropped_) + ",";
  other += "\"span_limit\":" + std::to_string(max_spans_) + ",";
  if (full_)
    other += "\"stopped_at_epoch\":" + std::to_string(stopped_at_epoch_) +
             ",\"note\":\"the span limit was reached: the timeline stops at that epoch\"}";
  else
    other += "\"stopped_at_epoch\":null}";
  WriteDocument(f, spans_, threads, labels, pids, region_names_, origin_ns_, other);
}

std::string Profiler::Json() const {
  char* data = nullptr;
  size_t size = 0;
  std::FILE* f = ::open_memstream(&data, &size);
  if (!f) return {};
  WriteTo(f);
  std::fclose(f);
  std::string out(data, size);
  std::free(data);
  return out;
}

Status Profiler::Write() const {
  const std::string tmp = path_ + ".incomplete";
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) return Status::Io(tmp + ": cannot write the profile: " + std::strerror(errno));
  WriteTo(f);
  const bool written = !std::ferror(f) && std::fflush(f) == 0 && ::fsync(::fileno(f)) == 0;
  const int err = errno;
  if (std::fclose(f) != 0 || !written) {
    ::unlink(tmp.c_str());
    return Status::Io(tmp + ": writing the profile failed: " + std::strerror(err));
  }
  if (std::rename(tmp.c_str(), path_.c_str()) != 0) {
    const int rerr = errno;
    ::unlink(tmp.c_str());
    return Status::Io(path_ + ": cannot rename the profile into place: " + std::strerror(rerr));
  }
  return SyncFolder(path_);
}

}  // namespace thalia::kernel
