// `callq serve`: configuration, start-up from the log, the HTTP server,
// and a clean stop on SIGTERM or SIGINT.
#pragma once

#include "app/config.hpp"

namespace callq::app {

/// Runs the server until SIGTERM/SIGINT; returns the exit code.
int serve(const flag_values& flags);

}  // namespace callq::app
