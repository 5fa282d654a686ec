#include "replay/export.hpp"

#include <algorithm>
#include <unordered_map>

#include "events/codec.hpp"

namespace callq::replay {

using namespace events;

status parse_export_format(std::string_view name, export_format* out) {
  if (name == "jsonl")
    *out = export_format::jsonl;
  else if (name == "csv")
    *out = export_format::csv;
  else if (name == "queue_log")
    *out = export_format::queue_log;
  else
    return status::invalid_argument("unknown export format '" + std::string(name) +
                                    "' (jsonl, csv or queue_log)");
  return status::ok();
}

std::string redact_phone(const std::string& number) {
  if (number.size() < 6 || number[0] != '+' ||
      !std::all_of(number.begin() + 1, number.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }))
    return number;
  // Country codes: 1 and 7 are one digit; the common two-digit ones are
  // listed; everything else is taken as three digits.
  static const char* two[] = {"20", "27", "30", "31", "32", "33", "34", "36", "39", "40", "41",
                              "43", "44", "45", "46", "47", "48", "49", "51", "52", "53", "54",
                              "55", "56", "57", "58", "60", "61", "62", "63", "64", "65", "66",
                              "81", "82", "84", "86", "90", "91", "92", "93", "94", "95", "98"};
  size_t cc = 3;
  if (number[1] == '1' || number[1] == '7')
    cc = 1;
  else
    for (const char* t : two)
      if (number.compare(1, 2, t) == 0)
        cc = 2;
  size_t keep_end = 4;
  size_t digits = number.size() - 1;
  if (digits <= cc + keep_end)
    return number;
  return "+" + number.substr(1, cc) + std::string(digits - cc - keep_end, '*') +
         number.substr(number.size() - keep_end);
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos)
    return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"')
      out.push_back('"');
    out.push_back(c);
  }
  return out + "\"";
}

namespace {

/// Redacts phone numbers in place: payload fields and caller streams.
void redact(envelope& e) {
  std::visit([](auto& x) {
    using T = std::decay_t<decltype(x)>;
    if constexpr (std::is_same_v<T, call_arrived>) {
      x.from = redact_phone(x.from);
      x.to = redact_phone(x.to);
    } else if constexpr (std::is_same_v<T, callback_requested>) {
      x.number = redact_phone(x.number);
    } else if constexpr (std::is_same_v<T, caller_set>) {
      x.number = redact_phone(x.number);
    }
  }, e.ev.body);
  if (e.stream.rfind("caller/", 0) == 0)
    e.stream = "caller/" + redact_phone(e.stream.substr(7));
}


/// Turns events into queue_log lines; keeps only what open calls and
/// known agents need.
class queue_log_writer {
 public:
  void write(const envelope& e, std::string& out) {
    int64_t epoch = e.ev.ts_ms / 1000;
    std::visit([&](const auto& x) { on(epoch, x, out); }, e.ev.body);
  }

 private:
  struct call_facts {
    std::string queue, from;
    bool entered = false;  ///< an ENTERQUEUE was written
  };
  struct agent_facts {
    std::string identity;
    std::vector<std::string> queues;
    events::level_map penalties;
    int64_t login_epoch = 0;
    std::string status = "offline";
  };
  std::unordered_map<std::string, call_facts> calls_;
  std::unordered_map<std::string, agent_facts> agents_;

  static std::string clean(const std::string& v) {
    std::string out = v;
    std::replace(out.begin(), out.end(), '|', '_');
    std::replace(out.begin(), out.end(), '\n', ' ');
    return out;
  }
  static void line(std::string& out, int64_t epoch, const std::string& callid,
                   const std::string& queue, const std::string& agent, const char* event,
                   std::initializer_list<std::string> data) {
    out += std::to_string(epoch) + "|" + clean(callid.empty() ? "NONE" : callid) + "|" +
           clean(queue.empty() ? "NONE" : queue) + "|" + clean(agent.empty() ? "NONE" : agent) +
           "|" + event + "|";
    bool first = true;
    for (auto& d : data) {
      if (!first)
        out += "|";
      out += clean(d);
      first = false;
    }
    out += "\n";
  }
  static std::string n(int64_t v) { return std::to_string(v); }
  std::string queue_of(const std::string& sid) const {
    auto i = calls_.find(sid);
    return i == calls_.end() ? std::string() : i->second.queue;
  }
  void finish(const std::string& sid) { calls_.erase(sid); }

  void on(int64_t, const call_arrived& x, std::string&) {
    auto& c = calls_[x.call_sid];
    c.queue = x.queue;
    c.from = x.from;
  }
  void on(int64_t t, const call_enqueued& x, std::string& out) {
    auto& c = calls_[x.call_sid];
    c.queue = x.queue;
    c.entered = true;
    line(out, t, x.call_sid, x.queue, "", "ENTERQUEUE", {"", caller_id(x.call_sid), n(x.position)});
  }
  void on(int64_t t, const call_connected& x, std::string& out) {
    line(out, t, x.call_sid, queue_of(x.call_sid), x.agent_id, "CONNECT",
         {n(x.hold_seconds), x.offer_id, n((x.ring_ms + 500) / 1000)});
  }
  void on(int64_t t, const call_completed& x, std::string& out) {
    line(out, t, x.call_sid, queue_of(x.call_sid), x.agent_id,
         x.ended_by == "caller" ? "COMPLETECALLER" : "COMPLETEAGENT",
         {n(x.hold_seconds), n(x.talk_seconds), n(x.orig_position)});
    finish(x.call_sid);
  }
  void on(int64_t t, const call_abandoned& x, std::string& out) {
    const char* ev = x.reason == "hangup" ? "ABANDON"
                     : x.reason == "orphaned" ? "EXITWITHTIMEOUT"
                                              : "EXITEMPTY";
    line(out, t, x.call_sid, x.queue, "", ev, {n(x.position), n(x.orig_position), n(x.wait_seconds)});
    finish(x.call_sid);
  }
  void on(int64_t t, const callback_requested& x, std::string& out) {
    auto i = calls_.find(x.call_sid);
    if (i == calls_.end() || !i->second.entered)
      return;  // refused at the door: it never entered, so it cannot exit
    line(out, t, x.call_sid, x.queue, "", "EXITWITHKEY",
         {x.key, n(x.position), n(x.orig_position), n(x.wait_seconds)});
  }
  /// A full queue is Asterisk's FULL (no data); a closed or unstaffed one
  /// its JOINEMPTY (pos, origpos, waittime), the event Asterisk writes
  /// when a caller may not join. An overflow then shows as the next
  /// queue's ENTERQUEUE.
  void on(int64_t t, const call_refused& x, std::string& out) {
    if (x.reason == "full")
      line(out, t, x.call_sid, x.queue, "", "FULL", {});
    else
      line(out, t, x.call_sid, x.queue, "", "JOINEMPTY", {n(x.position), n(x.position), "0"});
    if (x.action == "overflow")
      calls_[x.call_sid].queue = x.overflow_queue;
    else if (x.action != "callback")
      finish(x.call_sid);
  }
  void on(int64_t, const call_turned_away& x, std::string&) { finish(x.call_sid); }
  /// overflowAfterSeconds: Asterisk's timeout exit from the old queue,
  /// then the new queue's ENTERQUEUE, as a dialplan that sends a caller
  /// on after Queue()'s timeout writes them.
  void on(int64_t t, const call_overflowed& x, std::string& out) {
    line(out, t, x.call_sid, x.queue, "", "EXITWITHTIMEOUT",
         {n(x.position), n(x.orig_position), n(x.wait_seconds)});
    calls_[x.call_sid].queue = x.to_queue;
    line(out, t, x.call_sid, x.to_queue, "", "ENTERQUEUE",
         {"", caller_id(x.call_sid), n(x.new_position)});
  }
  void on(int64_t t, const call_offer_failed& x, std::string& out) {
    bool missed = x.reason == "no-answer" || x.reason == "busy" || x.reason == "failed" ||
                  x.reason == "timeout";
    // A ring-all offer rang several members: a line for each, as Asterisk
    // writes for each member of a ringall queue that did not answer.
    for (auto& agent : x.agents.empty() ? std::vector<std::string>{x.agent_id} : x.agents)
      line(out, t, x.call_sid, queue_of(x.call_sid), agent,
           missed ? "RINGNOANSWER" : "RINGCANCELED", {n(x.ring_ms)});
  }
  void on(int64_t, const callback_completed& x, std::string&) { finish(x.call_sid); }
  void on(int64_t, const callback_failed& x, std::string&) {
    if (x.final)
      finish(x.call_sid);
  }
  static int64_t penalty_in(const events::level_map& m, const std::string& q) {
    auto i = m.find(q);
    return i == m.end() ? 0 : i->second;
  }
  // ADDMEMBER's data: paused (never, at creation) and the member's
  // penalty; a changed penalty is Asterisk's PENALTY line.
  void on(int64_t t, const agent_created& x, std::string& out) {
    auto& a = agents_[x.agent_id];
    a.identity = x.client_identity;
    a.queues = x.queues;
    a.penalties = x.penalties;
    for (auto& q : x.queues)
      line(out, t, "", q, x.agent_id, "ADDMEMBER", {"", n(penalty_in(x.penalties, q))});
  }
  void on(int64_t t, const agent_updated& x, std::string& out) {
    auto& a = agents_[x.agent_id];
    for (auto& q : x.queues) {
      int64_t penalty = penalty_in(x.penalties, q);
      if (std::find(a.queues.begin(), a.queues.end(), q) == a.queues.end())
        line(out, t, "", q, x.agent_id, "ADDMEMBER", {"", n(penalty)});
      else if (penalty != penalty_in(a.penalties, q))
        line(out, t, "", q, x.agent_id, "PENALTY", {n(penalty)});
    }
    for (auto& q : a.queues)
      if (std::find(x.queues.begin(), x.queues.end(), q) == x.queues.end())
        line(out, t, "", q, x.agent_id, "REMOVEMEMBER", {""});
    a.identity = x.client_identity;
    a.queues = x.queues;
    a.penalties = x.penalties;
  }
  void on(int64_t t, const agent_removed& x, std::string& out) {
    auto& a = agents_[x.agent_id];
    for (auto& q : a.queues)
      line(out, t, "", q, x.agent_id, "REMOVEMEMBER", {""});
    agents_.erase(x.agent_id);
  }
  void on(int64_t t, const agent_status_changed& x, std::string& out) {
    auto& a = agents_[x.agent_id];
    std::string channel = "client:" + (a.identity.empty() ? x.agent_id : a.identity);
    if (x.previous == "offline" && x.status != "offline") {
      a.login_epoch = t;
      line(out, t, "", "", x.agent_id, "AGENTLOGIN", {channel});
    }
    if (x.status == "break")
      line(out, t, "", "", x.agent_id, "PAUSE", {x.reason.empty() ? "break" : x.reason});
    if (x.previous == "break" && x.status != "break")
      line(out, t, "", "", x.agent_id, "UNPAUSE", {"break"});
    if (x.status == "offline" && x.previous != "offline")
      line(out, t, "", "", x.agent_id, "AGENTLOGOFF", {channel, n(a.login_epoch > 0 ? t - a.login_epoch : 0)});
    a.status = x.status;
  }
  void on(int64_t t, const agent_paused& x, std::string& out) {
    line(out, t, "", "", x.agent_id, "PAUSE", {x.reason});
  }
  void on(int64_t t, const agent_unpaused& x, std::string& out) {
    line(out, t, "", "", x.agent_id, "UNPAUSE", {x.reason});
  }
  void on(int64_t t, const agent_heartbeat_expired& x, std::string& out) {
    line(out, t, "", "", x.agent_id, "PAUSE", {x.reason});
  }
  void on(int64_t t, const agent_heartbeat_resumed& x, std::string& out) {
    line(out, t, "", "", x.agent_id, "UNPAUSE", {"heartbeat-resumed"});
  }
  template <class T> void on(int64_t, const T&, std::string&) {}

  std::string caller_id(const std::string& sid) const {
    auto i = calls_.find(sid);
    return i == calls_.end() ? std::string() : i->second.from;
  }
};

}  // namespace

status export_log(const storage::event_log& log, const export_options& opts,
                  const export_sink& sink, export_report* report,
                  const export_progress& progress) {
  *report = export_report{};
  queue_log_writer qlog;
  std::string out;
  bool stopped = false;
  if (opts.format == export_format::csv) {
    out = "seq,time,stream,type,call,agent,queue,data\n";
    report->lines_written++;
  }
  auto st = log.scan(1, [&](const envelope& original) {
    report->events_read++;
    if (progress && report->events_read % 100'000 == 0)
      progress(*report, original.seq);
    int64_t ts = original.ev.ts_ms;
    if (opts.to_ms != 0 && ts >= opts.to_ms)
      return true;  // timestamps are ordered in practice; keep reading to be safe
    envelope e = original;
    if (opts.redact_phone)
      redact(e);
    bool in_range = opts.from_ms == 0 || ts >= opts.from_ms;
    switch (opts.format) {
      case export_format::jsonl:
        if (in_range) {
          out += envelope_to_json(e).dump();
          out += '\n';
          report->lines_written++;
        }
        break;
      case export_format::csv:
        if (in_range) {
          out += std::to_string(e.seq) + "," + format_iso8601(ts) + "," + csv_field(e.stream) + "," +
                 std::string(type_name(e.ev.body)) + "," + csv_field(std::string(call_sid_of(e.ev.body))) +
                 "," + csv_field(std::string(agent_id_of(e.ev.body))) + "," +
                 csv_field(std::string(queue_of(e.ev.body))) + "," +
                 csv_field(payload_to_json(e.ev.body).dump()) + "\n";
          report->lines_written++;
        }
        break;
      case export_format::queue_log: {
        // Earlier events still feed the writer's memory of calls and agents.
        std::string lines;
        qlog.write(e, lines);
        if (in_range && !lines.empty()) {
          report->lines_written += static_cast<uint64_t>(std::count(lines.begin(), lines.end(), '\n'));
          out += lines;
        }
        break;
      }
    }
    if (out.size() >= 64 * 1024) {
      if (!sink(out)) {
        stopped = true;
        return false;
      }
      out.clear();
    }
    return true;
  });
  if (!st)
    return st;
  if (!stopped && !out.empty())
    sink(out);
  return status::ok();
}

}  // namespace callq::replay
