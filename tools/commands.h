// The subcommands of `thalia`, one file each, listed in one explicit table (tools/main.cc).
#pragma once

namespace thalia::tools {

// Each takes the arguments after the subcommand name and returns the process exit status.
int RunCommand(int argc, char** argv);
int RegionsCommand(int argc, char** argv);
int ReplayCommand(int argc, char** argv);
int TraceCommand(int argc, char** argv);

}  // namespace thalia::tools
