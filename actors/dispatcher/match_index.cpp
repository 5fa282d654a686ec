#include "actors/dispatcher/match_index.hpp"

#include <algorithm>
#include <climits>
#include <sstream>
#include <vector>

namespace callq {

void match_index::index_call(const call_view& v, bool add) {
  if (!v.dispatchable || held_calls_.count(v.sid))
    return;
  auto& q = queues_[v.queue];
  if (add) {
    q.calls.insert({v.key, v.sid});
    dirty_.insert(v.queue);
  } else {
    q.calls.erase({v.key, v.sid});
  }
}

match_index::agent_entry match_index::entry_of(const agent_view& v, const membership& m,
                                               const queue_sets& q) const {
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
  return {m.penalty, -v.rank, v.idle_since_ms, v.id};
}

void match_index::index_agent(const agent_view& v, bool add) {
  if (!v.eligible || held_agents_.count(v.id))
    return;
  for (auto& [name, m] : v.members) {
    auto& q = queues_[name];
    if (add) {
      q.agents.insert(entry_of(v, m, q));
      dirty_.insert(name);
    } else {
      q.agents.erase(entry_of(v, m, q));
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
      q.agents.insert(entry_of(v, m->second, q));
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

std::vector<const match_index::agent_entry*> match_index::candidates(queue_sets& q, size_t n) {
  std::vector<const agent_entry*> out;
  if (q.agents.empty())
    return out;
  auto take = [&](auto from, auto to) {
    for (auto it = from; it != to && out.size() < n; ++it)
      out.push_back(&*it);
  };
  auto strategy = q.config.strategy;
  if (strategy != routing_strategy::round_robin && strategy != routing_strategy::random) {
    take(q.agents.begin(), q.agents.end());
    return out;
  }
  // The lowest penalty present first, starting at the strategy's entry
  // and wrapping around; higher penalties after it in order.
  int64_t level = q.agents.begin()->penalty;
  auto level_end = q.agents.lower_bound(agent_entry{level + 1, INT64_MIN, INT64_MIN, ""});
  auto start = q.agents.begin();
  if (strategy == routing_strategy::round_robin) {
    start = q.agents.upper_bound(agent_entry{level, 0, 0, q.last_offered});
    if (start == level_end)
      start = q.agents.begin();
  } else {
    auto size = static_cast<uint64_t>(std::distance(q.agents.begin(), level_end));
    std::advance(start, static_cast<long>(draw() % size));
  }
  take(start, level_end);
  take(q.agents.begin(), start);
  take(level_end, q.agents.end());
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
  calls_[v.sid] = v;
  index_call(v, true);
}

void match_index::update(const agent_view& v) {
  auto i = agents_.find(v.id);
  if (i != agents_.end()) {
    if (v.version < i->second.version)
      return;
    index_agent(i->second, false);
  }
  agents_[v.id] = v;
  index_agent(v, true);
}

void match_index::remove_agent(const std::string& id) {
  auto i = agents_.find(id);
  if (i == agents_.end())
    return;
  index_agent(i->second, false);
  agents_.erase(i);
  held_agents_.erase(id);
}

void match_index::remove_call(const std::string& sid) {
  auto i = calls_.find(sid);
  if (i == calls_.end())
    return;
  index_call(i->second, false);
  calls_.erase(i);
  held_calls_.erase(sid);
}

void match_index::hold(const match& m) {
  if (auto q = queues_.find(m.queue); q != queues_.end())
    q->second.last_offered = m.agent_id;
  if (auto c = calls_.find(m.call_sid); c != calls_.end())
    index_call(c->second, false);
  if (auto a = agents_.find(m.agent_id); a != agents_.end())
    index_agent(a->second, false);
  held_calls_.insert(m.call_sid);
  held_agents_.insert(m.agent_id);
}

void match_index::release(const match& m) {
  held_calls_.erase(m.call_sid);
  held_agents_.erase(m.agent_id);
  if (auto c = calls_.find(m.call_sid); c != calls_.end()) {
    if (c->second.dispatchable)
      index_call(c->second, true);
    else
      calls_.erase(c);
  }
  if (auto a = agents_.find(m.agent_id); a != agents_.end())
    index_agent(a->second, true);
}

std::optional<match> match_index::best_in(queue_sets& q, const std::string& queue,
                                          int64_t now_ms, bool full) {
  int entries = 0;
  for (auto it = q.calls.begin(); it != q.calls.end() && entries < 16; ++it, ++entries) {
    const call_view& c = calls_.at(it->sid);
    // Without FEATURE_MULTI_AGENT_FALLBACK a failed call waits for a sweep.
    if (!full && !rules_.feature_multi_agent_fallback && c.failed_in_row > 0)
      continue;
    const agent_entry* chosen = nullptr;
    auto order = candidates(q, c.tried.size() + 1);
    for (auto* a : order)
      if (std::find(c.tried.begin(), c.tried.end(), a->id) == c.tried.end()) {
        chosen = a;
        break;
      }
    if (chosen == nullptr && c.rest_until_ms <= now_ms)
      chosen = order.front();
    if (chosen != nullptr)
      return match{c.sid, chosen->id, queue, c.callback, c.callback_id,
                   agents_.at(chosen->id).identity};
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
  for (;;) {
    // Across queues, the best head call goes first.
    queue_sets* best = nullptr;
    std::string best_name;
    for (auto& name : candidates) {
      auto& q = queues_[name];
      if (q.calls.empty() || q.agents.empty())
        continue;
      if (best == nullptr || *q.calls.begin() < *best->calls.begin()) {
        best = &q;
        best_name = name;
      }
    }
    if (best == nullptr) {
      for (auto& name : candidates)
        dirty_.erase(name);
      return std::nullopt;
    }
    if (auto m = best_in(*best, best_name, now_ms, full)) {
      hold(*m);
      return m;
    }
    candidates.erase(std::find(candidates.begin(), candidates.end(), best_name));
    dirty_.erase(best_name);
  }
}

std::optional<match> match_index::direct(const std::string& sid, int64_t) {
  auto c = calls_.find(sid);
  if (c == calls_.end() || !c->second.dispatchable || held_calls_.count(sid))
    return std::nullopt;
  auto q = queues_.find(c->second.queue);
  if (q == queues_.end() || q->second.agents.empty())
    return std::nullopt;
  const std::string id = candidates(q->second, 1).front()->id;
  match m{sid, id, c->second.queue, c->second.callback, c->second.callback_id,
          agents_.at(id).identity};
  hold(m);
  return m;
}

const call_view* match_index::find_call(const std::string& sid) const {
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
    n += q.calls.size();
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
  if (!rules_.feature_multi_agent_fallback)  // a sweep does it
    return {};
  for (auto& [name, q] : queues_) {
    if (q.agents.empty())
      continue;
    for (auto& e : q.calls) {
      const call_view& c = calls_.at(e.sid);
      if (c.rest_until_ms > now_ms)
        continue;
      problems << "call " << c.sid << " waits in " << name << " while agent "
               << q.agents.begin()->id << " is ready\n";
      break;
    }
  }
  return problems.str();
}

}  // namespace callq
