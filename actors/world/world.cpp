#include "actors/world/world.hpp"

#include <algorithm>
#include <utility>

#include <nlohmann/json.hpp>

#include "actors/digest_writer.hpp"
#include "actors/dispatcher/queue_logic.hpp"
#include "events/sha256.hpp"

namespace callq {

using namespace events;

namespace {

/// The number in an id such as "OF12" or "CB3", 0 if none.
uint64_t id_number(const std::string& id) {
  size_t i = 0;
  while (i < id.size() && !(id[i] >= '0' && id[i] <= '9'))
    ++i;
  uint64_t n = 0;
  for (; i < id.size() && id[i] >= '0' && id[i] <= '9'; ++i)
    n = n * 10 + static_cast<uint64_t>(id[i] - '0');
  return n;
}

}  // namespace

world world::from_image(policy rules, world_image img) {
  world w(std::move(rules));
  w.directory_ = std::move(img.directory);
  w.metrics_ = std::move(img.metrics);
  w.counters_ = img.counters;
  w.last_seq_ = img.last_seq;
  w.last_offered_ = std::move(img.last_offered);
  for (auto& [name, minutes] : img.service_minutes)
    w.service_minutes_[name].assign(minutes.begin(), minutes.end());
  for (auto& [number, contact] : img.last_agents)
    w.contact_times_.emplace(contact.at_ms, number);
  w.last_agents_.insert(img.last_agents.begin(), img.last_agents.end());
  std::vector<std::pair<int64_t, std::string>> ends;
  for (auto& cb : img.callbacks) {
    if (cb.ended_ms > 0)
      ends.emplace_back(cb.ended_ms, cb.callback_id);
    w.callbacks_[cb.callback_id] = std::move(cb);
  }
  std::sort(ends.begin(), ends.end());
  w.callback_ends_.assign(ends.begin(), ends.end());
  for (auto& [name, text] : img.queue_configs) {
    queue_config c;
    if (parse_queue_config(text, &c))
      w.queue_configs_[name] = std::move(c);
  }
  w.state_since_.insert(img.state_since.begin(), img.state_since.end());
  for (auto& [number, entries] : img.caller_history) {
    if (entries.empty())
      continue;
    for (auto& h : entries)
      w.history_sids_[h.call_sid] = number;
    w.history_times_.emplace(entries.back().at_ms, number);
    w.history_[number] = std::move(entries);
  }
  for (auto& a : img.agents) {
    std::string id = a.id;
    auto& slot = w.agents_[id] = std::move(a);
    w.restaff(slot, true);
  }
  for (auto& c : img.calls) {
    auto state = std::make_shared<call_state>(std::move(c));
    std::string_view sid = state->sid;
    auto& slot = *(w.calls_[sid] = std::move(state));
    if (slot.in_line()) {
      w.lines_[slot.queue].insert({slot.key(), &slot});
    }
    // A snapshot from before the callback index: its live callbacks.
    if (!slot.routing().callback_id.empty() && callback_state_name(slot.phase) != nullptr &&
        !w.callbacks_.count(slot.routing().callback_id))
      w.track_callback(slot, slot.routing().callback_requested_ms > 0 ? slot.routing().callback_requested_ms : slot.arrived_ms);
  }
  return w;
}

world_image world::image() const {
  world_image img;
  img.calls.reserve(calls_.size());
  for (auto& [sid, c] : calls_)
    img.calls.push_back(*c);
  img.agents.reserve(agents_.size());
  for (auto& [id, a] : agents_) {
    img.agents.push_back(a);
    img.agents.back().last_heartbeat_ms = 0;  // volatile: not from events
  }
  img.directory = directory_;
  img.metrics = metrics_;
  img.counters = counters_;
  img.last_seq = last_seq_;
  img.last_offered = last_offered_;
  for (auto& [name, minutes] : service_minutes_)
    img.service_minutes[name].assign(minutes.begin(), minutes.end());
  for (auto& [name, c] : queue_configs_)
    img.queue_configs[name] = to_json(c).dump();
  img.last_agents.insert(last_agents_.begin(), last_agents_.end());
  img.state_since.insert(state_since_.begin(), state_since_.end());
  img.caller_history.insert(history_.begin(), history_.end());
  img.callbacks.reserve(callbacks_.size());
  for (auto& [id, cb] : callbacks_)
    img.callbacks.push_back(cb);
  return img;
}

settled_calls::settled_calls(const std::vector<shared_call_state>& states) : states_(&states) {
  if (states.size() <= linear_limit)
    return;
  by_sid_.reserve(states.size());
  for (auto& s : states)
    if (s)
      by_sid_[s->sid] = &s;
}

const shared_call_state* settled_calls::find(std::string_view sid) const {
  if (states_ == nullptr)
    return nullptr;
  if (states_->size() > linear_limit) {
    auto i = by_sid_.find(sid);
    return i == by_sid_.end() ? nullptr : i->second;
  }
  for (auto s = states_->rbegin(); s != states_->rend(); ++s)  // the newest, as by_sid_ keeps
    if (*s && (*s)->sid == sid)
      return &*s;
  return nullptr;
}

void world::apply(uint64_t seq, const event& e) {
  apply(seq, e, settled_calls{});
}

void world::apply(uint64_t seq, const event& e, const settled_calls& settled) {
  last_seq_ = seq;
  count(e);
  stream_ref stream = stream_ref_of(e.body);
  if (stream.kind == stream_kind::call) {
    apply_call(seq, e, stream.id, settled);
  } else if (stream.kind == stream_kind::agent) {
    apply_agent(e, std::string(stream.id));
  } else if (auto* c = std::get_if<caller_set>(&e.body)) {
    directory_[c->number] = caller_entry{c->display_name, c->priority, c->language};
  } else if (stream.kind == stream_kind::queue) {
    apply_queue(queue_configs_, e);
  } else if (std::holds_alternative<system_started>(e.body)) {
    for (auto& [id, a] : agents_) {
      std::string before = visible_state(a, rules_);
      restaff(a, false);
      apply_restart(a);
      restaff(a, true);
      note_state(a, before, e.ts_ms);
    }
  }
}

void world::apply_call(uint64_t seq, const event& e, std::string_view sid,
                       const settled_calls& settled) {
  bool arrival = std::holds_alternative<call_arrived>(e.body) ||
                 std::holds_alternative<callback_scheduled>(e.body);
  auto i = calls_.find(sid);
  if (i == calls_.end()) {
    if (!arrival)
      return;  // a late event of a call that has finished
    i = calls_.emplace(sid, nullptr).first;
  }
  bool was_in_line = false;
  line_key old_key;
  std::string old_queue;
  if (const call_state* b = i->second.get()) {
    was_in_line = b->in_line();
    old_key = b->key();
    old_queue = b->queue;
  }
  // The state its actor holds after this event, when known: taken as it
  // is. Otherwise the world changes its own copy (the actor may share the
  // state, adopt()). Either way the call's place in its line points at
  // the state the world now holds.
  const shared_call_state* after = settled.find(sid);
  uint64_t version = i->second ? i->second->version : 0;
  // The key moves to the new state before the old one may go.
  if (after && (*after)->version == version + 1 && (*after)->order != 0) {
    shared_call_state before = std::exchange(i->second, *after);
    if (before)
      repoint(*before, i->second.get());
    rekey(i);
  } else {
    if (shared_call_state before = make_own(i->second)) {
      repoint(*before, i->second.get());
      rekey(i);
    }
    callq::apply(*i->second, e);
    if (arrival && i->second->order == 0)
      i->second->order = seq;  // schema 1: the log's order stands in for the arrival number
    rekey(i);  // a new call's key viewed the event's CallSid until now
  }
  const call_state& c = *i->second;
  counters_.call_order = std::max(counters_.call_order, c.order);
  if (auto* o = std::get_if<call_offered>(&e.body)) {
    counters_.offer = std::max(counters_.offer, id_number(o->offer_id));
    if (!o->queue.empty())
      last_offered_[o->queue] = o->agent_id;
  }
  if (auto* r = std::get_if<callback_requested>(&e.body))
    counters_.callback = std::max(counters_.callback, id_number(r->callback_id));
  else if (auto* b = std::get_if<callback_scheduled>(&e.body))
    counters_.callback = std::max(counters_.callback, id_number(b->callback_id));
  if (!c.routing().callback_id.empty() && callback_state_name(c.phase) != nullptr)
    track_callback(c, e.ts_ms);
  if (was_in_line && (!c.in_line() || !(old_key == c.key()) || old_queue != c.queue)) {
    lines_[old_queue].erase({old_key, &c});
    was_in_line = false;
  }
  if (c.in_line() && !was_in_line)
    lines_[c.queue].insert({c.key(), &c});
  if (auto* x = std::get_if<call_connected>(&e.body)) {
    count_service(c.queue, e.ts_ms, x->hold_seconds, true);
    remember_contact(c.from, x->agent_id, e.ts_ms);
  } else if (auto* x = std::get_if<callback_completed>(&e.body)) {
    remember_contact(c.from, x->agent_id, e.ts_ms);
  } else if (auto* x = std::get_if<call_abandoned>(&e.body)) {
    count_service(x->queue.empty() ? c.queue : x->queue, e.ts_ms, x->wait_seconds, false);
  }
  if (is_finished(c.phase)) {
    remember_history(c, e.ts_ms);
    calls_.erase(i);
  }
}

void world::apply_agent(const event& e, const std::string& id) {
  auto i = agents_.find(id);
  std::string before;
  if (i == agents_.end()) {
    if (!std::holds_alternative<agent_created>(e.body))
      return;
    i = agents_.emplace(id, agent_state{}).first;
  } else {
    before = visible_state(i->second, rules_);
    restaff(i->second, false);
  }
  callq::apply(i->second, e);
  if (auto* w = std::get_if<agent_wrap_up_recorded>(&e.body)) {
    if (auto n = history_sids_.find(w->call_sid); n != history_sids_.end())
      for (auto& h : history_[n->second])
        if (h.call_sid == w->call_sid)
          h.disposition = w->disposition;
  }
  if (auto* o = std::get_if<agent_offer_received>(&e.body); o && o->offer_id.rfind("OF", 0) == 0)
    counters_.offer_reserved = std::max(counters_.offer_reserved, id_number(o->offer_id));
  if (i->second.removed) {
    agents_.erase(i);
    state_since_.erase(id);
    return;
  }
  restaff(i->second, true);
  note_state(i->second, before, e.ts_ms);
}

void world::note_state(const agent_state& a, const std::string& before, int64_t ts_ms) {
  if (visible_state(a, rules_) != before || !state_since_.count(a.id))
    state_since_[a.id] = ts_ms;
}

void world::restaff(const agent_state& a, bool add) {
  for (auto& q : a.queues) {
    if (!add)
      staffed_[q].erase(a.id);
    else if (is_staffed(a, rules_))
      staffed_[q].insert(a.id);
  }
}

void world::count(const event& e) {
  auto& m = metrics_;
  std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, call_arrived>) {
          ++m.calls;
        } else if constexpr (std::is_same_v<T, call_offer_failed>) {
          ++m.offers_by_outcome[x.reason];
        } else if constexpr (std::is_same_v<T, call_connected>) {
          ++m.answered;
          ++m.offers_by_outcome["connected"];
          m.waited_ms = m.waited_ms * 0.99 + static_cast<double>(x.hold_seconds) * 1000;
          m.gave_up *= 0.99;
          if (x.hold_seconds * 1000 <= rules_.service_level_ms)
            ++m.answered_in_sl;
        } else if constexpr (std::is_same_v<T, call_completed>) {
          ++m.completed;
          int64_t talk = x.talk_seconds * 1000;
          m.avg_handle_ms = m.avg_handle_ms == 0 ? talk : (m.avg_handle_ms * 4 + talk) / 5;
          m.talked_ms = m.talked_ms * world_metrics::talk_decay + static_cast<double>(talk);
          m.talks = m.talks * world_metrics::talk_decay + 1;
        } else if constexpr (std::is_same_v<T, call_abandoned>) {
          ++m.abandoned;
          m.waited_ms = m.waited_ms * 0.99 + static_cast<double>(x.wait_seconds) * 1000;
          m.gave_up = m.gave_up * 0.99 + 1;
        } else if constexpr (std::is_same_v<T, call_escalated>) {
          ++m.escalated;
        } else if constexpr (std::is_same_v<T, callback_requested>) {
          ++m.callbacks_by_outcome["requested"];
        } else if constexpr (std::is_same_v<T, callback_scheduled>) {
          ++m.callbacks_by_outcome["scheduled"];
        } else if constexpr (std::is_same_v<T, callback_canceled>) {
          ++m.callbacks_by_outcome["canceled"];
        } else if constexpr (std::is_same_v<T, callback_completed>) {
          ++m.callbacks_by_outcome["completed"];
        } else if constexpr (std::is_same_v<T, callback_failed>) {
          ++m.callbacks_by_outcome[x.final ? "failed" : "retry"];
        }
      },
      e.body);
}

int64_t world::position_of(const std::string& queue, const line_key& key) const {
  auto i = lines_.find(queue);
  if (i == lines_.end())
    return 1;
  return static_cast<int64_t>(i->second.order_of_key({key, nullptr})) + 1;
}

int64_t world::waiting(const std::string& queue) const {
  auto i = lines_.find(queue);
  return i == lines_.end() ? 0 : static_cast<int64_t>(i->second.size());
}

int64_t world::staffed(const std::string& queue) const {
  auto i = staffed_.find(queue);
  return i == staffed_.end() ? 0 : static_cast<int64_t>(i->second.size());
}

void world::remember_contact(const std::string& number, const std::string& agent_id,
                             int64_t at_ms) {
  if (number.empty() || agent_id.empty())
    return;
  auto [i, fresh] = last_agents_.try_emplace(number, last_contact{agent_id, at_ms});
  if (!fresh) {
    contact_times_.erase({i->second.at_ms, number});
    i->second = last_contact{agent_id, at_ms};
  }
  contact_times_.emplace(at_ms, number);
  int64_t cutoff = at_ms - last_agent_keep_ms;
  while (!contact_times_.empty() && contact_times_.begin()->first < cutoff) {
    last_agents_.erase(contact_times_.begin()->second);
    contact_times_.erase(contact_times_.begin());
  }
}

void world::remember_history(const call_state& c, int64_t ts_ms) {
  const std::string& number = !c.from.empty() ? c.from : c.routing().callback_number;
  if (number.empty() || c.sid.empty())
    return;
  auto& list = history_[number];
  int64_t at = c.arrived_ms > 0 ? c.arrived_ms : ts_ms;
  // The number's expiry entry is keyed by its oldest entry (the list's
  // back, which is the first to go): taken out while the list changes.
  if (!list.empty())
    history_times_.erase({list.back().at_ms, number});
  list.insert(list.begin(), call_history_entry{c.sid, c.queue, c.routing().agent_id, phase_name(c.phase), "", at});
  history_sids_[c.sid] = number;
  while (list.size() > history_size) {
    history_sids_.erase(list.back().call_sid);
    list.pop_back();
  }
  history_times_.emplace(list.back().at_ms, number);
  int64_t cutoff = ts_ms - last_agent_keep_ms;
  while (!history_times_.empty() && history_times_.begin()->first < cutoff) {
    auto who = history_times_.begin()->second;
    history_times_.erase(history_times_.begin());
    auto h = history_.find(who);
    if (h == history_.end())
      continue;
    auto& entries = h->second;
    while (!entries.empty() && entries.back().at_ms < cutoff) {
      history_sids_.erase(entries.back().call_sid);
      entries.pop_back();
    }
    if (entries.empty())
      history_.erase(h);
    else
      history_times_.emplace(entries.back().at_ms, who);
  }
}

std::vector<call_history_entry> world::history_of(const std::string& number) const {
  auto i = history_.find(number);
  return i == history_.end() ? std::vector<call_history_entry>{} : i->second;
}

const agent_state* world::agent_by_token(const std::string& token_hash) const {
  if (token_hash.empty())
    return nullptr;
  for (auto& [id, a] : agents_)
    if (a.token_hash == token_hash && a.exists())
      return &a;
  return nullptr;
}

void world::track_callback(const call_state& c, int64_t ts_ms) {
  auto [i, created] = callbacks_.try_emplace(c.routing().callback_id);
  callback_view& v = i->second;
  if (created) {
    v.callback_id = c.routing().callback_id;
    v.call_sid = c.sid;
    v.created_ms = ts_ms;
  }
  v.number = c.routing().callback_number;
  v.queue = c.queue;
  v.name = c.caller_name;
  v.phase = c.phase;
  v.booked = c.booked;
  v.due_ms = c.routing().callback_due_ms;
  v.attempts = c.routing().callback_attempts;
  if (c.routing().callback_attempts > 0)
    v.agent_id = c.routing().agent_id;
  if (is_finished(c.phase) && v.ended_ms == 0) {
    v.ended_ms = ts_ms;
    callback_ends_.emplace_back(ts_ms, c.routing().callback_id);
  }
  while (!callback_ends_.empty() && callback_ends_.front().first < ts_ms - callback_keep_ms) {
    callbacks_.erase(callback_ends_.front().second);
    callback_ends_.pop_front();
  }
}

std::vector<callback_view> world::callbacks(std::optional<call_phase> phase) const {
  std::vector<callback_view> out;
  for (auto& [id, v] : callbacks_)
    if (!phase || v.phase == *phase)
      out.push_back(v);
  std::sort(out.begin(), out.end(), [](const callback_view& a, const callback_view& b) {
    return a.created_ms != b.created_ms ? a.created_ms < b.created_ms
                                        : a.callback_id < b.callback_id;
  });
  return out;
}

const callback_view* world::find_callback(const std::string& id) const {
  auto i = callbacks_.find(id);
  return i == callbacks_.end() ? nullptr : &i->second;
}

std::string world::last_agent_of(const std::string& number, int64_t now_ms) const {
  auto i = last_agents_.find(number);
  if (i == last_agents_.end() || i->second.at_ms < now_ms - last_agent_keep_ms)
    return {};
  return i->second.agent_id;
}

bool world::can_take(const std::string& queue, const std::string& agent_id,
                     const std::map<std::string, int64_t>& require) const {
  const agent_state* a = find_agent(agent_id);
  if (a == nullptr || !member_of(*a, queue))
    return false;
  // Staffed, except that an agent not heard from since a restart still
  // counts (the restart is not the agent leaving); a timed-out heartbeat
  // does not.
  agent_state heard = *a;
  heard.fresh = !a->expired;
  return is_staffed(heard, rules_) && meets_requirement(a->skill_levels, require);
}

caller_entry world::caller(const std::string& number) const {
  auto i = directory_.find(number);
  return i == directory_.end() ? caller_entry{} : i->second;
}

void world::adopt(const shared_call_state& state) {
  if (!state)
    return;
  auto i = calls_.find(state->sid);
  if (i != calls_.end() && i->second != state && i->second->version == state->version)
  {
    shared_call_state before = std::exchange(i->second, state);
    repoint(*before, state.get());
    rekey(i);
  }
}

void world::rekey(call_map::iterator& i) {
  const std::string& sid = i->second->sid;
  if (i->first.data() == sid.data())
    return;
  auto node = calls_.extract(i);
  node.key() = sid;
  i = calls_.insert(std::move(node)).position;
}

void world::repoint(const call_state& before, const call_state* now) {
  if (!before.in_line())
    return;
  auto& line = lines_[before.queue];
  if (auto place = line.find({before.key(), &before}); place != line.end())
    place->call = now;
}

const call_state* world::find_call(const std::string& sid) const {
  auto i = calls_.find(sid);
  return i == calls_.end() ? nullptr : i->second.get();
}

const agent_state* world::find_agent(const std::string& id) const {
  auto i = agents_.find(id);
  return i == agents_.end() ? nullptr : &i->second;
}

void world::count_service(const std::string& queue, int64_t ts_ms, int64_t waited_seconds,
                          bool answered) {
  int64_t threshold = config_of(queue).service_level_seconds;
  if (!answered && waited_seconds <= threshold)
    return;  // abandoned within the threshold: not counted either way
  auto& minutes = service_minutes_[queue];
  int64_t minute = ts_ms / 60'000;
  if (minutes.empty() || minutes.back().minute < minute)
    minutes.push_back(sl_minute{minute, 0, 0, 0});
  // Events of one stream are in time order, of different streams nearly:
  // a late one counts in the newest minute.
  sl_minute& m = minutes.back();
  if (answered) {
    ++m.answered;
    m.answered_within += waited_seconds <= threshold ? 1 : 0;
  } else {
    ++m.abandoned_after;
  }
  while (!minutes.empty() && minutes.front().minute < minute - 25 * 60)
    minutes.pop_front();  // "today" never reaches back more than a day
}

service_level world::sum_service(const std::string& queue, int64_t from_minute) const {
  service_level sl;
  auto i = service_minutes_.find(queue);
  if (i == service_minutes_.end())
    return sl;
  for (auto m = i->second.rbegin(); m != i->second.rend() && m->minute >= from_minute; ++m) {
    sl.answered += m->answered;
    sl.answered_within += m->answered_within;
    sl.abandoned += m->abandoned_after;
  }
  return sl;
}

service_level world::service_level_today(const std::string& queue, int64_t now_ms) const {
  const auto& hours = config_of(queue).hours;
  int64_t midnight_ms = local_day_start_ms(hours ? hours->timezone : std::string(), now_ms);
  return sum_service(queue, (midnight_ms + 59'999) / 60'000);
}

service_level world::service_level_last_15m(const std::string& queue, int64_t now_ms) const {
  return sum_service(queue, now_ms / 60'000 - 14);
}

const queue_config& world::config_of(const std::string& queue) const {
  static const queue_config defaults;
  auto i = queue_configs_.find(queue);
  return i == queue_configs_.end() ? defaults : i->second;
}

std::set<std::string> world::known_queues() const {
  std::set<std::string> names;
  for (auto& [name, line] : lines_)
    names.insert(name);
  for (auto& [id, a] : agents_)  // staffed agents are among them
    for (auto& q : a.queues)
      names.insert(q);
  for (auto& [name, c] : queue_configs_)
    names.insert(name);
  return names;
}

status_view world::status(int64_t now_ms, size_t waiting_limit,
                          const std::unordered_map<std::string, int64_t>* heartbeats) const {
  status_view v;
  v.metrics = metrics_;
  v.default_handle_ms = rules_.default_handle_ms;
  for (auto& name : known_queues()) {
    queue_view q;
    q.name = name;
    q.config = config_of(name);
    q.configured = queue_configs_.count(name) > 0;
    q.today = service_level_today(name, now_ms);
    q.last_15m = service_level_last_15m(name, now_ms);
    if (auto l = lines_.find(name); l != lines_.end()) {
      if (!l->second.empty())
        q.longest_wait_seconds = (now_ms - l->second.earliest_enqueued_ms()) / 1000;
      q.waiting_count = static_cast<int64_t>(l->second.size());
      int64_t pos = 0;
      for (auto& entry : l->second) {
        if (q.waiting.size() >= waiting_limit)
          break;
        const call_state& c = *entry.call;
        waiting_view w;
        w.call_sid = c.sid;
        w.position = ++pos;
        w.wait_seconds = (now_ms - c.enqueued_ms) / 1000;
        w.priority = c.priority;
        w.attempts = c.attempts;
        w.phase = c.phase;
        w.escalated = c.escalated;
        w.callback_offered = c.callback_offered;
        w.callback_requested = !c.routing().callback_id.empty();
        w.require = c.require;
        w.preferred_agent = c.routing().preferred_agent;
        q.waiting.push_back(std::move(w));
      }
    }
    q.staffed_agents = staffed(name);
    for (auto& [id, a] : agents_)
      if (member_of(a, name) && is_eligible(a, rules_))
        ++q.ready_agents;
    v.queues.push_back(std::move(q));
  }
  for (auto& [id, a] : agents_) {
    agent_status_view s;
    s.agent_id = a.id;
    s.name = a.display_name;
    s.state = visible_state(a, rules_);
    s.status = status_name(a.status);
    int64_t heartbeat_ms = a.last_heartbeat_ms;
    if (heartbeats)
      if (auto h = heartbeats->find(id); h != heartbeats->end())
        heartbeat_ms = h->second;
    s.readiness = readiness_score(a, rules_, now_ms, heartbeat_ms);
    s.last_heartbeat_age_seconds = heartbeat_ms > 0 ? (now_ms - heartbeat_ms) / 1000 : -1;
    if (auto t = state_since_.find(id); t != state_since_.end())
      s.state_seconds = std::max<int64_t>(0, (now_ms - t->second) / 1000);
    s.device_registered = a.device;
    s.missed_offers = a.missed;
    s.pause_reason = a.paused ? a.pause_reason : a.break_reason;
    s.queues = a.queues;
    v.agents.push_back(std::move(s));
  }
  return v;
}

world_summary world::summary(int64_t now_ms) const {
  world_summary s;
  for (auto& [name, line] : lines_) {
    s.waiting_by_queue[name] = static_cast<int64_t>(line.size());
    s.longest_wait_seconds[name] = line.empty() ? 0 : (now_ms - line.earliest_enqueued_ms()) / 1000;
  }
  for (auto& name : known_queues()) {
    s.sl_today[name] = service_level_today(name, now_ms);
    s.sl_last_15m[name] = service_level_last_15m(name, now_ms);
  }
  for (auto& [id, a] : agents_)
    ++s.agents_by_state[visible_state(a, rules_)];
  s.metrics = metrics_;
  s.last_seq = last_seq_;
  return s;
}

std::string world::digest_text() const {
  std::string text;
  text.reserve(256 * (agents_.size() + calls_.size() + 16));
  digest_writer o(&text);
  o << "counters " << counters_.call_order << ' ' << counters_.offer << ' ' << counters_.callback
    << '\n';
  const auto& m = metrics_;
  o << "metrics " << m.calls << ' ' << m.answered << ' ' << m.answered_in_sl << ' '
    << m.completed << ' ' << m.abandoned << ' ' << m.escalated << ' ' << m.avg_handle_ms;
  for (auto& [k, v] : m.offers_by_outcome)
    o << " o:" << k << '=' << v;
  for (auto& [k, v] : m.callbacks_by_outcome)
    o << " c:" << k << '=' << v;
  o << '\n';
  for (auto& [id, a] : agents_)
    o << callq::digest_text(a) << '\n';
  std::vector<const call_state*> calls;
  for (auto& [sid, c] : calls_)
    calls.push_back(c.get());
  std::sort(calls.begin(), calls.end(), [](auto* l, auto* r) { return l->sid < r->sid; });
  for (const call_state* c : calls)
    o << callq::digest_text(*c) << '|' << (c->in_line() ? position_of(c->queue, c->key()) : 0)
      << '\n';
  for (auto& [n, e] : directory_)
    o << "caller " << n << '|' << e.display_name << '|' << e.priority << '\n';
  for (auto& [name, c] : queue_configs_)
    o << "queue " << name << '|' << to_json(c).dump() << '\n';
  for (auto& [name, id] : last_offered_)
    o << "last-offered " << name << '|' << id << '\n';
  for (auto& [name, minutes] : service_minutes_) {
    o << "service " << name;
    for (auto& m : minutes)
      o << ' ' << m.minute << ':' << m.answered << ':' << m.answered_within << ':' << m.abandoned_after;
    o << '\n';
  }
  return text;
}

std::string world::digest() const {
  return std::to_string(digest_format) + ":" + sha256_hex(digest_text());
}

}  // namespace callq
