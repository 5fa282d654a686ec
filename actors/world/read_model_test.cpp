// The read model's immutable versions: a reader's version never changes,
// the writer never waits for a reader, and every version it publishes
// equals a world that applied every batch once.
#include "actors/world/read_model.hpp"

#include <atomic>
#include <random>
#include <thread>

#include <catch2/catch.hpp>

using namespace callq;
using namespace callq::events;

namespace {

const int64_t t0 = 1'795'608'000'000;

/// The events of batch `n`: a call arrives and queues; every third batch
/// an earlier call is abandoned, so lines, counters and calls all change.
std::vector<event> batch_of(int n) {
  std::string sid = "CA" + std::to_string(n);
  call_arrived a;
  a.call_sid = sid;
  a.from = "+1555123" + std::to_string(1000 + n % 9000);
  a.to = "+15559990000";
  a.queue = n % 2 ? "support" : "sales";
  a.order = static_cast<uint64_t>(n + 1);
  call_enqueued q;
  q.call_sid = sid;
  q.queue = a.queue;
  q.position = 1;
  std::vector<event> out{{t0 + n, a}, {t0 + n + 1, q}};
  if (n % 3 == 2) {
    std::string gone = "CA" + std::to_string(n - 2);
    call_abandoned x;
    x.call_sid = gone;
    x.queue = (n - 2) % 2 ? "support" : "sales";
    x.reason = "hangup";
    x.position = 1;
    x.orig_position = 1;
    x.wait_seconds = 3;
    out.push_back({t0 + n + 2, x});
  }
  return out;
}

/// Feeds batches to a read model and, once each, to a reference world.
struct feeder {
  read_model reads{world{policy{}}};
  world reference{policy{}};
  uint64_t seq = 1;
  int n = 0;

  void next() {
    auto evs = batch_of(n++);
    uint64_t first = seq;
    for (auto& e : evs)
      reference.apply(seq++, e);
    reads.apply(first, std::move(evs));
  }
};

}  // namespace

TEST_CASE("read model: a reader's version never changes while newer ones are published") {
  feeder f;
  for (int i = 0; i < 4; ++i)
    f.next();
  std::shared_ptr<const world> held = f.reads.version();
  std::string digest = held->digest();
  uint64_t at = held->last_seq();
  for (int i = 0; i < 50; ++i) {
    f.next();
    CHECK(f.reads.version()->digest() == f.reference.digest());
  }
  CHECK(held->last_seq() == at);
  CHECK(held->digest() == digest);
  CHECK(f.reads.version()->last_seq() > at);
}

TEST_CASE("read model: the writer reuses worlds readers let go of, and copies only when readers "
          "hold every older one") {
  feeder f;
  f.next();
  f.next();  // the first batches copy the only world once: two worlds now
  uint64_t copies = f.reads.stats().copies.load();
  CHECK(copies == 1);
  for (int i = 0; i < 100; ++i)
    f.next();  // nobody holds a version: the two take turns
  CHECK(f.reads.stats().copies.load() == copies);
  CHECK(f.reads.stats().catch_up_batches.load() >= 100);
  // A reader holding one version over many batches costs one copy: the
  // other two worlds take turns.
  auto held = f.reads.version();
  for (int i = 0; i < 100; ++i)
    f.next();
  CHECK(f.reads.stats().copies.load() == copies + 1);
  // Two readers holding two versions: copies, never a wait.
  auto held_too = f.reads.version();
  for (int i = 0; i < 10; ++i)
    f.next();
  CHECK(f.reads.stats().copies.load() <= copies + 3);
  CHECK(f.reads.version()->digest() == f.reference.digest());
  CHECK(f.reads.stats().versions.load() == 1 + static_cast<uint64_t>(f.n));
}

TEST_CASE("read model: prepare() after the answers leaves the next batch to be applied once, "
          "unless a reader held the spare") {
  feeder f;
  f.next();
  f.next();  // two worlds now
  f.reads.prepare();
  uint64_t before = f.reads.stats().catch_up_before_answers.load();
  uint64_t caught = f.reads.stats().catch_up_batches.load();
  for (int i = 0; i < 50; ++i) {
    f.next();
    f.reads.prepare();
  }
  // Every batch was applied a second time, all of them after the answers.
  CHECK(f.reads.stats().catch_up_batches.load() == caught + 50);
  CHECK(f.reads.stats().catch_up_before_answers.load() == before);
  CHECK(f.reads.version()->digest() == f.reference.digest());
  // A reader that holds the newest version while the next is published
  // holds the spare prepare() would take: that catch-up waits for the next
  // apply(), which does it before the answers (nobody waits for the
  // reader), and the result is the same.
  auto held = f.reads.version();
  f.next();
  f.reads.prepare();  // the only spare is held: nothing to do
  CHECK(f.reads.stats().catch_up_before_answers.load() == before);
  held.reset();
  f.next();
  CHECK(f.reads.stats().catch_up_before_answers.load() == before + 1);
  CHECK(f.reads.version()->digest() == f.reference.digest());
}

TEST_CASE("read model: random readers holding random versions never see one change, and every "
          "version published equals the world that applied each batch once") {
  for (uint32_t seed = 1; seed <= 20; ++seed) {
    std::mt19937 rng(seed);
    feeder f;
    std::vector<std::pair<std::shared_ptr<const world>, std::string>> held;
    for (int step = 0; step < 300; ++step) {
      int action = static_cast<int>(rng() % 10);
      if (action < 6) {
        f.next();
        if (rng() % 2)
          f.reads.prepare();
      } else if (action < 8) {
        auto v = f.reads.version();
        held.emplace_back(v, v->digest());
      } else if (!held.empty()) {
        held.erase(held.begin() + static_cast<long>(rng() % held.size()));
      }
      REQUIRE(f.reads.version()->digest() == f.reference.digest());
    }
    for (auto& [v, digest] : held)
      CHECK(v->digest() == digest);
  }
}

TEST_CASE("read model: a reader held past the bound is let go, and later batches still apply") {
  feeder f;
  for (int i = 0; i < 3; ++i)
    f.next();
  auto held = f.reads.version();
  for (int i = 0; i < 4000; ++i)  // ~10,000 events behind: past the 8,192 kept for a spare
    f.next();
  CHECK(f.reads.version()->digest() == f.reference.digest());
  CHECK(f.reads.stats().copies.load() <= 3);
  held.reset();
  for (int i = 0; i < 10; ++i)
    f.next();
  CHECK(f.reads.version()->digest() == f.reference.digest());
}

TEST_CASE("read model: readers on other threads only ever see whole, newer versions") {
  feeder f;
  std::atomic<bool> done{false};
  std::atomic<int> bad{0}, reads{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 3; ++r)
    readers.emplace_back([&] {
      uint64_t last = 0;
      while (!done.load()) {
        f.reads.read([&](const world& w) {
          // A version is whole: each batch publishes its arrivals with
          // their enqueues, so the waiting count matches the calls.
          int64_t waiting = w.waiting("support") + w.waiting("sales");
          if (w.last_seq() < last || waiting != static_cast<int64_t>(w.calls().size()))
            bad += 1;
          last = w.last_seq();
          return 0;
        });
        reads += 1;
      }
    });
  for (int i = 0; i < 2000; ++i)
    f.next();
  done = true;
  for (auto& t : readers)
    t.join();
  CHECK(bad.load() == 0);
  CHECK(reads.load() > 0);
  CHECK(f.reads.version()->digest() == f.reference.digest());
}

TEST_CASE("read model: the status view takes agents' heartbeat times from the board, not a version") {
  world w{policy{}};
  agent_created a;
  a.agent_id = "alice";
  a.display_name = "Alice";
  a.queues = {"support"};
  w.apply(1, {t0, a});
  read_model reads{std::move(w)};
  CHECK(reads.status(t0 + 10'000).agents.at(0).last_heartbeat_age_seconds == -1);
  reads.heartbeats().cell_of("alice")->store(t0 + 4'000);
  CHECK(reads.status(t0 + 10'000).agents.at(0).last_heartbeat_age_seconds == 6);
  CHECK(reads.version()->status(t0 + 10'000).agents.at(0).last_heartbeat_age_seconds == -1);
}
