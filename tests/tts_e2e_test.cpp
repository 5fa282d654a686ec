// End-to-end: the text-to-speech service (README, "What callers hear"):
// prompts and known callers' greetings rendered ahead of time by a fake
// TTS server on loopback that is slow, fails, or answers garbage; the
// audio stored under HMAC names and served at /audio/...; TwiML that
// <Play>s it, and a webhook that never waits for the service.
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <httplib.h>
#include <sys/stat.h>

#include "tests/callq_process.hpp"
#include "tests/fake_tts.hpp"
#include "tests/fake_twilio.hpp"
#include "tests/temp_dir.hpp"

using namespace callq::testing;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

/// The service of the first case: audio for most texts; garbage for the
/// goodbye; 500 twice for the busy queue's words, then audio; 8 s of
/// silence for "Please continue to hold." (past callq's 5 s deadline).
fake_tts::rule prompts_rule() {
  return [busy_failures = 0](const std::string& text) mutable {
    if (text == "Thank you for calling. Goodbye.")
      return tts_answer::garbage;
    if (text == "We are sorry, all our agents are busy right now.")
      return busy_failures++ < 2 ? tts_answer::failure : tts_answer::audio;
    if (text == "Please continue to hold.")
      return tts_answer::slow;
    return tts_answer::audio;
  };
}

bool contains(const std::vector<std::string>& v, const std::string& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

int64_t renders(callq_process& p, const std::string& outcome) {
  auto m = p.json_request("GET", "/metrics", "");
  std::string key = "callq_tts_renders_total{outcome=\"" + outcome + "\"} ";
  auto at = m.body.find(key);
  return at == std::string::npos ? -1 : std::stoll(m.body.substr(at + key.size()));
}

/// Tries `f` until it holds or `limit` passes. No sleeping: each try asks
/// the server (a request), as the other end-to-end tests wait.
bool wait_until(const std::function<bool()>& f, std::chrono::milliseconds limit) {
  auto until = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < until)
    if (f())
      return true;
  return false;
}

/// The announcement of `position` with `announceWait` off.
std::string sentence(int position) { return "You are number " + std::to_string(position) + " in the queue."; }

/// A condition for wait_until(): `tts` answered each of `texts` with
/// audio, and `p` stored every audio answer `tts` gave.
std::function<bool()> stored(callq_process& p, fake_tts& tts, std::vector<std::string> texts) {
  return [&p, &tts, texts] {
    auto ok = renders(p, "ok");  // first, so that every try is a request
    auto answered = tts.answered_audio();
    for (auto& t : texts)
      if (!contains(answered, t))
        return false;
    return ok >= static_cast<int64_t>(answered.size());
  };
}

/// How many <Play>s of callq's own audio `body` holds.
size_t played(const std::string& body) {
  const std::string play = "<Play>https://callq.example.test/audio/";
  size_t n = 0;
  for (size_t at = body.find(play); at != std::string::npos; at = body.find(play, at + 1))
    ++n;
  return n;
}

/// Callers CA1-CA3 wait in `p`'s queue; CA3's hold webhook.
std::string third_caller_holds(callq_process& p) {
  for (const char* sid : {"CA1", "CA2", "CA3"})
    REQUIRE(p.webhook("voice", "", twilio_call(sid, "+1555123000" + std::string(sid + 2))).status == 200);
  return p.webhook("queue-hold-music", "", twilio_call("CA3", "+15551230003")).body;
}

/// After `p.advance()`: CA3 hears its announcement again, then CA4 joins
/// and hears its own; both are played whole, not said.
void both_played_whole(callq_process& p) {
  auto hold = p.webhook("queue-hold-music", "", twilio_call("CA3", "+15551230003"));
  INFO(hold.body);
  CHECK(played(hold.body) == 1);
  CHECK_FALSE(has(hold.body, sentence(3)));
  REQUIRE(p.webhook("voice", "", twilio_call("CA4", "+15551230004")).status == 200);
  hold = p.webhook("queue-hold-music", "", twilio_call("CA4", "+15551230004"));
  INFO(hold.body);
  CHECK(played(hold.body) == 1);  // the next caller to join hears the voice the first time
  CHECK_FALSE(has(hold.body, sentence(4)));
}

}  // namespace

TEST_CASE("e2e: prompts rendered ahead by the TTS service are played, and a slow, failing or garbage service falls back to <Say>") {
  fake_tts tts(prompts_rule());
  fake_twilio tw;
  temp_dir dir;
  std::string data = dir.path() + "/data";
  callq_process p(data, tw.base_url(),
                  {{"TTS_URL", tts.url()},
                   {"TTS_AUTH", "Bearer tts-key"}});
  REQUIRE(p.ready());
  REQUIRE(p.json_request("PUT", "/api/callers/+15551230001", admin_token, {{"name", "Ada"}}).status == 200);
  // The fixed prompts (8 texts: 5 stored at once, the failing one after
  // its two 500s, the garbage and the slow one never) and the known
  // caller's greeting: 7 renders, the greeting stored among them: every
  // audio answer the fake gave is counted stored. (Counting alone raced
  // twice: under load the failing one's retry could be the sixth, and the
  // count could be reached before the greeting was asked for.)
  const std::string greeting =
      "Hello Ada, thank you for calling. Please hold and the next available agent will be with you.";
  auto greeting_stored = [&] {
    auto ok = renders(p, "ok");  // first, so that every try is a request
    auto answered = tts.answered_audio();
    return contains(answered, greeting) && ok >= 7 && ok >= static_cast<int64_t>(answered.size());
  };
  CHECK(wait_until(greeting_stored, 15s));
  for (auto& a : tts.auth_headers())
    CHECK(a == "Bearer tts-key");
  auto r = p.webhook("voice", "", twilio_call("CA1", "+15551230001"));
  INFO(r.body);
  auto at = r.body.find("<Play>https://callq.example.test/audio/");
  REQUIRE(at != std::string::npos);
  CHECK(r.body.find("<Say") == std::string::npos);  // the greeting is played, not said
  std::string url = r.body.substr(at + 6, r.body.find("</Play>", at) - at - 6);
  std::string name = url.substr(url.rfind('/') + 1);
  CHECK(name.size() == 64 + 4);
  httplib::Client c("127.0.0.1", p.port());
  auto audio = c.Get(("/audio/" + name).c_str());
  REQUIRE(audio);
  CHECK(audio->status == 200);
  CHECK(audio->get_header_value("Content-Type") == "audio/mpeg");
  CHECK(audio->body.rfind("ID3", 0) == 0);
  CHECK(c.Get(("/audio/" + std::string(64, 'a') + ".mp3").c_str())->status == 404);
  CHECK(c.Get("/audio/../admin-token")->status == 404);
  // Garbage is never stored or played; a failing service is retried.
  CHECK(wait_until([&] { return renders(p, "invalid") >= 1; }, 10s));
  CHECK(wait_until([&] { return renders(p, "ok") >= 7; }, 15s));  // "busy" after two 500s
  r = p.webhook("call-status", "", twilio_call("CA2", "+15551230002"));  // any answer keeps working
  CHECK(r.status == 200);
  // A render still under way (8 s) never holds a webhook: it answers <Say>.
  auto t0 = std::chrono::steady_clock::now();
  REQUIRE(p.webhook("voice", "", twilio_call("CA3", "+15551230003")).status == 200);
  r = p.webhook("callback-response", "", twilio_call("CA3", "+15551230003", {{"Digits", "7"}}));
  CHECK(std::chrono::steady_clock::now() - t0 < 1s);
  CHECK(has(r.body, "<Say>Please continue to hold.</Say>"));
  // The audio is kept under HMAC names; the secret is the server's own.
  struct stat st {};
  REQUIRE(::stat((data + "/tts-secret").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  size_t files = 0;
  for (auto& e : std::filesystem::directory_iterator(data + "/audio"))
    files += e.path().extension() == ".mp3";
  CHECK(files == static_cast<size_t>(renders(p, "ok")));
  CHECK(p.terminate() == 0);
}

TEST_CASE("e2e: a position announcement not rendered yet is said, rendered, and played next time, and the sentences next to it are asked for ahead") {
  fake_tts tts;
  fake_twilio tw;
  temp_dir dir;
  callq_process p(dir.path() + "/data", tw.base_url(), {{"TTS_URL", tts.url()}});
  REQUIRE(p.ready());
  REQUIRE(p.json_request("PUT", "/api/queues/support", admin_token, {{"announceWait", "off"}}).status == 201);
  // What the first callers on hold hear is rendered ahead: positions 1
  // and 2. Position 3 is not.
  REQUIRE(wait_until(stored(p, tts, {sentence(1), sentence(2)}), 15s));
  CHECK(tts.asked(sentence(3)) == 0);
  std::string hold = third_caller_holds(p);
  INFO(hold);
  CHECK(has(hold, "<Say>" + sentence(3) + "</Say>"));  // never waits for the service
  // The webhook asked for it, and for the sentences next to it (4: the
  // next caller to join).
  REQUIRE(wait_until(stored(p, tts, {sentence(3), sentence(4)}), 15s));
  p.advance(30'000);  // the next announcement
  both_played_whole(p);
  for (int n : {1, 2, 3, 4})
    CHECK(tts.asked(sentence(n)) == 1);  // each asked once
  CHECK(tts.asked("You are number") == 0);  // no pieces without TTS_SPLICE
  CHECK(p.terminate() == 0);
}

TEST_CASE("e2e: with TTS_SPLICE a position announcement not rendered whole is played from its pieces at once and whole next time") {
  fake_tts tts;
  fake_twilio tw;
  temp_dir dir;
  callq_process p(dir.path() + "/data", tw.base_url(), {{"TTS_URL", tts.url()}, {"TTS_SPLICE", "true"}});
  REQUIRE(p.ready());
  REQUIRE(p.json_request("PUT", "/api/queues/support", admin_token, {{"announceWait", "off"}}).status == 201);
  // Rendered ahead: positions 1 and 2, and the pieces of any
  // announcement (its words, the numbers 1-60). Position 3 is not.
  REQUIRE(wait_until(stored(p, tts, {sentence(1), sentence(2), "You are number", "in the queue.", "3", "60"}), 15s));
  CHECK(tts.asked(sentence(3)) == 0);
  CHECK(tts.asked("61") == 0);
  std::string hold = third_caller_holds(p);
  INFO(hold);
  // Its first hearer hears it in the voice, from its three pieces.
  CHECK(played(hold) == 3);
  CHECK_FALSE(has(hold, "<Say"));
  // The whole was asked for, for its next hearer.
  REQUIRE(wait_until(stored(p, tts, {sentence(3), sentence(4)}), 15s));
  p.advance(30'000);
  both_played_whole(p);
  CHECK(tts.asked(sentence(3)) == 1);
  CHECK(tts.asked("3") == 1);  // each piece asked once
  CHECK(p.terminate() == 0);
}
