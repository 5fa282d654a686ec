// A text-to-speech service on loopback for tests: answers each text the
// way the test asks (audio, garbage, a failure, or audio after a long
// wait) and records what it was asked.
#pragma once

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace httplib {
class Server;
}

namespace callq::testing {

/// How the fake answers one request.
enum class tts_answer {
  audio,    ///< 200, audio/mpeg: 100 bytes starting "ID3" and the text
  garbage,  ///< 200, text/html: not audio
  failure,  ///< 500
  slow,     ///< audio after 8 s, or at once when the fake stops
};

/// Serves POST /speak ({"text": ...}) on 127.0.0.1 from construction to
/// destruction. Thread-safe.
class fake_tts {
 public:
  /// Decides each request's answer; called one request at a time, so it
  /// may keep counts, but must not call the fake. The default answers
  /// audio to everything.
  using rule = std::function<tts_answer(const std::string& text)>;

  explicit fake_tts(rule r = {});
  /// Ends slow answers at once, then stops serving.
  ~fake_tts();
  fake_tts(const fake_tts&) = delete;
  fake_tts& operator=(const fake_tts&) = delete;

  /// The URL to give callq as TTS_URL.
  std::string url() const;
  /// How many requests asked for `text`.
  int asked(const std::string& text) const;
  /// Every request's text, in order of arrival.
  std::vector<std::string> texts() const;
  /// Every request's Authorization header, in order of arrival.
  std::vector<std::string> auth_headers() const;
  /// The texts answered at once with audio (the receiver may still be
  /// storing them); slow answers are not among them.
  std::vector<std::string> answered_audio() const;

 private:
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
  rule rule_;
  mutable std::mutex mu_;
  std::condition_variable stopped_;
  bool stopping_ = false;
  std::vector<std::string> texts_, auth_, answered_audio_;
};

}  // namespace callq::testing
