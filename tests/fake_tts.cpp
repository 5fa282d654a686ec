#include "tests/fake_tts.hpp"

#include <algorithm>
#include <chrono>

#include <httplib.h>
#include <nlohmann/json.hpp>

namespace callq::testing {

fake_tts::fake_tts(rule r) : server_(std::make_unique<httplib::Server>()), rule_(std::move(r)) {
  server_->Post("/speak", [this](const httplib::Request& req, httplib::Response& res) {
    std::string text = nlohmann::json::parse(req.body)["text"];
    std::unique_lock lock(mu_);
    texts_.push_back(text);
    auth_.push_back(req.get_header_value("Authorization"));
    tts_answer a = rule_ ? rule_(text) : tts_answer::audio;
    switch (a) {
      case tts_answer::garbage:
        return res.set_content("<html>not audio</html>", "text/html");
      case tts_answer::failure:
        res.status = 500;
        return;
      case tts_answer::slow:
        stopped_.wait_for(lock, std::chrono::seconds(8), [this] { return stopping_; });
        break;
      case tts_answer::audio:
        answered_audio_.push_back(text);
        break;
    }
    std::string body = "ID3\x04" + text;
    body.resize(100, ' ');
    res.set_content(body, "audio/mpeg");
  });
  port_ = server_->bind_to_any_port("127.0.0.1");
  thread_ = std::thread([this] { server_->listen_after_bind(); });
}

fake_tts::~fake_tts() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  stopped_.notify_all();
  server_->stop();
  thread_.join();
}

std::string fake_tts::url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/speak"; }

int fake_tts::asked(const std::string& text) const {
  std::lock_guard lock(mu_);
  return static_cast<int>(std::count(texts_.begin(), texts_.end(), text));
}

std::vector<std::string> fake_tts::texts() const {
  std::lock_guard lock(mu_);
  return texts_;
}

std::vector<std::string> fake_tts::auth_headers() const {
  std::lock_guard lock(mu_);
  return auth_;
}

std::vector<std::string> fake_tts::answered_audio() const {
  std::lock_guard lock(mu_);
  return answered_audio_;
}

}  // namespace callq::testing
