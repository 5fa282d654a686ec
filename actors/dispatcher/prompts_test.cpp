#include "actors/dispatcher/prompts.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "actors/dispatcher/queue_config.hpp"

using namespace callq;
using json = nlohmann::json;

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
                 bad_case{R"({"languages":{"es-ES":{"prompts":{"position":"{wait}"}}}})", "languages.es-ES.prompts.position"},
                 bad_case{R"({"prompts":"Hi"})", "prompts must be an object of prompt"},
                 bad_case{R"({"languages":["es-ES"]})", "languages must be an object"},
                 bad_case{R"({"languages":{"es-ES":"Polly.Lucia"}})", "languages.es-ES must be an object"},
                 bad_case{R"({"languages":{"es-ES":{"greeting":"Hola"}}})",
                          "languages.es-ES: unknown field 'greeting'"},
                 bad_case{R"({"voice":"Polly Joanna"})", "voice"}}) {
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

TEST_CASE("prompts: the limits of a voice name and a prompt's text, each side") {
  queue_config c;
  std::string v64(64, 'a');
  CHECK(parse_queue_config(json{{"voice", v64}}.dump(), &c));
  auto st = parse_queue_config(json{{"voice", v64 + "a"}}.dump(), &c);
  CHECK_FALSE(st);
  CHECK(st.message().find("voice") != std::string::npos);
  // Twilio's names use '.', '-' (Google.en-US-Neural2-A) and the rule
  // takes '_' too.
  REQUIRE(parse_queue_config(std::string(R"({"voice":"Google.en-US-Neural2-A"})"), &c));
  CHECK(c.speech.main.voice == "Google.en-US-Neural2-A");
  CHECK(parse_queue_config(std::string(R"({"voice":"my_voice"})"), &c));
  std::string t1000(1000, 'x');
  CHECK(parse_queue_config(json{{"prompts", {{"full", t1000}}}}.dump(), &c));
  st = parse_queue_config(json{{"prompts", {{"full", t1000 + "x"}}}}.dump(), &c);
  CHECK_FALSE(st);
  CHECK(st.message().find("1-1000") != std::string::npos);
}

TEST_CASE("prompts: every announceWait name parses, and the canonical form names it again") {
  for (auto [name, a] : {std::pair{"estimate", announce_wait::estimate}, {"range", announce_wait::range},
                         {"less-than", announce_wait::less_than}, {"off", announce_wait::off}}) {
    INFO(name);
    queue_config c;
    REQUIRE(parse_queue_config(json{{"announceWait", name}}.dump(), &c));
    CHECK(c.speech.announce == a);
    auto canonical = to_json(c);
    if (a == announce_wait::estimate)
      CHECK_FALSE(canonical.contains("announceWait"));  // the default
    else
      CHECK(canonical.at("announceWait") == name);
  }
}

TEST_CASE("prompts: a language entry without voice or prompts stays empty in the canonical form") {
  queue_config c;
  REQUIRE(parse_queue_config(std::string(R"({"languages":{"de-DE":{}}})"), &c));
  CHECK(to_json(c).at("languages").at("de-DE") == json::object());
}

TEST_CASE("prompts: a language matched exactly (any case), then by primary subtag, the queue's own first") {
  speech_config c;
  c.language = "en-US";
  c.languages["es-ES"] = {"Polly.Lucia", {}};
  c.languages["es-MX"] = {"Polly.Mia", {}};
  c.languages["en-GB"] = {"Polly.Amy", {}};
  CHECK(speech_for(c, "ES-MX").language == "es-MX");  // exact, whatever the case
  CHECK(speech_for(c, "ES-AR").language == "es-ES");  // the first "es", whatever the case
  CHECK(speech_for(c, "en-AU").language == "en-US");  // the queue's own before another "en"
  CHECK(speech_for(c, "en-gb").language == "en-GB");
}

TEST_CASE("prompts: the <Say>s name a language and voice only when the queue or the caller chose one") {
  speech_config plain;
  CHECK_FALSE(speech_for(plain, "").stated);  // Twilio's defaults are what is heard
  CHECK(speech_for(plain, "en-US").stated);   // the caller asked
  speech_config voice;
  voice.main.voice = "Polly.Joanna";
  CHECK(speech_for(voice, "").stated);
  speech_config language;
  language.language = "en-GB";
  CHECK(speech_for(language, "").stated);
  speech_config more;
  more.languages["es-ES"] = {"", {}};
  CHECK(speech_for(more, "").stated);
}
