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

/// What `{wait}` says, before its numbers are put in: one of a language's
/// wait_phrases, with the minutes for its first and second %d.
struct wait_form {
  const char* pattern = nullptr;  ///< none: nothing is said (`off`)
  int64_t a = 0, b = 0;
};

wait_form wait_form_of(const voice_reply& v, const speech& sp) {
  const wait_phrases& w = phrases_for(sp.language);
  auto minutes_up = [](int64_t seconds) { return (seconds + 59) / 60; };
  switch (sp.announce) {
    case announce_wait::off:
      return {};
    case announce_wait::estimate: {
      if (v.wait_estimate_seconds < 60)
        return {w.under_a_minute};
      int64_t m = minutes_up(v.wait_estimate_seconds);
      return m == 1 ? wait_form{w.about_one} : wait_form{w.about_n, m};
    }
    case announce_wait::range: {
      int64_t lo = v.wait_low_seconds / 60, hi = std::max<int64_t>(1, minutes_up(v.wait_high_seconds));
      if (hi <= 1)
        return {w.under_a_minute};
      if (lo <= 0)
        return {w.less_than_n, hi};
      if (lo >= hi)
        return {w.about_n, hi};
      return {w.between, lo, hi};
    }
    case announce_wait::less_than: {
      int64_t hi = std::max<int64_t>(1, minutes_up(v.wait_high_seconds));
      return hi <= 1 ? wait_form{w.under_a_minute} : wait_form{w.less_than_n, hi};
    }
  }
  return {};
}

/// Appends `words`, trimmed of spaces, to `out` when they hold something
/// to say: a letter or a digit (any byte beyond ASCII counts as a letter),
/// so that a lone full stop is not a piece of its own.
void add_words(std::vector<std::string>& out, const std::string& words) {
  size_t from = words.find_first_not_of(' ');
  if (from == std::string::npos)
    return;
  std::string w = words.substr(from, words.find_last_not_of(' ') - from + 1);
  if (std::any_of(w.begin(), w.end(), [](char c) {
        auto u = static_cast<unsigned char>(c);
        return u >= 0x80 || std::isalnum(u) != 0;
      }))
    out.push_back(std::move(w));
}

/// The pieces `text` can be played from: the words between each `token`
/// (add_words()) and, in the place of the i-th token, `fills[i]` (the
/// last of `fills` for any further token; nothing when `fills` is empty).
std::vector<std::string> pieces_of(const std::string& text, const std::string& token,
                                   const std::vector<std::vector<std::string>>& fills) {
  std::vector<std::string> out;
  size_t from = 0, nth = 0;
  for (size_t at = text.find(token); at != std::string::npos; at = text.find(token, from), ++nth) {
    add_words(out, text.substr(from, at - from));
    if (!fills.empty()) {
      auto& fill = fills[std::min(nth, fills.size() - 1)];
      out.insert(out.end(), fill.begin(), fill.end());
    }
    from = at + token.size();
  }
  add_words(out, text.substr(from));
  return out;
}

/// The pieces the words of `f` can be played from: its words around its
/// numbers, and each number alone.
std::vector<std::string> wait_pieces(const wait_form& f) {
  if (f.pattern == nullptr)
    return {};
  return pieces_of(f.pattern, "%d", {{std::to_string(f.a)}, {std::to_string(f.b)}});
}

/// Renders the caller's words: the voice and language of `sp`.
class speaker {
 public:
  speaker(const speech& sp, const audio_lookup* audio = nullptr,
          std::vector<std::string>* collect = nullptr)
      : sp_(sp), audio_(audio), collect_(collect) {}

  /// `text` as TwiML: its audio when rendered, else (when `pieces` are
  /// given) the audio of each piece in turn when every one is rendered,
  /// else <Say>. Each text or piece without audio is asked for by the
  /// look-up, for the next caller who hears it.
  std::string say(const std::string& text, const std::vector<std::string>& pieces = {}) const {
    if (collect_ != nullptr)
      collect_->push_back(text);
    if (plays()) {
      std::string url = (*audio_)(text);
      if (!url.empty())
        return play(url);
      std::string spliced;
      bool all = !pieces.empty();
      for (auto& piece : pieces) {
        std::string part = (*audio_)(piece);  // asked for even after a miss
        all = all && !part.empty();
        if (all)
          spliced += play(part);
      }
      if (all)
        return spliced;
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
    std::string text = wording(key, fallback);
    for (auto& [name, value] : fills) {
      std::string token = "{" + name + "}";
      for (size_t at = text.find(token); at != std::string::npos; at = text.find(token, at + value.size())) {
        text.replace(at, token.size(), value);
      }
    }
    return text;
  }
  /// The pieces the queue's wording of `key` (else `fallback`) can be
  /// played from: its words around each `{name}` and, in its place,
  /// `value` (pieces_of()).
  std::vector<std::string> prompt_pieces(const std::string& key, const std::string& fallback,
                                         const std::string& name,
                                         const std::vector<std::string>& value) const {
    return pieces_of(wording(key, fallback), "{" + name + "}", {value});
  }
  const speech& sp() const { return sp_; }
  /// Whether rendered audio may be played (a look-up is set).
  bool plays() const { return audio_ != nullptr && *audio_; }

 private:
  static std::string play(const std::string& url) { return "<Play>" + xml_escape(url) + "</Play>"; }
  /// The queue's wording of `key`, else `fallback`.
  const std::string& wording(const std::string& key, const std::string& fallback) const {
    auto i = sp_.prompts.find(key);
    return i != sp_.prompts.end() ? i->second : fallback;
  }

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

/// callq's wording of the announcement's two sentences.
const std::string position_wording = "You are number {position} in the queue.";
const std::string wait_wording = "Your estimated wait is {wait}.";

std::string hold(const voice_reply& v, const twiml_settings& s, const speaker& t) {
  std::string out;
  if (v.announce) {
    std::string position = std::to_string(v.position);
    std::string text = t.prompt("position", position_wording, {{"position", position}});
    wait_form f = wait_form_of(v, t.sp());
    if (f.pattern != nullptr)
      text += " " + t.prompt("wait", wait_wording, {{"wait", format(f.pattern, f.a, f.b)}});
    std::vector<std::string> pieces;  // only where they may be played
    if (s.splice && t.plays()) {
      pieces = t.prompt_pieces("position", position_wording, "position", {position});
      if (f.pattern != nullptr) {
        auto more = t.prompt_pieces("wait", wait_wording, "wait", wait_pieces(f));
        pieces.insert(pieces.end(), more.begin(), more.end());
      }
    }
    out += t.say(text, pieces);
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
  wait_form f = wait_form_of(v, sp);
  return f.pattern == nullptr ? std::string() : format(f.pattern, f.a, f.b);
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

std::vector<std::string> splice_texts(const speech& sp) {
  std::vector<std::string> texts;
  speaker t(sp);
  auto add = [&](const std::vector<std::string>& pieces) {
    for (auto& p : pieces)
      if (std::find(texts.begin(), texts.end(), p) == texts.end())
        texts.push_back(p);
  };
  add(t.prompt_pieces("position", position_wording, "position", {}));
  if (sp.announce != announce_wait::off) {
    add(t.prompt_pieces("wait", wait_wording, "wait", {}));
    const wait_phrases& w = phrases_for(sp.language);
    for (const char* pattern : {w.under_a_minute, w.about_one, w.about_n, w.between, w.less_than_n})
      add(pieces_of(pattern, "%d", {}));
  }
  for (int n = 1; n <= spliced_numbers; ++n)
    add({std::to_string(n)});
  return texts;
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
