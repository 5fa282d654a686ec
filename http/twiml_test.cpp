#include "http/twiml.hpp"

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
}  // namespace

TEST_CASE("enqueue greets by name and points Twilio at callq's URLs") {
  voice_reply v;
  v.what = voice_reply::kind::enqueue;
  v.queue = "support";
  v.greet = true;
  v.greeting_name = "Ada <Lovelace> & co";
  auto x = render_twiml(v, settings());
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
  CHECK(render_twiml(v, settings()) ==
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
  CHECK(render_twiml(v, settings()) ==
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
  auto x = render_twiml(v, settings());
  CHECK(x.find("You are number 3 in the queue. Your estimated wait is about 3 minutes.") != std::string::npos);
  CHECK(x.find("<Gather numDigits=\"1\" action=\"https://callq.example.com/api/webhooks/twilio/callback-response\"") != std::string::npos);
  CHECK(x.find("<Play>https://music.example.com/a.mp3?x=1&amp;y=2</Play>") != std::string::npos);
  v.announce = false;
  v.offer_callback = false;
  auto s = settings();
  s.hold_music = false;
  x = render_twiml(v, s);
  CHECK(x.find("<Say>") == std::string::npos);
  CHECK(x.find("<Pause") != std::string::npos);
}

TEST_CASE("the other answers") {
  auto s = settings();
  CHECK(render_twiml({voice_reply::kind::empty}, s) == "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response/>");
  CHECK(render_twiml({voice_reply::kind::hangup}, s).find("<Response><Hangup/></Response>") != std::string::npos);
  CHECK(render_twiml({voice_reply::kind::callback_confirmed}, s).find("</Say><Leave/></Response>") != std::string::npos);
  CHECK(render_twiml({voice_reply::kind::goodbye}, s).find("</Say><Hangup/></Response>") != std::string::npos);
  voice_reply cb;
  cb.what = voice_reply::kind::callback_dial;
  cb.callback_id = "CB1";
  cb.number = "+15551112222";
  CHECK(render_twiml(cb, s).find("<Dial callerId=\"+15550000000\" action=\"https://callq.example.com/api/webhooks/twilio/callback-result?callback=CB1\">+15551112222</Dial>") != std::string::npos);
}
