#include "actors/registry.hpp"

#include <mutex>

namespace callq {

namespace {

using actor_map = std::unordered_map<std::string, caf::actor>;

caf::actor find_in(const actor_map& m, const std::string& key) {
  auto i = m.find(key);
  return i == m.end() ? caf::actor{} : i->second;
}

caf::actor find_or_spawn(actor_map& m, const std::string& key,
                         const std::function<caf::actor()>& spawn, bool* spawned) {
  auto i = m.find(key);
  *spawned = i == m.end();
  if (!*spawned)
    return i->second;
  auto a = spawn();
  m.emplace(key, a);
  return a;
}

}  // namespace

caf::actor registry::call(const std::string& sid) const {
  std::shared_lock lock(mu_);
  return find_in(calls_, sid);
}

std::string registry::call_of_offer(const std::string& id) const {
  std::shared_lock lock(mu_);
  auto i = offers_.find(id);
  return i == offers_.end() ? std::string() : i->second;
}

caf::actor registry::agent(const std::string& id) const {
  std::shared_lock lock(mu_);
  return find_in(agents_, id);
}

caf::actor registry::call_or_spawn(const std::string& sid,
                                   const std::function<caf::actor()>& spawn, bool* spawned) {
  std::unique_lock lock(mu_);
  return find_or_spawn(calls_, sid, spawn, spawned);
}

registry::call_found registry::find_or_spawn_call(const std::string& sid,
                                                  const std::function<caf::actor()>& spawn) {
  call_found out;
  std::unique_lock lock(mu_);
  if (calls_.count(sid) == 0 && finished_.count(sid) != 0) {
    out.finished = true;
    return out;
  }
  out.actor = find_or_spawn(calls_, sid, spawn, &out.spawned);
  return out;
}

caf::actor registry::agent_or_spawn(const std::string& id,
                                    const std::function<caf::actor()>& spawn, bool* spawned) {
  std::unique_lock lock(mu_);
  return find_or_spawn(agents_, id, spawn, spawned);
}

void registry::add_offer(const std::string& id, const std::string& sid) {
  std::unique_lock lock(mu_);
  if (offers_.emplace(id, sid).second)
    offers_of_[sid].push_back(id);
}

void registry::finish_call(const shared_call_state& final) {
  std::unique_lock lock(mu_);
  calls_.erase(final->sid);
  // The state is kept until its last events are durable (final_state_durable).
  if (finished_.insert_or_assign(final->sid, final).second)
    finished_order_.emplace_back(final->ended_ms, final->sid);
}

std::optional<call_state> registry::finished(const std::string& sid) const {
  std::shared_lock lock(mu_);
  auto i = finished_.find(sid);
  if (i == finished_.end() || !i->second)
    return std::nullopt;
  return *i->second;
}

bool registry::is_finished(const std::string& sid) const {
  std::shared_lock lock(mu_);
  return finished_.count(sid) != 0;
}

void registry::final_state_durable(const std::string& sid) {
  std::unique_lock lock(mu_);
  if (auto i = finished_.find(sid); i != finished_.end())
    i->second.reset();
}

size_t registry::purge_finished(int64_t before_ms, size_t max_kept) {
  std::unique_lock lock(mu_);
  size_t dropped = 0;
  while (!finished_order_.empty() &&
         (finished_order_.front().first <= before_ms || finished_order_.size() > max_kept)) {
    const std::string& sid = finished_order_.front().second;
    if (auto o = offers_of_.find(sid); o != offers_of_.end()) {
      for (auto& id : o->second)
        offers_.erase(id);
      offers_of_.erase(o);
    }
    finished_.erase(sid);
    finished_order_.pop_front();
    ++dropped;
  }
  return dropped;
}

void registry::forget_call(const std::string& sid, const caf::actor& a) {
  std::unique_lock lock(mu_);
  if (auto i = calls_.find(sid); i != calls_.end() && i->second == a)
    calls_.erase(i);
}

void registry::remove_agent(const std::string& id) {
  std::unique_lock lock(mu_);
  agents_.erase(id);
}

size_t registry::live_calls() const {
  std::shared_lock lock(mu_);
  return calls_.size();
}

size_t registry::live_agents() const {
  std::shared_lock lock(mu_);
  return agents_.size();
}

size_t registry::finished_calls() const {
  std::shared_lock lock(mu_);
  return finished_.size();
}

std::vector<caf::actor> registry::all_calls() const {
  std::shared_lock lock(mu_);
  std::vector<caf::actor> out;
  out.reserve(calls_.size());
  for (auto& [sid, a] : calls_)
    out.push_back(a);
  return out;
}

std::vector<caf::actor> registry::all_agents() const {
  std::shared_lock lock(mu_);
  std::vector<caf::actor> out;
  out.reserve(agents_.size());
  for (auto& [id, a] : agents_)
    out.push_back(a);
  return out;
}

}  // namespace callq
