#include "replay/report.hpp"

#include <sstream>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "replay/commands.hpp"
#include "tests/scenario_log.hpp"
#include "tests/temp_dir.hpp"

using namespace callq;
using namespace callq::replay;

namespace {

constexpr int64_t t0 = 1'795'608'000'000;  // the scenario's start, 12:00:00Z

/// The scenario's log, written once per test.
struct scenario {
  testing::temp_dir dir;
  std::unique_ptr<storage::event_log> log;
  scenario() {
    testing::write_scenario(dir.path() + "/data");
    storage::log_options o;
    o.read_only = true;
    REQUIRE(storage::event_log::open_data_dir(dir.path() + "/data", o, &log));
  }
};

}  // namespace

TEST_CASE("report figures of the scripted scenario equal those worked out from its script") {
  scenario s;
  report_options o;
  o.from_ms = t0;
  o.to_ms = t0 + 86'400'000;
  o.interval = report_interval::day;
  queue_report r;
  REQUIRE(build_report(*s.log, o, &r));
  REQUIRE(r.queues.size() == 1);
  REQUIRE(r.queues.count("support"));
  REQUIRE(r.queues["support"].size() == 1);
  const queue_figures& f = r.queues["support"].begin()->second;
  CHECK(r.queues["support"].begin()->first == t0 - 12 * 3'600'000);  // the UTC day: from midnight
  // From the script (tests/scenario_log.hpp): CA1 answered after 4 s and
  // talks 95 s; CA2 answered after 23 s (a no-answer first), the caller
  // hangs up after 60 s; CA3 abandons after 30 s; CA4 becomes a callback;
  // CA50-52 ring bob 20 s each and hang up.
  CHECK(f.offered == 7);
  CHECK(f.answered == 2);
  CHECK(f.answered_within == 1);  // 4 s; 23 s is over the 20 s default
  CHECK(f.abandoned == 4);
  CHECK(f.abandoned_after == 1);  // CA3's 30 s; 20 s is not over 20 s
  CHECK(f.service_level() == Approx(1.0 / 3.0));
  CHECK(f.asa_seconds() == Approx(13.5));
  CHECK(f.completed == 2);
  CHECK(f.aht_seconds() == Approx(77.5));
  // Agents: alice answered CA1 and CA2 and made the 120 s callback; bob
  // missed CA2's first offer, then CA50's and CA51's: the third miss (with
  // CA2's) auto-pauses him, so CA52 rings nobody (the golden queue_log
  // shows the same three RINGNOANSWER lines).
  CHECK(r.agents["alice"].answered == 2);
  CHECK(r.agents["alice"].talk_seconds == 95 + 60 + 120);
  CHECK(r.agents["alice"].missed_offers == 0);
  CHECK(r.agents["bob"].answered == 0);
  CHECK(r.agents["bob"].missed_offers == 3);
  // alice went on break at t0 + 959 s and stayed: paused to the period's end.
  CHECK(r.agents["alice"].paused_ms == o.to_ms - (t0 + 959'000));
  CHECK(r.agents["bob"].paused_ms > 0);  // auto-paused after three misses

  auto j = report_to_json(r);
  CHECK(j["interval"] == "1d");
  CHECK(j["queues"][0]["total"]["offered"] == 7);
  CHECK(j["queues"][0]["intervals"][0]["serviceLevel"].get<double>() == Approx(1.0 / 3.0));
  // The scenario never configures "support": the defaults' goal.
  CHECK(j["queues"][0]["serviceLevelSeconds"] == 20);
  CHECK(j["queues"][0]["serviceLevelTarget"].get<double>() == Approx(0.8));
  CHECK(j["agents"][0]["agentId"] == "alice");
  CHECK(j["agents"][0]["talkSeconds"] == 275);
}

TEST_CASE("report intervals, period and queue filter") {
  scenario s;
  report_options o;
  o.interval = report_interval::minutes_15;
  queue_report r;
  REQUIRE(build_report(*s.log, o, &r));
  auto& buckets = r.queues["support"];
  REQUIRE(buckets.size() == 2);  // 12:00-12:15 and 12:15-12:30
  CHECK(buckets.begin()->first == t0);
  CHECK(buckets.begin()->second.offered == 4);   // CA1-CA4
  CHECK(buckets.begin()->second.abandoned == 1);  // CA3
  CHECK(buckets.rbegin()->first == t0 + 900'000);
  CHECK(buckets.rbegin()->second.offered == 3);  // CA50-52
  CHECK(buckets.rbegin()->second.abandoned == 3);

  o.to_ms = t0 + 300'000;  // up to 12:05: CA1-CA4 arrive (CA4 at t0 + 234 s)
  REQUIRE(build_report(*s.log, o, &r));
  CHECK(r.queues["support"].begin()->second.offered == 4);
  CHECK(r.queues["support"].begin()->second.answered == 2);
  CHECK(r.queues["support"].begin()->second.abandoned == 1);

  o.to_ms = 0;
  o.queue = "sales";
  REQUIRE(build_report(*s.log, o, &r));
  CHECK(r.queues.empty());
  report_interval i;
  CHECK(parse_interval("15m", &i));
  CHECK(i == report_interval::minutes_15);
  CHECK_FALSE(parse_interval("2h", &i));
}

TEST_CASE("callq report prints the same figures as table, csv and json, bad arguments exit 2") {
  scenario s;
  auto run = [&](report_args a, int* code) {
    a.data_dir = s.dir.path() + "/data";
    std::ostringstream out, err;
    *code = run_report(a, out, err);
    return out.str() + err.str();
  };
  int code = -1;
  report_args a;
  a.interval = "1d";
  a.format = "json";
  auto j = nlohmann::json::parse(run(a, &code));
  CHECK(code == 0);
  CHECK(j["queues"][0]["total"]["offered"] == 7);
  CHECK(j["queues"][0]["total"]["answered"] == 2);
  a.format = "csv";
  std::string csv = run(a, &code);
  CHECK(code == 0);
  CHECK(csv.find("queue,start,offered,answered,abandoned,service_level,asa_seconds,aht_seconds\n"
                 "support,2026-11-25T00:00:00.000Z,7,2,4,0.3333,13.5,77.5\n") != std::string::npos);
  CHECK(csv.find("alice,2,275,0,") != std::string::npos);
  a.format = "table";
  std::string table = run(a, &code);
  CHECK(code == 0);
  CHECK(table.find("33.3%") != std::string::npos);
  for (auto bad : {std::pair<std::string, std::string>{"interval", "2h"}, {"format", "xml"},
                   {"from", "yesterday"}}) {
    report_args b;
    if (bad.first == "interval")
      b.interval = bad.second;
    else if (bad.first == "format")
      b.format = bad.second;
    else
      b.from = bad.second;
    std::string text = run(b, &code);
    INFO(bad.first << " -> " << text);
    CHECK(code == 2);
    CHECK(text.find("error: ") != std::string::npos);
  }
}

TEST_CASE("report: dispositions per queue and interval, paused time by the break's reason") {
  testing::temp_dir dir;
  std::string data = dir.path() + "/data";
  {
    testing::actor_harness x({}, 0, data);
    queue_config q;
    REQUIRE(parse_queue_config(std::string(R"({"dispositions":["resolved","follow-up"]})"), &q));
    REQUIRE_FALSE(x.run(cmd::put_queue{"support", to_json(q).dump()}).failed());
    x.add_ready_agent("alice");
    x.run(cmd::heartbeat{"alice", "hash-alice", "break", true, "lunch"});
    x.now += 60'000;
    x.run(cmd::heartbeat{"alice", "hash-alice", "break", true, "training"});
    x.now += 30'000;
    x.run(cmd::heartbeat{"alice", "hash-alice", "break", true, ""});
    x.now += 5'000;
    x.heartbeat("alice");
    x.incoming("CA1", "+15550000001");
    std::string offer = x.offer_of("CA1");
    REQUIRE_FALSE(offer.empty());
    x.now += 2'000;
    x.run(cmd::agent_leg_status{offer, "in-progress"});
    x.now += 40'000;
    x.run(cmd::dial_result{offer, "completed", "in-progress", 40});
    CHECK(x.run(cmd::wrap_up{"alice", "hash-alice", "CA1", "resolved-ish", "", false, {}}).result ==
          outcome::invalid);  // the runtime fills in the queue's dispositions
    REQUIRE_FALSE(x.run(cmd::wrap_up{"alice", "hash-alice", "CA1", "follow-up", "call back", true, {}}).failed());
  }
  std::unique_ptr<storage::event_log> log;
  storage::log_options o;
  o.read_only = true;
  REQUIRE(storage::event_log::open_data_dir(data, o, &log));
  report_options ro;
  ro.interval = report_interval::day;
  queue_report r;
  REQUIRE(build_report(*log, ro, &r));
  REQUIRE(r.queues.count("support"));
  queue_figures total;
  for (auto& [start, f] : r.queues["support"])
    total.add(f);
  CHECK(total.dispositions == std::map<std::string, int64_t>{{"follow-up", 1}});
  auto& by = r.agents["alice"].paused_ms_by_reason;
  CHECK(by["lunch"] == 60'000);
  CHECK(by["training"] == 30'000);
  CHECK(by["unspecified"] == 5'000);
  CHECK(r.agents["alice"].paused_ms == 95'000);
  auto j = report_to_json(r);
  CHECK(j["agents"][0]["pausedSecondsByReason"]["training"] == 30);
  // `callq report` prints both, in every format.
  report_args a;
  a.data_dir = data;
  a.interval = "1d";
  a.format = "csv";
  std::ostringstream out, err;
  REQUIRE(run_report(a, out, err) == 0);
  CHECK(out.str().find(",follow-up,1\n") != std::string::npos);
  CHECK(out.str().find("alice,lunch,60\n") != std::string::npos);
  a.format = "table";
  out.str("");
  REQUIRE(run_report(a, out, err) == 0);
  CHECK(out.str().find("dispositions: follow-up=1") != std::string::npos);
  CHECK(out.str().find("paused training: 30 s") != std::string::npos);
}

namespace {

/// A report built from events given one by one (not from a log).
struct report_feed {
  report_options options;
  policy rules;
  queue_report out;
  report_builder builder{options, rules, &out};

  explicit report_feed(report_options o) : options(std::move(o)) {}
  template <class E> void add(const std::string& stream, int64_t ts, E e) {
    builder.add(stream, events::event{ts, std::move(e)});
  }
  /// Arrived and queued in `queue` at `ts`.
  void queued(const std::string& sid, const std::string& queue, int64_t ts) {
    add("call/" + sid, ts,
        events::call_arrived{sid, "+15551230001", "+15559990000", queue, "", 0, 1, {}, "", {}});
    add("call/" + sid, ts, events::call_enqueued{sid, queue, 0, 1});
  }
  /// Finishes the report at the period's end (once: the builder's rule)
  /// and gives `queue`'s first interval.
  const queue_figures& figures(const std::string& queue) {
    builder.finish(options.to_ms);
    return out.queues[queue].begin()->second;
  }
};

report_options one_hour() {
  report_options o;
  o.from_ms = t0;
  o.to_ms = t0 + 3'600'000;
  o.interval = report_interval::hour;
  return o;
}

}  // namespace

TEST_CASE("report: a call that overflows is offered in the queue it moves to as well") {
  report_feed f(one_hour());
  f.queued("CA1", "support", t0 + 1000);
  f.add("call/CA1", t0 + 61'000, events::call_overflowed{"CA1", "support", "overflow", 1, 1, 60, 1});
  f.add("call/CA1", t0 + 70'000, events::call_connected{"CA1", "alice", "OF1", 69, 3000});
  CHECK(f.figures("support").offered == 1);
  CHECK(f.out.queues["overflow"].begin()->second.offered == 1);
  CHECK(f.out.queues["overflow"].begin()->second.answered == 1);
}

TEST_CASE("report: a hold of exactly the goal is answered within it, a goal given overrides the queue's") {
  for (int64_t goal : {int64_t{0}, int64_t{30}}) {
    report_options o = one_hour();
    o.service_level_seconds = goal;  // 0: the queue's (20 s by default)
    report_feed f(o);
    for (auto [sid, hold] : {std::pair<const char*, int64_t>{"CA1", 20}, {"CA2", 25}}) {
      f.queued(sid, "support", t0 + 1000);
      f.add(std::string("call/") + sid, t0 + 1000 + hold * 1000,
            events::call_connected{sid, "alice", "OF1", hold, 3000});
    }
    INFO("goal " << goal);
    CHECK(f.figures("support").answered_within == (goal == 0 ? 1 : 2));
  }
}

TEST_CASE("report: the period takes events from its start up to, not including, its end") {
  report_feed f(one_hour());
  f.queued("CA1", "support", t0);
  f.queued("CA2", "support", t0 + 3'600'000);  // the next period's
  CHECK(f.figures("support").offered == 1);
  CHECK(f.out.queues["support"].size() == 1);  // no interval of the next period
  report_options o;
  auto st = parse_report_options("2026-11-26T12:00:00Z", "2026-11-26T12:00:00Z", "", "", &o);
  CHECK_FALSE(st);
  CHECK(st.message().find("to must be after from") != std::string::npos);
}

TEST_CASE("report: no service level without a call answered or abandoned late") {
  report_feed f(one_hour());
  f.queued("CA1", "support", t0 + 1000);
  f.add("call/CA1", t0 + 6000, events::call_abandoned{"CA1", "support", "hangup", 1, 1, 5});
  const queue_figures& q = f.figures("support");
  CHECK(q.service_level() == -1.0);
  auto j = report_to_json(f.out);
  CHECK(j["queues"][0]["total"]["serviceLevel"].is_null());
}

TEST_CASE("report: a pause is counted only within the period") {
  report_feed f(one_hour());
  f.add("agent/alice", t0 - 60'000, events::agent_paused{"alice", "missed offers", 3});
  f.add("agent/alice", t0 + 30'000, events::agent_unpaused{"alice", "resumed"});
  f.add("agent/alice", t0 + 3'590'000, events::agent_paused{"alice", "missed offers", 3});
  f.add("agent/alice", t0 + 3'660'000, events::agent_unpaused{"alice", "resumed"});
  f.builder.finish(t0 + 3'700'000);
  CHECK(f.out.agents["alice"].paused_ms == 30'000 + 10'000);
}

TEST_CASE("report: an announced wait is compared with at least a second, callers ahead are position - 1") {
  report_feed f(one_hour());
  f.queued("CA1", "support", t0 + 1000);
  auto a = [](const char* sid) { return events::call_announced{sid, 3, 60, 30, 90, ""}; };
  f.add("call/CA1", t0 + 2000, a("CA1"));
  f.add("call/CA1", t0 + 2400, events::call_connected{"CA1", "alice", "OF1", 1, 3000});  // 0.4 s
  f.queued("CA2", "support", t0 + 1000);
  f.add("call/CA2", t0 + 2000, a("CA2"));
  f.add("call/CA2", t0 + 32'000, events::call_connected{"CA2", "alice", "OF2", 31, 3000});  // the low end
  f.queued("CA3", "support", t0 + 1000);
  f.add("call/CA3", t0 + 2000, a("CA3"));
  f.add("call/CA3", t0 + 92'000, events::call_connected{"CA3", "alice", "OF3", 91, 3000});  // the high end
  f.queued("CA4", "support", t0 + 1000);
  f.add("call/CA4", t0 + 2000, a("CA4"));
  f.add("call/CA4", t0 + 3000,
        events::callback_requested{"CA4", "CB4", "+15551230001", "", "support", 1, 1, 2, 0});
  f.add("call/CA4", t0 + 9000, events::call_connected{"CA4", "alice", "OF4", 8, 3000});
  f.builder.finish(f.options.to_ms);
  const announced_waits& w = f.out.announced["support"];
  CHECK(w.announcements == 4);
  REQUIRE(w.samples.size() == 3);  // the callback's announcement is no sample
  CHECK(w.samples[0].ahead == 2);
  CHECK(w.samples[0].rel_error == Approx(59.0));  // (60 - 1) / 1
  CHECK(w.samples[0].covered == 0);
  CHECK(w.samples[1].covered == 1);
  CHECK(w.samples[2].covered == 1);
}

TEST_CASE("report: by feature path too, a hold of exactly the goal is answered within it") {
  report_options o = one_hour();
  o.split_features = true;
  report_feed f(o);
  f.queued("CA1", "support", t0 + 1000);
  f.add("call/CA1", t0 + 21'000, events::call_connected{"CA1", "alice", "OF1", 20, 3000});
  f.builder.finish(o.to_ms);
  CHECK(f.out.paths["unrecorded"].answered == 1);
  CHECK(f.out.paths["unrecorded"].answered_within == 1);
}

TEST_CASE("report: an abandon counts in the queue it names, a wrap-up without a disposition in none") {
  report_feed f(one_hour());
  // Nothing else of CA9 in the period's log: the abandon's own queue.
  f.add("call/CA9", t0 + 5000, events::call_abandoned{"CA9", "sales", "hangup", 1, 1, 30});
  f.add("agent/alice", t0 + 6000, events::agent_wrap_up_recorded{"alice", "CA1", "sales", "", "no notes"});
  const queue_figures& q = f.figures("sales");
  CHECK(q.abandoned == 1);
  CHECK(q.abandoned_after == 1);  // 30 s, over the 20 s goal
  CHECK(q.dispositions.empty());
}

TEST_CASE("report: occupancy is talk time over staffed time") {
  queue_figures q;
  q.talk_seconds = 90;
  q.staffed_ms = 180'000;
  CHECK(q.occupancy() == Approx(0.5));
  q.staffed_ms = 0;
  CHECK(q.occupancy() == 0.0);
}

TEST_CASE("report: staffed time is counted only within the period") {
  report_feed f(one_hour());
  f.add("agent/alice", t0 - 60'000,
        events::agent_created{"alice", "Alice", "client-alice", "hash", {"support"}, {}, {}, {}});
  f.add("agent/alice", t0 - 60'000, events::agent_status_changed{"alice", "available", "offline", ""});
  f.add("agent/alice", t0 - 60'000, events::agent_heartbeat_resumed{"alice"});
  f.add("agent/alice", t0 + 3'660'000, events::agent_status_changed{"alice", "offline", "available", ""});
  f.builder.finish(t0 + 3'700'000);
  REQUIRE(f.out.staffed_ms["support"].size() == 1);  // no interval before or after the period
  CHECK(f.out.staffed("support", t0) == 3'600'000);
}

TEST_CASE("report: a caller refused into an overflow queue that offers a callback is that queue's") {
  report_options o = one_hour();
  o.queue = "sales";
  o.split_features = true;
  report_feed f(o);
  f.add("call/CA1", t0 + 1000,
        events::call_arrived{"CA1", "+15551230001", "+15559990000", "support", "", 0, 1, {}, "", {}});
  f.add("call/CA1", t0 + 1000, events::call_refused{"CA1", "support", "full", "overflow", "sales", 5});
  f.add("call/CA1", t0 + 1000, events::call_refused{"CA1", "sales", "full", "callback", "", 3});
  f.add("call/CA1", t0 + 9000,
        events::callback_requested{"CA1", "CB1", "+15551230001", "", "sales", 3, 3, 0, 0});
  f.builder.finish(o.to_ms);
  CHECK(f.out.paths["unrecorded"].callbacks == 1);
}
