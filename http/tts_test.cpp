// The TTS renderer against a fake service on loopback: texts a webhook
// asks for are rendered for the next caller, answers that are not audio
// are never asked again, failures wait before a webhook asks again, and
// the audio directory keeps to its budget by deleting the files played
// least recently (never one played within keep_recent).
#include "http/tts.hpp"

#include <filesystem>
#include <memory>
#include <string>

#include <catch2/catch.hpp>

#include "tests/fake_tts.hpp"
#include "tests/temp_dir.hpp"

using callq::http::tts_outcome;
using callq::http::tts_renderer;
using callq::http::tts_settings;
using namespace std::chrono_literals;

namespace {

/// Audio for every text, except "garbage" (HTML) and "down" (500).
callq::testing::tts_answer answer_of(const std::string& text) {
  using callq::testing::tts_answer;
  return text == "garbage" ? tts_answer::garbage : text == "down" ? tts_answer::failure : tts_answer::audio;
}

/// A fake service, a data directory, and the settings a renderer on
/// them starts with (one try per render; tests change the rest).
struct rig {
  callq::testing::fake_tts f{answer_of};
  callq::testing::temp_dir dir;
  tts_settings s;
  rig() {
    s.url = f.url();
    s.attempts = 1;
  }
  /// A renderer on the directory with `s`, started.
  std::unique_ptr<tts_renderer> start() {
    auto r = std::make_unique<tts_renderer>(s, dir.path());
    REQUIRE(r->start().is_ok());
    return r;
  }
};

int64_t renders(const tts_renderer& r, tts_outcome o) { return r.figures().renders[static_cast<size_t>(o)]; }

}  // namespace

TEST_CASE("a text a webhook asks for is said now and played to the next caller") {
  rig g;
  auto r = g.start();
  CHECK(r->play("You are number 3 in the queue.", "Polly.Joanna", "en-US").empty());
  REQUIRE(r->settle(10s));
  std::string name = r->play("You are number 3 in the queue.", "Polly.Joanna", "en-US");
  CHECK(name.size() == 64 + 4);
  CHECK(!r->file_of(name).empty());
  CHECK(r->play("You are number 3 in the queue.", "Polly.Lucia", "es-ES").empty());  // another voice, another file
  REQUIRE(r->settle(10s));
  CHECK(g.f.asked("You are number 3 in the queue.") == 2);
  CHECK(renders(*r, tts_outcome::ok) == 2);
}

TEST_CASE("an answer that is not audio is never asked again, a failure only after a while") {
  rig g;
  g.s.ask_again_after = 3600s;
  auto r = g.start();
  CHECK(r->play("garbage", "", "en-US").empty());
  CHECK(r->play("down", "", "en-US").empty());
  REQUIRE(r->settle(10s));
  CHECK(renders(*r, tts_outcome::invalid) == 1);
  CHECK(renders(*r, tts_outcome::failed) == 1);
  for (int i = 0; i < 3; ++i) {
    CHECK(r->play("garbage", "", "en-US").empty());
    CHECK(r->play("down", "", "en-US").empty());
  }
  r->want("garbage", "", "en-US");  // ahead of time: garbage stays refused
  REQUIRE(r->settle(10s));
  CHECK(g.f.asked("garbage") == 1);
  CHECK(g.f.asked("down") == 1);
  r->want("down", "", "en-US");  // ahead of time (a queue saved): a failure is tried again
  REQUIRE(r->settle(10s));
  CHECK(g.f.asked("down") == 2);
}

TEST_CASE("a failed text is asked again by a webhook once ask_again_after has passed") {
  rig g;
  g.s.ask_again_after = 0s;
  auto r = g.start();
  CHECK(r->play("down", "", "en-US").empty());
  REQUIRE(r->settle(10s));
  CHECK(r->play("down", "", "en-US").empty());
  REQUIRE(r->settle(10s));
  CHECK(g.f.asked("down") == 2);
}

TEST_CASE("at the budget, the files played least recently make room, and none played within keep_recent") {
  rig g;
  g.s.max_total_bytes = 300;  // three files of 100 bytes
  g.s.keep_recent = 0s;
  std::string a, b, c;
  {
    auto r = g.start();
    for (auto* t : {"a", "b", "c"})
      r->want(t, "", "en-US");
    REQUIRE(r->settle(10s));
    // Played in the order b, c, a: b is the least recently played.
    b = r->play("b", "", "en-US");
    c = r->play("c", "", "en-US");
    a = r->play("a", "", "en-US");
    REQUIRE(!a.empty());
    REQUIRE(!b.empty());
    REQUIRE(!c.empty());
    r->want("d", "", "en-US");
    REQUIRE(r->settle(10s));
    CHECK(r->figures().evicted == 1);
    CHECK(r->figures().stored_bytes == 300);
    CHECK(r->file_of(b).empty());
    CHECK(!std::filesystem::exists(g.dir.path() + "/audio/" + b));
    CHECK(!r->file_of(a).empty());
    CHECK(!r->file_of(c).empty());
    CHECK(!r->play("d", "", "en-US").empty());
  }
  // After a restart every file was just used (its modification time is
  // recent): with keep_recent an hour, nothing is deleted and a new text
  // finds no room.
  g.s.keep_recent = 3600s;
  auto r = g.start();
  CHECK(r->figures().stored_bytes == 300);
  r->want("e", "", "en-US");
  REQUIRE(r->settle(10s));
  CHECK(renders(*r, tts_outcome::over_budget) == 1);
  CHECK(r->figures().evicted == 0);
  CHECK(!r->file_of(a).empty());
  CHECK(r->play("e", "", "en-US").empty());
  size_t files = 0;
  for (auto& e : std::filesystem::directory_iterator(g.dir.path() + "/audio"))
    files += e.path().extension() == ".mp3";
  CHECK(files == 3);
}
