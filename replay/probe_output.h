// Writing what probes recorded: a CSV table (one row per sample tick) and an SVG plot (one panel
// per region and variable, a line per neuron, the neurons' spikes marked above each panel).
#pragma once

#include <string>

#include "kernel/status.h"
#include "replay/probe.h"

namespace thalia::replay {

// Columns: tick, time_ms, then REGION:INDEX:VAR per series (floats with 9 significant digits,
// which read back as the same float; a w_in series is REGION:NEURON:w_in[src=REGION:ID]), then
// REGION:NEURON:spikes per probed neuron: its spikes in the ticks since the previous row (every
// spike is counted once, whatever --probe-every is).
Status WriteProbeCsv(const ProbeData& data, const std::string& path);

// An SVG of the series against time, a panel per region and variable (all w_in series of a region
// in one, a line per synapse labelled "n3←17": onto neuron 3 from source 17); long series are drawn from their minimum and maximum per
// pixel column, so no peak is lost.
Status WriteProbeSvg(const ProbeData& data, const std::string& path);

// WriteProbeSvg when `path` ends in ".svg", else WriteProbeCsv.
Status WriteProbeFile(const ProbeData& data, const std::string& path);

}  // namespace thalia::replay
