// One stream's history, read through the log's stream index.
#pragma once

#include <string>
#include <vector>

#include "events/event.hpp"
#include "events/status.hpp"
#include "storage/event_log.hpp"

namespace callq::replay {

/// The events of "call/<sid>" (kind "call") or "agent/<id>" (kind
/// "agent"), oldest first, up to sequence `until_seq` (0: all).
status read_timeline(const storage::event_log& log, const std::string& stream,
                     uint64_t until_seq, std::vector<events::envelope>* out);

/// One human-readable line: time, sequence, type and the payload's fields.
std::string format_timeline_line(const events::envelope& e);

}  // namespace callq::replay
