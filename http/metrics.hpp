// GET /metrics: the operators' figures in Prometheus text format.
#pragma once

#include <string>

#include "http/tts.hpp"
#include "actors/gateway/gateway_options.hpp"
#include "actors/journal/journal_options.hpp"
#include "actors/runtime.hpp"
#include "http/front_door.hpp"
#include "actors/world/read_model.hpp"
#include "actors/world/world.hpp"

namespace callq::http {

/// Renders the read model's summary, the live actors and the journal and
/// gateway figures as Prometheus exposition text.
std::string render_metrics(const world_summary& status, const actor_counts& actors,
                           const journal_stats& journal, const gateway_stats& gateway);

/// Renders the event log's health and snapshots: whether it can be
/// written, free space and its thresholds, write failures, recoveries,
/// snapshots written and the journal's pause for the last one.
std::string render_storage_metrics(const storage_health& storage, const snapshot_stats& snapshots);

/// Renders what publishing the read model's versions costs: versions,
/// copies, batches applied twice, the journal's time per version.
std::string render_read_model_metrics(const read_model_stats& reads);

/// Renders the actors' load: how far behind they run (smoothed), whether
/// new calls are refused for it, and how many were.
std::string render_load_metrics(const load_gauge& load);

/// Renders the dispatcher's reservations: started, agent legs refused,
/// and those whose call could not take the offer.
std::string render_dispatch_metrics(const dispatch_stats& dispatch);

/// Renders the front door's connection and admission figures: connections
/// open and closed by limit, requests waiting for a thread, busy, served
/// and shed, by route group.
std::string render_front_door_metrics(const front_door_figures& door);

/// `callq_tts_renders_total{outcome}` (ok, failed, invalid, over-budget),
/// `callq_tts_queued`, `callq_tts_stored_bytes`, `callq_tts_evicted_total`.
std::string render_tts_metrics(const tts_figures& tts);

}  // namespace callq::http
