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

TEST_CASE("hours that never open, and an unknown zone, have no next opening") {
  opening_hours never;
  never.timezone = "Europe/Berlin";
  CHECK_FALSE(is_open(never, utc(2026, 11, 26, 10)));
  CHECK(next_opening(never, utc(2026, 11, 26, 10)) == 0);
  auto lost = weekdays("Mars/Olympus_Mons", 0, 1440, 7);
  CHECK_FALSE(is_open(lost, utc(2026, 11, 26, 10)));
  CHECK(next_opening(lost, utc(2026, 11, 26, 10)) == 0);
}
