#include "actors/world/snapshot.hpp"

#include <nlohmann/json.hpp>

#include "actors/feature_flags.hpp"
#include "actors/world/split_work.hpp"
#include "events/sha256.hpp"

namespace callq {

void to_json(nlohmann::json& j, const call_flags& f) { j = f.bits; }
void from_json(const nlohmann::json& j, call_flags& f) {
  if (!j.is_object()) {
    f.bits = j.get<int32_t>();
    return;
  }
  events::flag_set names;  // a snapshot written before the number
  for (auto& [name, on] : j.items())
    names.set(name, on.get<int64_t>());
  f.bits = flag_bits(names);
}

// The durable fields of each entity (volatile ones are left out: a
// snapshot holds what the log says, as a replay would). A call's fields
// may be missing (a snapshot written before skill routing): they keep
// their defaults, and the state digest checked after decoding shows that
// nothing else was lost.
// A call is one flat object: its call_state fields and, beside them, those
// of its call_routing (held apart in memory, not in the snapshot).
#define CALLQ_CALL_FIELDS                                                                   \
  sid, from, to, queue, caller_name, priority, phase, order, arrived_ms, enqueued_ms,       \
      orig_position, escalated, attempts, failed_in_row, last_failed_ms, ended_ms,          \
      callback_offered, last_announce_ms, callback_agent_answered, callback_escalated,      \
      refused, refused_closed, require, require_step, require_next_ms, overflowed_ms,       \
      booked, version, language, flags
#define CALLQ_ROUTING_FIELDS                                                                \
  tried, offer_id, agent_id, offered_ms, connected_ms, ring_ms, callback_id, callback_number, \
      callback_requested_ms, callback_attempts, callback_leg_sid, callback_due_ms, skills,    \
      preferred_agent, prefer_until_ms, ring_all
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(call_routing, CALLQ_ROUTING_FIELDS)
void to_json(nlohmann::json& nlohmann_json_j, const call_state& nlohmann_json_t) {
  NLOHMANN_JSON_EXPAND(NLOHMANN_JSON_PASTE(NLOHMANN_JSON_TO, CALLQ_CALL_FIELDS))
  nlohmann_json_j.update(nlohmann::json(nlohmann_json_t.routing()));
}
void from_json(const nlohmann::json& nlohmann_json_j, call_state& nlohmann_json_t) {
  const call_state nlohmann_json_default_obj;
  NLOHMANN_JSON_EXPAND(NLOHMANN_JSON_PASTE(NLOHMANN_JSON_FROM_WITH_DEFAULT, CALLQ_CALL_FIELDS))
  // A call that only waits has none of its routing set: it stays absent.
  static const nlohmann::json no_routing = call_routing{};
  auto routing = nlohmann_json_j.get<call_routing>();
  if (nlohmann::json(routing) != no_routing)
    nlohmann_json_t.edit_routing() = std::move(routing);
}
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(last_contact, agent_id, at_ms)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(call_history_entry, call_sid, queue, agent_id, outcome,
                                   disposition, at_ms)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(callback_view, callback_id, call_sid, number, queue, name,
                                   agent_id, phase, booked, created_ms, due_ms, ended_ms, attempts)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(membership, penalty, joined_ms, answered, talk_ms)
// With defaults: a snapshot written before the agent page lacks an agent's
// break reason and last call (its wrap-up then cannot be recorded).
#define CALLQ_AGENT_FIELDS                                                                 \
  id, display_name, identity, token_hash, queues, skills, members, skill_levels, status,     \
      device, fresh, expired, paused, pause_reason, missed, readiness, idle_since_ms,        \
      in_wrap_up, wrap_until_ms, offer_id, offer_call, offer_queue, on_call, call_queue,     \
      call_since_ms, logged_in_ms, removed, version, break_reason, last_call,                \
      last_call_queue, last_call_recorded
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(agent_state, CALLQ_AGENT_FIELDS)
// With defaults: a snapshot written before callers had a language.
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(caller_entry, display_name, priority, language)
// With defaults: a snapshot written before the patience figures.
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(world_metrics, calls, answered, answered_in_sl, completed,
                                   abandoned, escalated, offers_by_outcome, callbacks_by_outcome,
                                   avg_handle_ms, waited_ms, gave_up, talked_ms, talks)
// With defaults: a snapshot written before offer_reserved existed loads it as 0.
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(world_counters, call_order, offer, callback,
                                                offer_reserved)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(sl_minute, minute, answered, answered_within, abandoned_after)

// Format 6: each call and agent is a CBOR array of its fields' values in
// the order of the lists above (a call: its own fields, then, only when
// it has any routing, its routing's), not an object naming every field:
// a fifth of the bytes, a sixth of the time to encode and a third of the
// time to decode (bench/README.md). The lists are append-only: a field is never
// moved or removed (one no longer used keeps its place); an older
// snapshot's shorter array leaves the fields after its end at their
// defaults, and the digest checked after decoding catches any mismatch.
#define CALLQ_PUT(field) a.push_back(nlohmann::json(t.field));
#define CALLQ_GET(field)   \
  if (i < a.size())        \
    a[i].get_to(t.field); \
  ++i;

namespace {

nlohmann::json positional(const call_state& t) {
  nlohmann::json a = nlohmann::json::array();
  NLOHMANN_JSON_EXPAND(NLOHMANN_JSON_PASTE(CALLQ_PUT, CALLQ_CALL_FIELDS))
  if (t.has_routing()) {
    const call_routing& r = t.routing();
    [&](const call_routing& t) { NLOHMANN_JSON_EXPAND(NLOHMANN_JSON_PASTE(CALLQ_PUT, CALLQ_ROUTING_FIELDS)) }(r);
  }
  return a;
}

nlohmann::json positional(const agent_state& t) {
  nlohmann::json a = nlohmann::json::array();
  NLOHMANN_JSON_EXPAND(NLOHMANN_JSON_PASTE(CALLQ_PUT, CALLQ_AGENT_FIELDS))
  return a;
}

void from_positional(const nlohmann::json& a, call_state& t) {
  if (!a.is_array())
    throw nlohmann::json::type_error::create(302, "a call is not an array", &a);
  size_t i = 0;
  NLOHMANN_JSON_EXPAND(NLOHMANN_JSON_PASTE(CALLQ_GET, CALLQ_CALL_FIELDS))
  if (i < a.size())
    [&](call_routing& t) { NLOHMANN_JSON_EXPAND(NLOHMANN_JSON_PASTE(CALLQ_GET, CALLQ_ROUTING_FIELDS)) }(
        t.edit_routing());
}

void from_positional(const nlohmann::json& a, agent_state& t) {
  if (!a.is_array())
    throw nlohmann::json::type_error::create(302, "an agent is not an array", &a);
  size_t i = 0;
  NLOHMANN_JSON_EXPAND(NLOHMANN_JSON_PASTE(CALLQ_GET, CALLQ_AGENT_FIELDS))
}

}  // namespace

#undef CALLQ_PUT
#undef CALLQ_GET
#undef CALLQ_CALL_FIELDS
#undef CALLQ_ROUTING_FIELDS
#undef CALLQ_AGENT_FIELDS

namespace {

const std::string_view magic = "callq-snapshot\n";
constexpr size_t header_size = 15 + 4 + 8 + 8 + 32 + 64;

void put_u64(std::string& out, uint64_t v, int bytes = 8) {
  for (int i = bytes - 1; i >= 0; --i)
    out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint64_t get_u64(std::string_view in, size_t at, int bytes = 8) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i)
    v = (v << 8) | static_cast<unsigned char>(in[at + static_cast<size_t>(i)]);
  return v;
}

/// Appends each of `items` as its own CBOR document, framed: u32 count,
/// then u32 length and the document of each.
template <class T> void put_entities(std::string& out, const std::vector<T>& items) {
  put_u64(out, items.size(), 4);
  for (auto& x : items) {
    std::vector<std::uint8_t> doc = nlohmann::json::to_cbor(positional(x));
    put_u64(out, doc.size(), 4);
    out.append(reinterpret_cast<const char*>(doc.data()), doc.size());
  }
}

/// Reads what put_entities() wrote at `*at` of `payload` (moving `*at`
/// past it) into `docs`; false when the bytes end too soon.
bool get_entities(std::string_view payload, size_t* at, std::vector<std::string_view>* docs) {
  if (payload.size() - *at < 4)
    return false;
  uint64_t count = get_u64(payload, *at, 4);
  *at += 4;
  if (count > (payload.size() - *at) / 4)  // each takes at least its length
    return false;
  docs->reserve(count);
  for (uint64_t i = 0; i < count; ++i) {
    if (payload.size() - *at < 4)
      return false;
    uint64_t n = get_u64(payload, *at, 4);
    *at += 4;
    if (n > payload.size() - *at)
      return false;
    docs->push_back(payload.substr(*at, n));
    *at += n;
  }
  return true;
}

/// The entities of `docs` (format 6's or 5's framed documents, or the
/// elements of format 4's array of byte strings, or format 3's objects:
/// `decode(doc, &entity)` reads one), decoded side by side on the
/// machine's cores (split_work.hpp): the start waits for them, and nothing
/// else runs meanwhile.
template <class T, class Docs, class Decode>
std::vector<T> decoded_side_by_side(const Docs& docs, Decode decode) {
  std::vector<T> out(docs.size());
  split_work(docs.size(), 1024, [&](size_t from, size_t to) {
    for (size_t i = from; i < to; ++i)
      decode(docs[i], &out[i]);
  });
  return out;
}

/// Format 5's framed documents (objects).
template <class T> std::vector<T> decoded_framed(const std::vector<std::string_view>& docs) {
  return decoded_side_by_side<T>(docs, [](std::string_view d, T* x) {
    *x = nlohmann::json::from_cbor(d.begin(), d.end()).template get<T>();
  });
}

/// Format 6's framed documents (arrays of values).
template <class T> std::vector<T> decoded_positional(const std::vector<std::string_view>& docs) {
  return decoded_side_by_side<T>(docs, [](std::string_view d, T* x) {
    from_positional(nlohmann::json::from_cbor(d.begin(), d.end()), *x);
  });
}

/// Formats 3 and 4: an array in the one document.
template <class T> std::vector<T> decoded_in_document(const nlohmann::json& j) {
  if (!j.is_array())
    throw nlohmann::json::type_error::create(302, "entities are not an array", &j);
  return decoded_side_by_side<T>(j, [](const nlohmann::json& d, T* x) {
    *x = (d.is_binary() ? nlohmann::json::from_cbor(d.get_binary()) : d).template get<T>();
  });
}

bool valid_enums(const world_image& img) {
  for (auto& c : img.calls)
    if (static_cast<int>(c.phase) < 0 || c.phase > call_phase::callback_canceled)
      return false;
  for (auto& cb : img.callbacks)
    if (static_cast<int>(cb.phase) < 0 || cb.phase > call_phase::callback_canceled)
      return false;
  for (auto& a : img.agents)
    if (static_cast<int>(a.status) < 0 || a.status > agent_status::offline)
      return false;
  return true;
}

}  // namespace

std::string encode_snapshot(const world_image& img, const std::string& world_digest,
                            int64_t ts_ms, const events::chain_value& chain) {
  nlohmann::json j;
  j["digest"] = world_digest;
  j["directory"] = img.directory;
  j["metrics"] = img.metrics;
  j["counters"] = img.counters;
  j["queues"] = img.queue_configs;
  j["lastOffered"] = img.last_offered;
  j["serviceMinutes"] = img.service_minutes;
  j["lastAgents"] = img.last_agents;
  j["callbacks"] = img.callbacks;
  j["stateSince"] = img.state_since;
  j["callerHistory"] = img.caller_history;
  std::vector<std::uint8_t> doc = nlohmann::json::to_cbor(j);
  std::string payload;
  put_u64(payload, doc.size());
  payload.append(reinterpret_cast<const char*>(doc.data()), doc.size());
  put_entities(payload, img.calls);
  put_entities(payload, img.agents);
  std::string_view pv(payload);
  std::string out(magic);
  put_u64(out, snapshot_format, 4);
  put_u64(out, img.last_seq);
  put_u64(out, static_cast<uint64_t>(ts_ms));
  out.append(reinterpret_cast<const char*>(chain.data()), chain.size());
  out += events::sha256_hex(pv);
  out.append(pv);
  return out;
}

status decode_snapshot(std::string_view bytes, const policy& rules, world* out,
                       snapshot_info* info) {
  if (bytes.size() < magic.size() || bytes.substr(0, magic.size()) != magic)
    return status::corruption("not a callq snapshot (no marker)");
  if (bytes.size() < header_size)
    return status::corruption("truncated snapshot header (" + std::to_string(bytes.size()) +
                              " bytes)");
  size_t at = magic.size();
  auto format = static_cast<uint32_t>(get_u64(bytes, at, 4));
  at += 4;
  if (format > snapshot_format)
    return status::not_supported("snapshot format " + std::to_string(format) +
                                 " is newer than this build reads (" +
                                 std::to_string(snapshot_format) + ")");
  if (format == 0)
    return status::corruption("snapshot format 0");
  if (format < oldest_snapshot_format)
    return status::not_supported("snapshot format " + std::to_string(format) +
                                 " is older than this build reads (" +
                                 std::to_string(oldest_snapshot_format) +
                                 "); the log is replayed instead");
  snapshot_info si;
  si.seq = get_u64(bytes, at);
  at += 8;
  si.ts_ms = static_cast<int64_t>(get_u64(bytes, at));
  at += 8;
  std::copy(bytes.begin() + static_cast<std::ptrdiff_t>(at),
            bytes.begin() + static_cast<std::ptrdiff_t>(at + 32), si.chain.begin());
  at += 32;
  std::string_view sha = bytes.substr(at, 64);
  at += 64;
  std::string_view payload = bytes.substr(at);
#ifndef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION  // the fuzzing build only (CMakeLists.txt)
  if (events::sha256_hex(payload) != sha)
    return status::corruption("snapshot payload digest does not match (damaged or truncated)");
#else
  (void)sha;
#endif
  // Format 5: the document, then the framed entities after it.
  std::string_view doc = payload;
  std::vector<std::string_view> call_docs;
  std::vector<std::string_view> agent_docs;
  if (format >= 5) {
    if (payload.size() < 8 || get_u64(payload, 0) > payload.size() - 8)
      return status::corruption("snapshot payload ends inside its document");
    uint64_t n = get_u64(payload, 0);
    doc = payload.substr(8, n);
    size_t entities_at = 8 + n;
    if (!get_entities(payload, &entities_at, &call_docs) ||
        !get_entities(payload, &entities_at, &agent_docs))
      return status::corruption("snapshot payload ends inside its calls or agents");
    if (entities_at != payload.size())
      return status::corruption("snapshot payload has bytes after its agents");
  }
  world_image img;
  try {
    auto j = nlohmann::json::from_cbor(doc.begin(), doc.end());
    si.world_digest = j.at("digest").get<std::string>();
    if (format >= 6) {
      img.calls = decoded_positional<call_state>(call_docs);
      img.agents = decoded_positional<agent_state>(agent_docs);
    } else if (format == 5) {
      img.calls = decoded_framed<call_state>(call_docs);
      img.agents = decoded_framed<agent_state>(agent_docs);
    } else {
      img.calls = decoded_in_document<call_state>(j.at("calls"));
      img.agents = decoded_in_document<agent_state>(j.at("agents"));
    }
    img.directory = j.at("directory").get<std::map<std::string, caller_entry>>();
    img.metrics = j.at("metrics").get<world_metrics>();
    img.counters = j.at("counters").get<world_counters>();
    img.queue_configs = j.at("queues").get<std::map<std::string, std::string>>();
    img.last_offered = j.at("lastOffered").get<std::map<std::string, std::string>>();
    img.service_minutes =
        j.at("serviceMinutes").get<std::map<std::string, std::vector<sl_minute>>>();
    // Written since preferLastAgentSeconds (same format: older snapshots
    // lack it, and callers' last agents then start empty).
    if (auto l = j.find("lastAgents"); l != j.end())
      img.last_agents = l->get<std::map<std::string, last_contact>>();
    // Written since /api/callbacks (older snapshots: the world lists the
    // live callbacks of their calls).
    if (auto cb = j.find("callbacks"); cb != j.end())
      img.callbacks = cb->get<std::vector<callback_view>>();
    // Written since the wallboard's time in state (older snapshots: an
    // agent's time in state is unknown until its state next changes).
    if (auto t = j.find("stateSince"); t != j.end())
      img.state_since = t->get<std::map<std::string, int64_t>>();
    // Written since the agent page (older snapshots: callers' histories
    // start empty and fill as calls finish).
    if (auto h = j.find("callerHistory"); h != j.end())
      img.caller_history = h->get<std::map<std::string, std::vector<call_history_entry>>>();
  } catch (const nlohmann::json::exception& e) {
    return status::corruption(std::string("snapshot payload does not decode: ") + e.what());
  }
  if (!valid_enums(img))
    return status::corruption("snapshot holds an unknown call phase or agent status");
  img.last_seq = si.seq;
  world w = world::from_image(rules, std::move(img));
  if (w.digest() != si.world_digest)
    return status::corruption("decoded state has digest " + w.digest() + ", the snapshot recorded " +
                              si.world_digest);
  *out = std::move(w);
  *info = std::move(si);
  return status::ok();
}

status write_snapshot(storage::event_log& log, const world& w, int64_t ts_ms) {
  events::chain_value chain{};
  if (auto st = log.chain_at(w.last_seq(), &chain); !st)
    return st;
  return log.put_snapshot(w.last_seq(), encode_snapshot(w.image(), w.digest(), ts_ms, chain));
}

status load_newest_snapshot(const storage::event_log& log, const policy& rules,
                            uint64_t max_seq, int64_t max_ms, world* out,
                            snapshot_load* report) {
  *report = snapshot_load{};
  std::vector<uint64_t> seqs;
  if (auto st = log.snapshot_seqs(&seqs); !st)
    return st;
  for (uint64_t seq : seqs) {
    if (max_seq != 0 && seq > max_seq)
      continue;
    std::string name = "snapshot at event " + std::to_string(seq);
    if (seq > log.last_seq()) {
      report->skipped.push_back(name + ": the log ends at event " + std::to_string(log.last_seq()));
      continue;
    }
    std::string bytes;
    if (auto st = log.get_snapshot(seq, &bytes); !st) {
      report->skipped.push_back(name + ": " + st.message());
      continue;
    }
    world w(rules);
    snapshot_info info;
    if (auto st = decode_snapshot(bytes, rules, &w, &info); !st) {
      report->skipped.push_back(name + ": " + st.message());
      continue;
    }
    if (info.seq != seq) {
      report->skipped.push_back(name + ": it says it covers event " + std::to_string(info.seq));
      continue;
    }
    if (max_ms != 0 && info.ts_ms > max_ms)
      continue;
    events::chain_value chain{};
    if (auto st = log.chain_at(seq, &chain); !st)
      return st;
    if (chain != info.chain) {
      report->skipped.push_back(name + ": it was taken of another log (chain value differs)");
      continue;
    }
    *out = std::move(w);
    report->loaded = true;
    report->info = std::move(info);
    return status::ok();
  }
  return status::ok();
}

}  // namespace callq
