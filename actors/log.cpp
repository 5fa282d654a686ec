#include "actors/log.hpp"

#include <chrono>
#include <cstdint>
#include <cstdio>

#include "events/codec.hpp"

namespace callq {

const char* log_level_name(log_level level) {
  switch (level) {
    case log_level::info: return "INFO";
    case log_level::warn: return "WARN";
    case log_level::error: return "ERROR";
  }
  return "INFO";
}

std::string format_log_line(log_level level, int64_t now_ms, const std::string& text) {
  std::string name = log_level_name(level);
  name.resize(5, ' ');
  return events::format_iso8601(now_ms) + ' ' + name + ' ' + text;
}

void log_line(log_level level, const std::string& text) {
  int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  std::string line = format_log_line(level, now, text) + '\n';
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

}  // namespace callq
