#include "http/twiml.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>

namespace callq::http {

std::string xml_escape(const std::string& s) {
  // One pass: runs of ordinary characters are appended whole (most text,
  // URLs and prompts, is one run).
  static constexpr auto special = [] {
    std::array<bool, 256> t{};
    for (unsigned char c : {'&', '<', '>', '"', '\''})
      t[c] = true;
    return t;
  }();
  std::string out;
  out.reserve(s.size());
  size_t run = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (!special[static_cast<unsigned char>(c)])
      continue;
    out.append(s, run, i - run);
    run = i + 1;
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += "&apos;"; break;
    }
  }
  out.append(s, run, std::string::npos);
  return out;
}

namespace {

using kind = voice_reply::kind;

std::string url(const twiml_settings& s, const std::string& path) {
  return xml_escape(s.public_base_url + "/api/webhooks/twilio/" + path);
}

/// One language's words for a wait.
struct wait_phrases {
  const char* under_a_minute;
  const char* about_one;
  const char* about_n;      ///< %d
  const char* between;      ///< %d, %d
  const char* less_than_n;  ///< %d
};

const wait_phrases& phrases_for(const std::string& language) {
  static const wait_phrases en{"less than a minute", "about 1 minute", "about %d minutes",
                               "between %d and %d minutes", "less than %d minutes"};
  static const wait_phrases es{"menos de un minuto", "un minuto aproximadamente",
                               "unos %d minutos", "entre %d y %d minutos", "menos de %d minutos"};
  static const wait_phrases de{"weniger als eine Minute", "etwa eine Minute", "etwa %d Minuten",
                               "zwischen %d und %d Minuten", "weniger als %d Minuten"};
  static const wait_phrases fr{"moins d'une minute", "environ une minute", "environ %d minutes",
                               "entre %d et %d minutes", "moins de %d minutes"};
  std::string p = language.substr(0, language.find('-'));
  for (char& c : p)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return p == "es" ? es : p == "de" ? de : p == "fr" ? fr : en;
}

std::string format(const char* pattern, int64_t a, int64_t b = 0) {
  char buf[128];
  std::snprintf(buf, sizeof buf, pattern, static_cast<int>(a), static_cast<int>(b));
  return buf;
}

/// Renders the caller's words: the voice and language of `sp`.
class speaker {
 public:
  speaker(const speech& sp, const audio_lookup* audio = nullptr,
          std::vector<std::string>* collect = nullptr)
      : sp_(sp), audio_(audio), collect_(collect) {}

  std::string say(const std::string& text) const {
    if (collect_ != nullptr)
      collect_->push_back(text);
    if (audio_ != nullptr && *audio_) {
      std::string url = (*audio_)(text);
      if (!url.empty())
        return "<Play>" + xml_escape(url) + "</Play>";
    }
    if (!sp_.stated)
      return "<Say>" + xml_escape(text) + "</Say>";
    std::string open = "<Say";
    if (!sp_.voice.empty())
      open += " voice=\"" + xml_escape(sp_.voice) + "\"";
    open += " language=\"" + xml_escape(sp_.language.empty() ? "en-US" : sp_.language) + "\">";
    return open + xml_escape(text) + "</Say>";
  }
  /// The queue's wording of `key` (else `fallback`), placeholders filled.
  std::string prompt(const std::string& key, const std::string& fallback,
                     const std::map<std::string, std::string>& fills = {}) const {
    auto i = sp_.prompts.find(key);
    std::string text = i != sp_.prompts.end() ? i->second : fallback;
    for (auto& [name, value] : fills) {
      std::string token = "{" + name + "}";
      for (size_t at = text.find(token); at != std::string::npos; at = text.find(token, at + value.size())) {
        text.replace(at, token.size(), value);
      }
    }
    return text;
  }
  const speech& sp() const { return sp_; }

 private:
  const speech& sp_;
  const audio_lookup* audio_;
  std::vector<std::string>* collect_;
};


/// The last words before callq hangs up on a caller.
std::string goodbye(const speaker& t) { return t.say("Thank you for calling. Goodbye.") + "<Hangup/>"; }

std::string enqueue(const voice_reply& v, const twiml_settings& s, const speaker& t) {
  std::string out;
  if (v.greet)
    out += t.say(v.greeting_name.empty()
                     ? t.prompt("greetingUnknown",
                                "Thank you for calling. Please hold and the next available agent will be with you.")
                     : t.prompt("greeting",
                                "Hello {name}, thank you for calling. Please hold and the next available agent "
                                "will be with you.",
                                {{"name", v.greeting_name}}));
  out += "<Enqueue action=\"" + url(s, "queue-handler") + "\" method=\"POST\" waitUrl=\"" +
         url(s, "queue-hold-music") + "\" waitUrlMethod=\"POST\">" + xml_escape(v.queue) +
         "</Enqueue>";
  return out;
}

std::string callback_offer(const speaker& t, const std::string& fallback) {
  return t.prompt("callbackOffer", fallback);
}

std::string hold(const voice_reply& v, const twiml_settings& s, const speaker& t) {
  std::string out;
  if (v.announce) {
    std::string text = t.prompt("position", "You are number {position} in the queue.",
                                {{"position", std::to_string(v.position)}});
    std::string wait = wait_words(v, t.sp());
    if (!wait.empty())
      text += " " + t.prompt("wait", "Your estimated wait is {wait}.", {{"wait", wait}});
    out += t.say(text);
  }
  if (v.offer_callback)
    out += "<Gather numDigits=\"1\" action=\"" + url(s, "callback-response") +
           "\" method=\"POST\" timeout=\"5\">" +
           t.say(callback_offer(t, "Press 1 to be called back when an agent is free. You will keep your place in the queue.")) +
           "</Gather>";
  if (s.hold_music && v.music)
    out += "<Play>" + xml_escape(s.hold_music_url) + "</Play>";
  else
    out += "<Pause length=\"20\"/>";
  return out;
}

/// The TwiML of `v`, said by `t`.
std::string render_with(const voice_reply& v, const twiml_settings& s, const speaker& t);

}  // namespace

std::string wait_words(const voice_reply& v, const speech& sp) {
  const wait_phrases& w = phrases_for(sp.language);
  auto minutes_up = [](int64_t seconds) { return (seconds + 59) / 60; };
  switch (sp.announce) {
    case announce_wait::off:
      return "";
    case announce_wait::estimate: {
      if (v.wait_estimate_seconds < 60)
        return w.under_a_minute;
      int64_t m = minutes_up(v.wait_estimate_seconds);
      return m == 1 ? w.about_one : format(w.about_n, m);
    }
    case announce_wait::range: {
      int64_t lo = v.wait_low_seconds / 60, hi = std::max<int64_t>(1, minutes_up(v.wait_high_seconds));
      if (hi <= 1)
        return w.under_a_minute;
      if (lo <= 0)
        return format(w.less_than_n, hi);
      if (lo >= hi)
        return format(w.about_n, hi);
      return format(w.between, lo, hi);
    }
    case announce_wait::less_than: {
      int64_t hi = std::max<int64_t>(1, minutes_up(v.wait_high_seconds));
      return hi <= 1 ? w.under_a_minute : format(w.less_than_n, hi);
    }
  }
  return "";
}

std::string render_twiml(const voice_reply& v, const twiml_settings& s, const speech& sp,
                         const audio_lookup& audio) {
  return render_with(v, s, speaker(sp, &audio));
}

std::vector<std::string> fixed_texts(const speech& sp, const std::string& caller_name) {
  std::vector<std::string> texts;
  speaker t(sp, nullptr, &texts);
  twiml_settings s;
  using k = voice_reply::kind;
  voice_reply greet{k::enqueue};
  greet.greet = true;
  greet.greeting_name = caller_name;
  voice_reply hold{k::hold};
  hold.offer_callback = true;
  voice_reply busy{k::refused};
  busy.offer_callback = true;
  for (const voice_reply& v : {greet, hold, busy, voice_reply{k::callback_confirmed}, voice_reply{k::callback_declined},
                               voice_reply{k::callback_impossible}, voice_reply{k::goodbye}, voice_reply{k::unavailable},
                               voice_reply{k::callback_booked}})
    render_with(v, s, t);
  return texts;
}

std::vector<std::string> nearby_hold_texts(const voice_reply& v, const speech& sp) {
  std::vector<std::string> texts;
  if (v.what != kind::hold || !v.announce)
    return texts;
  speaker t(sp, nullptr, &texts);
  twiml_settings s;
  for (int64_t dp : {0, 1, -1})
    for (int64_t dw : {0, 60, -60}) {
      voice_reply n = v;
      n.position = v.position + dp;
      if (n.position < 1)
        continue;
      n.offer_callback = false;  // the announcement alone
      n.wait_estimate_seconds = std::max<int64_t>(0, v.wait_estimate_seconds + dw);
      n.wait_low_seconds = std::max<int64_t>(0, v.wait_low_seconds + dw);
      n.wait_high_seconds = std::max<int64_t>(0, v.wait_high_seconds + dw);
      hold(n, s, t);
    }
  std::vector<std::string> unique;
  for (auto& x : texts)
    if (std::find(unique.begin(), unique.end(), x) == unique.end())
      unique.push_back(x);
  return unique;
}

namespace {

std::string render_with(const voice_reply& v, const twiml_settings& s, const speaker& t) {
  std::string body;
  switch (v.what) {
    case kind::empty:
      return "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response/>";
    case kind::enqueue:
      body = enqueue(v, s, t);
      break;
    case kind::dial_agent: {
      auto client = [&](const std::string& leg_query, const std::string& identity) {
        return "<Client statusCallbackEvent=\"answered completed\" statusCallback=\"" +
               url(s, "agent-leg-status?offer=" + v.offer_id + leg_query) + "\">" +
               xml_escape(identity) + "</Client>";
      };
      body = "<Dial action=\"" + url(s, "dial-result?offer=" + v.offer_id) + "\" timeout=\"" +
             std::to_string(s.offer_timeout_seconds) + "\">";
      if (v.ring_all.empty())
        body += client("", v.identity);
      for (auto& [agent, identity] : v.ring_all)  // ring-all: each leg says whose it is
        body += client("&agent=" + agent, identity);
      body += "</Dial>";
      break;
    }
    case kind::hold:
      body = hold(v, s, t);
      break;
    case kind::callback_confirmed:
      body = t.say(t.prompt("callbackConfirmed",
                            "Thank you. We will call you back at this number as soon as an agent is free. "
                            "You keep your place in the queue. Goodbye.")) +
             "<Leave/>";
      break;
    case kind::callback_declined:
      body = t.say("Please continue to hold.");
      break;
    case kind::callback_impossible:
      body = t.say("We are sorry, we cannot call you back on the line you are calling from. "
                   "Please continue to hold.");
      break;
    case kind::goodbye:
      body = goodbye(t);
      break;
    case kind::hangup:
      body = "<Hangup/>";
      break;
    case kind::callback_dial:
      body = "<Dial callerId=\"" + xml_escape(s.caller_id) + "\" action=\"" +
             url(s, "callback-result?callback=" + v.callback_id) + "\">" + xml_escape(v.number) +
             "</Dial>";
      break;
    case kind::refused:
      if (v.closed)
        body = t.say(v.message.empty() ? "We are closed right now." : v.message);
      else
        body = t.say(t.prompt("full", "We are sorry, all our agents are busy right now."));
      if (v.offer_callback)
        body += "<Gather numDigits=\"1\" action=\"" + url(s, "callback-response") +
                "\" method=\"POST\" timeout=\"8\">" +
                t.say(v.closed ? "Press 1 to be called back at this number when we open."
                               : callback_offer(t, "Press 1 to be called back at this number as soon as an agent is free.")) +
                "</Gather>";
      body += goodbye(t);
      break;
    case kind::callback_booked:
      body = t.say(v.closed ? "Thank you. We will call you back at this number when we open. Goodbye."
                            : t.prompt("callbackConfirmed",
                                       "Thank you. We will call you back at this number as soon as an agent is "
                                       "free. Goodbye.")) +
             "<Hangup/>";
      break;
    case kind::unavailable:
      body = t.say("We are sorry, we cannot take your call right now. Please try again later.") +
             "<Hangup/>";
      break;
  }
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response>" + body + "</Response>";
}

}  // namespace

}  // namespace callq::http
