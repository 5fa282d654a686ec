#include "http/tts.hpp"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <tuple>
#include <utility>

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

const char* tts_outcome_name(tts_outcome o) {
  switch (o) {
    case tts_outcome::ok: return "ok";
    case tts_outcome::failed: return "failed";
    case tts_outcome::invalid: return "invalid";
    case tts_outcome::over_budget: return "over-budget";
  }
  return "?";
}

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
  // What is there, oldest first: a file's modification time stands for
  // when it was last played (plays are kept in memory only).
  std::vector<std::tuple<int64_t, std::string, int64_t>> found;  // mtime, name, bytes
  for (auto& e : fs::directory_iterator(dir_, ec)) {
    std::string name = e.path().filename().string();
    auto dot = name.find('.');
    struct stat st {};
    if (dot == 64 && (name.substr(dot) == ".mp3" || name.substr(dot) == ".wav") &&
        ::stat(e.path().c_str(), &st) == 0)
      found.emplace_back(static_cast<int64_t>(st.st_mtime), name, static_cast<int64_t>(st.st_size));
    else if (name.size() > 4 && name[0] == '.' && name.compare(name.size() - 4, 4, ".tmp") == 0)
      fs::remove(e.path(), ec);  // a render cut short by a crash
  }
  std::sort(found.begin(), found.end());
  for (auto& [mtime, name, bytes] : found) {
    files_[name.substr(0, 64)] = {name, bytes, ++use_seq_,
                                  std::chrono::system_clock::from_time_t(static_cast<time_t>(mtime))};
    stored_bytes_ += bytes;
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
  settled_.notify_all();
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
    if (auto r = refused_.find(key); r != refused_.end()) {
      if (r->second == clock::time_point::max())
        return;  // not audio: asking again will not mend it
      refused_.erase(r);  // a failure: ahead of time, it is asked again now
    }
    pending_.insert(key);
    queue_.push_back({text, voice, language, key, false, 0, {}});
  }
  cv_.notify_one();
}

std::string tts_renderer::play(const std::string& text, const std::string& voice, const std::string& language) {
  if (!enabled() || text.empty())
    return "";
  std::string key = key_of(text, voice, language);
  {
    std::lock_guard lock(mu_);
    if (auto i = files_.find(key); i != files_.end()) {
      i->second.used = ++use_seq_;
      i->second.used_at = std::chrono::system_clock::now();
      return i->second.name;
    }
    if (pending_.count(key) || stopping_ || asked_ >= s_.max_asked)
      return "";
    if (auto r = refused_.find(key); r != refused_.end()) {
      if (clock::now() < r->second)
        return "";
      refused_.erase(r);
    }
    pending_.insert(key);
    queue_.push_front({text, voice, language, key, true, 0, {}});  // a caller is waiting for it
    ++asked_;
  }
  cv_.notify_one();
  return "";
}

std::string tts_renderer::file_of(const std::string& name) const {
  std::lock_guard lock(mu_);
  auto dot = name.find('.');
  if (dot == std::string::npos)
    return "";
  auto i = files_.find(name.substr(0, dot));
  return i != files_.end() && i->second.name == name ? dir_ + "/" + name : "";
}

bool tts_renderer::settle(std::chrono::milliseconds limit) {
  std::unique_lock lock(mu_);
  return settled_.wait_for(lock, limit, [this] { return pending_.empty() || stopping_; }) && pending_.empty();
}

tts_figures tts_renderer::figures() const {
  std::lock_guard lock(mu_);
  tts_figures f;
  f.renders = renders_;
  f.queued = static_cast<int64_t>(queue_.size());
  f.stored_bytes = stored_bytes_;
  f.evicted = evicted_;
  return f;
}

void tts_renderer::work() {
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
          j = std::move(*due);
          queue_.erase(due);
          if (j.asked)
            --asked_;
          break;
        }
        if (next == clock::time_point::max())
          cv_.wait(lock);
        else
          cv_.wait_until(lock, next);
      }
    }
    stored_file made;
    tts_outcome outcome = render(j, &made);
    std::lock_guard lock(mu_);
    if (outcome == tts_outcome::failed && j.attempt + 1 < std::max(1, s_.attempts) && !stopping_) {
      // Backoff 1 s, 2 s, 4 s, ...
      j.due = clock::now() + std::chrono::milliseconds(1000LL << j.attempt);
      ++j.attempt;
      if (j.asked)
        ++asked_;
      queue_.push_back(std::move(j));
      cv_.notify_one();
      continue;
    }
    // Stored, or failed for good, or an answer trying again will not mend.
    ++renders_[static_cast<size_t>(outcome)];
    if (outcome == tts_outcome::ok) {  // counted and served at once
      made.used = ++use_seq_;
      files_[j.key] = std::move(made);
    }
    if (outcome == tts_outcome::invalid)
      refused_[j.key] = clock::time_point::max();
    else if (outcome != tts_outcome::ok)
      refused_[j.key] = clock::now() + s_.ask_again_after;
    pending_.erase(j.key);
    settled_.notify_all();
  }
}

bool tts_renderer::reserve(int64_t size, std::vector<std::string>* doomed) {
  if (stored_bytes_ + size <= s_.max_total_bytes) {
    stored_bytes_ += size;
    return true;
  }
  if (size > s_.max_total_bytes)
    return false;
  auto cutoff = std::chrono::system_clock::now() - s_.keep_recent;
  std::vector<std::pair<uint64_t, std::map<std::string, stored_file>::iterator>> old;
  for (auto i = files_.begin(); i != files_.end(); ++i)
    if (i->second.used_at <= cutoff)
      old.emplace_back(i->second.used, i);
  std::sort(old.begin(), old.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  int64_t need = stored_bytes_ + size - s_.max_total_bytes, freed = 0;
  size_t n = 0;
  while (n < old.size() && freed < need)
    freed += old[n++].second->second.bytes;
  if (freed < need)
    return false;
  for (size_t k = 0; k < n; ++k) {
    doomed->push_back(dir_ + "/" + old[k].second->second.name);
    stored_bytes_ -= old[k].second->second.bytes;
    files_.erase(old[k].second);
    ++evicted_;
  }
  stored_bytes_ += size;
  return true;
}

tts_outcome tts_renderer::render(const job& j, stored_file* made) {
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
    return tts_outcome::failed;
  if (res->status != 200)
    return tts_outcome::invalid;
  std::string kind = audio_kind(res->get_header_value("Content-Type"), res->body);
  if (kind.empty())
    return tts_outcome::invalid;
  auto size = static_cast<int64_t>(res->body.size());
  if (size > s_.max_file_bytes)
    return tts_outcome::invalid;
  std::string name = j.key + "." + kind;
  std::vector<std::string> doomed;
  {
    std::lock_guard lock(mu_);
    if (!reserve(size, &doomed))
      return tts_outcome::over_budget;
  }
  std::error_code ec;
  for (auto& path : doomed)  // out of files_ already: no longer played or served
    fs::remove(path, ec);
  std::string tmp = dir_ + "/." + name + ".tmp";
  bool written = false;
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(res->body.data(), static_cast<std::streamsize>(res->body.size()));
    out.close();
    written = static_cast<bool>(out);
  }
  if (written) {
    fs::rename(tmp, dir_ + "/" + name, ec);
    written = !ec;
  }
  if (!written) {
    fs::remove(tmp, ec);
    std::lock_guard lock(mu_);
    stored_bytes_ -= size;  // the room reserved
    return tts_outcome::failed;
  }
  *made = {name, size, 0, std::chrono::system_clock::now()};
  return tts_outcome::ok;
}

}  // namespace callq::http
