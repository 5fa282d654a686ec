// Audit export of the event log: JSON lines, CSV, and Asterisk's queue_log
// (../shared/contract/queue_log.md). Streams in constant memory: only the
// few facts queue_log lines need about calls still open and agents are kept.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "events/status.hpp"
#include "storage/event_log.hpp"

namespace callq::replay {

enum class export_format { jsonl, csv, queue_log };

/// "jsonl", "csv" or "queue_log"; anything else is invalid_argument.
status parse_export_format(std::string_view name, export_format* out);

/// What to export.
struct export_options {
  export_format format = export_format::jsonl;
  int64_t from_ms = 0;  ///< inclusive; 0: from the start
  int64_t to_ms = 0;    ///< exclusive; 0: to the end
  bool redact_phone = false;
};

/// Counts for the caller (progress, summaries).
struct export_report {
  uint64_t events_read = 0;
  uint64_t lines_written = 0;
};

/// Receives output in chunks; returns false to stop early.
using export_sink = std::function<bool(const std::string& chunk)>;
/// Called every 100,000 events read with the running report.
using export_progress = std::function<void(const export_report&, uint64_t last_seq)>;

/// Streams the export of `log` to `sink`.
status export_log(const storage::event_log& log, const export_options& opts,
                  const export_sink& sink, export_report* report,
                  const export_progress& progress = {});

/// Masks a phone number, keeping its country code and last 4 digits:
/// "+15551234567" -> "+1******4567". Non-numbers are returned unchanged.
std::string redact_phone(const std::string& number);

/// `s` as one CSV field: quoted (quotes doubled) when it holds a comma,
/// a quote or a line break.
std::string csv_field(const std::string& s);

}  // namespace callq::replay
