#include <climits>
#include "app/config.hpp"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "http/signature.hpp"

namespace callq::app {

namespace fs = std::filesystem;

namespace {

const char* const known_keys[] = {
    "CALLQ_BIND", "CALLQ_PORT", "CALLQ_DATA_DIR", "PUBLIC_BASE_URL", "TWILIO_ACCOUNT_SID",
    "TWILIO_AUTH_TOKEN", "TWILIO_API_BASE", "TWILIO_CALLER_ID", "CALLQ_ADMIN_TOKEN",
    "CALLQ_VIEWER_TOKEN", "CALLQ_STREAM_MAX", "CALLQ_STORE", "CALLQ_LEADER_LEASE",
    "AGENT_HEARTBEAT_INTERVAL", "AGENT_HEARTBEAT_TIMEOUT", "QUEUE_POLLING_INTERVAL",
    "MAX_QUEUE_WAIT_TIME", "POSITION_ANNOUNCE_INTERVAL", "OFFER_TIMEOUT", "MAX_OFFER_ATTEMPTS",
    "ESCALATE_AFTER_FAILED_OFFERS", "AGENT_MAX_NO_ANSWER", "WRAP_UP_TIME", "CALLBACK_SLA",
    "HOLD_MUSIC_URL", "FEATURE_AGENT_HEARTBEAT", "FEATURE_DEVICE_CONNECTIVITY",
    "FEATURE_ENHANCED_DISCOVERY", "FEATURE_ENHANCED_QUEUE", "FEATURE_QUEUE_HOLD_MUSIC",
    "FEATURE_QUEUE_POSITION_UPDATES", "FEATURE_AGENT_POLLING", "FEATURE_MULTI_AGENT_FALLBACK",
    "FEATURE_CALLBACK_REQUEST_SYSTEM", "CALLQ_VIRTUAL_CLOCK", "CALLQ_HTTP_THREADS",
    "CALLQ_HTTP_HEADER_TIMEOUT", "CALLQ_HTTP_BODY_TIMEOUT", "CALLQ_HTTP_IDLE_TIMEOUT",
    "CALLQ_HTTP_WRITE_TIMEOUT", "CALLQ_HTTP_MAX_HEADER_BYTES", "CALLQ_HTTP_MAX_BODY_BYTES",
    "CALLQ_HTTP_MAX_CONNECTIONS", "CALLQ_HTTP_MAX_CONNECTIONS_PER_ADDRESS",
    "CALLQ_HTTP_MAX_BUFFERED_BYTES", "CALLQ_HTTP_LINGER", "IDEMPOTENCY_TTL", "CALLQ_SNAPSHOT_EVERY_EVENTS",
    "CALLQ_DISK_LOW", "CALLQ_DISK_RESERVE", "CALLQ_OVERLOAD_LAG", "CALLQ_PASSIVATE_AFTER", "CALLQ_SCHEDULER_THREADS",
    "CALLQ_SCHEDULER_POLICY", "CALLQ_SCHEDULER_MAX_THROUGHPUT", "TWILIO_API_KEY_SID",
    "TWILIO_API_KEY_SECRET", "TWILIO_TWIML_APP_SID", "AGENT_VOICE_TOKEN_TTL", "AGENT_PAUSE_REASONS", "TTS_URL", "TTS_AUTH", "TTS_SPLICE"};

const char* const default_hold_music =
    "http://com.twilio.music.classical.s3.amazonaws.com/BusyStrings.mp3";

std::string upper(std::string s) {
  for (auto& c : s)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

std::string trim_slash(std::string s) {
  while (!s.empty() && s.back() == '/')
    s.pop_back();
  return s;
}

status bad(const std::string& key, const std::string& value, const std::string& expected) {
  return status::invalid_argument("invalid value for " + key + ": '" + value + "' (expected " +
                                  expected + ")");
}

}  // namespace

status parse_duration_ms(const std::string& text, int64_t* ms) {
  size_t i = 0;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.'))
    ++i;
  std::string number = text.substr(0, i), unit = text.substr(i);
  if (number.empty() || std::count(number.begin(), number.end(), '.') > 1 || number == ".")
    return status::invalid_argument("not a duration");
  double v = std::stod(number);
  double factor = 0;
  if (unit.empty() || unit == "s")
    factor = 1000;
  else if (unit == "ms")
    factor = 1;
  else if (unit == "m")
    factor = 60'000;
  else if (unit == "h")
    factor = 3'600'000;
  else
    return status::invalid_argument("unknown duration unit");
  *ms = static_cast<int64_t>(v * factor + 0.5);
  return status::ok();
}

status parse_bool(const std::string& text, bool* out) {
  std::string t = upper(text);
  if (t == "TRUE" || t == "1" || t == "YES" || t == "ON")
    *out = true;
  else if (t == "FALSE" || t == "0" || t == "NO" || t == "OFF")
    *out = false;
  else
    return status::invalid_argument("not a boolean");
  return status::ok();
}

status load_config(const std::map<std::string, std::string>& env, const flag_values& flags,
                   server_config* out) {
  std::map<std::string, std::string> v;
  for (const char* k : known_keys)
    if (auto i = env.find(k); i != env.end())
      v[k] = i->second;
  if (flags.config_file) {
    std::ifstream in(*flags.config_file);
    if (!in)
      return status::invalid_argument("cannot read config file " + *flags.config_file);
    nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
    if (j.is_discarded() || !j.is_object())
      return status::invalid_argument("config file " + *flags.config_file + " is not a JSON object");
    for (auto& [key, value] : j.items()) {
      std::string k = upper(key);
      if (std::find(std::begin(known_keys), std::end(known_keys), k) == std::end(known_keys))
        return status::invalid_argument("unknown key '" + key + "' in config file " + *flags.config_file);
      if (value.is_string())
        v[k] = value.get<std::string>();
      else if (value.is_number() || value.is_boolean())
        v[k] = value.dump();
      else
        return status::invalid_argument("config key '" + key + "' must be a string, number or boolean");
    }
  }
  if (flags.bind) v["CALLQ_BIND"] = *flags.bind;
  if (flags.port) v["CALLQ_PORT"] = std::to_string(*flags.port);
  if (flags.data_dir) v["CALLQ_DATA_DIR"] = *flags.data_dir;
  if (flags.store) v["CALLQ_STORE"] = *flags.store;

  server_config c;
  auto get = [&](const char* k, const std::string& def) {
    auto i = v.find(k);
    return i == v.end() ? def : i->second;
  };
  auto duration = [&](const char* k, int64_t def, int64_t* target) -> status {
    auto i = v.find(k);
    if (i == v.end()) {
      *target = def;
      return status::ok();
    }
    if (!parse_duration_ms(i->second, target))
      return bad(k, i->second, "a duration such as 30, 30s, 250ms or 10m");
    return status::ok();
  };
  auto integer = [&](const char* k, int64_t def, int64_t lo, int64_t hi, int64_t* target) -> status {
    auto i = v.find(k);
    if (i == v.end()) {
      *target = def;
      return status::ok();
    }
    const std::string& s = i->second;
    if (s.empty() || s.size() > 9 || !std::all_of(s.begin(), s.end(), [](char ch) { return std::isdigit(static_cast<unsigned char>(ch)); }))
      return bad(k, s, "a whole number from " + std::to_string(lo) + " to " + std::to_string(hi));
    *target = std::stoll(s);
    if (*target < lo || *target > hi)
      return bad(k, s, "a whole number from " + std::to_string(lo) + " to " + std::to_string(hi));
    return status::ok();
  };
  policy& rules = c.runtime.rules;
  // true/false, or a share of traffic "25%" (README, "Feature flags by
  // share of traffic"): 0% is off, 100% on, anything between is decided
  // per call.
  auto flag = [&](const char* k, bool* target) -> status {
    *target = true;
    rules.feature_shares.erase(k);
    auto i = v.find(k);
    if (i == v.end())
      return status::ok();
    const std::string& text = i->second;
    if (!text.empty() && text.back() == '%') {
      std::string digits = text.substr(0, text.size() - 1);
      int64_t share = -1;
      if (!digits.empty() && digits.size() <= 3 &&
          std::all_of(digits.begin(), digits.end(), [](char ch) { return ch >= '0' && ch <= '9'; }))
        share = std::stoll(digits);
      if (share < 0 || share > 100)
        return bad(k, text, "true, false or a share from 0% to 100%");
      *target = share > 0;
      if (share > 0 && share < 100)
        rules.feature_shares[k] = share;
      return status::ok();
    }
    if (!parse_bool(text, target))
      return bad(k, text, "true, false or a share such as 25%");
    return status::ok();
  };
  auto url = [&](const char* k, const std::string& def, std::string* target) -> status {
    *target = trim_slash(get(k, def));
    if (target->rfind("http://", 0) != 0 && target->rfind("https://", 0) != 0)
      return bad(k, *target, "an http:// or https:// URL");
    return status::ok();
  };

  policy& p = c.runtime.rules;
  status st;
#define CALLQ_TRY(expr) \
  if (!(st = (expr)))   \
    return st;
  c.http.bind = get("CALLQ_BIND", "127.0.0.1");
  if (c.http.bind.empty())
    return bad("CALLQ_BIND", "", "an address to listen on");
  int64_t port = 0;
  CALLQ_TRY(integer("CALLQ_PORT", 8080, 0, 65535, &port));
  c.http.port = static_cast<int>(port);
  c.runtime.data_dir = c.http.data_dir = get("CALLQ_DATA_DIR", "./callq-data");
  if (c.runtime.data_dir.empty())
    return bad("CALLQ_DATA_DIR", "", "a directory");
  c.runtime.store = get("CALLQ_STORE", "");
  CALLQ_TRY(duration("CALLQ_LEADER_LEASE", 5'000, &c.leader_lease_ms));
  if (c.leader_lease_ms < 1'000)
    return bad("CALLQ_LEADER_LEASE", get("CALLQ_LEADER_LEASE", ""), "at least 1s");
  if (!c.runtime.store.empty() && !storage::event_log::is_postgres_url(c.runtime.store))
    return bad("CALLQ_STORE", c.runtime.store,
               "empty (the RocksDB log in CALLQ_DATA_DIR) or a postgresql:// URL");
  CALLQ_TRY(url("PUBLIC_BASE_URL", "http://localhost:8080", &c.http.public_base_url));
  CALLQ_TRY(url("TWILIO_API_BASE", "https://api.twilio.com", &c.runtime.gateway.api_base));
  if (!get("TTS_URL", "").empty())
    CALLQ_TRY(url("TTS_URL", "", &c.http.tts.url));
  c.http.tts.auth = get("TTS_AUTH", "");
  if (auto i = v.find("TTS_SPLICE"); i != v.end() && !parse_bool(i->second, &c.http.twiml.splice))
    return bad("TTS_SPLICE", i->second, "true or false");
  c.runtime.gateway.account_sid = get("TWILIO_ACCOUNT_SID", "");
  c.runtime.gateway.auth_token = c.http.twilio_auth_token = get("TWILIO_AUTH_TOKEN", "");
  c.runtime.gateway.caller_id = c.http.twiml.caller_id = get("TWILIO_CALLER_ID", "");
  c.runtime.gateway.public_base_url = c.http.twiml.public_base_url = c.http.public_base_url;
  c.http.admin_token = get("CALLQ_ADMIN_TOKEN", "");
  c.admin_token_from_env = !c.http.admin_token.empty();
  c.http.viewer_token = get("CALLQ_VIEWER_TOKEN", "");

  CALLQ_TRY(duration("AGENT_HEARTBEAT_INTERVAL", 30'000, &p.heartbeat_interval_ms));
  CALLQ_TRY(duration("AGENT_HEARTBEAT_TIMEOUT", 2 * p.heartbeat_interval_ms, &p.heartbeat_timeout_ms));
  CALLQ_TRY(duration("QUEUE_POLLING_INTERVAL", 10'000, &p.polling_interval_ms));
  CALLQ_TRY(duration("MAX_QUEUE_WAIT_TIME", 600'000, &p.max_queue_wait_ms));
  CALLQ_TRY(duration("POSITION_ANNOUNCE_INTERVAL", 30'000, &p.announce_interval_ms));
  CALLQ_TRY(duration("OFFER_TIMEOUT", 20'000, &p.offer_timeout_ms));
  CALLQ_TRY(duration("WRAP_UP_TIME", 15'000, &p.wrap_up_ms));
  CALLQ_TRY(duration("CALLBACK_SLA", 1'800'000, &p.callback_sla_ms));
  if (p.heartbeat_interval_ms <= 0)
    return bad("AGENT_HEARTBEAT_INTERVAL", get("AGENT_HEARTBEAT_INTERVAL", ""), "a duration above zero");
  if (p.heartbeat_timeout_ms < p.heartbeat_interval_ms)
    return bad("AGENT_HEARTBEAT_TIMEOUT", get("AGENT_HEARTBEAT_TIMEOUT", ""),
               "a duration of at least AGENT_HEARTBEAT_INTERVAL");
  if (p.offer_timeout_ms < 1000 || p.offer_timeout_ms > 600'000)
    return bad("OFFER_TIMEOUT", get("OFFER_TIMEOUT", ""), "a duration from 1s to 600s");
  if (p.polling_interval_ms < 100)
    return bad("QUEUE_POLLING_INTERVAL", get("QUEUE_POLLING_INTERVAL", ""), "a duration of at least 100ms");
  if (p.announce_interval_ms <= 0)
    return bad("POSITION_ANNOUNCE_INTERVAL", get("POSITION_ANNOUNCE_INTERVAL", ""), "a duration above zero");
  CALLQ_TRY(integer("MAX_OFFER_ATTEMPTS", 3, 1, 100, &p.max_offer_attempts));
  CALLQ_TRY(integer("ESCALATE_AFTER_FAILED_OFFERS", 2, 0, 100, &p.escalate_after_failed_offers));
  CALLQ_TRY(integer("AGENT_MAX_NO_ANSWER", 3, 0, 100, &p.agent_max_no_answer));
  c.http.twiml.hold_music_url = get("HOLD_MUSIC_URL", default_hold_music);
  c.http.twiml.offer_timeout_seconds = std::max<int64_t>(1, p.offer_timeout_ms / 1000);

  CALLQ_TRY(flag("FEATURE_AGENT_HEARTBEAT", &p.feature_agent_heartbeat));
  CALLQ_TRY(flag("FEATURE_DEVICE_CONNECTIVITY", &p.feature_device_connectivity));
  CALLQ_TRY(flag("FEATURE_ENHANCED_DISCOVERY", &p.feature_enhanced_discovery));
  CALLQ_TRY(flag("FEATURE_ENHANCED_QUEUE", &p.feature_enhanced_queue));
  CALLQ_TRY(flag("FEATURE_QUEUE_HOLD_MUSIC", &p.feature_queue_hold_music));
  CALLQ_TRY(flag("FEATURE_QUEUE_POSITION_UPDATES", &p.feature_queue_position_updates));
  CALLQ_TRY(flag("FEATURE_AGENT_POLLING", &p.feature_agent_polling));
  CALLQ_TRY(flag("FEATURE_MULTI_AGENT_FALLBACK", &p.feature_multi_agent_fallback));
  CALLQ_TRY(flag("FEATURE_CALLBACK_REQUEST_SYSTEM", &p.feature_callback_request_system));
  c.http.twiml.hold_music = p.feature_queue_hold_music;

  // The agent page (README, "Agent page").
  auto& voice = c.http.voice;
  voice.account_sid = c.runtime.gateway.account_sid;
  voice.api_key_sid = get("TWILIO_API_KEY_SID", "");
  voice.api_key_secret = get("TWILIO_API_KEY_SECRET", "");
  voice.twiml_app_sid = get("TWILIO_TWIML_APP_SID", "");
  int64_t ttl_ms = 0;
  CALLQ_TRY(duration("AGENT_VOICE_TOKEN_TTL", 3'600'000, &ttl_ms));
  if (ttl_ms < 1000 || ttl_ms > 86'400'000)
    return bad("AGENT_VOICE_TOKEN_TTL", get("AGENT_VOICE_TOKEN_TTL", ""), "a duration from 1s to 24h");
  voice.ttl_seconds = ttl_ms / 1000;
  if (v.count("AGENT_PAUSE_REASONS")) {
    std::vector<std::string> reasons;
    std::string list = v["AGENT_PAUSE_REASONS"], word;
    for (size_t at = 0; at <= list.size(); ++at) {
      if (at < list.size() && list[at] != ',') {
        word.push_back(list[at]);
        continue;
      }
      while (!word.empty() && word.back() == ' ')
        word.pop_back();
      while (!word.empty() && word.front() == ' ')
        word.erase(word.begin());
      bool ok = !word.empty() && word.size() <= 64;
      for (unsigned char ch : word)
        ok = ok && ch >= 0x20 && ch != 0x7f;
      if (!ok)
        return bad("AGENT_PAUSE_REASONS", list,
                   "a comma-separated list of reasons of 1-64 characters each");
      if (std::find(reasons.begin(), reasons.end(), word) == reasons.end())
        reasons.push_back(word);
      word.clear();
    }
    c.http.pause_reasons = std::move(reasons);
  }

  bool virtual_clock = false;
  if (v.count("CALLQ_VIRTUAL_CLOCK") && !parse_bool(v["CALLQ_VIRTUAL_CLOCK"], &virtual_clock))
    return bad("CALLQ_VIRTUAL_CLOCK", v["CALLQ_VIRTUAL_CLOCK"], "true or false");
  c.runtime.virtual_clock = c.http.virtual_clock = virtual_clock;
  // The front door's limits on clients (README, "Limits on clients").
  auto& lim = c.http.limits;
  int64_t n = 0;
  CALLQ_TRY(integer("CALLQ_HTTP_THREADS", 64, 2, 1024, &n));
  lim.threads = static_cast<int>(n);
  // The actor scheduler (README, "Supervision and overload": chosen by measurement).
  CALLQ_TRY(integer("CALLQ_SCHEDULER_THREADS", 2, 1, 64, &n));
  c.runtime.scheduler_threads = static_cast<int>(n);
  CALLQ_TRY(integer("CALLQ_SCHEDULER_MAX_THROUGHPUT", 0, 0, 1'000'000, &n));
  c.runtime.scheduler_max_throughput = static_cast<size_t>(n);
  if (std::string policy = get("CALLQ_SCHEDULER_POLICY", "sharing"); policy == "stealing")
    c.runtime.scheduler_stealing = true;
  else if (policy != "sharing")
    return bad("CALLQ_SCHEDULER_POLICY", policy, "sharing or stealing");
  CALLQ_TRY(integer("CALLQ_STREAM_MAX", 0, 0, 1024, &n));
  c.http.max_streams = static_cast<int>(n);
  auto timeout = [&](const char* k, int64_t def, int64_t* target) -> status {
    CALLQ_TRY(duration(k, def, target));
    if (*target < 100 || *target > 3'600'000)
      return bad(k, get(k, ""), "a duration from 100ms to 1h");
    return status::ok();
  };
  CALLQ_TRY(timeout("CALLQ_HTTP_HEADER_TIMEOUT", 5'000, &lim.header_timeout_ms));
  CALLQ_TRY(timeout("CALLQ_HTTP_BODY_TIMEOUT", 10'000, &lim.body_timeout_ms));
  CALLQ_TRY(timeout("CALLQ_HTTP_IDLE_TIMEOUT", 5'000, &lim.idle_timeout_ms));
  CALLQ_TRY(timeout("CALLQ_HTTP_WRITE_TIMEOUT", 10'000, &lim.write_timeout_ms));
  CALLQ_TRY(duration("CALLQ_HTTP_LINGER", 20, &lim.linger_ms));
  if (lim.linger_ms < 0 || lim.linger_ms > 1'000)
    return bad("CALLQ_HTTP_LINGER", get("CALLQ_HTTP_LINGER", ""), "a duration from 0 to 1s");
  auto count = [&](const char* k, int64_t def, int64_t lo, int64_t hi, size_t* target) -> status {
    CALLQ_TRY(integer(k, def, lo, hi, &n));
    *target = static_cast<size_t>(n);
    return status::ok();
  };
  CALLQ_TRY(count("CALLQ_HTTP_MAX_HEADER_BYTES", 16 * 1024, 1024, 1 << 20, &lim.max_header_bytes));
  CALLQ_TRY(count("CALLQ_HTTP_MAX_BODY_BYTES", 1 << 20, 1024, 64 << 20, &lim.max_body_bytes));
  CALLQ_TRY(count("CALLQ_HTTP_MAX_CONNECTIONS", 10000, 16, 1'000'000, &lim.max_connections));
  CALLQ_TRY(count("CALLQ_HTTP_MAX_CONNECTIONS_PER_ADDRESS", 256, 1, 1'000'000,
                  &lim.max_connections_per_address));
  CALLQ_TRY(count("CALLQ_HTTP_MAX_BUFFERED_BYTES", 256 << 20, 1 << 20, 999'999'999,
                  &lim.max_buffered_bytes));
  c.http.default_queue = p.default_queue;

  // A server that runs for years (README, "Snapshots, retention and a full disk").
  CALLQ_TRY(duration("IDEMPOTENCY_TTL", 24LL * 3600 * 1000, &c.runtime.idempotency_ttl_ms));
  if (c.runtime.idempotency_ttl_ms < 60'000)
    return bad("IDEMPOTENCY_TTL", get("IDEMPOTENCY_TTL", ""),
               "a duration of at least 1m (Twilio retries within minutes)");
  // Overload (README, "Overload is refused, not absorbed"); 0 turns it off.
  CALLQ_TRY(duration("CALLQ_OVERLOAD_LAG", 50, &c.runtime.overload_lag_ms));
  // Passivation of idle waiting calls (README, "Design", "Passivation"); 0 turns it off.
  CALLQ_TRY(duration("CALLQ_PASSIVATE_AFTER", 2000, &c.runtime.passivate_after_ms));
  CALLQ_TRY(integer("CALLQ_SNAPSHOT_EVERY_EVENTS", 100'000, 0, 100'000'000, &n));
  c.runtime.snapshot_every_events = static_cast<uint64_t>(n);
  auto size = [&](const char* k, int64_t def, int64_t* target) -> status {
    auto i = v.find(k);
    if (i == v.end()) {
      *target = def;
      return status::ok();
    }
    if (!parse_size_bytes(i->second, target))
      return bad(k, i->second, "a size such as 1073741824, 512MiB or 1GiB");
    return status::ok();
  };
  CALLQ_TRY(size("CALLQ_DISK_LOW", 1LL << 30, &c.runtime.disk.low_bytes));
  CALLQ_TRY(size("CALLQ_DISK_RESERVE", 64LL << 20, &c.runtime.disk.reserve_bytes));
  c.runtime.disk.floor_bytes = std::min<int64_t>(8LL << 20, c.runtime.disk.reserve_bytes / 2);
  if (c.runtime.disk.reserve_bytes > c.runtime.disk.low_bytes)
    return bad("CALLQ_DISK_RESERVE", get("CALLQ_DISK_RESERVE", ""), "a size no larger than CALLQ_DISK_LOW");
#undef CALLQ_TRY
  *out = std::move(c);
  return status::ok();
}

status parse_size_bytes(const std::string& text, int64_t* bytes) {
  size_t i = 0;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])))
    ++i;
  if (i == 0 || i > 15)
    return status::invalid_argument("not a size: " + text);
  int64_t n = std::stoll(text.substr(0, i));
  std::string unit = text.substr(i);
  static const std::pair<const char*, int> units[] = {
      {"", 0}, {"B", 0}, {"K", 10}, {"KiB", 10}, {"M", 20}, {"MiB", 20}, {"G", 30}, {"GiB", 30},
      {"T", 40}, {"TiB", 40}};
  for (auto [name, shift] : units)
    if (unit == name) {
      if (n > (INT64_MAX >> shift))
        return status::invalid_argument("size too large: " + text);
      *bytes = n << shift;
      return status::ok();
    }
  return status::invalid_argument("unknown size unit in " + text);
}

status ensure_admin_token(const std::string& data_dir, std::string* token, std::string* path) {
  std::error_code ec;
  fs::create_directories(data_dir, ec);
  *path = (fs::path(data_dir) / "admin-token").string();
  if (std::ifstream in(*path); in) {
    std::getline(in, *token);
    if (!token->empty())
      return status::ok();
  }
  *token = http::random_token();
  {
    std::ofstream out(*path, std::ios::trunc);
    if (!out)
      return status::io_error("cannot write " + *path);
    out << *token << '\n';
  }
  if (chmod(path->c_str(), 0600) != 0)
    return status::io_error("cannot set mode 0600 on " + *path);
  return status::ok();
}

}  // namespace callq::app
