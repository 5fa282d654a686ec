#include "actors/dispatcher/match_index.hpp"

#include <algorithm>
#include <climits>
#include <sstream>
#include <vector>

namespace callq {

std::string match_index::signature(const call_view& c) const {
  std::string key;
  for (auto& [skill, level] : c.routing().require)
    key += skill + ':' + std::to_string(level) + ',';
  if (!c.routing().preferred_agent.empty())
    key += '@' + c.routing().preferred_agent;
  if (c.agent_checks != checks_)
    key += '#' + std::to_string(c.agent_checks);
  return key;
}

bool match_index::meets(const agent_view& v, const call_group& g) {
  return ((v.eligible_under >> g.checks) & 1) != 0 &&
         (g.preferred.empty() || v.id == g.preferred) && meets_requirement(v.skills, g.require);
}

void match_index::fill_group(const std::string& queue, queue_sets& q, call_group& g) const {
  if (g.open())
    return;
  if (!g.preferred.empty()) {  // one candidate: look it up, never scan
    auto a = agents_.find(g.preferred);
    if (a == agents_.end() || held_agents_.count(g.preferred))
      return;
    auto m = a->second.members.find(queue);
    if (m != a->second.members.end() && meets(a->second, g))
      g.agents.insert(entry_of(a->second, m->second, q, g.checks));
    return;
  }
  if (!g.own_checks) {  // its members are among the queue's ready ones
    for (auto& e : q.agents)
      if (meets(agents_.at(e.id), g))
        g.agents.insert(e);
    return;
  }
  for (auto& [id, v] : agents_)  // a group created by a call on another path
    if (auto m = v.members.find(queue);
        m != v.members.end() && !held_agents_.count(id) && meets(v, g))
      g.agents.insert(entry_of(v, m->second, q, g.checks));
}

void match_index::index_call(const call_view& v, bool add) {
  if (!v.dispatchable || held_calls_.count(v.sid))
    return;
  auto& q = queues_[v.queue];
  std::string key = signature(v);
  if (add) {
    auto [g, created] = q.groups.try_emplace(key);
    if (created) {
      g->second.require = v.routing().require;
      g->second.preferred = v.routing().preferred_agent;
      g->second.checks = v.agent_checks;
      g->second.own_checks = v.agent_checks != checks_;
      fill_group(v.queue, q, g->second);
    }
    g->second.calls.insert({v.key, &v});
    dirty_.insert(v.queue);
  } else if (auto g = q.groups.find(key); g != q.groups.end()) {
    g->second.calls.erase({v.key, &v});
    if (g->second.calls.empty())
      q.groups.erase(g);
  }
}

match_index::agent_entry match_index::entry_of(const agent_view& v, const membership& m,
                                               const queue_sets& q, uint8_t checks) const {
  switch (q.config.strategy) {
    case routing_strategy::fewest_calls:
      return {m.penalty, m.answered, v.idle_since_ms, v.id};
    case routing_strategy::least_talk_time:
      return {m.penalty, m.talk_ms, v.idle_since_ms, v.id};
    case routing_strategy::round_robin:
    case routing_strategy::linear:
    case routing_strategy::random:
      return {m.penalty, 0, 0, v.id};
    case routing_strategy::longest_idle:
    case routing_strategy::ring_all:
      break;
  }
  // Readiness orders the agents only for calls whose flags apply it (the
  // legacy path's order is idle time alone).
  int64_t rank = (checks & check_readiness) != 0 ? v.rank : 0;
  return {m.penalty, -rank, v.idle_since_ms, v.id};
}

void match_index::index_agent(const agent_view& v, bool add) {
  if (v.eligible_under == 0 || held_agents_.count(v.id))
    return;
  for (auto& [name, m] : v.members) {
    auto& q = queues_[name];
    agent_entry e = entry_of(v, m, q, checks_);
    if (add) {
      if (v.eligible)
        q.agents.insert(e);
      for (auto& [key, g] : q.groups)
        if (!g.open() && meets(v, g))
          g.agents.insert(g.checks == checks_ ? e : entry_of(v, m, q, g.checks));
      dirty_.insert(name);
    } else {
      q.agents.erase(e);
      for (auto& [key, g] : q.groups)
        g.agents.erase(g.checks == checks_ ? e : entry_of(v, m, q, g.checks));
    }
  }
}

void match_index::configure(const std::string& queue, const queue_config* config) {
  auto& q = queues_[queue];
  q.config = config != nullptr ? *config : queue_config{};
  // The order depends on the strategy: rebuild this queue's members.
  q.agents.clear();
  for (auto& [id, v] : agents_) {
    auto m = v.members.find(queue);
    if (m != v.members.end() && v.eligible && !held_agents_.count(id))
      q.agents.insert(entry_of(v, m->second, q, checks_));
  }
  for (auto& [key, g] : q.groups) {
    g.agents.clear();
    fill_group(queue, q, g);
  }
  dirty_.insert(queue);
}

const queue_config& match_index::config_of(const std::string& queue) const {
  static const queue_config defaults;
  auto q = queues_.find(queue);
  return q == queues_.end() ? defaults : q->second.config;
}

void match_index::set_last_offered(const std::string& queue, const std::string& agent_id) {
  queues_[queue].last_offered = agent_id;
}

bool match_index::in_use(const std::string& queue) const {
  for (auto& [sid, c] : calls_)
    if (c.queue == queue)
      return true;
  for (auto& [id, a] : agents_)
    if (a.members.count(queue))
      return true;
  return false;
}

uint64_t match_index::draw() {
  // xorshift64*: small, fast, and the same sequence for the same seed.
  rng_state_ ^= rng_state_ >> 12;
  rng_state_ ^= rng_state_ << 25;
  rng_state_ ^= rng_state_ >> 27;
  return rng_state_ * 2685821657736338717ULL;
}

std::vector<const match_index::agent_entry*> match_index::candidates(
    queue_sets& q, const std::set<agent_entry>& agents, size_t n) {
  std::vector<const agent_entry*> out;
  if (agents.empty())
    return out;
  auto take = [&](auto from, auto to) {
    for (auto it = from; it != to && out.size() < n; ++it)
      out.push_back(&*it);
  };
  auto strategy = q.config.strategy;
  if (strategy != routing_strategy::round_robin && strategy != routing_strategy::random) {
    take(agents.begin(), agents.end());
    return out;
  }
  // The lowest penalty present first, starting at the strategy's entry
  // and wrapping around; higher penalties after it in order.
  int64_t level = agents.begin()->penalty;
  auto level_end = agents.lower_bound(agent_entry{level + 1, INT64_MIN, INT64_MIN, ""});
  auto start = agents.begin();
  if (strategy == routing_strategy::round_robin) {
    // After the last one offered; past the level's end, the level is
    // taken whole from its first below.
    start = agents.upper_bound(agent_entry{level, 0, 0, q.last_offered});
  } else {
    auto size = static_cast<uint64_t>(std::distance(agents.begin(), level_end));
    std::advance(start, static_cast<long>(draw() % size));
  }
  take(start, level_end);
  take(agents.begin(), start);
  take(level_end, agents.end());
  return out;
}

void match_index::update(const call_view& v) {
  auto i = calls_.find(v.sid);
  if (i != calls_.end()) {
    if (v.version < i->second.version)
      return;
    index_call(i->second, false);
  }
  if (!v.dispatchable && !held_calls_.count(v.sid)) {
    if (i != calls_.end())
      calls_.erase(i);
    return;
  }
  index_call(store(v), true);
}

call_view& match_index::store(const call_view& v) {
  // Out of the map while the key is re-pointed, so that it never views a
  // replaced CallSid (nor `v`'s) while in it; the node, and with it the
  // stored view the group entries point at, stays where it is.
  decltype(calls_)::node_type node;
  if (auto i = calls_.find(v.sid); i != calls_.end()) {
    node = calls_.extract(i);
    node.mapped() = v;
  } else {
    node = calls_.extract(calls_.emplace(std::string_view(v.sid), v).first);
  }
  node.key() = node.mapped().sid;
  return calls_.insert(std::move(node)).position->second;
}

void match_index::update(const agent_view& v) {
  auto i = agents_.find(v.id);
  if (i != agents_.end()) {
    if (v.version < i->second.version)
      return;
    index_agent(i->second, false);
  }
  agent_view& stored = agents_[v.id] = v;
  // `eligible` says it for the server's own checks, and so for every set
  // of fewer checks.
  if (v.eligible)
    stored.eligible_under = static_cast<uint8_t>(stored.eligible_under | sets_within(checks_));
  index_agent(stored, true);
}

void match_index::remove_agent(const std::string& id) {
  auto i = agents_.find(id);
  if (i == agents_.end())
    return;
  index_agent(i->second, false);
  agents_.erase(i);
  held_agents_.erase(id);
}

void match_index::remove_call(std::string_view sid) {
  auto i = calls_.find(sid);
  if (i == calls_.end())
    return;
  index_call(i->second, false);
  calls_.erase(i);
  held_calls_.erase(sid);
}

/// The agents of `m`: its first, then a ring-all's others.
static std::vector<std::string> agents_in(const match& m) {
  std::vector<std::string> ids{m.agent_id};
  for (auto& [id, identity] : m.also)
    ids.push_back(id);
  return ids;
}

void match_index::hold(const match& m) {
  if (auto q = queues_.find(m.queue); q != queues_.end())
    q->second.last_offered = m.agent_id;
  call_sid sid;
  if (auto c = calls_.find(m.call_sid); c != calls_.end()) {
    index_call(c->second, false);
    sid = c->second.sid;
  } else {
    sid = call_sid(m.call_sid);
  }
  std::string_view key = sid.view();
  held_calls_.emplace(key, std::move(sid));
  for (auto& id : agents_in(m)) {
    if (auto a = agents_.find(id); a != agents_.end())
      index_agent(a->second, false);
    held_agents_.insert(id);
  }
}

void match_index::release(const match& m) {
  held_calls_.erase(m.call_sid);
  if (auto c = calls_.find(m.call_sid); c != calls_.end()) {
    if (c->second.dispatchable)
      index_call(c->second, true);
    else
      calls_.erase(c);
  }
  for (auto& id : agents_in(m)) {
    held_agents_.erase(id);
    if (auto a = agents_.find(id); a != agents_.end())
      index_agent(a->second, true);
  }
}

std::optional<match> match_index::best_in(queue_sets& q, call_group& g, const std::string& queue,
                                          int64_t now_ms, bool full) {
  int entries = 0;
  const std::set<agent_entry>& agents = agents_of(q, g);
  for (auto it = g.calls.begin(); it != g.calls.end() && entries < 16; ++it, ++entries) {
    const call_view& c = *it->call;
    const call_view_routing& r = c.routing();
    if (!c.fallback && r.failed_in_row > 0 && !(full && c.polled))
      continue;  // waits for a sweep, or for nothing when not polled
    const agent_entry* chosen = nullptr;
    auto order = candidates(q, agents, r.tried.size() + 1);
    for (auto* a : order)
      if (std::find(r.tried.begin(), r.tried.end(), a->id) == r.tried.end()) {
        chosen = a;
        break;
      }
    if (chosen == nullptr && r.rest_until_ms <= now_ms)
      chosen = order.front();
    if (chosen == nullptr)
      continue;
    match m{c.sid.str(), chosen->id, queue, c.callback, r.callback_id, agents_.at(chosen->id).identity};
    m.agent_checks = c.agent_checks;
    m.require = r.require;
    // ring-all: the other members of the same penalty who have not
    // failed it ring too (a callback calls one agent).
    if (q.config.strategy == routing_strategy::ring_all && !c.callback) {
      auto more = candidates(q, agents, r.tried.size() + static_cast<size_t>(q.config.ring_all_max));
      for (auto* a : more)
        if (static_cast<int64_t>(m.also.size()) + 1 < q.config.ring_all_max && a != chosen &&
            a->penalty == chosen->penalty &&
            std::find(r.tried.begin(), r.tried.end(), a->id) == r.tried.end())
          m.also.emplace_back(a->id, agents_.at(a->id).identity);
    }
    return m;
  }
  return std::nullopt;
}

std::optional<match> match_index::next(int64_t now_ms, bool full) {
  std::vector<std::string> candidates;
  if (full)
    for (auto& [name, q] : queues_)
      candidates.push_back(name);
  else
    candidates.assign(dirty_.begin(), dirty_.end());
  // Every group of those queues whose calls some ready member can take.
  struct pair {
    const std::string* queue;
    queue_sets* q;
    call_group* g;
  };
  std::vector<pair> open;
  for (auto& name : candidates) {
    auto& q = queues_[name];
    for (auto& [key, g] : q.groups)
      if (!g.calls.empty() && !agents_of(q, g).empty())
        open.push_back({&name, &q, &g});
  }
  // Across queues and groups, the first call in dispatch order that can
  // be matched goes first. Groups are tried by their head call; a group's
  // match may be a later call of it (its head rests for the agents there),
  // so every group whose head comes before that call is tried too.
  std::sort(open.begin(), open.end(), [](const pair& a, const pair& b) {
    return *a.g->calls.begin() < *b.g->calls.begin();
  });
  std::optional<match> best;
  line_key best_key;
  for (auto& o : open) {
    if (best && !(o.g->calls.begin()->key < best_key))
      break;
    if (auto m = best_in(*o.q, *o.g, *o.queue, now_ms, full)) {
      const line_key& key = calls_.find(m->call_sid)->second.key;
      if (!best || key < best_key) {
        best = std::move(m);
        best_key = key;
      }
    }
  }
  if (best) {
    hold(*best);
    return best;
  }
  for (auto& name : candidates)
    dirty_.erase(name);
  return std::nullopt;
}

std::optional<match> match_index::direct(std::string_view sid, int64_t) {
  auto c = calls_.find(sid);
  if (c == calls_.end() || !c->second.dispatchable || held_calls_.count(sid))
    return std::nullopt;
  auto q = queues_.find(c->second.queue);
  if (q == queues_.end())
    return std::nullopt;
  auto g = q->second.groups.find(signature(c->second));
  if (g == q->second.groups.end())
    return std::nullopt;
  auto order = candidates(q->second, agents_of(q->second, g->second), 1);
  if (order.empty())
    return std::nullopt;
  const std::string id = order.front()->id;
  match m{std::string(sid), id, c->second.queue, c->second.callback, c->second.routing().callback_id,
          agents_.at(id).identity};
  m.agent_checks = c->second.agent_checks;
  m.require = c->second.routing().require;
  hold(m);
  return m;
}

const call_view* match_index::find_call(std::string_view sid) const {
  auto i = calls_.find(sid);
  return i == calls_.end() ? nullptr : &i->second;
}

const agent_view* match_index::find_agent(const std::string& id) const {
  auto i = agents_.find(id);
  return i == agents_.end() ? nullptr : &i->second;
}

size_t match_index::waiting() const {
  size_t n = 0;
  for (auto& [name, q] : queues_)
    for (auto& [key, g] : q.groups)
      n += g.calls.size();
  return n;
}

size_t match_index::ready() const {
  size_t n = 0;
  for (auto& [id, a] : agents_)
    n += a.eligible && !held_agents_.count(id);
  return n;
}

std::string match_index::check_idle(int64_t now_ms) const {
  std::ostringstream problems;
  for (auto& [name, q] : queues_)
    for (auto& [key, g] : q.groups) {
      const auto& agents = g.open() ? q.agents : g.agents;
      if (agents.empty())
        continue;
      for (auto& e : g.calls) {
        const call_view& c = *e.call;
        if (c.routing().rest_until_ms > now_ms || (!c.fallback && c.routing().failed_in_row > 0))
          continue;  // resting, or left to a sweep
        problems << "call " << c.sid.view() << " waits in " << name << " while agent "
                 << agents.begin()->id << " is ready for it\n";
        break;
      }
    }
  return problems.str();
}

}  // namespace callq
