#include "actors/dispatcher/opening_hours.hpp"

#include <algorithm>
#include <chrono>
#include <cctype>
#include <cstdio>

#include <date/date.h>
#include <date/tz.h>

namespace callq {

namespace {

using std::chrono::milliseconds;
using std::chrono::minutes;

/// Monday = 0 ... Sunday = 6.
int weekday_index(date::local_days d) {
  return static_cast<int>((date::weekday{d}.c_encoding() + 6) % 7);
}

bool closed_on(const opening_hours& h, date::local_days d) {
  date::year_month_day ymd{d};
  char text[16];
  std::snprintf(text, sizeof text, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
  return std::find(h.closed_dates.begin(), h.closed_dates.end(), text) != h.closed_dates.end();
}

const date::time_zone* zone_of(const opening_hours& h) {
  try {
    return date::locate_zone(h.timezone);
  } catch (const std::exception&) {
    return nullptr;
  }
}

}  // namespace

const char* closed_action_name(closed_action a) {
  return a == closed_action::message ? "message" : "callback";
}

bool is_open(const opening_hours& h, int64_t at_ms) {
  const date::time_zone* tz = zone_of(h);
  if (!tz)
    return false;
  auto local = tz->to_local(date::sys_time<milliseconds>{milliseconds{at_ms}});
  auto day = date::floor<date::days>(local);
  if (closed_on(h, day))
    return false;
  auto minute = std::chrono::duration_cast<minutes>(local - day).count();
  for (const open_interval& iv : h.weekly[weekday_index(day)])
    if (minute >= iv.from_minute && minute < iv.to_minute)
      return true;
  return false;
}

int64_t next_opening(const opening_hours& h, int64_t at_ms) {
  if (is_open(h, at_ms))
    return at_ms;
  const date::time_zone* tz = zone_of(h);
  if (!tz)
    return 0;
  auto start_day =
      date::floor<date::days>(tz->to_local(date::sys_time<milliseconds>{milliseconds{at_ms}}));
  for (int i = 0; i <= 400; ++i) {
    auto day = start_day + date::days{i};
    if (closed_on(h, day))
      continue;
    int64_t best = 0;
    for (const open_interval& iv : h.weekly[weekday_index(day)]) {
      date::local_time<minutes> local_start = day + minutes{iv.from_minute};
      // A skipped local time maps to the transition (either choice); a
      // repeated one opens at both occurrences, as the wall clock says.
      for (auto choice : {date::choose::earliest, date::choose::latest}) {
        int64_t start_ms = std::chrono::duration_cast<milliseconds>(
                               tz->to_sys(local_start, choice).time_since_epoch())
                               .count();
        if (start_ms > at_ms && (best == 0 || start_ms < best))
          best = start_ms;
      }
    }
    if (best)
      return best;
  }
  return 0;
}

std::vector<std::pair<int64_t, int64_t>> open_spans(const opening_hours& h, int64_t from_ms,
                                                    int64_t to_ms) {
  std::vector<std::pair<int64_t, int64_t>> out;
  const date::time_zone* tz = zone_of(h);
  if (!tz || to_ms <= from_ms)
    return out;
  auto instant = [tz](date::local_time<minutes> t) {
    return std::chrono::duration_cast<milliseconds>(tz->to_sys(t, date::choose::earliest).time_since_epoch())
        .count();
  };
  auto local_day = [tz](int64_t ms) {
    return date::floor<date::days>(tz->to_local(date::sys_time<milliseconds>{milliseconds{ms}}));
  };
  for (auto day = local_day(from_ms) - date::days{1}; day <= local_day(to_ms); day += date::days{1}) {
    if (closed_on(h, day))
      continue;
    for (const open_interval& iv : h.weekly[weekday_index(day)]) {
      int64_t start = std::max(from_ms, instant(day + minutes{iv.from_minute}));
      int64_t end = std::min(to_ms, instant(day + minutes{iv.to_minute}));
      if (end <= start)
        continue;
      if (!out.empty() && out.back().second >= start)
        out.back().second = std::max(out.back().second, end);
      else
        out.emplace_back(start, end);
    }
  }
  return out;
}

bool parse_clock_minutes(const std::string& s, bool end, int* out) {
  if (s.size() != 5 || s[2] != ':' || !std::isdigit(static_cast<unsigned char>(s[0])) ||
      !std::isdigit(static_cast<unsigned char>(s[1])) || !std::isdigit(static_cast<unsigned char>(s[3])) ||
      !std::isdigit(static_cast<unsigned char>(s[4])))
    return false;
  int h = (s[0] - '0') * 10 + (s[1] - '0'), mi = (s[3] - '0') * 10 + (s[4] - '0');
  if (mi > 59 || h > 24 || (h == 24 && (mi != 0 || !end)))
    return false;
  *out = h * 60 + mi;
  return true;
}

namespace {
constexpr const char* day_keys[7] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
}  // namespace

int parse_day_key(const std::string& text) {
  for (int i = 0; i < 7; ++i)
    if (text == day_keys[i])
      return i;
  return -1;
}

const char* day_key(int index) { return day_keys[((index % 7) + 7) % 7]; }

int64_t local_day_start_ms(const std::string& timezone, int64_t at_ms) {
  date::sys_time<milliseconds> at{milliseconds{at_ms}};
  const date::time_zone* tz = nullptr;
  if (!timezone.empty()) {
    try {
      tz = date::locate_zone(timezone);
    } catch (const std::exception&) {  // a zone the tz database lost: UTC
    }
  }
  if (!tz)
    return std::chrono::duration_cast<milliseconds>(date::floor<date::days>(at).time_since_epoch()).count();
  auto local_midnight = date::floor<date::days>(tz->to_local(at));
  // earliest: a midnight that occurs twice is its first; one the clocks
  // skip is the transition, the first instant of that local day.
  return std::chrono::duration_cast<milliseconds>(
             tz->to_sys(local_midnight, date::choose::earliest).time_since_epoch())
      .count();
}

}  // namespace callq
