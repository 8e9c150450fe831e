// Probes read state through the region's own VisitState walk (no access to its internals), so any
// region type that visits its state can be probed, and probing adds nothing to an unprobed run.
#include "replay/probe.h"

#include <algorithm>
#include <charconv>
#include <map>

#include "kernel/population_region.h"

namespace thalia::replay {
namespace {

// The most elements one probe may name (a range like 0-4000000000 is a typo, not a request).
constexpr size_t kMaxProbeIndices = size_t{1} << 20;

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    size_t p = s.find(sep, start);
    parts.push_back(s.substr(start, p == std::string_view::npos ? std::string_view::npos : p - start));
    if (p == std::string_view::npos) return parts;
    start = p + 1;
  }
}

bool ParseIndex(std::string_view s, uint32_t* out) {
  if (s.empty()) return false;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && end == s.data() + s.size();
}

Status ParseNeurons(std::string_view list, const kernel::RegionSpec& region, const std::string& where,
                    std::vector<uint32_t>* out) {
  for (std::string_view item : Split(list, ',')) {
    uint32_t a = 0, b = 0;
    const size_t dash = item.find('-');
    if (int pop = region.PopulationIndex(std::string(item)); pop >= 0) {
      a = region.populations[pop].offset;
      b = a + region.populations[pop].size - 1;
      if (region.populations[pop].size == 0) continue;
    } else if (dash != std::string_view::npos && ParseIndex(item.substr(0, dash), &a) &&
               ParseIndex(item.substr(dash + 1), &b)) {
      if (b < a) return Status::Invalid(where + ": range '" + std::string(item) + "' ends before it starts");
    } else if (ParseIndex(item, &a)) {
      b = a;
    } else {
      std::string pops;
      for (const kernel::PopulationSpec& p : region.populations) pops += (pops.empty() ? "" : ", ") + p.name;
      return Status::Invalid(where + ": '" + std::string(item) +
                             "' is not a neuron (17), a range (0-99) or a population of " + region.name +
                             " (" + pops + ")");
    }
    if (out->size() + (uint64_t{b} - a + 1) > kMaxProbeIndices)
      return Status::Invalid(where + ": more than " + std::to_string(kMaxProbeIndices) + " neurons");
    for (uint64_t i = a; i <= b; ++i) out->push_back(static_cast<uint32_t>(i));
  }
  std::sort(out->begin(), out->end());
  out->erase(std::unique(out->begin(), out->end()), out->end());
  return Status::Ok();
}

// Collects the shape of every array a region visits.
class ShapeVisitor final : public kernel::StateVisitor {
 public:
  void F32(std::string_view name, std::span<float> data, bool heavy) override {
    arrays.push_back({std::string(name), StateArray::kF32, data.size(), heavy});
  }
  void I32(std::string_view name, std::span<int32_t> data) override {
    arrays.push_back({std::string(name), StateArray::kI32, data.size(), false});
  }
  void U64(std::string_view name, std::vector<uint64_t>& data) override {
    arrays.push_back({std::string(name), StateArray::kU64, data.size(), false});
  }
  std::vector<StateArray> arrays;
};

// Copies the requested elements of the requested arrays.
class SampleVisitor final : public kernel::StateVisitor {
 public:
  using Take = std::function<void(std::string_view, std::span<const float>, std::span<const int32_t>)>;
  SampleVisitor(bool heavy, Take take)
      : heavy_(heavy), take_(std::move(take)) {}
  bool wants_heavy() const override { return heavy_; }
  void F32(std::string_view name, std::span<float> data, bool) override { take_(name, data, {}); }
  void I32(std::string_view name, std::span<int32_t> data) override { take_(name, {}, data); }
  void U64(std::string_view, std::vector<uint64_t>&) override {}

 private:
  bool heavy_;
  Take take_;
};

// w_in: the synapses of a neuron (PlasticInputs) with their series names, and which of them a
// "w_in" or "w_in.SOURCE" variable keeps.
constexpr std::string_view kWeightsIn = "w_in";

struct NamedInput {
  kernel::PopulationRegion::PlasticInput input;
  std::string name;
};

std::vector<NamedInput> NamedInputs(const kernel::PopulationRegion& pop, kernel::NeuronId n,
                                    const kernel::BrainSpec& brain) {
  std::vector<NamedInput> out;
  std::map<std::pair<kernel::RegionId, kernel::NeuronId>, int> seen;
  for (const kernel::PopulationRegion::PlasticInput& in : pop.PlasticInputs(n)) {
    const int k = ++seen[{in.pathway->from_region, in.source}];
    out.push_back({in, std::string(kWeightsIn) + "[src=" + brain.regions[in.pathway->from_region].name + ":" +
                           std::to_string(in.source) + (k > 1 ? "#" + std::to_string(k) : "") + "]"});
  }
  return out;
}

// The SOURCE of "w_in.SOURCE" ("" for "w_in").
std::string_view WeightsFilter(std::string_view var) {
  return var.size() > kWeightsIn.size() ? var.substr(kWeightsIn.size() + 1) : std::string_view();
}

bool FromSource(const kernel::PathwaySpec& p, std::string_view filter, const kernel::BrainSpec& brain) {
  if (filter.empty()) return true;
  const kernel::RegionSpec& from = brain.regions[p.from_region];
  return filter == from.name || filter == from.name + "." + from.populations[p.from_pop].name;
}

std::string NeuronRange(const kernel::PopulationSpec& pop) {
  if (pop.size <= 1) return std::to_string(pop.offset);
  return std::to_string(pop.offset) + "-" + std::to_string(pop.offset + pop.size - 1);
}

Status CheckWeightsIn(const ProbeSpec& probe, std::string_view var, kernel::Region& region,
                      const kernel::BrainSpec& brain) {
  const std::string where = "--probe " + probe.text + ": ";
  const kernel::RegionSpec& rs = region.spec();
  const auto* pop = dynamic_cast<const kernel::PopulationRegion*>(&region);
  if (!pop)
    return Status::Invalid(where + std::string(var) + " needs a region of the population engine; region " + rs.name +
                           " (type " + rs.type + ") does not list its synapses");
  const std::vector<const kernel::PathwaySpec*> all = pop->PlasticPathways();
  if (all.empty())
    return Status::Invalid(where + "region " + rs.name + " has no plastic pathway, so no " + std::string(kWeightsIn) +
                           " (a pathway is plastic with \"plasticity\": \"Stdp\" or \"DopamineStdp\")");
  const std::string_view filter = WeightsFilter(var);
  std::vector<const kernel::PathwaySpec*> kept;
  std::string names;
  for (const kernel::PathwaySpec* p : all) {
    if (FromSource(*p, filter, brain)) kept.push_back(p);
    names += (names.empty() ? "" : ", ") + p->name + " (onto " + rs.populations[p->to_pop].name + ", " +
             NeuronRange(rs.populations[p->to_pop]) + ")";
  }
  if (kept.empty())
    return Status::Invalid(where + "no plastic pathway from '" + std::string(filter) + "' into " + rs.name +
                           " (plastic pathways: " + names + ")");
  for (uint32_t n : probe.indices) {
    if (n >= rs.size)
      return Status::Invalid(where + "neuron " + std::to_string(n) + " is out of range: region " + rs.name + " has " +
                             std::to_string(rs.size) + " neurons");
    const bool reached = std::any_of(kept.begin(), kept.end(), [&](const kernel::PathwaySpec* p) {
      const kernel::PopulationSpec& to = rs.populations[p->to_pop];
      return n >= to.offset && n < to.offset + to.size;
    });
    if (reached) continue;
    std::string in_pop;
    for (const kernel::PopulationSpec& ps : rs.populations)
      if (n >= ps.offset && n < ps.offset + ps.size) in_pop = " (" + rs.name + "." + ps.name + ")";
    return Status::Invalid(where + "neuron " + std::to_string(n) + in_pop + " receives no plastic pathway" +
                           (filter.empty() ? "" : " from " + std::string(filter)) + "; plastic pathways into " +
                           rs.name + ": " + names);
  }
  return Status::Ok();
}

}  // namespace

bool IsWeightsIn(std::string_view var) {
  return var == kWeightsIn || (var.size() > kWeightsIn.size() + 1 && var.starts_with(kWeightsIn) &&
                               var[kWeightsIn.size()] == '.');
}

std::vector<std::string> DescribeWeightsIn(kernel::Region& region, const kernel::BrainSpec& brain) {
  std::vector<std::string> lines;
  const auto* pop = dynamic_cast<const kernel::PopulationRegion*>(&region);
  if (!pop) return lines;
  const kernel::RegionSpec& rs = region.spec();
  for (const kernel::PathwaySpec* p : pop->PlasticPathways()) {
    const kernel::RegionSpec& from = brain.regions[p->from_region];
    const kernel::PopulationSpec& to = rs.populations[p->to_pop];
    std::string line = from.name + "." + from.populations[p->from_pop].name + " -> " + to.name + " (" +
                       NeuronRange(to) + "), " + (p->plasticity == kernel::Plasticity::Stdp ? "STDP" : "dopamine STDP");
    if (p->indegree > 0) line += ", " + std::to_string(p->indegree) + " synapses per neuron";
    lines.push_back(std::move(line));
  }
  return lines;
}

Result<ProbeSpec> ParseProbe(std::string_view text, const kernel::BrainSpec& spec) {
  const std::string where = "--probe " + std::string(text);
  const std::vector<std::string_view> parts = Split(text, ':');
  if (parts.size() != 3 || parts[0].empty() || parts[1].empty() || parts[2].empty())
    return Status::Invalid(where + ": expected REGION:NEURONS:VARS, e.g. cortex:0-9:v,syn_e");
  ProbeSpec p;
  p.text = std::string(text);
  p.region = std::string(parts[0]);
  const int r = spec.RegionIndex(p.region);
  if (r < 0) {
    std::string names;
    for (const kernel::RegionSpec& region : spec.regions) names += (names.empty() ? "" : ", ") + region.name;
    return Status::Invalid(where + ": no region '" + p.region + "' in the trace's configuration (regions: " +
                           names + ")");
  }
  p.region_id = static_cast<kernel::RegionId>(r);
  THALIA_RETURN_IF_ERROR(ParseNeurons(parts[1], spec.regions[r], where, &p.indices));
  for (std::string_view var : Split(parts[2], ',')) {
    if (var.empty()) return Status::Invalid(where + ": empty variable name in '" + std::string(parts[2]) + "'");
    if (std::find(p.vars.begin(), p.vars.end(), var) == p.vars.end()) p.vars.emplace_back(var);
  }
  return p;
}

std::vector<StateArray> StateArrays(kernel::Region& region) {
  ShapeVisitor v;
  region.VisitState(v);
  return std::move(v.arrays);
}

std::string DescribeStateArray(std::string_view name) {
  static const std::pair<std::string_view, std::string_view> kKnown[] = {
      {"v", "membrane potential (mV), per neuron"},
      {"syn_e", "excitatory synaptic variable: conductance or current, per neuron"},
      {"syn_i", "inhibitory synaptic variable: conductance or current, per neuron"},
      {"adaptation", "adaptation current (mV), per neuron"},
      {"i_ext", "external input current set through the API (mV), per neuron"},
      {"refractory", "refractory ticks left, per neuron"},
      {"arrivals", "pending spike arrivals in the delay queue (not probe-able)"},
      {"scalars", "tick and counters (not probe-able)"},
  };
  for (const auto& [n, d] : kKnown)
    if (name == n) return std::string(d);
  auto ends = [&](std::string_view suffix) {
    return name.size() > suffix.size() && name.substr(name.size() - suffix.size()) == suffix;
  };
  if (ends(".post_trace")) return "STDP trace of each target neuron of plastic pathway N (by target)";
  if (ends(".pre_trace")) return "STDP trace of each source neuron of synapse group N (by source)";
  if (ends(".weight")) return "weight of each synapse of group N (one pathway, one delay; by source)";
  return "";
}

Status CheckProbeVars(const ProbeSpec& probe, kernel::Region& region, const kernel::BrainSpec& brain) {
  const std::vector<StateArray> arrays = StateArrays(region);
  const size_t neurons = region.spec().size;
  for (const std::string& var : probe.vars) {
    if (IsWeightsIn(var)) {
      THALIA_RETURN_IF_ERROR(CheckWeightsIn(probe, var, region, brain));
      continue;
    }
    auto it = std::find_if(arrays.begin(), arrays.end(), [&](const StateArray& a) { return a.name == var; });
    if (it == arrays.end() || it->kind == StateArray::kU64) {
      std::string names;
      for (const StateArray& a : arrays)
        if (a.kind != StateArray::kU64) names += (names.empty() ? "" : ", ") + a.name;
      return Status::Invalid("--probe " + probe.region + ": " +
                             (it == arrays.end() ? "no variable '" + var + "'" : "'" + var + "' cannot be probed") +
                             " in region " + probe.region + " (variables: " + names + ", " +
                             std::string(kWeightsIn) + "; see thalia regions --vars)");
    }
    if (!probe.indices.empty() && probe.indices.back() >= it->size) {
      const bool per_neuron = it->size == neurons;
      return Status::Invalid("--probe " + probe.region + ": " + (per_neuron ? "neuron " : "element ") +
                             std::to_string(probe.indices.back()) + " is out of range: " +
                             (per_neuron ? "region " + probe.region + " has " : var + " has ") +
                             std::to_string(it->size) + (per_neuron ? " neurons" : " elements") +
                             (it->size ? " (0-" + std::to_string(it->size - 1) + ")" : ""));
    }
  }
  return Status::Ok();
}

const ProbeSeries* ProbeData::Find(std::string_view region, std::string_view var, uint32_t index) const {
  for (const ProbeSeries& s : series)
    if (s.region == region && s.var == var && s.index == index) return &s;
  return nullptr;
}

RegionProbe::RegionProbe(const std::vector<const ProbeSpec*>& probes, kernel::Region& region,
                         const kernel::BrainSpec& brain, ProbeData* data)
    : data_(data) {
  std::map<kernel::NeuronId, std::vector<std::string_view>> weight_filters;  // w_in: neuron -> filters
  for (const ProbeSpec* p : probes) {
    for (const std::string& var : p->vars) {
      if (IsWeightsIn(var)) {
        for (uint32_t n : p->indices) weight_filters[n].push_back(WeightsFilter(var));
        continue;
      }
      auto it = std::find_if(wants_.begin(), wants_.end(), [&](const Want& w) { return w.var == var; });
      if (it == wants_.end()) it = wants_.insert(wants_.end(), Want{var, {}, 0});
      it->indices.insert(it->indices.end(), p->indices.begin(), p->indices.end());
    }
  }
  const std::string& name = probes.front()->region;
  std::vector<kernel::NeuronId> neurons;
  for (Want& w : wants_) {
    std::sort(w.indices.begin(), w.indices.end());
    w.indices.erase(std::unique(w.indices.begin(), w.indices.end()), w.indices.end());
    w.first_series = data_->series.size();
    heavy_ = heavy_ || w.var.ends_with(".weight");
    for (uint32_t i : w.indices) data_->series.push_back({name, w.var, i, true, {}, {}});
  }
  // w_in after the arrays: neuron by neuron, each synapse kept by one of the neuron's filters.
  const auto* pop = dynamic_cast<const kernel::PopulationRegion*>(&region);
  for (const auto& [n, filters] : weight_filters) {
    THALIA_CHECK_MSG(pop != nullptr, "w_in on a region CheckProbeVars refused");
    const std::vector<NamedInput> inputs = NamedInputs(*pop, n, brain);
    WeightsOf w{n, {}};
    for (size_t i = 0; i < inputs.size(); ++i) {
      const kernel::PathwaySpec& path = *inputs[i].input.pathway;
      if (std::none_of(filters.begin(), filters.end(), [&](std::string_view f) { return FromSource(path, f, brain); }))
        continue;
      w.synapses.push_back({i, data_->series.size()});
      data_->series.push_back({name, inputs[i].name, n, true, {},
                               {path.name, brain.regions[path.from_region].name, inputs[i].input.source,
                                inputs[i].input.delay}});
    }
    weights_.push_back(std::move(w));
  }
  for (const ProbeSpec* p : probes) neurons.insert(neurons.end(), p->indices.begin(), p->indices.end());
  std::sort(neurons.begin(), neurons.end());
  neurons.erase(std::unique(neurons.begin(), neurons.end()), neurons.end());
  for (kernel::NeuronId n : neurons) {
    spike_slots_.push_back({n, data_->spikes.size()});
    data_->spikes.push_back({name, n, {}});
  }
}

void RegionProbe::Sample(kernel::Region& region) {
  if (!weights_.empty()) SampleWeights(region);
  if (wants_.empty()) return;
  const size_t neurons = region.spec().size;
  SampleVisitor v(heavy_, [&](std::string_view name, std::span<const float> f, std::span<const int32_t> i) {
    for (const Want& w : wants_) {
      if (w.var != name) continue;
      const size_t size = f.empty() ? i.size() : f.size();
      for (size_t k = 0; k < w.indices.size(); ++k) {
        ProbeSeries& s = data_->series[w.first_series + k];
        s.per_neuron = size == neurons;
        s.values.push_back(f.empty() ? static_cast<double>(i[w.indices[k]]) : static_cast<double>(f[w.indices[k]]));
      }
      return;
    }
  });
  region.VisitState(v);
}

void RegionProbe::SampleWeights(kernel::Region& region) {
  const auto& pop = dynamic_cast<const kernel::PopulationRegion&>(region);
  for (const WeightsOf& w : weights_) {
    // Looked up at every sample rather than kept: an address stays valid only while the region
    // is not re-split, which this class cannot see.
    const std::vector<kernel::PopulationRegion::PlasticInput> inputs = pop.PlasticInputs(w.neuron);
    for (const auto& [position, series] : w.synapses) {
      THALIA_CHECK_MSG(position < inputs.size(), "a neuron's plastic synapses changed during a probe");
      data_->series[series].values.push_back(static_cast<double>(*inputs[position].weight));
    }
  }
}

void RegionProbe::NoteSpikes(std::span<const kernel::Spike> spikes) {
  for (const kernel::Spike& s : spikes) {
    auto it = std::lower_bound(spike_slots_.begin(), spike_slots_.end(), s.neuron,
                               [](const auto& slot, kernel::NeuronId n) { return slot.first < n; });
    if (it != spike_slots_.end() && it->first == s.neuron) data_->spikes[it->second].ticks.push_back(s.tick);
  }
}

void AdvanceTickByTick(kernel::Region& region, const kernel::ModulatorModel& modulators,
                       const kernel::EpochContext& ctx, std::span<const kernel::InSpike> inbound,
                       std::span<const kernel::ExternalInput> external, std::vector<kernel::Spike>* out,
                       const std::function<void(kernel::Tick)>& after_tick) {
  kernel::ModulatorState m = ctx.modulators;
  size_t ev = 0, ext = 0;
  for (kernel::Tick t = ctx.t0; t < ctx.t1; ++t) {
    size_t ev_end = ev, ext_end = ext;
    while (ev_end < ctx.events.size() && ctx.events[ev_end].tick <= t) ++ev_end;
    while (ext_end < external.size() && external[ext_end].tick <= t) ++ext_end;
    const kernel::EpochContext one{ctx.epoch, t, t + 1, m, ctx.events.subspan(ev, ev_end - ev)};
    region.Advance(one, t == ctx.t0 ? inbound : std::span<const kernel::InSpike>(),
                   external.subspan(ext, ext_end - ext), out);
    // The region applied these events at their tick to its own copy; the next tick starts there.
    for (; ev < ev_end; ++ev) modulators.Apply(&m, ctx.events[ev]);
    ext = ext_end;
    after_tick(t);
  }
}

}  // namespace thalia::replay
