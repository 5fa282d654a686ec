#include "replay/timeline.hpp"

#include "events/codec.hpp"

namespace callq::replay {

status read_timeline(const storage::event_log& log, const std::string& stream,
                     uint64_t until_seq, std::vector<events::envelope>* out) {
  out->clear();
  return log.read_stream(stream, [&](const events::envelope& e) {
    if (until_seq != 0 && e.seq > until_seq)
      return false;
    out->push_back(e);
    return true;
  });
}

std::string format_timeline_line(const events::envelope& e) {
  std::string line = events::format_iso8601(e.ev.ts_ms) + "  #" + std::to_string(e.seq) + "  " +
                     std::string(events::type_name(e.ev.body));
  auto data = events::payload_to_json(e.ev.body);
  for (auto& [k, v] : data.items()) {
    if (k == "callSid" || k == "tokenHash")
      continue;
    if (v.is_string() && v.get<std::string>().empty())
      continue;
    line += "  " + k + "=" + (v.is_string() ? v.get<std::string>() : v.dump());
  }
  return line;
}

}  // namespace callq::replay
