#include "http/route_group.hpp"

#include <catch2/catch.hpp>

using namespace callq::http;

TEST_CASE("route groups: Twilio, agents and upkeep, admin, pages") {
  CHECK(classify_route("/api/webhooks/twilio/voice") == route_group::twilio);
  CHECK(classify_route("/api/webhooks/twilio/dial-result?offer=o1") == route_group::twilio);
  CHECK(classify_route("/api/agent-heartbeat") == route_group::agent);
  CHECK(classify_route("/healthz") == route_group::agent);
  CHECK(classify_route("/api/stream?token=t") == route_group::page);  // holds a page worker
  CHECK(classify_route("/api/agent/stream?token=t") == route_group::page);
  CHECK(classify_route("/api/agent/me") == route_group::agent);
  CHECK(classify_route("/api/agent/wrap-up") == route_group::agent);
  CHECK(classify_route("/api/cron/queue-processor") == route_group::agent);
  CHECK(classify_route("/api/queue/status") == route_group::admin);
  CHECK(classify_route("/api/audit/export?format=jsonl") == route_group::admin);
  CHECK(classify_route("/metrics") == route_group::admin);
  CHECK(classify_route("/wallboard") == route_group::page);
  CHECK(classify_route("/") == route_group::page);
  // A prefix alone is not the path.
  CHECK(classify_route("/api/webhooks/twilio") == route_group::admin);
  CHECK(classify_route("/api/agent-heartbeats") == route_group::admin);
  CHECK(classify_route("/healthz/leader") == route_group::agent);  // a load balancer's check
  CHECK(classify_route("/healthzz") == route_group::page);
  CHECK(std::string(route_group_name(route_group::twilio)) == "twilio");
  CHECK(std::string(route_group_name(route_group::page)) == "page");
}
