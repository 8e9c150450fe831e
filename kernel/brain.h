// Brain: the coordinator and the C++ API a training script drives. One epoch loop serves every
// executor: build from a configuration, run_until / step_epochs, inject input, set modulators,
// read spikes, counters and digests, capture and restore the complete state.
// Thread-compatible: one thread drives a Brain.
// Public API: installed with libthalia (thalia/meson.build lists the installed headers).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "kernel/epoch.h"
#include "kernel/executor.h"
#include "kernel/routing.h"
#include "kernel/spec.h"
#include "kernel/status.h"

namespace thalia::kernel {

// Sees every epoch after it ran, in order (the trace writer is one). Returning an error stops the run.
class EpochObserver {
 public:
  virtual ~EpochObserver() = default;
  virtual Status OnEpoch(const EpochBegin& begin, const EpochDone& done) = 0;
};

// Replay: supplies each epoch's modulator events (ticks in [t0, t1), in order), external inputs
// (one list per region, by tick) and full_digest flag in place of the configured events, API
// events and injected input, so a replayed epoch gets exactly what the recorded one got.
// `begin` arrives with epoch, t0, t1 and the computed inputs; the source overwrites the inputs.
class EpochInputSource {
 public:
  virtual ~EpochInputSource() = default;
  virtual Status EpochInputs(EpochBegin* begin) = 0;
};

// Everything a checkpoint must hold besides the configuration.
struct BrainState {
  Tick tick = 0;
  uint64_t epoch = 0;
  ModulatorState modulators;
  std::vector<ModulatorEvent> pending_events;               // API events not yet applied
  std::vector<std::vector<InSpike>> in_flight;              // per target region
  std::vector<std::vector<ExternalInput>> pending_external; // per region
  std::vector<std::vector<uint8_t>> regions;                // RegionState buffers
};

class Brain {
 public:
  static Result<std::unique_ptr<Brain>> Create(std::shared_ptr<const BrainSpec> spec,
                                               RunOptions options = {});
  // Builds a brain and loads a captured state into it (resume).
  static Result<std::unique_ptr<Brain>> Restore(std::shared_ptr<const BrainSpec> spec,
                                                const BrainState& state, RunOptions options = {});
  ~Brain();
  Brain(const Brain&) = delete;
  Brain& operator=(const Brain&) = delete;

  // Runs whole epochs until tick() >= until (the last epoch is shortened to end exactly there).
  Status RunUntil(Tick until);
  Status StepEpochs(uint64_t n);
  // The epoch length: the configuration's (spec().epoch_ticks), or shorter where the executor
  // needs it (a region split over processes: its smallest internal delay). Results do not depend
  // on it.
  Tick epoch_ticks() const { return epoch_ticks_; }

  // Input from outside, applied at tick `at` (>= tick()). amount > 0 excites, < 0 inhibits.
  Status InjectSpike(RegionId region, NeuronId neuron, float amount, Tick at);
  // Sets a constant input current (mV) on a neuron from tick `at` on.
  Status SetCurrent(RegionId region, NeuronId neuron, float amount, Tick at);
  // Adds `amount` to a modulator (0 dopamine, 1 acetylcholine, 2 noradrenaline) at tick().
  Status AddModulator(int modulator, float amount);
  Status Reward(float amount) { return AddModulator(0, amount); }

  Tick tick() const { return tick_; }
  uint64_t epoch() const { return epoch_; }
  const BrainSpec& spec() const { return *spec_; }
  std::shared_ptr<const BrainSpec> spec_ptr() const { return spec_; }
  const ModulatorState& modulators() const { return mod_state_; }
  float ModulatorLevel(int modulator) const;
  const std::string& executor_name() const { return executor_name_; }

  // Spikes kept since the last call (only with RunOptions::keep_spikes).
  std::vector<Spike> TakeSpikes(RegionId region);
  const RegionCounters& counters(RegionId region) const { return counters_[region]; }
  // Digests of the last epoch (the light, per-epoch ones).
  const std::vector<uint64_t>& epoch_digests() const { return last_digests_; }
  // Full digest of every region now, and the combined digest `thalia run` prints (both flush
  // spikes in flight first, see Flush; so does CaptureState).
  Result<std::vector<uint64_t>> RegionDigests();
  Result<uint64_t> Digest();

  void AddObserver(EpochObserver* observer) { observers_.push_back(observer); }
  void RemoveObserver(EpochObserver* observer);
  // Replay only (see EpochInputSource); null restores the normal inputs. Not owned.
  void SetInputSource(EpochInputSource* source) { input_source_ = source; }
  Result<BrainState> CaptureState();
  std::vector<WorkerStats> Stats() const { return executor_->Stats(); }
  Status PerturbWeightForTest(RegionId region, float delta);
  // Ends workers, then writes the profile (RunOptions::profile_path) if not yet written; further
  // calls fail. Also done by the destructor.
  Status Shutdown();
  // --profile: the timeline so far (null without RunOptions::profile_path), for callers that add
  // their own spans (checkpoints) or report on it.
  Profiler* profiler() { return profiler_.get(); }
  // Writes the profile now, once: `outcome` ("complete", or why the run stopped) goes into the
  // file. Later calls, and Shutdown after it, do nothing.
  Status WriteProfile(const std::string& outcome);

 private:
  Brain(std::shared_ptr<const BrainSpec> spec, RunOptions options);
  Status Init(const BrainState* state);
  Status RunEpoch(Tick t1);
  // The steps of an epoch: (1) Assemble the EpochBegin of epoch `epoch` [t0, t1) whose
  // modulator state at t0 is `mods`; (3)-(5) Complete it once the executor has run it (done_).
  Status Assemble(uint64_t epoch, Tick t0, const ModulatorState& mods, Tick t1, EpochBegin* b);
  Status Complete(const EpochBegin& b, bool profile, uint64_t mark);
  // RunUntil with an executor that pipelines: epoch e + 1 is started before e is completed.
  Status RunPipelined(Tick until);
  Status Failed(const Status& st, const EpochBegin& b);
  // Hands the spikes in flight at the coordinator to their target regions (a zero-length epoch,
  // t0 == t1, not seen by observers). Where a spike waits for its arrival tick - at the
  // coordinator or in the target's delay queue - depends on where epochs were cut; after a flush
  // it is always in the queue, so digests and checkpoints do not depend on epoch boundaries.
  Status Flush();

  std::shared_ptr<const BrainSpec> spec_;
  RunOptions options_;
  Tick epoch_ticks_ = 1;
  std::unique_ptr<Profiler> profiler_;  // before executor_: outlives it
  bool profile_written_ = false;
  std::unique_ptr<Executor> executor_;
  std::string executor_name_;
  ModulatorModel modulator_model_;
  ModulatorState mod_state_;
  std::vector<ModulatorEvent> api_events_;
  size_t next_config_event_ = 0;
  Tick tick_ = 0;
  uint64_t epoch_ = 0;
  SpikeRouter router_;
  EpochInputSource* input_source_ = nullptr;
  std::vector<std::vector<InSpike>> in_flight_;        // by target region
  std::vector<std::vector<ExternalInput>> external_;   // by region, pending
  std::vector<std::vector<Spike>> kept_;
  std::vector<RegionCounters> counters_;
  std::vector<uint64_t> last_digests_;
  std::vector<EpochObserver*> observers_;
  EpochBegin begin_, begin_next_;  // reused buffers (the next: the epoch started ahead)
  EpochDone done_;
  bool failed_ = false;
  bool shut_down_ = false;
};

}  // namespace thalia::kernel
