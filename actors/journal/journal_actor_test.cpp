#include "actors/journal/journal_actor.hpp"

#include <deque>
#include <future>
#include <set>
#include <type_traits>
#include <csignal>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "actors/messages.hpp"
#include "actors/world/read_model.hpp"
#include "storage/test_backends.hpp"
#include "tests/crash_child.hpp"
#include "tests/temp_dir.hpp"

using namespace callq;

namespace {

/// One event of call `sid`'s stream at `ts_ms`, its writer expecting the
/// stream at `expect`.
journal_batch one_event(const std::string& sid, events::payload body, int64_t ts_ms,
                        uint64_t expect) {
  journal_batch b;
  b.events.push_back({ts_ms, std::move(body)});
  b.expect.push_back({"call/" + sid, expect});
  return b;
}

/// Call `sid`'s arrival, its writer expecting its stream at `expect`.
journal_batch arrival(const std::string& sid, uint64_t expect) {
  events::call_arrived a;
  a.call_sid = sid;
  return one_event(sid, a, 1700000000000, expect);
}

/// A new RocksDB log in `dir`, to be shared with a journal.
std::shared_ptr<storage::event_log> open_shared(const std::string& dir) {
  std::unique_ptr<storage::event_log> owned;
  REQUIRE(storage::event_log::open_data_dir(dir, {}, &owned));
  return owned;
}

/// Sends `batches` to `journal` at once (so that they can share a write)
/// and returns each answer, "ok <seq>" or the error, in the order they came.
std::vector<std::string> append_together(caf::actor_system& sys, const caf::actor& journal,
                                         std::vector<journal_batch> batches) {
  caf::scoped_actor self{sys};
  for (auto& b : batches)
    self->send(journal, append_atom::value, std::move(b));
  std::vector<std::string> outcomes;
  for (size_t i = 0; i < batches.size(); ++i)
    self->receive([&](uint64_t seq) { outcomes.push_back("ok " + std::to_string(seq)); },
                  [&](caf::error& e) { outcomes.push_back(to_string(e)); });
  return outcomes;
}

events::event numbered(int producer, int i) {
  events::call_announced a;
  a.call_sid = "CA" + std::to_string(producer);
  a.position = i;
  return {1700000000000 + i, a};
}

/// A fake log that takes two batches at once, as PostgreSQL's pipeline
/// does: a batch reaches the real (RocksDB) log only when it is completed,
/// and from the `fail_at`-th completion on (0: never) batches fail, as a
/// store that went away would.
class pipelined_log final : public storage::event_log {
 public:
  pipelined_log(std::unique_ptr<storage::event_log> inner, uint64_t fail_at)
      : inner_(std::move(inner)), sent_(inner_->last_seq()), fail_at_(fail_at) {}

  status append(const std::vector<events::event>& evs, const std::vector<storage::idempotency_entry>& idem,
                bool sync, uint64_t* first_seq) override {
    return inner_->append(evs, idem, sync, first_seq);
  }
  status submit_append(const std::vector<events::event>& evs,
                       const std::vector<storage::idempotency_entry>& idem, bool sync,
                       uint64_t* first_seq) override {
    if (queued_.size() >= max_in_flight())
      return status::invalid_argument("more than max_in_flight()");
    *first_seq = sent_ + 1;
    sent_ += evs.size();
    queued_.push_back({evs, idem, sync, *first_seq});
    most_in_flight = std::max(most_in_flight, queued_.size());
    return status::ok();
  }
  status complete_append() override {
    auto b = std::move(queued_.front());
    queued_.pop_front();
    if (fail_at_ != 0 && ++completed_ >= fail_at_) {
      sent_ = inner_->last_seq();  // nothing after the last durable batch
      return status::io_error("the store went away");
    }
    uint64_t first = 0;
    auto st = inner_->append(b.evs, b.idem, b.sync, &first);
    return st && first != b.first ? status::corruption("numbered out of order") : st;
  }
  size_t max_in_flight() const override { return 2; }
  bool known_version(const std::string& stream, uint64_t* version) override {
    return inner_->known_version(stream, version);  // batches still queued here are not counted
  }
  status resume() override { return inner_->resume(); }
  uint64_t last_seq() const override { return inner_->last_seq(); }
  status scan(uint64_t from, const std::function<bool(const events::envelope&)>& fn) const override {
    return inner_->scan(from, fn);
  }
  status scan_records(uint64_t from,
                      const std::function<bool(uint64_t, std::string_view)>& fn) const override {
    return inner_->scan_records(from, fn);
  }
  status read_stream(const std::string& stream,
                     const std::function<bool(const events::envelope&)>& fn) const override {
    return inner_->read_stream(stream, fn);
  }
  status get(uint64_t seq, events::envelope* out) const override { return inner_->get(seq, out); }
  status get_idempotency(const std::string& key, int64_t now_ms, std::string* value) const override {
    return inner_->get_idempotency(key, now_ms, value);
  }
  status expire_idempotency(int64_t now_ms, uint64_t* removed) override {
    return inner_->expire_idempotency(now_ms, removed);
  }
  status chain_at(uint64_t seq, events::chain_value* out) const override { return inner_->chain_at(seq, out); }
  status recorded_head(storage::chain_head* out) const override { return inner_->recorded_head(out); }
  status record_head() override { return inner_->record_head(); }
  status put_snapshot(uint64_t seq, std::string_view bytes) override {
    if (snapshot_gate.valid())  // a slow snapshot store, held until the test lets go
      snapshot_gate.wait();
    return inner_->put_snapshot(seq, bytes);
  }
  status snapshot_seqs(std::vector<uint64_t>* newest_first) const override {
    return inner_->snapshot_seqs(newest_first);
  }
  status get_snapshot(uint64_t seq, std::string* bytes) const override {
    return inner_->get_snapshot(seq, bytes);
  }
  std::string where() const override { return "pipelined " + inner_->where(); }
  std::string local_dir() const override { return inner_->local_dir(); }

  size_t most_in_flight = 0;  ///< the most batches submitted and not completed
  /// When valid, put_snapshot() waits for it first.
  std::shared_future<void> snapshot_gate;

 private:
  struct batch {
    std::vector<events::event> evs;
    std::vector<storage::idempotency_entry> idem;
    bool sync;
    uint64_t first;
  };
  std::unique_ptr<storage::event_log> inner_;
  uint64_t sent_;
  uint64_t fail_at_;
  uint64_t completed_ = 0;
  std::deque<batch> queued_;
};

/// The two ways the journal writes, as test parameters.
struct one_batch_at_a_time : std::false_type {};
struct two_batches_in_flight : std::true_type {};

}  // namespace

TEMPLATE_TEST_CASE("8 concurrent producers x 10,000 appends: gap-free, ordered, durable", "",
                   one_batch_at_a_time, two_batches_in_flight) {
  constexpr bool pipelined = TestType::value;  // through a log that takes two batches at once
  callq::testing::temp_dir tmp;
  std::unique_ptr<storage::event_log> owned;
  REQUIRE(storage::event_log::open_data_dir(tmp.path(), {}, &owned));
  pipelined_log* fake = nullptr;
  if (pipelined) {
    auto p = std::make_unique<pipelined_log>(std::move(owned), 0);
    fake = p.get();
    owned = std::move(p);
  }
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
  if (fake != nullptr)
    CHECK(fake->most_in_flight == 2);  // the journal did send a batch before the last was done

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

TEST_CASE("when a pipelined write fails, its appends and every one after it are refused, none acknowledged unwritten") {
  callq::testing::temp_dir tmp;
  std::unique_ptr<storage::event_log> owned;
  REQUIRE(storage::event_log::open_data_dir(tmp.path(), {}, &owned));
  std::shared_ptr<storage::event_log> log = std::make_shared<pipelined_log>(std::move(owned), 20);
  auto stats = std::make_shared<journal_stats>();
  auto health = std::make_shared<storage_health>();
  std::vector<uint64_t> acked;
  int refused = 0;
  constexpr int total = 2'000;
  {
    caf::actor_system_config cfg;
    caf::actor_system sys{cfg};
    journal_options jo;
    jo.health = health;
    auto journal = spawn_journal(sys, log, stats, jo);
    caf::scoped_actor self{sys};
    int sent = 0, received = 0;
    while (received < total) {
      while (sent < total && sent - received < 64) {
        journal_batch b;
        b.events.push_back(numbered(0, sent++));
        self->send(journal, append_atom::value, std::move(b));
      }
      self->receive([&](uint64_t seq) { acked.push_back(seq), ++received; },
                    [&](caf::error&) { ++refused, ++received; });
    }
    caf::anon_send_exit(journal, caf::exit_reason::user_shutdown);
  }
  CHECK_FALSE(health->writable());
  CHECK(refused > 0);
  REQUIRE(!acked.empty());
  // What was acknowledged is a prefix, and all of it is in the log.
  CHECK(acked.back() == log->last_seq());
  CHECK(static_cast<uint64_t>(acked.size()) == log->last_seq());
  CHECK(std::is_sorted(acked.begin(), acked.end()));
  storage::verify_report rep;
  REQUIRE(log->verify(&rep));
  CHECK(rep.bad_seq == 0);
}

TEST_CASE("a busy snapshot writer costs the journal no copy of the state per batch") {
  callq::testing::temp_dir tmp;
  std::unique_ptr<storage::event_log> owned;
  REQUIRE(storage::event_log::open_data_dir(tmp.path(), {}, &owned));
  auto fake = std::make_shared<pipelined_log>(std::move(owned), 0);
  std::promise<void> release;
  fake->snapshot_gate = release.get_future().share();
  std::shared_ptr<storage::event_log> log = fake;
  auto figures = std::make_shared<snapshot_stats>();
  auto writer = std::make_shared<snapshot_writer>(log, figures);
  auto stats = std::make_shared<journal_stats>();
  {
    caf::actor_system_config cfg;
    caf::actor_system sys{cfg};
    journal_options jo;
    jo.reads = std::make_shared<read_model>(world{policy{}});
    jo.snapshots = writer;
    jo.snapshot_every_events = 10;
    jo.snapshot_figures = figures;
    auto journal = spawn_journal(sys, log, stats, jo);
    caf::scoped_actor self{sys};
    auto append_one_by_one = [&](int from, int n) {
      for (int i = from; i < from + n; ++i) {
        journal_batch b;
        b.events.push_back(numbered(0, i));
        self->request(journal, caf::infinite, append_atom::value, std::move(b))
            .receive([](uint64_t) {}, [](caf::error& e) { FAIL(to_string(e)); });
      }
    };
    // 500 batches of one event: the first snapshot is due after 10, and
    // its writer stays busy throughout.
    append_one_by_one(0, 500);
    CHECK(figures->copies.load() == 1);
    CHECK(figures->written.load() == 0);
    // Once it is written, the next interval copies again.
    release.set_value();
    writer->write_now(world{policy{}}, 0);  // waits for the one under way
    CHECK(figures->written.load() >= 1);
    append_one_by_one(500, 5);
    CHECK(figures->copies.load() == 2);
    caf::anon_send_exit(journal, caf::exit_reason::user_shutdown);
  }
}

TEST_CASE("an append whose expected stream version is wrong is refused alone, the rest of its batch is written") {
  callq::testing::temp_dir tmp;
  auto log = open_shared(tmp.path());
  auto stats = std::make_shared<journal_stats>();
  std::vector<std::string> outcomes;
  {
    caf::actor_system_config cfg;
    caf::actor_system sys{cfg};
    auto journal = spawn_journal(sys, log, stats);
    caf::scoped_actor self{sys};
    auto collect = [&](int n) {
      for (int i = 0; i < n; ++i)
        self->receive([&](uint64_t seq) { outcomes.push_back("ok " + std::to_string(seq)); },
                      [&](caf::error& e) { outcomes.push_back(to_string(e)); });
    };
    // Sent together, so that they can share one batch: the second arrival
    // of CA1 expects a new stream, which the first has just begun.
    self->send(journal, append_atom::value, arrival("CA1", 0));
    self->send(journal, append_atom::value, arrival("CA1", 0));
    self->send(journal, append_atom::value, arrival("CA2", 0));
    collect(3);
    // Against what the log holds: right, then wrong.
    self->send(journal, append_atom::value, arrival("CA1", 1));
    collect(1);
    self->send(journal, append_atom::value, arrival("CA2", 0));
    collect(1);
    caf::anon_send_exit(journal, caf::exit_reason::user_shutdown);
  }
  REQUIRE(outcomes.size() == 5);
  // A refusal is answered at once, ahead of the write: the first three in
  // any order.
  std::sort(outcomes.begin(), outcomes.begin() + 3);
  CHECK(outcomes[0] == "ok 1");
  CHECK(outcomes[1] == "ok 2");
  CHECK(outcomes[2].find("conflict: stream call/CA1 is at version 1, its writer expected 0") !=
        std::string::npos);
  CHECK(outcomes[3] == "ok 3");
  CHECK(outcomes[4].find("conflict: stream call/CA2 is at version 1") != std::string::npos);
  CHECK(stats->conflicts.load() == 2);
  CHECK(log->last_seq() == 3);
  uint64_t v = 0;
  REQUIRE(log->known_version("call/CA1", &v));
  CHECK(v == 2);
  storage::verify_report rep;
  REQUIRE(log->verify(&rep));
  CHECK(rep.bad_seq == 0);
}

TEST_CASE("once a finished call's last batch is durable the log keeps no cached version of its stream") {
  callq::testing::temp_dir tmp;
  auto log = open_shared(tmp.path());
  auto stats = std::make_shared<journal_stats>();
  // Its state after the batch: `phase`, at `version`.
  auto with_state = [](journal_batch b, call_phase phase, uint64_t version) {
    auto after = std::make_shared<call_state>();
    after->phase = phase;
    after->version = version;
    b.call_after = after;
    return b;
  };
  {
    caf::actor_system_config cfg;
    caf::actor_system sys{cfg};
    auto journal = spawn_journal(sys, log, stats);
    std::vector<journal_batch> batches;
    batches.push_back(with_state(arrival("CA1", 0), call_phase::queued, 1));
    batches.push_back(with_state(arrival("CA2", 0), call_phase::queued, 1));
    auto outcomes = append_together(sys, journal, std::move(batches));
    CHECK(outcomes == std::vector<std::string>{"ok 1", "ok 2"});
    size_t cached = log->cached_versions();
    CHECK(cached == 2);
    // CA1 ends (abandoned), CA2 still waits (announced): only CA1's goes.
    events::call_abandoned gone;
    gone.call_sid = "CA1";
    events::call_announced told;
    told.call_sid = "CA2";
    batches.clear();
    batches.push_back(with_state(one_event("CA1", gone, 1700000001000, 1), call_phase::abandoned, 2));
    batches.push_back(with_state(one_event("CA2", told, 1700000001000, 1), call_phase::queued, 2));
    outcomes = append_together(sys, journal, std::move(batches));
    CHECK(outcomes == std::vector<std::string>{"ok 3", "ok 4"});
    CHECK(log->cached_versions() == cached - 1);
    // A late duplicate for the finished call is still refused: the log
    // looks its version up again.
    outcomes = append_together(sys, journal, {arrival("CA1", 0)});
    REQUIRE(outcomes.size() == 1);
    CHECK(outcomes[0].find("conflict: stream call/CA1 is at version 2") != std::string::npos);
    caf::anon_send_exit(journal, caf::exit_reason::user_shutdown);
  }
  CHECK(log->last_seq() == 4);
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

TEST_CASE("postgres: the store checks an expected version its writer did not know: an arrival for a "
          "call the log holds is refused alone, the rest of its write is written") {
  storage::testing::postgres_backend pg;
  auto stats = std::make_shared<journal_stats>();
  {  // a first server writes CA1's arrival
    std::shared_ptr<storage::event_log> log = pg.open();
    caf::actor_system_config cfg;
    caf::actor_system sys{cfg};
    auto journal = spawn_journal(sys, log, std::make_shared<journal_stats>());
    CHECK(append_together(sys, journal, {arrival("CA1", 0)}) == std::vector<std::string>{"ok 1"});
    caf::anon_send_exit(journal, caf::exit_reason::user_shutdown);
  }
  // The next one has not seen call/CA1 (a finished call is not among the
  // live streams a start learns), so only the store can tell.
  std::shared_ptr<storage::event_log> log = pg.open();
  uint64_t v = 0;
  REQUIRE_FALSE(log->known_version("call/CA1", &v));
  std::vector<std::string> outcomes, later;
  {
    caf::actor_system_config cfg;
    caf::actor_system sys{cfg};
    auto journal = spawn_journal(sys, log, stats);
    outcomes = append_together(sys, journal, {arrival("CA1", 0), arrival("CA2", 0)});
    later = append_together(sys, journal, {arrival("CA3", 0), arrival("CA1", 0)});
    caf::anon_send_exit(journal, caf::exit_reason::user_shutdown);
  }
  REQUIRE(outcomes.size() == 2);
  std::sort(outcomes.begin(), outcomes.end());
  CHECK(outcomes[0] == "ok 2");
  CHECK(outcomes[1].find("conflict: stream call/CA1 is at version 1, its writer expected 0") !=
        std::string::npos);
  // Now known: refused before the write, without the store.
  std::sort(later.begin(), later.end());
  CHECK(later[0] == "ok 3");
  CHECK(later[1].find("conflict: stream call/CA1 is at version 1") != std::string::npos);
  CHECK(stats->conflicts.load() == 2);
  CHECK(stats->conflict_retries.load() == 1);
  CHECK(log->last_seq() == 3);
  int ca1 = 0;
  REQUIRE(log->read_stream("call/CA1", [&](const events::envelope&) { return ++ca1 > 0; }));
  CHECK(ca1 == 1);
  storage::verify_report rep;
  REQUIRE(log->verify(&rep));
  CHECK(rep.bad_seq == 0);
}
