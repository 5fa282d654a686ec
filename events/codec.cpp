#include "events/codec.hpp"

#include <cstdio>
#include <ctime>
#include <unordered_map>

namespace callq::events {

// ------------------------------------------------------------ primitives --

void put_varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

void put_string(std::string& out, std::string_view s) {
  put_varint(out, s.size());
  out.append(s.data(), s.size());
}

bool get_varint(std::string_view& in, uint64_t* v) {
  uint64_t result = 0;
  for (int shift = 0; shift <= 63 && !in.empty(); shift += 7) {
    auto byte = static_cast<unsigned char>(in.front());
    in.remove_prefix(1);
    result |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) {
      *v = result;
      return true;
    }
  }
  return false;
}

bool get_string(std::string_view& in, std::string_view* s) {
  uint64_t n = 0;
  if (!get_varint(in, &n) || n > in.size())
    return false;
  *s = in.substr(0, n);
  in.remove_prefix(n);
  return true;
}

namespace {

uint64_t zigzag(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
int64_t unzigzag(uint64_t v) {
  return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1);
}

// ------------------------------------------------------ field visitors --

struct binary_writer {
  std::string& out;
  void operator()(const char*, std::string& v) { put_string(out, v); }
  void operator()(const char*, int64_t& v) { put_varint(out, zigzag(v)); }
  void operator()(const char*, bool& v) { out.push_back(v ? 1 : 0); }
  void operator()(const char*, string_list& v) {
    put_varint(out, v.size());
    for (auto& s : v)
      put_string(out, s);
  }
  void operator()(const char*, level_map& v) {
    put_varint(out, v.size());
    for (auto& [k, n] : v) {
      put_string(out, k);
      put_varint(out, zigzag(n));
    }
  }
  void operator()(const char*, flag_set& v) {
    put_varint(out, v.size());
    v.for_each([&](std::string_view k, int64_t n) {
      put_string(out, k);
      put_varint(out, zigzag(n));
    });
  }
};

struct binary_reader {
  std::string_view in;
  bool ok = true;
  /// Schema evolution: fields are only ever appended, so a payload of an
  /// older schema may end before the newest fields; they keep defaults.
  bool older_schema = false;
  bool missing_tail() const { return older_schema && ok && in.empty(); }
  void operator()(const char* key, std::string& v) {
    if (missing_tail())
      return;
    read_string(key, v);
  }
  void read_string(const char*, std::string& v) {
    std::string_view s;
    if (ok && (ok = get_string(in, &s)))
      v.assign(s.data(), s.size());
  }
  void operator()(const char*, int64_t& v) {
    if (missing_tail())
      return;
    uint64_t u = 0;
    if (ok && (ok = get_varint(in, &u)))
      v = unzigzag(u);
  }
  void operator()(const char*, bool& v) {
    if (missing_tail())
      return;
    if (ok && (ok = !in.empty())) {
      v = in.front() != 0;
      in.remove_prefix(1);
    }
  }
  void operator()(const char*, string_list& v) {
    if (missing_tail())
      return;
    uint64_t n = 0;
    if (!ok || !(ok = get_varint(in, &n)) || !(ok = n <= in.size()))
      return;
    v.resize(n);
    for (auto& s : v)
      read_string(nullptr, s);
  }
  void operator()(const char*, level_map& v) {
    if (missing_tail())
      return;
    uint64_t n = 0;
    if (!ok || !(ok = get_varint(in, &n)) || !(ok = n <= in.size()))
      return;
    v.clear();
    for (uint64_t i = 0; i < n && ok; ++i) {
      std::string key;
      read_string(nullptr, key);
      uint64_t u = 0;
      if (ok && (ok = get_varint(in, &u)))
        v[key] = unzigzag(u);
    }
  }
  void operator()(const char*, flag_set& v) {
    if (missing_tail())
      return;
    uint64_t n = 0;
    if (!ok || !(ok = get_varint(in, &n)) || !(ok = n <= in.size()))
      return;
    v = flag_set{};
    for (uint64_t i = 0; i < n && ok; ++i) {
      std::string_view key;
      uint64_t u = 0;
      if ((ok = get_string(in, &key)) && (ok = get_varint(in, &u)))
        v.set(key, unzigzag(u));
    }
  }
};

struct json_writer {
  nlohmann::json& out;
  template <class T> void operator()(const char* key, T& v) { out[key] = v; }
  void operator()(const char* key, flag_set& v) {
    auto& o = out[key] = nlohmann::json::object();
    v.for_each([&](std::string_view k, int64_t n) { o[std::string(k)] = n; });
  }
};

struct json_reader {
  const nlohmann::json& in;
  std::string error;
  template <class T> void operator()(const char* key, T& v) {
    if (!error.empty())
      return;
    auto i = in.find(key);
    if (i == in.end()) {
      error = std::string("missing field ") + key;
      return;
    }
    try {
      v = i->template get<T>();
    } catch (const std::exception&) {
      error = std::string("wrong type for field ") + key;
    }
  }
  void operator()(const char* key, flag_set& v) {
    level_map m;
    (*this)(key, m);
    v = flag_set{};
    for (auto& [name, n] : m)
      v.set(name, n);
  }
};

// ------------------------------------------------------- type registry --

using factory = payload (*)();

template <size_t... Is>
std::unordered_map<std::string_view, factory>
make_registry(std::index_sequence<Is...>) {
  std::unordered_map<std::string_view, factory> m;
  (m.emplace(std::variant_alternative_t<Is, payload>::name,
             [] { return payload{std::variant_alternative_t<Is, payload>{}}; }),
   ...);
  return m;
}

const std::unordered_map<std::string_view, factory>& registry() {
  static const auto m =
      make_registry(std::make_index_sequence<std::variant_size_v<payload>>{});
  return m;
}

status make_empty(std::string_view type, payload* out) {
  auto& r = registry();
  auto i = r.find(type);
  if (i == r.end())
    return status::not_supported("unknown event type '" + std::string(type) + "'");
  *out = i->second();
  return status::ok();
}

}  // namespace

// --------------------------------------------------------------- binary --

void encode_payload(const payload& p, std::string& out) {
  std::visit([&](const auto& x) {
    binary_writer w{out};
    const_cast<std::decay_t<decltype(x)>&>(x).fields(w);
  }, p);
}

status decode_payload(std::string_view type, int64_t schema,
                      std::string_view in, payload* out) {
  if (auto st = make_empty(type, out); !st)
    return st;
  if (schema > schema_of(*out))
    return status::not_supported("event type '" + std::string(type) +
                                 "' has schema version " + std::to_string(schema) +
                                 ", newer than this build's " +
                                 std::to_string(schema_of(*out)));
  binary_reader r{in};
  r.older_schema = schema < schema_of(*out);
  std::visit([&](auto& x) { x.fields(r); }, *out);
  if (!r.ok || !r.in.empty())
    return status::corruption("malformed payload of type '" + std::string(type) + "'");
  return status::ok();
}

// ----------------------------------------------------------------- JSON --

nlohmann::json payload_to_json(const payload& p) {
  nlohmann::json j = nlohmann::json::object();
  std::visit([&](const auto& x) {
    json_writer w{j};
    const_cast<std::decay_t<decltype(x)>&>(x).fields(w);
  }, p);
  return j;
}

status payload_from_json(std::string_view type, const nlohmann::json& j,
                         payload* out) {
  if (auto st = make_empty(type, out); !st)
    return st;
  if (!j.is_object())
    return status::invalid_argument("event data is not a JSON object");
  json_reader r{j, {}};
  std::visit([&](auto& x) { x.fields(r); }, *out);
  if (!r.error.empty())
    return status::invalid_argument(r.error);
  return status::ok();
}

nlohmann::json envelope_to_json(const envelope& e) {
  nlohmann::json j;
  j["seq"] = e.seq;
  j["time"] = format_iso8601(e.ev.ts_ms);
  j["ts"] = e.ev.ts_ms;
  j["stream"] = e.stream;
  j["version"] = e.stream_version;
  j["type"] = type_name(e.ev.body);
  j["schema"] = e.schema;
  j["data"] = payload_to_json(e.ev.body);
  j["chain"] = to_hex(e.chain);
  return j;
}

// ----------------------------------------------------------------- time --

std::string format_iso8601(int64_t ms) {
  int64_t secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
  int millis = static_cast<int>(ms - secs * 1000);
  std::time_t t = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                tm.tm_min, tm.tm_sec, millis);
  return buf;
}

status parse_iso8601(std::string_view text, int64_t* ms) {
  auto bad = [&] {
    return status::invalid_argument("not an ISO 8601 time: '" +
                                    std::string(text) + "'");
  };
  std::string s(text);
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0, n = 0;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || n != 10)
    return bad();
  size_t pos = 10;
  int64_t frac_ms = 0, offset_s = 0;
  if (pos < s.size()) {
    if (s[pos] != 'T' && s[pos] != ' ')
      return bad();
    int m = 0;
    if (std::sscanf(s.c_str() + pos + 1, "%2d:%2d:%2d%n", &h, &mi, &sec, &m) != 3 || m != 8)
      return bad();
    pos += 9;
    if (pos < s.size() && s[pos] == '.') {
      ++pos;
      int64_t scale = 100;
      while (pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos]))) {
        frac_ms += (s[pos] - '0') * scale;
        scale /= 10;
        ++pos;
      }
    }
    if (pos < s.size()) {
      if (s[pos] == 'Z' && pos + 1 == s.size()) {
        // UTC
      } else if ((s[pos] == '+' || s[pos] == '-') && s.size() - pos == 6 && s[pos + 3] == ':') {
        int oh = 0, om = 0;
        if (std::sscanf(s.c_str() + pos + 1, "%2d:%2d", &oh, &om) != 2)
          return bad();
        offset_s = (oh * 3600 + om * 60) * (s[pos] == '+' ? 1 : -1);
      } else {
        return bad();
      }
    }
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
    return bad();
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = sec;
  int64_t secs = static_cast<int64_t>(timegm(&tm)) - offset_s;
  *ms = secs * 1000 + frac_ms;
  return status::ok();
}

}  // namespace callq::events
