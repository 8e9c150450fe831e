// A small command-line parser shared by every subcommand: named options with values, flags,
// positionals, durations with units, and a generated --help.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "kernel/status.h"
#include "kernel/types.h"

namespace thalia::tools {

class Args {
 public:
  // usage: first line of --help ("thalia run CONFIG [options]"); summary: what the command does.
  Args(std::string usage, std::string summary) : usage_(std::move(usage)), summary_(std::move(summary)) {}
  void Option(const std::string& name, const std::string& value_name, const std::string& help);
  void Flag(const std::string& name, const std::string& help);
  // An option that may be given more than once (read with GetAll).
  void Repeated(const std::string& name, const std::string& value_name, const std::string& help);
  void Positional(const std::string& name, const std::string& help, bool required = true);

  // Parses argv (after the subcommand). Returns an error for unknown or malformed options.
  Status Parse(int argc, char** argv);
  bool help() const { return help_; }
  std::string Help() const;

  bool Has(const std::string& name) const { return values_.count(name) > 0; }
  std::string Get(const std::string& name, const std::string& def = "") const;
  // Every value of a Repeated option, in command-line order.
  std::vector<std::string> GetAll(const std::string& name) const;
  const std::vector<std::string>& positionals() const { return positionals_; }
  Result<uint64_t> GetUint(const std::string& name, uint64_t def) const;
  Result<int64_t> GetInt(const std::string& name, int64_t def) const;

 private:
  struct Spec {
    std::string value_name, help;
    bool flag;
    bool repeated = false;
  };
  std::string usage_, summary_;
  std::map<std::string, Spec> specs_;
  std::vector<std::string> order_;
  std::vector<std::pair<std::string, std::string>> positional_specs_;
  std::vector<bool> positional_required_;
  std::map<std::string, std::string> values_;
  std::map<std::string, std::vector<std::string>> all_values_;
  std::vector<std::string> positionals_;
  bool help_ = false;
};

// "500ms", "2s", "1.5s", "100us", "3min" -> milliseconds.
Result<double> ParseDurationMs(const std::string& text);
// The same as whole ticks of `dt_ms` (kernel::MsToTicks); a duration of kernel::kMaxTick ticks
// or more is refused, as no run reaches it.
Result<kernel::Tick> ParseDurationTicks(const std::string& text, double dt_ms);

}  // namespace thalia::tools
