// The C++ side of thalia.Brain: one kernel::Brain, the trace it records to, and the epoch loop
// driven from Python with the GIL released for each epoch and Ctrl-C seen between epochs. An
// interrupted brain with worker processes parks its state in memory and ends its workers; the
// next call resumes the state on new workers (the checkpoint contract makes that exact).
// Thread-compatible: Python calls it with the GIL held; one thread drives a brain.
#pragma once

#include <pybind11/pybind11.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "kernel/brain.h"
#include "recorder/checkpoint.h"
#include "recorder/trace_writer.h"

namespace thalia::python {

class BrainHandle {
 public:
  BrainHandle(std::unique_ptr<kernel::Brain> brain, kernel::RunOptions options);
  ~BrainHandle();

  // Runs whole epochs until the brain's tick reaches `until` (the last one shortened to end there).
  void RunUntil(kernel::Tick until);
  void StepEpochs(uint64_t epochs);

  // neurons, ticks and amounts have equal lengths (the Python layer broadcasts them).
  void InjectSpikes(uint32_t region, const std::vector<uint32_t>& neurons,
                    const std::vector<uint64_t>& ticks, const std::vector<float>& amounts);
  void SetCurrents(uint32_t region, const std::vector<uint32_t>& neurons,
                   const std::vector<uint64_t>& ticks, const std::vector<float>& amounts);
  void AddModulator(int modulator, float amount);
  // The spikes kept since the last call, as (tick, neuron) numpy arrays.
  pybind11::tuple TakeSpikes(uint32_t region);
  pybind11::tuple Counters(uint32_t region);
  uint64_t Digest();
  std::vector<uint64_t> RegionDigests();
  float ModulatorLevel(int modulator);
  pybind11::list Stats();
  pybind11::dict Spec() const;

  // Recording: at most one trace at a time.
  void StartRecording(const std::string& path);
  // Closes the trace (finished: renamed to its name) or, if !ok, abandons it (PATH.incomplete).
  std::string StopRecording(bool ok);
  bool recording() const { return trace_ != nullptr; }
  void SaveCheckpoint(const std::string& path);

  // Ends the workers; every later call that needs the brain raises ValueError.
  void Close();
  kernel::Tick tick() const;
  uint64_t epoch() const;
  std::string executor() const;
  bool keep_spikes() const { return options_.keep_spikes; }
  // True between an interrupt and the call that brings the brain back on new workers.
  bool parked() const { return parked_.has_value(); }
  bool closed() const { return brain_ == nullptr || stopped_; }
  // The checkpoint a resumed brain started from: a trace started before its first epoch names it.
  void set_resumed_from(recorder::CheckpointRef ref) { resumed_from_ = std::move(ref); }

 private:
  // Raises ValueError once the brain is closed, RuntimeError once it has stopped or while another
  // Python thread is inside a call that released the GIL (one thread drives a brain).
  // A parked brain is resumed here, on new workers.
  kernel::Brain& Live();
  // Interrupted: keeps the state, spikes and counters in memory and ends the workers.
  void Park();
  void Unpark();
  // After each epoch: raises KeyboardInterrupt (or whatever a signal handler raised). A brain
  // with worker processes ends them first, so no worker outlives the interrupted call.
  void CheckSignals();
  void CheckRun(const Status& status);

  // Marks the brain busy for the lifetime of a call that releases the GIL.
  class Busy {
   public:
    explicit Busy(BrainHandle* h) : h_(h) { h_->busy_ = true; }
    ~Busy() { h_->busy_ = false; }
    Busy(const Busy&) = delete;
    Busy& operator=(const Busy&) = delete;

   private:
    BrainHandle* h_;
  };

  std::unique_ptr<kernel::Brain> brain_;
  std::unique_ptr<recorder::TraceWriter> trace_;
  kernel::RunOptions options_;  // how to start workers again after Park
  bool busy_ = false;        // a call has released the GIL and runs the brain (see Busy)
  bool stopped_ = false;     // workers ended by an interrupt or a failed run
  std::string stopped_why_;
  recorder::CheckpointRef resumed_from_;
  std::optional<recorder::Checkpoint> parked_;
  std::vector<std::vector<kernel::Spike>> parked_spikes_;  // kept spikes not yet taken, by region
  std::vector<kernel::RegionCounters> counter_base_;      // counts of the brains before the last Park
};

// Registers thalia._thalia.Brain, create_brain and resume_brain.
void BindBrain(pybind11::module_& m);

}  // namespace thalia::python
