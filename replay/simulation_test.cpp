#include "replay/simulation.hpp"

#include <catch2/catch.hpp>

#include "events/codec.hpp"
#include "replay/what_if.hpp"
#include "tests/generated_history.hpp"

using namespace callq;
using namespace callq::replay;

namespace {

/// A generated history's log, open read-only, and its period.
struct generated {
  testing::actor_harness x;
  int64_t from = 0, to = 0;
  explicit generated(const testing::history_shape& shape) : x(testing::history_policy(), 1) {
    from = x.now;
    testing::generate_history(x, shape);
    to = x.now + 1;
  }
  std::unique_ptr<storage::event_log> open() {
    std::unique_ptr<storage::event_log> log;
    storage::log_options o;
    o.read_only = true;
    REQUIRE(storage::event_log::open_store("", x.data_dir(), o, &log));
    return log;
  }
  report_options options(report_interval i = report_interval::hour) {
    report_options o;
    o.from_ms = from;
    o.to_ms = to;
    o.interval = i;
    return o;
  }
};

/// Actual and simulated figures of every queue and interval, side by side
/// (offered, answered, answered within, abandoned, hold and talk time).
std::string differences(const what_if_result& r) {
  std::string out;
  auto row = [](const queue_figures& f) {
    return std::to_string(f.offered) + "/" + std::to_string(f.answered) + "/" + std::to_string(f.answered_within) +
           "/" + std::to_string(f.abandoned) + "/" + std::to_string(f.hold_seconds) + "/" +
           std::to_string(f.talk_seconds);
  };
  for (auto* side : {&r.past.actual, &r.simulated})
    for (auto& [q, buckets] : side->queues)
      for (auto& [start, f] : buckets) {
        auto a = r.past.actual.queues.find(q);
        auto s = r.simulated.queues.find(q);
        queue_figures fa, fs;
        if (a != r.past.actual.queues.end() && a->second.count(start))
          fa = a->second.at(start);
        if (s != r.simulated.queues.end() && s->second.count(start))
          fs = s->second.at(start);
        if (row(fa) != row(fs))
          out += q + " " + std::to_string(start) + ": actual " + row(fa) + " simulated " + row(fs) + "\n";
      }
  return out;
}

}  // namespace

TEST_CASE("a simulation with the actual staffing reproduces a generated history exactly") {
  testing::history_shape shape;
  shape.agents = 3;
  shape.callers = 150;
  shape.load = 1.0;
  shape.break_every = 2;
  generated g(shape);
  auto log = g.open();
  what_if_result r;
  REQUIRE(simulate_period(*log, testing::history_policy(), g.options(), what_if{}, &r));
  CHECK(r.stats.callers == 150);
  CHECK(r.stats.unfinished == 0);
  queue_figures actual;
  for (auto& [start, f] : r.past.actual.queues["support"])
    actual.add(f);
  // The history has both outcomes, so the test could tell them apart.
  CHECK(actual.answered > 50);
  CHECK(actual.abandoned > 5);
  CHECK(differences(r) == "");
  // Occupancy too: the same staffed time and the same talk time.
  for (auto& [start, f] : r.past.actual.queues["support"])
    CHECK(r.simulated.staffed("support", start) == r.past.actual.staffed("support", start));
}

TEST_CASE("two more agents never make the simulated service level worse") {
  testing::history_shape shape;
  shape.agents = 3;
  shape.callers = 150;
  shape.load = 1.1;
  generated g(shape);
  auto log = g.open();
  history past;
  REQUIRE(read_history(*log, testing::history_policy(), g.options(), &past));
  for (uint64_t seed : {1, 2, 3}) {
    double last = -1;
    for (int agents : {2, 4, 6}) {
      what_if w;
      w.seed = seed;
      w.staffing_json = R"({"support": [{"from": "00:00", "to": "24:00", "agents": )" + std::to_string(agents) + "}]}";
      what_if_result r;
      REQUIRE(simulate_history(past, testing::history_policy(), g.options(), w, &r));
      queue_figures total;
      for (auto& [start, f] : r.simulated.queues["support"])
        total.add(f);
      INFO("seed " << seed << ", " << agents << " agents");
      CHECK(total.offered == 150);
      CHECK(total.service_level() >= last);
      last = total.service_level();
    }
  }
}

TEST_CASE("a staffing file's windows follow its time zone and add up") {
  std::vector<duty> duties;
  // 2026-11-23 is a Monday; Berlin is UTC+1 in November.
  int64_t from = 0, to = 0;
  REQUIRE(events::parse_iso8601("2026-11-23T00:00:00Z", &from));
  REQUIRE(events::parse_iso8601("2026-11-25T00:00:00Z", &to));
  REQUIRE(parse_staffing(R"({"timezone": "Europe/Berlin", "support": [
      {"days": ["mon"], "from": "09:00", "to": "17:00", "agents": 2, "skills": {"es": 1}},
      {"days": ["mon", "tue"], "from": "12:00", "to": "13:00", "agents": 1}]})",
                         {"support"}, from, to, &duties));
  REQUIRE(duties.size() == 3);
  CHECK(events::format_iso8601(duties[0].from_ms) == "2026-11-23T08:00:00.000Z");
  CHECK(events::format_iso8601(duties[0].to_ms) == "2026-11-23T16:00:00.000Z");
  auto actions = staffing_actions(duties, from);
  // Agent support-3 exists only for the lunch hour overlap; support-1
  // has es at level 10.
  int on = 0;
  bool es = false;
  for (auto& a : actions) {
    if (auto* h = std::get_if<cmd::heartbeat>(&a.what); h && h->status == "available")
      ++on;
    if (auto* p = std::get_if<cmd::put_agent>(&a.what); p && p->agent_id == "support-1")
      es = es || p->skill_levels.count("es") > 0;
  }
  CHECK(on == 4);  // support-1, support-2 on Monday; support-3 at Monday noon; support-1 on Tuesday noon
  CHECK(es);
}

TEST_CASE("a bad staffing file, an unknown queue or bad queue rules are refused with the reason") {
  std::vector<duty> duties;
  auto refused = [&](const std::string& text, const std::string& why) {
    auto st = parse_staffing(text, {"support"}, 0, 86'400'000, &duties);
    INFO(text);
    CHECK(!st);
    CHECK(st.message().find(why) != std::string::npos);
  };
  refused("nope", "not a JSON object");
  refused(R"({"sales": [{"from": "09:00", "to": "17:00", "agents": 2}]})", "unknown queue 'sales'");
  refused(R"({"support": [{"from": "9am", "to": "17:00", "agents": 2}]})", "from must be");
  refused(R"({"support": [{"from": "17:00", "to": "09:00", "agents": 2}]})", "after 'from'");
  refused(R"({"support": [{"from": "09:00", "to": "17:00", "agents": -1}]})", "agents must be");
  refused(R"({"support": [{"from": "09:00", "to": "17:00", "agents": 2, "skills": {"es": 3}}]})", "skills.es");
  refused(R"({"support": [{"days": ["monday"], "from": "09:00", "to": "17:00", "agents": 2}]})", "'monday'");
  refused(R"({"timezone": "Mars/Olympus", "support": []})", "unknown timezone");
  refused(R"({"support": [{"from": "09:00", "to": "17:00", "agents": 2, "shift": 1}]})", "unknown field 'shift'");

  testing::history_shape shape;
  shape.callers = 20;
  generated g(shape);
  auto log = g.open();
  what_if w;
  w.queues_json = R"({"queues": [{"name": "sales", "config": {}}]})";
  what_if_result r;
  auto st = simulate_period(*log, testing::history_policy(), g.options(), w, &r);
  CHECK(st.error_code() == status::code::invalid_argument);
  CHECK(st.message().find("unknown queue 'sales'") != std::string::npos);
  w.queues_json = R"({"queues": [{"name": "support", "config": {"strategy": "fastest"}}]})";
  st = simulate_period(*log, testing::history_policy(), g.options(), w, &r);
  CHECK(st.error_code() == status::code::invalid_argument);
  // A period with no calls.
  report_options empty = g.options();
  empty.from_ms = g.to + 3'600'000;
  empty.to_ms = g.to + 7'200'000;
  st = simulate_period(*log, testing::history_policy(), empty, what_if{}, &r);
  CHECK(st.error_code() == status::code::invalid_argument);
  CHECK(st.message().find("no calls arrived") != std::string::npos);
}


TEST_CASE("a caller whose offers all ring out rests, is offered again after the rest, and abandons on time") {
  sim_input in;
  in.from_ms = 1'795'392'000'000;
  in.to_ms = in.from_ms + 3'600'000;
  in.actions.push_back({in.from_ms, cmd::put_agent{"a1", "a1", "client:a1", "hash-a1", {"support"}, {}, {}, {}}});
  in.actions.push_back({in.from_ms, cmd::heartbeat{"a1", "hash-a1", "available", true}});
  in.ring_outs["a1"] = ring_out_habit{10, 10, {20'000}};
  sim_caller c;
  c.at_ms = in.from_ms + 1'000;
  c.call = cmd::incoming_call{"CA1", "+15551234567", "+15559999999", "support", "", std::nullopt};
  c.abandoned = true;
  c.waited_ms = 600'000;
  in.callers.push_back(c);
  policy rules = testing::history_policy();
  int failed = 0;
  int64_t ended = 0;
  auto st = run_simulation(in, rules, draw_unknowns(in, rules, 1), 1,
                           [&](const std::string&, const events::event& e) {
                             failed += std::holds_alternative<events::call_offer_failed>(e.body);
                             if (std::holds_alternative<events::call_abandoned>(e.body))
                               ended = e.ts_ms;
                           });
  // Before a rest's end stopped counting as a deadline once passed, the
  // call's timer was set to it again and again at that same moment.
  CHECK(st.stuck_at_ms == 0);
  CHECK(st.unfinished == 0);
  CHECK(failed > rules.max_offer_attempts);
  CHECK(ended == c.at_ms + 600'000);
}
