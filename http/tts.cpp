#include "http/tts.hpp"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <sys/stat.h>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "http/signature.hpp"
#include "http/voice_token.hpp"

namespace callq::http {

namespace fs = std::filesystem;

namespace {

std::string hex(const std::string& bytes) {
  static const char* d = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(d[c >> 4]);
    out.push_back(d[c & 15]);
  }
  return out;
}

/// The kind of audio `body` is ("mp3", "wav"), or "" when it is neither.
std::string audio_kind(const std::string& content_type, const std::string& body) {
  bool wav = body.size() > 12 && body.compare(0, 4, "RIFF") == 0 && body.compare(8, 4, "WAVE") == 0;
  bool mp3 = body.size() > 3 && (body.compare(0, 3, "ID3") == 0 ||
                                 (static_cast<unsigned char>(body[0]) == 0xFF &&
                                  (static_cast<unsigned char>(body[1]) & 0xE0) == 0xE0));
  if (content_type.rfind("audio/mpeg", 0) == 0 && mp3)
    return "mp3";
  if ((content_type.rfind("audio/wav", 0) == 0 || content_type.rfind("audio/x-wav", 0) == 0) && wav)
    return "wav";
  return "";
}

}  // namespace

tts_renderer::tts_renderer(tts_settings s, const std::string& data_dir)
    : s_(std::move(s)), dir_(data_dir + "/audio") {
  if (!enabled())
    return;
  std::error_code ec;
  fs::create_directories(dir_, ec);
  std::string secret_path = data_dir + "/tts-secret";
  std::ifstream in(secret_path);
  std::getline(in, secret_);
  if (secret_.size() < 32) {
    secret_ = random_token();  // 32 bytes from OpenSSL, as the admin token
    std::ofstream out(secret_path, std::ios::trunc);
    out << secret_ << "\n";
    out.close();
    ::chmod(secret_path.c_str(), 0600);
  }
  for (auto& e : fs::directory_iterator(dir_, ec)) {
    std::string name = e.path().filename().string();
    auto dot = name.find('.');
    if (dot == 64 && (name.substr(dot) == ".mp3" || name.substr(dot) == ".wav")) {
      files_[name.substr(0, dot)] = name;
      stored_bytes_ += static_cast<int64_t>(e.file_size(ec));
    }
  }
}

tts_renderer::~tts_renderer() { stop(); }

status tts_renderer::start() {
  if (!enabled())
    return status::ok();
  for (int i = 0; i < std::max(1, s_.workers); ++i)
    threads_.emplace_back([this] { work(); });
  return status::ok();
}

void tts_renderer::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_)
    t.join();
  threads_.clear();
}

std::string tts_renderer::key_of(const std::string& text, const std::string& voice,
                                 const std::string& language) const {
  return hex(hmac_sha256(secret_, voice + "\n" + language + "\n" + text));
}

void tts_renderer::want(const std::string& text, const std::string& voice, const std::string& language) {
  if (!enabled() || text.empty())
    return;
  std::string key = key_of(text, voice, language);
  {
    std::lock_guard lock(mu_);
    if (files_.count(key) || pending_.count(key) || stopping_)
      return;
    pending_.insert(key);
    queue_.push_back({text, voice, language, key, 0, {}});
  }
  cv_.notify_one();
}

std::string tts_renderer::stored(const std::string& text, const std::string& voice,
                                 const std::string& language) const {
  if (!enabled())
    return "";
  std::string key = key_of(text, voice, language);
  std::lock_guard lock(mu_);
  auto i = files_.find(key);
  return i == files_.end() ? "" : i->second;
}

std::string tts_renderer::file_of(const std::string& name) const {
  std::lock_guard lock(mu_);
  auto dot = name.find('.');
  if (dot == std::string::npos)
    return "";
  auto i = files_.find(name.substr(0, dot));
  return i != files_.end() && i->second == name ? dir_ + "/" + name : "";
}

tts_figures tts_renderer::figures() const {
  std::lock_guard lock(mu_);
  return {renders_, static_cast<int64_t>(queue_.size()), stored_bytes_};
}

void tts_renderer::work() {
  using clock = std::chrono::steady_clock;
  for (;;) {
    job j;
    {
      // The first job that is due; a retry waits out its backoff in the
      // queue, so it holds no worker.
      std::unique_lock lock(mu_);
      for (;;) {
        if (stopping_)
          return;
        auto due = queue_.end();
        clock::time_point next = clock::time_point::max();
        for (auto i = queue_.begin(); i != queue_.end(); ++i) {
          if (i->due <= clock::now()) {
            due = i;
            break;
          }
          next = std::min(next, i->due);
        }
        if (due != queue_.end()) {
          j = *due;
          queue_.erase(due);
          break;
        }
        if (next == clock::time_point::max())
          cv_.wait(lock);
        else
          cv_.wait_until(lock, next);
      }
    }
    std::string outcome = render(j);
    std::lock_guard lock(mu_);
    if (outcome == "failed" && j.attempt + 1 < std::max(1, s_.attempts) && !stopping_) {
      // Backoff 1 s, 2 s, 4 s, ...
      j.due = clock::now() + std::chrono::milliseconds(1000LL << j.attempt);
      ++j.attempt;
      queue_.push_back(std::move(j));
      cv_.notify_one();
      continue;
    }
    ++renders_[outcome];  // stored, or failed for good, or an answer trying again will not mend
    pending_.erase(j.key);
  }
}

std::string tts_renderer::render(const job& j) {
  // The URL's scheme and host, then its path.
  std::string url = s_.url;
  auto scheme_end = url.find("://");
  auto path_at = url.find('/', scheme_end == std::string::npos ? 0 : scheme_end + 3);
  std::string base = path_at == std::string::npos ? url : url.substr(0, path_at);
  std::string path = path_at == std::string::npos ? "/" : url.substr(path_at);
  httplib::Client client(base);
  auto ms = std::chrono::milliseconds(s_.timeout_ms);
  client.set_connection_timeout(std::chrono::duration_cast<std::chrono::seconds>(ms).count(),
                                static_cast<time_t>((s_.timeout_ms % 1000) * 1000));
  client.set_read_timeout(s_.timeout_ms / 1000, (s_.timeout_ms % 1000) * 1000);
  httplib::Headers headers;
  if (!s_.auth.empty())
    headers.emplace("Authorization", s_.auth);
  nlohmann::json body = {{"text", j.text}, {"voice", j.voice}, {"language", j.language}};
  auto res = client.Post(path.c_str(), headers, body.dump(), "application/json");
  if (!res || res->status >= 500 || res->status == 429)
    return "failed";
  if (res->status != 200)
    return "invalid";
  std::string kind = audio_kind(res->get_header_value("Content-Type"), res->body);
  if (kind.empty())
    return "invalid";
  auto size = static_cast<int64_t>(res->body.size());
  if (size > s_.max_file_bytes)
    return "invalid";
  std::string name = j.key + "." + kind;
  {
    std::lock_guard lock(mu_);
    if (stored_bytes_ + size > s_.max_total_bytes)
      return "over-budget";
  }
  std::string tmp = dir_ + "/." + name + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(res->body.data(), static_cast<std::streamsize>(res->body.size()));
    if (!out)
      return "failed";
  }
  std::error_code ec;
  fs::rename(tmp, dir_ + "/" + name, ec);
  if (ec)
    return "failed";
  std::lock_guard lock(mu_);
  files_[j.key] = name;
  stored_bytes_ += size;
  return "ok";
}

}  // namespace callq::http
