// A LevelDB-style result value for operations that can fail on hot paths:
// no exceptions, a code and a one-line message.
#pragma once

#include <string>
#include <utility>

namespace callq {

/// The outcome of an operation. Cheap to copy when ok().
class status {
 public:
  enum class code { ok, not_found, corruption, invalid_argument, io_error,
                    not_supported, fenced, conflict };

  /// An ok status.
  status() = default;

  static status ok() { return {}; }
  static status not_found(std::string msg) { return {code::not_found, std::move(msg)}; }
  static status corruption(std::string msg) { return {code::corruption, std::move(msg)}; }
  static status invalid_argument(std::string msg) { return {code::invalid_argument, std::move(msg)}; }
  static status io_error(std::string msg) { return {code::io_error, std::move(msg)}; }
  static status not_supported(std::string msg) { return {code::not_supported, std::move(msg)}; }
  /// A write refused because another writer took the log over (a leader
  /// that lost its leadership; README, "High availability").
  static status fenced(std::string msg) { return {code::fenced, std::move(msg)}; }
  /// A write refused because a stream was not at the version its writer
  /// expected (optimistic concurrency); nothing of it was written.
  static status conflict(std::string msg) { return {code::conflict, std::move(msg)}; }

  bool is_ok() const { return code_ == code::ok; }
  explicit operator bool() const { return is_ok(); }
  code error_code() const { return code_; }
  bool is_not_found() const { return code_ == code::not_found; }
  bool is_corruption() const { return code_ == code::corruption; }
  bool is_fenced() const { return code_ == code::fenced; }
  bool is_conflict() const { return code_ == code::conflict; }

  /// The message without the code; empty when ok.
  const std::string& message() const { return message_; }

  /// "OK" or "<code>: <message>".
  std::string to_string() const;

 private:
  status(code c, std::string msg) : code_(c), message_(std::move(msg)) {}
  code code_ = code::ok;
  std::string message_;
};

inline std::string status::to_string() const {
  switch (code_) {
    case code::ok: return "OK";
    case code::not_found: return "not found: " + message_;
    case code::corruption: return "corruption: " + message_;
    case code::invalid_argument: return "invalid argument: " + message_;
    case code::io_error: return "I/O error: " + message_;
    case code::not_supported: return "not supported: " + message_;
    case code::fenced: return "fenced: " + message_;
    case code::conflict: return "conflict: " + message_;
  }
  return message_;
}

}  // namespace callq
