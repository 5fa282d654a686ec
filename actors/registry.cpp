#include "actors/registry.hpp"

#include <mutex>

#include <caf/send.hpp>

namespace callq {

namespace {

caf::actor find_in(const std::unordered_map<std::string, caf::actor>& m, const std::string& key) {
  auto i = m.find(key);
  return i == m.end() ? caf::actor{} : i->second;
}

}  // namespace

registry::call_stripe& registry::stripe_of(std::string_view sid) {
  return stripes_[std::hash<std::string_view>{}(sid) % stripe_count];
}

const registry::call_stripe& registry::stripe_of(std::string_view sid) const {
  return stripes_[std::hash<std::string_view>{}(sid) % stripe_count];
}

void registry::set_waker(call_waker w) { waker_ = std::move(w); }

caf::actor registry::call(std::string_view sid) {
  auto& s = stripe_of(sid);
  for (;;) {
    call_sid key;
    shared_call_state passive;
    int64_t due = 0;
    {
      std::shared_lock lock(s.mu);
      auto i = s.calls.find(sid);
      if (i == s.calls.end())
        return {};
      if (i->second.actor)
        return i->second.actor;
      key = i->second.sid;
      passive = i->second.passive;
      due = i->second.due;
    }
    // Woken outside the lock (a spawn allocates and registers an actor),
    // then installed unless someone else woke it first.
    caf::actor made = waker_ ? waker_(key, passive, due) : caf::actor{};
    if (!made)
      return {};  // shutting down
    caf::actor other;
    {
      std::unique_lock lock(s.mu);
      auto i = s.calls.find(sid);
      if (i != s.calls.end() && !i->second.actor && i->second.passive == passive) {
        i->second.actor = made;
        i->second.passive.reset();
        i->second.due = 0;
        return made;
      }
      if (i != s.calls.end())
        other = i->second.actor;
    }
    // Never seen by anyone, never sent a command.
    caf::anon_send_exit(made, caf::exit_reason::user_shutdown);
    if (other)
      return other;
    // Finished meanwhile (no entry: invalid next round), or passivated again.
  }
}

bool registry::add_passive(std::string_view sid, shared_call_state state, int64_t due) {
  auto& s = stripe_of(sid);
  std::unique_lock lock(s.mu);
  if (s.calls.count(sid) != 0)
    return false;
  call_sid key(sid);
  std::string_view k = key.view();
  return s.calls.emplace(k, call_entry{std::move(key), caf::actor{}, std::move(state), due}).second;
}

caf::actor registry::running_call(std::string_view sid) const {
  auto& s = stripe_of(sid);
  std::shared_lock lock(s.mu);
  auto i = s.calls.find(sid);
  return i == s.calls.end() ? caf::actor{} : i->second.actor;
}

bool registry::has_call(std::string_view sid) const {
  auto& s = stripe_of(sid);
  std::shared_lock lock(s.mu);
  return s.calls.count(sid) != 0;
}

call_sid registry::sid_of(std::string_view sid) const {
  auto& s = stripe_of(sid);
  std::shared_lock lock(s.mu);
  auto i = s.calls.find(sid);
  return i == s.calls.end() ? call_sid() : i->second.sid;
}

bool registry::passivate(std::string_view sid, const caf::actor& self, shared_call_state state,
                    int64_t due) {
  auto& s = stripe_of(sid);
  std::unique_lock lock(s.mu);
  auto i = s.calls.find(sid);
  if (i == s.calls.end() || i->second.actor != self)
    return false;
  i->second.actor = caf::actor{};
  i->second.passive = std::move(state);
  i->second.due = due;
  return true;
}

std::string registry::call_of_offer(const std::string& id) const {
  std::shared_lock lock(offers_mu_);
  auto i = offers_.find(id);
  return i == offers_.end() ? std::string() : i->second;
}

caf::actor registry::agent(const std::string& id) const {
  std::shared_lock lock(agents_mu_);
  return find_in(agents_, id);
}

registry::call_found registry::find_or_spawn(std::string_view sid, const call_spawner& spawn,
                                             bool refuse_finished) {
  auto& s = stripe_of(sid);
  call_found out;
  bool passive = false;
  auto found = [&] {
    if (auto i = s.calls.find(sid); i != s.calls.end()) {
      out.actor = i->second.actor;
      passive = !out.actor;
      return true;
    }
    if (refuse_finished && s.finished.count(sid) != 0) {
      out.finished = true;
      return true;
    }
    return false;
  };
  auto wake_if_passive = [&] {
    if (passive) {
      out.actor = call(sid);
      out.finished = !out.actor && refuse_finished && is_finished(sid);
    }
    return out;
  };
  {
    std::shared_lock lock(s.mu);
    if (found())
      return wake_if_passive();
  }
  // Outside the lock: a spawn allocates and registers an actor.
  call_sid key(sid);
  caf::actor made = spawn(key);
  {
    std::unique_lock lock(s.mu);
    if (!found()) {
      std::string_view k = key.view();
      s.calls.emplace(k, call_entry{std::move(key), made, nullptr, 0});
      out.actor = std::move(made);
      out.spawned = true;
      return out;
    }
  }
  // Another request made the actor first (or the call finished meanwhile):
  // this one was never seen by anyone and has had no command.
  if (made)
    caf::anon_send_exit(made, caf::exit_reason::user_shutdown);
  return wake_if_passive();
}

caf::actor registry::call_or_spawn(std::string_view sid, const call_spawner& spawn,
                                   bool* spawned) {
  auto out = find_or_spawn(sid, spawn, false);
  *spawned = out.spawned;
  return out.actor;
}

registry::call_found registry::find_or_spawn_call(std::string_view sid,
                                                  const call_spawner& spawn) {
  return find_or_spawn(sid, spawn, true);
}

caf::actor registry::agent_or_spawn(const std::string& id,
                                    const std::function<caf::actor()>& spawn, bool* spawned) {
  std::unique_lock lock(agents_mu_);
  auto i = agents_.find(id);
  *spawned = i == agents_.end();
  if (!*spawned)
    return i->second;
  auto a = spawn();
  agents_.emplace(id, a);
  return a;
}

void registry::add_offer(const std::string& id, const std::string& sid) {
  std::unique_lock lock(offers_mu_);
  if (offers_.emplace(id, sid).second)
    offers_of_[sid].push_back(id);
}

void registry::finish_call(const shared_call_state& final) {
  auto& s = stripe_of(final->sid);
  std::unique_lock lock(s.mu);
  call_sid key;
  if (auto i = s.calls.find(final->sid); i != s.calls.end()) {
    key = i->second.sid;
    s.calls.erase(i);
  } else {
    key = call_sid(final->sid);
  }
  // The state is kept until its last events are durable (final_state_durable).
  if (auto i = s.finished.find(final->sid); i != s.finished.end()) {
    i->second.state = final;
    return;
  }
  std::string_view k = key.view();
  s.finished.emplace(k, finished_entry{key, final});
  s.finished_order.emplace_back(final->ended_ms, std::move(key));
}

std::optional<call_state> registry::finished(std::string_view sid) const {
  auto& s = stripe_of(sid);
  std::shared_lock lock(s.mu);
  auto i = s.finished.find(sid);
  if (i == s.finished.end() || !i->second.state)
    return std::nullopt;
  return *i->second.state;
}

bool registry::is_finished(std::string_view sid) const {
  auto& s = stripe_of(sid);
  std::shared_lock lock(s.mu);
  return s.finished.count(sid) != 0;
}

void registry::final_state_durable(std::string_view sid) {
  auto& s = stripe_of(sid);
  std::unique_lock lock(s.mu);
  if (auto i = s.finished.find(sid); i != s.finished.end())
    i->second.state.reset();
}

size_t registry::purge_finished(int64_t before_ms, size_t max_kept) {
  // Each stripe keeps its share of `max_kept`.
  size_t kept_per_stripe = (max_kept + stripe_count - 1) / stripe_count;
  std::vector<call_sid> dropped;
  for (auto& s : stripes_) {
    std::unique_lock lock(s.mu);
    while (!s.finished_order.empty() &&
           (s.finished_order.front().first <= before_ms || s.finished_order.size() > kept_per_stripe)) {
      s.finished.erase(s.finished_order.front().second.view());
      dropped.push_back(std::move(s.finished_order.front().second));
      s.finished_order.pop_front();
    }
  }
  if (!dropped.empty()) {
    std::unique_lock lock(offers_mu_);
    for (auto& sid : dropped)
      if (auto o = offers_of_.find(sid.str()); o != offers_of_.end()) {
        for (auto& id : o->second)
          offers_.erase(id);
        offers_of_.erase(o);
      }
  }
  return dropped.size();
}

void registry::forget_call(std::string_view sid, const caf::actor& a) {
  auto& s = stripe_of(sid);
  std::unique_lock lock(s.mu);
  if (auto i = s.calls.find(sid); i != s.calls.end() && i->second.actor == a)
    s.calls.erase(i);
}

void registry::remove_agent(const std::string& id) {
  std::unique_lock lock(agents_mu_);
  agents_.erase(id);
}

size_t registry::live_calls() const {
  size_t n = 0;
  for (auto& s : stripes_) {
    std::shared_lock lock(s.mu);
    n += s.calls.size();
  }
  return n;
}

template <class F> void registry::each_call(F f) const {
  for (auto& s : stripes_) {
    std::shared_lock lock(s.mu);
    for (auto& [sid, e] : s.calls)
      f(e);
  }
}

size_t registry::passive_calls() const {
  size_t n = 0;
  each_call([&](const call_entry& e) { n += !e.actor; });
  return n;
}

size_t registry::live_agents() const {
  std::shared_lock lock(agents_mu_);
  return agents_.size();
}

size_t registry::finished_calls() const {
  size_t n = 0;
  for (auto& s : stripes_) {
    std::shared_lock lock(s.mu);
    n += s.finished.size();
  }
  return n;
}

std::vector<caf::actor> registry::all_calls() const {
  std::vector<caf::actor> out;
  each_call([&](const call_entry& e) {
    if (e.actor)
      out.push_back(e.actor);
  });
  return out;
}

std::vector<caf::actor> registry::wake_all_calls() {
  std::vector<caf::actor> out;
  for (auto& sid : all_call_sids())
    if (auto a = call(sid))
      out.push_back(std::move(a));
  return out;
}

std::vector<call_sid> registry::all_call_sids() const {
  std::vector<call_sid> out;
  each_call([&](const call_entry& e) { out.push_back(e.sid); });
  return out;
}

std::vector<shared_call_state> registry::passive_states() const {
  std::vector<shared_call_state> out;
  each_call([&](const call_entry& e) {
    if (!e.actor)
      out.push_back(e.passive);
  });
  return out;
}

std::vector<caf::actor> registry::all_agents() const {
  std::shared_lock lock(agents_mu_);
  std::vector<caf::actor> out;
  out.reserve(agents_.size());
  for (auto& [id, a] : agents_)
    out.push_back(a);
  return out;
}

}  // namespace callq
