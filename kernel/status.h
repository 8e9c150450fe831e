// Status and Result<T>: how every library boundary reports failure, with its context as fields.
// THALIA_CHECK: a broken invariant aborts with file and line (never for bad user input).
// Public API: installed with libthalia (thalia/meson.build lists the installed headers).
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace thalia {

// What kind of failure; tools map it to an exit status (DESIGN.md: 1 run failed, 2 bad input).
enum class ErrorKind : uint8_t {
  kOk = 0,
  kInvalidInput,  // configuration, trace or checkpoint unusable: exit 2
  kIo,            // file system failure: exit 1
  kWorker,        // a worker died, hung or reported an error: exit 1
  kCorrupt,       // checksum or verifier failure in a file: exit 2
  kDiverged,      // replay differs from the record: exit 3
  kInternal,
};

class [[nodiscard]] Status {
 public:
  Status() = default;
  static Status Ok() { return Status(); }
  static Status Error(ErrorKind kind, std::string message) {
    Status s;
    s.kind_ = kind;
    s.message_ = std::move(message);
    return s;
  }
  static Status Invalid(std::string m) { return Error(ErrorKind::kInvalidInput, std::move(m)); }
  static Status Io(std::string m) { return Error(ErrorKind::kIo, std::move(m)); }
  static Status Corrupt(std::string m) { return Error(ErrorKind::kCorrupt, std::move(m)); }
  static Status Worker(std::string m) { return Error(ErrorKind::kWorker, std::move(m)); }
  static Status Internal(std::string m) { return Error(ErrorKind::kInternal, std::move(m)); }

  bool ok() const { return kind_ == ErrorKind::kOk; }
  ErrorKind kind() const { return kind_; }
  const std::string& message() const { return message_; }
  // Adds context in front: "while loading x: <message>".
  Status Context(const std::string& what) const {
    if (ok()) return *this;
    return Error(kind_, what + ": " + message_);
  }
  // Exit status of the `thalia` command for this status (DESIGN.md, "The command line").
  int ExitCode() const {
    switch (kind_) {
      case ErrorKind::kOk: return 0;
      case ErrorKind::kInvalidInput:
      case ErrorKind::kCorrupt: return 2;
      case ErrorKind::kDiverged: return 3;
      default: return 1;
    }
  }

 private:
  ErrorKind kind_ = ErrorKind::kOk;
  std::string message_;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}        // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {  // NOLINT
    if (status_.ok()) status_ = Status::Internal("Result built from an ok Status");
  }
  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }
  T& value() & { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  T& operator*() { return *value_; }

 private:
  std::optional<T> value_;
  Status status_;
};

[[noreturn]] inline void CheckFailed(const char* file, int line, const char* expr,
                                     const std::string& what) {
  std::fprintf(stderr, "%s:%d: internal invariant broken: %s %s\n", file, line, expr, what.c_str());
  std::abort();
}

}  // namespace thalia

#define THALIA_CHECK(cond)                                         \
  do {                                                             \
    if (!(cond)) ::thalia::CheckFailed(__FILE__, __LINE__, #cond, ""); \
  } while (0)
#define THALIA_CHECK_MSG(cond, msg)                                   \
  do {                                                                \
    if (!(cond)) ::thalia::CheckFailed(__FILE__, __LINE__, #cond, (msg)); \
  } while (0)
#define THALIA_RETURN_IF_ERROR(expr)        \
  do {                                      \
    ::thalia::Status _st = (expr);          \
    if (!_st.ok()) return _st;              \
  } while (0)
