// Raw TCP clients for testing the front door: connections from chosen
// loopback addresses that stall part-way through a request, as slow or
// hostile clients on the internet do. Used by tests and benchmarks.
#pragma once

#include <string>

namespace callq::testing {

/// Raises this process's open-files limit to its hard maximum.
void raise_fd_limit();

/// The loopback address of attacker `i` (0-based): 127.0.0.2 and up.
std::string attacker_address(int i);

/// A blocking TCP connection from `source` (a local address, any port) to
/// 127.0.0.1:`port`; -1 on failure.
int connect_from(const std::string& source, int port);

/// Where a stalled client stops.
enum class stall { mid_headers, mid_body };

/// The bytes a client sends before it stalls: a Twilio-looking webhook cut
/// inside its headers, or after its headers and the first bytes of a
/// 500-byte body.
std::string stalled_prefix(stall kind);

/// Writes all of `data`; false on error.
bool send_all(int fd, const std::string& data);

/// Reads until the peer closes or `timeout_ms` passes; `*closed` says
/// whether the peer closed (EOF or reset).
std::string read_until_close(int fd, int timeout_ms, bool* closed);

}  // namespace callq::testing
