#include "http/twiml.hpp"

namespace callq::http {

std::string xml_escape(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

namespace {

using kind = voice_reply::kind;

std::string url(const twiml_settings& s, const std::string& path) {
  return xml_escape(s.public_base_url + "/api/webhooks/twilio/" + path);
}

std::string say(const std::string& text) { return "<Say>" + xml_escape(text) + "</Say>"; }

/// The last words before callq hangs up on a caller.
std::string goodbye() { return say("Thank you for calling. Goodbye.") + "<Hangup/>"; }

std::string enqueue(const voice_reply& v, const twiml_settings& s) {
  std::string out;
  if (v.greet)
    out += say(v.greeting_name.empty()
                   ? "Thank you for calling. Please hold and the next available agent will be with you."
                   : "Hello " + v.greeting_name +
                         ", thank you for calling. Please hold and the next available agent will be with you.");
  out += "<Enqueue action=\"" + url(s, "queue-handler") + "\" method=\"POST\" waitUrl=\"" +
         url(s, "queue-hold-music") + "\" waitUrlMethod=\"POST\">" + xml_escape(v.queue) +
         "</Enqueue>";
  return out;
}

std::string wait_words(int64_t seconds) {
  if (seconds < 60)
    return "less than a minute";
  int64_t minutes = (seconds + 59) / 60;
  return "about " + std::to_string(minutes) + (minutes == 1 ? " minute" : " minutes");
}

std::string hold(const voice_reply& v, const twiml_settings& s) {
  std::string out;
  if (v.announce)
    out += say("You are number " + std::to_string(v.position) +
               " in the queue. Your estimated wait is " + wait_words(v.wait_estimate_seconds) + ".");
  if (v.offer_callback)
    out += "<Gather numDigits=\"1\" action=\"" + url(s, "callback-response") +
           "\" method=\"POST\" timeout=\"5\">" +
           say("Press 1 to be called back when an agent is free. You will keep your place in the queue.") +
           "</Gather>";
  if (s.hold_music)
    out += "<Play>" + xml_escape(s.hold_music_url) + "</Play>";
  else
    out += "<Pause length=\"20\"/>";
  return out;
}

}  // namespace

std::string render_twiml(const voice_reply& v, const twiml_settings& s) {
  std::string body;
  switch (v.what) {
    case kind::empty:
      return "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response/>";
    case kind::enqueue:
      body = enqueue(v, s);
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
      body = hold(v, s);
      break;
    case kind::callback_confirmed:
      body = say("Thank you. We will call you back at this number as soon as an agent is free. "
                 "You keep your place in the queue. Goodbye.") +
             "<Leave/>";
      break;
    case kind::callback_declined:
      body = say("Please continue to hold.");
      break;
    case kind::callback_impossible:
      body = say("We are sorry, we cannot call you back on the line you are calling from. "
                 "Please continue to hold.");
      break;
    case kind::goodbye:
      body = goodbye();
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
        body = say(v.message.empty() ? "We are closed right now." : v.message);
      else
        body = say("We are sorry, all our agents are busy right now.");
      if (v.offer_callback)
        body += "<Gather numDigits=\"1\" action=\"" + url(s, "callback-response") +
                "\" method=\"POST\" timeout=\"8\">" +
                say(v.closed ? "Press 1 to be called back at this number when we open."
                             : "Press 1 to be called back at this number as soon as an agent is free.") +
                "</Gather>";
      body += goodbye();
      break;
    case kind::callback_booked:
      body = say(v.closed ? "Thank you. We will call you back at this number when we open. Goodbye."
                          : "Thank you. We will call you back at this number as soon as an agent is "
                            "free. Goodbye.") +
             "<Hangup/>";
      break;
    case kind::unavailable:
      body = say("We are sorry, we cannot take your call right now. Please try again later.") +
             "<Hangup/>";
      break;
  }
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response>" + body + "</Response>";
}

}  // namespace callq::http
