#include "replay/report.hpp"

#include <algorithm>
#include <climits>
#include <cmath>
#include <tuple>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "actors/agent/agent_state.hpp"
#include "actors/dispatcher/queue_config.hpp"
#include "actors/dispatcher/queue_logic.hpp"
#include "actors/feature_flags.hpp"
#include "events/codec.hpp"

namespace callq::replay {

using namespace events;

const char* interval_name(report_interval i) {
  switch (i) {
    case report_interval::minutes_15: return "15m";
    case report_interval::hour: return "1h";
    case report_interval::day: return "1d";
  }
  return "1h";
}

bool parse_interval(const std::string& text, report_interval* out) {
  for (auto i : {report_interval::minutes_15, report_interval::hour, report_interval::day})
    if (text == interval_name(i)) {
      *out = i;
      return true;
    }
  return false;
}

int64_t interval_ms(report_interval i) {
  switch (i) {
    case report_interval::minutes_15: return 15 * 60'000;
    case report_interval::hour: return 3'600'000;
    case report_interval::day: return 86'400'000;
  }
  return 3'600'000;
}

status parse_report_options(const std::string& from, const std::string& to,
                            const std::string& interval, const std::string& queue,
                            report_options* out) {
  report_options o;
  if (!interval.empty() && !parse_interval(interval, &o.interval))
    return status::invalid_argument("interval must be 15m, 1h or 1d, not '" + interval + "'");
  for (auto [text, target, name] : {std::tuple{&from, &o.from_ms, "from"}, std::tuple{&to, &o.to_ms, "to"}})
    if (!text->empty())
      if (auto st = events::parse_iso8601(*text, target); !st)
        return status::invalid_argument(std::string(name) + ": " + st.message());
  if (o.to_ms != 0 && o.to_ms <= o.from_ms)
    return status::invalid_argument("to must be after from");
  if (!queue.empty() && !valid_queue_name(queue))
    return status::invalid_argument("queue must be 1-64 letters, digits, '.', '_' or '-'");
  o.queue = queue;
  *out = std::move(o);
  return status::ok();
}

void queue_figures::add(const queue_figures& o) {
  offered += o.offered;
  answered += o.answered;
  answered_within += o.answered_within;
  abandoned += o.abandoned;
  abandoned_after += o.abandoned_after;
  hold_seconds += o.hold_seconds;
  completed += o.completed;
  talk_seconds += o.talk_seconds;
  staffed_ms += o.staffed_ms;
  for (auto& [d, n] : o.dispositions)
    dispositions[d] += n;
}

double queue_figures::service_level() const {
  int64_t n = answered + abandoned_after;
  return n == 0 ? -1.0 : static_cast<double>(answered_within) / static_cast<double>(n);
}

double queue_figures::asa_seconds() const {
  return answered == 0 ? 0.0 : static_cast<double>(hold_seconds) / static_cast<double>(answered);
}

int64_t queue_report::staffed(const std::string& queue, int64_t start) const {
  auto q = staffed_ms.find(queue);
  if (q == staffed_ms.end())
    return 0;
  auto i = q->second.find(start);
  return i == q->second.end() ? 0 : i->second;
}

double queue_figures::occupancy() const {
  return staffed_ms == 0 ? 0.0 : static_cast<double>(talk_seconds) * 1000.0 / static_cast<double>(staffed_ms);
}

double queue_figures::aht_seconds() const {
  return completed == 0 ? 0.0 : static_cast<double>(talk_seconds) / static_cast<double>(completed);
}

/// One pass over the log.
class reporter {
 public:
  reporter(const report_options& o, const policy& rules, queue_report* out)
      : o_(o), rules_(rules), out_(out) {}

  void on(const std::string& stream, const event& e) {
    ts_ = e.ts_ms;
    if (stream.rfind("agent/", 0) == 0)
      staffing_change(stream.substr(6), e);
    else if (std::holds_alternative<system_started>(e.body))
      for (auto& [id, a] : agents_)
        staffing_change(id, e);
    std::visit([this](const auto& x) { handle(x); }, e.body);
    if (std::holds_alternative<queue_configured>(e.body) ||
        std::holds_alternative<queue_removed>(e.body))
      apply_queue(configs_, e);
  }

  void finish(int64_t end_ms) {
    for (auto& [id, a] : agents_)
      if (a.staffed_since >= 0)
        add_staffed(a.state, a.staffed_since, end_ms);
    for (auto& [name, buckets] : out_->queues)
      for (auto& [start, f] : buckets)
        f.staffed_ms = out_->staffed(name, start);
    for (auto& [id, p] : pauses_)
      if (p.paused || p.on_break)
        add_pause(id, p.since, end_ms, reason_of(p));
    for (auto& [name, buckets] : out_->queues) {
      auto i = configs_.find(name);
      queue_config c = i == configs_.end() ? queue_config{} : i->second;
      out_->targets[name] = service_target{c.service_level_seconds, c.service_level_target};
    }
  }

 private:
  struct pause_state {
    bool paused = false, on_break = false;
    std::string break_reason;  ///< as given with the break
    int64_t since = 0;
  };
  /// An agent as far as staffed time goes: its state, and since when it
  /// has been staffed (-1: not staffed).
  struct agent_track {
    agent_state state;
    int64_t staffed_since = -1;
  };
  /// Applies an agent event (or a restart) and counts the staffed time
  /// that ends with it.
  void staffing_change(const std::string& id, const event& e) {
    agent_track& t = agents_[id];
    if (t.staffed_since >= 0)
      add_staffed(t.state, t.staffed_since, ts_);
    if (std::holds_alternative<system_started>(e.body))
      apply_restart(t.state);
    else
      apply(t.state, e);
    t.staffed_since = t.state.exists() && is_staffed(t.state, rules_) ? ts_ : -1;
  }
  /// Adds [from, to) of `a`'s staffed time to its queues' intervals.
  void add_staffed(const agent_state& a, int64_t from, int64_t to) {
    from = std::max(from, o_.from_ms);
    if (o_.to_ms != 0)
      to = std::min(to, o_.to_ms);
    int64_t len = interval_ms(o_.interval);
    for (int64_t t = from; t < to;) {
      int64_t start = t - ((t % len) + len) % len;
      int64_t end = std::min(to, start + len);
      for (auto& q : a.queues)
        if (o_.queue.empty() || q == o_.queue)
          out_->staffed_ms[q][start] += end - t;
      t = end;
    }
  }

  static std::string reason_of(const pause_state& p) {
    if (p.on_break)
      return p.break_reason.empty() ? "unspecified" : p.break_reason;
    return "auto-pause";
  }

  bool counted() const { return ts_ >= o_.from_ms && (o_.to_ms == 0 || ts_ < o_.to_ms); }
  queue_figures* bucket(const std::string& queue) {
    if (!counted() || queue.empty() || (!o_.queue.empty() && queue != o_.queue))
      return nullptr;
    int64_t len = interval_ms(o_.interval);
    return &out_->queues[queue][ts_ - ((ts_ % len) + len) % len];
  }
  agent_figures* agent(const std::string& id) {
    return counted() && !id.empty() ? &out_->agents[id] : nullptr;
  }
  int64_t threshold(const std::string& queue) const {
    if (o_.service_level_seconds > 0)
      return o_.service_level_seconds;
    auto i = configs_.find(queue);
    return i == configs_.end() ? queue_config{}.service_level_seconds : i->second.service_level_seconds;
  }
  std::string queue_of(const std::string& sid) const {
    auto i = queue_.find(sid);
    return i == queue_.end() ? std::string() : i->second;
  }
  void add_pause(const std::string& id, int64_t from, int64_t to, const std::string& reason) {
    from = std::max(from, o_.from_ms);
    if (o_.to_ms != 0)
      to = std::min(to, o_.to_ms);
    if (to > from) {
      out_->agents[id].paused_ms += to - from;
      out_->agents[id].paused_ms_by_reason[reason] += to - from;
    }
  }
  /// An agent's pause or break began, ended or changed its reason at ts_:
  /// `change` sets the new state.
  template <class F> void pause_change(const std::string& id, F&& change) {
    pause_state& p = pauses_[id];
    bool before = p.paused || p.on_break;
    std::string before_reason = reason_of(p);
    change(p);
    bool after = p.paused || p.on_break;
    std::string after_reason = reason_of(p);
    if (before && (!after || after_reason != before_reason))
      add_pause(id, p.since, ts_, before_reason);
    if (after && (!before || after_reason != before_reason))
      p.since = ts_;
  }

  void handle(const call_arrived& x) {
    queue_[x.call_sid] = x.queue;
    if (!o_.split_features)
      return;
    path_[x.call_sid] = feature_path(x.flags);
    if (auto* p = path(x.call_sid, x.queue))
      ++p->offered;
  }
  /// The figures of the path `sid` took, when counted now; nullptr else.
  path_figures* path(const std::string& sid, const std::string& queue) {
    if (!o_.split_features || !counted() || (!o_.queue.empty() && queue != o_.queue))
      return nullptr;
    auto i = path_.find(sid);
    return &out_->paths[i == path_.end() ? "unrecorded" : i->second];
  }
  void handle(const call_enqueued& x) {
    queue_[x.call_sid] = x.queue;
    if (auto* b = bucket(x.queue))
      ++b->offered;
  }
  void handle(const call_refused& x) {
    if (x.action == "overflow")
      queue_[x.call_sid] = x.overflow_queue;
    else if (x.action != "callback")
      queue_.erase(x.call_sid);
  }
  void handle(const call_overflowed& x) {
    queue_[x.call_sid] = x.to_queue;
    if (auto* b = bucket(x.to_queue))
      ++b->offered;
  }
  void handle(const call_announced& x) {
    if (!counted())
      return;
    std::string q = queue_of(x.call_sid);
    if (!o_.queue.empty() && q != o_.queue)
      return;
    ++out_->announced[q].announcements;
    announced_[x.call_sid].push_back({ts_, q, x});
  }
  /// The caller was answered: every wait announced to it meets the truth.
  void compare_announced(const std::string& sid) {
    auto i = announced_.find(sid);
    if (i == announced_.end())
      return;
    for (auto& a : i->second) {
      double actual = std::max(1.0, static_cast<double>(ts_ - a.at_ms) / 1000.0);
      announced_sample s;
      s.ahead = std::max<int64_t>(0, a.e.position - 1);
      s.rel_error = (static_cast<double>(a.e.estimated_wait_seconds) - actual) / actual;
      if (a.e.wait_high_seconds > 0)
        s.covered = actual >= static_cast<double>(a.e.wait_low_seconds) &&
                    actual <= static_cast<double>(a.e.wait_high_seconds);
      out_->announced[a.queue].samples.push_back(s);
    }
    announced_.erase(i);
  }
  void handle(const callback_requested& x) {
    announced_.erase(x.call_sid);
    if (auto* p = path(x.call_sid, queue_of(x.call_sid)))
      ++p->callbacks;
  }
  void handle(const call_connected& x) {
    compare_announced(x.call_sid);
    std::string q = queue_of(x.call_sid);
    if (auto* p = path(x.call_sid, q)) {
      ++p->answered;
      p->answered_within += x.hold_seconds <= threshold(q);
    }
    if (auto* b = bucket(q)) {
      ++b->answered;
      b->hold_seconds += x.hold_seconds;
      b->answered_within += x.hold_seconds <= threshold(q);
    }
    if (auto* a = agent(x.agent_id))
      ++a->answered;
  }
  void handle(const call_completed& x) {
    if (auto* b = bucket(queue_of(x.call_sid))) {
      ++b->completed;
      b->talk_seconds += x.talk_seconds;
    }
    if (auto* a = agent(x.agent_id))
      a->talk_seconds += x.talk_seconds;
    queue_.erase(x.call_sid);
  }
  void handle(const call_abandoned& x) {
    announced_.erase(x.call_sid);
    std::string q = x.queue.empty() ? queue_of(x.call_sid) : x.queue;
    if (auto* p = path(x.call_sid, q)) {
      ++p->abandoned;
      p->abandoned_after += x.wait_seconds > threshold(q);
    }
    if (auto* b = bucket(q)) {
      ++b->abandoned;
      b->abandoned_after += x.wait_seconds > threshold(q);
    }
    queue_.erase(x.call_sid);
  }
  void handle(const call_turned_away& x) { queue_.erase(x.call_sid); }
  void handle(const callback_completed& x) {
    if (auto* a = agent(x.agent_id))
      a->talk_seconds += x.talk_seconds;
    queue_.erase(x.call_sid);
  }
  void handle(const callback_failed& x) {
    if (x.final)
      queue_.erase(x.call_sid);
  }
  void handle(const callback_canceled& x) { queue_.erase(x.call_sid); }
  void handle(const agent_offer_ended& x) {
    if (auto* a = agent(x.agent_id); a && x.missed)
      ++a->missed_offers;
  }
  void handle(const agent_paused& x) {
    pause_change(x.agent_id, [](pause_state& p) { p.paused = true; });
  }
  void handle(const agent_unpaused& x) {
    pause_change(x.agent_id, [](pause_state& p) { p.paused = false; });
  }
  void handle(const agent_wrap_up_recorded& x) {
    if (auto* b = bucket(x.queue); b != nullptr && !x.disposition.empty())
      ++b->dispositions[x.disposition];
  }
  void handle(const agent_status_changed& x) {
    bool on_break = x.status == "break";
    pause_change(x.agent_id, [&](pause_state& p) {
      p.on_break = on_break;
      p.break_reason = on_break ? x.reason : std::string{};
    });
  }
  template <class T> void handle(const T&) {}

  const report_options& o_;
  const policy& rules_;
  queue_report* out_;
  std::unordered_map<std::string, agent_track> agents_;
  int64_t ts_ = 0;
  std::map<std::string, queue_config> configs_;
  std::unordered_map<std::string, std::string> queue_;  ///< live calls' queues
  struct pending_announcement {
    int64_t at_ms = 0;
    std::string queue;
    call_announced e;
  };
  std::unordered_map<std::string, std::string> path_;  ///< call -> its flags' path
  /// Waits announced to callers not yet answered, by call.
  std::unordered_map<std::string, std::vector<pending_announcement>> announced_;
  std::map<std::string, pause_state> pauses_;
};

namespace {

nlohmann::json figures_json(const queue_figures& f) {
  double sl = f.service_level();
  return {{"offered", f.offered},
          {"answered", f.answered},
          {"abandoned", f.abandoned},
          {"answeredWithin", f.answered_within},
          {"abandonedAfter", f.abandoned_after},
          {"holdSeconds", f.hold_seconds},
          {"completed", f.completed},
          {"talkSeconds", f.talk_seconds},
          {"serviceLevel", sl < 0 ? nlohmann::json(nullptr) : nlohmann::json(sl)},
          {"asaSeconds", f.asa_seconds()},
          {"ahtSeconds", f.aht_seconds()},
          {"dispositions", f.dispositions}};
}

}  // namespace

report_builder::report_builder(const report_options& options, const policy& rules,
                               queue_report* out)
    : options_(options), impl_(std::make_unique<reporter>(options_, rules, out)) {
  *out = queue_report{};
  out->from_ms = options.from_ms;
  out->to_ms = options.to_ms;
  out->interval = options.interval;
  out->split_features = options.split_features;
}

report_builder::~report_builder() = default;

void report_builder::add(const std::string& stream, const events::event& e) { impl_->on(stream, e); }

void report_builder::finish(int64_t end_ms) { impl_->finish(end_ms); }

status build_report(const storage::event_log& log, const report_options& options,
                    queue_report* out, const std::function<void(uint64_t)>& progress) {
  report_builder r(options, policy{}, out);
  int64_t last_ts = options.from_ms;
  auto st = log.scan(1, [&](const envelope& e) {
    if (options.to_ms != 0 && e.ev.ts_ms >= options.to_ms)
      return true;  // later events change nothing counted (streams interleave)
    r.add(e.stream, e.ev);
    last_ts = std::max(last_ts, e.ev.ts_ms);
    if (progress && e.seq % 65'536 == 0)
      progress(e.seq);
    return true;
  });
  if (!st)
    return st;
  r.finish(options.to_ms != 0 ? options.to_ms : last_ts);
  return status::ok();
}

status parse_split(const std::string& split, report_options* out) {
  if (split.empty() || split == "features") {
    out->split_features = split == "features";
    return status::ok();
  }
  return status::invalid_argument("split must be features, not '" + split + "'");
}

nlohmann::json announced_to_json(const announced_waits& a) {
  auto figures = [](std::vector<announced_sample> samples, nlohmann::json* out) {
    (*out)["compared"] = samples.size();
    if (samples.empty()) {
      (*out)["medianAbsRelError"] = (*out)["bias"] = (*out)["coverage80"] = nullptr;
      return;
    }
    auto median = [](std::vector<double> v) {
      std::sort(v.begin(), v.end());
      size_t n = v.size();
      return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    };
    std::vector<double> abs_err, err;
    int64_t covered = 0, ranged = 0;
    for (auto& s : samples) {
      abs_err.push_back(std::abs(s.rel_error));
      err.push_back(s.rel_error);
      if (s.covered >= 0) {
        ++ranged;
        covered += s.covered;
      }
    }
    (*out)["medianAbsRelError"] = median(abs_err);
    (*out)["bias"] = median(err);
    (*out)["coverage80"] = ranged > 0 ? nlohmann::json(static_cast<double>(covered) / static_cast<double>(ranged))
                                      : nlohmann::json(nullptr);
  };
  nlohmann::json out = {{"announcements", a.announcements}};
  figures(a.samples, &out);
  nlohmann::json by = nlohmann::json::array();
  const std::pair<const char*, std::pair<int64_t, int64_t>> buckets[] = {
      {"0", {0, 0}}, {"1-3", {1, 3}}, {"4-10", {4, 10}}, {"11+", {11, INT64_MAX}}};
  for (auto& [label, range] : buckets) {
    std::vector<announced_sample> in;
    for (auto& s : a.samples)
      if (s.ahead >= range.first && s.ahead <= range.second)
        in.push_back(s);
    nlohmann::json row = {{"ahead", label}};
    figures(in, &row);
    by.push_back(row);
  }
  out["byAhead"] = by;
  return out;
}

nlohmann::json report_to_json(const queue_report& r) {
  auto time = [](int64_t ms) {
    return ms > 0 ? nlohmann::json(events::format_iso8601(ms)) : nlohmann::json(nullptr);
  };
  nlohmann::json queues = nlohmann::json::array();
  for (auto& [name, buckets] : r.queues) {
    nlohmann::json intervals = nlohmann::json::array();
    queue_figures total;
    for (auto& [start, f] : buckets) {
      nlohmann::json row = figures_json(f);
      row["start"] = events::format_iso8601(start);
      intervals.push_back(std::move(row));
      total.add(f);
    }
    service_target t;
    if (auto i = r.targets.find(name); i != r.targets.end())
      t = i->second;
    auto a = r.announced.find(name);
    queues.push_back({{"queue", name},
                      {"serviceLevelSeconds", t.seconds},
                      {"serviceLevelTarget", t.ratio},
                      {"intervals", intervals},
                      {"total", figures_json(total)},
                      {"announcedWait", announced_to_json(a != r.announced.end() ? a->second
                                                                                 : announced_waits{})}});
  }
  nlohmann::json paths = nlohmann::json::array();
  for (auto& [name, p] : r.paths) {
    int64_t sl_base = p.answered + p.abandoned_after;
    paths.push_back({{"path", name},
                     {"offered", p.offered},
                     {"answered", p.answered},
                     {"connectionRate", p.offered > 0 ? nlohmann::json(static_cast<double>(p.answered) /
                                                                       static_cast<double>(p.offered))
                                                      : nlohmann::json(nullptr)},
                     {"abandoned", p.abandoned},
                     {"callbacks", p.callbacks},
                     {"serviceLevel", sl_base > 0 ? nlohmann::json(static_cast<double>(p.answered_within) /
                                                                   static_cast<double>(sl_base))
                                                  : nlohmann::json(nullptr)}});
  }
  nlohmann::json agents = nlohmann::json::array();
  for (auto& [id, a] : r.agents)
    agents.push_back({{"agentId", id},
                      {"answered", a.answered},
                      {"talkSeconds", a.talk_seconds},
                      {"missedOffers", a.missed_offers},
                      {"pausedSeconds", a.paused_ms / 1000},
                      {"pausedSecondsByReason", [&] {
                         nlohmann::json by = nlohmann::json::object();
                         for (auto& [reason, ms] : a.paused_ms_by_reason)
                           by[reason] = ms / 1000;
                         return by;
                       }()}});
  nlohmann::json out = {{"from", time(r.from_ms)},
                        {"to", time(r.to_ms)},
                        {"interval", interval_name(r.interval)},
                        {"queues", queues},
                        {"agents", agents}};
  if (r.split_features)
    out["features"] = paths;
  return out;
}

}  // namespace callq::replay
