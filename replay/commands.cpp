#include "replay/commands.hpp"

#include <fstream>
#include <iostream>
#include <map>

#include <nlohmann/json.hpp>

#include "events/codec.hpp"
#include "replay/export.hpp"
#include "replay/rebuild.hpp"
#include "replay/status_json.hpp"
#include "replay/timeline.hpp"

namespace callq::replay {

namespace {

bool open_log(const std::string& data_dir, std::unique_ptr<storage::event_log>* log,
              std::ostream& err) {
  if (data_dir.empty()) {
    err << "error: --data-dir is required\n";
    return false;
  }
  storage::log_options o;
  o.read_only = true;
  if (auto st = storage::event_log::open_data_dir(data_dir, o, log); !st) {
    err << "error: " << st.message() << "\n";
    return false;
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
  if (!open_log(a.data_dir, &log, err))
    return 2;

  if (!a.call_sid.empty() || !a.agent_id.empty()) {
    std::string stream = a.call_sid.empty() ? "agent/" + a.agent_id : "call/" + a.call_sid;
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
  uint64_t snapshots = 0, other_format = 0;
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
  after_apply_fn check;
  if (a.verify) {
    check = [&](const events::envelope& e, const world& w) {
      auto i = recorded.find(e.seq);
      if (i == recorded.end())
        return status::ok();
      std::string rebuilt = w.digest();
      if (rebuilt != i->second)
        return status::corruption("state diverges at event " + std::to_string(e.seq) +
                                  ": rebuilt digest " + rebuilt + ", recorded " + i->second);
      ++snapshots;
      return status::ok();
    };
  }
  if (auto st = rebuild(*log, state, limit, &rr, check); !st) {
    err << "error: " << st.message() << "\n";
    return 1;
  }
  if (a.verify) {
    out << "verified: " << rr.events << " events replayed, " << snapshots
        << " recorded state digests match" << (snapshots + other_format == 0 ? " (the log has none yet)" : "");
    if (other_format > 0)
      out << ", " << other_format << " recorded in another digest format not compared";
    out << "\n";
    return 0;
  }
  print_state(state, rr, a.json, out);
  return 0;
}

int run_export(const export_args& a, std::ostream& out, std::ostream& err) {
  export_options o;
  if (auto st = parse_export_format(a.format, &o.format); !st) {
    err << "error: " << st.message() << "\n";
    return 2;
  }
  for (auto [text, target, name] : {std::tuple{&a.from, &o.from_ms, "--from"}, std::tuple{&a.to, &o.to_ms, "--to"}}) {
    if (text->empty())
      continue;
    if (auto st = events::parse_iso8601(*text, target); !st) {
      err << "error: " << name << ": " << st.message() << "\n";
      return 2;
    }
  }
  o.redact_phone = a.redact_phone;
  std::unique_ptr<storage::event_log> log;
  if (!open_log(a.data_dir, &log, err))
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
  if (!open_log(a.data_dir, &log, err))
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
  out << "OK: " << rep.events << " events, integrity chain intact\n";
  return 0;
}

}  // namespace callq::replay
