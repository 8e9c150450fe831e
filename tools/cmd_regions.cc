// `thalia regions`: the registered region types, with their default sizes; with --vars, the state
// variables a probe can name (thalia replay --probe), read from a built instance of each region.
#include <algorithm>
#include <cstdint>
#include <cstdio>

#include "kernel/region.h"
#include "kernel/registry.h"
#include "replay/probe.h"
#include "tools/args.h"
#include "tools/commands.h"

namespace thalia::tools {
namespace {

int Fail(const Status& st) {
  std::fprintf(stderr, "thalia regions: %s\n", st.message().c_str());
  return st.ExitCode();
}

// "group12.weight" -> ("group", 12, ".weight"); false for a name without that form.
bool NumberedName(const std::string& name, std::string* prefix, size_t* number, std::string* suffix) {
  const size_t dot = name.find('.');
  size_t digits = dot == std::string::npos ? 0 : dot;
  while (digits > 0 && name[digits - 1] >= '0' && name[digits - 1] <= '9') --digits;
  if (dot == std::string::npos || digits == dot || digits == 0) return false;
  *prefix = name.substr(0, digits);
  *number = std::stoul(name.substr(digits, dot - digits));
  *suffix = name.substr(dot);
  return true;
}

// One region's state arrays: the per-neuron ones first, then the per-pathway and per-synapse ones
// (numbered arrays of one kind on one line: "group0..19.weight"), then those a probe cannot name.
void PrintVars(kernel::Region& region, const kernel::BrainSpec& brain, const std::string& title) {
  const std::vector<replay::StateArray> arrays = replay::StateArrays(region);
  std::printf("%s\n", title.c_str());
  const char* const kGroups[] = {"per neuron (NEURONS are neurons)",
                                 "plasticity (NEURONS index the array's elements)", "not probe-able"};
  for (int group = 0; group < 3; ++group) {
    std::vector<bool> done(arrays.size(), false);
    bool header = false;
    for (size_t i = 0; i < arrays.size(); ++i) {
      const replay::StateArray& a = arrays[i];
      const int g = a.kind == replay::StateArray::kU64 ? 2 : a.size == region.spec().size ? 0 : 1;
      if (g != group || done[i]) continue;
      if (!header) std::printf("  %s:\n", kGroups[group]);
      header = true;
      std::string prefix, suffix, name = a.name;
      size_t number = 0, lo = SIZE_MAX, hi = 0, min_size = a.size, max_size = a.size;
      if (g == 1 && NumberedName(a.name, &prefix, &number, &suffix)) {
        for (size_t j = i; j < arrays.size(); ++j) {
          std::string p2, s2;
          size_t n2 = 0;
          if (!NumberedName(arrays[j].name, &p2, &n2, &s2) || p2 != prefix || s2 != suffix) continue;
          done[j] = true;
          lo = std::min(lo, n2), hi = std::max(hi, n2);
          min_size = std::min(min_size, arrays[j].size), max_size = std::max(max_size, arrays[j].size);
        }
        name = prefix + std::to_string(lo) + (hi > lo ? ".." + std::to_string(hi) : "") + suffix;
      }
      const std::string size =
          std::to_string(min_size) + (max_size > min_size ? "-" + std::to_string(max_size) : "");
      std::printf("    %-22s %11s  %s\n", name.c_str(), size.c_str(), replay::DescribeStateArray(a.name).c_str());
    }
  }
  const std::vector<std::string> plastic = replay::DescribeWeightsIn(region, brain);
  if (plastic.empty()) return;
  std::printf("  incoming plastic weights (NEURONS are the target neurons):\n"
              "    %-22s %11s  %s\n"
              "    %-22s %11s  %s\n",
              "w_in", "per synapse", "weight of each plastic synapse onto the neuron: w_in[src=REGION:ID]",
              "w_in.SOURCE", "per synapse", "the same, of pathways from SOURCE (a region, or region.population)");
  for (const std::string& line : plastic) std::printf("      from %s\n", line.c_str());
}

Result<std::shared_ptr<const kernel::BrainSpec>> OneRegionBrain(const kernel::RegionType& t) {
  const std::string json = "{\"name\": \"vars\", \"regions\": [{\"name\": \"" + t.name + "\", \"type\": \"" +
                           t.name + "\"}]}";
  auto config = kernel::ParseConfigJson(json, "region type " + t.name);
  if (!config.ok()) return config.status();
  return kernel::ResolveBrainSpec(std::move(config).value(), "region type " + t.name);
}

int ListVars(const std::string& config_path) {
  if (!config_path.empty()) {
    auto spec = kernel::LoadBrainSpec(config_path);
    if (!spec.ok()) return Fail(spec.status());
    for (const kernel::RegionSpec& r : spec.value()->regions) {
      auto region = kernel::BuildRegion(*spec.value(), r.id);
      PrintVars(*region, *spec.value(), r.name + " (type " + r.type + ", " + std::to_string(r.size) + " neurons)");
    }
    return 0;
  }
  for (const kernel::RegionType* t : kernel::RegionTypes()) {
    auto spec = OneRegionBrain(*t);
    if (!spec.ok()) {  // a type without a preset: its populations come from the configuration
      std::printf("%s (populations from the configuration: see thalia regions --vars CONFIG)\n", t->name.c_str());
      continue;
    }
    auto region = kernel::BuildRegion(*spec.value(), 0);
    PrintVars(*region, *spec.value(), t->name + " (alone, " + std::to_string(region->spec().size) + " neurons)");
  }
  std::printf("\nPathways from other regions add pathN/groupN arrays: give a configuration\n"
              "(thalia regions --vars CONFIG) to see the names and sizes of its regions.\n");
  return 0;
}

}  // namespace

int RegionsCommand(int argc, char** argv) {
  Args args("thalia regions [--vars [CONFIG]]",
            "Lists the region types a configuration can use (\"type\" of a region). With --vars, lists\n"
            "the state variables of each type (or of each region of CONFIG) that thalia replay --probe\n"
            "can record: their names, sizes and meaning.");
  args.Positional("CONFIG", "with --vars: list the variables of this configuration's regions", false);
  args.Flag("vars", "list each region's state variables (for thalia replay --probe)");
  if (Status st = args.Parse(argc, argv); !st.ok()) return Fail(st);
  if (args.help()) {
    std::printf("%s", args.Help().c_str());
    return 0;
  }
  const std::string config = args.positionals().empty() ? "" : args.positionals()[0];
  if (args.Has("vars")) return ListVars(config);
  if (!config.empty()) return Fail(Status::Invalid("CONFIG goes with --vars"));
  std::printf("%-12s %8s  %s\n", "type", "neurons", "description");
  for (const kernel::RegionType* t : kernel::RegionTypes())
    std::printf("%-12s %8u  %s\n", t->name.c_str(), t->default_size, t->description.c_str());
  return 0;
}

}  // namespace thalia::tools
