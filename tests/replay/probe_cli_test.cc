// `thalia replay --probe` and `thalia regions --vars` as a user runs them: the CSV and SVG they
// write, and bad probe specifications refused with exit status 2 and the reason.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "tests/recorder/trace_test_util.h"

namespace thalia::testing {
namespace {

std::string Quote(const std::string& s) { return "'" + s + "'"; }

std::vector<std::string> Lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

class ProbeCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    trace_ = dir_->File("run.trace");
    auto r = RunThalia("run " + Quote(ExamplePath("tiny.json")) + " --until 100ms --quiet --workers 2 --record " +
                           Quote(trace_),
                       *dir_);
    ASSERT_EQ(r.exit_code, 0) << r.out;
  }
  static void TearDownTestSuite() { delete dir_; }
  static CommandResult Replay(const std::string& args) { return RunThalia("replay " + Quote(trace_) + " " + args, *dir_); }
  static TempDir* dir_;
  static std::string trace_;
};
TempDir* ProbeCli::dir_ = nullptr;
std::string ProbeCli::trace_;

TEST_F(ProbeCli, ACsvProbeHasOneRowPerSampledTickAndAColumnPerSeries) {
  const std::string csv = dir_->File("p.csv");
  auto r = Replay("--probe cortex:0-2:v,syn_e --probe pfc:E:v --probe-every 10 --probe-out " + Quote(csv));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("identical:"), std::string::npos) << r.out;
  const std::vector<std::string> lines = Lines(csv);
  ASSERT_EQ(lines.size(), 1u + 1000 / 10);
  EXPECT_EQ(lines[0].rfind("tick,time_ms,cortex:0:v,cortex:1:v,cortex:2:v,cortex:0:syn_e,", 0), 0u) << lines[0];
  EXPECT_NE(lines[0].find(",pfc:0:v,"), std::string::npos);
  EXPECT_NE(lines[0].find(",cortex:2:spikes,"), std::string::npos);
  EXPECT_EQ(lines[2].rfind("10,1,", 0), 0u) << lines[2];
  const size_t columns = std::count(lines[0].begin(), lines[0].end(), ',');
  for (const std::string& line : lines) ASSERT_EQ(std::count(line.begin(), line.end(), ','), columns) << line;
}

TEST_F(ProbeCli, AnSvgProbeIsAPlotWithALinePerNeuron) {
  const std::string svg = dir_->File("p.svg");
  auto r = Replay("--region pfc --probe pfc:0-3:v --probe-out " + Quote(svg));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  std::ifstream in(svg);
  std::stringstream text;
  text << in.rdbuf();
  const std::string s = text.str();
  EXPECT_EQ(s.rfind("<svg ", 0), 0u);
  EXPECT_NE(s.find("</svg>"), std::string::npos);
  size_t lines = 0;
  for (size_t p = s.find("<polyline"); p != std::string::npos; p = s.find("<polyline", p + 1)) ++lines;
  EXPECT_EQ(lines, 4u);
}

// cortex 100-239 is L2/3, whose recurrent pathway is plastic (indegree 50).
TEST_F(ProbeCli, AWeightsInProbeHasAColumnPerPlasticSynapseNamedByItsSource) {
  const std::string csv = dir_->File("w.csv");
  auto r = Replay("--probe cortex:100,101:w_in --probe-every 100 --probe-out " + Quote(csv));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const std::vector<std::string> lines = Lines(csv);
  ASSERT_EQ(lines.size(), 1u + 1000 / 100);
  size_t onto100 = 0, onto101 = 0;
  for (size_t p = lines[0].find(",cortex:100:w_in[src=cortex:"); p != std::string::npos;
       p = lines[0].find(",cortex:100:w_in[src=cortex:", p + 1))
    ++onto100;
  for (size_t p = lines[0].find(",cortex:101:w_in[src=cortex:"); p != std::string::npos;
       p = lines[0].find(",cortex:101:w_in[src=cortex:", p + 1))
    ++onto101;
  EXPECT_EQ(onto100, 50u) << lines[0];
  EXPECT_EQ(onto101, 50u);
  EXPECT_NE(lines[0].find(",cortex:100:spikes"), std::string::npos);
  const size_t columns = std::count(lines[0].begin(), lines[0].end(), ',');
  EXPECT_EQ(columns, 1u + 100 + 2);
  for (const std::string& line : lines) ASSERT_EQ(std::count(line.begin(), line.end(), ','), columns) << line;
  // The SVG draws them in one panel, a line per synapse.
  const std::string svg = dir_->File("w.svg");
  r = Replay("--probe cortex:100:w_in --probe-out " + Quote(svg));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  std::ifstream in(svg);
  std::stringstream text;
  text << in.rdbuf();
  const std::string s = text.str();
  size_t polylines = 0, panels = 0;
  for (size_t p = s.find("<polyline"); p != std::string::npos; p = s.find("<polyline", p + 1)) ++polylines;
  for (size_t p = s.find("<rect x="); p != std::string::npos; p = s.find("<rect x=", p + 1)) ++panels;
  EXPECT_EQ(polylines, 50u);
  EXPECT_EQ(panels, 1u);
  EXPECT_NE(s.find(">cortex w_in<"), std::string::npos);
}

void ExpectExit2(const CommandResult& r, const std::string& words) {
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find(words), std::string::npos) << r.out;
}

TEST_F(ProbeCli, BadProbeSpecificationsExitWithStatus2AndTheReason) {
  const std::string out = " --probe-out " + Quote(dir_->File("bad.csv"));
  ExpectExit2(Replay("--probe thalamus:0:v" + out), "no region 'thalamus'");
  ExpectExit2(Replay("--probe pfc:200:v" + out), "neuron 200 is out of range: region pfc has 200 neurons");
  ExpectExit2(Replay("--probe pfc:0:voltage" + out), "no variable 'voltage'");
  ExpectExit2(Replay("--probe pfc:0-3"), "--probe needs --probe-out");
  ExpectExit2(Replay("--probe pfc:0:v --probe-every 0" + out), "--probe-every");
  ExpectExit2(Replay("--probe-out x.csv"), "go with --probe");
  ExpectExit2(Replay("--probe cortex:0:w_in" + out), "--probe cortex:0:w_in: neuron 0 (cortex.L4) receives no plastic pathway");
  ExpectExit2(Replay("--probe striatum:0:w_in.hippocampus" + out), "no plastic pathway from 'hippocampus' into striatum");
}

TEST_F(ProbeCli, ReplayHelpShowsTheProbeOptions) {
  auto r = RunThalia("replay --help", *dir_);
  EXPECT_EQ(r.exit_code, 0);
  for (const char* option : {"--probe REGION:NEURONS:VARS", "--probe-out FILE", "--probe-every TICKS", "w_in.SOURCE",
                             "w_in[src=SOURCE_REGION:SOURCE_NEURON]"})
    EXPECT_NE(r.out.find(option), std::string::npos) << option;
}

TEST_F(ProbeCli, RegionsVarsListsTheVariablesOfEachRegionOfAConfiguration) {
  auto r = RunThalia("regions --vars " + Quote(ExamplePath("tiny.json")), *dir_);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  for (const char* word : {"striatum (type striatum, 200 neurons)", "    v ", "refractory", ".post_trace", ".weight",
                           "incoming plastic weights", "    w_in ", "from cortex.L5 -> D1 (0-89), dopamine STDP"})
    EXPECT_NE(r.out.find(word), std::string::npos) << word << "\n" << r.out;
}

}  // namespace
}  // namespace thalia::testing
