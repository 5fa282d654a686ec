// The Twilio gateway: the REST calls callq makes (redirect a queued call to
// an agent, create a callback call). It runs on its own threads (HTTP
// blocks), retries with backoff on 429, 5xx and timeouts, and tells the
// dispatcher about requests that finally failed.
#pragma once

#include <memory>

#include <caf/all.hpp>

#include "actors/gateway/gateway_options.hpp"

namespace callq {

/// Spawns the gateway workers behind one front that keeps the jobs of one
/// call on one worker. It takes `rest_job` messages.
caf::actor spawn_gateway(caf::actor_system& sys, const gateway_options& opts,
                         std::shared_ptr<gateway_stats> stats, rest_report report);

}  // namespace callq
