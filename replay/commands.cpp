#include "replay/commands.hpp"

#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>

#include <nlohmann/json.hpp>

#include "events/codec.hpp"
#include "replay/export.hpp"
#include "actors/world/rebuild.hpp"
#include "replay/report.hpp"
#include "actors/world/snapshot.hpp"
#include "actors/world/status_json.hpp"
#include "replay/command_support.hpp"
#include "replay/timeline.hpp"

namespace callq::replay {

namespace {

/// `--from` and `--to` (ISO 8601, each optional) into milliseconds; false
/// (with the reason on `err`) for a bad time.
bool parse_period(const std::string& from, const std::string& to, int64_t* from_ms,
                  int64_t* to_ms, std::ostream& err) {
  for (auto [text, target, name] : {std::tuple{&from, from_ms, "--from"}, std::tuple{&to, to_ms, "--to"}}) {
    if (text->empty())
      continue;
    if (auto st = events::parse_iso8601(*text, target); !st) {
      err << "error: " << name << ": " << st.message() << "\n";
      return false;
    }
  }
  return true;
}

bool parse_until(const std::string& text, rebuild_limit* limit, std::ostream& err) {
  if (text.empty())
    return true;
  if (std::all_of(text.begin(), text.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
    limit->until_seq = std::stoull(text);
    return true;
  }
  if (auto st = events::parse_iso8601(text, &limit->until_ms); !st) {
    err << "error: --until: " << st.message() << " (give an ISO 8601 time or a sequence number)\n";
    return false;
  }
  return true;
}

void print_state(const world& state, const rebuild_report& rr, bool json, std::ostream& out) {
  auto view = status_to_json(state.status(rr.last_ms));
  if (json) {
    nlohmann::json j = view;
    j["seq"] = rr.last_seq;
    j["time"] = rr.last_ms ? events::format_iso8601(rr.last_ms) : "";
    j["digest"] = state.digest();
    out << j.dump(2) << "\n";
    return;
  }
  out << "state after event #" << rr.last_seq;
  if (rr.last_ms)
    out << " (" << events::format_iso8601(rr.last_ms) << ")";
  out << ", " << rr.events << " events replayed\n";
  for (auto& q : view["queues"]) {
    out << "queue " << q["name"].get<std::string>() << ": " << q["waiting"].size() << " waiting\n";
    for (auto& w : q["waiting"])
      out << "  " << w["position"] << ". " << w["callSid"].get<std::string>() << "  "
          << w["state"].get<std::string>() << "  waited " << w["waitSeconds"] << "s  priority "
          << w["priority"] << "  offers " << w["attempts"] << (w["escalated"].get<bool>() ? "  escalated" : "")
          << "\n";
  }
  out << "agents: " << view["agents"].size() << "\n";
  for (auto& a : view["agents"])
    out << "  " << a["agentId"].get<std::string>() << "  " << a["state"].get<std::string>()
        << "  readiness " << a["readiness"] << "\n";
  out << "digest " << state.digest() << "\n";
}

}  // namespace

int run_replay(const replay_args& a, std::ostream& out, std::ostream& err) {
  if (!a.call_sid.empty() && !a.agent_id.empty()) {
    err << "error: give --call or --agent, not both\n";
    return 2;
  }
  rebuild_limit limit;
  if (!parse_until(a.until, &limit, err))
    return 2;
  std::unique_ptr<storage::event_log> log;
  if (!open_log(a.data_dir, a.store, &log, err))
    return 2;

  if (!a.call_sid.empty() || !a.agent_id.empty()) {
    std::string stream =
        a.call_sid.empty() ? events::agent_stream(a.agent_id) : events::call_stream(a.call_sid);
    std::vector<events::envelope> evs;
    if (auto st = read_timeline(*log, stream, limit.until_seq, &evs); !st) {
      err << "error: " << st.message() << "\n";
      return 1;
    }
    if (evs.empty()) {
      err << "error: no events for " << stream << "\n";
      return 1;
    }
    for (auto& e : evs) {
      if (limit.until_ms != 0 && e.ev.ts_ms > limit.until_ms)
        break;
      if (a.json)
        out << events::envelope_to_json(e).dump() << "\n";
      else
        out << format_timeline_line(e) << "\n";
    }
    return 0;
  }

  world state(a.rules);
  rebuild_report rr;
  uint64_t snapshots = 0, other_format = 0, stored_checked = 0;
  // Start from the newest snapshot before the target, unless every
  // event is to be replayed and checked.
  if (!a.verify) {
    snapshot_load sl;
    if (auto st = load_newest_snapshot(*log, a.rules, limit.until_seq, limit.until_ms, &state, &sl); !st) {
      err << "error: " << st.message() << "\n";
      return 1;
    }
    for (auto& s : sl.skipped)
      err << "warning: skipped " << s << "\n";
  }
  const uint64_t from_seq = state.last_seq();
  const std::string format = std::to_string(world::digest_format) + ":";
  // Digests name the event they cover (it comes before them): collect
  // them first, then compare while replaying.
  std::map<uint64_t, std::string> recorded;
  if (a.verify) {
    auto st = log->scan(1, [&](const events::envelope& e) {
      if (auto* d = std::get_if<events::system_state_digest>(&e.ev.body)) {
        if (d->digest.rfind(format, 0) != 0 || d->seq <= 0)
          ++other_format;  // written by a build that digests differently
        else
          recorded[static_cast<uint64_t>(d->seq)] = d->digest;
      }
      return true;
    });
    if (!st) {
      err << "error: " << st.message() << "\n";
      return 1;
    }
  }
  // Every stored snapshot is compared with the full replay at its event.
  std::map<uint64_t, std::string> stored;
  if (a.verify) {
    std::vector<uint64_t> seqs;
    if (auto st = log->snapshot_seqs(&seqs); !st) {
      err << "error: " << st.message() << "\n";
      return 1;
    }
    for (uint64_t seq : seqs) {
      std::string bytes;
      world w(a.rules);
      snapshot_info info;
      status st = log->get_snapshot(seq, &bytes);
      if (st)
        st = decode_snapshot(bytes, a.rules, &w, &info);
      if (st.error_code() == status::code::not_supported) {
        // Another build's format (an upgrade leaves older ones): not this
        // log's damage; the next snapshot or the full replay stands.
        err << "warning: snapshot at event " << seq << " skipped: " << st.message() << "\n";
        continue;
      }
      if (!st) {
        err << "error: snapshot at event " << seq << " does not decode: " << st.message() << "\n";
        return 1;
      }
      stored[seq] = info.world_digest;
    }
  }
  after_apply_fn check;
  if (a.verify) {
    check = [&](const events::envelope& e, const world& w) {
      auto i = recorded.find(e.seq);
      auto j = stored.find(e.seq);
      if (i == recorded.end() && j == stored.end())
        return status::ok();
      std::string rebuilt = w.digest();
      if (i != recorded.end()) {
        if (rebuilt != i->second)
          return status::corruption("state diverges at event " + std::to_string(e.seq) +
                                    ": rebuilt digest " + rebuilt + ", recorded " + i->second);
        ++snapshots;
      }
      if (j != stored.end()) {
        if (rebuilt != j->second)
          return status::corruption("the snapshot at event " + std::to_string(e.seq) +
                                    " differs from the full replay: replayed digest " + rebuilt +
                                    ", snapshot " + j->second);
        ++stored_checked;
      }
      return status::ok();
    };
  }
  if (auto st = rebuild(*log, state, limit, &rr, check); !st) {
    err << "error: " << st.message() << "\n";
    return 1;
  }
  if (a.verify) {
    if (stored_checked != stored.size()) {
      err << "error: " << stored.size() - stored_checked
          << " snapshot(s) cover events the log does not hold\n";
      return 1;
    }
    out << "verified: " << rr.events << " events replayed, " << snapshots
        << " recorded state digests match" << (snapshots + other_format == 0 ? " (the log has none yet)" : "");
    if (other_format > 0)
      out << ", " << other_format << " recorded in another digest format not compared";
    out << ", " << stored_checked << " snapshot(s) equal the full replay";
    out << "\n";
    return 0;
  }
  if (from_seq != 0 && rr.events == 0) {  // the snapshot is the answer
    rr.last_seq = from_seq;
    events::envelope last;
    if (log->get(from_seq, &last))
      rr.last_ms = last.ev.ts_ms;
  }
  rr.events += from_seq;  // events the printed state covers
  print_state(state, rr, a.json, out);
  return 0;
}

namespace {

/// One queue figures row: table cells or CSV fields, in one order.
std::vector<std::string> figure_cells(const queue_figures& f) {
  double sl = f.service_level();
  return {std::to_string(f.offered),   std::to_string(f.answered),
          std::to_string(f.abandoned), sl < 0 ? std::string("-") : fixed(sl * 100, 1) + "%",
          fixed(f.asa_seconds(), 1),   fixed(f.aht_seconds(), 1)};
}

}  // namespace

int run_report(const report_args& a, std::ostream& out, std::ostream& err) {
  if (a.format != "table" && a.format != "csv" && a.format != "json") {
    err << "error: --format must be table, csv or json, not '" << a.format << "'\n";
    return 2;
  }
  report_options o;
  if (auto st = parse_report_options(a.from, a.to, a.interval, a.queue, &o); !st) {
    err << "error: --" << st.message() << "\n";
    return 2;
  }
  if (auto st = parse_split(a.split, &o); !st) {
    err << "error: --" << st.message() << "\n";
    return 2;
  }
  std::unique_ptr<storage::event_log> log;
  if (!open_log(a.data_dir, a.store, &log, err))
    return 2;
  uint64_t total = log->last_seq();
  queue_report r;
  auto st = build_report(*log, o, &r, [&](uint64_t seq) {
    if (a.progress)
      err << "\rread " << seq << " of " << total << " events" << std::flush;
  });
  if (a.progress)
    err << "\r";
  if (!st) {
    err << "error: " << st.message() << "\n";
    return 1;
  }
  if (a.format == "json") {
    out << report_to_json(r).dump(2) << "\n";
    return 0;
  }
  static const char* heads[] = {"offered", "answered", "abandoned", "service level", "ASA s", "AHT s"};
  if (a.format == "csv") {
    out << "queue,start,offered,answered,abandoned,service_level,asa_seconds,aht_seconds\n";
    for (auto& [queue, buckets] : r.queues)
      for (auto& [start, f] : buckets) {
        out << queue << ',' << events::format_iso8601(start);
        double sl = f.service_level();
        out << ',' << f.offered << ',' << f.answered << ',' << f.abandoned << ','
            << (sl < 0 ? std::string() : fixed(sl, 4)) << ',' << fixed(f.asa_seconds(), 1) << ','
            << fixed(f.aht_seconds(), 1) << "\n";
      }
    out << "\nagent,answered,talk_seconds,missed_offers,paused_seconds\n";
    for (auto& [id, ag] : r.agents)
      out << id << ',' << ag.answered << ',' << ag.talk_seconds << ',' << ag.missed_offers << ','
          << ag.paused_ms / 1000 << "\n";
    out << "\nqueue,start,disposition,calls\n";
    for (auto& [queue, buckets] : r.queues)
      for (auto& [start, f] : buckets)
        for (auto& [d, n] : f.dispositions)
          out << queue << ',' << events::format_iso8601(start) << ',' << csv_field(d) << ',' << n << "\n";
    if (r.split_features) {
      out << "\npath,offered,answered,connection_rate,abandoned,callbacks,service_level\n";
      for (auto& p : report_to_json(r)["features"]) {
        auto cell = [](const nlohmann::json& v) { return v.is_null() ? std::string() : fixed(v.get<double>(), 4); };
        out << csv_field(p["path"].get<std::string>()) << ',' << p["offered"] << ',' << p["answered"] << ','
            << cell(p["connectionRate"]) << ',' << p["abandoned"] << ',' << p["callbacks"] << ','
            << cell(p["serviceLevel"]) << "\n";
      }
    }
    out << "\nqueue,ahead,announcements,compared,median_abs_rel_error,bias,coverage80\n";
    for (auto& [queue, a] : r.announced) {
      auto j = announced_to_json(a);
      auto cell = [](const nlohmann::json& v) { return v.is_null() ? std::string() : fixed(v.get<double>(), 4); };
      out << queue << ",all," << a.announcements << ',' << j["compared"] << ',' << cell(j["medianAbsRelError"])
          << ',' << cell(j["bias"]) << ',' << cell(j["coverage80"]) << "\n";
      for (auto& b : j["byAhead"])
        out << queue << ',' << b["ahead"].get<std::string>() << ",," << b["compared"] << ','
            << cell(b["medianAbsRelError"]) << ',' << cell(b["bias"]) << ',' << cell(b["coverage80"]) << "\n";
    }
    out << "\nagent,pause_reason,paused_seconds\n";
    for (auto& [id, ag] : r.agents)
      for (auto& [reason, ms] : ag.paused_ms_by_reason)
        out << id << ',' << csv_field(reason) << ',' << ms / 1000 << "\n";
    return 0;
  }
  // table
  char line[256];
  if (r.split_features) {
    auto j = report_to_json(r)["features"];
    std::snprintf(line, sizeof line, "%-60s %8s %8s %11s %9s %9s %13s\n", "path (FEATURE_* flags)", "offered",
                  "answered", "connection", "abandoned", "callbacks", "service level");
    out << line;
    auto pct = [](const nlohmann::json& v) { return v.is_null() ? std::string("-") : fixed(v.get<double>() * 100, 1) + "%"; };
    for (auto& p : j) {
      std::snprintf(line, sizeof line, "%-60s %8lld %8lld %11s %9lld %9lld %13s\n", p["path"].get<std::string>().c_str(),
                    p["offered"].get<long long>(), p["answered"].get<long long>(), pct(p["connectionRate"]).c_str(),
                    p["abandoned"].get<long long>(), p["callbacks"].get<long long>(), pct(p["serviceLevel"]).c_str());
      out << line;
    }
    out << "\n";
  }
  for (auto& [queue, buckets] : r.queues) {
    out << "queue " << queue << " (" << interval_name(r.interval) << ")\n";
    std::snprintf(line, sizeof line, "  %-24s %8s %8s %9s %13s %7s %7s\n", "start", heads[0], heads[1],
                  heads[2], heads[3], heads[4], heads[5]);
    out << line;
    queue_figures total;
    auto row = [&](const std::string& label, const queue_figures& f) {
      auto c = figure_cells(f);
      std::snprintf(line, sizeof line, "  %-24s %8s %8s %9s %13s %7s %7s\n", label.c_str(), c[0].c_str(),
                    c[1].c_str(), c[2].c_str(), c[3].c_str(), c[4].c_str(), c[5].c_str());
      out << line;
    };
    for (auto& [start, f] : buckets) {
      row(events::format_iso8601(start), f);
      total.add(f);
    }
    row("total", total);
    if (auto a = r.announced.find(queue); a != r.announced.end() && a->second.announcements > 0) {
      auto j = announced_to_json(a->second);
      auto pct = [](const nlohmann::json& v) {
        return v.is_null() ? std::string("-") : fixed(v.get<double>() * 100, 0) + "%";
      };
      out << "  announced waits: " << a->second.announcements << ", answered after " << j["compared"]
          << ": median |error| " << pct(j["medianAbsRelError"]) << ", bias " << pct(j["bias"])
          << ", within the 10-90% range " << pct(j["coverage80"]) << "\n";
    }
    if (!total.dispositions.empty()) {
      out << "  dispositions:";
      for (auto& [d, n] : total.dispositions)
        out << ' ' << d << '=' << n;
      out << "\n";
    }
    out << "\n";
  }
  std::snprintf(line, sizeof line, "%-24s %8s %12s %13s %14s\n", "agent", "answered", "talk s",
                "missed offers", "paused s");
  out << line;
  for (auto& [id, ag] : r.agents) {
    std::snprintf(line, sizeof line, "%-24s %8lld %12lld %13lld %14lld\n", id.c_str(),
                  static_cast<long long>(ag.answered), static_cast<long long>(ag.talk_seconds),
                  static_cast<long long>(ag.missed_offers), static_cast<long long>(ag.paused_ms / 1000));
    out << line;
    for (auto& [reason, ms] : ag.paused_ms_by_reason)
      out << "  paused " << reason << ": " << ms / 1000 << " s\n";
  }
  return 0;
}

int run_export(const export_args& a, std::ostream& out, std::ostream& err) {
  export_options o;
  if (auto st = parse_export_format(a.format, &o.format); !st) {
    err << "error: " << st.message() << "\n";
    return 2;
  }
  if (!parse_period(a.from, a.to, &o.from_ms, &o.to_ms, err))
    return 2;
  o.redact_phone = a.redact_phone;
  std::unique_ptr<storage::event_log> log;
  if (!open_log(a.data_dir, a.store, &log, err))
    return 2;
  std::ofstream file;
  std::ostream* sink = &out;
  if (!a.output.empty()) {
    file.open(a.output, std::ios::trunc | std::ios::binary);
    if (!file) {
      err << "error: cannot write " << a.output << "\n";
      return 2;
    }
    sink = &file;
  }
  export_report rep;
  uint64_t total = log->last_seq();
  auto progress = [&](const export_report& r, uint64_t seq) {
    if (a.progress)
      err << "\rexported " << r.events_read << " of " << total << " events (#" << seq << ")" << std::flush;
  };
  auto st = export_log(*log, o, [&](const std::string& chunk) {
    sink->write(chunk.data(), static_cast<std::streamsize>(chunk.size()));
    return static_cast<bool>(*sink);
  }, &rep, progress);
  if (a.progress)
    err << "\r";
  sink->flush();
  if (!st) {
    err << "error: " << st.message() << "\n";
    return 1;
  }
  if (!*sink) {
    err << "error: writing the export failed\n";
    return 1;
  }
  return 0;
}

int run_verify(const verify_args& a, std::ostream& out, std::ostream& err) {
  std::unique_ptr<storage::event_log> log;
  if (!open_log(a.data_dir, a.store, &log, err))
    return 2;
  storage::verify_report rep;
  if (auto st = log->verify(&rep); !st) {
    err << "error: " << st.message() << "\n";
    return 1;
  }
  if (rep.bad_seq != 0) {
    out << "BROKEN at event " << rep.bad_seq << ": " << rep.problem << " (" << rep.events
        << " events before it are intact)\n";
    return 1;
  }
  out << "OK: " << rep.events << " events, integrity chain intact";
  if (rep.head_seq != 0)
    out << ", reaches its recorded end (event " << rep.head_seq << ")";
  out << "\n";
  return 0;
}

int run_snapshot(const snapshot_args& a, std::ostream& out, std::ostream& err) {
  storage::log_options o;
  o.create_if_missing = false;
  std::unique_ptr<storage::event_log> log;
  status st;
  if (!open_store(a.data_dir, a.store, o, &log, err, &st)) {
    if (st)
      return 2;  // neither given: said already
    bool busy = st.message().find("lock") != std::string::npos;
    err << "error: " << st.message()
        << (busy ? " (a server is running on it; it writes its own snapshots)" : "") << "\n";
    return busy ? 1 : 2;
  }
  world state(a.rules);
  snapshot_load sl;
  if (auto st = load_newest_snapshot(*log, a.rules, 0, 0, &state, &sl); !st) {
    err << "error: " << st.message() << "\n";
    return 1;
  }
  for (auto& s : sl.skipped)
    err << "warning: skipped " << s << "\n";
  rebuild_report rr;
  if (auto st = rebuild(*log, state, {}, &rr); !st) {
    err << "error: " << st.message() << "\n";
    return 1;
  }
  if (state.last_seq() == 0) {
    err << "error: the log is empty; there is nothing to snapshot\n";
    return 1;
  }
  events::envelope last;
  if (auto st = log->get(state.last_seq(), &last); !st) {
    err << "error: " << st.message() << "\n";
    return 1;
  }
  if (auto st = write_snapshot(*log, state, last.ev.ts_ms); !st) {
    err << "error: " << st.message() << "\n";
    return 1;
  }
  out << "snapshot written at event " << state.last_seq() << " (" << state.calls().size()
      << " live calls, " << state.agents().size() << " agents; digest " << state.digest() << ")\n";
  return 0;
}

}  // namespace callq::replay
