// The registry of region types, keyed by type name. A type fills in a region's populations,
// internal pathways and drives (its preset) and may build its own Region implementation.
// Workers that are spawned rebuild their regions through this registry from the configuration,
// so a program that registers its own types must do so before it starts a parallel run (and,
// for spawn, before transport::MaybeRunWorker in main).
// Public API: installed with libthalia (thalia/meson.build lists the installed headers).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "kernel/spec.h"
#include "kernel/status.h"

namespace thalia::kernel {

class Region;
struct BrainSpec;

struct RegionType {
  std::string name;
  std::string description;
  uint32_t default_size = 1000;
  // Fills spec->populations / pathways / drives / input_pop / output_pop for spec->size neurons.
  // Populations given in the configuration replace the preset's (then the preset is not called).
  std::function<Status(RegionSpec* spec)> preset;
  // Builds the region; empty: the standard population engine (PopulationRegion).
  std::function<std::unique_ptr<Region>(const BrainSpec&, RegionId)> factory;
};

// Registers (or replaces) a region type. Thread-compatible: register before running.
void RegisterRegionType(RegionType type);
const RegionType* FindRegionType(const std::string& name);
std::vector<const RegionType*> RegionTypes();  // sorted by name

// Builds region `id` of `spec` through its type's factory.
std::unique_ptr<Region> BuildRegion(const BrainSpec& spec, RegionId id);

}  // namespace thalia::kernel
