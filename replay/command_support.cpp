#include "replay/command_support.hpp"

#include <cstdio>
#include <ostream>

namespace callq::replay {

/// Opens the log of `data_dir` or `store` (README, "High availability")
/// with `o`; false, with the reason on `err`, when it cannot.
bool open_store(const std::string& data_dir, const std::string& store, const storage::log_options& o,
                std::unique_ptr<storage::event_log>* log, std::ostream& err, status* failed) {
  if (data_dir.empty() && store.empty()) {
    err << "error: --data-dir (or --store, or CALLQ_STORE) is required\n";
    return false;
  }
  if (auto st = storage::event_log::open_store(store, data_dir, o, log); !st) {
    if (failed != nullptr) {
      *failed = st;
      return false;
    }
    err << "error: " << st.message() << "\n";
    return false;
  }
  return true;
}

bool open_log(const std::string& data_dir, const std::string& store,
              std::unique_ptr<storage::event_log>* log, std::ostream& err) {
  storage::log_options o;
  o.read_only = true;
  return open_store(data_dir, store, o, log, err);
}

std::string fixed(double v, int digits) {
  char b[32];
  std::snprintf(b, sizeof b, "%.*f", digits, v);
  return b;
}

}  // namespace callq::replay
