// thalia._thalia.Brain: the kernel's Brain driven from Python. Each epoch runs with the GIL
// released; between epochs pending signals are handled, so Ctrl-C raises KeyboardInterrupt at an
// epoch boundary, after a brain with worker processes has parked its state and reaped them.
#include "python/src/brain_binding.h"

#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <optional>

#include "kernel/digest.h"
#include "recorder/checkpoint.h"
#include "recorder/checkpoint_format.h"
#include "recorder/trace_format.h"
#include "python/src/errors.h"
#include "transport/install.h"

namespace py = pybind11;

namespace thalia::python {

BrainHandle::BrainHandle(std::unique_ptr<kernel::Brain> brain, kernel::RunOptions options)
    : brain_(std::move(brain)), options_(std::move(options)) {
  counter_base_.assign(brain_->spec().regions.size(), {});
}

BrainHandle::~BrainHandle() {
  // A trace still open when the brain goes is what a crash leaves: TRACE.incomplete.
  if (trace_) {
    brain_->RemoveObserver(trace_.get());
    (void)trace_->Abandon();
  }
  if (brain_) (void)brain_->Shutdown();
}

kernel::Brain& BrainHandle::Live() {
  if (!brain_) throw py::value_error("this brain is closed");
  if (stopped_) throw std::runtime_error("this brain has stopped: " + stopped_why_);
  if (busy_) throw std::runtime_error("this brain is running in another thread; one thread drives a brain");
  if (parked_) Unpark();
  return *brain_;
}

void BrainHandle::Park() {
  kernel::Brain& brain = *brain_;
  const size_t n = brain.spec().regions.size();
  parked_spikes_.resize(n);
  recorder::TracePosition position;
  if (trace_) position = {trace_->path(), trace_->stats().epochs};
  Result<recorder::Checkpoint> state = Status::Internal("not captured");
  Status st;
  {
    py::gil_scoped_release release;
    for (kernel::RegionId r = 0; r < n; ++r) {
      std::vector<kernel::Spike> spikes = brain.TakeSpikes(r);
      parked_spikes_[r].insert(parked_spikes_[r].end(), spikes.begin(), spikes.end());
    }
    state = recorder::CaptureCheckpoint(brain, position);
    st = brain.Shutdown();
  }
  if (!state.ok() || !st.ok()) {
    stopped_ = true;
    stopped_why_ = "interrupted at tick " + std::to_string(brain.tick()) + ", and its state could not be kept: " +
                   (state.ok() ? st : state.status()).message();
    return;
  }
  for (kernel::RegionId r = 0; r < n; ++r) {
    const kernel::RegionCounters& c = brain.counters(r);
    counter_base_[r].spikes += c.spikes;
    counter_base_[r].synaptic_events += c.synaptic_events;
    counter_base_[r].neuron_updates += c.neuron_updates;
  }
  parked_ = std::move(state).value();
}

void BrainHandle::Unpark() {
  Result<std::unique_ptr<kernel::Brain>> brain = Status::Internal("not resumed");
  {
    Busy busy(this);
    py::gil_scoped_release release;
    brain = recorder::ResumeBrain(*parked_, options_);
  }
  if (!brain.ok()) {
    stopped_ = true;
    stopped_why_ = "interrupted, and its workers could not be started again: " + brain.status().message();
    Raise(brain.status(), Domain::kRun, static_cast<int64_t>(parked_->state.epoch));
  }
  parked_.reset();
  if (trace_) brain_->RemoveObserver(trace_.get());
  brain_ = std::move(brain).value();
  if (trace_) brain_->AddObserver(trace_.get());
}

void BrainHandle::CheckRun(const Status& status) {
  if (status.ok()) return;
  stopped_ = true;
  stopped_why_ = status.message();
  Raise(status, Domain::kRun, static_cast<int64_t>(brain_->epoch()));
}

void BrainHandle::CheckSignals() {
  if (PyErr_CheckSignals() == 0) return;
  if (brain_->executor_name() != "inproc") {
    // The workers end now, not when the object is collected: the interrupted program may never
    // touch this brain again. Its state stays here, and the next call continues it exactly.
    PyObject *type, *value, *trace;
    PyErr_Fetch(&type, &value, &trace);
    Park();
    PyErr_Restore(type, value, trace);
  }
  throw py::error_already_set();
}

void BrainHandle::RunUntil(kernel::Tick until) {
  kernel::Brain& brain = Live();
  Busy busy(this);
  // One epoch per call, as Brain::RunUntil cuts them, so the epochs (and the trace) are the same.
  const kernel::Tick epoch_ticks = brain.spec().epoch_ticks;
  while (brain.tick() < until) {
    Status st;
    {
      py::gil_scoped_release release;
      st = brain.RunUntil(std::min(brain.tick() + epoch_ticks, until));
    }
    CheckRun(st);
    CheckSignals();
  }
}

void BrainHandle::StepEpochs(uint64_t epochs) {
  kernel::Brain& brain = Live();
  Busy busy(this);
  for (uint64_t i = 0; i < epochs; ++i) {
    Status st;
    {
      py::gil_scoped_release release;
      st = brain.StepEpochs(1);
    }
    CheckRun(st);
    CheckSignals();
  }
}

void BrainHandle::InjectSpikes(uint32_t region, const std::vector<uint32_t>& neurons,
                               const std::vector<uint64_t>& ticks, const std::vector<float>& amounts) {
  kernel::Brain& brain = Live();
  for (size_t i = 0; i < neurons.size(); ++i)
    Check(brain.InjectSpike(region, neurons[i], amounts[i], ticks[i]), Domain::kConfig);
}

void BrainHandle::SetCurrents(uint32_t region, const std::vector<uint32_t>& neurons,
                              const std::vector<uint64_t>& ticks, const std::vector<float>& amounts) {
  kernel::Brain& brain = Live();
  for (size_t i = 0; i < neurons.size(); ++i)
    Check(brain.SetCurrent(region, neurons[i], amounts[i], ticks[i]), Domain::kConfig);
}

void BrainHandle::AddModulator(int modulator, float amount) {
  Check(Live().AddModulator(modulator, amount), Domain::kConfig);
}

py::tuple BrainHandle::TakeSpikes(uint32_t region) {
  kernel::Brain& brain = Live();
  if (region >= brain.spec().regions.size()) throw py::index_error("no region " + std::to_string(region));
  std::vector<kernel::Spike> spikes = brain.TakeSpikes(region);
  if (region < parked_spikes_.size() && !parked_spikes_[region].empty()) {
    spikes.insert(spikes.begin(), parked_spikes_[region].begin(), parked_spikes_[region].end());
    parked_spikes_[region].clear();
  }
  py::array_t<uint64_t> ticks(static_cast<py::ssize_t>(spikes.size()));
  py::array_t<uint32_t> neurons(static_cast<py::ssize_t>(spikes.size()));
  uint64_t* t = ticks.mutable_data();
  uint32_t* n = neurons.mutable_data();
  for (size_t i = 0; i < spikes.size(); ++i) {
    t[i] = spikes[i].tick;
    n[i] = spikes[i].neuron;
  }
  return py::make_tuple(ticks, neurons);
}

py::tuple BrainHandle::Counters(uint32_t region) {
  kernel::Brain& brain = Live();
  if (region >= brain.spec().regions.size()) throw py::index_error("no region " + std::to_string(region));
  const kernel::RegionCounters& c = brain.counters(region);
  const kernel::RegionCounters& base = counter_base_[region];
  return py::make_tuple(base.spikes + c.spikes, base.synaptic_events + c.synaptic_events,
                        base.neuron_updates + c.neuron_updates);
}

uint64_t BrainHandle::Digest() {
  kernel::Brain& brain = Live();
  Busy busy(this);
  Result<uint64_t> d = Status::Internal("not computed");
  {
    py::gil_scoped_release release;
    d = brain.Digest();
  }
  CheckRun(d.status());
  return d.value();
}

std::vector<uint64_t> BrainHandle::RegionDigests() {
  kernel::Brain& brain = Live();
  Busy busy(this);
  Result<std::vector<uint64_t>> d = Status::Internal("not computed");
  {
    py::gil_scoped_release release;
    d = brain.RegionDigests();
  }
  CheckRun(d.status());
  return d.value();
}

float BrainHandle::ModulatorLevel(int modulator) {
  if (modulator < 0 || modulator >= kernel::kNumModulators)
    throw py::value_error("modulator must be 0 (dopamine), 1 (acetylcholine) or 2 (noradrenaline)");
  return Live().ModulatorLevel(modulator);
}

py::list BrainHandle::Stats() {
  py::list out;
  if (!brain_ || stopped_ || parked_) return out;
  for (const kernel::WorkerStats& w : brain_->Stats()) {
    py::dict d;
    d["worker"] = w.worker;
    d["regions"] = std::vector<uint32_t>(w.regions.begin(), w.regions.end());
    d["epochs"] = w.epochs;
    d["busy_s"] = w.busy_s;
    d["wait_s"] = w.wait_s;
    d["pid"] = w.pid;
    out.append(d);
  }
  return out;
}

py::dict BrainHandle::Spec() const {
  if (!brain_) throw py::value_error("this brain is closed");
  const kernel::BrainSpec& s = brain_->spec();
  py::dict d;
  d["name"] = s.name;
  d["seed"] = s.seed;
  d["dt_ms"] = s.dt_ms;
  d["duration_ms"] = s.duration_ms;
  d["epoch_ticks"] = s.epoch_ticks;
  py::list regions;
  for (const kernel::RegionSpec& r : s.regions) {
    py::list pops;
    for (const kernel::PopulationSpec& p : r.populations)
      pops.append(py::make_tuple(p.name, p.offset, p.size, p.excitatory));
    regions.append(py::make_tuple(r.name, r.type, r.size, pops));
  }
  d["regions"] = regions;
  d["config_json"] = kernel::ConfigToJson(s.config);
  return d;
}

void BrainHandle::StartRecording(const std::string& path) {
  kernel::Brain& brain = Live();
  if (trace_) throw py::value_error("this brain already records to " + trace_->path());
  recorder::TraceWriterOptions options;
  if (!resumed_from_.path.empty() && resumed_from_.epoch == brain.epoch()) options.from_checkpoint = resumed_from_;
  auto writer = recorder::TraceWriter::Open(path, brain, options);
  Check(writer.status(), Domain::kConfig);
  trace_ = std::move(writer).value();
  brain.AddObserver(trace_.get());
}

std::string BrainHandle::StopRecording(bool ok) {
  if (!trace_) return "";
  if (busy_) throw std::runtime_error("this brain is running in another thread; one thread drives a brain");
  Busy busy(this);
  brain_->RemoveObserver(trace_.get());
  std::unique_ptr<recorder::TraceWriter> trace = std::move(trace_);
  Status st;
  {
    py::gil_scoped_release release;
    st = ok ? trace->Close() : trace->Abandon();
  }
  Check(st, Domain::kRun);
  return ok ? trace->path() : trace->incomplete_path();
}

void BrainHandle::SaveCheckpoint(const std::string& path) {
  kernel::Brain& brain = Live();
  Busy busy(this);
  recorder::TracePosition position;
  if (trace_) {
    position.path = trace_->path();
    position.epochs_recorded = trace_->stats().epochs;
  }
  Result<recorder::Checkpoint> checkpoint = Status::Internal("not captured");
  Status st;
  {
    py::gil_scoped_release release;
    checkpoint = recorder::CaptureCheckpoint(brain, position);
    if (checkpoint.ok()) st = recorder::WriteCheckpointFile(checkpoint.value(), path);
  }
  CheckRun(checkpoint.status());
  Check(st, Domain::kRun);
  // The trace notes the checkpoint, so `thalia replay --from` can start there.
  if (trace_) {
    const kernel::BrainState& s = checkpoint.value().state;
    Check(trace_->MarkCheckpoint(s.epoch, s.tick, path, kernel::CombineDigests(checkpoint.value().digests)),
          Domain::kRun);
  }
}

void BrainHandle::Close() {
  if (!brain_) return;
  if (busy_) throw std::runtime_error("this brain is running in another thread; one thread drives a brain");
  Busy busy(this);
  if (trace_) {
    brain_->RemoveObserver(trace_.get());
    (void)trace_->Abandon();
    trace_.reset();
  }
  Status st;
  {
    py::gil_scoped_release release;
    st = brain_->Shutdown();
  }
  brain_.reset();
  parked_.reset();
  Check(st, Domain::kRun);
}

kernel::Tick BrainHandle::tick() const {
  if (parked_) return parked_->state.tick;
  return brain_ ? brain_->tick() : 0;
}
uint64_t BrainHandle::epoch() const {
  if (parked_) return parked_->state.epoch;
  return brain_ ? brain_->epoch() : 0;
}
std::string BrainHandle::executor() const { return brain_ ? brain_->executor_name() : "closed"; }

namespace {

kernel::RunOptions MakeOptions(int workers, int threads, const std::string& launch,
                               const std::vector<int>& placement, double hang_timeout_ms,
                               bool keep_spikes, const std::string& worker_binary) {
  kernel::RunOptions o;
  o.workers = workers;
  o.threads = threads;
  o.launch = launch;
  o.placement = placement;
  o.hang_timeout_ms = hang_timeout_ms;
  o.keep_spikes = keep_spikes;
  o.worker_binary = worker_binary;
  return o;
}

// A trace or checkpoint given as a configuration gets a pointer to the right call, not a JSON
// parse error (as `thalia run` does).
void CheckNotARecording(const std::string& path) {
  char head[8] = {};
  std::ifstream in(path, std::ios::binary);
  if (!in.read(head, sizeof head)) return;  // short or unreadable: the loader says
  if (std::equal(head, head + 8, recorder::kFileMagic))
    throw py::value_error(path + " is a thalia trace, not a configuration: thalia.Trace('" + path +
                          "') reads it, .replay() replays it");
  if (std::equal(head, head + 8, recorder::kCheckpointMagic))
    throw py::value_error(path + " is a thalia checkpoint, not a configuration: thalia.resume('" + path +
                          "') continues it");
}

std::unique_ptr<BrainHandle> CreateBrain(const std::string& source, bool is_path, const std::string& name,
                                         std::optional<uint64_t> seed, int workers, int threads,
                                         const std::string& launch, const std::vector<int>& placement,
                                         double hang_timeout_ms, bool keep_spikes,
                                         const std::string& worker_binary) {
  if (is_path) CheckNotARecording(source);
  auto config = is_path ? kernel::LoadConfigFile(source) : kernel::ParseConfigJson(source, name);
  Check(config.status(), Domain::kConfig);
  std::vector<uint8_t> bytes = std::move(config).value();
  if (seed) bytes = kernel::WithSeed(bytes, *seed);
  auto spec = kernel::ResolveBrainSpec(std::move(bytes), name);
  Check(spec.status(), Domain::kConfig);
  if (!placement.empty() && placement.size() != spec.value()->regions.size())
    throw py::value_error("placement: expected one worker per region (" +
                          std::to_string(spec.value()->regions.size()) + "), got " +
                          std::to_string(placement.size()));
  kernel::RunOptions o = MakeOptions(workers, threads, launch, placement, hang_timeout_ms, keep_spikes, worker_binary);
  transport::Install();
  Result<std::unique_ptr<kernel::Brain>> brain = Status::Internal("not built");
  {
    py::gil_scoped_release release;
    brain = kernel::Brain::Create(spec.value(), o);
  }
  Check(brain.status(), Domain::kConfig);
  return std::make_unique<BrainHandle>(std::move(brain).value(), o);
}

std::unique_ptr<BrainHandle> ResumeFromFile(const std::string& path, int workers, int threads,
                                            const std::string& launch, const std::vector<int>& placement,
                                            double hang_timeout_ms, bool keep_spikes,
                                            const std::string& worker_binary) {
  auto checkpoint = recorder::ReadCheckpointFile(path);
  Check(checkpoint.status(), Domain::kFile);
  kernel::RunOptions o = MakeOptions(workers, threads, launch, placement, hang_timeout_ms, keep_spikes, worker_binary);
  transport::Install();
  Result<std::unique_ptr<kernel::Brain>> brain = Status::Internal("not built");
  {
    py::gil_scoped_release release;
    brain = recorder::ResumeBrain(checkpoint.value(), o);
  }
  // A checkpoint that loads but does not reproduce its digests is unusable, not a bad argument.
  Check(brain.status(), brain.status().kind() == ErrorKind::kWorker ? Domain::kRun : Domain::kFile);
  auto handle = std::make_unique<BrainHandle>(std::move(brain).value(), o);
  const recorder::Checkpoint& c = checkpoint.value();
  handle->set_resumed_from({path, c.state.epoch, c.state.tick, kernel::CombineDigests(c.digests)});
  return handle;
}

}  // namespace

void BindBrain(py::module_& m) {
  py::class_<BrainHandle>(m, "Brain", "The C++ brain behind thalia.Brain (use thalia.Brain).")
      .def("run_until", &BrainHandle::RunUntil, py::arg("tick"))
      .def("step", &BrainHandle::StepEpochs, py::arg("epochs"))
      .def("inject_spikes", &BrainHandle::InjectSpikes)
      .def("set_currents", &BrainHandle::SetCurrents)
      .def("add_modulator", &BrainHandle::AddModulator)
      .def("take_spikes", &BrainHandle::TakeSpikes)
      .def("counters", &BrainHandle::Counters)
      .def("digest", &BrainHandle::Digest)
      .def("region_digests", &BrainHandle::RegionDigests)
      .def("modulator_level", &BrainHandle::ModulatorLevel)
      .def("stats", &BrainHandle::Stats)
      .def("spec", &BrainHandle::Spec)
      .def("start_recording", &BrainHandle::StartRecording)
      .def("stop_recording", &BrainHandle::StopRecording)
      .def("save_checkpoint", &BrainHandle::SaveCheckpoint)
      .def("close", &BrainHandle::Close)
      .def_property_readonly("recording", &BrainHandle::recording)
      .def_property_readonly("tick", &BrainHandle::tick)
      .def_property_readonly("epoch", &BrainHandle::epoch)
      .def_property_readonly("executor", &BrainHandle::executor)
      .def_property_readonly("keep_spikes", &BrainHandle::keep_spikes)
      .def_property_readonly("closed", &BrainHandle::closed)
      .def_property_readonly("parked", &BrainHandle::parked);
  m.def("create_brain", &CreateBrain, "Builds a brain (use thalia.Brain).", py::arg("source"),
        py::arg("is_path"), py::arg("name"), py::arg("seed"), py::arg("workers"), py::arg("threads"),
        py::arg("launch"), py::arg("placement"), py::arg("hang_timeout_ms"), py::arg("keep_spikes"),
        py::arg("worker_binary"));
  m.def("resume_brain", &ResumeFromFile, "Resumes a checkpoint (use thalia.resume).", py::arg("path"),
        py::arg("workers"), py::arg("threads"), py::arg("launch"), py::arg("placement"),
        py::arg("hang_timeout_ms"), py::arg("keep_spikes"), py::arg("worker_binary"));
}

}  // namespace thalia::python
