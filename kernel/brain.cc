// The epoch loop. One epoch, in order: (1) assemble EpochBegin (inbound spikes routed from the
// previous epoch, external inputs and modulator events due in the epoch); (2) the executor runs
// every region through [t0, t1); (3) route the outbound spikes to their targets (they land in a
// later epoch); (4) advance the modulator state; (5) observers (recording) see the epoch.
#include "kernel/brain.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <new>

#include "kernel/digest.h"
#include "kernel/registry.h"

namespace thalia::kernel {

Brain::Brain(std::shared_ptr<const BrainSpec> spec, RunOptions options)
    : spec_(std::move(spec)), options_(std::move(options)), modulator_model_(*spec_) {}

Brain::~Brain() { (void)Shutdown(); }

Result<std::unique_ptr<Brain>> Brain::Create(std::shared_ptr<const BrainSpec> spec,
                                             RunOptions options) {
  std::unique_ptr<Brain> b(new Brain(std::move(spec), std::move(options)));
  THALIA_RETURN_IF_ERROR(b->Init(nullptr));
  return b;
}

Result<std::unique_ptr<Brain>> Brain::Restore(std::shared_ptr<const BrainSpec> spec,
                                              const BrainState& state, RunOptions options) {
  std::unique_ptr<Brain> b(new Brain(std::move(spec), std::move(options)));
  THALIA_RETURN_IF_ERROR(b->Init(&state));
  return b;
}

namespace {

// A profile that could never be written is said before the run, not after it.
Status CheckProfilePath(const std::string& path) {
  const std::filesystem::path folder = std::filesystem::path(path).parent_path();
  const std::string dir = folder.empty() ? "." : folder.string();
  if (::access(dir.c_str(), W_OK) != 0)
    return Status::Invalid("profile " + path + ": cannot write in folder " + dir + ": " + std::strerror(errno));
  if (std::filesystem::is_directory(path)) return Status::Invalid("profile " + path + " is a folder");
  return Status::Ok();
}

}  // namespace

Status Brain::Init(const BrainState* state) {
  const size_t n = spec_->regions.size();
  if (!options_.profile_path.empty()) {
    THALIA_RETURN_IF_ERROR(CheckProfilePath(options_.profile_path));
    profiler_ = std::make_unique<Profiler>(options_.profile_path, options_.profile_max_spans);
    std::vector<std::string> names;
    for (const RegionSpec& r : spec_->regions) names.push_back(r.name);
    profiler_->SetRegionNames(std::move(names));
    profiler_->DescribeProcess(0, "coordinator", static_cast<int>(::getpid()), 1);
  }
  auto exec = MakeExecutor(*spec_, options_);
  if (!exec.ok()) return exec.status();
  executor_ = std::move(exec).value();
  executor_->set_profiler(profiler_.get());
  executor_name_ = executor_->name();
  std::vector<std::unique_ptr<Region>> regions;
  if (executor_->WantsBuiltRegions()) {
    for (RegionId r = 0; r < n; ++r) {
      // A brain too large for this machine is a failed run with a reason, not an abort.
      try {
        regions.push_back(BuildRegion(*spec_, r));
      } catch (const std::bad_alloc&) {
        return Status::Error(ErrorKind::kInternal,
                             "not enough memory to build region '" + spec_->regions[r].name + "' (" +
                                 std::to_string(spec_->regions[r].size) + " neurons and its pathways)");
      }
    }
  }
  THALIA_RETURN_IF_ERROR(executor_->Start(spec_, std::move(regions)));
  epoch_ticks_ = spec_->epoch_ticks;
  if (const Tick limit = executor_->EpochLimit(); limit > 0) epoch_ticks_ = std::min(epoch_ticks_, limit);
  in_flight_.assign(n, {});
  external_.assign(n, {});
  kept_.assign(n, {});
  counters_.assign(n, {});
  last_digests_.assign(n, 0);
  begin_.inbound.assign(n, {});
  begin_.external.assign(n, {});
  begin_next_.inbound.assign(n, {});
  begin_next_.external.assign(n, {});
  mod_state_ = modulator_model_.Initial();
  router_ = SpikeRouter(*spec_);
  if (state) {
    if (state->regions.size() != n || state->in_flight.size() != n ||
        state->pending_external.size() != n)
      return Status::Invalid("checkpoint state has another number of regions than its configuration");
    THALIA_RETURN_IF_ERROR(executor_->LoadStates(state->regions));
    tick_ = state->tick;
    epoch_ = state->epoch;
    mod_state_ = state->modulators;
    api_events_ = state->pending_events;
    in_flight_ = state->in_flight;
    external_ = state->pending_external;
    while (next_config_event_ < spec_->events.size() &&
           spec_->events[next_config_event_].tick < tick_)
      ++next_config_event_;
    THALIA_RETURN_IF_ERROR(executor_->Digests(false, &last_digests_));
  }
  return Status::Ok();
}

Status Brain::RunUntil(Tick until) {
  if (executor_->CanPipeline() && !input_source_ && !failed_ && !shut_down_) return RunPipelined(until);
  while (tick_ < until) {
    THALIA_RETURN_IF_ERROR(RunEpoch(std::min(tick_ + epoch_ticks_, until)));
  }
  return Status::Ok();
}

Status Brain::StepEpochs(uint64_t n) {
  for (uint64_t i = 0; i < n; ++i) THALIA_RETURN_IF_ERROR(RunEpoch(tick_ + epoch_ticks_));
  return Status::Ok();
}

Status Brain::RunEpoch(Tick t1) {
  if (failed_ || shut_down_)
    return Status::Error(ErrorKind::kWorker, "the brain has stopped after an earlier failure");
  // --profile: one clock read per step of the epoch, none without it.
  const bool profile = profiler_ && profiler_->active();
  uint64_t mark = profile ? ProfileNow() : 0;
  EpochBegin& b = begin_;
  THALIA_RETURN_IF_ERROR(Assemble(epoch_, tick_, mod_state_, t1, &b));
  if (profile) {
    const uint64_t now = ProfileNow();
    profiler_->Add(SpanKind::kAssemble, epoch_, mark, now);
  }
  // (2) Run the regions.
  Status st = executor_->RunEpoch(b, &done_);
  if (!st.ok()) return Failed(st, b);
  if (profile) mark = ProfileNow();
  return Complete(b, profile, mark);
}

Status Brain::Failed(const Status& st, const EpochBegin& b) {
  failed_ = true;
  (void)executor_->Shutdown();
  return st.Context("epoch " + std::to_string(b.epoch) + " (ticks " + std::to_string(b.t0) + ".." +
                    std::to_string(b.t1) + ")");
}

Status Brain::RunPipelined(Tick until) {
  const bool profile = profiler_ && profiler_->active();
  // Where the next epoch to assemble starts: ahead of tick_, epoch_ and mod_state_, which the
  // completed epochs advance.
  uint64_t epoch = epoch_;
  Tick tick = tick_;
  ModulatorState mods = mod_state_;
  auto start = [&](EpochBegin* b) -> Status {
    const uint64_t mark = profile ? ProfileNow() : 0;
    THALIA_RETURN_IF_ERROR(Assemble(epoch, tick, mods, std::min(tick + epoch_ticks_, until), b));
    if (profile) profiler_->Add(SpanKind::kAssemble, epoch, mark, ProfileNow());
    for (const ModulatorEvent& e : b->events) modulator_model_.Apply(&mods, e);
    ++epoch;
    tick = b->t1;
    Status st = executor_->StartEpoch(*b);
    return st.ok() ? st : Failed(st, *b);
  };
  if (tick >= until) return Status::Ok();
  EpochBegin* current = &begin_;
  EpochBegin* next = &begin_next_;
  THALIA_RETURN_IF_ERROR(start(current));
  while (true) {
    const bool more = tick < until;
    if (more) THALIA_RETURN_IF_ERROR(start(next));
    Status st = executor_->FinishEpoch(&done_);
    if (!st.ok()) return Failed(st, *current);
    if (Status cs = Complete(*current, profile, profile ? ProfileNow() : 0); !cs.ok()) {
      if (!more) return cs;
      // The workers have run the next epoch already: this brain cannot go on from here.
      EpochDone ahead;
      (void)executor_->FinishEpoch(&ahead);
      failed_ = true;
      (void)executor_->Shutdown();
      return cs.Context("the brain has stopped (epoch " + std::to_string(next->epoch) + " had started)");
    }
    if (!more) return Status::Ok();
    std::swap(current, next);
  }
}

Status Brain::Assemble(uint64_t epoch, Tick t0, const ModulatorState& mods, Tick t1, EpochBegin* out) {
  // (1) Assemble EpochBegin.
  EpochBegin& b = *out;
  b.epoch = epoch;
  b.t0 = t0;
  b.t1 = t1;
  b.modulators = mods;
  b.events.clear();
  // Configured events and API events of this epoch, merged by tick (configured first on a tie).
  std::vector<ModulatorEvent> api_now, api_later;
  for (const ModulatorEvent& e : api_events_) (e.tick < t1 ? api_now : api_later).push_back(e);
  size_t ai = 0;
  while (true) {
    bool has_cfg = next_config_event_ < spec_->events.size() &&
                   spec_->events[next_config_event_].tick < t1;
    bool has_api = ai < api_now.size();
    if (!has_cfg && !has_api) break;
    if (has_cfg && (!has_api || spec_->events[next_config_event_].tick <= api_now[ai].tick)) {
      const ModulatorEventSpec& e = spec_->events[next_config_event_++];
      b.events.push_back({std::max(e.tick, t0), e.modulator, e.amount});
    } else {
      b.events.push_back(api_now[ai++]);
    }
  }
  api_events_ = std::move(api_later);
  for (size_t r = 0; r < in_flight_.size(); ++r) {
    b.inbound[r].swap(in_flight_[r]);
    in_flight_[r].clear();
    b.external[r].clear();
    auto& pending = external_[r];
    auto split = std::stable_partition(pending.begin(), pending.end(),
                                       [&](const ExternalInput& x) { return x.tick < t1; });
    b.external[r].assign(pending.begin(), split);
    pending.erase(pending.begin(), split);
    std::stable_sort(b.external[r].begin(), b.external[r].end(),
                     [](const ExternalInput& x, const ExternalInput& y) { return x.tick < y.tick; });
  }
  b.full_digest = options_.full_digest_every > 0 && (epoch + 1) % options_.full_digest_every == 0;
  b.want_spikes = options_.keep_spikes || !observers_.empty();
  if (input_source_) {
    THALIA_RETURN_IF_ERROR(input_source_->EpochInputs(&b));
    if (b.external.size() != in_flight_.size())
      return Status::Internal("epoch input source gave external input for another number of regions");
  }
  return Status::Ok();
}

Status Brain::Complete(const EpochBegin& b, bool profile, uint64_t mark) {
  auto span = [&](SpanKind kind) {
    if (!profile) return;
    const uint64_t now = ProfileNow();
    profiler_->Add(kind, epoch_, mark, now);
    mark = now;
  };
  // (3) Route (unless the workers did); keep what the API asked for.
  if (!executor_->RoutesSpikes()) router_.Route(done_, &in_flight_);
  for (size_t r = 0; r < done_.regions.size(); ++r) {
    const RegionResult& rr = done_.regions[r];
    counters_[r] = rr.counters;
    last_digests_[r] = rr.digest;
    if (options_.keep_spikes) kept_[r].insert(kept_[r].end(), rr.spikes.begin(), rr.spikes.end());
  }
  // (4) Modulators: the same events, applied the same way as the regions did.
  for (const ModulatorEvent& e : b.events) modulator_model_.Apply(&mod_state_, e);
  span(SpanKind::kRoute);
  const uint64_t ran = epoch_;
  tick_ = b.t1;
  ++epoch_;
  // (5) Observers.
  for (EpochObserver* o : observers_) {
    Status os = o->OnEpoch(b, done_);
    if (!os.ok()) return os;
  }
  if (profile && !observers_.empty()) profiler_->Add(SpanKind::kRecord, ran, mark, ProfileNow());
  return Status::Ok();
}

Status Brain::InjectSpike(RegionId region, NeuronId neuron, float amount, Tick at) {
  if (region >= spec_->regions.size() || neuron >= spec_->regions[region].size)
    return Status::Invalid("InjectSpike: no neuron " + std::to_string(neuron) + " in region " +
                           std::to_string(region));
  if (at < tick_) return Status::Invalid("InjectSpike: tick " + std::to_string(at) + " is in the past");
  if (!std::isfinite(amount)) return Status::Invalid("InjectSpike: amount must be a finite number");
  external_[region].push_back({at, neuron, amount, ExternalInput::kSpike});
  return Status::Ok();
}

Status Brain::SetCurrent(RegionId region, NeuronId neuron, float amount, Tick at) {
  if (region >= spec_->regions.size() || neuron >= spec_->regions[region].size)
    return Status::Invalid("SetCurrent: no neuron " + std::to_string(neuron) + " in region " +
                           std::to_string(region));
  if (at < tick_) return Status::Invalid("SetCurrent: tick " + std::to_string(at) + " is in the past");
  if (!std::isfinite(amount)) return Status::Invalid("SetCurrent: amount must be a finite number");
  external_[region].push_back({at, neuron, amount, ExternalInput::kCurrent});
  return Status::Ok();
}

Status Brain::AddModulator(int modulator, float amount) {
  if (modulator < 0 || modulator >= kNumModulators)
    return Status::Invalid("AddModulator: modulator must be 0, 1 or 2");
  // One NaN in a modulator would reach every region's plasticity and stay in the state for good.
  if (!std::isfinite(amount)) return Status::Invalid("AddModulator: amount must be a finite number");
  api_events_.push_back({tick_, modulator, amount});
  return Status::Ok();
}

float Brain::ModulatorLevel(int m) const { return modulator_model_.Level(mod_state_, m, tick_); }

std::vector<Spike> Brain::TakeSpikes(RegionId region) {
  std::vector<Spike> out;
  out.swap(kept_[region]);
  return out;
}

Status Brain::Flush() {
  bool any = false;
  for (const auto& v : in_flight_) any = any || !v.empty();
  if (!any && !executor_->HoldsSpikesInFlight()) return Status::Ok();
  if (failed_ || shut_down_)
    return Status::Error(ErrorKind::kWorker, "the brain has stopped after an earlier failure");
  // A zero-length epoch: regions schedule the spikes they were sent and advance no tick.
  EpochBegin& b = begin_;
  b.epoch = epoch_;
  b.t0 = b.t1 = tick_;
  b.modulators = mod_state_;
  b.events.clear();
  for (size_t r = 0; r < in_flight_.size(); ++r) {
    b.inbound[r].swap(in_flight_[r]);
    in_flight_[r].clear();
    b.external[r].clear();
  }
  b.full_digest = false;
  b.want_spikes = false;  // a zero-length epoch emits none
  Status st = executor_->RunEpoch(b, &done_);
  if (!st.ok()) {
    failed_ = true;
    (void)executor_->Shutdown();
    return st.Context("delivering spikes in flight at tick " + std::to_string(tick_));
  }
  return Status::Ok();
}

Result<std::vector<uint64_t>> Brain::RegionDigests() {
  THALIA_RETURN_IF_ERROR(Flush());
  std::vector<uint64_t> d;
  THALIA_RETURN_IF_ERROR(executor_->Digests(true, &d));
  return d;
}

Result<uint64_t> Brain::Digest() {
  auto d = RegionDigests();
  if (!d.ok()) return d.status();
  return CombineDigests(d.value());
}

void Brain::RemoveObserver(EpochObserver* o) {
  observers_.erase(std::remove(observers_.begin(), observers_.end(), o), observers_.end());
}

Result<BrainState> Brain::CaptureState() {
  THALIA_RETURN_IF_ERROR(Flush());
  BrainState s;
  s.tick = tick_;
  s.epoch = epoch_;
  s.modulators = mod_state_;
  s.pending_events = api_events_;
  s.in_flight = in_flight_;
  s.pending_external = external_;
  THALIA_RETURN_IF_ERROR(executor_->SaveStates(&s.regions));
  return s;
}

Status Brain::PerturbWeightForTest(RegionId region, float delta) {
  return executor_->PerturbWeightForTest(region, delta);
}

Status Brain::Shutdown() {
  if (shut_down_ || !executor_) return Status::Ok();
  shut_down_ = true;
  Status st = executor_->Shutdown();
  Status ps = WriteProfile(failed_ ? "failed" : "shut down");
  return st.ok() ? ps : st;
}

Status Brain::WriteProfile(const std::string& outcome) {
  if (!profiler_ || profile_written_) return Status::Ok();
  profile_written_ = true;
  profiler_->SetOutcome(outcome);
  return profiler_->Write().Context("--profile");
}

}  // namespace thalia::kernel
