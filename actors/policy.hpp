// The rules' parameters: the contract's durations, limits and feature flags
// as the state logic needs them. Filled from configuration by the server.
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace callq {

/// Every tunable the decision logic reads. Durations are milliseconds.
struct policy {
  int64_t heartbeat_interval_ms = 30'000;
  int64_t heartbeat_timeout_ms = 60'000;
  int64_t polling_interval_ms = 10'000;
  int64_t max_queue_wait_ms = 600'000;
  int64_t announce_interval_ms = 30'000;
  int64_t offer_timeout_ms = 20'000;
  int64_t max_offer_attempts = 3;
  int64_t escalate_after_failed_offers = 2;
  int64_t agent_max_no_answer = 3;
  int64_t wrap_up_ms = 15'000;
  int64_t callback_sla_ms = 1'800'000;
  /// Extra time, beyond OFFER_TIMEOUT, before an offer that Twilio never
  /// reported on is counted as failed (covers redirect retries).
  int64_t offer_grace_ms = 10'000;
  /// How long the agent's phone may ring for a callback before that
  /// attempt counts as failed.
  int64_t callback_ring_ms = 60'000;
  /// How long an agent stays reserved for a call while the dispatcher
  /// proposes the offer; a reservation never confirmed ends after this.
  int64_t reservation_timeout_ms = 5'000;
  /// Callback attempts before the callback fails for good.
  int64_t callback_max_attempts = 3;
  /// Below this readiness an agent is not offered calls.
  int64_t readiness_threshold = 40;
  /// Finished calls are kept this long (for late Twilio retries) before a
  /// queue cleanup drops them; a waiting call not heard from by Twilio for
  /// this long counts as orphaned.
  int64_t finished_retention_ms = 600'000;
  int64_t orphan_after_ms = 900'000;
  /// Handle time assumed before any call has completed.
  int64_t default_handle_ms = 180'000;
  /// A call answered within this is inside the service level.
  int64_t service_level_ms = 20'000;

  bool feature_agent_heartbeat = true;
  bool feature_device_connectivity = true;
  bool feature_enhanced_discovery = true;
  bool feature_enhanced_queue = true;
  bool feature_queue_hold_music = true;
  bool feature_queue_position_updates = true;
  bool feature_agent_polling = true;
  bool feature_multi_agent_fallback = true;
  bool feature_callback_request_system = true;
  /// Flags given as a share of traffic (1-99 %), by FEATURE_* name; their
  /// bool above is true, and each call decides for itself
  /// (feature_flags.hpp).
  std::map<std::string, int64_t> feature_shares;

  std::string default_queue = "support";
};

}  // namespace callq
