// A thin RAII wrapper over one libpq connection: parameters and results
// in binary form, errors as status values. Not thread-safe: one thread
// uses a connection at a time (postgres_log keeps a pool).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "events/status.hpp"

struct pg_conn;
struct pg_result;

namespace callq::storage {

/// Parameters of one statement, all sent in binary form.
class pg_params {
 public:
  /// An int8 (bigint) parameter.
  pg_params& i64(int64_t v);
  /// A bytea parameter: the bytes as they are.
  pg_params& bytes(std::string_view v);
  /// A text parameter (UTF-8).
  pg_params& text(std::string_view v);
  /// An int8[] parameter.
  pg_params& i64_array(const std::vector<int64_t>& v);
  /// A bytea[] parameter.
  pg_params& bytes_array(const std::vector<std::string>& v);
  size_t size() const { return values_.size(); }

 private:
  friend class pg_connection;
  std::vector<std::string> values_;
  std::vector<unsigned> types_;  ///< OIDs
};

/// The rows of one statement's result.
class pg_rows {
 public:
  pg_rows() = default;
  explicit pg_rows(pg_result* r);
  ~pg_rows();
  pg_rows(pg_rows&& o) noexcept;
  pg_rows& operator=(pg_rows&& o) noexcept;

  int count() const;
  bool is_null(int row, int col) const;
  /// A binary int8 column.
  int64_t i64(int row, int col) const;
  /// A binary bytea or text column.
  std::string_view bytes(int row, int col) const;
  /// Rows changed by an UPDATE/INSERT/DELETE.
  int64_t affected() const;

 private:
  friend class pg_connection;
  pg_result* r_ = nullptr;
};

class pg_connection {
 public:
  /// Connects to `url` (any libpq connection string or URL).
  static status connect(const std::string& url, std::unique_ptr<pg_connection>* out);
  ~pg_connection();

  /// Runs `sql` with `params` (binary in, binary out).
  status exec(const std::string& sql, const pg_params& params, pg_rows* rows = nullptr);
  /// Runs `sql`, which may hold several statements, with no parameters.
  status exec_script(const std::string& sql);

  // Pipelining (libpq's pipeline mode): statements sent one after another
  // without waiting, each its own transaction, run by the server in the
  // order sent. exec() and exec_script() may only run
  // while none is in flight.

  /// Sends the statement prepared as `name` (preparing it from `sql` the
  /// first time) and returns without waiting; receive() gets its result.
  status send_prepared(const std::string& name, const std::string& sql, const pg_params& params);
  /// Waits for the result of the oldest statement sent and not received.
  /// On failure, `*constraint` (when given) names the constraint the
  /// statement violated, if any.
  status receive(pg_rows* rows, std::string* constraint = nullptr);
  /// Statements sent and not yet received.
  size_t in_flight() const { return in_flight_.size(); }
  /// True while the connection is usable.
  bool ok() const;
  /// Reconnects in place (after the server went away or failed over).
  status reset();
  /// The socket, for waiting on notifications.
  int socket() const;
  /// Reads input and returns the notifications' payloads received so far.
  std::vector<std::string> notifications();

 private:
  pg_connection() = default;
  /// `r` as a status (and, when it succeeded, as `*rows`).
  status outcome(pg_rows r, pg_rows* rows);
  /// Leaves pipeline mode for a synchronous statement; fails while
  /// statements are in flight.
  status leave_pipeline();
  /// Reads one sent statement's results up to its sync point.
  status read_one(pg_rows* rows, std::string* constraint);
  pg_conn* c_ = nullptr;
  std::vector<std::string> prepared_;  ///< statement names prepared in this session
  /// What each statement in flight is, oldest first: the name of a
  /// statement being prepared on the caller's behalf (its result is not
  /// the caller's), or empty for the caller's statement.
  std::vector<std::string> in_flight_;
};

/// A connection URL with its password hidden ("postgresql://u:***@h/db").
std::string redact_password(const std::string& url);

}  // namespace callq::storage
