// The dispatcher's decisions about queue configurations (the
// `queue/<name>` streams, whose one writer is the dispatcher): command in,
// events and an answer out. Pure: no CAF, no clock, no I/O.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <variant>
#include <vector>

#include "actors/commands.hpp"
#include "actors/dispatcher/queue_config.hpp"
#include "actors/replies.hpp"
#include "events/event.hpp"

namespace callq {

/// The commands the dispatcher decides about its queues.
using queue_command = std::variant<cmd::put_queue, cmd::delete_queue>;

/// What a queue command decided: the events to append, and the answer.
struct queue_decision {
  std::vector<events::event> events;
  reply answer;
};

/// Decides `c` against the stored configurations `configured` at `now_ms`.
/// `in_use`: whether a call waits in (or rings from) the queue or an agent
/// is a member, which refuses a removal (409).
///
///   put: invalid when the configuration does not parse or its overflow
///        chain loops; otherwise `queue.configured` (created when the queue
///        had no configuration) answered with the stored configuration.
///   delete: not_found without a configuration, conflict while in use;
///        otherwise `queue.removed`.
queue_decision decide_queue(const std::map<std::string, queue_config>& configured,
                            const queue_command& c, bool in_use, int64_t now_ms);

/// Applies a decision's events to `configured` (what the dispatcher keeps).
void apply_queue(std::map<std::string, queue_config>& configured, const events::event& e);

}  // namespace callq
