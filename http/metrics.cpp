#include "http/metrics.hpp"

#include <atomic>
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

/// A histogram in seconds from microsecond `buckets` over `bounds_us` (the
/// last bucket: beyond them) and their sum.
void histogram(std::ostringstream& o, const std::string& name, const char* help,
               const uint64_t (&bounds_us)[8], const std::atomic<uint64_t> (&buckets)[9],
               uint64_t sum_us) {
  head(o, name.c_str(), "histogram", help);
  uint64_t cumulative = 0;
  for (size_t i = 0; i < 8; ++i) {
    cumulative += buckets[i].load();
    o << name << "_bucket{le=\"" << static_cast<double>(bounds_us[i]) / 1e6 << "\"} " << cumulative
      << '\n';
  }
  cumulative += buckets[8].load();
  o << name << "_bucket{le=\"+Inf\"} " << cumulative << '\n';
  o << name << "_sum " << static_cast<double>(sum_us) / 1e6 << '\n';
  o << name << "_count " << cumulative << '\n';
}

}  // namespace

std::string render_load_metrics(const load_gauge& load) {
  std::ostringstream o;
  head(o, "callq_actor_lag_seconds", "gauge",
       "How late the timer service's beat runs, smoothed: how far behind the actors run.");
  o << "callq_actor_lag_seconds " << static_cast<double>(load.lag_us()) / 1e6 << '\n';
  head(o, "callq_overloaded", "gauge",
       "1 while new calls are refused (503) because the actors run behind (CALLQ_OVERLOAD_LAG).");
  o << "callq_overloaded " << (load.overloaded() ? 1 : 0) << '\n';
  head(o, "callq_calls_refused_overload_total", "counter", "New calls refused for overload.");
  o << "callq_calls_refused_overload_total " << load.refused_total() << '\n';
  return o.str();
}

std::string render_dispatch_metrics(const dispatch_stats& dispatch) {
  std::ostringstream o;
  head(o, "callq_reservations_total", "counter",
       "Matches the dispatcher turned into reservations (one per offer).");
  o << "callq_reservations_total " << dispatch.reservations.load() << '\n';
  head(o, "callq_reservation_legs_refused_total", "counter",
       "Agent legs that refused a reservation (no longer free) or did not answer it.");
  o << "callq_reservation_legs_refused_total " << dispatch.legs_refused.load() << '\n';
  head(o, "callq_reservation_calls_refused_total", "counter",
       "Reservations whose call could not take the offer (gone or silent); their agents were released.");
  o << "callq_reservation_calls_refused_total " << dispatch.calls_refused.load() << '\n';
  return o.str();
}

std::string render_storage_metrics(const storage_health& storage, const snapshot_stats& snapshots) {
  std::ostringstream o;
  head(o, "callq_storage_writable", "gauge",
       "1 while the event log accepts appends; 0 after a failed append (requests that change state get 503).");
  o << "callq_storage_writable " << (storage.writable() ? 1 : 0) << '\n';
  head(o, "callq_storage_free_bytes", "gauge", "Free bytes of the data directory's file system.");
  o << "callq_storage_free_bytes " << storage.free_bytes() << '\n';
  head(o, "callq_storage_disk_low", "gauge", "1 while free space is under CALLQ_DISK_LOW.");
  o << "callq_storage_disk_low " << (storage.disk_low() ? 1 : 0) << '\n';
  head(o, "callq_storage_reserve_reached", "gauge",
       "1 while free space is under CALLQ_DISK_RESERVE (new calls are refused).");
  o << "callq_storage_reserve_reached " << (storage.reserve_reached() ? 1 : 0) << '\n';
  head(o, "callq_storage_write_failures_total", "counter", "Appends that failed.");
  o << "callq_storage_write_failures_total " << storage.write_failures() << '\n';
  head(o, "callq_storage_recoveries_total", "counter",
       "Times writing resumed and state was rebuilt from the durable log.");
  o << "callq_storage_recoveries_total " << storage.recoveries() << '\n';
  head(o, "callq_snapshots_written_total", "counter", "Snapshots of the state stored.");
  o << "callq_snapshots_written_total " << snapshots.written.load() << '\n';
  head(o, "callq_snapshots_failed_total", "counter", "Snapshots that could not be stored.");
  o << "callq_snapshots_failed_total " << snapshots.failed.load() << '\n';
  head(o, "callq_snapshot_last_seq", "gauge", "The event the newest stored snapshot covers.");
  o << "callq_snapshot_last_seq " << snapshots.last_seq.load() << '\n';
  head(o, "callq_snapshot_copy_seconds", "gauge",
       "The journal's pause to hand the last snapshot's state to its writer.");
  o << "callq_snapshot_copy_seconds " << static_cast<double>(snapshots.last_copy_us.load()) / 1e6 << '\n';
  return o.str();
}

std::string render_read_model_metrics(const read_model_stats& reads) {
  std::ostringstream o;
  head(o, "callq_read_model_versions_total", "counter",
       "Versions of the read model published (one per durable batch).");
  o << "callq_read_model_versions_total " << reads.versions.load() << '\n';
  head(o, "callq_read_model_copies_total", "counter",
       "Versions made by copying the newest, because readers held every older one.");
  o << "callq_read_model_copies_total " << reads.copies.load() << '\n';
  head(o, "callq_read_model_catch_up_batches_total", "counter",
       "Durable batches applied a second time, to bring an older world up to date.");
  o << "callq_read_model_catch_up_batches_total " << reads.catch_up_batches.load() << '\n';
  head(o, "callq_read_model_catch_up_before_answers_batches_total", "counter",
       "Of those, batches applied again before a batch's appends were answered, because a reader "
       "still held the spare world when the journal went to bring it up to date after answering.");
  o << "callq_read_model_catch_up_before_answers_batches_total "
    << reads.catch_up_before_answers.load() << '\n';
  histogram(o, "callq_read_model_apply_seconds",
            "The journal's time to publish a version before the batch's appends are answered: "
            "applying the batch to a spare world (catching it up first if it was held), or to a "
            "copy of the newest. It never waits for a reader.",
            read_model_stats::apply_bucket_us, reads.apply_buckets, reads.apply_us_total.load());
  head(o, "callq_read_model_apply_max_seconds", "gauge",
       "The longest time the journal took to publish a version since start.");
  o << "callq_read_model_apply_max_seconds " << static_cast<double>(reads.apply_us_max.load()) / 1e6
    << '\n';
  head(o, "callq_read_model_prepare_seconds_total", "counter",
       "The journal's time, after answering, to bring a spare world up to date with the newest "
       "version.");
  o << "callq_read_model_prepare_seconds_total "
    << static_cast<double>(reads.prepare_us_total.load()) / 1e6 << '\n';
  return o.str();
}

std::string render_metrics(const world_summary& status, const actor_counts& actors,
                           const journal_stats& journal, const gateway_stats& gateway) {
  std::ostringstream o;
  head(o, "callq_queue_waiting_calls", "gauge", "Calls holding a place in the queue.");
  for (auto& [q, n] : status.waiting_by_queue)
    o << "callq_queue_waiting_calls{queue=\"" << label(q) << "\"} " << n << '\n';
  head(o, "callq_queue_service_level_ratio", "gauge",
       "Calls answered within the queue's serviceLevelSeconds over calls answered plus calls "
       "abandoned after it (1 when none); window today (the queue's time zone) or last15m.");
  for (auto& [q, sl] : status.sl_today)
    o << "callq_queue_service_level_ratio{queue=\"" << label(q) << "\",window=\"today\"} " << sl.ratio()
      << '\n';
  for (auto& [q, sl] : status.sl_last_15m)
    o << "callq_queue_service_level_ratio{queue=\"" << label(q) << "\",window=\"last15m\"} "
      << sl.ratio() << '\n';
  head(o, "callq_queue_longest_wait_seconds", "gauge", "Longest current wait in the queue.");
  for (auto& [q, n] : status.longest_wait_seconds)
    o << "callq_queue_longest_wait_seconds{queue=\"" << label(q) << "\"} " << n << '\n';
  head(o, "callq_agents", "gauge", "Agents by state.");
  std::map<std::string, int64_t> by_state;
  for (const char* s : {"available", "busy", "break", "offline", "stale", "ringing", "on-call",
                        "wrap-up", "unregistered"})
    by_state[s] = 0;
  for (auto& [s, n] : status.agents_by_state)
    by_state[s] += n;
  for (auto& [s, n] : by_state)
    o << "callq_agents{state=\"" << label(s) << "\"} " << n << '\n';
  head(o, "callq_actors", "gauge", "Live call and agent actors.");
  o << "callq_actors{kind=\"call\"} " << actors.calls << '\n';
  o << "callq_actors{kind=\"agent\"} " << actors.agents << '\n';
  head(o, "callq_calls_passivated", "gauge",
       "Waiting calls whose actor is passivated (their state kept, no actor until a message wakes it).");
  o << "callq_calls_passivated " << actors.passive_calls << '\n';
  const auto& m = status.metrics;
  head(o, "callq_calls_total", "counter", "Calls received.");
  o << "callq_calls_total " << m.calls << '\n';
  head(o, "callq_calls_answered_total", "counter", "Calls connected to an agent.");
  o << "callq_calls_answered_total " << m.answered << '\n';
  head(o, "callq_calls_answered_within_service_level_total", "counter",
       "Calls connected within 20 seconds of entering the queue.");
  o << "callq_calls_answered_within_service_level_total " << m.answered_in_sl << '\n';
  head(o, "callq_service_level_ratio", "gauge", "Share of answered calls answered within 20 s.");
  o << "callq_service_level_ratio "
    << (m.answered > 0 ? double(m.answered_in_sl) / double(m.answered) : 1.0) << '\n';
  head(o, "callq_calls_abandoned_total", "counter", "Callers who hung up before being connected.");
  o << "callq_calls_abandoned_total " << m.abandoned << '\n';
  head(o, "callq_calls_escalated_total", "counter", "Calls escalated after failed offers.");
  o << "callq_calls_escalated_total " << m.escalated << '\n';
  head(o, "callq_offers_total", "counter", "Offers to agents by outcome.");
  for (auto& [k, v] : m.offers_by_outcome)
    o << "callq_offers_total{outcome=\"" << label(k) << "\"} " << v << '\n';
  head(o, "callq_callbacks_total", "counter", "Callbacks by outcome.");
  for (auto& [k, v] : m.callbacks_by_outcome)
    o << "callq_callbacks_total{outcome=\"" << label(k) << "\"} " << v << '\n';

  head(o, "callq_journal_conflicts_total", "counter",
       "Appends refused because a stream was not at the version its writer expected.");
  o << "callq_journal_conflicts_total " << journal.conflicts.load() << '\n';
  head(o, "callq_journal_conflict_retries_total", "counter",
       "Writes the store refused because a stream was not at the version its writer expected "
       "(PostgreSQL, a stream the writer had not cached): checked again and resubmitted.");
  o << "callq_journal_conflict_retries_total " << journal.conflict_retries.load() << '\n';
  histogram(o, "callq_journal_append_latency_seconds",
            "Time from an append request to its durable acknowledgement.", journal_stats::bucket_us,
            journal.latency_buckets, journal.latency_us_total.load());
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

std::string render_front_door_metrics(const front_door_figures& door) {
  std::ostringstream o;
  head(o, "callq_http_connections_open", "gauge", "Client connections open.");
  o << "callq_http_connections_open " << door.connections_open << '\n';
  head(o, "callq_http_buffered_bytes", "gauge", "Request bytes read and not yet served.");
  o << "callq_http_buffered_bytes " << door.buffered_bytes << '\n';
  head(o, "callq_http_connections_closed_total", "counter",
       "Connections the server closed because of a limit.");
  const std::pair<const char*, uint64_t> closed[] = {
      {"per_address_cap", door.refused_per_address}, {"connection_cap", door.refused_total},
      {"header_timeout", door.closed_header_timeout}, {"body_timeout", door.closed_body_timeout},
      {"idle_timeout", door.closed_idle},           {"too_large", door.rejected_too_large},
      {"bad_framing", door.rejected_bad}};
  for (auto& [reason, n] : closed)
    o << "callq_http_connections_closed_total{reason=\"" << reason << "\"} " << n << '\n';
  head(o, "callq_http_requests_served_lingering_total", "counter",
       "Requests read and served by the worker that had answered the connection's previous one.");
  o << "callq_http_requests_served_lingering_total " << door.served_lingering << '\n';
  // One series per route group.
  auto by_group = [&o](const char* name, const char* type, const char* help, auto const& values) {
    head(o, name, type, help);
    for (auto g : all_route_groups)
      o << name << "{group=\"" << route_group_name(g) << "\"} " << values[static_cast<size_t>(g)] << '\n';
  };
  by_group("callq_http_requests_waiting", "gauge", "Complete requests waiting for a thread, by route group.",
           door.waiting);
  by_group("callq_http_requests_busy", "gauge", "Requests being served, by route group.", door.busy);
  by_group("callq_http_requests_total", "counter", "Requests served, by route group.", door.served);
  by_group("callq_http_requests_shed_total", "counter",
           "Requests answered 503 with Retry-After because their group was beyond capacity.", door.shed);
  return o.str();
}

std::string render_tts_metrics(const tts_figures& tts) {
  std::string out = "# HELP callq_tts_renders_total Renders by the TTS service, by outcome.\n"
                    "# TYPE callq_tts_renders_total counter\n";
  for (auto o : {tts_outcome::ok, tts_outcome::failed, tts_outcome::invalid, tts_outcome::over_budget})
    out += std::string("callq_tts_renders_total{outcome=\"") + tts_outcome_name(o) + "\"} " +
           std::to_string(tts.renders[static_cast<size_t>(o)]) + "\n";
  out += "# TYPE callq_tts_queued gauge\ncallq_tts_queued " + std::to_string(tts.queued) + "\n";
  out += "# TYPE callq_tts_stored_bytes gauge\ncallq_tts_stored_bytes " + std::to_string(tts.stored_bytes) + "\n";
  out += "# HELP callq_tts_evicted_total Audio files deleted to keep the directory within its budget.\n"
         "# TYPE callq_tts_evicted_total counter\ncallq_tts_evicted_total " + std::to_string(tts.evicted) + "\n";
  return out;
}

}  // namespace callq::http
