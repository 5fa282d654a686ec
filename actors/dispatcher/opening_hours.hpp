// A queue's opening hours: weekly intervals and closed dates in an IANA
// time zone, and the two questions the call side asks of them (open now?
// when next?). Pure: no CAF, no clock (the time is an argument); local
// times are converted by Howard Hinnant's date library over the system's
// tz database, never by hand-written DST rules.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace callq {

/// What a caller outside opening hours is offered.
enum class closed_action { callback, message };
/// The wire word: "callback" or "message".
const char* closed_action_name(closed_action a);

/// One opening interval of a day, in minutes after local midnight
/// (`to_minute` may be 1440: open until midnight).
struct open_interval {
  int from_minute = 0, to_minute = 0;
};

/// Weekly opening hours in a time zone, and dates the queue is closed.
struct opening_hours {
  std::string timezone;                          ///< an IANA zone, e.g. Europe/Berlin
  std::array<std::vector<open_interval>, 7> weekly;  ///< index 0 = Monday
  std::vector<std::string> closed_dates;         ///< "YYYY-MM-DD", local dates
  std::string closed_message;
  closed_action action = closed_action::callback;
};

/// True when `at_ms` (Unix milliseconds) falls in one of the weekly
/// intervals of its local day in `h.timezone`, and that local date is not
/// a closed date. A zone the tz database does not know counts as closed.
bool is_open(const opening_hours& h, int64_t at_ms);

/// The first instant at or after `at_ms` when the queue is open: `at_ms`
/// itself when open, else the start of the next interval on a date that is
/// not closed. A local start that a DST change skips opens at the moment
/// the clocks jump; one that occurs twice (the hour repeated when summer
/// time ends) opens at each occurrence, as the wall clock reads. 0 when
/// nothing opens within 400 days.
int64_t next_opening(const opening_hours& h, int64_t at_ms);

/// The open spans of `h` that overlap [from_ms, to_ms), as [start, end)
/// instants in order, clipped to the range; adjacent intervals (e.g.
/// 22:00-24:00 and 00:00-06:00 the next day) are merged. Local times map
/// to instants as the wall clock reads them (a skipped one at the
/// transition; a repeated one at its first occurrence). Empty for a zone
/// the tz database does not know.
std::vector<std::pair<int64_t, int64_t>> open_spans(const opening_hours& h, int64_t from_ms,
                                                    int64_t to_ms);

/// "HH:MM" into minutes after midnight; "24:00" only when `end`. False for
/// anything else.
bool parse_clock_minutes(const std::string& text, bool end, int* out);

/// "mon" ... "sun" into 0 (Monday) ... 6; -1 for anything else.
int parse_day_key(const std::string& text);
/// 0 (Monday) ... 6 into "mon" ... "sun".
const char* day_key(int index);

/// The instant the local day holding `at_ms` began in `timezone` (an IANA
/// zone; empty or unknown: UTC). A day has 23 or 25 hours when the clocks
/// change; a midnight that occurs twice is its first occurrence, one the
/// clocks skip is the first instant of that day. A queue's "today" counts
/// from here.
int64_t local_day_start_ms(const std::string& timezone, int64_t at_ms);

}  // namespace callq
