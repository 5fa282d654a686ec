#include "http/admission.hpp"

#include <catch2/catch.hpp>

using namespace callq::http;

namespace {

/// Starts as many waiting requests as the rules allow; returns their jobs.
std::vector<uint64_t> start_all(admission& a) {
  std::vector<uint64_t> out;
  admission_ticket t;
  while (a.next(&t))
    out.push_back(t.job);
  return out;
}

}  // namespace

TEST_CASE("admission: defaults keep threads free of every group but Twilio's") {
  auto l = default_admission_limits(64);
  CHECK(l.reserve[0] == 0);
  CHECK(l.reserve[1] == 8);
  CHECK(l.reserve[2] == 16);
  CHECK(l.reserve[3] == 16);
  CHECK(l.cap[3] == 16);
  auto tiny = default_admission_limits(2);
  CHECK(tiny.reserve[2] == 1);
  CHECK(tiny.cap[3] == 1);
}

TEST_CASE("admission: admin reads never take the last quarter of the threads") {
  admission a(default_admission_limits(8));
  for (uint64_t j = 1; j <= 12; ++j)
    REQUIRE(a.offer(route_group::admin, j, 0));
  auto started = start_all(a);
  CHECK(started.size() == 6);  // 8 - 2 reserved
  CHECK(a.waiting(route_group::admin) == 6);
  // A webhook still starts at once, and then one more.
  REQUIRE(a.offer(route_group::twilio, 100, 0));
  REQUIRE(a.offer(route_group::twilio, 101, 0));
  REQUIRE(a.offer(route_group::twilio, 102, 0));
  CHECK(start_all(a) == std::vector<uint64_t>{100, 101});
  CHECK(a.busy_total() == 8);
  // When a thread frees, the waiting webhook goes before the waiting admin reads.
  a.finished(route_group::admin);
  CHECK(start_all(a) == std::vector<uint64_t>{102});
}

TEST_CASE("admission: priority order, first come first served within a group") {
  admission a(default_admission_limits(4));
  a.offer(route_group::page, 1, 0);
  a.offer(route_group::admin, 2, 0);
  a.offer(route_group::agent, 3, 0);
  a.offer(route_group::twilio, 4, 0);
  a.offer(route_group::twilio, 5, 0);
  admission_ticket t;
  REQUIRE(a.next(&t));
  CHECK((t.job == 4 && t.group == route_group::twilio));
  REQUIRE(a.next(&t));
  CHECK(t.job == 5);
  REQUIRE(a.next(&t));
  CHECK((t.job == 3 && t.group == route_group::agent));
  // 3 busy of 4: admin (reserve 1) and pages (reserve 1) must wait.
  CHECK_FALSE(a.next(&t));
  a.finished(route_group::twilio);
  REQUIRE(a.next(&t));
  CHECK(t.job == 2);
}

TEST_CASE("admission: pages hold at most a quarter of the threads") {
  admission a(default_admission_limits(16));
  for (uint64_t j = 1; j <= 10; ++j)
    a.offer(route_group::page, j, 0);
  CHECK(start_all(a).size() == 4);
  CHECK(a.busy(route_group::page) == 4);
}

TEST_CASE("admission: a full queue or a long wait sheds") {
  auto l = default_admission_limits(2);
  admission a(l);
  for (size_t i = 0; i < l.max_waiting[2]; ++i)
    REQUIRE(a.offer(route_group::admin, i, 1000));
  CHECK_FALSE(a.offer(route_group::admin, 99, 1000));
  REQUIRE(a.offer(route_group::twilio, 50, 1500));
  CHECK(a.expire(1000 + l.max_wait_ms[2]).empty());
  auto late = a.expire(1001 + l.max_wait_ms[2]);
  CHECK(late.size() == l.max_waiting[2]);
  CHECK(late.front().group == route_group::admin);
  CHECK(a.waiting(route_group::twilio) == 1);
  auto rest = a.drain();
  REQUIRE(rest.size() == 1);
  CHECK(rest[0].job == 50);
  CHECK(a.waiting(route_group::twilio) == 0);  // drained: nothing left to start
  CHECK(a.drain().empty());
  admission_ticket t;
  CHECK_FALSE(a.next(&t));
}

TEST_CASE("admission: fewer than two threads are counted as two") {
  CHECK(default_admission_limits(1).threads == 2);
  CHECK(default_admission_limits(0).threads == 2);
}
