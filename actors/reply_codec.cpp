#include "actors/reply_codec.hpp"

#include <nlohmann/json.hpp>

namespace callq {

std::string encode_voice_reply(const voice_reply& v) {
  nlohmann::json j = {{"kind", static_cast<int>(v.what)}, {"queue", v.queue},
                      {"greetingName", v.greeting_name}, {"greet", v.greet},
                      {"offerId", v.offer_id}, {"identity", v.identity},
                      {"announce", v.announce}, {"position", v.position},
                      {"waitEstimateSeconds", v.wait_estimate_seconds},
                      {"offerCallback", v.offer_callback}, {"callbackId", v.callback_id},
                      {"number", v.number}, {"message", v.message}, {"closed", v.closed}};
  if (!v.ring_all.empty())
    j["ringAll"] = v.ring_all;
  if (!v.language.empty())
    j["language"] = v.language;
  if (!v.music)
    j["music"] = false;
  if (v.wait_high_seconds != 0) {
    j["waitLowSeconds"] = v.wait_low_seconds;
    j["waitHighSeconds"] = v.wait_high_seconds;
  }
  return j.dump();
}

bool decode_voice_reply(const std::string& text, voice_reply* out) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object())
    return false;
  try {
    voice_reply v;
    v.what = static_cast<voice_reply::kind>(j.value("kind", 0));
    v.queue = j.value("queue", "");
    v.greeting_name = j.value("greetingName", "");
    v.greet = j.value("greet", false);
    v.offer_id = j.value("offerId", "");
    v.identity = j.value("identity", "");
    v.announce = j.value("announce", false);
    v.position = j.value("position", int64_t{0});
    v.wait_estimate_seconds = j.value("waitEstimateSeconds", int64_t{0});
    v.offer_callback = j.value("offerCallback", false);
    v.callback_id = j.value("callbackId", "");
    v.number = j.value("number", "");
    v.message = j.value("message", "");
    v.closed = j.value("closed", false);
    v.language = j.value("language", "");
    v.music = j.value("music", true);
    v.wait_low_seconds = j.value("waitLowSeconds", int64_t{0});
    v.wait_high_seconds = j.value("waitHighSeconds", int64_t{0});
    if (auto r = j.find("ringAll"); r != j.end())
      v.ring_all = r->get<std::vector<std::pair<std::string, std::string>>>();
    *out = std::move(v);
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

}  // namespace callq
