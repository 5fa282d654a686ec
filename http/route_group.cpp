#include "http/route_group.hpp"

namespace callq::http {

const char* route_group_name(route_group g) {
  switch (g) {
    case route_group::twilio: return "twilio";
    case route_group::agent: return "agent";
    case route_group::admin: return "admin";
    case route_group::page: return "page";
  }
  return "page";
}

route_group classify_route(std::string_view target) {
  auto path = target.substr(0, target.find('?'));
  auto starts = [path](std::string_view prefix) { return path.substr(0, prefix.size()) == prefix; };
  if (starts("/api/webhooks/twilio/"))
    return route_group::twilio;
  if (path == "/api/agent-heartbeat" || path == "/healthz" || starts("/healthz/") || starts("/api/cron/"))
    return route_group::agent;
  if (path == "/api/stream" || path == "/api/agent/stream")  // the pages' live streams: a page worker, never Twilio's
    return route_group::page;
  if (starts("/api/agent/"))  // the agent page's own requests
    return route_group::agent;
  if (starts("/api/") || path == "/metrics")
    return route_group::admin;
  return route_group::page;
}

}  // namespace callq::http
