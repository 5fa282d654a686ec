#include "http/twiml.hpp"

#include <algorithm>
#include <map>

#include <catch2/catch.hpp>

using namespace callq;
using namespace callq::http;

namespace {
twiml_settings settings() {
  twiml_settings s;
  s.public_base_url = "https://callq.example.com";
  s.offer_timeout_seconds = 20;
  s.hold_music_url = "https://music.example.com/a.mp3?x=1&y=2";
  s.caller_id = "+15550000000";
  return s;
}
/// What a queue nobody configured says.
const speech plain = speech_for(speech_config{}, "");
/// The first answer to a caller named `name` (empty: unknown): greeted,
/// then enqueued in support.
voice_reply greeting(const std::string& name) {
  voice_reply v;
  v.what = voice_reply::kind::enqueue;
  v.queue = "support";
  v.greet = true;
  v.greeting_name = name;
  return v;
}
/// A hold reply that announces `position` and an estimate of `wait_seconds`.
voice_reply announcing(int64_t position, int64_t wait_seconds) {
  voice_reply h;
  h.what = voice_reply::kind::hold;
  h.announce = true;
  h.position = position;
  h.wait_estimate_seconds = wait_seconds;
  return h;
}
}  // namespace

TEST_CASE("enqueue greets by name and points Twilio at callq's URLs") {
  voice_reply v = greeting("Ada <Lovelace> & co");
  auto x = render_twiml(v, settings(), plain);
  CHECK(x.find("Hello Ada &lt;Lovelace&gt; &amp; co") != std::string::npos);
  CHECK(x.find("<Enqueue action=\"https://callq.example.com/api/webhooks/twilio/queue-handler\" "
               "method=\"POST\" waitUrl=\"https://callq.example.com/api/webhooks/twilio/queue-hold-music\" "
               "waitUrlMethod=\"POST\">support</Enqueue>") != std::string::npos);
}

TEST_CASE("dial_agent dials the client with the offer's callbacks") {
  voice_reply v;
  v.what = voice_reply::kind::dial_agent;
  v.offer_id = "OF7";
  v.identity = "alice";
  CHECK(render_twiml(v, settings(), plain) ==
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Dial "
        "action=\"https://callq.example.com/api/webhooks/twilio/dial-result?offer=OF7\" "
        "timeout=\"20\"><Client statusCallbackEvent=\"answered completed\" "
        "statusCallback=\"https://callq.example.com/api/webhooks/twilio/agent-leg-status?offer=OF7\">"
        "alice</Client></Dial></Response>");
}

TEST_CASE("dial_agent for ring-all dials every client, each leg's callback naming its agent") {
  voice_reply v;
  v.what = voice_reply::kind::dial_agent;
  v.offer_id = "OF8";
  v.identity = "client-ann";
  v.ring_all = {{"ann", "client-ann"}, {"bob", "client-bob"}};
  CHECK(render_twiml(v, settings(), plain) ==
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Dial "
        "action=\"https://callq.example.com/api/webhooks/twilio/dial-result?offer=OF8\" "
        "timeout=\"20\"><Client statusCallbackEvent=\"answered completed\" "
        "statusCallback=\"https://callq.example.com/api/webhooks/twilio/agent-leg-status?offer=OF8&amp;agent=ann\">"
        "client-ann</Client><Client statusCallbackEvent=\"answered completed\" "
        "statusCallback=\"https://callq.example.com/api/webhooks/twilio/agent-leg-status?offer=OF8&amp;agent=bob\">"
        "client-bob</Client></Dial></Response>");
}

TEST_CASE("hold music with position, wait and the callback offer") {
  voice_reply v;
  v.what = voice_reply::kind::hold;
  v.announce = true;
  v.position = 3;
  v.wait_estimate_seconds = 130;
  v.offer_callback = true;
  auto x = render_twiml(v, settings(), plain);
  CHECK(x.find("You are number 3 in the queue. Your estimated wait is about 3 minutes.") != std::string::npos);
  CHECK(x.find("<Gather numDigits=\"1\" action=\"https://callq.example.com/api/webhooks/twilio/callback-response\"") != std::string::npos);
  CHECK(x.find("<Play>https://music.example.com/a.mp3?x=1&amp;y=2</Play>") != std::string::npos);
  v.announce = false;
  v.offer_callback = false;
  auto s = settings();
  s.hold_music = false;
  x = render_twiml(v, s, plain);
  CHECK(x.find("<Say") == std::string::npos);
  CHECK(x.find("<Pause") != std::string::npos);
}

TEST_CASE("the other answers") {
  auto s = settings();
  CHECK(render_twiml({voice_reply::kind::empty}, s, plain) == "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response/>");
  CHECK(render_twiml({voice_reply::kind::hangup}, s, plain).find("<Response><Hangup/></Response>") != std::string::npos);
  CHECK(render_twiml({voice_reply::kind::callback_confirmed}, s, plain).find("</Say><Leave/></Response>") != std::string::npos);
  CHECK(render_twiml({voice_reply::kind::goodbye}, s, plain).find("</Say><Hangup/></Response>") != std::string::npos);
  voice_reply cb;
  cb.what = voice_reply::kind::callback_dial;
  cb.callback_id = "CB1";
  cb.number = "+15551112222";
  CHECK(render_twiml(cb, s, plain).find("<Dial callerId=\"+15550000000\" action=\"https://callq.example.com/api/webhooks/twilio/callback-result?callback=CB1\">+15551112222</Dial>") != std::string::npos);
}

TEST_CASE("every <Say> carries the caller's language and the queue's voice and wording") {
  speech_config c;
  c.main.voice = "Polly.Joanna";
  c.main.prompts["greeting"] = "Welcome back, {name}!";
  c.languages["es-ES"] = {"Polly.Lucia",
                          {{"greetingUnknown", "Gracias por llamar."},
                           {"position", "Usted es el número {position}."},
                           {"wait", "Su espera es de {wait}."}}};
  voice_reply v = greeting("Ada & <Bob>");
  auto x = render_twiml(v, settings(), speech_for(c, ""));
  CHECK(x.find("<Say voice=\"Polly.Joanna\" language=\"en-US\">Welcome back, Ada &amp; &lt;Bob&gt;!</Say>") !=
        std::string::npos);
  v.greeting_name.clear();
  x = render_twiml(v, settings(), speech_for(c, "es-MX"));
  CHECK(x.find("<Say voice=\"Polly.Lucia\" language=\"es-ES\">Gracias por llamar.</Say>") != std::string::npos);
  voice_reply h;
  h.what = voice_reply::kind::hold;
  h.announce = true;
  h.position = 2;
  h.wait_estimate_seconds = 200;
  h.wait_low_seconds = 70;
  h.wait_high_seconds = 400;
  x = render_twiml(h, settings(), speech_for(c, "es-ES"));
  CHECK(x.find(">Usted es el número 2. Su espera es de unos 4 minutos.</Say>") != std::string::npos);
  // Every other answer speaks the language too.
  for (auto k : {voice_reply::kind::goodbye, voice_reply::kind::callback_confirmed, voice_reply::kind::unavailable,
                 voice_reply::kind::refused, voice_reply::kind::callback_declined}) {
    voice_reply o;
    o.what = k;
    std::string t = render_twiml(o, settings(), speech_for(c, "es-ES"));
    INFO(t);
    CHECK(t.find("<Say voice=\"Polly.Lucia\" language=\"es-ES\">") != std::string::npos);
    CHECK(t.find("<Say>") == std::string::npos);
  }
}

TEST_CASE("announceWait: the estimate, the 10th-90th percentile range, less than the 90th, or nothing") {
  voice_reply h;
  h.what = voice_reply::kind::hold;
  h.wait_estimate_seconds = 200;
  h.wait_low_seconds = 70;
  h.wait_high_seconds = 400;
  speech sp = plain;
  CHECK(wait_words(h, sp) == "about 4 minutes");
  sp.announce = announce_wait::range;
  CHECK(wait_words(h, sp) == "between 1 and 7 minutes");
  sp.announce = announce_wait::less_than;
  CHECK(wait_words(h, sp) == "less than 7 minutes");
  sp.announce = announce_wait::off;
  CHECK(wait_words(h, sp).empty());
  h.announce = true;
  h.position = 1;
  auto x = render_twiml(h, settings(), sp);
  CHECK(x.find(">You are number 1 in the queue.</Say>") != std::string::npos);  // no wait said
  sp.announce = announce_wait::range;
  h.wait_low_seconds = 20;
  h.wait_high_seconds = 50;
  CHECK(wait_words(h, sp) == "less than a minute");
  h.wait_high_seconds = 170;
  CHECK(wait_words(h, sp) == "less than 3 minutes");  // from 0: "less than"
  sp.language = "de-DE";
  CHECK(wait_words(h, sp) == "weniger als 3 Minuten");
}

TEST_CASE("the sentences asked for ahead after an announcement: positions one either side, waits a minute either side") {
  voice_reply h = announcing(2, 130);  // about 3 minutes
  h.offer_callback = true;  // its words are among the fixed texts, not these
  auto texts = nearby_hold_texts(h, plain);
  auto sentence = [](int position, const std::string& wait) {
    return "You are number " + std::to_string(position) + " in the queue. Your estimated wait is " + wait + ".";
  };
  std::vector<std::string> want;
  for (int p : {2, 3, 1})
    for (const char* w : {"about 3 minutes", "about 4 minutes", "about 2 minutes"})
      want.push_back(sentence(p, w));
  CHECK(texts == want);
  // Never below position 1; a wait near zero gives each phrase once.
  h.position = 1;
  h.wait_estimate_seconds = 30;
  texts = nearby_hold_texts(h, plain);
  CHECK(texts == std::vector<std::string>{sentence(1, "less than a minute"), sentence(1, "about 2 minutes"),
                                          sentence(2, "less than a minute"), sentence(2, "about 2 minutes")});
  // Nothing announced, nothing asked for.
  h.announce = false;
  CHECK(nearby_hold_texts(h, plain).empty());
  h.announce = true;
  h.what = voice_reply::kind::enqueue;
  CHECK(nearby_hold_texts(h, plain).empty());
}

TEST_CASE("with TTS_SPLICE an announcement not rendered whole is played from its rendered pieces: said when one is missing") {
  voice_reply h = announcing(7, 700);  // about 12 minutes
  h.music = false;
  const std::string whole = "You are number 7 in the queue. Your estimated wait is about 12 minutes.";
  const std::vector<std::string> pieces = {"You are number", "7", "in the queue.", "Your estimated wait is",
                                           "about", "12", "minutes"};
  std::map<std::string, std::string> stored;
  std::vector<std::string> asked;
  audio_lookup audio = [&](const std::string& text) {
    asked.push_back(text);
    auto i = stored.find(text);
    return i == stored.end() ? std::string() : i->second;
  };
  for (size_t i = 0; i < pieces.size(); ++i)
    stored[pieces[i]] = "https://callq.example.com/audio/p" + std::to_string(i) + ".mp3";
  // Without TTS_SPLICE (the default), a text not rendered yet is said.
  std::string x = render_twiml(h, settings(), plain, audio);
  CHECK(x.find("<Say>" + whole + "</Say>") != std::string::npos);
  CHECK(x.find("<Play>") == std::string::npos);
  CHECK(asked == std::vector<std::string>{whole});
  asked.clear();
  twiml_settings s = settings();
  s.splice = true;
  x = render_twiml(h, s, plain, audio);
  INFO(x);
  CHECK(x == "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response>"
             "<Play>https://callq.example.com/audio/p0.mp3</Play><Play>https://callq.example.com/audio/p1.mp3</Play>"
             "<Play>https://callq.example.com/audio/p2.mp3</Play><Play>https://callq.example.com/audio/p3.mp3</Play>"
             "<Play>https://callq.example.com/audio/p4.mp3</Play><Play>https://callq.example.com/audio/p5.mp3</Play>"
             "<Play>https://callq.example.com/audio/p6.mp3</Play><Pause length=\"20\"/></Response>");
  CHECK(asked.front() == whole);  // the whole is asked for first, for the next hearer
  // One piece missing: the whole is said, and every piece was still asked for.
  stored.erase("12");
  asked.clear();
  x = render_twiml(h, s, plain, audio);
  CHECK(x.find("<Say>" + whole + "</Say>") != std::string::npos);
  CHECK(x.find("<Play>") == std::string::npos);
  std::vector<std::string> want = {whole};
  want.insert(want.end(), pieces.begin(), pieces.end());
  CHECK(asked == want);
  // The whole rendered: played alone.
  stored[whole] = "https://callq.example.com/audio/w.mp3";
  x = render_twiml(h, s, plain, audio);
  CHECK(x.find("<Play>https://callq.example.com/audio/w.mp3</Play><Pause") != std::string::npos);
  CHECK(x.find("p0.mp3") == std::string::npos);
}

TEST_CASE("the pieces rendered ahead: the prompts' words around their placeholders, the wait phrases' words, numbers 1-60") {
  auto texts = splice_texts(plain);
  auto has = [&](const std::string& t) { return std::find(texts.begin(), texts.end(), t) != texts.end(); };
  for (const char* t : {"You are number", "in the queue.", "Your estimated wait is", "less than a minute",
                        "about 1 minute", "about", "minutes", "between", "and", "less than", "1", "12", "60"})
    CHECK(has(t));
  CHECK_FALSE(has("61"));
  CHECK_FALSE(has("."));  // a full stop alone is no piece
  CHECK(std::count(texts.begin(), texts.end(), "minutes") == 1);  // each once
  // A queue's own wording and language; no wait words when none is said.
  speech_config c;
  c.language = "es-ES";
  c.main.prompts = {{"position", "Usted es el número {position}."}, {"wait", "Su espera es de {wait}."}};
  c.announce = announce_wait::off;
  texts = splice_texts(speech_for(c, ""));
  CHECK(texts.front() == "Usted es el número");
  CHECK_FALSE(has("Su espera es de"));
  CHECK_FALSE(has("unos"));
  CHECK(texts.size() == 1 + spliced_numbers);
  c.announce = announce_wait::range;
  texts = splice_texts(speech_for(c, ""));
  for (const char* t : {"Su espera es de", "entre", "y", "minutos", "menos de un minuto"})
    CHECK(has(t));
}

TEST_CASE("xml_escape escapes the five characters wherever they are and copies the rest") {
  CHECK(xml_escape("") == "");
  CHECK(xml_escape("https://callq.example.com/api/webhooks/twilio/wait") ==
        "https://callq.example.com/api/webhooks/twilio/wait");
  CHECK(xml_escape("&start") == "&amp;start");
  CHECK(xml_escape("a<b>c\"d'e&") == "a&lt;b&gt;c&quot;d&apos;e&amp;");
  CHECK(xml_escape("plain then <") == "plain then &lt;");
}

TEST_CASE("wait words at their bounds: a minute, a range that closes, less than a minute, by language") {
  voice_reply h;
  h.what = voice_reply::kind::hold;
  speech sp = plain;
  h.wait_estimate_seconds = 59;
  CHECK(wait_words(h, sp) == "less than a minute");
  h.wait_estimate_seconds = 60;
  CHECK(wait_words(h, sp) == "about 1 minute");
  h.wait_estimate_seconds = 61;
  CHECK(wait_words(h, sp) == "about 2 minutes");  // minutes rounded up
  sp.announce = announce_wait::range;
  h.wait_low_seconds = 130;  // 2 minutes down
  h.wait_high_seconds = 120;  // 2 minutes up
  CHECK(wait_words(h, sp) == "about 2 minutes");  // a range with one end
  sp.announce = announce_wait::less_than;
  h.wait_high_seconds = 60;
  CHECK(wait_words(h, sp) == "less than a minute");
  h.wait_high_seconds = 61;
  CHECK(wait_words(h, sp) == "less than 2 minutes");
  sp.announce = announce_wait::estimate;
  h.wait_estimate_seconds = 200;
  sp.language = "fr-FR";
  CHECK(wait_words(h, sp) == "environ 4 minutes");
  sp.language = "ES-es";  // tags without case
  CHECK(wait_words(h, sp) == "unos 4 minutos");
}

TEST_CASE("a <Say> names the voice only when there is one, and en-US when no language is known") {
  speech sp = speech_for(speech_config{}, "es-ES");  // the caller asked: stated, no voice
  REQUIRE(sp.stated);
  std::string x = render_twiml({voice_reply::kind::goodbye}, settings(), sp);
  CHECK(x.find("<Say language=\"en-US\">Thank you") != std::string::npos);
  speech bare;
  bare.stated = true;
  CHECK(render_twiml({voice_reply::kind::goodbye}, settings(), bare).find("<Say language=\"en-US\">") !=
        std::string::npos);
}

TEST_CASE("a caller's name that holds a placeholder is put in once, as it is") {
  voice_reply v = greeting("Ann {name}");
  CHECK(render_twiml(v, settings(), plain).find("Hello Ann {name}, thank you") != std::string::npos);
  v.greet = false;  // a call queued again: no greeting
  CHECK(render_twiml(v, settings(), plain).find("<Response><Enqueue ") != std::string::npos);
}

TEST_CASE("refusals: the closed message, and the callback offer when there is one") {
  voice_reply r;
  r.what = voice_reply::kind::refused;
  r.closed = true;
  r.message = "We open at 9.";
  std::string x = render_twiml(r, settings(), plain);
  CHECK(x.find("<Say>We open at 9.</Say>") != std::string::npos);
  CHECK(x.find("<Gather") == std::string::npos);
  r.offer_callback = true;
  x = render_twiml(r, settings(), plain);
  CHECK(x.find("<Gather numDigits=\"1\" "
               "action=\"https://callq.example.com/api/webhooks/twilio/callback-response\"") != std::string::npos);
  CHECK(x.find("when we open.") != std::string::npos);
}

TEST_CASE("a range's pieces put each of its numbers in its own place") {
  voice_reply h = announcing(2, 200);
  h.wait_low_seconds = 70;
  h.wait_high_seconds = 400;
  speech sp = plain;
  sp.announce = announce_wait::range;
  std::vector<std::string> asked;
  audio_lookup audio = [&](const std::string& text) {
    asked.push_back(text);
    return std::string();
  };
  twiml_settings s = settings();
  s.splice = true;
  render_twiml(h, s, sp, audio);
  CHECK(asked == std::vector<std::string>{
                     "You are number 2 in the queue. Your estimated wait is between 1 and 7 minutes.",
                     "You are number", "2", "in the queue.", "Your estimated wait is", "between", "1", "and",
                     "7", "minutes"});
}

TEST_CASE("a piece in letters beyond ASCII alone is a piece") {
  speech_config c;
  c.language = "el-GR";
  c.main.prompts = {{"position", "\xce\x98\xce\xad\xcf\x83\xce\xb7 {position}."}};  // "Θέση"
  c.announce = announce_wait::off;
  CHECK(splice_texts(speech_for(c, "")).front() == "\xce\x98\xce\xad\xcf\x83\xce\xb7");
}
