#include "actors/dispatcher/opening_hours.hpp"

#include <chrono>

#include <catch2/catch.hpp>
#include <date/date.h>

using namespace callq;

namespace {

/// Unix milliseconds of a UTC date and time.
int64_t utc(int y, unsigned mo, unsigned d, int h, int mi = 0) {
  auto t = date::sys_days{date::year{y} / mo / d} + std::chrono::hours{h} + std::chrono::minutes{mi};
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

opening_hours weekdays(const std::string& tz, int from_minute, int to_minute, int days = 5) {
  opening_hours h;
  h.timezone = tz;
  for (int d = 0; d < days; ++d)
    h.weekly[d] = {{from_minute, to_minute}};
  return h;
}

}  // namespace

TEST_CASE("opening hours follow Berlin's clocks across the end of summer time") {
  auto h = weekdays("Europe/Berlin", 8 * 60, 17 * 60);
  // Friday 23 October 2026 is still CEST (UTC+2): 08:00 local is 06:00 UTC.
  CHECK_FALSE(is_open(h, utc(2026, 10, 23, 5, 59)));
  CHECK(is_open(h, utc(2026, 10, 23, 6, 0)));
  CHECK(is_open(h, utc(2026, 10, 23, 14, 59)));
  CHECK_FALSE(is_open(h, utc(2026, 10, 23, 15, 0)));
  // Monday 26 October is CET (UTC+1): 08:00 local is 07:00 UTC.
  CHECK_FALSE(is_open(h, utc(2026, 10, 26, 6, 30)));
  CHECK(is_open(h, utc(2026, 10, 26, 7, 0)));
  // From Friday evening the next opening is Monday 08:00 CET.
  CHECK(next_opening(h, utc(2026, 10, 23, 16, 0)) == utc(2026, 10, 26, 7, 0));
  // While open, the next opening is now.
  CHECK(next_opening(h, utc(2026, 10, 26, 9, 0)) == utc(2026, 10, 26, 9, 0));
}

TEST_CASE("opening hours follow New York's clocks across the start of daylight time") {
  auto h = weekdays("America/New_York", 9 * 60, 17 * 60, 7);
  // Saturday 7 March 2026, EST (UTC-5): 09:00 is 14:00 UTC, 17:00 is 22:00.
  CHECK(is_open(h, utc(2026, 3, 7, 14, 0)));
  CHECK_FALSE(is_open(h, utc(2026, 3, 7, 22, 0)));
  // Sunday 8 March, EDT (UTC-4) from 02:00 local: 09:00 is 13:00 UTC.
  CHECK(next_opening(h, utc(2026, 3, 7, 22, 30)) == utc(2026, 3, 8, 13, 0));
  CHECK_FALSE(is_open(h, utc(2026, 3, 8, 12, 59)));
  CHECK(is_open(h, utc(2026, 3, 8, 13, 0)));
}

TEST_CASE("an opening time that the change to daylight time skips opens when the clocks jump") {
  opening_hours h;
  h.timezone = "America/New_York";
  h.weekly[6] = {{2 * 60 + 30, 4 * 60}};  // Sundays 02:30-04:00
  // On 8 March 2026 the clocks go from 02:00 EST (07:00 UTC) to 03:00 EDT.
  CHECK(next_opening(h, utc(2026, 3, 8, 5, 0)) == utc(2026, 3, 8, 7, 0));
  CHECK(is_open(h, utc(2026, 3, 8, 7, 0)));     // 03:00 EDT
  CHECK_FALSE(is_open(h, utc(2026, 3, 8, 8, 0)));  // 04:00 EDT
  // A week later (EDT all day) 02:30 is 06:30 UTC.
  CHECK(next_opening(h, utc(2026, 3, 8, 8, 0)) == utc(2026, 3, 15, 6, 30));
}

TEST_CASE("closed dates are local dates and the next opening skips them") {
  auto h = weekdays("Europe/Berlin", 8 * 60, 17 * 60);
  h.closed_dates = {"2026-12-25"};
  // Thursday 24 December, 17:30 local: closed for the evening; Friday 25th
  // is a closed date, then the weekend: Monday 28th 08:00 CET.
  CHECK(next_opening(h, utc(2026, 12, 24, 16, 30)) == utc(2026, 12, 28, 7, 0));
  CHECK_FALSE(is_open(h, utc(2026, 12, 25, 9, 0)));
  // 23:30 UTC on the 24th is already the 25th in Berlin.
  h.weekly[3] = {{0, 1440}};  // Thursdays all day
  CHECK(is_open(h, utc(2026, 12, 24, 22, 30)));       // 23:30 local on the 24th
  CHECK_FALSE(is_open(h, utc(2026, 12, 24, 23, 30)));  // 00:30 local on the 25th
}

TEST_CASE("open spans: intervals that touch are one span, a closed date has none") {
  auto h = weekdays("Europe/Berlin", 8 * 60, 12 * 60);
  h.weekly[0] = {{8 * 60, 12 * 60}, {12 * 60, 17 * 60}};  // Mondays, in two halves
  h.closed_dates = {"2026-12-01"};                        // a Tuesday
  // Monday 30 November and Tuesday 1 December 2026 (CET, UTC+1).
  auto spans = open_spans(h, utc(2026, 11, 30, 0), utc(2026, 12, 2, 0));
  REQUIRE(spans.size() == 1);
  CHECK(spans[0] == std::make_pair(utc(2026, 11, 30, 7), utc(2026, 11, 30, 16)));
  // Wednesday opens again: 08:00-12:00 local.
  spans = open_spans(h, utc(2026, 12, 1, 0), utc(2026, 12, 3, 0));
  REQUIRE(spans.size() == 1);
  CHECK(spans[0] == std::make_pair(utc(2026, 12, 2, 7), utc(2026, 12, 2, 11)));
}

TEST_CASE("hours that never open, and an unknown zone, have no next opening") {
  opening_hours never;
  never.timezone = "Europe/Berlin";
  CHECK_FALSE(is_open(never, utc(2026, 11, 26, 10)));
  CHECK(next_opening(never, utc(2026, 11, 26, 10)) == 0);
  auto lost = weekdays("Mars/Olympus_Mons", 0, 1440, 7);
  CHECK_FALSE(is_open(lost, utc(2026, 11, 26, 10)));
  CHECK(next_opening(lost, utc(2026, 11, 26, 10)) == 0);
}

TEST_CASE("the hour repeated when summer time ends: hours open at both occurrences, in Berlin and New York") {
  SECTION("Berlin, 25 October 2026: 03:00 CEST becomes 02:00 CET") {
    opening_hours h;
    h.timezone = "Europe/Berlin";
    h.weekly[6] = {{2 * 60, 2 * 60 + 30}};  // Sundays 02:00-02:30
    // 02:00 CEST is 00:00 UTC; 02:00 CET, an hour later, 01:00 UTC.
    CHECK(is_open(h, utc(2026, 10, 25, 0, 15)));
    CHECK_FALSE(is_open(h, utc(2026, 10, 25, 0, 45)));  // 02:45 CEST
    CHECK(is_open(h, utc(2026, 10, 25, 1, 15)));        // 02:15 CET
    CHECK_FALSE(is_open(h, utc(2026, 10, 25, 1, 30)));  // 02:30 CET
    // Closed between the two: it opens again at the second 02:00.
    CHECK(next_opening(h, utc(2026, 10, 24, 20, 0)) == utc(2026, 10, 25, 0, 0));
    CHECK(next_opening(h, utc(2026, 10, 25, 0, 45)) == utc(2026, 10, 25, 1, 0));
    // After the second, a week later (CET): 02:00 is 01:00 UTC.
    CHECK(next_opening(h, utc(2026, 10, 25, 1, 30)) == utc(2026, 11, 1, 1, 0));
  }
  SECTION("New York, 1 November 2026: 02:00 EDT becomes 01:00 EST") {
    opening_hours h;
    h.timezone = "America/New_York";
    h.weekly[6] = {{60, 90}};  // Sundays 01:00-01:30
    // 01:00 EDT is 05:00 UTC; 01:00 EST, 06:00 UTC.
    CHECK(is_open(h, utc(2026, 11, 1, 5, 10)));
    CHECK_FALSE(is_open(h, utc(2026, 11, 1, 5, 40)));
    CHECK(is_open(h, utc(2026, 11, 1, 6, 10)));
    CHECK(next_opening(h, utc(2026, 11, 1, 5, 40)) == utc(2026, 11, 1, 6, 0));
    // Every instant next_opening names is open.
    for (int64_t t = utc(2026, 10, 31, 0, 0); t < utc(2026, 11, 2, 0, 0); t += 7 * 60'000) {
      int64_t n = next_opening(h, t);
      INFO("at " << t);
      REQUIRE(n >= t);
      CHECK(is_open(h, n));
    }
  }
}

TEST_CASE("a queue's day starts at local midnight, also on the 23- and 25-hour days, in two zones") {
  // Berlin: Sunday 25 October 2026 has 25 hours (00:00 CEST = 22:00 UTC
  // the day before, to 00:00 CET = 23:00 UTC).
  CHECK(local_day_start_ms("Europe/Berlin", utc(2026, 10, 25, 0, 30)) == utc(2026, 10, 24, 22, 0));
  CHECK(local_day_start_ms("Europe/Berlin", utc(2026, 10, 25, 1, 30)) == utc(2026, 10, 24, 22, 0));
  CHECK(local_day_start_ms("Europe/Berlin", utc(2026, 10, 25, 22, 59)) == utc(2026, 10, 24, 22, 0));
  CHECK(local_day_start_ms("Europe/Berlin", utc(2026, 10, 25, 23, 0)) == utc(2026, 10, 25, 23, 0));
  // Berlin: Sunday 29 March 2026 has 23 hours.
  CHECK(local_day_start_ms("Europe/Berlin", utc(2026, 3, 29, 21, 59)) == utc(2026, 3, 28, 23, 0));
  CHECK(local_day_start_ms("Europe/Berlin", utc(2026, 3, 29, 22, 0)) == utc(2026, 3, 29, 22, 0));
  // New York: Sunday 1 November 2026 has 25 hours, from 04:00 UTC (EDT)
  // to 05:00 UTC the next day (EST); the repeated 01:00 is inside it.
  CHECK(local_day_start_ms("America/New_York", utc(2026, 11, 1, 6, 30)) == utc(2026, 11, 1, 4, 0));
  CHECK(local_day_start_ms("America/New_York", utc(2026, 11, 2, 4, 59)) == utc(2026, 11, 1, 4, 0));
  CHECK(local_day_start_ms("America/New_York", utc(2026, 11, 2, 5, 0)) == utc(2026, 11, 2, 5, 0));
  // Santiago skips midnight when summer time starts (6 September 2026:
  // 24:00 becomes 01:00): that day starts at the jump.
  CHECK(local_day_start_ms("America/Santiago", utc(2026, 9, 6, 12, 0)) == utc(2026, 9, 6, 4, 0));
  // No zone, or one the tz database does not know: UTC days.
  CHECK(local_day_start_ms("", utc(2026, 10, 25, 1, 30)) == utc(2026, 10, 25, 0, 0));
  CHECK(local_day_start_ms("Mars/Olympus", utc(2026, 10, 25, 1, 30)) == utc(2026, 10, 25, 0, 0));
}
