// GET /metrics: the operators' figures in Prometheus text format.
#pragma once

#include <string>

#include "actors/gateway/gateway_actor.hpp"
#include "actors/journal/journal_actor.hpp"
#include "actors/runtime.hpp"
#include "replay/world.hpp"

namespace callq::http {

/// Renders the read model's summary, the live actors and the journal and
/// gateway figures as Prometheus exposition text.
std::string render_metrics(const world_summary& status, const actor_counts& actors,
                           const journal_stats& journal, const gateway_stats& gateway);

}  // namespace callq::http
