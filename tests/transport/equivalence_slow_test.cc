// The `thalia` command end to end: the same `digest` line sequentially and with 1, 2, 3 and 5
// workers, fork and spawn, and two placements, over a simulated second; and Ctrl-C sent to the
// whole process group of a parallel run leaves no process behind.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <dirent.h>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "tests/test_util.h"

namespace thalia::testing {
namespace {

struct CommandResult {
  int status = -1;
  std::string output;
};

CommandResult RunThalia(const std::string& args) {
  CommandResult r;
  std::string cmd = ThaliaBinary() + " " + args + " 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return r;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.output.append(buf, n);
  int st = ::pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

std::string DigestLine(const std::string& output) {
  size_t at = output.rfind("\ndigest ");
  return at == std::string::npos ? "" : output.substr(at + 1, 23);
}

TEST(Command, DigestLineIsTheSameInEveryMode) {
  const std::string config = ExamplePath("tiny.json") + " --until 1s --quiet";
  CommandResult seq = RunThalia("run " + config);
  ASSERT_EQ(seq.status, 0) << seq.output;
  const std::string expected = DigestLine(seq.output);
  ASSERT_EQ(expected.size(), 23u) << seq.output;
  for (const char* mode : {"--workers 1", "--workers 2", "--workers 3", "--workers 5",
                           "--workers 2 --launch spawn", "--workers 5 --launch spawn",
                           "--workers 2 --placement 0,1,1,0,0", "--workers 3 --placement 2,2,1,0,1 --launch spawn"}) {
    CommandResult r = RunThalia("run " + config + " " + mode);
    EXPECT_EQ(r.status, 0) << mode << "\n" << r.output;
    EXPECT_EQ(DigestLine(r.output), expected) << mode << "\n" << r.output;
  }
}

TEST(Command, SummaryShowsEveryWorkersLoad) {
  std::string tmpl = (std::filesystem::temp_directory_path() / "thalia-transport-XXXXXX").string();
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  ASSERT_NE(::mkdtemp(buf.data()), nullptr);
  std::string summary = std::string(buf.data()) + "/summary.json";
  CommandResult r = RunThalia("run " + ExamplePath("tiny.json") + " --until 200ms --quiet --workers 2 --summary " + summary);
  ASSERT_EQ(r.status, 0) << r.output;
  std::ifstream in(summary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("\"worker\": 1"), std::string::npos) << text;
  EXPECT_NE(text.find("\"busy_s\""), std::string::npos);
  EXPECT_EQ(text.find("\"pid\": 0"), std::string::npos) << text;
  std::remove(summary.c_str());
  ::rmdir(buf.data());
}

// Processes (other than zombies already reaped) in process group `pgid`.
int ProcessesInGroup(pid_t pgid) {
  int count = 0;
  DIR* d = ::opendir("/proc");
  if (!d) return -1;
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    std::ifstream stat(std::string("/proc/") + e->d_name + "/stat");
    std::string line;
    std::getline(stat, line);
    size_t close = line.rfind(')');
    if (close == std::string::npos) continue;
    char state;
    int ppid, pgrp;
    if (std::sscanf(line.c_str() + close + 1, " %c %d %d", &state, &ppid, &pgrp) == 3 && pgrp == pgid) ++count;
  }
  ::closedir(d);
  return count;
}

TEST(Command, CtrlCToTheProcessGroupStopsCleanlyAndLeavesNoProcess) {
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::setpgid(0, 0);
    std::string bin = ThaliaBinary(), cfg = ExamplePath("tiny.json");
    ::execl(bin.c_str(), "thalia", "run", cfg.c_str(), "--until", "1000s", "--quiet", "--workers", "3",
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::setpgid(pid, pid);
  std::this_thread::sleep_for(std::chrono::milliseconds(800));
  EXPECT_EQ(ProcessesInGroup(pid), 4);  // the coordinator and its three workers
  ::kill(-pid, SIGINT);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 1);
  EXPECT_EQ(ProcessesInGroup(pid), 0);
}

}  // namespace
}  // namespace thalia::testing
