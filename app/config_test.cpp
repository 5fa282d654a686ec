#include "app/config.hpp"

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <sys/stat.h>

#include <catch2/catch.hpp>

#include "tests/skip.hpp"
#include "tests/temp_dir.hpp"

using namespace callq;
using namespace callq::app;

TEST_CASE("durations take seconds or a unit") {
  int64_t ms = 0;
  REQUIRE(parse_duration_ms("30", &ms));
  CHECK(ms == 30'000);
  REQUIRE(parse_duration_ms("250ms", &ms));
  CHECK(ms == 250);
  REQUIRE(parse_duration_ms("10m", &ms));
  CHECK(ms == 600'000);
  REQUIRE(parse_duration_ms("1.5s", &ms));
  CHECK(ms == 1500);
  CHECK_FALSE(parse_duration_ms("ten", &ms));
  CHECK_FALSE(parse_duration_ms("10 minutes", &ms));
  CHECK_FALSE(parse_duration_ms("-5s", &ms));
  CHECK_FALSE(parse_duration_ms("", &ms));
}

TEST_CASE("defaults follow the contract") {
  server_config c;
  REQUIRE(load_config({}, {}, &c));
  CHECK(c.http.bind == "127.0.0.1");
  CHECK(c.http.port == 8080);
  CHECK(c.runtime.data_dir == "./callq-data");
  CHECK(c.http.public_base_url == "http://localhost:8080");
  CHECK(c.runtime.gateway.api_base == "https://api.twilio.com");
  CHECK(c.runtime.rules.heartbeat_timeout_ms == 60'000);
  CHECK(c.runtime.rules.max_queue_wait_ms == 600'000);
  CHECK(c.runtime.rules.offer_timeout_ms == 20'000);
  CHECK(c.runtime.rules.callback_sla_ms == 1'800'000);
  CHECK(c.runtime.rules.feature_enhanced_queue);
}

TEST_CASE("environment, config file and flags, in that order of strength") {
  callq::testing::temp_dir tmp;
  std::string file = tmp.path() + "/callq.json";
  std::ofstream(file) << R"({"callq_port": 9000, "agent_heartbeat_interval": "10s", "feature_enhanced_queue": false})";
  server_config c;
  flag_values f;
  f.config_file = file;
  f.bind = "0.0.0.0";
  REQUIRE(load_config({{"CALLQ_PORT", "7000"}, {"CALLQ_BIND", "10.0.0.1"},
                       {"PUBLIC_BASE_URL", "https://q.example.com/"}}, f, &c));
  CHECK(c.http.port == 9000);
  CHECK(c.http.bind == "0.0.0.0");
  CHECK(c.http.public_base_url == "https://q.example.com");
  CHECK(c.runtime.rules.heartbeat_interval_ms == 10'000);
  CHECK(c.runtime.rules.heartbeat_timeout_ms == 20'000);  // 2 x interval
  CHECK_FALSE(c.runtime.rules.feature_enhanced_queue);
}

TEST_CASE("a malformed value names its variable") {
  server_config c;
  auto st = load_config({{"MAX_QUEUE_WAIT_TIME", "forever"}}, {}, &c);
  CHECK_FALSE(st);
  CHECK(st.message().find("MAX_QUEUE_WAIT_TIME") != std::string::npos);
  st = load_config({{"FEATURE_QUEUE_HOLD_MUSIC", "maybe"}}, {}, &c);
  CHECK(st.message().find("FEATURE_QUEUE_HOLD_MUSIC") != std::string::npos);
  st = load_config({{"CALLQ_PORT", "80800"}}, {}, &c);
  CHECK(st.message().find("CALLQ_PORT") != std::string::npos);
  st = load_config({{"PUBLIC_BASE_URL", "localhost"}}, {}, &c);
  CHECK(st.message().find("PUBLIC_BASE_URL") != std::string::npos);
  st = load_config({{"MAX_OFFER_ATTEMPTS", "0"}}, {}, &c);
  CHECK(st.message().find("MAX_OFFER_ATTEMPTS") != std::string::npos);
  st = load_config({{"CALLQ_STORE", "mysql://db/callq"}}, {}, &c);
  CHECK(st.message().find("CALLQ_STORE") != std::string::npos);
  st = load_config({{"CALLQ_LEADER_LEASE", "200ms"}}, {}, &c);
  CHECK(st.message().find("CALLQ_LEADER_LEASE") != std::string::npos);
  st = load_config({{"TTS_SPLICE", "sometimes"}}, {}, &c);
  CHECK(st.message().find("TTS_SPLICE") != std::string::npos);
}

TEST_CASE("TTS_SPLICE is off unless set to true") {
  server_config c;
  REQUIRE(load_config({}, {}, &c));
  CHECK_FALSE(c.http.twiml.splice);
  REQUIRE(load_config({{"TTS_SPLICE", "true"}}, {}, &c));
  CHECK(c.http.twiml.splice);
  REQUIRE(load_config({{"TTS_SPLICE", "false"}}, {}, &c));
  CHECK_FALSE(c.http.twiml.splice);
}

TEST_CASE("a feature flag takes true, false or a share of traffic") {
  server_config c;
  REQUIRE(load_config({{"FEATURE_QUEUE_POSITION_UPDATES", "25%"}, {"FEATURE_ENHANCED_QUEUE", "0%"},
                       {"FEATURE_AGENT_POLLING", "100%"}},
                      {}, &c));
  CHECK(c.runtime.rules.feature_queue_position_updates);
  CHECK(c.runtime.rules.feature_shares.at("FEATURE_QUEUE_POSITION_UPDATES") == 25);
  CHECK_FALSE(c.runtime.rules.feature_enhanced_queue);
  CHECK(c.runtime.rules.feature_agent_polling);
  CHECK(c.runtime.rules.feature_shares.size() == 1);
  for (const char* bad : {"101%", "x%", "%", "-5%", "2.5%"}) {
    auto st = load_config({{"FEATURE_QUEUE_HOLD_MUSIC", bad}}, {}, &c);
    INFO(bad);
    CHECK_FALSE(st);
    CHECK(st.message().find("FEATURE_QUEUE_HOLD_MUSIC") != std::string::npos);
  }
}

TEST_CASE("the agent page's settings: pause reasons, the voice token's key and lifetime") {
  server_config c;
  REQUIRE(load_config({}, {}, &c));
  CHECK(c.http.pause_reasons ==
        std::vector<std::string>{"break", "lunch", "training", "meeting", "other"});
  CHECK_FALSE(c.http.voice.enabled());
  CHECK(c.http.voice.ttl_seconds == 3600);
  REQUIRE(load_config({{"AGENT_PAUSE_REASONS", " lunch, coaching ,lunch"},
                       {"TWILIO_ACCOUNT_SID", "AC1"},
                       {"TWILIO_API_KEY_SID", "SK1"},
                       {"TWILIO_API_KEY_SECRET", "s"},
                       {"TWILIO_TWIML_APP_SID", "AP1"},
                       {"AGENT_VOICE_TOKEN_TTL", "10m"}},
                      {}, &c));
  CHECK(c.http.pause_reasons == std::vector<std::string>{"lunch", "coaching"});
  CHECK(c.http.voice.enabled());
  CHECK(c.http.voice.ttl_seconds == 600);
  for (auto [key, value] : {std::pair{"AGENT_VOICE_TOKEN_TTL", "25h"},
                            std::pair{"AGENT_VOICE_TOKEN_TTL", "0"},
                            std::pair{"AGENT_PAUSE_REASONS", "lunch,,break"},
                            std::pair{"AGENT_PAUSE_REASONS", ""}}) {
    auto st = load_config({{key, value}}, {}, &c);
    INFO(key << "=" << value);
    CHECK_FALSE(st);
    CHECK(st.message().find(key) != std::string::npos);
  }
}

TEST_CASE("the store: RocksDB in the data directory unless CALLQ_STORE or --store names PostgreSQL") {
  server_config c;
  REQUIRE(load_config({}, {}, &c));
  CHECK(c.runtime.store.empty());
  CHECK(c.leader_lease_ms == 5'000);
  flag_values f;
  f.store = "postgresql://callq@db1:5432,db2:5432/callq?target_session_attrs=read-write";
  REQUIRE(load_config({{"CALLQ_STORE", "postgres://elsewhere/x"}, {"CALLQ_LEADER_LEASE", "3s"}}, f, &c));
  CHECK(c.runtime.store == *f.store);  // the flag wins
  CHECK(c.leader_lease_ms == 3'000);
}

TEST_CASE("the scheduler and the overload bound: defaults, values and bad input") {
  server_config c;
  REQUIRE(load_config({}, {}, &c));
  CHECK(c.runtime.scheduler_threads == 2);
  CHECK_FALSE(c.runtime.scheduler_stealing);
  CHECK(c.runtime.scheduler_max_throughput == 0);
  CHECK(c.runtime.overload_lag_ms == 50);
  REQUIRE(load_config({{"CALLQ_SCHEDULER_THREADS", "3"}, {"CALLQ_SCHEDULER_POLICY", "stealing"},
                       {"CALLQ_SCHEDULER_MAX_THROUGHPUT", "10"}, {"CALLQ_OVERLOAD_LAG", "200ms"}},
                      {}, &c));
  CHECK(c.runtime.scheduler_threads == 3);
  CHECK(c.runtime.scheduler_stealing);
  CHECK(c.runtime.scheduler_max_throughput == 10);
  CHECK(c.runtime.overload_lag_ms == 200);
  auto st = load_config({{"CALLQ_SCHEDULER_POLICY", "fastest"}}, {}, &c);
  CHECK(st.message().find("CALLQ_SCHEDULER_POLICY") != std::string::npos);
  st = load_config({{"CALLQ_SCHEDULER_THREADS", "0"}}, {}, &c);
  CHECK(st.message().find("CALLQ_SCHEDULER_THREADS") != std::string::npos);
  st = load_config({{"CALLQ_OVERLOAD_LAG", "soon"}}, {}, &c);
  CHECK(st.message().find("CALLQ_OVERLOAD_LAG") != std::string::npos);
}

TEST_CASE("passivation of idle waiting calls: on after 2 s by default, a duration or 0 (off), bad input refused") {
  server_config c;
  REQUIRE(load_config({}, {}, &c));
  CHECK(c.runtime.passivate_after_ms == 2000);
  REQUIRE(load_config({{"CALLQ_PASSIVATE_AFTER", "30s"}}, {}, &c));
  CHECK(c.runtime.passivate_after_ms == 30'000);
  REQUIRE(load_config({{"CALLQ_PASSIVATE_AFTER", "0"}}, {}, &c));
  CHECK(c.runtime.passivate_after_ms == 0);
  auto st = load_config({{"CALLQ_PASSIVATE_AFTER", "later"}}, {}, &c);
  CHECK_FALSE(st);
  CHECK(st.message().find("CALLQ_PASSIVATE_AFTER") != std::string::npos);
}

TEST_CASE("the generated admin token is stored with mode 0600 and reused") {
  callq::testing::temp_dir tmp;
  std::string token, path, again;
  REQUIRE(ensure_admin_token(tmp.path() + "/data", &token, &path));
  CHECK(token.size() == 64);
  struct stat sb{};
  REQUIRE(stat(path.c_str(), &sb) == 0);
  CHECK((sb.st_mode & 0777) == 0600);
  REQUIRE(ensure_admin_token(tmp.path() + "/data", &again, &path));
  CHECK(again == token);
}

TEST_CASE("the service's example configuration file loads") {
  flag_values flags;
  flags.config_file = std::string(CALLQ_SOURCE_DIR) + "/packaging/callq.json";
  server_config c;
  auto st = load_config({{"CALLQ_DATA_DIR", "/var/lib/callq"}}, flags, &c);
  INFO(st.message());
  REQUIRE(st);
  CHECK(c.runtime.data_dir == "/var/lib/callq");
  CHECK(c.http.public_base_url == "https://callq.example.com");
  CHECK(c.runtime.rules.wrap_up_ms == 15'000);
}

TEST_CASE("the systemd unit passes systemd-analyze verify") {
  if (std::system("command -v systemd-analyze > /dev/null 2>&1") != 0)
    CALLQ_SKIP("systemd-analyze is not installed (scripts/install-deps.sh test installs systemd)");
  callq::testing::temp_dir dir;
  std::ifstream in(std::string(CALLQ_SOURCE_DIR) + "/packaging/callq.service");
  REQUIRE(in);
  std::string unit((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // verify checks that ExecStart's program exists: point it at one that does.
  auto at = unit.find("/usr/local/bin/callq serve");
  REQUIRE(at != std::string::npos);
  unit.replace(at, std::string("/usr/local/bin/callq").size(), "/bin/true");
  std::string path = dir.path() + "/callq.service";
  std::ofstream(path) << unit;
  std::string out = dir.path() + "/verify.txt";
  int code = std::system(("systemd-analyze verify " + path + " > " + out + " 2>&1").c_str());
  std::ifstream report(out);
  std::string text((std::istreambuf_iterator<char>(report)), std::istreambuf_iterator<char>());
  INFO(text);
  CHECK(code == 0);
  CHECK(text.find("callq.service") == std::string::npos);  // no complaint about the unit
}

TEST_CASE("a worker's linger on its kept-alive connection: default, values and bad input") {
  server_config c;
  REQUIRE(load_config({}, {}, &c));
  CHECK(c.http.limits.linger_ms == 20);
  REQUIRE(load_config({{"CALLQ_HTTP_LINGER", "0"}}, {}, &c));
  CHECK(c.http.limits.linger_ms == 0);
  REQUIRE(load_config({{"CALLQ_HTTP_LINGER", "250ms"}}, {}, &c));
  CHECK(c.http.limits.linger_ms == 250);
  for (const char* bad : {"2s", "-1", "soon"}) {
    auto st = load_config({{"CALLQ_HTTP_LINGER", bad}}, {}, &c);
    INFO(bad);
    CHECK(st.message().find("CALLQ_HTTP_LINGER") != std::string::npos);
  }
}
