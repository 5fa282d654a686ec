// `callq simulate` and `callq staffing` (commands.hpp).
#include <fstream>
#include <iomanip>
#include <ostream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "events/codec.hpp"
#include "replay/command_support.hpp"
#include "replay/commands.hpp"
#include "replay/what_if.hpp"

namespace callq::replay {

namespace {

using nlohmann::json;

/// The period and interval of a what-if command: both ends required.
bool parse_what_if_period(const std::string& from, const std::string& to, const std::string& interval,
                          report_options* o, std::ostream& err) {
  if (from.empty() || to.empty()) {
    err << "error: --from and --to are required (ISO 8601)\n";
    return false;
  }
  if (auto st = parse_report_options(from, to, interval, "", o); !st) {
    err << "error: --" << st.message() << "\n";
    return false;
  }
  return true;
}

bool read_file(const std::string& path, const char* flag, std::string* out, std::ostream& err) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    err << "error: " << flag << ": cannot read " << path << "\n";
    return false;
  }
  std::ostringstream s;
  s << in.rdbuf();
  *out = s.str();
  return true;
}

bool valid_format(const std::string& f, std::ostream& err) {
  if (f == "table" || f == "csv" || f == "json")
    return true;
  err << "error: --format must be table, csv or json, not '" << f << "'\n";
  return false;
}

/// A failed run's exit code: 2 for bad input, 1 for anything else.
int fail(const status& st, std::ostream& err) {
  err << "error: " << st.message() << "\n";
  return st.error_code() == status::code::invalid_argument ? 2 : 1;
}

std::string cell(const json& v, int digits, double scale = 1, const char* unit = "") {
  return v.is_null() ? std::string("-") : fixed(v.get<double>() * scale, digits) + unit;
}

/// Table or CSV of actual beside simulated.
void print_comparison(const json& j, bool csv, std::ostream& out) {
  static const char* names[] = {"offered", "answered", "abandoned", "serviceLevel", "asaSeconds", "ahtSeconds",
                                "occupancy"};
  auto value = [&](const json& f, int k, bool for_csv) -> std::string {
    const json& v = f[names[k]];
    if (k < 3)
      return std::to_string(v.get<int64_t>());
    if (k == 3 || k == 6)
      return for_csv ? (v.is_null() ? std::string() : fixed(v.get<double>(), 4)) : cell(v, 1, 100, "%");
    return fixed(v.get<double>(), 1);
  };
  if (csv) {
    out << "queue,start";
    for (auto* n : {"offered", "answered", "abandoned", "service_level", "asa_seconds", "aht_seconds", "occupancy"})
      out << ",actual_" << n << ",simulated_" << n;
    out << "\n";
    for (auto& q : j["queues"]) {
      auto row = [&](const std::string& start, const json& a, const json& s) {
        out << q["queue"].get<std::string>() << ',' << start;
        for (int k = 0; k < 7; ++k)
          out << ',' << value(a, k, true) << ',' << value(s, k, true);
        out << "\n";
      };
      for (auto& i : q["intervals"])
        row(i["start"].get<std::string>(), i["actual"], i["simulated"]);
      row("total", q["total"]["actual"], q["total"]["simulated"]);
    }
    return;
  }
  out << "simulated " << j["from"].get<std::string>() << " to " << j["to"].get<std::string>() << ", staffing: "
      << j["staffing"].get<std::string>() << ", seed " << j["seed"] << "; each cell: actual / simulated\n";
  out << std::left << std::setw(12) << "queue" << std::setw(22) << "start";
  for (auto* h : {"offered", "answered", "abandoned", "service level", "ASA s", "AHT s", "occupancy"})
    out << std::setw(17) << h;
  out << "\n";
  for (auto& q : j["queues"]) {
    auto row = [&](const std::string& start, const json& a, const json& s) {
      out << std::setw(12) << q["queue"].get<std::string>() << std::setw(22) << start;
      for (int k = 0; k < 7; ++k)
        out << std::setw(17) << (value(a, k, false) + " / " + value(s, k, false));
      out << "\n";
    };
    for (auto& i : q["intervals"])
      row(i["start"].get<std::string>(), i["actual"], i["simulated"]);
    row("total", q["total"]["actual"], q["total"]["simulated"]);
  }
}

}  // namespace

int run_simulate(const simulate_args& a, std::ostream& out, std::ostream& err) {
  if (!valid_format(a.format, err))
    return 2;
  report_options o;
  if (!parse_what_if_period(a.from, a.to, a.interval, &o, err))
    return 2;
  what_if w;
  w.seed = a.seed;
  if (!a.staffing.empty() && !read_file(a.staffing, "--staffing", &w.staffing_json, err))
    return 2;
  if (!a.queues.empty() && !read_file(a.queues, "--queues", &w.queues_json, err))
    return 2;
  std::unique_ptr<storage::event_log> log;
  if (!open_log(a.data_dir, a.store, &log, err))
    return 2;
  what_if_result r;
  if (auto st = simulate_period(*log, a.rules, o, w, &r); !st)
    return fail(st, err);
  json j = what_if_to_json(r, a.seed);
  if (a.format == "json")
    out << j.dump(2) << "\n";
  else
    print_comparison(j, a.format == "csv", out);
  return 0;
}

int run_staffing(const staffing_args& a, std::ostream& out, std::ostream& err) {
  if (!valid_format(a.format, err))
    return 2;
  double ratio = 0;
  int64_t seconds = 0;
  if (auto st = parse_target(a.target, &ratio, &seconds); !st) {
    err << "error: --" << st.message() << "\n";
    return 2;
  }
  report_options o;
  if (!parse_what_if_period(a.from, a.to, a.interval, &o, err))
    return 2;
  o.service_level_seconds = seconds;
  std::unique_ptr<storage::event_log> log;
  if (!open_log(a.data_dir, a.store, &log, err))
    return 2;
  history past;
  if (auto st = read_history(*log, a.rules, o, &past); !st)
    return fail(st, err);
  std::vector<staffing_row> rows;
  if (auto st = plan_staffing(past, a.rules, o, ratio, seconds, a.seed, &rows); !st)
    return fail(st, err);
  auto sl = [](double v) { return v < 0 ? json(nullptr) : json(v); };
  json list = json::array();
  for (auto& r : rows)
    list.push_back({{"queue", r.queue},
                    {"start", events::format_iso8601(r.start)},
                    {"offered", r.offered},
                    {"ahtSeconds", r.aht_s},
                    {"handleSeconds", r.load.handle_s},
                    {"patienceSeconds", r.load.patience_s > 0 ? json(r.load.patience_s) : json(nullptr)},
                    {"agents", r.needed.agents},
                    {"erlangServiceLevel", r.needed.service_level},
                    {"erlangAbandonRate", r.needed.abandon_probability},
                    {"simulatedServiceLevel", sl(r.simulated_service_level)},
                    {"actualServiceLevel", sl(r.actual_service_level)}});
  json j = {{"from", events::format_iso8601(o.from_ms)},
            {"to", events::format_iso8601(o.to_ms)},
            {"interval", interval_name(o.interval)},
            {"target", {{"ratio", ratio}, {"seconds", seconds}}},
            {"model", "Erlang A (Erlang C where nobody gave up)"},
            {"seed", a.seed},
            {"intervals", list}};
  if (a.format == "json") {
    out << j.dump(2) << "\n";
    return 0;
  }
  auto pct = [](const json& v) { return v.is_null() ? std::string("-") : fixed(v.get<double>() * 100, 1) + "%"; };
  if (a.format == "csv") {
    out << "queue,start,offered,aht_seconds,handle_seconds,patience_seconds,agents,erlang_service_level,"
           "simulated_service_level,actual_service_level\n";
    auto num = [](const json& v) { return v.is_null() ? std::string() : fixed(v.get<double>(), 4); };
    for (auto& r : list)
      out << r["queue"].get<std::string>() << ',' << r["start"].get<std::string>() << ',' << r["offered"] << ','
          << fixed(r["ahtSeconds"].get<double>(), 1) << ',' << fixed(r["handleSeconds"].get<double>(), 1) << ','
          << num(r["patienceSeconds"]) << ',' << r["agents"]
          << ',' << num(r["erlangServiceLevel"]) << ',' << num(r["simulatedServiceLevel"]) << ','
          << num(r["actualServiceLevel"]) << "\n";
    return 0;
  }
  out << "agents needed for " << fixed(ratio * 100, 0) << "% answered within " << seconds
      << " s (Erlang A; Erlang C where nobody gave up; handle = AHT + ring + wrap-up), with callq simulate's "
         "service level beside it\n";
  out << std::left << std::setw(12) << "queue" << std::setw(22) << "start" << std::setw(9) << "offered"
      << std::setw(8) << "AHT s" << std::setw(10) << "handle s" << std::setw(11) << "patience s" << std::setw(8) << "agents" << std::setw(11)
      << "Erlang SL" << std::setw(14) << "simulated SL" << "actual SL\n";
  for (auto& r : list)
    out << std::setw(12) << r["queue"].get<std::string>() << std::setw(22) << r["start"].get<std::string>()
        << std::setw(9) << r["offered"] << std::setw(8) << fixed(r["ahtSeconds"].get<double>(), 0) << std::setw(10)
        << fixed(r["handleSeconds"].get<double>(), 0) << std::setw(11)
        << (r["patienceSeconds"].is_null() ? std::string("-") : fixed(r["patienceSeconds"].get<double>(), 0))
        << std::setw(8) << r["agents"] << std::setw(11) << pct(r["erlangServiceLevel"]) << std::setw(14)
        << pct(r["simulatedServiceLevel"]) << pct(r["actualServiceLevel"]) << "\n";
  return 0;
}

}  // namespace callq::replay
