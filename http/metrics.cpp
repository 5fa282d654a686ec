#include "http/metrics.hpp"

#include <map>
#include <sstream>

namespace callq::http {

namespace {

std::string label(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"')
      out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
  return out;
}

void head(std::ostringstream& o, const char* name, const char* type, const char* help) {
  o << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n';
}

}  // namespace

std::string render_metrics(const nlohmann::json& status, const journal_stats& journal,
                           const gateway_stats& gateway) {
  std::ostringstream o;
  head(o, "callq_queue_waiting_calls", "gauge", "Calls holding a place in the queue.");
  for (auto& q : status["queues"])
    o << "callq_queue_waiting_calls{queue=\"" << label(q["name"]) << "\"} " << q["waiting"].size() << '\n';
  head(o, "callq_queue_longest_wait_seconds", "gauge", "Longest current wait in the queue.");
  for (auto& q : status["queues"])
    o << "callq_queue_longest_wait_seconds{queue=\"" << label(q["name"]) << "\"} "
      << q["longestWaitSeconds"].get<int64_t>() << '\n';
  head(o, "callq_agents", "gauge", "Agents by state.");
  std::map<std::string, int> by_state;
  for (const char* s : {"available", "busy", "break", "offline", "stale", "ringing", "on-call",
                        "wrap-up", "unregistered"})
    by_state[s] = 0;
  for (auto& a : status["agents"])
    by_state[a["state"].get<std::string>()] += 1;
  for (auto& [s, n] : by_state)
    o << "callq_agents{state=\"" << label(s) << "\"} " << n << '\n';
  const auto& m = status["metrics"];
  head(o, "callq_calls_total", "counter", "Calls received.");
  o << "callq_calls_total " << m["calls"].get<int64_t>() << '\n';
  head(o, "callq_calls_answered_total", "counter", "Calls connected to an agent.");
  o << "callq_calls_answered_total " << m["answered"].get<int64_t>() << '\n';
  head(o, "callq_calls_answered_within_service_level_total", "counter",
       "Calls connected within 20 seconds of entering the queue.");
  o << "callq_calls_answered_within_service_level_total "
    << m["answeredWithinServiceLevel"].get<int64_t>() << '\n';
  head(o, "callq_service_level_ratio", "gauge", "Share of answered calls answered within 20 s.");
  o << "callq_service_level_ratio " << m["serviceLevel"].get<double>() << '\n';
  head(o, "callq_calls_abandoned_total", "counter", "Callers who hung up before being connected.");
  o << "callq_calls_abandoned_total " << m["abandoned"].get<int64_t>() << '\n';
  head(o, "callq_calls_escalated_total", "counter", "Calls escalated after failed offers.");
  o << "callq_calls_escalated_total " << m["escalated"].get<int64_t>() << '\n';
  head(o, "callq_offers_total", "counter", "Offers to agents by outcome.");
  for (auto& [k, v] : m["offersByOutcome"].items())
    o << "callq_offers_total{outcome=\"" << label(k) << "\"} " << v.get<int64_t>() << '\n';
  head(o, "callq_callbacks_total", "counter", "Callbacks by outcome.");
  for (auto& [k, v] : m["callbacksByOutcome"].items())
    o << "callq_callbacks_total{outcome=\"" << label(k) << "\"} " << v.get<int64_t>() << '\n';

  head(o, "callq_journal_append_latency_seconds", "histogram",
       "Time from an append request to its durable acknowledgement.");
  uint64_t cumulative = 0;
  for (size_t i = 0; i < 8; ++i) {
    cumulative += journal.latency_buckets[i].load();
    o << "callq_journal_append_latency_seconds_bucket{le=\""
      << static_cast<double>(journal_stats::bucket_us[i]) / 1e6 << "\"} " << cumulative << '\n';
  }
  cumulative += journal.latency_buckets[8].load();
  o << "callq_journal_append_latency_seconds_bucket{le=\"+Inf\"} " << cumulative << '\n';
  o << "callq_journal_append_latency_seconds_sum "
    << static_cast<double>(journal.latency_us_total.load()) / 1e6 << '\n';
  o << "callq_journal_append_latency_seconds_count " << journal.appends.load() << '\n';
  head(o, "callq_journal_events_total", "counter", "Events written to the log since start.");
  o << "callq_journal_events_total " << journal.events.load() << '\n';
  head(o, "callq_journal_syncs_total", "counter", "Group-committed write batches synced.");
  o << "callq_journal_syncs_total " << journal.syncs.load() << '\n';
  head(o, "callq_twilio_rest_requests_total", "counter", "Twilio REST requests by outcome.");
  o << "callq_twilio_rest_requests_total{outcome=\"ok\"} " << gateway.ok.load() << '\n';
  o << "callq_twilio_rest_requests_total{outcome=\"retried\"} " << gateway.retried.load() << '\n';
  o << "callq_twilio_rest_requests_total{outcome=\"failed\"} " << gateway.failed.load() << '\n';
  return o.str();
}

}  // namespace callq::http
