#include "replay/staffing_plan.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "actors/dispatcher/opening_hours.hpp"
#include "actors/dispatcher/queue_config.hpp"

namespace callq::replay {

namespace {

using nlohmann::json;

status bad(const std::string& why) { return status::invalid_argument("staffing: " + why); }

}  // namespace

status parse_staffing(const std::string& text, const std::set<std::string>& known_queues,
                      int64_t from_ms, int64_t to_ms, std::vector<duty>* out) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return bad("not a JSON object of queue -> [windows]");
  std::string timezone = "UTC";
  if (j.contains("timezone")) {
    if (!j["timezone"].is_string())
      return bad("timezone must be an IANA zone name");
    timezone = j["timezone"].get<std::string>();
    opening_hours probe;
    probe.timezone = timezone;
    probe.weekly[0].push_back({0, 1440});
    for (auto& d : probe.weekly)
      d = probe.weekly[0];
    if (open_spans(probe, 0, 1).empty())
      return bad("unknown timezone '" + timezone + "'");
  }
  std::vector<duty> duties;
  for (auto& [queue, windows] : j.items()) {
    if (queue == "timezone")
      continue;
    if (!valid_queue_name(queue))
      return bad("'" + queue + "' is not a queue name");
    if (!known_queues.count(queue))
      return bad("unknown queue '" + queue + "': no call, agent or configuration of the log names it");
    if (!windows.is_array())
      return bad(queue + " must be an array of windows");
    for (size_t i = 0; i < windows.size(); ++i) {
      const json& w = windows[i];
      std::string where = queue + "[" + std::to_string(i) + "]";
      if (!w.is_object())
        return bad(where + " must be an object");
      for (auto& [key, v] : w.items())
        if (key != "days" && key != "from" && key != "to" && key != "agents" && key != "skills")
          return bad(where + ": unknown field '" + key + "'");
      opening_hours h;
      h.timezone = timezone;
      int from = 0, to = 0;
      if (!w.contains("from") || !w["from"].is_string() ||
          !parse_clock_minutes(w["from"].get<std::string>(), false, &from))
        return bad(where + ".from must be \"HH:MM\"");
      if (!w.contains("to") || !w["to"].is_string() || !parse_clock_minutes(w["to"].get<std::string>(), true, &to))
        return bad(where + ".to must be \"HH:MM\" (24:00 for midnight)");
      if (to <= from)
        return bad(where + ": 'to' must be after 'from' (a window ends the day it starts)");
      std::vector<int> days;
      if (w.contains("days")) {
        if (!w["days"].is_array() || w["days"].empty())
          return bad(where + ".days must be a non-empty array of mon, tue, wed, thu, fri, sat, sun");
        for (auto& d : w["days"]) {
          int k = d.is_string() ? parse_day_key(d.get<std::string>()) : -1;
          if (k < 0)
            return bad(where + ".days: '" + (d.is_string() ? d.get<std::string>() : d.dump()) +
                       "' is not mon, tue, wed, thu, fri, sat or sun");
          days.push_back(k);
        }
      } else {
        days = {0, 1, 2, 3, 4, 5, 6};
      }
      for (int d : days)
        h.weekly[static_cast<size_t>(d)] = {{from, to}};
      if (!w.contains("agents") || !w["agents"].is_number_integer() || w["agents"].get<int64_t>() < 0 ||
          w["agents"].get<int64_t>() > 10'000)
        return bad(where + ".agents must be a whole number 0-10000");
      duty base;
      base.queue = queue;
      base.agents = w["agents"].get<int64_t>();
      if (w.contains("skills")) {
        if (!w["skills"].is_object())
          return bad(where + ".skills must be an object of skill -> agents");
        for (auto& [skill, n] : w["skills"].items()) {
          if (!valid_skill_name(skill))
            return bad(where + ".skills: '" + skill + "' is not a skill name");
          if (!n.is_number_integer() || n.get<int64_t>() < 0 || n.get<int64_t>() > base.agents)
            return bad(where + ".skills." + skill + " must be a whole number 0-" + std::to_string(base.agents));
          base.skills[skill] = n.get<int64_t>();
        }
      }
      for (auto [start, end] : open_spans(h, from_ms, to_ms)) {
        duty d = base;
        d.from_ms = start;
        d.to_ms = end;
        duties.push_back(std::move(d));
      }
    }
  }
  *out = std::move(duties);
  return status::ok();
}

std::vector<sim_action> staffing_actions(const std::vector<duty>& duties, int64_t from_ms) {
  std::vector<sim_action> out;
  std::map<std::string, std::vector<const duty*>> by_queue;
  for (auto& d : duties)
    by_queue[d.queue].push_back(&d);
  for (auto& [queue, list] : by_queue) {
    std::set<int64_t> bounds;
    int64_t most = 0;
    for (auto* d : list) {
      bounds.insert(d->from_ms);
      bounds.insert(d->to_ms);
    }
    // Agents and skills in each stretch between two bounds.
    struct stretch {
      int64_t at = 0, agents = 0;
      std::map<std::string, int64_t> skills;
    };
    std::vector<stretch> stretches;
    for (int64_t at : bounds) {
      stretch s;
      s.at = at;
      for (auto* d : list)
        if (d->from_ms <= at && at < d->to_ms) {
          s.agents += d->agents;
          for (auto& [k, n] : d->skills)
            s.skills[k] += n;
        }
      most = std::max(most, s.agents);
      stretches.push_back(std::move(s));
    }
    for (int64_t n = 1; n <= most; ++n) {
      std::string id = queue + "-" + std::to_string(n);
      std::map<std::string, int64_t> levels;
      bool created = false, on = false;
      for (auto& s : stretches) {
        std::map<std::string, int64_t> want;
        bool on_now = n <= s.agents;
        if (on_now)
          for (auto& [k, count] : s.skills)
            if (n <= count)
              want[k] = 10;
        if (!created || (on_now && want != levels)) {
          if (on_now || !created)
            levels = want;
          cmd::put_agent p{id, id, "client:" + id, "sim", {queue}, {}, {}, levels};
          for (auto& [k, l] : levels)
            p.skills.push_back(k);
          out.push_back({created ? s.at : std::min(s.at, from_ms), p});
          created = true;
        }
        if (on_now != on) {
          out.push_back({s.at, cmd::heartbeat{id, "sim", on_now ? "available" : "offline", true}});
          on = on_now;
        }
      }
    }
  }
  std::stable_sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.at_ms < b.at_ms; });
  return out;
}

}  // namespace callq::replay
