// Operational log lines on stderr: "2026-11-26T19:04:31.123Z WARN  text".
// One line per call, written whole (threads do not interleave within a
// line). The time is the wall clock's: logs are for operators, not state.
#pragma once

#include <cstdint>
#include <string>

namespace callq {

/// How much a log line matters.
enum class log_level { info, warn, error };

/// "INFO", "WARN" or "ERROR".
const char* log_level_name(log_level level);

/// The line `log_line()` writes for `text` at `now_ms` (without the newline).
std::string format_log_line(log_level level, int64_t now_ms, const std::string& text);

/// Writes one line to stderr, stamped with the wall clock's time.
void log_line(log_level level, const std::string& text);

}  // namespace callq
