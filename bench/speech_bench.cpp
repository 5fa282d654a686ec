// speech_bench: the CPU a hold webhook spends on its announcement's TwiML
// with the TTS service on (README, "What callers hear"): the position and
// wait sentence played whole, spliced from its pieces (its first hearer,
// TTS_SPLICE=true), or said (a piece missing, or TTS_SPLICE off), each
// text looked up as a webhook does it, in
// the real tts_renderer (an HMAC of voice, language and text, then a
// look-up), in-process.
//
//   speech_bench [--announcements=200000] [--rounds=3]
//
// A fake TTS service on loopback renders the pieces (splice_texts()) and
// one whole sentence first. The renderer refuses every ask a webhook
// makes meanwhile (`max_asked` 0), so what is stored stays the same
// through the runs; a real webhook's ask would also queue the text.
#include <chrono>
#include <cstdio>
#include <filesystem>

#include "bench/bench_util.hpp"
#include "http/tts.hpp"
#include "http/twiml.hpp"
#include "tests/fake_tts.hpp"

using namespace callq;
using namespace callq::http;

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  long n = bench::arg(argc, argv, "announcements", 200'000);
  long rounds = bench::arg(argc, argv, "rounds", 3);
  callq::testing::fake_tts fake;
  std::string dir = (std::filesystem::temp_directory_path() / "callq-speech-bench").string();
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  tts_settings s;
  s.url = fake.url();
  s.max_asked = 0;
  tts_renderer tts(s, dir);
  if (auto st = tts.start(); !st) {
    std::fprintf(stderr, "speech_bench: %s\n", st.message().c_str());
    return 1;
  }
  speech sp = speech_for(speech_config{}, "");
  for (auto& t : splice_texts(sp))
    tts.want(t, sp.voice, sp.language);
  auto announcing = [](int64_t position, int64_t wait_seconds) {
    voice_reply v{voice_reply::kind::hold};
    v.announce = true;
    v.position = position;
    v.wait_estimate_seconds = wait_seconds;
    return v;
  };
  voice_reply whole = announcing(2, 100);
  tts.want("You are number 2 in the queue. Your estimated wait is about 2 minutes.", sp.voice, sp.language);
  if (!tts.settle(std::chrono::seconds(60))) {
    std::fprintf(stderr, "speech_bench: the fake service did not render the pieces in 60 s\n");
    return 1;
  }
  voice_reply spliced = announcing(7, 700);  // 7 pieces: "You are number", "7", ..., "minutes"
  voice_reply said = announcing(70, 100);     // "70" is no piece
  twiml_settings ts;
  ts.splice = true;  // TTS_SPLICE=true
  twiml_settings unspliced;  // the default
  audio_lookup audio = [&](const std::string& text) {
    std::string name = tts.play(text, sp.voice, sp.language);
    return name.empty() ? std::string() : ts.public_base_url + "/audio/" + name;
  };
  std::printf("speech_bench: %ld hold announcements per figure, %zu pieces stored\n", n,
              splice_texts(sp).size());
  auto run = [&](const char* what, const voice_reply& v, const twiml_settings& with) {
    size_t bytes = 0;
    auto t0 = std::chrono::steady_clock::now();
    for (long i = 0; i < n; ++i)
      bytes += render_twiml(v, with, sp, audio).size();
    double us = bench::seconds_since(t0) * 1e6 / static_cast<double>(n);
    std::printf("  %-38s %6.2f us per announcement, %zu bytes of TwiML\n", what, us,
                bytes / static_cast<size_t>(n));
  };
  for (long r = 0; r < rounds; ++r) {
    run("played whole", whole, ts);
    run("spliced from 7 pieces", spliced, ts);
    run("said (position 70, no piece for it)", said, ts);
    run("said, TTS_SPLICE off (the default)", spliced, unspliced);
  }
  tts.stop();
  std::filesystem::remove_all(dir);
}
