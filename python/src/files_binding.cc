// Traces, replay and checkpoints for Python. A trace is read record by record (TraceReader) with
// the GIL released, straight into numpy arrays: no text on the way.
#include "python/src/files_binding.h"

#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "kernel/digest.h"
#include "kernel/spec.h"
#include "python/src/errors.h"
#include "recorder/checkpoint.h"
#include "recorder/trace_reader.h"
#include "replay/replayer.h"

namespace py = pybind11;

namespace thalia::python {
namespace {

// Collects what the reader dropped at a cut or corrupt tail (shown by Trace.dropped).
class ListReporter final : public recorder::TraceReporter {
 public:
  void Dropped(uint64_t offset, uint64_t bytes, const std::string& reason) override {
    dropped.push_back({offset, bytes, reason});
  }
  struct Item {
    uint64_t offset, bytes;
    std::string reason;
  };
  std::vector<Item> dropped;
};

template <typename T>
py::array_t<T> ToArray(const std::vector<T>& v) {
  py::array_t<T> a(static_cast<py::ssize_t>(v.size()));
  std::copy(v.begin(), v.end(), a.mutable_data());
  return a;
}

template <typename T>
py::array_t<T> ToMatrix(const std::vector<T>& v, size_t rows, size_t cols) {
  py::array_t<T> a({static_cast<py::ssize_t>(rows), static_cast<py::ssize_t>(cols)});
  std::copy(v.begin(), v.end(), a.mutable_data());
  return a;
}

// Opens `path` and hands every batch to `fn`, with the GIL released; raises FormatError for an
// unusable trace (with the GIL held again).
template <typename F>
std::unique_ptr<recorder::TraceReader> ForEachBatch(const std::string& path, bool strict,
                                                    ListReporter* reporter, const F& fn) {
  recorder::TraceReaderOptions o;
  o.strict = strict;
  o.reporter = reporter;
  Status st;
  std::unique_ptr<recorder::TraceReader> reader;
  {
    py::gil_scoped_release release;
    auto opened = recorder::TraceReader::Open(path, o);
    st = opened.status();
    if (opened.ok()) {
      reader = std::move(opened).value();
      recorder::DecodedRecord rec;
      while (true) {
        auto more = reader->Next(&rec);
        if (!more.ok()) {
          st = more.status();
          break;
        }
        if (!more.value()) break;
        if (rec.kind == recorder::RecordKind::kBatch) fn(reader->header(), rec.batch);
      }
    }
  }
  Check(st, Domain::kFile);
  return reader;
}

py::dict HeaderDict(const recorder::TraceHeaderInfo& h) {
  py::dict d;
  d["format_version"] = h.format_version;
  d["seed"] = h.seed;
  d["dt_ms"] = h.dt_ms;
  d["epoch_ticks"] = h.epoch_ticks;
  d["first_epoch"] = h.first_epoch;
  d["first_tick"] = h.first_tick;
  d["checkpoint"] = h.checkpoint.path;
  d["checkpoint_epoch"] = h.checkpoint.epoch;
  d["region_names"] = h.region_names;
  d["region_sizes"] = h.region_sizes;
  d["config_json"] = kernel::ConfigToJson(h.config);
  return d;
}

// Everything but the spikes: header, per-epoch arrays, per-region counts, how the trace ended.
py::dict ScanTrace(const std::string& path, bool strict) {
  ListReporter reporter;
  std::vector<uint64_t> epoch, t0, t1, digests, counts, region_totals, events;
  std::vector<float> levels;
  size_t regions = 0;
  auto reader = ForEachBatch(path, strict, &reporter, [&](const recorder::TraceHeaderInfo& h, const recorder::TraceBatch& b) {
    regions = h.region_names.size();
    region_totals.resize(regions, 0);
    epoch.push_back(b.epoch);
    t0.push_back(b.t0);
    t1.push_back(b.t1);
    events.push_back(b.events.size());
    for (int m = 0; m < kernel::kNumModulators; ++m) levels.push_back(b.modulators.level[m]);
    for (size_t r = 0; r < regions; ++r) {
      digests.push_back(r < b.digests.size() ? b.digests[r] : 0);
      const uint64_t n = r < b.spikes.size() ? b.spikes[r].size() : 0;
      counts.push_back(n);
      region_totals[r] += n;
    }
  });
  const recorder::TraceHeaderInfo& h = reader->header();
  regions = h.region_names.size();
  region_totals.resize(regions, 0);
  auto spec = kernel::ResolveBrainSpec(h.config, path + " (trace header)");
  Check(spec.status(), Domain::kFile);
  py::dict d = HeaderDict(h);
  d["name"] = spec.value()->name;
  d["complete"] = reader->complete();
  d["end_reason"] = reader->end_reason();
  d["file_size"] = reader->file_size();
  d["raw_bytes"] = reader->raw_bytes_read();
  d["chunks"] = reader->chunks_read();
  py::list dropped;
  for (const auto& item : reporter.dropped) dropped.append(py::make_tuple(item.offset, item.bytes, item.reason));
  d["dropped"] = dropped;
  const size_t n = epoch.size();
  d["epoch"] = ToArray(epoch);
  d["t0"] = ToArray(t0);
  d["t1"] = ToArray(t1);
  d["events"] = ToArray(events);
  d["modulators"] = ToMatrix(levels, n, kernel::kNumModulators);
  d["digests"] = ToMatrix(digests, n, regions);
  d["spike_counts"] = ToMatrix(counts, n, regions);
  d["region_spikes"] = ToArray(region_totals);
  return d;
}

// Spikes with tick in [from, to) of one region (or all: region < 0), in the order of `thalia
// trace spikes`: time order across regions, region order within a tick.
py::tuple ReadSpikes(const std::string& path, int region, uint64_t from, uint64_t to, bool strict) {
  std::vector<uint64_t> ticks;
  std::vector<uint32_t> regions, neurons;
  std::vector<std::pair<kernel::Spike, uint32_t>> all;
  ForEachBatch(path, strict, nullptr, [&](const recorder::TraceHeaderInfo&, const recorder::TraceBatch& b) {
    if (b.t1 <= from || b.t0 >= to) return;
    all.clear();
    for (size_t r = 0; r < b.spikes.size(); ++r) {
      if (region >= 0 && static_cast<int>(r) != region) continue;
      for (const kernel::Spike& s : b.spikes[r])
        if (s.tick >= from && s.tick < to) all.push_back({s, static_cast<uint32_t>(r)});
    }
    std::stable_sort(all.begin(), all.end(), [](const auto& a, const auto& c) { return a.first.tick < c.first.tick; });
    for (const auto& [s, r] : all) {
      ticks.push_back(s.tick);
      regions.push_back(r);
      neurons.push_back(s.neuron);
    }
  });
  return py::make_tuple(ToArray(ticks), ToArray(regions), ToArray(neurons));
}

py::object SpikeOrNone(const std::optional<kernel::Spike>& s) {
  if (!s) return py::none();
  return py::make_tuple(s->tick, s->neuron);
}

// What the probes recorded: ticks, one tuple per series (values as float64, exact for every float
// and int32), one per probed neuron's spikes. Thalia.ProbeData arranges them.
py::dict ProbeDict(const replay::ProbeData& p) {
  py::dict d;
  d["dt_ms"] = p.dt_ms;
  d["ticks"] = ToArray(p.ticks);
  py::list series, spikes;
  for (const replay::ProbeSeries& s : p.series) {
    py::object synapse = py::none();
    if (!s.synapse.pathway.empty())
      synapse = py::make_tuple(s.synapse.pathway, s.synapse.source_region, s.synapse.source, s.synapse.delay);
    series.append(py::make_tuple(s.region, s.var, s.index, s.per_neuron, ToArray(s.values), synapse));
  }
  for (const replay::ProbeSpikes& s : p.spikes) spikes.append(py::make_tuple(s.region, s.neuron, ToArray(s.ticks)));
  d["series"] = series;
  d["spikes"] = spikes;
  return d;
}

py::dict RunReplay(const std::string& path, const std::string& region, std::optional<uint64_t> from_epoch,
                   std::optional<uint64_t> until_epoch, const std::string& checkpoint_dir, bool strict,
                   const std::string& perturb_region, const std::vector<std::string>& probes, uint64_t probe_every,
                   std::optional<double> from_ms, std::optional<double> until_ms) {
  replay::ReplayOptions o;
  o.perturb_region = perturb_region;
  o.region = region;
  o.from_epoch = from_epoch;
  o.until_epoch = until_epoch;
  o.from_ms = from_ms;
  o.until_ms = until_ms;
  o.probes = probes;
  o.probe_every = probe_every;
  o.checkpoint_dir = checkpoint_dir;
  o.strict = strict;
  ListReporter reporter;
  o.reporter = &reporter;
  Result<replay::ReplayResult> r = Status::Internal("not replayed");
  {
    py::gil_scoped_release release;
    r = replay::Replay(path, o);
  }
  // An unusable trace is a FormatError; a run that fails (a region throws) a RunError; a bad probe
  // (every such message starts with the option it came from: "--probe ...", "--probe-every: ...")
  // a ValueError, as a bad argument.
  const ErrorKind kind = r.status().kind();
  const bool bad_probe = kind == ErrorKind::kInvalidInput && r.status().message().rfind("--probe", 0) == 0;
  Check(r.status(), bad_probe ? Domain::kConfig
                    : kind == ErrorKind::kInvalidInput || kind == ErrorKind::kCorrupt ? Domain::kFile
                                                                                        : Domain::kRun);
  const replay::ReplayResult& v = r.value();
  py::dict d;
  d["epochs"] = v.epochs;
  d["spikes"] = v.spikes;
  d["checkpoint_marks"] = v.checkpoint_marks;
  d["started_from"] = v.started_from;
  d["first_epoch"] = v.first_epoch;
  d["trace_complete"] = v.trace_complete;
  d["trace_end"] = v.trace_end;
  d["stopped_early"] = v.stopped_early;
  d["description"] = replay::Describe(v);
  if (v.divergence) {
    const replay::Divergence& dv = *v.divergence;
    py::dict div;
    div["epoch"] = dv.epoch;
    div["t0"] = dv.t0;
    div["t1"] = dv.t1;
    div["region"] = dv.region;
    div["tick"] = dv.tick;
    div["expected"] = SpikeOrNone(dv.expected);
    div["got"] = SpikeOrNone(dv.got);
    div["expected_digest"] = dv.expected_digest;
    div["got_digest"] = dv.got_digest;
    d["divergence"] = div;
  } else {
    d["divergence"] = py::none();
  }
  d["probes"] = probes.empty() ? py::object(py::none()) : py::object(ProbeDict(v.probes));
  return d;
}

// What `thalia checkpoint info` shows, after the checks a resume makes.
py::dict ReadCheckpoint(const std::string& path) {
  Result<recorder::Checkpoint> c = Status::Internal("not read");
  {
    py::gil_scoped_release release;
    c = recorder::ReadCheckpointFile(path);
  }
  Check(c.status(), Domain::kFile);
  auto spec = kernel::ResolveBrainSpec(c.value().config, path);
  Check(spec.status().Context("the configuration inside " + path), Domain::kFile);
  const recorder::Checkpoint& k = c.value();
  const kernel::BrainState& s = k.state;
  py::dict d;
  d["format_version"] = k.format_version;
  d["name"] = spec.value()->name;
  d["seed"] = k.seed;
  d["dt_ms"] = spec.value()->dt_ms;
  d["epoch_ticks"] = spec.value()->epoch_ticks;
  d["tick"] = s.tick;
  d["epoch"] = s.epoch;
  d["executor"] = k.executor;
  d["workers"] = k.workers;
  d["modulators"] = std::vector<float>(s.modulators.level.begin(), s.modulators.level.end());
  d["pending_events"] = s.pending_events.size();
  d["trace"] = k.trace.path;
  d["trace_epochs"] = k.trace.epochs_recorded;
  d["region_names"] = k.region_names;
  std::vector<uint64_t> state_bytes, in_flight, inputs;
  for (size_t r = 0; r < k.region_names.size(); ++r) {
    state_bytes.push_back(s.regions[r].size());
    in_flight.push_back(s.in_flight[r].size());
    inputs.push_back(s.pending_external[r].size());
  }
  d["state_bytes"] = state_bytes;
  d["in_flight"] = in_flight;
  d["inputs"] = inputs;
  d["digests"] = k.digests;
  d["digest"] = kernel::CombineDigests(k.digests);
  d["config_json"] = kernel::ConfigToJson(k.config);
  return d;
}

// Loads the checkpoint into an in-process brain and checks every region's digest (--verify).
void VerifyCheckpoint(const std::string& path) {
  kernel::RunOptions o;
  o.workers = 0;
  Result<std::unique_ptr<kernel::Brain>> brain = Status::Internal("not loaded");
  {
    py::gil_scoped_release release;
    brain = recorder::ResumeBrain(path, o);
  }
  Check(brain.status().Context(path), Domain::kFile);
}

}  // namespace

void BindFiles(py::module_& m) {
  m.def("scan_trace", &ScanTrace, "Reads a trace's header and epochs (use thalia.Trace).", py::arg("path"),
        py::arg("strict"));
  m.def("read_spikes", &ReadSpikes, "Reads a trace's spikes (use thalia.Trace.spikes).", py::arg("path"),
        py::arg("region"), py::arg("start"), py::arg("stop"), py::arg("strict"));
  m.def("replay", &RunReplay, "Replays a trace (use thalia.Trace.replay).", py::arg("path"), py::arg("region"),
        py::arg("from_epoch"), py::arg("until_epoch"), py::arg("checkpoint_dir"), py::arg("strict"),
        py::arg("perturb_region"), py::arg("probes"), py::arg("probe_every"), py::arg("from_ms"),
        py::arg("until_ms"));
  m.def("read_checkpoint", &ReadCheckpoint, "Reads a checkpoint (use thalia.Checkpoint).", py::arg("path"));
  m.def("verify_checkpoint", &VerifyCheckpoint, "Loads a checkpoint and checks its digests.", py::arg("path"));
}

}  // namespace thalia::python
