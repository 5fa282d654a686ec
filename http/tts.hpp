// The text-to-speech service (README, "What callers hear"): prompt texts
// and known callers' greetings are rendered ahead of time by `POST
// TTS_URL`, the sentences that hold one call's numbers (position, wait)
// near what callers have heard, or the first time a caller would hear
// them (http/twiml.hpp, nearby_hold_texts()); all are stored in the data
// directory under an HMAC of what was said (with a secret kept there), and
// served at /audio/{name}.{mp3|wav}, so TwiML can <Play> them. Rendering
// runs on its own threads, never on a request's: a webhook asks only
// whether the audio is there (a lookup under a short lock) and falls back
// to <Say> when it is not. The directory keeps to a budget: when it is
// reached, the files not played for an hour make room, least recently
// played first.
#pragma once

#include <array>
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
  /// A file played (or stored) this recently is never deleted to make
  /// room: TwiML that names it may still be fetched by Twilio.
  std::chrono::seconds keep_recent{3600};
  /// Texts a webhook asked for that may wait for a render at once; more
  /// are not queued (the caller hears <Say>, and the next one asks again).
  size_t max_asked = 256;
  /// A text that failed (or found no room) is not asked for by a webhook
  /// again before this much time has passed.
  std::chrono::seconds ask_again_after{600};
};

/// How one render ended.
enum class tts_outcome {
  ok,           ///< stored
  failed,       ///< no answer, 5xx or 429 after every try, or not written
  invalid,      ///< an answer that is not audio, or too large: never asked again
  over_budget,  ///< no room: every file was played within keep_recent
};
inline constexpr size_t tts_outcome_count = 4;

/// The metric label of `o`: "ok", "failed", "invalid", "over-budget".
const char* tts_outcome_name(tts_outcome o);

/// What /metrics shows of the renderer.
struct tts_figures {
  std::array<int64_t, tts_outcome_count> renders{};  ///< by tts_outcome
  int64_t queued = 0, stored_bytes = 0;
  int64_t evicted = 0;  ///< files deleted to make room
};

class tts_renderer {
 public:
  /// Keeps audio in `data_dir`/audio, the HMAC secret in
  /// `data_dir`/tts-secret (created, mode 0600); indexes what is there,
  /// the files' modification times standing for when they were last played.
  tts_renderer(tts_settings s, const std::string& data_dir);
  ~tts_renderer();

  /// Starts the worker threads (nothing when no URL is set).
  status start();
  /// Stops them; renders under way end at their deadline.
  void stop();

  bool enabled() const { return !s_.url.empty(); }

  /// Asks ahead of time for `text` in `voice` and `language` to be
  /// rendered (once; a text stored, queued, or answered with something
  /// other than audio is not asked again).
  void want(const std::string& text, const std::string& voice, const std::string& language);

  /// The file name ("<hmac>.mp3") of that rendering when it is stored
  /// (marking it played now), else "" after asking for it as a webhook
  /// does: at the front of the queue, unless `max_asked` texts already
  /// wait, the text is refused, or it failed within `ask_again_after`.
  /// Never waits for the service.
  std::string play(const std::string& text, const std::string& voice, const std::string& language);

  /// The path of a stored file named `name`, or "" when `name` is not one.
  std::string file_of(const std::string& name) const;

  /// Waits until nothing is queued or being rendered, at most `limit`;
  /// true when that came. (For tests and shutdown, never a request.)
  bool settle(std::chrono::milliseconds limit);

  tts_figures figures() const;

 private:
  using clock = std::chrono::steady_clock;
  struct job {
    std::string text, voice, language, key;
    bool asked = false;  ///< by a webhook (counted against max_asked)
    int attempt = 0;
    clock::time_point due{};  ///< a retry waits its backoff in the queue
  };
  struct stored_file {
    std::string name;
    int64_t bytes = 0;
    uint64_t used = 0;  ///< order of last use (higher: more recent)
    std::chrono::system_clock::time_point used_at{};
  };
  std::string key_of(const std::string& text, const std::string& voice, const std::string& language) const;
  void work();
  /// One render of `j`; when it is stored, `made` describes the file
  /// (its room already counted in stored_bytes_), for work() to index.
  tts_outcome render(const job& j, stored_file* made);
  /// Under mu_: makes room for `size` more bytes by taking files not
  /// used within keep_recent out of files_ (least recently used first)
  /// and reserving the room; the names to delete go to `doomed`. False
  /// (nothing taken) when that cannot free enough.
  bool reserve(int64_t size, std::vector<std::string>* doomed);

  tts_settings s_;
  std::string dir_, secret_;
  mutable std::mutex mu_;
  std::condition_variable cv_;       ///< a job was queued, or stopping
  std::condition_variable settled_;  ///< a job ended
  std::deque<job> queue_;
  std::set<std::string> pending_;              ///< keys queued or rendering
  std::map<std::string, stored_file> files_;   ///< key -> its file
  std::map<std::string, clock::time_point> refused_;  ///< key -> not asked by a webhook before
  size_t asked_ = 0;                           ///< queued jobs a webhook asked for
  uint64_t use_seq_ = 0;
  std::array<int64_t, tts_outcome_count> renders_{};
  int64_t stored_bytes_ = 0;  ///< stored and reserved
  int64_t evicted_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace callq::http
