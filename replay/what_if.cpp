#include "replay/what_if.hpp"

#include <algorithm>
#include <chrono>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "actors/dispatcher/queue_config.hpp"
#include "events/codec.hpp"

namespace callq::replay {

namespace {

using nlohmann::json;

constexpr int64_t day_ms = 24 * 3'600'000LL;

template <class... T> bool is_one_of(const sim_action& a) {
  return (std::holds_alternative<T>(a.what) || ...);
}

/// Replaces the log's queue rules with those of `text`.
status use_queues(const std::string& text, history* past) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded())
    return status::invalid_argument("queues: not JSON");
  if (j.is_object() && j.contains("queues"))
    j = j["queues"];
  if (!j.is_array())
    return status::invalid_argument("queues: expected GET /api/queues's {\"queues\": [...]} or its array");
  std::vector<sim_action> set;
  for (size_t i = 0; i < j.size(); ++i) {
    const json& q = j[i];
    std::string where = "queues[" + std::to_string(i) + "]";
    if (!q.is_object() || !q.contains("name") || !q["name"].is_string() || !q.contains("config"))
      return status::invalid_argument(where + ": expected {\"name\": ..., \"config\": {...}}");
    std::string name = q["name"].get<std::string>();
    if (!past->queues.count(name))
      return status::invalid_argument(where + ": unknown queue '" + name +
                                      "': no call, agent or configuration of the log names it");
    queue_config c;
    if (auto st = parse_queue_config(q["config"], &c); !st)
      return status::invalid_argument(where + " (" + name + "): " + st.message());
    set.push_back({past->input.from_ms, cmd::put_queue{name, to_json(c).dump()}});
  }
  auto& actions = past->input.actions;
  actions.erase(std::remove_if(actions.begin(), actions.end(),
                               [](const sim_action& a) { return is_one_of<cmd::put_queue, cmd::delete_queue>(a); }),
                actions.end());
  actions.insert(actions.begin(), set.begin(), set.end());
  return status::ok();
}

/// Replaces the log's agents with `actions`.
void use_agents(std::vector<sim_action> agents, history* past) {
  auto& actions = past->input.actions;
  actions.erase(std::remove_if(actions.begin(), actions.end(),
                               [](const sim_action& a) {
                                 return is_one_of<cmd::put_agent, cmd::delete_agent, cmd::heartbeat>(a);
                               }),
                actions.end());
  actions.insert(actions.end(), agents.begin(), agents.end());
  std::stable_sort(actions.begin(), actions.end(), [](auto& a, auto& b) { return a.at_ms < b.at_ms; });
}

/// Every skill a call of `queue` may need: its callers' own and its
/// configurations' skill steps.
std::set<std::string> skills_needed(const history& past, const std::string& queue) {
  std::set<std::string> out;
  for (auto& c : past.input.callers)
    if (c.call.queue == queue)
      for (auto& [k, l] : c.call.skills)
        out.insert(k);
  auto add_config = [&](const std::string& text) {
    queue_config c;
    if (parse_queue_config(text, &c))
      for (auto& step : c.skill_steps)
        for (auto& [k, l] : step.require)
          out.insert(k);
  };
  if (auto i = past.input.start.queue_configs.find(queue); i != past.input.start.queue_configs.end())
    add_config(i->second);
  for (auto& a : past.input.actions)
    if (auto* p = std::get_if<cmd::put_queue>(&a.what); p && p->queue == queue)
      add_config(p->config_json);
  return out;
}

json figures_json(const queue_figures& f) {
  double sl = f.service_level();
  return {{"offered", f.offered},
          {"answered", f.answered},
          {"abandoned", f.abandoned},
          {"serviceLevel", sl < 0 ? json(nullptr) : json(sl)},
          {"asaSeconds", f.asa_seconds()},
          {"ahtSeconds", f.aht_seconds()},
          {"occupancy", f.staffed_ms > 0 ? json(f.occupancy()) : json(nullptr)}};
}

/// `r`'s figures of `queue` at `start` (zero when none), with its staffed
/// time.
queue_figures figures_at(const queue_report& r, const std::string& queue, int64_t start) {
  queue_figures f;
  if (auto q = r.queues.find(queue); q != r.queues.end())
    if (auto i = q->second.find(start); i != q->second.end())
      f = i->second;
  f.staffed_ms = r.staffed(queue, start);
  return f;
}

}  // namespace

status simulate_history(history past, const policy& rules, const report_options& o, const what_if& w,
                        what_if_result* out) {
  if (past.input.callers.empty())
    return status::invalid_argument("no calls arrived between " + events::format_iso8601(o.from_ms) + " and " +
                                    events::format_iso8601(o.to_ms));
  std::string staffing = "log";
  if (!w.queues_json.empty())
    if (auto st = use_queues(w.queues_json, &past); !st)
      return st;
  // Duties run a day past the period, so that calls waiting at its end
  // are still answered as the plan says.
  if (!w.staffing_json.empty()) {
    std::vector<duty> duties;
    if (auto st = parse_staffing(w.staffing_json, past.queues, o.from_ms, o.to_ms + day_ms, &duties); !st)
      return st;
    use_agents(staffing_actions(duties, o.from_ms), &past);
    staffing = "file";
  } else if (!w.agents_per_interval.empty()) {
    std::vector<duty> duties;
    for (auto& [queue, starts] : w.agents_per_interval) {
      if (!past.queues.count(queue))
        return status::invalid_argument("unknown queue '" + queue + "': no call, agent or configuration of the log names it");
      std::set<std::string> skills = skills_needed(past, queue);
      for (auto i = starts.begin(); i != starts.end(); ++i) {
        if (i->second < 0 || i->second > 10'000)
          return status::invalid_argument("agents must be 0-10000 (" + queue + ")");
        auto next = std::next(i);
        duty d;
        d.queue = queue;
        d.from_ms = std::max(i->first, o.from_ms);
        d.to_ms = next == starts.end() ? o.to_ms + day_ms : next->first;
        d.agents = i->second;
        for (auto& k : skills)
          d.skills[k] = d.agents;
        if (d.to_ms > d.from_ms)
          duties.push_back(std::move(d));
      }
    }
    use_agents(staffing_actions(duties, o.from_ms), &past);
    staffing = "per-interval";
  }
  auto began = std::chrono::steady_clock::now();
  policy sim_rules = simulation_rules(rules);
  what_if_result r;
  {
    report_builder builder(o, sim_rules, &r.simulated);
    sim_draws draws = draw_unknowns(past.input, rules, w.seed);
    r.stats = run_simulation(past.input, rules, draws, w.seed,
                             [&](const std::string& stream, const events::event& e) {
                               if (e.ts_ms < o.to_ms)
                                 builder.add(stream, e);
                             });
    builder.finish(o.to_ms);
  }
  if (r.stats.stuck_at_ms != 0)
    return status::not_supported("the simulation could not get past " +
                                 events::format_iso8601(r.stats.stuck_at_ms) +
                                 " (a timer set again and again to that moment); please report it");
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
  r.past = std::move(past);
  r.staffing = staffing;
  *out = std::move(r);
  return status::ok();
}

status simulate_period(const storage::event_log& log, const policy& rules, const report_options& o,
                       const what_if& w, what_if_result* out) {
  history past;
  if (auto st = read_history(log, rules, o, &past); !st)
    return st;
  return simulate_history(std::move(past), rules, o, w, out);
}

nlohmann::json what_if_to_json(const what_if_result& r, uint64_t seed) {
  json queues = json::array();
  std::set<std::string> names;
  for (auto& c : r.past.input.callers)
    names.insert(c.call.queue);
  for (auto& [name, b] : r.past.actual.queues)
    names.insert(name);
  for (auto& [name, b] : r.simulated.queues)
    names.insert(name);
  for (auto& name : names) {
    std::set<int64_t> starts;
    for (auto* rep : {&r.past.actual, &r.simulated})
      if (auto q = rep->queues.find(name); q != rep->queues.end())
        for (auto& [start, f] : q->second)
          starts.insert(start);
    json intervals = json::array();
    queue_figures total_actual, total_sim;
    for (int64_t start : starts) {
      queue_figures a = figures_at(r.past.actual, name, start), s = figures_at(r.simulated, name, start);
      total_actual.add(a);
      total_sim.add(s);
      intervals.push_back({{"start", events::format_iso8601(start)},
                           {"actual", figures_json(a)},
                           {"simulated", figures_json(s)}});
    }
    queues.push_back({{"queue", name},
                      {"intervals", intervals},
                      {"total", {{"actual", figures_json(total_actual)}, {"simulated", figures_json(total_sim)}}}});
  }
  return {{"from", events::format_iso8601(r.past.input.from_ms)},
          {"to", events::format_iso8601(r.past.input.to_ms)},
          {"interval", interval_name(r.simulated.interval)},
          {"seed", seed},
          {"staffing", r.staffing},
          {"run", {{"callers", r.stats.callers},
                   {"events", r.stats.events},
                   {"unfinished", r.stats.unfinished},
                   {"seconds", r.seconds}}},
          {"queues", queues}};
}

status parse_agents_per_interval(const std::vector<std::string>& specs, const report_options& o, what_if* w) {
  const int64_t step = interval_ms(o.interval);
  const int64_t first = o.from_ms - ((o.from_ms % step) + step) % step;
  for (const std::string& spec : specs) {
    const std::string why = "agents must be QUEUE:N,N,... (agents per interval), not '" + spec + "'";
    auto colon = spec.rfind(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == spec.size())
      return status::invalid_argument(why);
    std::string queue = spec.substr(0, colon);
    if (w->agents_per_interval.count(queue))
      return status::invalid_argument("agents: queue '" + queue + "' given twice");
    auto& starts = w->agents_per_interval[queue];
    std::stringstream numbers(spec.substr(colon + 1));
    std::string n;
    int64_t start = first;
    while (std::getline(numbers, n, ',')) {
      if (start >= o.to_ms)
        return status::invalid_argument(why + " (more numbers than intervals)");
      if (n.empty() || n.size() > 5 || n.find_first_not_of("0123456789") != std::string::npos ||
          std::stoll(n) > 10'000)
        return status::invalid_argument(why + " (each N 0-10000)");
      starts[start] = std::stoll(n);
      start += step;
    }
    if (starts.empty())
      return status::invalid_argument(why);
  }
  return status::ok();
}

status parse_target(const std::string& text, double* ratio, int64_t* seconds) {
  auto slash = text.find('/');
  const std::string why = "target must be RATIO/SECONDS, e.g. 0.8/20, not '" + text + "'";
  if (slash == std::string::npos)
    return status::invalid_argument(why);
  try {
    size_t used = 0;
    double r = std::stod(text.substr(0, slash), &used);
    if (used != slash || !(r > 0 && r <= 1))
      return status::invalid_argument(why + " (the ratio is above 0 and at most 1)");
    std::string s = text.substr(slash + 1);
    long long secs = std::stoll(s, &used);
    if (used != s.size() || secs <= 0 || secs > 86'400)
      return status::invalid_argument(why + " (seconds 1-86400)");
    *ratio = r;
    *seconds = secs;
  } catch (const std::exception&) {
    return status::invalid_argument(why);
  }
  return status::ok();
}

status plan_staffing(const history& past, const policy& rules, const report_options& o, double ratio,
                     int64_t seconds, uint64_t seed, std::vector<staffing_row>* out) {
  if (past.input.callers.empty())
    return status::invalid_argument("no calls arrived between " + events::format_iso8601(o.from_ms) + " and " +
                                    events::format_iso8601(o.to_ms));
  // Each queue's patience over the period: time in line over those who
  // gave up (the exponential patience's maximum likelihood, answered
  // callers counting as censored).
  std::map<std::string, std::pair<int64_t, int64_t>> line;  // queue -> (ms in line, gave up)
  std::map<std::string, std::pair<int64_t, int64_t>> ring;  // queue -> (ms rung, answers)
  for (auto& c : past.input.callers) {
    auto& [ms, gave_up] = line[c.call.queue];
    ms += c.waited_ms;
    gave_up += c.abandoned;
    if (c.ring_ms >= 0) {
      ring[c.call.queue].first += c.ring_ms;
      ring[c.call.queue].second += 1;
    }
  }
  const double len_s = static_cast<double>(interval_ms(o.interval)) / 1000.0;
  std::vector<staffing_row> rows;
  what_if w;
  w.seed = seed;
  for (auto& [queue, buckets] : past.actual.queues) {
    queue_figures period;
    for (auto& [start, f] : buckets)
      period.add(f);
    double queue_aht = period.completed > 0 ? period.aht_seconds() : static_cast<double>(rules.default_handle_ms) / 1000.0;
    auto [in_line_ms, gave_up] = line[queue];
    double patience = gave_up > 0 ? static_cast<double>(in_line_ms) / 1000.0 / static_cast<double>(gave_up) : 0;
    auto [rung_ms, answers] = ring[queue];
    double overhead_s = (answers > 0 ? static_cast<double>(rung_ms) / static_cast<double>(answers) / 1000.0 : 0) +
                        static_cast<double>(std::max<int64_t>(rules.wrap_up_ms, 0)) / 1000.0;
    for (auto& [start, f] : buckets) {
      if (f.offered == 0)
        continue;
      staffing_row row;
      row.queue = queue;
      row.start = start;
      row.offered = f.offered;
      row.load.arrivals_per_s = static_cast<double>(f.offered) / len_s;
      row.aht_s = f.completed > 0 ? f.aht_seconds() : queue_aht;
      row.load.handle_s = std::max(row.aht_s + overhead_s, 1.0);
      row.load.patience_s = patience;
      row.needed = agents_needed(row.load, ratio, static_cast<double>(seconds));
      row.actual_service_level = f.service_level();
      w.agents_per_interval[queue][start] = row.needed.agents;
      rows.push_back(row);
    }
  }
  what_if_result r;
  if (auto st = simulate_history(past, rules, o, w, &r); !st)
    return st;
  for (auto& row : rows)
    if (auto q = r.simulated.queues.find(row.queue); q != r.simulated.queues.end())
      if (auto i = q->second.find(row.start); i != q->second.end())
        row.simulated_service_level = i->second.service_level();
  *out = std::move(rows);
  return status::ok();
}

}  // namespace callq::replay
