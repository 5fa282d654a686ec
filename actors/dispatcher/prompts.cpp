#include "actors/dispatcher/prompts.hpp"

#include <algorithm>
#include <cctype>
#include <regex>

#include <nlohmann/json.hpp>

namespace callq {

using json = nlohmann::json;

namespace {

status bad(const std::string& why) { return status::invalid_argument(why); }

/// The placeholders a prompt may hold.
std::vector<std::string> placeholders_of(const std::string& key) {
  if (key == "greeting")
    return {"name"};
  if (key == "position")
    return {"position"};
  if (key == "wait")
    return {"wait"};
  return {};
}

status parse_voice(const json& v, const std::string& where, std::string* out) {
  std::string s = v.is_string() ? v.get<std::string>() : std::string{};
  bool ok = v.is_string() && s.size() <= 64;
  for (unsigned char ch : s)
    ok = ok && (std::isalnum(ch) || ch == '.' || ch == '-' || ch == '_');
  if (!ok)
    return bad(where + " must be a Twilio voice name such as Polly.Joanna (letters, digits, '.', '-', '_')");
  *out = s;
  return status::ok();
}

status parse_prompts(const json& v, const std::string& where, std::map<std::string, std::string>* out) {
  if (!v.is_object())
    return bad(where + " must be an object of prompt -> text");
  out->clear();
  const auto& keys = prompt_keys();
  for (auto& [key, text] : v.items()) {
    if (std::find(keys.begin(), keys.end(), key) == keys.end())
      return bad(where + ": unknown prompt '" + key +
                 "' (greeting, greetingUnknown, position, wait, callbackOffer, callbackConfirmed, full)");
    if (!text.is_string() || text.get<std::string>().empty() || text.get<std::string>().size() > 1000)
      return bad(where + "." + key + " must be a text of 1-1000 characters");
    std::string t = text.get<std::string>();
    auto allowed = placeholders_of(key);
    static const std::regex placeholder("\\{([A-Za-z_][A-Za-z0-9_]*)\\}");
    for (auto it = std::sregex_iterator(t.begin(), t.end(), placeholder); it != std::sregex_iterator(); ++it) {
      std::string name = (*it)[1];
      if (std::find(allowed.begin(), allowed.end(), name) == allowed.end())
        return bad(where + "." + key + ": unknown placeholder {" + name + "}" +
                   (allowed.empty() ? std::string(" (it takes none)") : " (only {" + allowed[0] + "})"));
    }
    (*out)[key] = t;
  }
  return status::ok();
}

json prompts_json(const language_prompts& p) {
  json j = json::object();
  if (!p.voice.empty())
    j["voice"] = p.voice;
  if (!p.prompts.empty())
    j["prompts"] = p.prompts;
  return j;
}

/// The primary language subtag, lower-cased ("es" of "es-ES").
std::string primary(const std::string& tag) {
  std::string p = tag.substr(0, tag.find('-'));
  for (char& c : p)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return p;
}

bool same_tag(const std::string& a, const std::string& b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

}  // namespace

const char* announce_wait_name(announce_wait a) {
  switch (a) {
    case announce_wait::estimate: return "estimate";
    case announce_wait::range: return "range";
    case announce_wait::less_than: return "less-than";
    case announce_wait::off: return "off";
  }
  return "estimate";
}

const std::vector<std::string>& prompt_keys() {
  static const std::vector<std::string> keys = {"greeting", "greetingUnknown", "position", "wait",
                                                "callbackOffer", "callbackConfirmed", "full"};
  return keys;
}

bool is_speech_field(const std::string& key) {
  return key == "language" || key == "voice" || key == "prompts" || key == "languages" ||
         key == "announceWait";
}

bool valid_language_tag(const std::string& tag) {
  // 2-3 letters, then any number of '-' and 1-8 letters or digits; a loop,
  // not std::regex, as a voice webhook's lang= is checked on every request.
  if (tag.size() > 35)
    return false;
  size_t i = 0;
  while (i < tag.size() && std::isalpha(static_cast<unsigned char>(tag[i])))
    ++i;
  if (i < 2 || i > 3)
    return false;
  while (i < tag.size()) {
    if (tag[i] != '-')
      return false;
    size_t start = ++i;
    while (i < tag.size() && std::isalnum(static_cast<unsigned char>(tag[i])))
      ++i;
    if (i - start < 1 || i - start > 8)
      return false;
  }
  return true;
}

status parse_speech_field(const std::string& key, const json& v, speech_config* out) {
  if (key == "language") {
    if (!v.is_string() || !valid_language_tag(v.get<std::string>()))
      return bad("language must be a BCP 47 language tag such as en-US");
    out->language = v.get<std::string>();
  } else if (key == "voice") {
    return parse_voice(v, "voice", &out->main.voice);
  } else if (key == "prompts") {
    return parse_prompts(v, "prompts", &out->main.prompts);
  } else if (key == "announceWait") {
    std::string w = v.is_string() ? v.get<std::string>() : "";
    for (auto a : {announce_wait::estimate, announce_wait::range, announce_wait::less_than,
                   announce_wait::off})
      if (w == announce_wait_name(a)) {
        out->announce = a;
        return status::ok();
      }
    return bad("announceWait must be one of estimate, range, less-than, off");
  } else if (key == "languages") {
    if (!v.is_object())
      return bad("languages must be an object of language tag -> {voice, prompts}");
    out->languages.clear();
    for (auto& [tag, entry] : v.items()) {
      if (!valid_language_tag(tag))
        return bad("languages: '" + tag + "' is not a BCP 47 language tag such as es-ES");
      if (!entry.is_object())
        return bad("languages." + tag + " must be an object {voice, prompts}");
      language_prompts lp;
      for (auto& [k, x] : entry.items()) {
        status st = k == "voice"     ? parse_voice(x, "languages." + tag + ".voice", &lp.voice)
                    : k == "prompts" ? parse_prompts(x, "languages." + tag + ".prompts", &lp.prompts)
                                     : bad("languages." + tag + ": unknown field '" + k + "'");
        if (!st)
          return st;
      }
      out->languages[tag] = std::move(lp);
    }
  } else {
    return bad("unknown field '" + key + "'");
  }
  return status::ok();
}

void speech_to_json(const speech_config& c, json* out) {
  if (c.language != "en-US")
    (*out)["language"] = c.language;
  if (!c.main.voice.empty())
    (*out)["voice"] = c.main.voice;
  if (!c.main.prompts.empty())
    (*out)["prompts"] = c.main.prompts;
  if (!c.languages.empty()) {
    json langs = json::object();
    for (auto& [tag, p] : c.languages)
      langs[tag] = prompts_json(p);
    (*out)["languages"] = langs;
  }
  if (c.announce != announce_wait::estimate)
    (*out)["announceWait"] = announce_wait_name(c.announce);
}

speech speech_for(const speech_config& c, const std::string& requested) {
  speech s;
  s.announce = c.announce;
  s.stated = c.language != "en-US" || !c.main.voice.empty() || !c.languages.empty() || !requested.empty();
  auto use = [&](const std::string& tag, const language_prompts& p) {
    s.language = tag;
    s.voice = p.voice;
    s.prompts = p.prompts;
    return s;
  };
  if (requested.empty() || same_tag(requested, c.language))
    return use(c.language, c.main);
  for (auto& [tag, p] : c.languages)
    if (same_tag(tag, requested))
      return use(tag, p);
  std::string want = primary(requested);
  if (primary(c.language) == want)
    return use(c.language, c.main);
  for (auto& [tag, p] : c.languages)
    if (primary(tag) == want)
      return use(tag, p);
  return use(c.language, c.main);
}

}  // namespace callq
