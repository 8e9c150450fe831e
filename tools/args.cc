// Options are "--name value" or "--name=value"; "--" ends options.
#include "tools/args.h"

#include <cmath>
#include <cstdlib>

namespace thalia::tools {

void Args::Option(const std::string& name, const std::string& value_name, const std::string& help) {
  specs_[name] = {value_name, help, false, false};
  order_.push_back(name);
}
void Args::Repeated(const std::string& name, const std::string& value_name, const std::string& help) {
  specs_[name] = {value_name, help + " (may be repeated)", false, true};
  order_.push_back(name);
}
void Args::Flag(const std::string& name, const std::string& help) {
  specs_[name] = {"", help, true, false};
  order_.push_back(name);
}
void Args::Positional(const std::string& name, const std::string& help, bool required) {
  positional_specs_.push_back({name, help});
  positional_required_.push_back(required);
}

Status Args::Parse(int argc, char** argv) {
  bool options_done = false;
  for (int i = 0; i < argc; ++i) {
    std::string a = argv[i];
    if (!options_done && (a == "--help" || a == "-h")) {
      help_ = true;
      return Status::Ok();
    }
    if (!options_done && a == "--") {
      options_done = true;
      continue;
    }
    if (!options_done && a.size() > 2 && a.rfind("--", 0) == 0) {
      std::string name = a.substr(2), value;
      bool has_value = false;
      if (size_t eq = name.find('='); eq != std::string::npos) {
        value = name.substr(eq + 1);
        name = name.substr(0, eq);
        has_value = true;
      }
      auto it = specs_.find(name);
      if (it == specs_.end()) return Status::Invalid("unknown option --" + name + " (see --help)");
      if (it->second.flag) {
        if (has_value) return Status::Invalid("option --" + name + " takes no value");
        values_[name] = "1";
        continue;
      }
      if (!has_value) {
        if (i + 1 >= argc) return Status::Invalid("option --" + name + " needs a value (" + it->second.value_name + ")");
        value = argv[++i];
      }
      values_[name] = value;
      if (it->second.repeated) all_values_[name].push_back(value);
      continue;
    }
    positionals_.push_back(a);
  }
  if (positionals_.size() > positional_specs_.size())
    return Status::Invalid("unexpected argument '" + positionals_[positional_specs_.size()] + "' (see --help)");
  for (size_t i = positionals_.size(); i < positional_specs_.size(); ++i)
    if (positional_required_[i])
      return Status::Invalid("missing " + positional_specs_[i].first + " (see --help)");
  return Status::Ok();
}

std::string Args::Help() const {
  std::string s = "usage: " + usage_ + "\n\n" + summary_ + "\n";
  if (!positional_specs_.empty()) {
    s += "\narguments:\n";
    for (auto& [name, help] : positional_specs_) s += "  " + name + std::string(std::max<int>(1, 24 - static_cast<int>(name.size())), ' ') + help + "\n";
  }
  s += "\noptions:\n";
  for (const std::string& name : order_) {
    const Spec& sp = specs_.at(name);
    std::string left = "--" + name + (sp.flag ? "" : " " + sp.value_name);
    s += "  " + left + std::string(std::max<int>(1, 24 - static_cast<int>(left.size())), ' ') + sp.help + "\n";
  }
  s += "  --help                  show this help\n";
  return s;
}

std::string Args::Get(const std::string& name, const std::string& def) const {
  auto it = values_.find(name);
  return it == values_.end() ? def : it->second;
}

std::vector<std::string> Args::GetAll(const std::string& name) const {
  auto it = all_values_.find(name);
  return it == all_values_.end() ? std::vector<std::string>() : it->second;
}

Result<uint64_t> Args::GetUint(const std::string& name, uint64_t def) const {
  if (!Has(name)) return def;
  const std::string v = Get(name);
  char* end = nullptr;
  errno = 0;
  unsigned long long x = std::strtoull(v.c_str(), &end, 10);
  if (v.empty() || *end || errno || v[0] == '-')
    return Status::Invalid("--" + name + ": expected a whole number >= 0, got '" + v + "'");
  return static_cast<uint64_t>(x);
}

Result<int64_t> Args::GetInt(const std::string& name, int64_t def) const {
  if (!Has(name)) return def;
  const std::string v = Get(name);
  char* end = nullptr;
  errno = 0;
  long long x = std::strtoll(v.c_str(), &end, 10);
  if (v.empty() || *end || errno) return Status::Invalid("--" + name + ": expected a whole number, got '" + v + "'");
  return static_cast<int64_t>(x);
}

Result<kernel::Tick> ParseDurationTicks(const std::string& text, double dt_ms) {
  auto ms = ParseDurationMs(text);
  if (!ms.ok()) return ms.status();
  const kernel::Tick ticks = kernel::MsToTicks(ms.value(), dt_ms);
  if (ticks >= kernel::kMaxTick)
    return Status::Invalid("duration '" + text + "' is beyond the longest run (2^62 ticks)");
  return ticks;
}

Result<double> ParseDurationMs(const std::string& text) {
  char* end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  std::string unit = end ? std::string(end) : "";
  double scale;
  if (unit == "ms") scale = 1;
  else if (unit == "s") scale = 1000;
  else if (unit == "us") scale = 0.001;
  else if (unit == "min") scale = 60000;
  else
    return Status::Invalid("duration '" + text + "': expected a number with a unit (us, ms, s, min), e.g. 500ms or 2s");
  if (end == text.c_str() || !std::isfinite(v) || v < 0)
    return Status::Invalid("duration '" + text + "': expected a non-negative number with a unit");
  return v * scale;
}

}  // namespace thalia::tools
