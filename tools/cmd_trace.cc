// `thalia trace info|spikes|raster TRACE`: what a trace holds (configuration, epochs, spikes per
// region, size and compression, intact or truncated), its spikes as CSV, and a spike raster (SVG)
// with one band per region and a population-rate strip.
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <algorithm>
#include <fstream>
#include <functional>
#include <map>
#include <set>

#include "kernel/spec.h"
#include "recorder/trace_reader.h"
#include "tools/args.h"
#include "tools/commands.h"

namespace thalia::tools {
namespace {

using recorder::DecodedRecord;
using recorder::RecordKind;
using recorder::TraceBatch;
using recorder::TraceReader;

int Fail(const std::string& sub, const Status& st) {
  std::fprintf(stderr, "thalia trace %s: %s\n", sub.c_str(), st.message().c_str());
  return st.ExitCode();
}

class StderrReporter final : public recorder::TraceReporter {
 public:
  void Dropped(uint64_t offset, uint64_t bytes, const std::string& reason) override {
    std::fprintf(stderr, "thalia trace: tail dropped: %llu bytes from byte %llu (%s)\n",
                 static_cast<unsigned long long>(bytes), static_cast<unsigned long long>(offset), reason.c_str());
  }
};

// Opens the trace and hands every batch to `fn`, in order.
Status ForEachBatch(const std::string& path, bool lenient, bool quiet,
                    std::unique_ptr<TraceReader>* reader_out,
                    const std::function<void(const TraceBatch&)>& fn) {
  static StderrReporter reporter;
  recorder::TraceReaderOptions o;
  o.strict = !lenient;
  o.reporter = quiet ? nullptr : &reporter;
  auto reader = TraceReader::Open(path, o);
  if (!reader.ok()) return reader.status();
  DecodedRecord rec;
  while (true) {
    auto more = reader.value()->Next(&rec);
    if (!more.ok()) return more.status();
    if (!more.value()) break;
    if (rec.kind == RecordKind::kBatch) fn(rec.batch);
  }
  *reader_out = std::move(reader).value();
  return Status::Ok();
}

// --from / --to as durations ("250ms", "1s") to ticks; [from, to).
Status TickRange(const Args& args, double dt_ms, kernel::Tick* from, kernel::Tick* to) {
  *from = 0;
  *to = UINT64_MAX;
  for (const char* name : {"from", "to"}) {
    if (!args.Has(name)) continue;
    auto ms = ParseDurationMs(args.Get(name));
    if (!ms.ok()) return ms.status().Context(std::string("--") + name);
    (std::strcmp(name, "from") == 0 ? *from : *to) = kernel::MsToTicks(ms.value(), dt_ms);
  }
  if (*to <= *from)
    return Status::Invalid("--to " + args.Get("to") + " is not after --from " + (args.Has("from") ? args.Get("from") : "0"));
  return Status::Ok();
}

int Info(Args& args, const std::string& path) {
  const std::string sub = "info";
  std::unique_ptr<TraceReader> reader;
  std::vector<uint64_t> spikes;
  uint64_t epochs = 0, first_epoch = 0;
  kernel::Tick t_begin = 0, t_end = 0;
  Status st = ForEachBatch(path, args.Has("lenient"), false, &reader, [&](const TraceBatch& b) {
    if (epochs++ == 0) {
      first_epoch = b.epoch;
      t_begin = b.t0;
      spikes.assign(b.spikes.size(), 0);
    }
    t_end = b.t1;
    for (size_t r = 0; r < b.spikes.size(); ++r) spikes[r] += b.spikes[r].size();
  });
  if (!st.ok()) return Fail(sub, st);
  const recorder::TraceHeaderInfo& h = reader->header();
  auto spec = kernel::ResolveBrainSpec(h.config, path + " (trace header)");
  if (!spec.ok()) return Fail(sub, spec.status());
  uint64_t total = 0;
  for (uint64_t s : spikes) total += s;
  const double sim_s = static_cast<double>(t_end - t_begin) * h.dt_ms / 1000.0;
  std::printf("trace      %s\n", path.c_str());
  std::printf("state      %s\n", reader->complete() ? "complete (closed cleanly)"
                                                    : ("truncated: " + reader->end_reason()).c_str());
  std::printf("format     version %u\n", h.format_version);
  std::printf("brain      %s: %zu regions, seed %" PRIu64 ", dt %g ms, epoch %" PRIu64 " ticks\n",
              spec.value()->name.c_str(), h.region_names.size(), h.seed, h.dt_ms, h.epoch_ticks);
  if (!h.checkpoint.path.empty())
    std::printf("from       checkpoint %s (epoch %" PRIu64 ")\n", h.checkpoint.path.c_str(), h.checkpoint.epoch);
  std::printf("epochs     %" PRIu64 " intact", epochs);
  if (epochs) std::printf(" (%" PRIu64 "..%" PRIu64 ", ticks %" PRIu64 "..%" PRIu64 ", %.3f s simulated)",
                          first_epoch, first_epoch + epochs - 1, t_begin, t_end, sim_s);
  std::printf("\nspikes     %" PRIu64 "\n", total);
  const double file = static_cast<double>(reader->file_size());
  std::printf("size       %" PRIu64 " bytes in %" PRIu64 " chunks; %" PRIu64 " bytes uncompressed; ratio %.2f; %.2f bytes/spike\n",
              reader->file_size(), reader->chunks_read(), reader->raw_bytes_read(),
              file > 0 ? static_cast<double>(reader->raw_bytes_read()) / file : 0.0,
              total ? file / static_cast<double>(total) : 0.0);
  std::printf("%-16s %10s %12s %10s\n", "region", "neurons", "spikes", "rate_hz");
  for (size_t r = 0; r < h.region_names.size(); ++r) {
    uint64_t s = r < spikes.size() ? spikes[r] : 0;
    double rate = sim_s > 0 ? static_cast<double>(s) / (h.region_sizes[r] * sim_s) : 0.0;
    std::printf("%-16s %10u %12" PRIu64 " %10.2f\n", h.region_names[r].c_str(), h.region_sizes[r], s, rate);
  }
  return 0;
}

// --region NAME as a region index; -1 when not given.
Result<int> RegionFilter(const Args& args, const recorder::TraceHeaderInfo& h, const std::string& path) {
  if (!args.Has("region")) return -1;
  for (size_t r = 0; r < h.region_names.size(); ++r)
    if (h.region_names[r] == args.Get("region")) return static_cast<int>(r);
  return Status::Invalid("--region: no region '" + args.Get("region") + "' in " + path);
}

int Spikes(Args& args, const std::string& path) {
  auto head = TraceReader::Open(path);
  if (!head.ok()) return Fail("spikes", head.status());
  const auto& h = head.value()->header();
  auto region = RegionFilter(args, h, path);
  if (!region.ok()) return Fail("spikes", region.status());
  kernel::Tick from = 0, to = 0;
  if (Status st = TickRange(args, h.dt_ms, &from, &to); !st.ok()) return Fail("spikes", st);
  std::printf("tick,time_ms,region,neuron\n");
  std::unique_ptr<TraceReader> reader;
  Status st = ForEachBatch(path, args.Has("lenient"), false, &reader, [&](const TraceBatch& b) {
    if (b.t1 <= from || b.t0 >= to) return;
    // Ticks first, then regions: the CSV is in time order across regions.
    std::vector<std::pair<kernel::Spike, size_t>> all;
    for (size_t r = 0; r < b.spikes.size(); ++r) {
      if (region.value() >= 0 && static_cast<int>(r) != region.value()) continue;
      for (const kernel::Spike& s : b.spikes[r])
        if (s.tick >= from && s.tick < to) all.push_back({s, r});
    }
    std::stable_sort(all.begin(), all.end(), [](const auto& a, const auto& b2) { return a.first.tick < b2.first.tick; });
    for (const auto& [s, r] : all)
      std::printf("%" PRIu64 ",%.4f,%s,%u\n", s.tick, kernel::TicksToMs(s.tick, h.dt_ms), h.region_names[r].c_str(), s.neuron);
  });
  if (!st.ok()) return Fail("spikes", st);
  return 0;
}

const char* const kColors[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e",
                               "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22"};

// One band per region (a dot per occupied pixel, so the file stays small however many spikes
// there are), then the population rate of every region in one strip, on a shared time axis.
int Raster(Args& args, const std::string& path) {
  const std::string sub = "raster";
  if (!args.Has("output")) return Fail(sub, Status::Invalid("-o FILE.svg is required"));
  auto head = TraceReader::Open(path);
  if (!head.ok()) return Fail(sub, head.status());
  const recorder::TraceHeaderInfo h = head.value()->header();
  auto region = RegionFilter(args, h, path);
  if (!region.ok()) return Fail(sub, region.status());
  kernel::Tick from = 0, to = 0;
  if (Status st = TickRange(args, h.dt_ms, &from, &to); !st.ok()) return Fail(sub, st);
  auto width = args.GetUint("width", 1000);
  if (!width.ok() || width.value() < 300 || width.value() > 20000)
    return Fail(sub, Status::Invalid("--width: expected 300..20000 pixels"));
  std::vector<size_t> shown;
  for (size_t r = 0; r < h.region_names.size(); ++r)
    if (region.value() < 0 || static_cast<int>(r) == region.value()) shown.push_back(r);
  std::vector<std::vector<kernel::Spike>> spikes(h.region_names.size());
  kernel::Tick t_first = UINT64_MAX, t_last = 0;
  std::unique_ptr<TraceReader> reader;
  Status st = ForEachBatch(path, args.Has("lenient"), false, &reader, [&](const TraceBatch& b) {
    if (b.t1 <= from || b.t0 >= to) return;
    t_first = std::min(t_first, std::max(b.t0, from));
    t_last = std::max(t_last, std::min(b.t1, to));
    for (size_t r : shown)
      for (const kernel::Spike& s : b.spikes[r])
        if (s.tick >= from && s.tick < to) spikes[r].push_back(s);
  });
  if (!st.ok()) return Fail(sub, st);
  if (t_first >= t_last) return Fail(sub, Status::Invalid("no recorded epoch in the time range"));

  const double left = 130, right = 20, top = 40, band = 90, gap = 10, strip = 120;
  const double plot_w = static_cast<double>(width.value()) - left - right;
  const double span = static_cast<double>(t_last - t_first);
  const double strip_top = top + shown.size() * (band + gap) + 10;
  const double height = strip_top + strip + 50;
  auto x_of = [&](kernel::Tick t) { return left + static_cast<double>(t - t_first) / span * plot_w; };
  std::ofstream out(args.Get("output"));
  if (!out) return Fail(sub, Status::Io(args.Get("output") + ": cannot write"));
  char buf[256];
  std::snprintf(buf, sizeof(buf),
                "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%llu\" height=\"%.0f\" font-family=\"sans-serif\" font-size=\"12\">\n",
                static_cast<unsigned long long>(width.value()), height);
  out << buf << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  out << "<text x=\"" << left << "\" y=\"20\" font-size=\"14\">Spike raster: " << path << "</text>\n";
  // Bands.
  for (size_t i = 0; i < shown.size(); ++i) {
    const size_t r = shown[i];
    const double y0 = top + i * (band + gap);
    out << "<text x=\"" << left - 8 << "\" y=\"" << y0 + band / 2 << "\" text-anchor=\"end\">" << h.region_names[r]
        << "</text>\n<rect x=\"" << left << "\" y=\"" << y0 << "\" width=\"" << plot_w << "\" height=\"" << band
        << "\" fill=\"none\" stroke=\"#ccc\"/>\n<path fill=\"" << kColors[i % 10] << "\" d=\"";
    std::set<std::pair<int, int>> cells;
    for (const kernel::Spike& s : spikes[r]) {
      int px = static_cast<int>(x_of(s.tick));
      int py = static_cast<int>(y0 + static_cast<double>(s.neuron) / h.region_sizes[r] * band);
      if (cells.insert({px, py}).second) out << "M" << px << " " << py << "h1v1h-1z";
    }
    out << "\"/>\n";
  }
  // Population rate: spikes per neuron per second in bins of 4 pixels.
  const size_t bins = std::max<size_t>(1, static_cast<size_t>(plot_w / 4));
  const double bin_s = span * h.dt_ms / 1000.0 / static_cast<double>(bins);
  std::vector<std::vector<double>> rate(shown.size(), std::vector<double>(bins, 0));
  double max_rate = 1;
  for (size_t i = 0; i < shown.size(); ++i) {
    for (const kernel::Spike& s : spikes[shown[i]])
      rate[i][std::min(bins - 1, static_cast<size_t>(static_cast<double>(s.tick - t_first) / span * bins))] += 1;
    for (double& v : rate[i]) {
      v /= h.region_sizes[shown[i]] * bin_s;
      max_rate = std::max(max_rate, v);
    }
  }
  out << "<text x=\"" << left - 8 << "\" y=\"" << strip_top + strip / 2 << "\" text-anchor=\"end\">rate (Hz)</text>\n"
      << "<text x=\"" << left - 8 << "\" y=\"" << strip_top + 10 << "\" text-anchor=\"end\">" << static_cast<int>(max_rate + 0.5) << "</text>\n"
      << "<rect x=\"" << left << "\" y=\"" << strip_top << "\" width=\"" << plot_w << "\" height=\"" << strip
      << "\" fill=\"none\" stroke=\"#ccc\"/>\n";
  for (size_t i = 0; i < shown.size(); ++i) {
    out << "<polyline fill=\"none\" stroke-width=\"1.2\" stroke=\"" << kColors[i % 10] << "\" points=\"";
    for (size_t k = 0; k < bins; ++k) {
      std::snprintf(buf, sizeof(buf), "%.1f,%.1f ", left + (k + 0.5) * plot_w / bins,
                    strip_top + strip - rate[i][k] / max_rate * strip);
      out << buf;
    }
    out << "\"/>\n";
  }
  // Time axis.
  for (int k = 0; k <= 5; ++k) {
    const double x = left + plot_w * k / 5.0;
    const double ms = kernel::TicksToMs(t_first, h.dt_ms) + span * h.dt_ms * k / 5.0;
    std::snprintf(buf, sizeof(buf), "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%.0f ms</text>\n", x,
                  strip_top + strip + 20, ms);
    out << buf;
  }
  out << "</svg>\n";
  out.close();
  if (!out) return Fail(sub, Status::Io(args.Get("output") + ": write failed"));
  return 0;
}

}  // namespace

int TraceCommand(int argc, char** argv) {
  const std::string sub = argc > 0 ? argv[0] : "";
  const bool known = sub == "info" || sub == "spikes" || sub == "raster";
  Args args("thalia trace info|spikes|raster TRACE [options]",
            "info:   configuration summary, epochs, spikes per region, size and compression ratio,\n"
            "        and whether the trace is complete or truncated (crash-cut: its intact prefix).\n"
            "spikes: every spike as CSV lines tick,time_ms,region,neuron, in time order.\n"
            "raster: an SVG spike raster, one band per region, with a population-rate strip.");
  args.Positional("TRACE", "trace file written by thalia run --record");
  args.Flag("lenient", "read the intact prefix of a corrupt trace instead of refusing it");
  if (sub == "spikes" || sub == "raster" || !known) {
    args.Option("region", "NAME", "only this region (spikes, raster)");
    args.Option("from", "TIME", "from this simulated time, e.g. 200ms (spikes, raster)");
    args.Option("to", "TIME", "up to this simulated time, exclusive (spikes, raster)");
  }
  if (sub == "raster" || !known) {
    args.Option("output", "FILE.svg", "the SVG to write (also -o FILE.svg) (raster)");
    args.Option("width", "PIXELS", "width of the plot (raster, default 1000)");
  }
  std::vector<char*> rest;
  static char output_flag[] = "--output";
  for (int i = known ? 1 : 0; i < argc; ++i)
    rest.push_back(std::strcmp(argv[i], "-o") == 0 ? output_flag : argv[i]);
  if (Status st = args.Parse(static_cast<int>(rest.size()), rest.data()); !st.ok() && !args.help()) {
    if (known) return Fail(sub, st);
  }
  if (args.help()) {
    std::printf("%s", args.Help().c_str());
    return 0;
  }
  if (!known) {
    std::fprintf(stderr, "thalia trace: expected a subcommand info, spikes or raster (see --help)\n");
    return 2;
  }
  const std::string path = args.positionals()[0];
  if (sub == "info") return Info(args, path);
  if (sub == "spikes") return Spikes(args, path);
  return Raster(args, path);
}

}  // namespace thalia::tools
