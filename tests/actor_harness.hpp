// A test harness around the real runtime: every call, agent and the
// dispatcher as CAF actors on CAF's test scheduler (one message at a
// time, in an order drawn from a seed), a real event log in a temporary
// directory, and virtual time. What tests read is the read model: the
// state the durable log says.
#pragma once

#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "actors/agent/agent_logic.hpp"
#include "actors/call/call_logic.hpp"
#include "actors/runtime.hpp"
#include "actors/world/rebuild.hpp"
#include "tests/temp_dir.hpp"

namespace callq::testing {

class actor_harness {
 public:
  /// Starts the runtime on `data_dir` (a fresh temporary one when empty).
  explicit actor_harness(policy p = {}, uint32_t seed = 0, std::string data_dir = {})
      : rules_(p), seed_(seed), dir_(data_dir.empty() ? tmp_.path() + "/data" : data_dir) {
    clock_ = std::make_shared<manual_clock_source>(now);
    start();
  }
  ~actor_harness() { stop(); }

  /// Current virtual time in ms (starts at a fixed date).
  int64_t now = 1'795'608'000'000;  // 2026-11-25T12:00:00Z

  /// Runs a command at `now` the way an HTTP request does; keeps the
  /// events it appended; returns the answer.
  reply run(cmd::command x) {
    clock_->set(now);
    uint64_t before = rt_->log().last_seq();
    auto r = rt_->ask(std::move(x));
    last_events.clear();
    rt_->log().scan(before + 1, [&](const events::envelope& e) {
      last_events.push_back(e.ev);
      log.push_back(e.ev);
      return true;
    });
    return r;
  }
  /// Advances virtual time and lets due timers fire.
  reply advance(int64_t ms) {
    now += ms;
    return run(cmd::tick{});
  }

  /// Creates an agent and makes it available with a registered device.
  void add_ready_agent(const std::string& id, std::vector<std::string> queues = {"support"}) {
    run(cmd::put_agent{id, id, "client-" + id, "hash-" + id, std::move(queues), {}, {}, {}});
    run(cmd::heartbeat{id, "hash-" + id, "available", true});
  }
  reply heartbeat(const std::string& id, const std::string& status = "available", bool device = true) {
    return run(cmd::heartbeat{id, "hash-" + id, status, device});
  }
  reply incoming(const std::string& sid, const std::string& from = "+15550000000",
                 std::optional<int64_t> priority = std::nullopt) {
    return run(cmd::incoming_call{sid, from, "+15559999999", "support", "", priority});
  }

  /// Number of last-run events of type T.
  template <class T> int count_last() const {
    int n = 0;
    for (auto& e : last_events)
      n += std::holds_alternative<T>(e.body);
    return n;
  }
  /// The first last-run event of type T, or nullptr.
  template <class T> const T* find_last() const {
    for (auto& e : last_events)
      if (auto* p = std::get_if<T>(&e.body))
        return p;
    return nullptr;
  }
  /// Every logged event of type T.
  template <class T> std::vector<T> all() const {
    std::vector<T> out;
    for (auto& e : log)
      if (auto* p = std::get_if<T>(&e.body))
        out.push_back(*p);
    return out;
  }

  /// The read model now (a copy).
  const world& state() {
    snapshot_ = std::make_unique<world>(rt_->reads().read([](const world& w) { return w; }));
    return *snapshot_;
  }
  /// The current (or last) offer id of a waiting call.
  std::string offer_of(const std::string& sid) {
    auto* c = state().find_call(sid);
    return c ? c->routing().offer_id : "";
  }
  /// The operators' state word of an agent.
  std::string agent_state(const std::string& id) {
    auto* a = state().find_agent(id);
    return a ? visible_state(*a, rules_) : "";
  }
  /// Checks the invariants; empty when they hold:
  /// - an offered call's agent rings for exactly that offer, and a ringing
  ///   agent's call is offered to it (no call offered to two agents, no
  ///   agent with two offers, no agent whose phone rings while it shows
  ///   free);
  /// - no call waits while an agent eligible for it (under the agent-side
  ///   checks its flags apply) is idle (unless it
  ///   rests after MAX_OFFER_ATTEMPTS failures, or FEATURE_MULTI_AGENT_
  ///   FALLBACK is off);
  /// - the read model equals a replay of the log, and every live actor's
  ///   own state equals the replayed one;
  /// - no agent holds a reservation once the mailboxes are drained.
  std::string check_invariants() {
    std::string problems = check_structure();
    world r = replayed();
    if (r.digest() != state().digest())
      problems += "read model differs from a replay of the log\n";
    auto live = rt_->entity_digests();
    for (auto [key, text] : live) {
      const std::string open = "|reserved";  // reported by check_structure()
      if (text.size() > open.size() && text.compare(text.size() - open.size(), open.size(), open) == 0)
        text.resize(text.size() - open.size());
      std::string stream = key.substr(0, key.find(' '));
      std::string id = key.substr(key.find(' ') + 1);
      std::string replayed_text;
      if (stream == "call") {
        if (auto* c = r.find_call(id))
          replayed_text = callq::digest_text(*c);
      } else if (auto* a = r.find_agent(id)) {
        replayed_text = callq::digest_text(*a);
      }
      if (replayed_text != text)
        problems += key + ": live actor state differs from the replayed one\n  live:     " + text +
                    "\n  replayed: " + replayed_text + "\n";
    }
    return problems;
  }

  /// The structural part of check_invariants(), without the replay;
  /// `swept`: the idle sweep has just run, so failed calls that poll are
  /// held to "never waits beside a ready agent" too.
  std::string check_structure(bool swept = false) {
    std::ostringstream problems;
    const world& w = state();
    for (auto& [sid, cp] : w.calls()) {
      const call_state& c = *cp;
      bool ringing = c.phase == call_phase::offered ||
                     (c.phase == call_phase::callback_dialing && !c.callback_agent_answered);
      if (!ringing)
        continue;
      const std::string& id = c.phase == call_phase::offered ? c.routing().offer_id : c.routing().callback_id;
      for (auto& agent : c.ringing_agents()) {
        auto* a = w.find_agent(agent);
        if (a && a->offer_id.empty())  // its phone rings, yet it could be offered another call
          problems << "agent " << agent << " rings for " << sid << " while free\n";
        else if (a && a->offer_id != id)
          problems << "call " << sid << " offered to " << agent << " who holds '" << a->offer_id
                   << "'\n";
      }
    }
    for (auto& [id, a] : w.agents()) {
      if (a.offer_id.empty())
        continue;
      auto* c = w.find_call(a.offer_call);
      if (c && [&] {
            auto rung = c->ringing_agents();
            return std::find(rung.begin(), rung.end(), id) == rung.end();
          }())
        problems << "agent " << id << " rings for " << a.offer_call << ", offered to "
                 << c->routing().agent_id << "\n";
      if (!a.on_call.empty())
        problems << "agent " << id << " ringing while on a call\n";
    }
    for (auto& [key, text] : rt_->entity_digests())
      if (key.rfind("agent", 0) == 0 && text.find("|reserved") != std::string::npos)
        problems << key << " holds a reservation with nothing under way\n";
    // A call whose offer failed and that does not fall back to another
    // agent at once (its own FEATURE_MULTI_AGENT_FALLBACK) waits for the
    // idle sweep (when it polls: judged once one has run, `swept`) or for
    // nothing.
    for (auto& [sid, cp] : w.calls()) {
      const call_state& c = *cp;
      auto v = view_of(c, rules_);
      bool waits_for_sweep = !v.fallback && v.routing().failed_in_row > 0 && !(swept && v.polled);
      if (!v.dispatchable || v.routing().rest_until_ms > now || waits_for_sweep)
        continue;
      for (auto& [id, a] : w.agents())  // eligible under the call's own checks
        if (((eligible_under_checks(a, rules_) >> v.agent_checks) & 1) != 0 &&
            std::find(a.queues.begin(), a.queues.end(), c.queue) != a.queues.end() &&
            meets_requirement(a.skill_levels, c.require) &&
            (c.routing().preferred_agent.empty() || c.routing().preferred_agent == id)) {
          problems << "call " << sid << " waits while agent " << id << " is ready\n";
          break;
        }
    }
    problems << check_offered_skills();
    return problems.str();
  }

  /// Replays the log seen so far: no call (or callback) was offered to an
  /// agent lacking a skill the call required at that moment, or not a
  /// member of the call's queue at that moment, or to another
  /// than the agent it was waiting for; no call whose offer failed was
  /// offered again when its flags neither poll nor fall back to another
  /// agent.
  std::string check_offered_skills() {
    std::ostringstream problems;
    world w(rules_);
    uint64_t seq = 0;
    for (auto& e : log) {
      const std::string* sid = nullptr;
      std::vector<std::string> agents;  // a ring-all offer's several
      if (auto* o = std::get_if<events::call_offered>(&e.body)) {
        sid = &o->call_sid;
        agents = o->agents.empty() ? std::vector<std::string>{o->agent_id} : o->agents;
        if (const call_state* c = w.find_call(*sid)) {
          call_view v = view_of(*c, rules_);
          if (v.routing().failed_in_row > 0 && !v.fallback && !v.polled)
            problems << "call " << *sid
                     << " offered again after a failed offer, though it neither polls nor falls back\n";
        }
      } else if (auto* b = std::get_if<events::callback_started>(&e.body)) {
        sid = &b->call_sid;
        agents = {b->agent_id};
      }
      for (auto& agent : agents) {
        auto* c = w.find_call(*sid);
        auto* a = w.find_agent(agent);
        if (c && a && !meets_requirement(a->skill_levels, c->require))
          problems << "call " << *sid << " offered to " << agent << " who lacks its skills\n";
        if (c && a && !member_of(*a, c->queue))
          problems << "call " << *sid << " of queue " << c->queue << " offered to " << agent
                   << ", not a member\n";
        if (c && !c->routing().preferred_agent.empty() && c->routing().preferred_agent != agent)
          problems << "call " << *sid << " offered to " << agent << " while it waits for "
                   << c->routing().preferred_agent << "\n";
      }
      w.apply(++seq, e);
    }
    return problems.str();
  }

  /// What check_dispatch_order() looked at.
  struct order_checked {
    int offers = 0;     ///< reservations logged (agent.offer_received)
    int judged = 0;     ///< of those, judged (see below)
    int contested = 0;  ///< judged ones whose agent could take another waiting call too
  };

  /// Exact dispatch order (README, "Offers in parallel") over the events
  /// logged since `from`, an index into `log` taken while the mailboxes
  /// were drained: no agent was reserved for a call while a call earlier
  /// in dispatch order that it could take waited unheld. An offer is
  /// judged only where the log shows all the dispatcher knew:
  /// - no reservation leg was refused since `refused_before` (the
  ///   runtime's count then): a refused one held its call without a trace;
  /// - the agent's queues and skills are the same as at `from`;
  /// - the earlier call is one that waited at `from` with nothing tried,
  ///   failed or resting, and has had no event since (the dispatcher had
  ///   its view), and no agent was reserved for it in the whole span (it
  ///   may have been held for one when the offer was made).
  std::string check_dispatch_order(size_t from, uint64_t refused_before,
                                   order_checked* seen = nullptr) {
    if (rt_->dispatch_figures().legs_refused.load() != refused_before ||
        !rules_.feature_enhanced_queue) {  // legacy routing matches one call directly
      for (size_t i = from; seen && i < log.size(); ++i)
        seen->offers += std::holds_alternative<events::agent_offer_received>(log[i].body) ? 1 : 0;
      return {};
    }
    world w(rules_);
    uint64_t seq = 0;
    for (size_t i = 0; i < from && i < log.size(); ++i)
      w.apply(++seq, log[i]);
    std::map<std::string, call_view> known;  // waiting at `from`, unchanged since
    for (auto& [sid, cp] : w.calls()) {
      call_view v = view_of(*cp, rules_);
      if (v.dispatchable && v.routing().tried.empty() && v.routing().failed_in_row == 0 && v.routing().rest_until_ms == 0)
        known.emplace(sid, std::move(v));
    }
    using profile = std::pair<std::vector<std::string>, std::map<std::string, int64_t>>;
    std::map<std::string, profile> profiles;  // at `from`
    for (auto& [id, a] : w.agents())
      profiles[id] = {a.queues, a.skill_levels};
    std::set<std::string> reserved;  // calls some agent was reserved for in the span
    for (size_t i = from; i < log.size(); ++i)
      if (auto* o = std::get_if<events::agent_offer_received>(&log[i].body))
        reserved.insert(o->call_sid);
    std::ostringstream problems;
    for (size_t i = from; i < log.size(); ++i) {
      const events::event& e = log[i];
      if (auto* o = std::get_if<events::agent_offer_received>(&e.body)) {
        if (seen)
          ++seen->offers;
        const call_state* c = w.find_call(o->call_sid);
        const callq::agent_state* a = w.find_agent(o->agent_id);
        auto before = profiles.find(o->agent_id);
        if (c && a && before != profiles.end() &&
            before->second == profile{a->queues, a->skill_levels}) {
          call_view offered = view_of(*c, rules_);
          bool contested = false;
          for (auto& [sid, v] : known) {
            // Judged only where the agent's eligibility for the offered
            // call implies it for this one (no agent-side check more).
            bool takes = sid != o->call_sid && !reserved.count(sid) &&
                         (v.agent_checks & ~offered.agent_checks) == 0 &&
                         std::find(a->queues.begin(), a->queues.end(), v.queue) != a->queues.end() &&
                         meets_requirement(a->skill_levels, v.routing().require) &&
                         (v.routing().preferred_agent.empty() || v.routing().preferred_agent == o->agent_id);
            contested = contested || takes;
            if (takes && v.key < offered.key)
              problems << "agent " << o->agent_id << " reserved for " << o->call_sid
                       << " while " << sid << ", earlier in dispatch order, waited\n";
          }
          if (seen) {
            ++seen->judged;
            seen->contested += contested ? 1 : 0;
          }
        }
      }
      std::string stream = events::stream_of(e.body);
      if (stream.rfind("call/", 0) == 0)
        known.erase(stream.substr(5));
      w.apply(++seq, e);
    }
    return problems.str();
  }

  /// REST jobs the gateway was handed.
  const std::vector<rest_job>& jobs() const { return *jobs_; }

  /// A world rebuilt from the whole log.
  world replayed() const {
    world w(rules_);
    rebuild_report rr;
    rebuild(rt_->log(), w, {}, &rr);
    return w;
  }

  /// Stops the runtime as at a crash (no final digest is needed for
  /// anything) and starts it again on the same log.
  void restart() {
    stop();
    start();
  }
  /// Stops the runtime, lets `down_ms` of virtual time pass with nothing
  /// running (timers that come due meanwhile fire nowhere), and starts it.
  void restart_after(int64_t down_ms) {
    stop();
    now += down_ms;
    start();
  }

  runtime& rt() { return *rt_; }
  const policy& rules() const { return rules_; }
  const std::string& data_dir() const { return dir_; }

  std::vector<events::event> log, last_events;
  /// What the runtime's on_fatal was called with (README, "Supervision").
  std::vector<std::string> fatal;

 private:
  void start() {
    runtime_options o;
    o.data_dir = dir_;
    o.rules = rules_;
    o.clock = clock_;
    o.deterministic = true;
    o.seed = seed_;
    o.recorded_jobs = jobs_;
    o.disk_check_ms = 0;  // no watcher thread: everything runs in virtual time
    // Passivation as the runtime's default unless told (0: off), so that
    // a failing seed can be run again with and without it.
    if (const char* p = std::getenv("CALLQ_TEST_PASSIVATE_AFTER_MS"))
      o.passivate_after_ms = std::atoll(p);
    o.on_fatal = [this](const std::string& why) { fatal.push_back(why); };
    clock_->set(now);
    uint64_t before = 0;
    {
      std::unique_ptr<storage::event_log> l;
      if (storage::event_log::open_data_dir(dir_, {}, &l))
        before = l->last_seq();
    }
    auto st = runtime::start(o, &rt_);
    if (!st)
      throw std::runtime_error("runtime did not start: " + st.message());
    rt_->log().scan(before + 1, [&](const events::envelope& e) {
      log.push_back(e.ev);
      return true;
    });
  }
  void stop() {
    if (rt_)
      rt_->stop();
    rt_.reset();
  }

  policy rules_;
  uint32_t seed_;
  temp_dir tmp_;
  std::string dir_;
  std::shared_ptr<manual_clock_source> clock_;
  std::shared_ptr<std::vector<rest_job>> jobs_ = std::make_shared<std::vector<rest_job>>();
  std::unique_ptr<runtime> rt_;
  std::unique_ptr<world> snapshot_;
};

}  // namespace callq::testing
