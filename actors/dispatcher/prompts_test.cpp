#include "actors/dispatcher/prompts.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "actors/dispatcher/queue_config.hpp"

using namespace callq;

TEST_CASE("prompts: languages, voices and wording are parsed, and refused with a reason") {
  queue_config c;
  REQUIRE(parse_queue_config(std::string(R"({
    "language": "en-GB", "voice": "Polly.Amy", "announceWait": "range",
    "prompts": {"greeting": "Hi {name}!", "wait": "About {wait}."},
    "languages": {"es-ES": {"voice": "Polly.Lucia", "prompts": {"greetingUnknown": "Hola."}}}})"),
                             &c));
  CHECK(c.speech.language == "en-GB");
  CHECK(c.speech.main.voice == "Polly.Amy");
  CHECK(c.speech.announce == announce_wait::range);
  CHECK(c.speech.main.prompts.at("greeting") == "Hi {name}!");
  CHECK(c.speech.languages.at("es-ES").voice == "Polly.Lucia");
  // The canonical form keeps them, and parses back to the same.
  queue_config again;
  REQUIRE(parse_queue_config(to_json(c).dump(), &again));
  CHECK(again.speech.languages.at("es-ES").prompts.at("greetingUnknown") == "Hola.");
  CHECK(again.speech.announce == announce_wait::range);
  // Unset, none of them is in the canonical form (older digests verify).
  auto plain = to_json(queue_config{});
  for (const char* k : {"language", "voice", "prompts", "languages", "announceWait"})
    CHECK_FALSE(plain.contains(k));

  struct bad_case {
    const char* body;
    const char* says;
  };
  for (auto b : {bad_case{R"({"language":"english!"})", "BCP 47"},
                 bad_case{R"({"languages":{"es_ES":{}}})", "BCP 47"},
                 bad_case{R"({"prompts":{"greeting":"Hi {nome}"}})", "unknown placeholder {nome}"},
                 bad_case{R"({"prompts":{"full":"Busy {position}"}})", "unknown placeholder {position}"},
                 bad_case{R"({"prompts":{"farewell":"Bye"}})", "unknown prompt 'farewell'"},
                 bad_case{R"({"prompts":{"wait":""}})", "1-1000"},
                 bad_case{R"({"voice":"<Polly>"})", "voice"},
                 bad_case{R"({"announceWait":"exact"})", "announceWait"},
                 bad_case{R"({"languages":{"es-ES":{"prompts":{"position":"{wait}"}}}})", "languages.es-ES.prompts.position"}}) {
    INFO(b.body);
    auto st = parse_queue_config(std::string(b.body), &c);
    CHECK_FALSE(st);
    CHECK(st.message().find(b.says) != std::string::npos);
  }
}

TEST_CASE("prompts: a caller's language is the queue's if it speaks it, else the queue's own") {
  speech_config c;
  c.language = "en-US";
  c.main.voice = "Polly.Joanna";
  c.languages["es-ES"] = {"Polly.Lucia", {{"greetingUnknown", "Hola."}}};
  c.languages["de-DE"] = {"", {}};
  CHECK(speech_for(c, "").language == "en-US");
  CHECK(speech_for(c, "").voice == "Polly.Joanna");
  auto es = speech_for(c, "es-es");  // tags compare without case
  CHECK(es.language == "es-ES");
  CHECK(es.voice == "Polly.Lucia");
  CHECK(es.prompts.at("greetingUnknown") == "Hola.");
  CHECK(speech_for(c, "es-MX").language == "es-ES");  // the same primary language
  CHECK(speech_for(c, "en-GB").language == "en-US");
  CHECK(speech_for(c, "fr-FR").language == "en-US");  // not spoken: the queue's own
  CHECK(speech_for(c, "fr-FR").voice == "Polly.Joanna");
  CHECK(valid_language_tag("zh-Hans-CN"));
  CHECK(valid_language_tag("es-419"));
  CHECK_FALSE(valid_language_tag("e"));
  CHECK_FALSE(valid_language_tag("en--US"));
}

TEST_CASE("a language tag is 2-3 letters and subtags of 1-8 letters or digits at most 35 long") {
  CHECK(valid_language_tag("en"));
  CHECK(valid_language_tag("yue-HK"));
  CHECK(valid_language_tag("en-12345678"));
  CHECK_FALSE(valid_language_tag(""));
  CHECK_FALSE(valid_language_tag("engl"));
  CHECK_FALSE(valid_language_tag("e1"));
  CHECK_FALSE(valid_language_tag("en-"));
  CHECK_FALSE(valid_language_tag("-en"));
  CHECK_FALSE(valid_language_tag("en-123456789"));
  CHECK_FALSE(valid_language_tag("en_US"));
  CHECK_FALSE(valid_language_tag("en-U S"));
  CHECK_FALSE(valid_language_tag("en-\xc3\xa9"));
  std::string longest = "en";
  while (longest.size() + 9 <= 35)
    longest += "-abcdefgh";
  CHECK(longest.size() == 29);
  CHECK(valid_language_tag(longest + "-abcde"));        // 35
  CHECK_FALSE(valid_language_tag(longest + "-abcdef"));  // 36
}
