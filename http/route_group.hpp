// Which kind of client a request comes from, for admission: Twilio's
// webhooks first, then agents and upkeep, then admin reads, then pages.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace callq::http {

/// The route groups, in priority order (lower value, higher priority).
enum class route_group : uint8_t {
  twilio = 0,  ///< /api/webhooks/twilio/...: a caller is on the line
  agent = 1,   ///< agent heartbeats, /healthz and /healthz/..., /api/cron/...
  admin = 2,   ///< every other /api/... route and /metrics
  page = 3,    ///< everything else: web pages and their streams
};

/// Number of route groups.
constexpr size_t route_group_count = 4;

/// All route groups, in priority order.
constexpr std::array<route_group, route_group_count> all_route_groups = {
    route_group::twilio, route_group::agent, route_group::admin, route_group::page};

/// The group's label in /metrics and in the README ("twilio", "agent", ...).
const char* route_group_name(route_group g);

/// The group of a request, from its request target (path and query) alone.
route_group classify_route(std::string_view target);

}  // namespace callq::http
