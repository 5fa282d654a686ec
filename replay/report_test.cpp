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
