#include "actors/world/rebuild.hpp"

namespace callq {

status rebuild(const storage::event_log& log, world& state, const rebuild_limit& limit,
               rebuild_report* report, const after_apply_fn& after) {
  *report = rebuild_report{};
  status failure;
  auto st = log.scan(state.last_seq() + 1, [&](const events::envelope& e) {
    if (limit.until_seq != 0 && e.seq > limit.until_seq)
      return false;
    if (limit.until_ms != 0 && e.ev.ts_ms > limit.until_ms)
      return false;
    state.apply(e.seq, e.ev);
    report->events += 1;
    report->last_seq = e.seq;
    report->last_ms = e.ev.ts_ms;
    if (after) {
      failure = after(e, state);
      if (!failure)
        return false;
    }
    return true;
  });
  if (!st)
    return st;
  return failure;
}

}  // namespace callq
