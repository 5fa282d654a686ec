#include "replay/simulation.hpp"

#include <algorithm>
#include <deque>
#include <map>
#include <optional>
#include <queue>
#include <random>
#include <unordered_map>

#include "actors/agent/agent_logic.hpp"
#include "actors/call/call_logic.hpp"
#include "actors/dispatcher/match_index.hpp"
#include "actors/dispatcher/offer_commands.hpp"
#include "actors/dispatcher/queue_logic.hpp"
#include "actors/ids.hpp"
#include "actors/world/call_context.hpp"

namespace callq::replay {

policy simulation_rules(policy rules) {
  rules.feature_agent_heartbeat = false;
  rules.feature_callback_request_system = false;
  rules.feature_shares.erase("FEATURE_AGENT_HEARTBEAT");
  rules.feature_shares.erase("FEATURE_CALLBACK_REQUEST_SYSTEM");
  return rules;
}

namespace {

/// The Kaplan-Meier estimate of one queue's patience: at each time a
/// caller gave up, the share of callers still patient after it.
class patience_curve {
 public:
  /// (time in line, gave up) of every caller.
  explicit patience_curve(std::vector<std::pair<int64_t, bool>> obs) {
    std::sort(obs.begin(), obs.end());
    double at_risk = static_cast<double>(obs.size()), survive = 1;
    for (size_t i = 0; i < obs.size();) {
      size_t j = i;
      int64_t deaths = 0;
      while (j < obs.size() && obs[j].first == obs[i].first)
        deaths += obs[j++].second;
      if (deaths > 0) {
        survive *= 1 - static_cast<double>(deaths) / at_risk;
        steps_.emplace_back(obs[i].first, survive);
      }
      at_risk -= static_cast<double>(j - i);
      i = j;
    }
  }
  /// A patience above `waited`: the first step where the chance of being
  /// still patient, given patience beyond `waited`, falls to `u`; -1 (for
  /// ever) when it never does.
  int64_t draw_above(int64_t waited, double u) const {
    double base = 1;
    auto first = std::upper_bound(steps_.begin(), steps_.end(), std::make_pair(waited, 2.0));
    if (first != steps_.begin())
      base = std::prev(first)->second;
    if (base <= 0)
      return -1;
    for (auto i = first; i != steps_.end(); ++i)
      if (i->second / base <= u)
        return i->first;
    return -1;
  }

 private:
  std::vector<std::pair<int64_t, double>> steps_;  ///< (time, survival after it)
};

}  // namespace

sim_draws draw_unknowns(const sim_input& in, const policy& rules, uint64_t seed) {
  std::mt19937_64 rng(seed * 0x9E3779B97F4A7C15ULL + 1);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::map<std::string, std::vector<std::pair<int64_t, bool>>> obs;
  std::map<std::string, std::vector<int64_t>> handles, rings;
  std::vector<int64_t> all_handles, all_rings;
  for (auto& c : in.callers) {
    const std::string& q = c.call.queue;
    if (c.answered || c.abandoned)
      obs[q].emplace_back(c.waited_ms, c.abandoned);
    if (c.handle_ms >= 0) {
      handles[q].push_back(c.handle_ms);
      all_handles.push_back(c.handle_ms);
    }
    if (c.ring_ms >= 0) {
      rings[q].push_back(c.ring_ms);
      all_rings.push_back(c.ring_ms);
    }
  }
  std::map<std::string, patience_curve> curves;
  for (auto& [q, o] : obs)
    curves.emplace(q, patience_curve(o));
  auto pick = [&](const std::vector<int64_t>& mine, const std::vector<int64_t>& all, int64_t none) {
    const std::vector<int64_t>& from = mine.empty() ? all : mine;
    if (from.empty())
      return none;
    return from[std::uniform_int_distribution<size_t>(0, from.size() - 1)(rng)];
  };
  static const std::vector<int64_t> empty;
  sim_draws d;
  for (auto& c : in.callers) {
    const std::string& q = c.call.queue;
    auto h = handles.find(q);
    auto r = rings.find(q);
    // Each caller takes its three draws whatever it needs, so one caller's
    // record does not shift another's draws.
    double u = unit(rng);
    int64_t handle = pick(h == handles.end() ? empty : h->second, all_handles, rules.default_handle_ms);
    int64_t ring = pick(r == rings.end() ? empty : r->second, all_rings, 0);
    if (c.ring_at_least_ms > 0 && ring <= c.ring_at_least_ms) {
      // Drawn again from the longer ones.
      std::vector<int64_t> longer;
      for (int64_t x : r == rings.end() ? all_rings : r->second)
        if (x > c.ring_at_least_ms)
          longer.push_back(x);
      ring = pick(longer, empty, c.ring_at_least_ms + 1);
    }
    int64_t patience = -1;
    if (c.abandoned)
      patience = c.waited_ms;
    else if (auto k = curves.find(q); k != curves.end())
      patience = k->second.draw_above(c.waited_ms, u);
    d.patience_ms.push_back(patience);
    d.handle_ms.push_back(c.handle_ms >= 0 ? c.handle_ms : handle);
    d.ring_ms.push_back(c.ring_ms >= 0 ? c.ring_ms : ring);
  }
  return d;
}

namespace {

/// What the engine does next, in time order (ties: first scheduled first).
struct step {
  enum class kind {
    arrive, action, call_timer, agent_timer, leg_answers, leg_rings_out, caller_hangs_up, talk_ends, sweep,
    agent_returns
  };
  int64_t at = 0;
  uint64_t order = 0;
  kind what = kind::arrive;
  size_t index = 0;       ///< arrive: caller; action: action
  std::string id;         ///< the call or agent
  std::string offer_id;   ///< leg_answers, talk_ends
  std::string agent_id;   ///< leg_answers
  int64_t due = 0;        ///< timers: the deadline scheduled
  bool operator>(const step& o) const { return at != o.at ? at > o.at : order > o.order; }
};

class engine {
 public:
  engine(const sim_input& in, const policy& rules, const sim_draws& draws, uint64_t seed,
         const sim_sink& sink)
      : in_(in),
        rules_(simulation_rules(rules)),
        draws_(draws),
        sink_(sink),
        world_(world::from_image(rules_, in.start)),
        index_(rules_, seed),
        rng_(seed * 0x2545F4914F6CDD1DULL + 3) {
    const world_counters& k = in.start.counters;
    ids_.seed(k.call_order, std::max(k.offer, k.offer_reserved), k.callback);
    configured_ = world_.queue_configs();
    for (auto& [name, c] : configured_)
      index_.configure(name, &c);
    for (auto& [name, id] : world_.last_offered())
      index_.set_last_offered(name, id);
  }

  sim_stats run() {
    for (size_t i = 0; i < in_.callers.size(); ++i)
      push(in_.callers[i].at_ms, step::kind::arrive, i);
    for (size_t i = 0; i < in_.actions.size(); ++i)
      push(in_.actions[i].at_ms, step::kind::action, i);
    if (rules_.feature_agent_polling)
      push(in_.from_ms + rules_.polling_interval_ms, step::kind::sweep);
    const int64_t stop = in_.to_ms + 24 * 3'600'000LL;
    while (!due_.empty()) {
      step s = due_.top();
      due_.pop();
      if (s.at >= stop)
        break;
      if (s.at >= in_.to_ms && calls_.empty() && s.what != step::kind::call_timer)
        break;  // nothing live is left to finish
      if (s.at > now_) {
        now_ = s.at;
        steps_at_now_ = 0;
      } else if (++steps_at_now_ > 1'000'000) {
        stats_.stuck_at_ms = now_;
        break;
      }
      handle(s);
      dispatch(false);
    }
    stats_.unfinished = static_cast<int64_t>(calls_.size());
    return stats_;
  }

 private:
  int64_t steps_at_now_ = 0;  ///< steps run at now_ so far

  void push(int64_t at, step::kind what, size_t index = 0, std::string id = {}, std::string offer_id = {},
            std::string agent_id = {}, int64_t due = 0) {
    step s;
    s.at = at;
    s.order = ++order_;
    s.what = what;
    s.index = index;
    s.id = std::move(id);
    s.offer_id = std::move(offer_id);
    s.agent_id = std::move(agent_id);
    s.due = due;
    due_.push(std::move(s));
  }

  /// Applies the decided events to the world and passes them on.
  void emit(const std::vector<events::event>& evs) {
    for (auto& e : evs) {
      world_.apply(++seq_, e);
      ++stats_.events;
      sink_(events::stream_of(e.body), e);
    }
  }

  void handle(const step& s) {
    switch (s.what) {
      case step::kind::arrive: {
        const sim_caller& c = in_.callers[s.index];
        caller_of_[c.call.call_sid] = s.index;
        ++stats_.callers;
        run_call(c.call.call_sid, c.call);
        break;
      }
      case step::kind::action:
        std::visit([this](const auto& x) { act(x); }, in_.actions[s.index].what);
        break;
      case step::kind::call_timer:
        if (auto i = call_due_.find(s.id); i != call_due_.end() && i->second == s.due) {
          call_due_.erase(i);
          run_call(s.id, cmd::tick{});
        }
        break;
      case step::kind::agent_timer:
        if (auto i = agent_due_.find(s.id); i != agent_due_.end() && i->second == s.due) {
          agent_due_.erase(i);
          run_agent(s.id, cmd::tick{});
        }
        break;
      case step::kind::leg_answers:
        run_call(s.id, cmd::agent_leg_status{s.offer_id, "in-progress", s.agent_id});
        break;
      case step::kind::agent_returns:  // out of callq's pause, as its page does it
        if (auto i = agents_.find(s.id); i != agents_.end() && i->second.state.paused) {
          std::string token = i->second.state.token_hash;
          run_agent(s.id, cmd::heartbeat{s.id, token, "busy", true});
          run_agent(s.id, cmd::heartbeat{s.id, token, "available", true});
        }
        break;
      case step::kind::leg_rings_out:
        run_call(s.id, cmd::agent_leg_status{s.offer_id, "no-answer", s.agent_id});
        break;
      case step::kind::caller_hangs_up:
        if (auto i = calls_.find(s.id); i != calls_.end() && i->second.in_line())
          run_call(s.id, cmd::call_status{s.id, "completed"});
        break;
      case step::kind::talk_ends:
        if (auto i = calls_.find(s.id); i != calls_.end() && i->second.phase == call_phase::connected)
          run_call(s.id, cmd::dial_result{s.offer_id, "completed", "in-progress",
                                          (now_ - i->second.routing().connected_ms) / 1000});
        break;
      case step::kind::sweep:
        if (!calls_.empty())
          dispatch(true);
        push(now_ + rules_.polling_interval_ms, step::kind::sweep);
        break;
    }
  }

  void act(const cmd::put_agent& x) { run_agent(x.agent_id, x); }
  void act(const cmd::delete_agent& x) { run_agent(x.agent_id, x); }
  void act(const cmd::heartbeat& x) { run_agent(x.agent_id, x); }
  void act(const cmd::put_queue& x) { queue_command(x, x.queue); }
  void act(const cmd::delete_queue& x) { queue_command(x, x.queue); }
  void act(const cmd::put_caller& x) {
    emit({{now_, events::caller_set{x.number, x.display_name, x.priority, x.language}}});
  }

  void queue_command(const callq::queue_command& c, const std::string& name) {
    auto d = decide_queue(configured_, c, index_.in_use(name), now_);
    for (auto& e : d.events)
      apply_queue(configured_, e);
    auto i = configured_.find(name);
    index_.configure(name, i == configured_.end() ? nullptr : &i->second);
    emit(d.events);
  }

  /// One command to a call, as its actor runs it.
  reply run_call(const std::string& sid, const call_command& c) {
    auto it = calls_.find(sid);
    if (it == calls_.end()) {
      if (!std::holds_alternative<cmd::incoming_call>(c))
        return reply::fail(outcome::not_found, "no such call");
      it = calls_.emplace(sid, call_state{}).first;
    }
    call_state& call = it->second;
    ++stats_.commands;
    uint64_t before = call.version;
    auto d = decide(call, c, call_context_for(call, c, now_, rules_, world_, ids_));
    emit(d.events);
    for (auto& e : d.events)
      follow(sid, e);
    for (auto& n : d.notices)
      run_agent(n.agent_id, cmd::offer_update{n});
    if (d.wants_direct_agent) {
      call_view v = view_of(call, rules_);
      v.dispatchable = true;
      index_.update(v);
      direct_.push_back(sid);
    } else if (call.version != before || std::holds_alternative<cmd::tick>(c)) {
      index_.update(view_of(call, rules_));
    }
    if (is_finished(call.phase)) {
      index_.remove_call(sid);
      call_due_.erase(sid);
      calls_.erase(sid);
      return d.answer;
    }
    int64_t due = next_deadline(call, rules_, world_.config_of(call.queue), now_);
    if (due != 0 && call_due_[sid] != due) {
      call_due_[sid] = due;
      push(std::max(due, now_), step::kind::call_timer, 0, sid, {}, {}, due);
    }
    return d.answer;
  }

  /// What Twilio and the people do next after a call's event.
  void follow(const std::string& sid, const events::event& e) {
    auto c = caller_of_.find(sid);
    if (c == caller_of_.end())
      return;
    size_t i = c->second;
    if (std::holds_alternative<events::call_enqueued>(e.body)) {
      if (draws_.patience_ms[i] >= 0)
        push(now_ + draws_.patience_ms[i], step::kind::caller_hangs_up, 0, sid);
    } else if (auto* o = std::get_if<events::call_offered>(&e.body)) {
      const ring_out_habit* h = habit_of(o->agent_id);
      double u = std::uniform_real_distribution<double>(0, 1)(rng_);
      if (h != nullptr && u < h->share()) {
        int64_t ring = h->ring_ms.empty()
                           ? rules_.offer_timeout_ms
                           : h->ring_ms[std::uniform_int_distribution<size_t>(0, h->ring_ms.size() - 1)(rng_)];
        push(now_ + ring, step::kind::leg_rings_out, 0, sid, o->offer_id, o->agent_id);
      } else {
        push(now_ + draws_.ring_ms[i], step::kind::leg_answers, 0, sid, o->offer_id, o->agent_id);
      }
    } else if (auto* k = std::get_if<events::call_connected>(&e.body)) {
      push(now_ + draws_.handle_ms[i], step::kind::talk_ends, 0, sid, k->offer_id);
    }
  }

  /// How the agent's phone goes unanswered: its own habit, or everyone's
  /// for an agent the log does not know; nullptr when nobody's rang out.
  const ring_out_habit* habit_of(const std::string& agent_id) const {
    auto i = in_.ring_outs.find(agent_id);
    if (i == in_.ring_outs.end() || i->second.offers == 0)
      i = in_.ring_outs.find("");
    return i == in_.ring_outs.end() ? nullptr : &i->second;
  }

  /// One command to an agent, as its actor runs it.
  reply run_agent(const std::string& id, const agent_command& c) {
    auto it = agents_.find(id);
    if (it == agents_.end()) {
      if (!std::holds_alternative<cmd::put_agent>(c))
        return reply::fail(outcome::not_found, "no such agent");
      it = agents_.emplace(id, agent_slot{}).first;
    }
    agent_state& a = it->second.state;
    ++stats_.commands;
    auto d = decide(a, c, rules_, now_);
    emit(d.events);
    for (auto& e : d.events)
      if (auto* p = std::get_if<events::agent_paused>(&e.body); p && p->reason == "auto-pause")
        push(now_ + in_.pause_ms, step::kind::agent_returns, 0, id);
    if (a.removed) {
      index_.remove_agent(id);
      agent_due_.erase(id);
      auto rescinds = std::move(d.rescinds);
      agents_.erase(it);
      for (auto& [sid, r] : rescinds)
        run_call(sid, r);
      return d.answer;
    }
    agent_view v = view_of(a, rules_);
    if (!it->second.view_sent || !same_view(v, it->second.last_view)) {
      index_.update(v);
      it->second.last_view = v;
      it->second.view_sent = true;
    }
    int64_t due = next_deadline(a, rules_);
    if (due != 0 && agent_due_[id] != due) {
      agent_due_[id] = due;
      push(std::max(due, now_), step::kind::agent_timer, 0, id, {}, {}, due);
    }
    for (auto& [sid, r] : d.rescinds)
      run_call(sid, r);
    return d.answer;
  }

  /// The dispatcher: offers every match there is now (a sweep: `full`).
  void dispatch(bool full) {
    for (;;) {
      if (!direct_.empty()) {
        std::string sid = std::move(direct_.front());
        direct_.pop_front();
        if (auto m = index_.direct(sid, now_))
          offer(*m, true);
        continue;
      }
      auto m = index_.next(now_, full);
      if (!m)
        return;
      offer(*m, false);
    }
  }

  /// The reservation protocol for one match, as the dispatcher runs it:
  /// reserve every leg, the call takes the offer to those that reserved,
  /// who are then confirmed (or released when the call could not).
  void offer(const match& m, bool direct) {
    if (!calls_.count(m.call_sid) || !agents_.count(m.agent_id)) {
      index_.release(m);
      if (!agents_.count(m.agent_id))
        index_.remove_agent(m.agent_id);
      if (!calls_.count(m.call_sid))
        index_.remove_call(m.call_sid);
      return;
    }
    uint64_t r = ++reservations_;
    std::string offer_id = m.callback ? m.callback_id : ids_.next_offer_id();
    auto legs = legs_of(m);
    std::vector<size_t> reserved;
    for (size_t i = 0; i < legs.size(); ++i)
      if (agents_.count(legs[i].first) && !run_agent(legs[i].first, reserve_of(m, r, offer_id, -1)).failed())
        reserved.push_back(i);
    if (!reserved.empty()) {
      reply taken = run_call(
          m.call_sid, take_offer_of(m, offer_id, legs, reserved, direct, now_ + rules_.reservation_timeout_ms / 2));
      auto* a = std::get_if<offer_answer>(&taken.body);
      bool ok = a != nullptr && a->taken;
      for (size_t i : reserved)
        if (ok)
          run_agent(legs[i].first, cmd::confirm_reservation{r});
        else
          run_agent(legs[i].first, cmd::release_reservation{r, "call-gone"});
    }
    index_.release(m);
  }

  struct agent_slot {
    agent_state state;
    agent_view last_view;
    bool view_sent = false;
  };

  const sim_input& in_;
  const policy rules_;
  const sim_draws& draws_;
  const sim_sink& sink_;
  world world_;
  match_index index_;
  std::map<std::string, queue_config> configured_;
  id_source ids_;
  std::unordered_map<std::string, call_state> calls_;
  std::unordered_map<std::string, agent_slot> agents_;
  std::unordered_map<std::string, size_t> caller_of_;
  std::unordered_map<std::string, int64_t> call_due_, agent_due_;
  std::deque<std::string> direct_;
  std::priority_queue<step, std::vector<step>, std::greater<step>> due_;
  uint64_t order_ = 0, seq_ = 0, reservations_ = 0;
  int64_t now_ = 0;
  std::mt19937_64 rng_;  ///< which offers ring out, and for how long
  sim_stats stats_;
};

}  // namespace

sim_stats run_simulation(const sim_input& in, const policy& rules, const sim_draws& draws,
                         uint64_t seed, const sim_sink& sink) {
  engine e(in, rules, draws, seed, sink);
  return e.run();
}

}  // namespace callq::replay
