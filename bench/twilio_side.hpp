// What the benchmarks that play Twilio against a real `callq serve` share:
// the executable they start and the account they sign with.
#pragma once

#ifndef CALLQ_BINARY
#error "CALLQ_BINARY must name the callq executable"
#endif

namespace callq::bench {

/// The auth token the benchmarks' server is started with and signs with.
inline const char* const twilio_token = "bench-twilio-token";
/// The PUBLIC_BASE_URL the benchmarks' server is started with.
inline const char* const public_base = "https://callq.bench.test";

}  // namespace callq::bench
