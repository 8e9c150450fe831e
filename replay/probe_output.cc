// The plot is plain SVG text written by hand (no dependency): panels stacked vertically, each with
// its value range on the left and the time range below.
#include "replay/probe_output.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>

namespace thalia::replay {
namespace {

struct FileCloser {
  void operator()(FILE* f) const { std::fclose(f); }
};
using File = std::unique_ptr<FILE, FileCloser>;

Result<File> Create(const std::string& path) {
  File f(std::fopen(path.c_str(), "w"));
  if (!f) return Status::Io(path + ": cannot write the probe output: " + std::strerror(errno));
  return f;
}

Status Finish(File f, const std::string& path) {
  const bool failed = std::ferror(f.get()) != 0;
  if (std::fclose(f.release()) != 0 || failed)
    return Status::Io(path + ": writing the probe output failed: " + std::strerror(errno));
  return Status::Ok();
}

std::string Number(double v, int digits = 9) {
  char b[32];
  std::snprintf(b, sizeof(b), "%.*g", digits, v);
  return b;
}

const char* const kColours[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                                "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22"};

}  // namespace

Status WriteProbeCsv(const ProbeData& data, const std::string& path) {
  auto f = Create(path);
  if (!f.ok()) return f.status();
  FILE* out = f.value().get();
  std::fprintf(out, "tick,time_ms");
  for (const ProbeSeries& s : data.series) std::fprintf(out, ",%s:%u:%s", s.region.c_str(), s.index, s.var.c_str());
  for (const ProbeSpikes& s : data.spikes) std::fprintf(out, ",%s:%u:spikes", s.region.c_str(), s.neuron);
  std::fprintf(out, "\n");
  std::vector<size_t> next_spike(data.spikes.size(), 0);
  for (size_t k = 0; k < data.ticks.size(); ++k) {
    const kernel::Tick t = data.ticks[k];
    std::fprintf(out, "%llu,%s", static_cast<unsigned long long>(t), Number(kernel::TicksToMs(t, data.dt_ms)).c_str());
    for (const ProbeSeries& s : data.series) std::fprintf(out, ",%s", Number(s.values[k]).c_str());
    for (size_t i = 0; i < data.spikes.size(); ++i) {
      const std::vector<kernel::Tick>& ticks = data.spikes[i].ticks;
      size_t count = 0;
      while (next_spike[i] < ticks.size() && ticks[next_spike[i]] <= t) ++next_spike[i], ++count;
      std::fprintf(out, ",%zu", count);
    }
    std::fprintf(out, "\n");
  }
  return Finish(std::move(f).value(), path);
}

Status WriteProbeSvg(const ProbeData& data, const std::string& path) {
  constexpr size_t kLegend = 12;  // labels shown per panel; the rest are drawn unlabelled
  constexpr double kWidth = 900, kLeft = 70, kRight = 20, kPanel = 160, kGap = 50, kTop = 30;
  const double plot_w = kWidth - kLeft - kRight;
  // Panels: one per (region, var), in the order the series were requested.
  std::vector<std::pair<std::string, std::string>> panels;
  for (const ProbeSeries& s : data.series)
    if (std::find(panels.begin(), panels.end(), std::make_pair(s.region, s.var)) == panels.end())
      panels.push_back({s.region, s.var});
  auto f = Create(path);
  if (!f.ok()) return f.status();
  FILE* out = f.value().get();
  const double height = kTop + static_cast<double>(panels.size()) * (kPanel + kGap) + 10;
  std::fprintf(out, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
               "font-family=\"sans-serif\" font-size=\"11\">\n<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
               kWidth, height);
  if (data.ticks.empty()) {
    std::fprintf(out, "<text x=\"%.0f\" y=\"20\">no samples in the probed window</text>\n</svg>\n", kLeft);
    return Finish(std::move(f).value(), path);
  }
  const double t0 = static_cast<double>(data.ticks.front()), t1 = static_cast<double>(data.ticks.back());
  const double span = std::max(1.0, t1 - t0);
  auto x_of = [&](double t) { return kLeft + (t - t0) / span * plot_w; };
  for (size_t p = 0; p < panels.size(); ++p) {
    const double top = kTop + static_cast<double>(p) * (kPanel + kGap);
    double lo = INFINITY, hi = -INFINITY;
    for (const ProbeSeries& s : data.series)
      if (s.region == panels[p].first && s.var == panels[p].second)
        for (double v : s.values) lo = std::min(lo, v), hi = std::max(hi, v);
    if (!(hi > lo)) hi = lo + 1;
    auto y_of = [&](double v) { return top + kPanel - (v - lo) / (hi - lo) * kPanel; };
    std::fprintf(out, "<text x=\"%.0f\" y=\"%.0f\" font-weight=\"bold\">%s %s</text>\n", kLeft, top - 14,
                 panels[p].first.c_str(), panels[p].second.c_str());
    std::fprintf(out, "<rect x=\"%.0f\" y=\"%.0f\" width=\"%.0f\" height=\"%.0f\" fill=\"none\" stroke=\"#999\"/>\n",
                 kLeft, top, plot_w, kPanel);
    std::fprintf(out, "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"end\">%s</text>\n", kLeft - 4, top + 10, Number(hi, 4).c_str());
    std::fprintf(out, "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"end\">%s</text>\n", kLeft - 4, top + kPanel, Number(lo, 4).c_str());
    std::fprintf(out, "<text x=\"%.0f\" y=\"%.0f\">%s ms</text>\n", kLeft, top + kPanel + 14,
                 Number(kernel::TicksToMs(data.ticks.front(), data.dt_ms)).c_str());
    std::fprintf(out, "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"end\">%s ms</text>\n", kLeft + plot_w, top + kPanel + 14,
                 Number(kernel::TicksToMs(data.ticks.back(), data.dt_ms)).c_str());
    size_t line = 0;
    for (const ProbeSeries& s : data.series) {
      if (s.region != panels[p].first || s.var != panels[p].second) continue;
      const char* colour = kColours[line++ % std::size(kColours)];
      // One column per pixel: its first, lowest, highest and last value, in time order of the
      // extremes, so lines stay continuous and peaks survive.
      std::map<long, std::vector<std::pair<double, double>>> columns;
      for (size_t k = 0; k < s.values.size(); ++k) {
        const double x = x_of(static_cast<double>(data.ticks[k]));
        columns[std::lround(x)].push_back({x, s.values[k]});
      }
      std::fprintf(out, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1\" points=\"", colour);
      for (const auto& [px, pts] : columns) {
        auto [mn, mx] = std::minmax_element(pts.begin(), pts.end(),
                                            [](const auto& a, const auto& b) { return a.second < b.second; });
        std::vector<std::pair<double, double>> keep = pts;
        if (keep.size() > 4) keep = {pts.front(), *mn, *mx, pts.back()};
        std::sort(keep.begin(), keep.end());
        keep.erase(std::unique(keep.begin(), keep.end()), keep.end());
        for (const auto& [x, v] : keep) std::fprintf(out, "%.1f,%.2f ", x, y_of(v));
      }
      std::fprintf(out, "\"/>\n");
      if (line <= kLegend)
        std::fprintf(out, "<text x=\"%.0f\" y=\"%.0f\" fill=\"%s\">%s</text>\n",
                     kLeft + 200 + 50.0 * static_cast<double>(line - 1), top - 14, colour,
                     line == kLegend ? "..." : (std::string(s.per_neuron ? "n" : "#") + std::to_string(s.index)).c_str());
      if (!s.per_neuron) continue;
      for (const ProbeSpikes& sp : data.spikes) {
        if (sp.region != s.region || sp.neuron != s.index) continue;
        for (kernel::Tick t : sp.ticks)
          if (static_cast<double>(t) <= t1)
          std::fprintf(out, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.0f\" y2=\"%.0f\" stroke=\"%s\"/>\n",
                       x_of(static_cast<double>(t)), x_of(static_cast<double>(t)), top - 8, top - 1, colour);
      }
    }
  }
  std::fprintf(out, "</svg>\n");
  return Finish(std::move(f).value(), path);
}

Status WriteProbeFile(const ProbeData& data, const std::string& path) {
  if (path.size() > 4 && path.compare(path.size() - 4, 4, ".svg") == 0) return WriteProbeSvg(data, path);
  return WriteProbeCsv(data, path);
}

}  // namespace thalia::replay
