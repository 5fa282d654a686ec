#include "actors/runtime.hpp"
#include "actors/registry.hpp"

#include <chrono>
#include <thread>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "actors/feature_flags.hpp"
#include "actors/world/rebuild.hpp"
#include "actors/world/snapshot.hpp"
#include "events/sha256.hpp"

#include "tests/temp_dir.hpp"

using namespace callq;

namespace {

runtime_options options(const std::string& dir) {
  runtime_options o;
  o.data_dir = dir;
  o.virtual_clock = true;
  o.gateway.api_base = "http://127.0.0.1:9";  // nothing listens: redirects fail
  o.gateway.max_attempts = 1;
  return o;
}

/// The same, in real time: the timer service beats every 10 ms.
runtime_options real_time_options(const std::string& dir) {
  runtime_options o = options(dir);
  o.virtual_clock = false;
  o.tick_ms = 10;
  return o;
}

std::unique_ptr<runtime> start(const runtime_options& o) {
  std::unique_ptr<runtime> rt;
  auto st = runtime::start(o, &rt);
  INFO(st.to_string());
  REQUIRE(st);
  return rt;
}

}  // namespace

TEST_CASE("the runtime answers after the events are durable and survives a restart") {
  callq::testing::temp_dir tmp;
  auto o = options(tmp.path());
  {
    auto rt = start(o);
    auto r = rt->ask(cmd::put_agent{"alice", "Alice", "alice", "h", {"support"}, {}, {}, {}});
    CHECK(r.result == outcome::created);
    r = rt->ask(cmd::incoming_call{"CA1", "+15550001", "+15559999", "support", "", std::nullopt});
    REQUIRE(r.is_voice());
    CHECK(r.voice().what == voice_reply::kind::enqueue);
    rt->ask(cmd::incoming_call{"CA2", "+15550002", "+15559999", "support", "", std::nullopt});
    // Everything answered is in the log already.
    uint64_t seen = 0;
    REQUIRE(rt->log().scan(1, [&](const events::envelope&) { ++seen; return true; }));
    CHECK(seen == rt->log().last_seq());
    CHECK(seen >= 5);
  }
  auto rt = start(o);
  auto view = rt->reads().read([&](const world& w) { return w.status(rt->now_ms()); });
  auto& waiting = view.queues.at(0).waiting;
  REQUIRE(waiting.size() == 2);
  CHECK(waiting[0].call_sid == "CA1");
  CHECK(waiting[1].call_sid == "CA2");
  CHECK(view.agents.at(0).state == "offline");
  CHECK(rt->actors().calls == 2);
  CHECK(rt->actors().agents == 1);
  // The writer was told each live entity's version by the rebuilt states
  // (it looks none up): they are the versions in the log, and appends go on.
  auto last_version = [&](const std::string& stream) {
    uint64_t v = 0;
    REQUIRE(rt->log().read_stream(stream, [&](const events::envelope& e) {
      v = e.stream_version;
      return true;
    }));
    return v;
  };
  rt->reads().read([&](const world& w) {
    for (auto& [sid, c] : w.calls())
      CHECK(c->version == last_version(events::call_stream(sid)));
    for (auto& [id, a] : w.agents())
      CHECK(a.version == last_version(events::agent_stream(id)));
    return 0;
  });
  CHECK_FALSE(rt->ask(cmd::heartbeat{"alice", "h", "ready", true}).failed());
  CHECK_FALSE(rt->ask(cmd::call_status{"CA2", "completed"}).failed());
}

TEST_CASE("a waiting call's state is held once: the read model's versions share their actor's") {
  callq::testing::temp_dir tmp;
  auto rt = start(options(tmp.path()));
  auto r = rt->ask(cmd::incoming_call{"CA1", "+15550001", "+15559999", "support", "", std::nullopt});
  REQUIRE(r.is_voice());
  auto holders = [&] {
    return rt->reads().read([](const world& w) { return w.calls().at("CA1").use_count(); });
  };
  // The call's actor and the read model's worlds (the newest version and
  // the spare it brings up to date) hold one state, not copies.
  CHECK(holders() >= 2);
  CHECK(holders() <= 3);
  // The actor changes its state (a copy); the read model holds the new one
  // once it is durable, and shows the change.
  uint64_t before = rt->reads().read([](const world& w) { return w.find_call("CA1")->version; });
  rt->ask(cmd::hold_poll{"CA1"});  // the first poll announces: an event
  uint64_t logged = 0;
  REQUIRE(rt->log().read_stream(events::call_stream("CA1"), [&](const events::envelope& e) {
    logged = e.stream_version;
    return true;
  }));
  CHECK(logged > before);
  CHECK(rt->reads().read([](const world& w) { return w.find_call("CA1")->version; }) == logged);
  CHECK(holders() >= 2);
  CHECK(holders() <= 3);
}

TEST_CASE("a repeated request with the same idempotency key appends nothing") {
  callq::testing::temp_dir tmp;
  auto rt = start(options(tmp.path()));
  rt->ask(cmd::incoming_call{"CA1", "+1", "+2", "support", "", std::nullopt});
  auto first = rt->ask(cmd::hold_poll{"CA1"}, "hold|tok-1");
  uint64_t before = rt->log().last_seq();
  auto again = rt->ask(cmd::hold_poll{"CA1"}, "hold|tok-1");
  CHECK(rt->log().last_seq() == before);
  CHECK(first.voice() == again.voice());
  CHECK(again.voice().announce);
}

TEST_CASE("virtual time expires a silent agent") {
  callq::testing::temp_dir tmp;
  auto rt = start(options(tmp.path()));
  rt->ask(cmd::put_agent{"bob", "Bob", "bob", "h", {"support"}, {}, {}, {}});
  auto r = rt->ask(cmd::heartbeat{"bob", "h", "available", true});
  CHECK(std::get<agent_answer>(r.body).state == "available");
  REQUIRE(rt->advance_clock(61'000));
  auto view = rt->reads().read([&](const world& w) { return w.status(rt->now_ms()); });
  CHECK(view.agents.at(0).state == "stale");
}

TEST_CASE("an offer whose REST redirect fails is resolved and the call re-offered") {
  callq::testing::temp_dir tmp;
  auto rt = start(options(tmp.path()));
  rt->ask(cmd::put_agent{"bob", "Bob", "bob", "h", {"support"}, {}, {}, {}});
  rt->ask(cmd::heartbeat{"bob", "h", "available", true});
  rt->ask(cmd::incoming_call{"CA1", "+1", "+2", "support", "", std::nullopt});
  // The gateway reports the failed redirect (a real connection, refused);
  // wait for the event to land, for seconds on a busy machine.
  bool failed = false;
  auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!failed && std::chrono::steady_clock::now() < give_up) {
    rt->ask(cmd::tick{});
    REQUIRE(rt->log().scan(1, [&](const events::envelope& e) {
      if (auto* f = std::get_if<events::call_offer_failed>(&e.ev.body))
        failed = failed || f->reason == "redirect-failed";
      return true;
    }));
  }
  CHECK(failed);
}

TEST_CASE("a full disk: 503s, reads go on, nothing acknowledged lost, writing resumes by itself") {
  callq::testing::temp_dir tmp;
  auto o = options(tmp.path());
  o.disk_check_ms = 0;  // the test calls check_storage() itself
  o.disk.low_bytes = o.disk.reserve_bytes = o.disk.floor_bytes = 0;
  auto rt = start(o);
  std::vector<std::string> acknowledged;
  auto call = [&](const std::string& sid) {
    return rt->ask(cmd::incoming_call{sid, "+15550001", "+15559999", "support", "", std::nullopt});
  };
  for (int i = 0; i < 5; ++i) {
    auto r = call("CA" + std::to_string(i));
    REQUIRE(r.is_voice());
    acknowledged.push_back("CA" + std::to_string(i));
  }
  // The disk is full: less free space than the log keeps.
  const_cast<storage_health&>(rt->storage()).set_floor(INT64_MAX);
  auto r = call("CA-full");
  CHECK(r.result == outcome::unavailable);
  CHECK_FALSE(rt->storage().writable());
  CHECK(rt->storage().reason().find("no space") != std::string::npos);
  // Every request that would change state is refused with a reason...
  r = call("CA-full-2");
  CHECK(r.result == outcome::unavailable);
  CHECK(r.reason.find("cannot be written") != std::string::npos);
  r = rt->ask(cmd::put_agent{"alice", "Alice", "alice", "h", {"support"}, {}, {}, {}});
  CHECK(r.result == outcome::unavailable);
  // ...while reads work, and show only what is durable.
  auto waiting = rt->reads().read([&](const world& w) { return w.status(rt->now_ms()); });
  REQUIRE(waiting.queues.size() == 1);
  CHECK(waiting.queues[0].waiting.size() == 5);
  CHECK_FALSE(rt->check_storage());  // still full: nothing changes
  CHECK_FALSE(rt->storage().writable());
  const_cast<storage_health&>(rt->storage()).set_floor(0);  // space is back
  REQUIRE(rt->check_storage());
  CHECK(rt->storage().writable());
  CHECK(rt->storage().recoveries() == 1);
  // State was rebuilt from the durable log: the refused call is unknown,
  // every acknowledged one is waiting, in order, and new calls are taken.
  r = call("CA5");
  REQUIRE(r.is_voice());
  acknowledged.push_back("CA5");
  auto view = rt->reads().read([&](const world& w) { return w.status(rt->now_ms()); });
  std::vector<std::string> sids;
  for (auto& w : view.queues.at(0).waiting)
    sids.push_back(w.call_sid);
  CHECK(sids == acknowledged);
  CHECK(rt->actors().calls == acknowledged.size());
  storage::verify_report rep;
  REQUIRE(rt->log().verify(&rep));
  CHECK(rep.bad_seq == 0);
}

TEST_CASE("under the disk reserve new calls are refused, calls already waiting go on") {
  callq::testing::temp_dir tmp;
  auto o = options(tmp.path());
  o.disk_check_ms = 0;
  o.disk.low_bytes = o.disk.reserve_bytes = INT64_MAX;  // any disk is under it
  auto rt = start(o);
  auto r = rt->ask(cmd::incoming_call{"CA1", "+15550001", "+15559999", "support", "", std::nullopt});
  CHECK(r.result == outcome::unavailable);
  CHECK(r.reason.find("CALLQ_DISK_RESERVE") != std::string::npos);
  CHECK(rt->storage().reserve_reached());
  CHECK(rt->storage().disk_low());
  CHECK(rt->storage().free_bytes() > 0);
}

namespace {

/// Waits (in steps of 10 ms, at most 10 s) until `pred` holds.
template <class F> bool eventually(F pred) {
  for (int i = 0; i < 1000; ++i) {
    if (pred())
      return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return pred();
}

}  // namespace

TEST_CASE("a follower keeps its state warm, leads when asked, steps down when its leadership ends") {
  callq::testing::temp_dir tmp;
  auto o = options(tmp.path());
  {
    auto rt = start(o);
    rt->ask(cmd::incoming_call{"CA1", "+15550001", "+15559999", "support", "", std::nullopt});
  }
  o.follower = true;
  auto rt = start(o);
  CHECK_FALSE(rt->is_leader());
  auto r = rt->ask(cmd::incoming_call{"CA2", "+15550002", "+15559999", "support", "", std::nullopt});
  CHECK(r.result == outcome::unavailable);
  CHECK(r.reason.find("follower") != std::string::npos);
  CHECK(rt->actors().calls == 0);
  // Warm: the status is there without any actor.
  auto waiting = [&] {
    return rt->reads().read([&](const world& w) { return w.status(rt->now_ms()); }).queues.at(0).waiting.size();
  };
  CHECK(waiting() == 1);
  rt->lead(1);
  REQUIRE(eventually([&] { return rt->is_leader(); }));
  CHECK(rt->actors().calls == 1);
  r = rt->ask(cmd::incoming_call{"CA2", "+15550002", "+15559999", "support", "", std::nullopt});
  CHECK(r.is_voice());
  CHECK(waiting() == 2);
  rt->step_down("a test");
  REQUIRE(eventually([&] { return !rt->is_leader(); }));
  CHECK(rt->actors().calls == 0);
  CHECK(rt->ask(cmd::sweep{}).result == outcome::unavailable);
  CHECK(waiting() == 2);
  rt->lead(2);
  REQUIRE(eventually([&] { return rt->is_leader(); }));
  CHECK(rt->actors().calls == 2);
}

TEST_CASE("registry: a finished call's state is kept only until its last events are durable, then only that it finished") {
  registry r;
  auto c = std::make_shared<call_state>();
  c->sid = "CA1";
  c->phase = call_phase::abandoned;
  c->version = 3;
  r.finish_call(c);
  CHECK(c.use_count() == 2);  // the actor's state itself, not a copy
  CHECK(r.is_finished("CA1"));
  REQUIRE(r.finished("CA1"));
  CHECK(r.finished("CA1")->version == 3);
  r.final_state_durable("CA1");  // late retries read the call's stream from now on
  CHECK(r.is_finished("CA1"));
  CHECK_FALSE(r.finished("CA1"));
  CHECK(c.use_count() == 1);  // let go of
  bool spawned = false;
  auto found = r.find_or_spawn_call("CA1", [&](const call_sid&) {
    spawned = true;
    return caf::actor{};
  });
  CHECK(found.finished);
  CHECK_FALSE(spawned);
  CHECK(r.purge_finished(c->ended_ms) == 1);
  CHECK_FALSE(r.is_finished("CA1"));
}

namespace {

/// A big-endian unsigned number of `bytes` bytes at `at` of `s`.
uint64_t be_number(const std::string& s, size_t at, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i)
    v = (v << 8) | static_cast<unsigned char>(s[at + static_cast<size_t>(i)]);
  return v;
}

/// `bytes` (a snapshot) with its format set to `format` and its payload
/// replaced by `payload`, digest and all.
std::string with_payload(const std::string& bytes, char format, const std::string& payload) {
  return bytes.substr(0, 15) + std::string("\0\0\0", 3) + format + bytes.substr(19, 48) +
         events::sha256_hex(payload) + payload;
}

/// Call `sid` queued in "support", at stream version 2.
call_state queued_call(const std::string& sid) {
  call_state c;
  c.sid = sid;
  c.queue = "support";
  c.phase = call_phase::queued;
  c.version = 2;
  return c;
}

}  // namespace

TEST_CASE("a snapshot keeps a call's routing as fields beside its others: none for a call that only waits") {
  world_image img;
  call_state waiting = queued_call("CA1");
  img.calls.push_back(waiting);
  call_state offered = waiting;
  offered.sid = "CA2";
  offered.phase = call_phase::offered;
  offered.edit_routing().offer_id = "OF1";
  offered.edit_routing().agent_id = "alice";
  offered.edit_routing().skills = {{"billing", 3}};
  offered.edit_routing().agent_identity = "client-alice";  // volatile: not kept
  img.calls.push_back(offered);
  img.last_seq = 4;
  std::string digest = world::from_image(policy{}, img).digest();
  world w{policy{}};
  snapshot_info info;
  REQUIRE(decode_snapshot(encode_snapshot(img, digest, 1000, {}), policy{}, &w, &info));
  CHECK(w.digest() == digest);
  REQUIRE(w.find_call("CA1") != nullptr);
  CHECK_FALSE(w.find_call("CA1")->has_routing());
  REQUIRE(w.find_call("CA2") != nullptr);
  REQUIRE(w.find_call("CA2")->has_routing());
  const call_routing& r = w.find_call("CA2")->routing();
  CHECK(r.offer_id == "OF1");
  CHECK(r.agent_id == "alice");
  CHECK(r.skills == std::map<std::string, int64_t>{{"billing", 3}});
  CHECK(r.agent_identity.empty());
  // One flat object per call, as snapshots were written before.
  nlohmann::json flat = img.calls[1];
  CHECK(flat.at("offer_id") == "OF1");
  CHECK(flat.at("sid") == "CA2");
  CHECK_FALSE(flat.contains("agent_identity"));
}

TEST_CASE("a snapshot holds each call and agent as its own document, an array of its fields' values, and still reads those written before") {
  world_image img;
  img.calls.push_back(queued_call("CA1"));
  agent_state a;
  a.id = "alice";
  a.queues = {"support"};
  a.version = 1;
  img.agents.push_back(a);
  img.last_seq = 3;
  img.metrics.talked_ms = 298'000;  // the wait prediction's talk time, not in the digest
  img.metrics.talks = 1.98;
  std::string digest = world::from_image(policy{}, img).digest();
  std::string bytes = encode_snapshot(img, digest, 1000, {});
  const size_t header = 15 + 4 + 8 + 8 + 32 + 64;  // magic, format, seq, time, chain, SHA-256
  CHECK(be_number(bytes, 15, 4) == 6);
  // Format 6: u64 length and the document, then u32 count and (u32
  // length, CBOR) of each call, then the same of each agent; each call
  // and agent an array of its fields' values.
  std::string payload = bytes.substr(header);
  size_t at = 0;
  uint64_t doc_size = be_number(payload, at, 8);
  auto doc = nlohmann::json::from_cbor(payload.substr(8, doc_size));
  at = 8 + doc_size;
  CHECK(doc.at("digest") == digest);
  CHECK_FALSE(doc.contains("calls"));
  nlohmann::json entities;
  for (const char* kind : {"calls", "agents"}) {
    uint64_t count = be_number(payload, at, 4);
    at += 4;
    REQUIRE(count == 1);
    uint64_t n = be_number(payload, at, 4);
    at += 4;
    entities[kind].push_back(nlohmann::json::from_cbor(payload.substr(at, n)));
    at += n;
  }
  CHECK(at == payload.size());
  REQUIRE(entities["calls"][0].is_array());
  CHECK(entities["calls"][0][0] == "CA1");  // sid comes first
  REQUIRE(entities["agents"][0].is_array());
  CHECK(entities["agents"][0][0] == "alice");  // id comes first
  world w{policy{}};
  snapshot_info info;
  REQUIRE(decode_snapshot(bytes, policy{}, &w, &info));
  CHECK(w.digest() == digest);
  REQUIRE(w.find_call("CA1") != nullptr);
  CHECK(w.find_call("CA1")->version == 2);
  CHECK(w.metrics().predicted_handle_ms() == 150'505);
  // Framing that ends too soon, or has bytes after the agents, is
  // corruption, even under a matching payload digest.
  world bad{policy{}};
  for (const std::string& damaged :
       {payload.substr(0, payload.size() - 1), payload + "x", payload.substr(0, 8 + doc_size + 2),
        payload.substr(0, 5)}) {
    auto st = decode_snapshot(with_payload(bytes, 6, damaged), policy{}, &bad, &info);
    CHECK(st.error_code() == status::code::corruption);
  }
  // The framing of formats 5 and 6: the document, then the entities.
  auto framed = [&](const nlohmann::json& calls, const nlohmann::json& agents) {
    std::string p = payload.substr(0, 8 + doc_size);
    for (const nlohmann::json* list : {&calls, &agents}) {
      p += std::string{0, 0, 0, static_cast<char>(list->size())};
      for (auto& x : *list) {
        auto c = nlohmann::json::to_cbor(x);
        p += std::string{0, 0, static_cast<char>(c.size() >> 8), static_cast<char>(c.size() & 0xff)};
        p.append(c.begin(), c.end());
      }
    }
    return p;
  };
  // A call's array that ends early (written before its last fields
  // existed): those fields keep their defaults.
  nlohmann::json shorter = entities["calls"];
  shorter[0].erase(shorter[0].size() - 1);  // flags: none
  world ws{policy{}};
  REQUIRE(decode_snapshot(with_payload(bytes, 6, framed(shorter, entities["agents"])), policy{}, &ws,
                          &info));
  CHECK(ws.digest() == digest);
  // A call that is not an array is corruption.
  nlohmann::json not_array = nlohmann::json::array({nlohmann::json{{"sid", "CA1"}}});
  CHECK(decode_snapshot(with_payload(bytes, 6, framed(not_array, entities["agents"])), policy{}, &bad,
                        &info)
            .error_code() == status::code::corruption);
  // Format 5: the same framing, each call and agent an object naming its
  // fields.
  nlohmann::json objects;
  objects["calls"].push_back(nlohmann::json(img.calls[0]));
  // (The agent as a writer that omitted its defaults would have it.)
  objects["agents"].push_back(nlohmann::json{{"id", "alice"}, {"queues", {"support"}}, {"version", 1}});
  CHECK(objects["calls"][0].at("sid") == "CA1");
  world w5{policy{}};
  REQUIRE(decode_snapshot(with_payload(bytes, 5, framed(objects["calls"], objects["agents"])), policy{},
                          &w5, &info));
  CHECK(w5.digest() == digest);
  // Format 4: one document, each call and agent a byte string in it.
  nlohmann::json old4 = doc;
  for (const char* kind : {"calls", "agents"})
    for (auto& x : objects[kind])
      old4[kind].push_back(nlohmann::json::binary(nlohmann::json::to_cbor(x)));
  auto cbor4 = nlohmann::json::to_cbor(old4);
  world w4{policy{}};
  REQUIRE(decode_snapshot(with_payload(bytes, 4, std::string(cbor4.begin(), cbor4.end())), policy{},
                          &w4, &info));
  CHECK(w4.digest() == digest);
  // Format 3: one document, each call and agent an object in it.
  nlohmann::json old3 = doc;
  for (const char* kind : {"calls", "agents"})
    old3[kind] = objects[kind];
  auto cbor3 = nlohmann::json::to_cbor(old3);
  std::string old = with_payload(bytes, 3, std::string(cbor3.begin(), cbor3.end()));
  world w3{policy{}};
  REQUIRE(decode_snapshot(old, policy{}, &w3, &info));
  CHECK(w3.digest() == digest);
  CHECK(info.seq == 3);
  // Format 2 and older are not read: the log is replayed instead.
  old[15 + 3] = 2;
  CHECK(decode_snapshot(old, policy{}, &w3, &info).error_code() == status::code::not_supported);
}

TEST_CASE("a snapshot keeps a call's flags as a number and still reads the names of one written before") {
  call_flags f;
  f.bits = flag_bits({{"FEATURE_QUEUE_HOLD_MUSIC", 0}, {"FEATURE_ENHANCED_QUEUE", 1}});
  nlohmann::json j = f;
  CHECK(j.is_number());
  CHECK(j.get<call_flags>().bits == f.bits);
  // The older form: call.arrived's map of names.
  auto old = nlohmann::json::parse(R"({"FEATURE_QUEUE_HOLD_MUSIC": 0, "FEATURE_ENHANCED_QUEUE": 1})");
  CHECK(old.get<call_flags>().bits == f.bits);
  CHECK(nlohmann::json::object().get<call_flags>().bits == 0);  // nothing recorded
}

TEST_CASE("timers: an entity holds one deadline, which a new one replaces, so no tick comes for a "
          "deadline it no longer has") {
  callq::testing::temp_dir tmp;
  auto rt = start(options(tmp.path()));
  REQUIRE(rt->ask(cmd::put_agent{"alice", "Alice", "alice", "h", {"support"}, {}, {}, {}}).result ==
          outcome::created);
  int64_t timeout = rt->rules().heartbeat_timeout_ms;
  REQUIRE(timeout > 4000);
  // Each heartbeat moves the agent's expiry: still one deadline.
  for (int i = 0; i < 5; ++i) {
    CHECK_FALSE(rt->ask(cmd::heartbeat{"alice", "h", "ready", true}).failed());
    REQUIRE(rt->advance_clock(1000));
  }
  CHECK(rt->pending_timers() == 1);
  // Past the first heartbeat's expiry, before the last one's: nothing is
  // ticked, so nothing is recorded.
  uint64_t before = rt->log().last_seq();
  REQUIRE(rt->advance_clock(timeout - 4000 + 100));
  CHECK(rt->log().last_seq() == before);
  // Past the last heartbeat's expiry: the one deadline fires, the agent is
  // expired, and it has no deadline left while it stays away.
  REQUIRE(rt->advance_clock(5000));
  uint64_t expired = 0;
  REQUIRE(rt->log().scan(before + 1, [&](const events::envelope& e) {
    expired += std::holds_alternative<events::agent_heartbeat_expired>(e.ev.body);
    return true;
  }));
  CHECK(expired == 1);
  // A removed agent leaves no deadline behind.
  CHECK_FALSE(rt->ask(cmd::heartbeat{"alice", "h", "ready", true}).failed());
  CHECK(rt->pending_timers() == 1);
  CHECK_FALSE(rt->ask(cmd::delete_agent{"alice"}).failed());
  CHECK(rt->pending_timers() == 0);
}

TEST_CASE("cleanup: in real time a round asks every call a slice at a time, and finished calls "
          "leave memory at each beat once past their retention") {
  callq::testing::temp_dir tmp;
  auto o = real_time_options(tmp.path());
  o.cleanup_every_ms = 400;
  o.rules.finished_retention_ms = 50;
  auto rt = start(o);
  for (int i = 0; i < 300; ++i)
    REQUIRE(rt->ask(cmd::incoming_call{"CA" + std::to_string(i), "+1555000" + std::to_string(i),
                                       "+15559999", "support", "", std::nullopt})
                .is_voice());
  CHECK_FALSE(rt->ask(cmd::call_status{"CA0", "completed"}).failed());
  CHECK(rt->actors().finished_calls == 1);
  // At a beat past its retention the finished call is gone (real time: the
  // beat runs only then); the waiting ones, each asked once a round, stay
  // (none has gone 15 minutes without news).
  CHECK(eventually([&] { return rt->actors().finished_calls == 0; }));
  CHECK(rt->actors().calls == 299);
}

TEST_CASE("in real time a digest is recorded every N events and at the stop, each "
          "equal to a full replay's at the event it names") {
  callq::testing::temp_dir tmp;
  auto o = real_time_options(tmp.path());
  o.digest_every_events = 20;
  std::map<uint64_t, std::string> recorded;  // by the event each covers
  auto collect = [&](const storage::event_log& log) {
    recorded.clear();
    REQUIRE(log.scan(1, [&](const events::envelope& e) {
      if (auto* d = std::get_if<events::system_state_digest>(&e.ev.body)) {
        CHECK(d->seq > 0);
        CHECK(static_cast<uint64_t>(d->seq) < e.seq);  // made before it was appended
        recorded[static_cast<uint64_t>(d->seq)] = d->digest;
      }
      return true;
    }));
  };
  {
    auto rt = start(o);
    for (int i = 0; i < 40; ++i) {
      REQUIRE(rt->ask(cmd::incoming_call{"CA" + std::to_string(i), "+1555000" + std::to_string(i),
                                         "+15559999", "support", "", std::nullopt})
                  .is_voice());
      if (i % 4 == 3)
        CHECK_FALSE(rt->ask(cmd::call_status{"CA" + std::to_string(i), "completed"}).failed());
    }
    // At least two periodic digests (the beat sees 20 more events twice).
    CHECK(eventually([&] {
      collect(rt->log());
      return recorded.size() >= 2;
    }));
  }
  // The stop recorded one more. Each names an event and equals the
  // digest of a full replay right after it.
  storage::log_options ro;
  ro.read_only = true;
  std::unique_ptr<storage::event_log> log;
  REQUIRE(storage::event_log::open_data_dir(tmp.path(), ro, &log));
  collect(*log);
  CHECK(recorded.size() >= 3);
  world w(o.rules);
  size_t compared = 0;
  rebuild_report report;
  REQUIRE(rebuild(*log, w, {}, &report, [&](const events::envelope& e, const world& now) {
    if (auto i = recorded.find(e.seq); i != recorded.end()) {
      CHECK(now.digest() == i->second);
      ++compared;
    }
    return status::ok();
  }));
  CHECK(compared == recorded.size());
}
