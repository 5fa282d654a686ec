#include "actors/journal/journal_actor.hpp"

#include <set>
#include <csignal>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "actors/messages.hpp"
#include "tests/crash_child.hpp"
#include "tests/temp_dir.hpp"

using namespace callq;

namespace {

events::event numbered(int producer, int i) {
  events::call_announced a;
  a.call_sid = "CA" + std::to_string(producer);
  a.position = i;
  return {1700000000000 + i, a};
}

}  // namespace

TEST_CASE("8 concurrent producers x 10,000 appends: gap-free, ordered, durable") {
  callq::testing::temp_dir tmp;
  std::unique_ptr<storage::event_log> owned;
  REQUIRE(storage::event_log::open_data_dir(tmp.path(), {}, &owned));
  std::shared_ptr<storage::event_log> log = std::move(owned);
  auto stats = std::make_shared<journal_stats>();
  constexpr int producers = 8, per_producer = 10'000;
  std::vector<std::vector<uint64_t>> acks(producers);
  {
    caf::actor_system_config cfg;
    cfg.set("scheduler.max-threads", 2);
    caf::actor_system sys{cfg};
    auto journal = spawn_journal(sys, log, stats);
    std::vector<std::thread> threads;
    for (int p = 0; p < producers; ++p) {
      threads.emplace_back([&, p] {
        // Each producer keeps up to 64 appends in flight.
        caf::scoped_actor self{sys};
        int sent = 0, received = 0;
        while (received < per_producer) {
          while (sent < per_producer && sent - received < 64) {
            journal_batch b;
            b.events.push_back(numbered(p, sent++));
            self->send(journal, append_atom::value, std::move(b));
          }
          self->receive([&](uint64_t seq) { acks[p].push_back(seq); ++received; },
                        [&](caf::error&) { ++received; });
        }
      });
    }
    for (auto& t : threads)
      t.join();
    caf::anon_send_exit(journal, caf::exit_reason::user_shutdown);
  }
  std::set<uint64_t> all;
  for (int p = 0; p < producers; ++p) {
    REQUIRE(acks[p].size() == per_producer);
    CHECK(std::is_sorted(acks[p].begin(), acks[p].end()));  // a producer's order is kept
    all.insert(acks[p].begin(), acks[p].end());
  }
  CHECK(all.size() == producers * per_producer);
  CHECK(*all.begin() == 1);
  CHECK(*all.rbegin() == producers * per_producer);
  CHECK(log->last_seq() == producers * per_producer);
  CHECK(stats->syncs.load() < stats->appends.load());  // group commit happened

  // Each producer's events are in its own order in the log.
  std::vector<int64_t> last(producers, -1);
  bool ordered = true;
  REQUIRE(log->scan(1, [&](const events::envelope& e) {
    auto& a = std::get<events::call_announced>(e.ev.body);
    int p = std::stoi(a.call_sid.substr(2));
    ordered = ordered && a.position == last[p] + 1;
    last[p] = a.position;
    return true;
  }));
  CHECK(ordered);
  storage::verify_report rep;
  REQUIRE(log->verify(&rep));
  CHECK(rep.bad_seq == 0);
}

TEST_CASE("every append the journal acknowledged survives SIGKILL") {
  callq::testing::temp_dir tmp;
  // Set up in the child only: an actor system does not survive fork().
  std::unique_ptr<caf::actor_system_config> cfg;
  std::unique_ptr<caf::actor_system> sys;
  std::unique_ptr<caf::scoped_actor> self;
  caf::actor journal;
  int i = 0;
  uint64_t acked = callq::testing::append_until_killed(
      [&] {
        std::unique_ptr<storage::event_log> owned;
        if (!storage::event_log::open_data_dir(tmp.path(), {}, &owned))
          _exit(3);
        cfg = std::make_unique<caf::actor_system_config>();
        sys = std::make_unique<caf::actor_system>(*cfg);
        journal = spawn_journal(*sys, std::move(owned), std::make_shared<journal_stats>());
        self = std::make_unique<caf::scoped_actor>(*sys);
      },
      [&]() -> uint64_t {
        journal_batch b;
        b.events.push_back(numbered(0, i++));
        uint64_t seq = 0;
        (*self)->request(journal, caf::infinite, append_atom::value, std::move(b))
            .receive([&](uint64_t s) { seq = s; }, [&](caf::error&) {});
        return seq;
      },
      300);
  REQUIRE(acked >= 300);

  std::unique_ptr<storage::event_log> log;
  REQUIRE(storage::event_log::open_data_dir(tmp.path(), {}, &log));
  CHECK(log->last_seq() >= acked);
  storage::verify_report rep;
  REQUIRE(log->verify(&rep));
  CHECK(rep.bad_seq == 0);
  int64_t expect = 0;
  bool in_order = true;
  REQUIRE(log->scan(1, [&](const events::envelope& e) {
    in_order = in_order && std::get<events::call_announced>(e.ev.body).position == expect++;
    return e.seq < acked;
  }));
  CHECK(in_order);
  CHECK(expect == static_cast<int64_t>(acked));
}
