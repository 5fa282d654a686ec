// The skills run of dispatch_bench: the dispatcher's matching index alone
// (no actors, no log) with 10,000 agents holding 5 skills each out of 30
// and 100,000 waiting calls across 20 queues with three-step skillSteps.
#pragma once

namespace callq::bench {

/// Runs it and prints its figures; returns 0, or 1 when a match broke a
/// skill requirement.
int skills_run(long agents, long calls, long samples);

}  // namespace callq::bench
