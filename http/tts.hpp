// The text-to-speech service (README, "What callers hear"): prompt texts
// and known callers' greetings are rendered ahead of time by `POST
// TTS_URL`, stored in the data directory under an HMAC of what was said
// (with a secret kept there), and served at /audio/{name}.{mp3|wav}, so
// TwiML can <Play> them. Rendering runs on its own threads, never on a
// request's: a webhook asks only whether the audio is there (a lookup
// under a short lock) and falls back to <Say> when it is not.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "events/status.hpp"

namespace callq::http {

/// TTS_URL and its limits.
struct tts_settings {
  std::string url;   ///< empty: no service, every prompt is a <Say>
  std::string auth;  ///< TTS_AUTH: the Authorization header, when set
  int workers = 2;                                   ///< renders at once
  int64_t timeout_ms = 5'000;                        ///< one render's deadline
  int attempts = 4;                                  ///< tries per text, backoff 1 s, 2 s, 4 s
  int64_t max_file_bytes = 2 * 1024 * 1024;          ///< a larger answer is refused
  int64_t max_total_bytes = 256LL * 1024 * 1024;     ///< the audio directory's budget
};

/// Counts of renders by outcome (`callq_tts_renders_total{outcome}`).
struct tts_figures {
  std::map<std::string, int64_t> renders;  ///< ok, failed, invalid, over-budget
  int64_t queued = 0, stored_bytes = 0;
};

class tts_renderer {
 public:
  /// Keeps audio in `data_dir`/audio, the HMAC secret in
  /// `data_dir`/tts-secret (created, mode 0600); indexes what is there.
  tts_renderer(tts_settings s, const std::string& data_dir);
  ~tts_renderer();

  /// Starts the worker threads (nothing when no URL is set).
  status start();
  /// Stops them; renders under way end at their deadline.
  void stop();

  bool enabled() const { return !s_.url.empty(); }

  /// Asks for `text` in `voice` and `language` to be rendered (once; a
  /// text already stored or queued is not asked again).
  void want(const std::string& text, const std::string& voice, const std::string& language);

  /// The file name ("<hmac>.mp3") of that rendering when it is stored,
  /// else "". Never waits for the service.
  std::string stored(const std::string& text, const std::string& voice, const std::string& language) const;

  /// The path of a stored file named `name`, or "" when `name` is not one.
  std::string file_of(const std::string& name) const;

  tts_figures figures() const;

 private:
  struct job {
    std::string text, voice, language, key;
    int attempt = 0;
    std::chrono::steady_clock::time_point due{};  ///< a retry waits its backoff in the queue
  };
  std::string key_of(const std::string& text, const std::string& voice, const std::string& language) const;
  void work();
  /// One render of `j`: "ok", or the outcome that failed it.
  std::string render(const job& j);

  tts_settings s_;
  std::string dir_, secret_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<job> queue_;
  std::set<std::string> pending_;              ///< keys queued or rendering
  std::map<std::string, std::string> files_;   ///< key -> file name
  std::map<std::string, int64_t> renders_;
  int64_t stored_bytes_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace callq::http
