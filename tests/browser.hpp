// A headless Chromium for the browser tests: tests/browser/puppet.mjs
// (puppeteer-core, installed by scripts/browser-deps.sh) as a child
// process, one JSON command per line each way. The test asserts; the
// puppet only loads pages, waits, evaluates and takes screenshots.
#pragma once

#include <string>
#include <sys/types.h>

#include <nlohmann/json.hpp>

namespace callq::testing {

class browser {
 public:
  /// Starts `node puppet.mjs` and waits for Chromium to be up. ready()
  /// says whether it is; why() says why not.
  browser();
  ~browser();
  browser(const browser&) = delete;
  browser& operator=(const browser&) = delete;

  bool ready() const { return ready_; }
  const std::string& why() const { return why_; }

  /// Sends one command, returns its answer ({"ok":false,"error":...} when
  /// the puppet did not answer within `timeout_ms`).
  nlohmann::json call(const nlohmann::json& command, int timeout_ms = 30000);

  /// Loads `url`; true when it loaded.
  bool open(const std::string& url);
  /// Waits until the JavaScript expression `js` is truthy in the page;
  /// returns the milliseconds it took, or -1 when `timeout_ms` passed.
  long wait(const std::string& js, int timeout_ms);
  /// The value of the JavaScript expression `js` in the page.
  nlohmann::json eval(const std::string& js);
  /// Saves a full-page PNG screenshot at `path`.
  bool screenshot(const std::string& path);

 private:
  /// One line from the puppet, or "" after `timeout_ms`.
  std::string read_line(int timeout_ms);

  pid_t pid_ = -1;
  int in_ = -1, out_ = -1;  ///< its stdin (we write), its stdout (we read)
  std::string buffer_;
  bool ready_ = false;
  std::string why_;
};

}  // namespace callq::testing
