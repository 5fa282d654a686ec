// Server configuration: the contract's environment variables, an optional
// JSON config file with the same keys, and command-line flags. Later
// sources win: defaults < environment < config file < flags.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "actors/runtime.hpp"
#include "events/status.hpp"
#include "http/server.hpp"

namespace callq::app {

/// Values given as flags to `callq serve`.
struct flag_values {
  std::optional<std::string> bind, data_dir, config_file, store;
  std::optional<int> port;
};

/// Everything `callq serve` runs with.
struct server_config {
  runtime_options runtime;
  http::server_settings http;
  bool admin_token_from_env = false;
  /// A leader of a shared log that stops renewing its lease for this long
  /// is ended by a follower (CALLQ_LEADER_LEASE).
  int64_t leader_lease_ms = 5'000;
};

/// Parses a duration: a plain number of seconds or a number with a suffix
/// `ms`, `s`, `m` or `h` ("250ms", "30s", "10m", "1.5s").
status parse_duration_ms(const std::string& text, int64_t* ms);

/// Parses a size in bytes: a plain number or a number with a binary unit
/// (`K`/`KiB`, `M`/`MiB`, `G`/`GiB`, `T`/`TiB`), e.g. "512MiB".
status parse_size_bytes(const std::string& text, int64_t* bytes);

/// Parses true/false (also 1/0, yes/no, on/off).
status parse_bool(const std::string& text, bool* out);

/// Builds the configuration. `env` holds the process environment. A
/// malformed value fails with a message naming the variable.
status load_config(const std::map<std::string, std::string>& env, const flag_values& flags,
                   server_config* out);

/// Reads the admin token from `<data_dir>/admin-token`, creating it (mode
/// 0600) with a random token on first start. `*path` is the file.
status ensure_admin_token(const std::string& data_dir, std::string* token, std::string* path);

}  // namespace callq::app
