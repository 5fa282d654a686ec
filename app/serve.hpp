// `callq serve`: configuration, start-up from the log, the HTTP server,
// and a clean stop on SIGTERM or SIGINT.
#pragma once

#include "app/config.hpp"

namespace callq::app {

/// The rules `callq serve` would run with in this process's environment
/// (for the offline commands that decide as the server does).
status configured_rules(policy* out);

/// Runs the server until SIGTERM/SIGINT; returns the exit code.
int serve(const flag_values& flags);

}  // namespace callq::app
