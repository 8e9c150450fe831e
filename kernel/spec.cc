// Configuration parsing (JSON checked against the embedded schema) and resolution into a
// BrainSpec. Every error names the file, the place in it and what was expected.
#include "kernel/spec.h"

#include <flatbuffers/idl.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "kernel/registry.h"
#include "schemas/schema_text.h"

namespace thalia::kernel {
namespace {

// Accumulates the location ("regions[2].pathways[0]") of what is being checked.
struct Where {
  std::string file;
  std::string path;
  Status Bad(const std::string& field, const std::string& expected) const {
    return Status::Invalid(file + ": " + path + (path.empty() ? "" : ".") + field + ": expected " +
                           expected);
  }
};

std::string Str(const flatbuffers::String* s) { return s ? s->str() : std::string(); }

NeuronSpec ToNeuron(const schema::NeuronParams* n) {
  NeuronSpec s;
  if (!n) return s;
  s.synapse = n->synapse();
  s.tau_m_ms = n->tau_m_ms();
  s.v_rest = n->v_rest();
  s.v_reset = n->v_reset();
  s.v_thresh = n->v_thresh();
  s.v_init = n->v_init().has_value() ? *n->v_init() : n->v_rest();
  s.v_init_jitter = n->v_init_jitter();
  s.refractory_ms = n->refractory_ms();
  s.tau_e_ms = n->tau_e_ms();
  s.tau_i_ms = n->tau_i_ms();
  s.e_exc = n->e_exc();
  s.e_inh = n->e_inh();
  s.bias = n->bias();
  s.adapt_b = n->adapt_b();
  s.tau_w_ms = n->tau_w_ms();
  s.modulator_gain = {n->dopamine_gain(), n->acetylcholine_gain(), n->noradrenaline_gain()};
  s.theta_gain = n->theta_gain();
  s.syn_e_init = n->syn_e_init();
  s.syn_e_init_jitter = n->syn_e_init_jitter();
  s.syn_i_init = n->syn_i_init();
  s.syn_i_init_jitter = n->syn_i_init_jitter();
  return s;
}

Status CheckNeuron(const NeuronSpec& n, double dt_ms, const Where& w) {
  auto positive = [&](float v, const char* name) -> Status {
    if (!(v > 0) || !std::isfinite(v)) return w.Bad(name, "a positive number of ms");
    return Status::Ok();
  };
  THALIA_RETURN_IF_ERROR(positive(n.tau_m_ms, "neuron.tau_m_ms"));
  THALIA_RETURN_IF_ERROR(positive(n.tau_e_ms, "neuron.tau_e_ms"));
  THALIA_RETURN_IF_ERROR(positive(n.tau_i_ms, "neuron.tau_i_ms"));
  THALIA_RETURN_IF_ERROR(positive(n.tau_w_ms, "neuron.tau_w_ms"));
  // The refractory countdown is a 32-bit integer of ticks.
  if (!(n.refractory_ms >= 0) || MsToTicks(n.refractory_ms, dt_ms) >= (Tick{1} << 30))
    return w.Bad("neuron.refractory_ms", "a duration >= 0 ms, under 2^30 ticks");
  if (!(n.v_thresh > n.v_reset)) return w.Bad("neuron.v_thresh", "a threshold above v_reset");
  for (float v : {n.v_rest, n.v_reset, n.v_init, n.v_init_jitter, n.bias, n.adapt_b, n.e_exc,
                  n.e_inh, n.theta_gain, n.syn_e_init, n.syn_e_init_jitter, n.syn_i_init,
                  n.syn_i_init_jitter})
    if (!std::isfinite(v)) return w.Bad("neuron", "finite numbers");
  return Status::Ok();
}

PathwaySpec ToPathway(const schema::Pathway* p) {
  PathwaySpec s;
  s.p = p->p();
  s.indegree = p->indegree();
  s.weight = p->weight();
  s.weight_jitter = p->weight_jitter();
  s.delay_ms = p->delay_ms();
  s.delay_jitter_ms = p->delay_jitter_ms();
  s.autapses = p->autapses();
  s.plasticity = p->plasticity();
  s.a_plus = p->a_plus();
  s.a_minus = p->a_minus();
  s.tau_plus_ms = p->tau_plus_ms();
  s.tau_minus_ms = p->tau_minus_ms();
  s.w_min = p->w_min();
  s.w_max = p->w_max();
  s.theta_gating = p->theta_gating();
  return s;
}

Status CheckPathway(const PathwaySpec& p, double dt_ms, const Where& w) {
  if (!(p.p >= 0 && p.p <= 1)) return w.Bad("p", "a probability in [0, 1]");
  if (!(p.weight >= 0) || !std::isfinite(p.weight))
    return w.Bad("weight", "a magnitude >= 0 (the sign comes from the source population)");
  if (!(p.weight_jitter >= 0 && p.weight_jitter <= 1)) return w.Bad("weight_jitter", "0..1");
  if (!(p.delay_ms >= 0) || !std::isfinite(p.delay_ms)) return w.Bad("delay_ms", "a delay >= 0 ms");
  if (!(p.delay_jitter_ms >= 0) || p.delay_jitter_ms > p.delay_ms)
    return w.Bad("delay_jitter_ms", "a jitter between 0 and delay_ms");
  if (MsToTicks(p.delay_ms, dt_ms) > 65535) return w.Bad("delay_ms", "a delay below 65535 ticks");
  if (p.plasticity != Plasticity::None) {
    if (!(p.tau_plus_ms > 0) || !(p.tau_minus_ms > 0))
      return w.Bad("tau_plus_ms/tau_minus_ms", "positive time constants");
    if (!(p.w_max >= p.w_min)) return w.Bad("w_max", "a bound >= w_min");
  }
  return Status::Ok();
}

// A pathway's synapses are counted and indexed in 32 bits (CSR rows); refusing a pathway that
// could not be built here is also what keeps an unbuildable one from ending in an allocation
// failure or a wrapped count. A pathway by probability is judged by its expected count: its real
// count exceeds that by 2^31 with probability zero.
std::string Approx(double n) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g", n);
  return buf;
}

Status CheckSynapseCount(const PathwaySpec& p, uint32_t src_size, uint32_t tgt_size, const Where& w) {
  const double most = static_cast<double>(kMaxSynapsesPerPathway);
  if (p.indegree > 0) {
    const double n = static_cast<double>(p.indegree) * tgt_size;
    if (n > most)
      return w.Bad("indegree", "at most 2^31 synapses per pathway (indegree " + std::to_string(p.indegree) +
                                   " x " + std::to_string(tgt_size) + " targets = " + Approx(n) + ")");
  } else if (p.p > 0) {
    const double n = p.p * static_cast<double>(src_size) * tgt_size;
    if (n > most)
      return w.Bad("p", "at most 2^31 synapses per pathway (p x " + std::to_string(src_size) + " sources x " +
                            std::to_string(tgt_size) + " targets = " + Approx(n) + " expected)");
  }
  return Status::Ok();
}

Status ResolveRegion(const schema::Region* r, RegionId id, double dt_ms, const Where& where,
                     RegionSpec* out) {
  out->name = r->name()->str();
  out->type = r->type()->str();
  out->id = id;
  out->worker = r->worker();
  out->learning = r->learning();
  if (out->name.empty() || out->name.find('.') != std::string::npos)
    return where.Bad("name", "a non-empty region name without '.'");
  const RegionType* type = FindRegionType(out->type);
  if (!type) {
    std::string known;
    for (const RegionType* t : RegionTypes()) known += (known.empty() ? "" : ", ") + t->name;
    return where.Bad("type", "a registered region type (" + known + ")");
  }
  out->size = r->size() ? r->size() : type->default_size;
  if (r->populations() && r->populations()->size() > 0) {
    for (uint32_t i = 0; i < r->populations()->size(); ++i) {
      const schema::Population* p = r->populations()->Get(i);
      Where pw{where.file, where.path + ".populations[" + std::to_string(i) + "]"};
      PopulationSpec ps;
      ps.name = p->name()->str();
      ps.excitatory = p->excitatory();
      ps.neuron = ToNeuron(p->neuron());
      if (!p->size() && !(p->fraction() >= 0 && p->fraction() <= 1))
        return pw.Bad("fraction", "a share of the region's size in (0, 1]");
      ps.size = p->size() ? p->size()
                          : static_cast<uint32_t>(std::lround(p->fraction() * out->size));
      if (ps.size == 0) return pw.Bad("size", "a size > 0 (or a fraction of the region's size)");
      out->populations.push_back(ps);
    }
  } else if (type->preset) {
    Status st = type->preset(out);
    if (!st.ok()) return where.Bad("type", "a usable preset: " + st.message());
  } else {
    return where.Bad("populations", "a list of populations for type '" + out->type + "'");
  }
  // Offsets, sizes and checks of the populations.
  uint32_t offset = 0;
  for (size_t i = 0; i < out->populations.size(); ++i) {
    PopulationSpec& p = out->populations[i];
    Where pw{where.file, where.path + ".populations[" + std::to_string(i) + "]"};
    if (p.name.empty() || out->PopulationIndex(p.name) != static_cast<int>(i))
      return pw.Bad("name", "a unique, non-empty population name");
    THALIA_RETURN_IF_ERROR(CheckNeuron(p.neuron, dt_ms, pw));
    p.offset = offset;
    if (uint64_t{offset} + p.size > (1u << 30)) return pw.Bad("size", "under 2^30 neurons per region");
    offset += p.size;
  }
  out->size = offset;
  auto pop_named = [&](const std::string& name, const Where& w, const char* field,
                       uint32_t* idx) -> Status {
    int i = out->PopulationIndex(name);
    if (i < 0) return w.Bad(field, "a population of region '" + out->name + "', not '" + name + "'");
    *idx = static_cast<uint32_t>(i);
    return Status::Ok();
  };
  if (r->pathways()) {
    for (uint32_t i = 0; i < r->pathways()->size(); ++i) {
      const schema::Pathway* p = r->pathways()->Get(i);
      Where pw{where.file, where.path + ".pathways[" + std::to_string(i) + "]"};
      PathwaySpec ps = ToPathway(p);
      THALIA_RETURN_IF_ERROR(pop_named(p->from()->str(), pw, "from", &ps.from_pop));
      THALIA_RETURN_IF_ERROR(pop_named(p->to()->str(), pw, "to", &ps.to_pop));
      out->pathways.push_back(ps);
    }
  }
  for (size_t i = 0; i < out->pathways.size(); ++i) {
    PathwaySpec& ps = out->pathways[i];
    Where pw{where.file, where.path + ".pathways[" + std::to_string(i) + "]"};
    ps.from_region = ps.to_region = id;
    ps.name = out->name + "." + out->populations[ps.from_pop].name + "->" + out->name + "." +
              out->populations[ps.to_pop].name + "#" + std::to_string(i);
    if (ps.delay_ms - ps.delay_jitter_ms < dt_ms * 0.5)
      return pw.Bad("delay_ms", "a delay of at least one tick (" + std::to_string(dt_ms) + " ms)");
    THALIA_RETURN_IF_ERROR(CheckPathway(ps, dt_ms, pw));
    THALIA_RETURN_IF_ERROR(
        CheckSynapseCount(ps, out->populations[ps.from_pop].size, out->populations[ps.to_pop].size, pw));
    if (!out->learning) ps.plasticity = Plasticity::None;
  }
  if (r->drives()) {
    for (uint32_t i = 0; i < r->drives()->size(); ++i) {
      const schema::Drive* d = r->drives()->Get(i);
      Where dw{where.file, where.path + ".drives[" + std::to_string(i) + "]"};
      DriveSpec ds;
      THALIA_RETURN_IF_ERROR(pop_named(d->population()->str(), dw, "population", &ds.population));
      ds.rate_hz = d->rate_hz();
      ds.inputs = d->inputs();
      ds.weight = d->weight();
      ds.excitatory = d->excitatory();
      out->drives.push_back(ds);
    }
  }
  for (size_t i = 0; i < out->drives.size(); ++i) {
    const DriveSpec& d = out->drives[i];
    Where dw{where.file, where.path + ".drives[" + std::to_string(i) + "]"};
    if (!(d.rate_hz >= 0) || !std::isfinite(d.rate_hz)) return dw.Bad("rate_hz", "a rate >= 0 Hz");
    if (!(d.weight >= 0) || !std::isfinite(d.weight)) return dw.Bad("weight", "a magnitude >= 0");
    if (double{d.rate_hz} * d.inputs * dt_ms / 1000.0 > 50)
      return dw.Bad("rate_hz", "at most 50 expected input spikes per neuron per tick");
  }
  if (r->input()) THALIA_RETURN_IF_ERROR(pop_named(r->input()->str(), where, "input", &out->input_pop));
  if (r->output())
    THALIA_RETURN_IF_ERROR(pop_named(r->output()->str(), where, "output", &out->output_pop));
  return Status::Ok();
}

// "region" or "region.population" -> (region, population), using the region's default.
Status ResolveEndpoint(const BrainSpec& b, const std::string& s, bool is_target, const Where& w,
                       const char* field, RegionId* region, uint32_t* pop) {
  std::string rname = s, pname;
  if (size_t dot = s.find('.'); dot != std::string::npos) {
    rname = s.substr(0, dot);
    pname = s.substr(dot + 1);
  }
  int ri = b.RegionIndex(rname);
  if (ri < 0) return w.Bad(field, "a region name (or region.population), not '" + s + "'");
  const RegionSpec& r = b.regions[ri];
  *region = static_cast<RegionId>(ri);
  if (pname.empty()) {
    *pop = is_target ? r.input_pop : r.output_pop;
    return Status::Ok();
  }
  int pi = r.PopulationIndex(pname);
  if (pi < 0) return w.Bad(field, "a population of region '" + rname + "', not '" + pname + "'");
  *pop = static_cast<uint32_t>(pi);
  return Status::Ok();
}

// The parser's errors give "file:LINE: COL: error: ..."; a type error does not say which field.
// Names the last key before that place, and says plainly what a cryptic message means.
std::string JsonErrorContext(const std::string& json, const std::string& error) {
  size_t at = error.find(':');
  if (at == std::string::npos) return "";
  long line = 0, col = 0;
  if (std::sscanf(error.c_str() + at, ":%ld: %ld:", &line, &col) != 2 || line < 1) return "";
  size_t pos = 0;
  for (long l = 1; l < line && pos != std::string::npos; ++l) {
    pos = json.find('\n', pos);
    if (pos != std::string::npos) ++pos;
  }
  if (pos == std::string::npos) return "";
  pos = std::min(json.size(), pos + static_cast<size_t>(std::max(0L, col)));
  // Walk back to the nearest `"key" :`.
  std::string key;
  for (size_t i = pos; i-- > 0;) {
    if (json[i] != ':') continue;
    size_t q = json.find_last_not_of(" \t\r\n", i == 0 ? 0 : i - 1);
    if (q == std::string::npos || json[q] != '"' || q == 0) continue;
    size_t open = json.rfind('"', q - 1);
    if (open == std::string::npos) break;
    key = json.substr(open + 1, q - open - 1);
    break;
  }
  std::string out;
  if (!key.empty()) out += " at field '" + key + "'";
  if (error.find("enum values need to be qualified") != std::string::npos)
    out += ": expected a number or true/false, not a string";
  else if (error.find("Cannot assign token") != std::string::npos)
    out += ": expected a value of the field's type";
  return out;
}

}  // namespace

int RegionSpec::PopulationIndex(const std::string& n) const {
  for (size_t i = 0; i < populations.size(); ++i)
    if (populations[i].name == n) return static_cast<int>(i);
  return -1;
}

int BrainSpec::RegionIndex(const std::string& n) const {
  for (size_t i = 0; i < regions.size(); ++i)
    if (regions[i].name == n) return static_cast<int>(i);
  return -1;
}

Result<std::vector<uint8_t>> ParseConfigJson(const std::string& json, const std::string& source) {
  flatbuffers::IDLOptions opts;
  opts.strict_json = true;
  flatbuffers::Parser parser(opts);
  if (!parser.Parse(schema::kConfigSchemaText, nullptr, "config.fbs"))
    return Status::Internal("embedded config schema does not parse: " + parser.error_);
  if (!parser.Parse(json.c_str(), nullptr, source.c_str())) {
    std::string e = parser.error_;
    while (!e.empty() && (e.back() == '\n' || e.back() == ' ')) e.pop_back();
    return Status::Invalid(e + JsonErrorContext(json, e) +
                           " (the configuration format is schemas/config.fbs)");
  }
  const uint8_t* p = parser.builder_.GetBufferPointer();
  return std::vector<uint8_t>(p, p + parser.builder_.GetSize());
}

Result<std::vector<uint8_t>> LoadConfigFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::Invalid(path + ": cannot open the configuration file");
  std::stringstream ss;
  ss << in.rdbuf();
  return ParseConfigJson(ss.str(), path);
}

Result<std::shared_ptr<const BrainSpec>> ResolveBrainSpec(std::vector<uint8_t> config,
                                                          const std::string& source) {
  flatbuffers::Verifier verifier(config.data(), config.size());
  if (!schema::VerifyBrainBuffer(verifier))
    return Status::Invalid(source + ": not a valid Thalia configuration buffer");
  const schema::Brain* cfg = schema::GetBrain(config.data());
  auto b = std::make_shared<BrainSpec>();
  Where top{source, ""};
  b->name = Str(cfg->name());
  b->seed = cfg->seed();
  b->dt_ms = cfg->dt_ms();
  if (!(b->dt_ms >= 0.001 && b->dt_ms <= 10)) return top.Bad("dt_ms", "a time step in [0.001, 10] ms");
  b->duration_ms = cfg->duration_ms();
  if (!(b->duration_ms >= 0) || !std::isfinite(b->duration_ms) || b->DurationTicks() >= kMaxTick)
    return top.Bad("duration_ms", "a duration >= 0 ms, under 2^62 ticks");
  b->batch_window_ms = cfg->batch_window_ms();
  if (!(b->batch_window_ms >= 0)) return top.Bad("batch_window_ms", "a duration >= 0 ms");
  // A window shorter than half a tick would round to 0 ticks, which means "no cap": refused
  // rather than ignored.
  if (b->batch_window_ms > 0 && MsToTicks(b->batch_window_ms, b->dt_ms) == 0)
    return top.Bad("batch_window_ms", "0 (no cap) or at least one tick (" + Approx(b->dt_ms) + " ms)");
  b->theta_hz = cfg->theta_hz();
  b->workers = cfg->workers();
  b->threads = cfg->threads();
  if (b->threads > kMaxThreads) return top.Bad("threads", "0 (auto) to " + std::to_string(kMaxThreads));
  b->launch = cfg->launch() ? cfg->launch()->str() : "fork";
  if (b->launch != "fork" && b->launch != "spawn") return top.Bad("launch", "\"fork\" or \"spawn\"");
  b->hang_timeout_ms = cfg->hang_timeout_ms();
  const schema::ModulatorParams* mods[kNumModulators] = {cfg->dopamine(), cfg->acetylcholine(),
                                                         cfg->noradrenaline()};
  const char* mod_names[kNumModulators] = {"dopamine", "acetylcholine", "noradrenaline"};
  for (int m = 0; m < kNumModulators; ++m) {
    if (!mods[m]) continue;
    b->modulators[m] = {mods[m]->baseline(), mods[m]->tau_ms()};
    if (!(mods[m]->tau_ms() > 0)) return top.Bad(std::string(mod_names[m]) + ".tau_ms", "> 0 ms");
  }
  if (cfg->regions()->size() == 0) return top.Bad("regions", "at least one region");
  if (cfg->regions()->size() > 65535) return top.Bad("regions", "at most 65535 regions");
  for (uint32_t i = 0; i < cfg->regions()->size(); ++i) {
    RegionSpec r;
    Where w{source, "regions[" + std::to_string(i) + "]"};
    THALIA_RETURN_IF_ERROR(ResolveRegion(cfg->regions()->Get(i), i, b->dt_ms, w, &r));
    if (b->RegionIndex(r.name) >= 0) return w.Bad("name", "a unique region name");
    b->regions.push_back(std::move(r));
  }
  Tick min_delay = 0;
  if (cfg->pathways()) {
    for (uint32_t i = 0; i < cfg->pathways()->size(); ++i) {
      const schema::Pathway* p = cfg->pathways()->Get(i);
      Where w{source, "pathways[" + std::to_string(i) + "]"};
      PathwaySpec ps = ToPathway(p);
      THALIA_RETURN_IF_ERROR(
          ResolveEndpoint(*b, p->from()->str(), false, w, "from", &ps.from_region, &ps.from_pop));
      THALIA_RETURN_IF_ERROR(
          ResolveEndpoint(*b, p->to()->str(), true, w, "to", &ps.to_region, &ps.to_pop));
      if (ps.from_region == ps.to_region)
        return w.Bad("to", "another region (pathways inside a region go in its own 'pathways')");
      THALIA_RETURN_IF_ERROR(CheckPathway(ps, b->dt_ms, w));
      Tick d = MsToTicks(ps.delay_ms - ps.delay_jitter_ms, b->dt_ms);
      if (d < 1) return w.Bad("delay_ms", "an inter-region delay of at least one tick");
      min_delay = min_delay == 0 ? d : std::min(min_delay, d);
      const RegionSpec& from = b->regions[ps.from_region];
      const RegionSpec& to = b->regions[ps.to_region];
      THALIA_RETURN_IF_ERROR(
          CheckSynapseCount(ps, from.populations[ps.from_pop].size, to.populations[ps.to_pop].size, w));
      ps.name = from.name + "." + from.populations[ps.from_pop].name + "->" + to.name + "." +
                to.populations[ps.to_pop].name + "#" + std::to_string(i);
      if (!to.learning) ps.plasticity = Plasticity::None;
      b->pathways.push_back(ps);
    }
  }
  // The epoch is as long as the smallest inter-region delay allows, capped by batch_window.
  Tick cap = MsToTicks(b->batch_window_ms, b->dt_ms);
  Tick epoch = min_delay ? min_delay : MsToTicks(10.0, b->dt_ms);
  if (cap > 0) epoch = std::min(epoch, cap);
  b->epoch_ticks = std::max<Tick>(epoch, 1);
  if (cfg->events()) {
    for (uint32_t i = 0; i < cfg->events()->size(); ++i) {
      const schema::ModulatorEvent* e = cfg->events()->Get(i);
      Where w{source, "events[" + std::to_string(i) + "]"};
      if (!(e->time_ms() >= 0) || !std::isfinite(e->amount()) || MsToTicks(e->time_ms(), b->dt_ms) >= kMaxTick)
        return w.Bad("time_ms", "a time >= 0 ms (under 2^62 ticks) and a finite amount");
      b->events.push_back({MsToTicks(e->time_ms(), b->dt_ms), static_cast<int>(e->modulator()),
                           e->amount()});
    }
    std::stable_sort(b->events.begin(), b->events.end(),
                     [](const ModulatorEventSpec& a, const ModulatorEventSpec& c) { return a.tick < c.tick; });
  }
  b->config = std::move(config);
  return std::shared_ptr<const BrainSpec>(std::move(b));
}

Result<std::shared_ptr<const BrainSpec>> LoadBrainSpec(const std::string& path) {
  auto bytes = LoadConfigFile(path);
  if (!bytes.ok()) return bytes.status();
  return ResolveBrainSpec(std::move(bytes).value(), path);
}

std::vector<uint8_t> WithSeed(const std::vector<uint8_t>& config, uint64_t seed) {
  // Unpack, change, repack: the object API keeps every field.
  schema::BrainT brain;
  schema::GetBrain(config.data())->UnPackTo(&brain);
  brain.seed = seed;
  flatbuffers::FlatBufferBuilder fbb;
  fbb.Finish(schema::Brain::Pack(fbb, &brain), schema::BrainIdentifier());
  return std::vector<uint8_t>(fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize());
}

std::string ConfigToJson(const std::vector<uint8_t>& config) {
  flatbuffers::IDLOptions opts;
  opts.strict_json = true;
  flatbuffers::Parser parser(opts);
  if (!parser.Parse(schema::kConfigSchemaText, nullptr, "config.fbs")) return "{}";
  std::string out;
  if (!flatbuffers::GenerateText(parser, config.data(), &out)) return "{}";
  return out;
}

Tick MinInternalDelayTicks(const RegionSpec& r, double dt_ms) {
  // As connectivity draws them: delay +- jitter, rounded by MsToTicks, at least one tick.
  Tick least = 0;
  for (const PathwaySpec& p : r.pathways) {
    const Tick d = std::max<Tick>(1, MsToTicks(p.delay_ms - std::max(0.0, static_cast<double>(p.delay_jitter_ms)), dt_ms));
    least = least == 0 ? d : std::min(least, d);
  }
  return least;
}

}  // namespace thalia::kernel
