// Queue and agent reports from the event log (`callq report`, `GET
// /api/reports/queues`): one pass over the log in sequence order, keeping
// only per-queue configurations, the live calls' queues, per-interval
// buckets and per-agent rows, so memory does not grow with the log.
// Definitions: README, "Reports".
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "actors/policy.hpp"
#include "events/status.hpp"
#include "storage/event_log.hpp"

namespace callq::replay {

/// The length of a report's intervals.
enum class report_interval { minutes_15, hour, day };

/// "15m", "1h" or "1d".
const char* interval_name(report_interval i);
/// Parses "15m", "1h" or "1d"; false for anything else.
bool parse_interval(const std::string& text, report_interval* out);
/// The interval's length in milliseconds.
int64_t interval_ms(report_interval i);

/// What to report on.
struct report_options {
  int64_t from_ms = 0;  ///< events at or after (0: the log's start)
  int64_t to_ms = 0;    ///< events before (0: the log's end)
  report_interval interval = report_interval::hour;
  std::string queue;    ///< one queue; empty: every queue
  /// `split=features`: also each feature-flag path's figures
  /// (queue_report::paths).
  bool split_features = false;
  /// Counts "answered within" against this many seconds instead of each
  /// queue's serviceLevelSeconds (0: the queue's).
  int64_t service_level_seconds = 0;
};

/// Parses `split` (empty or "features"); invalid_argument otherwise.
status parse_split(const std::string& split, report_options* out);

/// One path of calls under the same FEATURE_* flags (README, "Feature
/// flags by share of traffic").
struct path_figures {
  int64_t offered = 0;   ///< calls that arrived
  int64_t answered = 0, answered_within = 0;
  int64_t abandoned = 0, abandoned_after = 0;
  int64_t callbacks = 0;  ///< callbacks requested
};

/// One queue's figures over one interval (or the whole period).
struct queue_figures {
  int64_t offered = 0;          ///< calls that entered the queue (joined or overflowed in)
  int64_t answered = 0;         ///< calls connected to an agent
  int64_t answered_within = 0;  ///< of those, within serviceLevelSeconds of entering
  int64_t abandoned = 0;        ///< callers who hung up while waiting
  int64_t abandoned_after = 0;  ///< of those, after serviceLevelSeconds
  int64_t hold_seconds = 0;     ///< summed over answered calls
  int64_t completed = 0;        ///< calls whose talk ended
  int64_t talk_seconds = 0;     ///< summed over completed calls
  /// Time the queue's members were staffed (logged in, not paused,
  /// available or busy) within the interval, summed over them; the base
  /// of occupancy.
  int64_t staffed_ms = 0;
  /// Outcomes agents recorded at wrap-up (disposition -> calls), counted
  /// in the interval the wrap-up was recorded.
  std::map<std::string, int64_t> dispositions;
  void add(const queue_figures& o);
  /// answered_within / (answered + abandoned_after); negative when both are 0.
  double service_level() const;
  /// Average speed of answer: hold_seconds / answered (0 without answers).
  double asa_seconds() const;
  /// Average handle time: talk_seconds / completed (0 without any).
  double aht_seconds() const;
  /// Occupancy: talk time over staffed time (0 without staffed time).
  double occupancy() const;
};

/// One agent's figures over the period.
struct agent_figures {
  int64_t answered = 0;       ///< calls connected to the agent
  int64_t talk_seconds = 0;   ///< calls and callbacks completed
  int64_t missed_offers = 0;  ///< offers that rang out, busy or failed
  int64_t paused_ms = 0;      ///< on break or paused, within the period
  /// The same by reason: the reason given with the break ("unspecified"
  /// when none), or "auto-pause" for callq's own.
  std::map<std::string, int64_t> paused_ms_by_reason;
};

/// One announced wait compared with the wait that followed it.
struct announced_sample {
  int64_t ahead = 0;       ///< callers ahead when it was announced (position - 1)
  double rel_error = 0;    ///< (announced - actual) / actual
  int covered = -1;        ///< actual within the announced 10th-90th range: 1/0; -1 no range (schema 1)
};

/// How well a queue's announced waits came true (README, "Announced
/// waits"): every announcement in the period, and those whose caller was
/// then answered (callers who abandoned or took a callback are left out).
struct announced_waits {
  int64_t announcements = 0;
  std::vector<announced_sample> samples;
};

/// Parses a report's request: `from` and `to` ISO 8601 (empty: open),
/// `interval` (empty: 1h), `queue` (empty: every queue). invalid_argument
/// with a reason naming the field for anything else, or for `to` not
/// after `from`. One check for `callq report` and the API.
status parse_report_options(const std::string& from, const std::string& to,
                            const std::string& interval, const std::string& queue,
                            report_options* out);

/// A queue's service level goal: answered within `seconds`, for at least
/// `ratio` of the calls (its configuration at the period's end).
struct service_target {
  int64_t seconds = 20;
  double ratio = 0.8;
};

/// The whole report.
struct queue_report {
  int64_t from_ms = 0, to_ms = 0;
  report_interval interval = report_interval::hour;
  /// queue -> interval start (UTC-aligned) -> figures.
  std::map<std::string, std::map<int64_t, queue_figures>> queues;
  std::map<std::string, service_target> targets;  ///< for every queue in `queues`
  std::map<std::string, agent_figures> agents;
  std::map<std::string, announced_waits> announced;  ///< by queue
  /// With split_features: by path ("all on", "off: FEATURE_...", "unrecorded").
  std::map<std::string, path_figures> paths;
  bool split_features = false;
  /// queue -> interval start -> staffed time of its members (ms), also for
  /// intervals without calls (queue_figures::staffed_ms holds it for those
  /// with calls).
  std::map<std::string, std::map<int64_t, int64_t>> staffed_ms;
  /// staffed_ms of `queue` in the interval starting at `start` (0: none).
  int64_t staffed(const std::string& queue, int64_t start) const;
};

/// `{"announcements","compared","medianAbsRelError","bias","coverage80",
/// "byAhead":[{"ahead":"0"|"1-3"|"4-10"|"11+", ...}]}`; the figures are
/// null without a compared announcement.
nlohmann::json announced_to_json(const announced_waits& a);

class reporter;

/// A report computed from events given one at a time, in log order:
/// build_report() feeds it the log, `callq simulate` its simulated
/// events, so both count the same way.
class report_builder {
 public:
  /// Fills `out` (which must outlive the builder). `rules` decide when an
  /// agent counts as staffed (is_staffed()).
  report_builder(const report_options& options, const policy& rules, queue_report* out);
  ~report_builder();
  report_builder(const report_builder&) = delete;
  report_builder& operator=(const report_builder&) = delete;

  /// Counts one event (of `stream`, e.g. "agent/alice").
  void add(const std::string& stream, const events::event& e);
  /// Closes what is open (pauses, staffed time) at `end_ms` and sets the
  /// queues' targets. Call once, last.
  void finish(int64_t end_ms);

 private:
  report_options options_;
  std::unique_ptr<reporter> impl_;
};

/// Reads `log` once and computes the report; `progress` (if set) is
/// called now and then with the sequence number reached.
status build_report(const storage::event_log& log, const report_options& options,
                    queue_report* out, const std::function<void(uint64_t)>& progress = {});

/// The report as `GET /api/reports/queues` answers it.
nlohmann::json report_to_json(const queue_report& r);

}  // namespace callq::replay
