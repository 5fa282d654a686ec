// What the offline commands (commands.hpp, simulate_commands.hpp) share:
// opening the log and formatting figures.
#pragma once

#include <iosfwd>
#include <memory>
#include <string>

#include "events/status.hpp"
#include "storage/event_log.hpp"

namespace callq::replay {

/// Opens the log of `data_dir` or `store` (README, "High availability")
/// with `o`; false, with the reason on `err`, when it cannot (or, when
/// `failed` is set, with the reason there instead).
bool open_store(const std::string& data_dir, const std::string& store, const storage::log_options& o,
                std::unique_ptr<storage::event_log>* log, std::ostream& err, status* failed = nullptr);

/// Opens the log read-only (a server may be writing to it).
bool open_log(const std::string& data_dir, const std::string& store,
              std::unique_ptr<storage::event_log>* log, std::ostream& err);

/// `v` with `digits` decimals.
std::string fixed(double v, int digits);

}  // namespace callq::replay
