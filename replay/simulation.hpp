// `callq simulate`'s engine: a period's callers replayed through callq's
// own command handlers -- the call, agent and queue deciders, their apply
// code, the dispatcher's matching index and the reservation protocol --
// in virtual time, on one thread, with no log and no actors. The actor
// shells' wiring (which command goes where, when a view or a timer is
// due) is done here the way the shells do it; the decisions are theirs.
//
// Twilio and the people are modelled from the log: each caller arrives
// when it did, with its number, queue, priority, skills and language; an
// offered agent answers after the ring time it took (or one drawn from the
// period's), talks for the caller's handle time and hangs up; a caller in
// line hangs up when its patience runs out. Agents come and go as the
// log's did, or as a staffing plan says (staffing_plan.hpp).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <variant>
#include <vector>

#include "actors/commands.hpp"
#include "actors/policy.hpp"
#include "actors/world/world.hpp"
#include "events/event.hpp"
#include "events/status.hpp"

namespace callq::replay {

/// One caller of the period, as the log recorded it.
struct sim_caller {
  int64_t at_ms = 0;         ///< arrival (the voice webhook)
  cmd::incoming_call call;   ///< what the webhook said
  bool answered = false;     ///< an agent answered it
  bool abandoned = false;    ///< it hung up while in line
  int64_t waited_ms = 0;     ///< time in line (answered: until answered; abandoned: until it hung up)
  int64_t handle_ms = -1;    ///< talk time when answered and completed; -1: unknown (drawn)
  int64_t ring_ms = -1;      ///< the answering agent's ring time; -1: unknown (drawn)
  /// It hung up while an agent's phone rang this long: had it waited, the
  /// agent would have answered later than that.
  int64_t ring_at_least_ms = 0;
};

/// What an operator or an agent did during the period, done again at the
/// same moment of the simulation.
struct sim_action {
  int64_t at_ms = 0;
  std::variant<cmd::put_agent, cmd::delete_agent, cmd::heartbeat, cmd::put_queue, cmd::delete_queue,
               cmd::put_caller>
      what;
};

/// How an agent's phone went unanswered in the period: the share of its
/// offers that rang out (no-answer, busy, failed or timed out) and how
/// long each rang.
struct ring_out_habit {
  int64_t offers = 0, rang_out = 0;
  std::vector<int64_t> ring_ms;
  double share() const { return offers > 0 ? static_cast<double>(rang_out) / static_cast<double>(offers) : 0.0; }
};

/// Everything a simulation starts from.
struct sim_input {
  int64_t from_ms = 0, to_ms = 0;  ///< the period
  /// The state at from_ms without calls and agents: directory, queue
  /// configurations, counters and the measured handle time and patience.
  world_image start;
  std::vector<sim_caller> callers;  ///< by arrival
  std::vector<sim_action> actions;  ///< by time
  /// By agent id; "" holds every agent's together (for agents the log
  /// does not know, e.g. a staffing plan's). An offer to an agent rings
  /// out with its share, after one of its ring times (the policy's offer
  /// timeout when none is known): Twilio reports no-answer.
  std::map<std::string, ring_out_habit> ring_outs;
  /// How long an agent callq paused (auto-pause) stayed paused: the
  /// period's median, a minute when it has none. A simulated agent callq
  /// pauses comes back after this (as its page would: a status, then
  /// available).
  int64_t pause_ms = 60'000;
};

/// How each caller's unknowns were drawn (README, "What-if and staffing").
struct sim_draws {
  /// Per caller: patience (ms in line before hanging up; -1 never), handle
  /// time and ring time used.
  std::vector<int64_t> patience_ms, handle_ms, ring_ms;
};

/// Draws each caller's patience, handle and ring times with `seed`:
/// - recorded ones are kept (an abandoned caller's patience is its wait);
/// - an answered caller waited `w` and would have waited longer: its
///   patience is drawn from the queue's Kaplan-Meier patience distribution
///   above `w` (from every caller of the period, answered ones censored at
///   their wait), and is "for ever" where the estimate has no mass left;
/// - an unknown handle or ring time is drawn from the queue's recorded
///   ones (all queues' when it has none; the policy's default handle time
///   and 0 ms when nobody has one); a ring time longer than the caller's
///   ring_at_least_ms (just above it when none recorded is).
sim_draws draw_unknowns(const sim_input& in, const policy& rules, uint64_t seed);

/// Receives each simulated event with its stream, in the order decided.
using sim_sink = std::function<void(const std::string& stream, const events::event& e)>;

/// What a run did, besides its events.
struct sim_stats {
  int64_t callers = 0, commands = 0, events = 0;
  int64_t unfinished = 0;  ///< calls still live when the run stopped
  /// The run stopped at this time (0: it did not) because a million steps
  /// in a row fell on it: a timer set again and again to the same moment.
  int64_t stuck_at_ms = 0;
};

/// Runs `in` under `rules` with `draws`, sending every event to `sink`.
/// Runs past to_ms (no arrival then) until every call has ended, at most a
/// day. Agent heartbeats are not simulated: the rules are taken with
/// FEATURE_AGENT_HEARTBEAT off, agents being present exactly as the
/// actions say; callers never ask for a callback (not simulated).
/// `seed` seeds the random strategy's draws.
sim_stats run_simulation(const sim_input& in, const policy& rules, const sim_draws& draws,
                         uint64_t seed, const sim_sink& sink);

/// The rules a simulation runs under (see run_simulation).
policy simulation_rules(policy rules);

}  // namespace callq::replay
