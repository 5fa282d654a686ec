#include "storage/pg_connection.hpp"

#include <algorithm>
#include <cstring>

#include <libpq-fe.h>

namespace callq::storage {

namespace {

constexpr unsigned int8_oid = 20;
constexpr unsigned bytea_oid = 17;
constexpr unsigned text_oid = 25;
constexpr unsigned int8_array_oid = 1016;
constexpr unsigned bytea_array_oid = 1001;

void put_be32(std::string& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>((v >> shift) & 0xff));
}

/// PostgreSQL's binary array: one dimension, no nulls, then each element
/// as its length and bytes.
template <class F>
std::string binary_array(unsigned elem_oid, size_t n, F&& element) {
  std::string out;
  put_be32(out, 1);  // dimensions
  put_be32(out, 0);  // no nulls
  put_be32(out, elem_oid);
  put_be32(out, static_cast<uint32_t>(n));
  put_be32(out, 1);  // lower bound
  for (size_t i = 0; i < n; ++i)
    element(out, i);
  return out;
}

std::string be64(int64_t v) {
  std::string out(8, '\0');
  auto u = static_cast<uint64_t>(v);
  for (int i = 7; i >= 0; --i, u >>= 8)
    out[static_cast<size_t>(i)] = static_cast<char>(u & 0xff);
  return out;
}

/// libpq's message on one line: its line breaks and tabs become spaces.
status failed(const std::string& what, const char* detail) {
  std::string d;
  for (const char* p = detail != nullptr ? detail : ""; *p != '\0'; ++p) {
    bool blank = *p == '\n' || *p == '\t' || *p == ' ';
    if (blank && (d.empty() || d.back() == ' '))
      continue;
    d += blank ? ' ' : *p;
  }
  while (!d.empty() && d.back() == ' ')
    d.pop_back();
  return status::io_error(what + ": " + d);
}

}  // namespace

pg_params& pg_params::i64(int64_t v) {
  values_.push_back(be64(v));
  types_.push_back(int8_oid);
  return *this;
}

pg_params& pg_params::bytes(std::string_view v) {
  values_.emplace_back(v);
  types_.push_back(bytea_oid);
  return *this;
}

pg_params& pg_params::text(std::string_view v) {
  values_.emplace_back(v);
  types_.push_back(text_oid);
  return *this;
}

pg_params& pg_params::i64_array(const std::vector<int64_t>& v) {
  values_.push_back(binary_array(int8_oid, v.size(), [&](std::string& out, size_t i) {
    put_be32(out, 8);
    out += be64(v[i]);
  }));
  types_.push_back(int8_array_oid);
  return *this;
}

pg_params& pg_params::bytes_array(const std::vector<std::string>& v) {
  values_.push_back(binary_array(bytea_oid, v.size(), [&](std::string& out, size_t i) {
    put_be32(out, static_cast<uint32_t>(v[i].size()));
    out += v[i];
  }));
  types_.push_back(bytea_array_oid);
  return *this;
}

pg_rows::pg_rows(pg_result* r) : r_(r) {}
pg_rows::~pg_rows() {
  if (r_ != nullptr)
    PQclear(r_);
}
pg_rows::pg_rows(pg_rows&& o) noexcept : r_(o.r_) { o.r_ = nullptr; }
pg_rows& pg_rows::operator=(pg_rows&& o) noexcept {
  if (this != &o) {
    if (r_ != nullptr)
      PQclear(r_);
    r_ = o.r_;
    o.r_ = nullptr;
  }
  return *this;
}
int pg_rows::count() const { return r_ != nullptr ? PQntuples(r_) : 0; }
bool pg_rows::is_null(int row, int col) const { return PQgetisnull(r_, row, col) != 0; }
int64_t pg_rows::i64(int row, int col) const {
  const auto* p = reinterpret_cast<const unsigned char*>(PQgetvalue(r_, row, col));
  if (PQgetlength(r_, row, col) != 8)
    return 0;
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i)
    v = (v << 8) | p[i];
  return static_cast<int64_t>(v);
}
std::string_view pg_rows::bytes(int row, int col) const {
  return {PQgetvalue(r_, row, col), static_cast<size_t>(PQgetlength(r_, row, col))};
}
int64_t pg_rows::affected() const {
  const char* n = r_ != nullptr ? PQcmdTuples(r_) : "";
  return n[0] != '\0' ? std::atoll(n) : 0;
}

status pg_connection::connect(const std::string& url, std::unique_ptr<pg_connection>* out) {
  std::unique_ptr<pg_connection> c(new pg_connection);
  c->c_ = PQconnectdb(url.c_str());
  if (c->c_ == nullptr || PQstatus(c->c_) != CONNECTION_OK)
    return failed("cannot connect to " + redact_password(url),
                  c->c_ != nullptr ? PQerrorMessage(c->c_) : "out of memory");
  // Quiet notices (CREATE ... IF NOT EXISTS says "already exists").
  PQsetNoticeProcessor(c->c_, [](void*, const char*) {}, nullptr);
  *out = std::move(c);
  return status::ok();
}

pg_connection::~pg_connection() {
  if (c_ != nullptr)
    PQfinish(c_);
}

namespace {

/// libpq's view of a statement's parameters: pointers, lengths, formats
/// (all binary).
struct wire_params {
  explicit wire_params(const std::vector<std::string>& vs) {
    for (auto& v : vs) {
      values.push_back(v.data());
      lengths.push_back(static_cast<int>(v.size()));
      formats.push_back(1);
    }
  }
  int count() const { return static_cast<int>(values.size()); }
  std::vector<const char*> values;
  std::vector<int> lengths, formats;
};

}  // namespace

status pg_connection::outcome(pg_rows r, pg_rows* rows) {
  ExecStatusType st = r.r_ != nullptr ? PQresultStatus(r.r_) : PGRES_FATAL_ERROR;
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
    return failed("PostgreSQL", r.r_ != nullptr ? PQresultErrorMessage(r.r_) : PQerrorMessage(c_));
  }
  if (rows != nullptr)
    *rows = std::move(r);
  return status::ok();
}

status pg_connection::exec(const std::string& sql, const pg_params& params, pg_rows* rows) {
  if (auto st = leave_pipeline(); !st)
    return st;
  wire_params w(params.values_);
  return outcome(pg_rows(PQexecParams(c_, sql.c_str(), w.count(), params.types_.data(), w.values.data(),
                                      w.lengths.data(), w.formats.data(), 1)),
                 rows);
}

status pg_connection::exec_script(const std::string& sql) {
  if (auto st = leave_pipeline(); !st)
    return st;
  return outcome(pg_rows(PQexec(c_, sql.c_str())), nullptr);
}

status pg_connection::leave_pipeline() {
  if (PQpipelineStatus(c_) == PQ_PIPELINE_OFF)
    return status::ok();
  if (!in_flight_.empty())
    return status::invalid_argument("a synchronous statement while pipelined ones are in flight");
  if (PQexitPipelineMode(c_) != 1)
    return failed("PostgreSQL", PQerrorMessage(c_));
  return status::ok();
}

status pg_connection::send_prepared(const std::string& name, const std::string& sql,
                                    const pg_params& params) {
  if (PQpipelineStatus(c_) == PQ_PIPELINE_OFF && PQenterPipelineMode(c_) != 1)
    return failed("PostgreSQL", PQerrorMessage(c_));
  // Each statement ends at its own sync point, so it is its own
  // transaction and one failing does not abort the next.
  if (std::find(prepared_.begin(), prepared_.end(), name) == prepared_.end()) {
    if (PQsendPrepare(c_, name.c_str(), sql.c_str(), static_cast<int>(params.types_.size()),
                      params.types_.data()) != 1 ||
        PQpipelineSync(c_) != 1)
      return failed("PostgreSQL", PQerrorMessage(c_));
    prepared_.push_back(name);
    in_flight_.push_back(name);
  }
  wire_params w(params.values_);
  if (PQsendQueryPrepared(c_, name.c_str(), w.count(), w.values.data(), w.lengths.data(),
                          w.formats.data(), 1) != 1 ||
      PQpipelineSync(c_) != 1)
    return failed("PostgreSQL", PQerrorMessage(c_));
  in_flight_.emplace_back();
  return status::ok();
}

status pg_connection::read_one(pg_rows* rows, std::string* constraint) {
  status st = status::io_error("PostgreSQL: no result");
  bool got = false, ended = false;
  for (;;) {
    PGresult* r = PQgetResult(c_);
    if (r == nullptr) {
      // The end of one statement's results; its sync point follows, unless
      // the connection is gone (or nothing more was sent).
      if (!ok() || ended)
        return got ? st : failed("PostgreSQL", PQerrorMessage(c_));
      ended = true;
      continue;
    }
    ended = false;
    ExecStatusType t = PQresultStatus(r);
    if (t == PGRES_PIPELINE_SYNC) {
      PQclear(r);
      return st;
    }
    if (!got) {
      got = true;
      if (t == PGRES_FATAL_ERROR && constraint != nullptr) {
        const char* name = PQresultErrorField(r, PG_DIAG_CONSTRAINT_NAME);
        constraint->assign(name != nullptr ? name : "");
      }
      st = outcome(pg_rows(r), rows);
    } else {
      PQclear(r);
    }
  }
}

status pg_connection::receive(pg_rows* rows, std::string* constraint) {
  if (constraint != nullptr)
    constraint->clear();
  while (!in_flight_.empty()) {
    std::string preparing = std::move(in_flight_.front());
    in_flight_.erase(in_flight_.begin());
    bool ours = preparing.empty();
    status st = read_one(ours ? rows : nullptr, ours ? constraint : nullptr);
    if (ours)
      return st;
    if (!st) {  // the prepare failed: so will the statement that needed it
      prepared_.erase(std::find(prepared_.begin(), prepared_.end(), preparing));
      read_one(nullptr, nullptr);
      in_flight_.erase(in_flight_.begin());
      return st;
    }
  }
  return status::invalid_argument("no pipelined statement in flight");
}

bool pg_connection::ok() const { return c_ != nullptr && PQstatus(c_) == CONNECTION_OK; }

status pg_connection::reset() {
  PQreset(c_);
  prepared_.clear();  // a new session
  in_flight_.clear();
  if (PQstatus(c_) != CONNECTION_OK)
    return failed("cannot reconnect to PostgreSQL", PQerrorMessage(c_));
  PQsetNoticeProcessor(c_, [](void*, const char*) {}, nullptr);
  return status::ok();
}


int pg_connection::socket() const { return PQsocket(c_); }

std::vector<std::string> pg_connection::notifications() {
  std::vector<std::string> out;
  PQconsumeInput(c_);
  while (PGnotify* n = PQnotifies(c_)) {
    out.emplace_back(n->extra != nullptr ? n->extra : "");
    PQfreemem(n);
  }
  return out;
}

std::string redact_password(const std::string& url) {
  // postgresql://user:password@host...: hide what is between ':' and '@'
  // of the user part.
  auto scheme = url.find("://");
  if (scheme == std::string::npos)
    return url;
  auto at = url.find('@', scheme + 3);
  if (at == std::string::npos)
    return url;
  auto colon = url.find(':', scheme + 3);
  if (colon == std::string::npos || colon > at)
    return url;
  return url.substr(0, colon + 1) + "***" + url.substr(at);
}

}  // namespace callq::storage
