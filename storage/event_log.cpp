#include "storage/event_log.hpp"

#include <chrono>
#include <thread>

#include "storage/postgres_log.hpp"
#include "storage/record.hpp"
#include "storage/rocksdb_log.hpp"

namespace callq::storage {

const char* const log_format_magic = "callq-event-log";

bool event_log::is_postgres_url(const std::string& store) {
  return store.rfind("postgresql://", 0) == 0 || store.rfind("postgres://", 0) == 0;
}

status event_log::open_data_dir(const std::string& data_dir, const log_options& opts,
                                std::unique_ptr<event_log>* out) {
  std::unique_ptr<rocksdb_log> log;
  if (auto st = rocksdb_log::open_data_dir(data_dir, opts, &log); !st)
    return st;
  *out = std::move(log);
  return status::ok();
}

status event_log::open_store(const std::string& store, const std::string& data_dir,
                             const log_options& opts, std::unique_ptr<event_log>* out) {
  if (store.empty())
    return open_data_dir(data_dir, opts, out);
  if (!is_postgres_url(store))
    return status::invalid_argument("store must be empty (the RocksDB log in the data directory) "
                                    "or a postgresql:// URL, not '" + store + "'");
  std::unique_ptr<postgres_log> log;
  if (auto st = postgres_log::open(store, opts, &log); !st)
    return st;
  *out = std::move(log);
  return status::ok();
}

void event_log::wait_for_appends(int timeout_ms) const {
  std::this_thread::sleep_for(std::chrono::milliseconds(timeout_ms));
}

status event_log::submit_append(const std::vector<events::event>& evs,
                                const std::vector<idempotency_entry>& idem, bool sync,
                                uint64_t* first_seq) {
  if (completed_unreported_ >= max_in_flight())
    return status::invalid_argument("more pipelined appends than max_in_flight()");
  if (auto st = append(evs, idem, sync, first_seq); !st)
    return st;
  ++completed_unreported_;
  return status::ok();
}

status event_log::complete_append() {
  if (completed_unreported_ == 0)
    return status::invalid_argument("complete_append() with no append in flight");
  --completed_unreported_;
  return status::ok();
}

status event_log::verify(verify_report* report) const {
  *report = verify_report{};
  events::chain_value chain{};
  uint64_t expect = 1;
  record_view r;
  bool broken = false;
  auto fail = [&](uint64_t seq, std::string why) {
    report->bad_seq = seq;
    report->problem = std::move(why);
    broken = true;
    return false;
  };
  auto st = scan_records(1, [&](uint64_t key_seq, std::string_view value) {
    if (key_seq != expect)
      return fail(expect, key_seq > expect ? "event " + std::to_string(expect) + " is missing"
                                           : "unexpected key " + std::to_string(key_seq));
    if (auto p = parse_record(value, &r); !p)
      return fail(expect, p.message());
    if (r.seq != key_seq)
      return fail(expect, "record holds sequence " + std::to_string(r.seq) + " under key " +
                              std::to_string(key_seq) + " (moved or reordered)");
    chain = chain_next(chain, r.body);
    if (std::string_view(reinterpret_cast<const char*>(chain.data()), 32) != r.chain)
      return fail(expect, "chain value does not match (event changed, inserted or removed)");
    report->events = expect++;
    return true;
  });
  if (!st)
    return st;
  if (broken)
    return status::ok();
  // The tail: a log that ends before its recorded head lost events.
  chain_head head;
  st = recorded_head(&head);
  if (st.is_not_found())
    return status::ok();
  if (!st)
    return st;
  report->head_seq = head.seq;
  if (head.seq > report->events) {
    fail(report->events + 1, "the log ends at event " + std::to_string(report->events) +
                                 ", but its end was recorded at event " + std::to_string(head.seq) +
                                 ": events " + std::to_string(report->events + 1) + " to " +
                                 std::to_string(head.seq) + " were removed");
    return status::ok();
  }
  if (head.seq > 0) {
    events::chain_value at{};
    if (auto c = chain_at(head.seq, &at); !c)
      return c;
    if (at != head.chain)
      fail(head.seq, "chain value at event " + std::to_string(head.seq) +
                         " differs from the recorded chain head (the log was rewritten)");
  }
  return status::ok();
}

}  // namespace callq::storage
