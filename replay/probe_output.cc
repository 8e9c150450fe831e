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

// The panel of a series: its variable, with a w_in series' "[src=...]" cut off (one panel holds
// all the incoming weights of a region's probed neurons).
std::string PanelVar(const std::string& var) { return var.substr(0, var.find('[')); }

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

namespace {

// The plot's layout and its drawing steps: a frame per panel, a line per series, spike marks.
class SvgPlot {
 public:
  static constexpr size_t kLegend = 12;  // labels shown per panel; the rest are drawn unlabelled
  static constexpr double kWidth = 900, kLeft = 70, kRight = 20, kPanel = 160, kGap = 50, kTop = 30;
  static constexpr double kPlotWidth = kWidth - kLeft - kRight;

  SvgPlot(FILE* out, const ProbeData& data) : out_(out), data_(data) {
    t0_ = static_cast<double>(data.ticks.front());
    t1_ = static_cast<double>(data.ticks.back());
  }
  double X(double tick) const { return kLeft + (tick - t0_) / std::max(1.0, t1_ - t0_) * kPlotWidth; }

  // Frame, title and axis labels of panel `p`, scaled to the values of its series.
  void Frame(size_t p, const std::string& region, const std::string& var) {
    top_ = kTop + static_cast<double>(p) * (kPanel + kGap);
    lo_ = INFINITY, hi_ = -INFINITY;
    for (const ProbeSeries& s : data_.series)
      if (s.region == region && PanelVar(s.var) == var)
        for (double v : s.values) lo_ = std::min(lo_, v), hi_ = std::max(hi_, v);
    if (!(hi_ > lo_)) hi_ = lo_ + 1;
    std::fprintf(out_, "<text x=\"%.0f\" y=\"%.0f\" font-weight=\"bold\">%s %s</text>\n", kLeft, top_ - 14,
                 Escape(region).c_str(), Escape(var).c_str());
    std::fprintf(out_, "<rect x=\"%.0f\" y=\"%.0f\" width=\"%.0f\" height=\"%.0f\" fill=\"none\" stroke=\"#999\"/>\n",
                 kLeft, top_, kPlotWidth, kPanel);
    Label(kLeft - 4, top_ + 10, true, Number(hi_, 4));
    Label(kLeft - 4, top_ + kPanel, true, Number(lo_, 4));
    Label(kLeft, top_ + kPanel + 14, false, Number(kernel::TicksToMs(data_.ticks.front(), data_.dt_ms)) + " ms");
    Label(kLeft + kPlotWidth, top_ + kPanel + 14, true, Number(kernel::TicksToMs(data_.ticks.back(), data_.dt_ms)) + " ms");
  }

  // Series `s` as the `line`-th line of the current panel, with its legend entry and spikes.
  void Line(const ProbeSeries& s, size_t line) {
    const char* colour = kColours[line % std::size(kColours)];
    // One column per pixel: its first, lowest, highest and last value, in time order, so lines
    // stay continuous and peaks survive.
    std::map<long, std::vector<std::pair<double, double>>> columns;
    for (size_t k = 0; k < s.values.size(); ++k) {
      const double x = X(static_cast<double>(data_.ticks[k]));
      columns[std::lround(x)].push_back({x, s.values[k]});
    }
    std::fprintf(out_, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1\" points=\"", colour);
    for (const auto& [px, pts] : columns) {
      auto [mn, mx] = std::minmax_element(pts.begin(), pts.end(),
                                          [](const auto& a, const auto& b) { return a.second < b.second; });
      std::vector<std::pair<double, double>> keep = pts;
      if (keep.size() > 4) keep = {pts.front(), *mn, *mx, pts.back()};
      std::sort(keep.begin(), keep.end());
      keep.erase(std::unique(keep.begin(), keep.end()), keep.end());
      for (const auto& [x, v] : keep) std::fprintf(out_, "%.1f,%.2f ", x, Y(v));
    }
    std::fprintf(out_, "\"/>\n");
    // A w_in line: "n3←17", the weight onto neuron 3 from source neuron 17.
    const std::string label = (s.per_neuron ? "n" : "#") + std::to_string(s.index) +
                              (s.synapse.pathway.empty() ? "" : "\u2190" + std::to_string(s.synapse.source));
    if (line < kLegend)
      std::fprintf(out_, "<text x=\"%.0f\" y=\"%.0f\" fill=\"%s\">%s</text>\n",
                   kLeft + 200 + 50.0 * static_cast<double>(line), top_ - 14, colour,
                   line + 1 == kLegend ? "..." : Escape(label).c_str());
    if (!s.per_neuron) return;
    for (const ProbeSpikes& sp : data_.spikes) {
      if (sp.region != s.region || sp.neuron != s.index) continue;
      for (kernel::Tick t : sp.ticks) {
        if (static_cast<double>(t) > t1_) continue;
        const double x = X(static_cast<double>(t));
        std::fprintf(out_, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.0f\" y2=\"%.0f\" stroke=\"%s\"/>\n", x, x,
                     top_ - 8, top_ - 1, colour);
      }
    }
  }

 private:
  static std::string Escape(const std::string& text) {
    std::string e;
    for (char c : text) e += c == '<' ? "&lt;" : c == '>' ? "&gt;" : c == '&' ? "&amp;" : std::string(1, c);
    return e;
  }
  double Y(double v) const { return top_ + kPanel - (v - lo_) / (hi_ - lo_) * kPanel; }
  void Label(double x, double y, bool right, const std::string& text) {
    std::fprintf(out_, "<text x=\"%.0f\" y=\"%.0f\"%s>%s</text>\n", x, y, right ? " text-anchor=\"end\"" : "",
                 Escape(text).c_str());
  }

  FILE* out_;
  const ProbeData& data_;
  double t0_ = 0, t1_ = 0, top_ = 0, lo_ = 0, hi_ = 1;
};

}  // namespace

Status WriteProbeSvg(const ProbeData& data, const std::string& path) {
  // Panels: one per (region, var), in the order of the series; one for all w_in series of a region.
  std::vector<std::pair<std::string, std::string>> panels;
  for (const ProbeSeries& s : data.series)
    if (std::find(panels.begin(), panels.end(), std::make_pair(s.region, PanelVar(s.var))) == panels.end())
      panels.push_back({s.region, PanelVar(s.var)});
  auto f = Create(path);
  if (!f.ok()) return f.status();
  FILE* out = f.value().get();
  const double height = SvgPlot::kTop + static_cast<double>(panels.size()) * (SvgPlot::kPanel + SvgPlot::kGap) + 10;
  std::fprintf(out, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
               "font-family=\"sans-serif\" font-size=\"11\">\n<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
               SvgPlot::kWidth, std::max(height, 40.0));
  if (data.ticks.empty()) {
    std::fprintf(out, "<text x=\"%.0f\" y=\"20\">no samples in the probed window</text>\n</svg>\n", SvgPlot::kLeft);
    return Finish(std::move(f).value(), path);
  }
  SvgPlot plot(out, data);
  for (size_t p = 0; p < panels.size(); ++p) {
    plot.Frame(p, panels[p].first, panels[p].second);
    size_t line = 0;
    for (const ProbeSeries& s : data.series)
      if (s.region == panels[p].first && PanelVar(s.var) == panels[p].second) plot.Line(s, line++);
  }
  std::fprintf(out, "</svg>\n");
  return Finish(std::move(f).value(), path);
}

Status WriteProbeFile(const ProbeData& data, const std::string& path) {
  if (path.size() > 4 && path.compare(path.size() - 4, 4, ".svg") == 0) return WriteProbeSvg(data, path);
  return WriteProbeCsv(data, path);
}

}  // namespace thalia::replay
