#include "replay/rebuild.hpp"

namespace callq::replay {

status rebuild(const storage::event_log& log, center& state, const rebuild_limit& limit,
               rebuild_report* report, const before_apply_fn& before) {
  *report = rebuild_report{};
  status failure;
  auto st = log.scan(1, [&](const events::envelope& e) {
    if (limit.until_seq != 0 && e.seq > limit.until_seq)
      return false;
    if (limit.until_ms != 0 && e.ev.ts_ms > limit.until_ms)
      return false;
    if (before) {
      failure = before(e, state);
      if (!failure)
        return false;
    }
    state.apply(e.ev);
    report->events += 1;
    report->last_seq = e.seq;
    report->last_ms = e.ev.ts_ms;
    return true;
  });
  if (!st)
    return st;
  return failure;
}

}  // namespace callq::replay
