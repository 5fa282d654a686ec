// GET /metrics: the operators' figures in Prometheus text format.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "actors/gateway_actor.hpp"
#include "actors/journal_actor.hpp"

namespace callq::http {

/// Renders the status view (center::status_view) and the journal and
/// gateway figures as Prometheus exposition text.
std::string render_metrics(const nlohmann::json& status, const journal_stats& journal,
                           const gateway_stats& gateway);

}  // namespace callq::http
