// The real actors (every call and agent its own actor, the dispatcher, the
// journal) on CAF's test scheduler, driven by random histories of calls
// (some with their own skills), agents (members of two queues with random
// penalties and skill levels), heartbeats, expiries, offer failures,
// hang-ups, callbacks, queue configurations with random strategies and
// skill steps that relax, and restarts, with the order in which the
// actors' messages are delivered drawn at random per seed. After every
// step, once the mailboxes are drained: no call offered to two agents, no
// agent with two offers or reservations, no reservation left open, no call
// waiting beside an idle agent eligible for it (skills included), no call
// offered to an agent lacking a skill it required at that moment, no agent
// reserved for a call while an earlier one it could take waited unheld
// (exact dispatch order, where the log shows what the dispatcher knew); and the
// read model and every live actor's own state equal a replay of the log
// (after every restart and at the end).
#include <cstdlib>
#include <random>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "actors/dispatcher/queue_config.hpp"
#include "actors/world/snapshot.hpp"
#include "actors/world/status_json.hpp"
#include "events/codec.hpp"
#include "tests/actor_harness.hpp"

using namespace callq;
using callq::testing::actor_harness;

namespace {

struct scenario {
  std::mt19937_64 rng;
  actor_harness h;
  int calls = 0, agents = 0;

  explicit scenario(uint64_t seed, policy rules = {})
      : rng(seed), h(std::move(rules), static_cast<uint32_t>(seed)) {}

  int pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng); }
  std::string some_call() { return "CA" + std::to_string(pick(std::max(1, calls))); }
  std::string some_agent() { return "ag" + std::to_string(pick(std::max(1, agents))); }
  std::string some_offer() {
    const call_state* c = h.state().find_call(some_call());
    return c && !c->routing().offer_id.empty() ? c->routing().offer_id : "OF1";
  }

  std::string some_queue() { return pick(3) == 0 ? "sales" : "support"; }

  /// A profile in one or both queues, with random penalties and skills.
  cmd::put_agent profile(const std::string& id) {
    cmd::put_agent x{id, id, id, "hash-" + id, {}, {}, {}, {}};
    for (const char* q : {"support", "sales"})
      if (pick(3) != 0 || (x.queues.empty() && std::string(q) == "sales")) {
        x.queues.push_back(q);
        if (int p = pick(3); p > 0)
          x.penalties[q] = p;
      }
    for (const char* skill : {"es", "fr"})
      if (pick(2) == 0) {
        x.skills.push_back(skill);
        x.skill_levels[skill] = 1 + pick(10);
      }
    return x;
  }

  /// A random configuration of a random queue (or its removal).
  void configure() {
    static const char* strategies[] = {"longest-idle", "round-robin", "fewest-calls",
                                       "least-talk-time", "random", "linear", "ring-all"};
    std::string q = some_queue();
    if (pick(5) == 0) {
      h.run(cmd::delete_queue{q});
      return;
    }
    nlohmann::json c = {{"strategy", strategies[pick(7)]}, {"serviceLevelSeconds", 1 + pick(60)}};
    // Admission rules: a short line, any full action (overflow to the
    // other queue; a loop through both is refused, which is fine too),
    // sometimes no joining without staffed members.
    static const char* full[] = {"callback", "hangup", "overflow"};
    if (pick(3) == 0) {
      c["maxWaiting"] = 1 + pick(3);
      c["whenFull"] = full[pick(3)];
      if (c["whenFull"] == "overflow")
        c["overflowQueue"] = q == "support" ? "sales" : "support";
    }
    if (pick(6) == 0)
      c["joinWhenNoAgents"] = false;
    // Overflow after a wait, to the other queue (a loop is refused).
    if (pick(3) == 0) {
      c["overflowAfterSeconds"] = 1 + pick(60);
      c["overflowQueue"] = q == "support" ? "sales" : "support";
    }
    // Callers waiting a while for the agent they last had.
    if (pick(2) == 0)
      c["preferLastAgentSeconds"] = 1 + pick(60);
    // Skills that relax: a level of es or fr at once, a lower one later,
    // and sometimes anyone at the end.
    if (pick(2) == 0) {
      std::string skill = pick(2) ? "es" : "fr";
      int64_t later = 1 + pick(40);
      nlohmann::json steps = nlohmann::json::array();
      steps.push_back({{"afterSeconds", 0}, {"require", {{skill, 2 + pick(9)}}}});
      steps.push_back({{"afterSeconds", later}, {"require", {{skill, 1}}}});
      if (pick(2) == 0)
        steps.push_back({{"afterSeconds", later + 1 + pick(60)}, {"require", nlohmann::json::object()}});
      c["skillSteps"] = steps;
    }
    queue_config parsed;
    REQUIRE(parse_queue_config(c, &parsed));
    h.run(cmd::put_queue{q, to_json(parsed).dump()});
  }

  /// Whether the last step ran the idle sweep.
  bool swept = false;

  /// One random step; true when it restarted the server. `busy`: half
  /// of the steps are arrivals, answers and hang-ups of talking callers,
  /// so that calls queue while agents free up one by one.
  bool step(bool busy = false) {
    swept = false;
    static const char* statuses[] = {"available", "available", "available", "busy", "break", "offline"};
    static const char* dial[] = {"completed", "no-answer", "busy", "failed", "canceled"};
    int what = pick(18);
    if (busy && pick(2) == 0) {
      switch (pick(3)) {
        case 0:
          what = 0;  // a caller arrives
          break;
        case 1:
          what = 7;  // a ringing agent answers
          break;
        default:  // a talking caller hangs up; the agent's wrap-up ends
          for (auto& [sid, c] : h.state().calls())
            if (c->phase == call_phase::connected) {
              h.run(cmd::call_status{std::string(sid), "completed"});
              h.advance(h.rules().wrap_up_ms + 1);
              return false;
            }
          what = 0;
      }
    }
    switch (what) {
      case 0:
      case 1: {
        auto prio = pick(4) == 0 ? std::optional<int64_t>(pick(3) * 5) : std::nullopt;
        std::string from = pick(6) == 0 ? "anonymous" : "+1555000" + std::to_string(pick(5));
        std::string queue = some_queue();
        // Often a caller who talks to an agent right now calls the same
        // queue again, so the new call may wait for that agent
        // (preferLastAgentSeconds); sometimes that queue gets the rule now.
        if (pick(2) == 0)
          for (auto& [sid, c] : h.state().calls())
            if (c->phase == call_phase::connected && pick(2) == 0) {
              from = c->from;
              queue = c->queue;
              if (pick(2) == 0) {
                queue_config q = h.state().config_of(queue);
                q.prefer_last_agent_seconds = 1 + pick(60);
                h.run(cmd::put_queue{queue, to_json(q).dump()});
              }
              break;
            }
        cmd::incoming_call x{"CA" + std::to_string(calls++), from, "+15559999999", queue, "", prio};
        if (pick(4) == 0)
          x.skills[pick(2) ? "es" : "fr"] = 1 + pick(10);
        h.run(x);
        break;
      }
      case 2:
        if (agents < 6) {
          std::string id = "ag" + std::to_string(agents++);
          h.run(profile(id));
        }
        break;
      case 16:
        configure();
        break;
      case 17:
        if (agents > 0)
          h.run(profile(some_agent()));
        break;
      case 3:
      case 4:
        h.heartbeat(some_agent(), statuses[pick(6)], pick(8) != 0);
        break;
      case 5:
        h.advance(pick(70'000));
        break;
      case 6:
        h.run(cmd::dial_result{some_offer(), dial[pick(5)], pick(6) == 0 ? "completed" : "in-progress",
                               pick(200)});
        break;
      case 7: {
        // Mostly an offer ringing now is answered (so callers talk to
        // agents, and call again while they do).
        std::string offer = some_offer();
        if (pick(3) != 0)
          for (auto& [sid, c] : h.state().calls())
            if (c->phase == call_phase::offered) {
              offer = c->routing().offer_id;
              break;
            }
        h.run(cmd::agent_leg_status{offer, "in-progress"});
        break;
      }
      case 8:
        h.run(cmd::call_status{some_call(), "completed"});
        break;
      case 9:
        h.run(cmd::hold_poll{some_call()});
        break;
      case 10:
        if (pick(4) == 0) {  // an operator books one, or cancels one
          if (pick(3) == 0) {
            h.run(cmd::cancel_callback{"CB" + std::to_string(1 + pick(6))});
          } else {
            cmd::schedule_callback b{"", "+1555000" + std::to_string(pick(5)), some_queue(), "",
                                     h.now - 1000 + pick(120'000)};
            h.run(b);
          }
        } else {
          h.run(cmd::callback_response{some_call(), pick(2) ? "1" : "3"});
        }
        break;
      case 11: {
        const call_state* c = h.state().find_call(some_call());
        if (c && !c->routing().callback_id.empty()) {
          std::string cb = c->routing().callback_id;
          h.run(cmd::callback_connect{cb, "CAleg-" + cb});
          h.run(cmd::callback_result{cb, dial[pick(5)], pick(100)});
        }
        break;
      }
      case 12:
        swept = pick(2) == 0;
        h.run(swept ? cmd::command{cmd::sweep{}} : cmd::command{cmd::heartbeat_cleanup{}});
        break;
      case 13:
        h.run(cmd::redirect_failed{some_offer(), "test"});
        break;
      case 14:
        if (pick(4) == 0)
          h.run(cmd::delete_agent{some_agent()});
        else
          h.run(cmd::queue_left{some_call(), "hangup"});
        break;
      case 15:
        if (pick(6) == 0) {
          h.now += pick(5000);
          h.restart();
          return true;
        }
        break;
    }
    return false;
  }
};

/// The callbacks a world lists and its callers' last agents at `now_ms`,
/// as text.
std::string listed(const world& w, int64_t now_ms) {
  std::string out;
  for (auto& cb : w.callbacks(std::nullopt))
    out += callback_to_json(cb).dump() + "\n";
  for (int n = 0; n < 5; ++n) {
    std::string number = "+1555000" + std::to_string(n);
    out += number + " -> " + w.last_agent_of(number, now_ms) + "\n";
  }
  for (auto& a : w.status(now_ms, 0).agents)
    out += a.agent_id + " " + a.state + " for " + std::to_string(a.state_seconds) + " s\n";
  return out;
}

int seeds() {
  const char* n = std::getenv("CALLQ_PROPERTY_SEEDS");
  return n != nullptr ? std::atoi(n) : 1000;
}

/// Added to every seed: 0 in the suite (the same histories each run); the
/// long tier rotates it and prints it (scripts/test.sh --long), so a
/// failure there is rerun with CALLQ_PROPERTY_BASE_SEED and the seed shown.
uint64_t base_seed() {
  const char* n = std::getenv("CALLQ_PROPERTY_BASE_SEED");
  return n != nullptr ? std::strtoull(n, nullptr, 10) : 0;
}

/// The rules of the histories: the plain ones, or the busy ones, which
/// also roll out the agent-side checks to half of the callers (the same
/// half for each flag: one hash per caller), polling to 65 % and the
/// multi-agent fallback to 30 %, so calls on the new path and on the
/// legacy one wait side by side. The callers' buckets (of 100):
/// +15550001 14, +15550003 26, +15550000 59, anonymous 51, +15550002 71,
/// +15550004 75: two callers take every new path, two poll without the
/// fallback, two take none.
policy history_rules(bool busy) {
  policy rules;
  if (busy) {
    for (const char* flag :
         {"FEATURE_AGENT_HEARTBEAT", "FEATURE_DEVICE_CONNECTIVITY", "FEATURE_ENHANCED_DISCOVERY"})
      rules.feature_shares[flag] = 50;
    rules.feature_shares["FEATURE_AGENT_POLLING"] = 65;
    rules.feature_shares["FEATURE_MULTI_AGENT_FALLBACK"] = 30;
  }
  return rules;
}

/// Runs the random history of `seed` (busy: four agents at work from the
/// start, twice the steps), checking the invariants after every step;
/// false, with the problems reported (`alone` says how to run it again
/// by itself), at the first step that breaks one.
bool run_history(uint64_t seed, bool busy, actor_harness::order_checked* order,
                 const std::string& alone) {
  scenario s(seed, history_rules(busy));
  if (busy)
    for (int k = 0; k < 4; ++k) {
      std::string id = "ag" + std::to_string(s.agents++);
      s.h.run(s.profile(id));
      s.h.heartbeat(id);
    }
  bool ok = true;
  for (int i = 0; i < (busy ? 60 : 30); ++i) {
    size_t from = s.h.log.size();
    uint64_t refused = s.h.rt().dispatch_figures().legs_refused.load();
    bool restarted = s.step(busy);
    std::string problems = restarted ? s.h.check_invariants()
                                     : s.h.check_structure(s.swept) +
                                           s.h.check_dispatch_order(from, refused, order);
    if (!problems.empty()) {
      if (std::getenv("CALLQ_DEBUG_LOG"))  // the failing seed's whole log, as JSON
        for (auto& e : s.h.log)
          std::printf("%s\n", events::payload_to_json(e.body).dump().c_str());
      FAIL_CHECK("seed " << seed << " step " << i << " (alone: " << alone
                         << "; CALLQ_DEBUG_LOG=1 prints its log):\n"
                         << problems);
      ok = false;
      break;
    }
  }
  INFO("seed " << seed);
  CHECK(s.h.check_invariants().empty());
  return ok;
}

/// Runs seeds `first`, `first + stride`, ... (`seeds()` in all, over the
/// four test cases below, so that CTest can run them side by side).
void run_seeds(int first, int stride, bool busy = false) {
  int violations = 0;
  actor_harness::order_checked order;
  for (int n = first; n <= seeds(); n += stride) {
    uint64_t seed = base_seed() + static_cast<uint64_t>(n);
    // Alone: the seed as the first of its case (n = `first`).
    std::string alone = "CALLQ_PROPERTY_BASE_SEED=" + std::to_string(seed - static_cast<uint64_t>(first)) +
                        " CALLQ_PROPERTY_SEEDS=" + std::to_string(first) + ", the " +
                        (busy ? "busy" : "'" + std::to_string(first % 4) + " mod 4'") + " case";
    if (!run_history(seed, busy, &order, alone))
      ++violations;
  }
  CHECK(violations == 0);
  // The order check judged most reservations, and many of them had a
  // choice to make.
  INFO(order.offers << " reservations, " << order.judged << " judged, " << order.contested
                    << " with another call the agent could take");
  CHECK(order.judged * 2 > order.offers);
  CHECK(order.contested * 10 > order.judged);
}

}  // namespace

// Together: CALLQ_PROPERTY_SEEDS seeds (1,000 unless set; the suite's
// share of the CI time limit).
TEST_CASE("random histories keep every dispatch invariant (seeds 1 mod 4)") { run_seeds(1, 4); }
TEST_CASE("random histories keep every dispatch invariant (seeds 2 mod 4)") { run_seeds(2, 4); }
TEST_CASE("random histories keep every dispatch invariant (seeds 3 mod 4)") { run_seeds(3, 4); }
TEST_CASE("random histories keep every dispatch invariant (seeds 0 mod 4)") { run_seeds(4, 4); }

// Seeds of the long tier's (rotating) histories that once broke an
// invariant, kept after the fix:
// - 2079410269: a call's skill step (fr:1, then es:1) was recorded while
//   the dispatcher still held its old view; the call took the offer
//   matched under fr:1 to an agent without es. A call now refuses an
//   offer matched under a requirement it no longer has.
TEST_CASE("random histories that once broke an invariant keep every one now") {
  actor_harness::order_checked order;
  for (uint64_t seed : {2079410269ull})
    CHECK(run_history(seed, false, &order, "this test case"));
}

// Calls queueing while agents free up one by one, on two paths of a
// rollout (agent-side checks by share): many reservations are a choice
// among waiting calls, in exact dispatch order. Fewer
// seeds (one in 8), twice the steps each.
TEST_CASE("busy random histories keep every dispatch invariant, exact order included") {
  run_seeds(3, 8, true);
}

TEST_CASE("live state equals replayed state after a long scripted run") {
  scenario s(4242);
  for (int i = 0; i < 2'000; ++i)
    s.step();
  CHECK(s.h.log.size() > 1'000);
  // The long run is where callers call again while talking to an agent
  // (preferred agents) and calls overflow more than once.
  CHECK_FALSE(s.h.all<events::call_agent_preferred>().empty());
  CHECK_FALSE(s.h.all<events::call_overflowed>().empty());
  CHECK_FALSE(s.h.all<events::callback_scheduled>().empty());
  std::string problems = s.h.check_invariants();
  INFO(problems);
  CHECK(problems.empty());
}

TEST_CASE("a snapshot taken at any event, plus the tail, equals the full replay") {
  scenario s(777);
  for (int i = 0; i < 400; ++i)
    s.step();
  const storage::event_log& log = s.h.rt().log();
  REQUIRE(log.last_seq() > 200);
  world full = s.h.replayed();
  std::mt19937_64 rng(5);
  for (int k = 0; k < 25; ++k) {
    uint64_t at = 1 + rng() % log.last_seq();
    INFO("snapshot at event " << at);
    world head{policy{}};
    rebuild_report rr;
    REQUIRE(rebuild(log, head, {at, 0}, &rr));
    events::chain_value chain{};
    REQUIRE(log.chain_at(at, &chain));
    std::string bytes = encode_snapshot(head.image(), head.digest(), 0, chain);
    world restored{policy{}};
    snapshot_info info;
    REQUIRE(decode_snapshot(bytes, policy{}, &restored, &info));
    CHECK(info.seq == at);
    CHECK(restored.digest() == head.digest());
    REQUIRE(rebuild(log, restored, {}, &rr));
    CHECK(rr.events == log.last_seq() - at);
    CHECK(restored.digest() == full.digest());
    // What the digest leaves out: the callbacks list, callers' last agents,
    // agents' time in state.
    CHECK(listed(restored, s.h.now) == listed(full, s.h.now));
  }
}
