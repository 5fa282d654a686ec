#include "storage/leadership.hpp"

#include <chrono>

#include "storage/pg_connection.hpp"

namespace callq::storage {

namespace {

/// The advisory lock's key (two int4s; "callq" in the first, by habit).
constexpr const char* lock_sql = "SELECT pg_try_advisory_lock(6361, 2)";

}  // namespace

leadership::leadership(leadership_options o, std::function<void(int64_t)> elected,
                       std::function<void(const std::string&)> lost)
    : o_(std::move(o)), elected_(std::move(elected)), lost_(std::move(lost)) {}

leadership::~leadership() { stop(); }

void leadership::start() {
  thread_ = std::thread([this] { run(); });
}

void leadership::stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable())
    thread_.join();
}

void leadership::run() {
  std::unique_ptr<pg_connection> c;
  auto pause = [this](int64_t ms) {
    std::unique_lock lock(mu_);
    return !cv_.wait_for(lock, std::chrono::milliseconds(ms), [this] { return stop_; });
  };
  auto lose = [&](const std::string& why) {
    leader_ = false;
    c.reset();  // the session ends: the lock is free (if it was not already)
    lost_(why);
  };
  std::string last_problem;
  for (;;) {
    if (!c || !c->ok()) {
      c.reset();
      if (auto st = pg_connection::connect(o_.url, &c); !st) {
        c.reset();
        if (st.message() != last_problem && o_.warn)
          o_.warn("leadership: " + st.message());
        last_problem = st.message();
        if (leader_)
          lose("lost the connection holding the leader's lock");
        if (!pause(o_.poll_ms))
          return;
        continue;
      }
      last_problem.clear();
    }
    if (leader_) {
      pg_rows rows;
      auto st = c->exec("UPDATE callq_leader SET renewed_at = now() WHERE id = 1 AND epoch = $1",
                        pg_params().i64(epoch_.load()), &rows);
      if (!st)
        lose("renewing the lease failed: " + st.message());
      else if (rows.affected() != 1)
        lose("another callq leads now (the epoch moved on from " + std::to_string(epoch_.load()) + ")");
      if (!pause(o_.renew_ms))
        return;
      continue;
    }
    pg_rows rows;
    if (auto st = c->exec(lock_sql, {}, &rows); !st) {
      c.reset();
      if (!pause(o_.poll_ms))
        return;
      continue;
    }
    bool got = rows.count() == 1 && rows.bytes(0, 0) == std::string_view("\x01", 1);
    if (got) {
      pg_rows bumped;
      auto st = c->exec(
          "UPDATE callq_leader SET epoch = epoch + 1, holder = $1, backend_pid = pg_backend_pid(), "
          "renewed_at = now() WHERE id = 1 RETURNING epoch",
          pg_params().text(o_.holder), &bumped);
      if (!st || bumped.count() != 1) {
        c.reset();  // releases the lock with the session
        if (!pause(o_.poll_ms))
          return;
        continue;
      }
      epoch_ = bumped.i64(0, 0);
      leader_ = true;
      elected_(epoch_.load());
      continue;
    }
    // Someone holds the lock. A holder that stopped renewing (paused, cut
    // off) has its session ended, which frees the lock for the next try.
    pg_rows who;
    if (c->exec("SELECT backend_pid::int8, (extract(epoch FROM now() - renewed_at) * 1000)::int8, "
                "holder FROM callq_leader WHERE id = 1",
                {}, &who) &&
        who.count() == 1 && who.i64(0, 1) > o_.lease_ms) {
      if (o_.warn)
        o_.warn("leadership: the leader (" + std::string(who.bytes(0, 2)) +
                ") has not renewed its lease for " + std::to_string(who.i64(0, 1)) +
                " ms; ending its session to take over");
      c->exec("SELECT pg_terminate_backend($1::int4)", pg_params().i64(who.i64(0, 0)));
    }
    if (!pause(o_.poll_ms))
      return;
  }
}

}  // namespace callq::storage
