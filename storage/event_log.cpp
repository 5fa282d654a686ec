#include "storage/event_log.hpp"

#include <filesystem>

#include <rocksdb/db.h>
#include <rocksdb/cache.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include "storage/record.hpp"

namespace callq::storage {

namespace fs = std::filesystem;

namespace {

const char* const cf_events = "events";
const char* const cf_streams = "streams";
const char* const cf_idem = "idempotency";
const char* const cf_meta = "meta";
const char* const format_key = "format";
const char* const format_magic = "callq-event-log";

status from_rocks(const rocksdb::Status& s, const std::string& what) {
  if (s.ok())
    return status::ok();
  if (s.IsNotFound())
    return status::not_found(what);
  if (s.IsCorruption())
    return status::corruption(what + ": " + s.ToString());
  return status::io_error(what + ": " + s.ToString());
}

/// Key marking that a stream exists, in the streams family (written with
/// its first event); the leading \x01 keeps it apart from the
/// "stream\0version" index keys. Most streams the log has never seen are
/// answered by the bloom filters without touching the index.
std::string exists_key(const std::string& stream) { return "\x01" + stream; }

std::string stream_key(const std::string& stream, uint64_t version) {
  std::string k = stream;
  k.push_back('\0');
  k += seq_key(version);
  return k;
}

rocksdb::Options db_options() {
  rocksdb::Options o;
  o.IncreaseParallelism(2);
  o.write_buffer_size = 64 << 20;
  o.max_write_buffer_number = 3;
  o.compression = rocksdb::kNoCompression;
  o.max_open_files = 256;
  return o;
}

}  // namespace

event_log::~event_log() {
  if (db_ == nullptr)
    return;
  if (!read_only_) {
    // Leave no WAL to replay: the next reader opens without rebuilding
    // memtables from it.
    db_->FlushWAL(true);
    for (auto* cf : {events_cf_, streams_cf_, idem_cf_})
      if (cf != nullptr)
        db_->Flush(rocksdb::FlushOptions(), cf);
  }
  for (auto* cf : {events_cf_, streams_cf_, idem_cf_, meta_cf_})
    if (cf != nullptr)
      db_->DestroyColumnFamilyHandle(cf);
  if (default_cf_ != nullptr)
    db_->DestroyColumnFamilyHandle(default_cf_);
  db_->Close();
  delete db_;
}

status event_log::open_data_dir(const std::string& data_dir, const log_options& opts,
                                std::unique_ptr<event_log>* out) {
  std::error_code ec;
  if (!fs::exists(data_dir, ec)) {
    if (opts.read_only || !opts.create_if_missing)
      return status::not_found("data directory " + data_dir + " does not exist");
  } else if (!fs::is_directory(data_dir, ec)) {
    return status::invalid_argument(data_dir + " is not a directory");
  }
  std::string dir = (fs::path(data_dir) / "events").string();
  if ((opts.read_only || !opts.create_if_missing) && !fs::exists(dir, ec))
    return status::not_found(data_dir + " is not a callq data directory (no events/ log in it)");
  if (!opts.read_only)
    fs::create_directories(dir, ec);
  return open(dir, opts, out);
}

status event_log::open(const std::string& dir, const log_options& opts,
                       std::unique_ptr<event_log>* out) {
  std::error_code ec;
  bool exists = fs::exists(dir, ec);
  bool empty = !exists || fs::is_empty(dir, ec);
  if (exists && !fs::is_directory(dir, ec))
    return status::invalid_argument(dir + " is not a directory");
  bool fresh = empty;
  if (fresh && (opts.read_only || !opts.create_if_missing))
    return status::not_found(dir + " holds no callq event log");
  if (!fresh && !fs::exists(fs::path(dir) / "CURRENT", ec))
    return status::invalid_argument(dir + " is not a callq event log (no database found in it)");

  rocksdb::Options o = db_options();
  o.create_if_missing = fresh;
  o.create_missing_column_families = fresh;
  std::vector<std::string> names;
  if (!fresh) {
    auto s = rocksdb::DB::ListColumnFamilies(o, dir, &names);
    if (!s.ok())
      return status::invalid_argument(dir + " is not a callq event log: " + s.ToString());
    for (const char* want : {cf_events, cf_streams, cf_idem, cf_meta})
      if (std::find(names.begin(), names.end(), want) == names.end())
        return status::invalid_argument(dir + " is not a callq event log (no '" +
                                        want + "' column family)");
  }
  // Index and filter blocks live in one bounded block cache, so a reader's
  // memory does not grow with the size of the log.
  auto cache = rocksdb::NewLRUCache(8 << 20);
  rocksdb::BlockBasedTableOptions plain;
  plain.block_cache = cache;
  plain.cache_index_and_filter_blocks = true;
  plain.pin_l0_filter_and_index_blocks_in_cache = true;
  rocksdb::ColumnFamilyOptions cfo(o);
  cfo.table_factory.reset(rocksdb::NewBlockBasedTableFactory(plain));
  // Point look-ups (stream heads, idempotency keys) are mostly misses:
  // bloom filters in the memtable and the tables answer them cheaply.
  rocksdb::ColumnFamilyOptions lookup(o);
  rocksdb::BlockBasedTableOptions bt = plain;
  bt.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  lookup.table_factory.reset(rocksdb::NewBlockBasedTableFactory(bt));
  lookup.memtable_prefix_bloom_size_ratio = 0.05;
  lookup.memtable_whole_key_filtering = true;
  std::vector<rocksdb::ColumnFamilyDescriptor> descs = {
      {rocksdb::kDefaultColumnFamilyName, cfo}, {cf_events, cfo},
      {cf_streams, lookup}, {cf_idem, lookup}, {cf_meta, cfo}};
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  std::unique_ptr<event_log> log(new event_log);
  log->dir_ = dir;
  log->read_only_ = opts.read_only;
  rocksdb::Status s;
  if (opts.read_only)
    s = rocksdb::DB::OpenForReadOnly(o, dir, descs, &handles, &log->db_);
  else
    s = rocksdb::DB::Open(o, dir, descs, &handles, &log->db_);
  if (!s.ok())
    return from_rocks(s, "cannot open event log in " + dir);
  log->default_cf_ = handles[0];
  log->events_cf_ = handles[1];
  log->streams_cf_ = handles[2];
  log->idem_cf_ = handles[3];
  log->meta_cf_ = handles[4];

  std::string marker = std::string(format_magic) + "/" + std::to_string(log_format_version);
  std::string found;
  s = log->db_->Get(rocksdb::ReadOptions(), log->meta_cf_, format_key, &found);
  if (s.IsNotFound() && fresh) {
    rocksdb::WriteOptions wo;
    wo.sync = true;
    s = log->db_->Put(wo, log->meta_cf_, format_key, marker);
    if (!s.ok())
      return from_rocks(s, "cannot write format marker");
  } else if (s.IsNotFound()) {
    return status::invalid_argument(dir + " is not a callq event log (no format marker)");
  } else if (!s.ok()) {
    return from_rocks(s, "cannot read format marker");
  } else {
    auto slash = found.rfind('/');
    if (slash == std::string::npos || found.compare(0, slash, format_magic) != 0)
      return status::invalid_argument(dir + " is not a callq event log (marker '" + found + "')");
    int version = std::atoi(found.c_str() + slash + 1);
    if (version > log_format_version)
      return status::not_supported(dir + " was written by a newer callq (log format " +
                                   std::to_string(version) + ", this build reads up to " +
                                   std::to_string(log_format_version) + ")");
  }
  if (auto st = log->load_tail(); !st)
    return st;
  *out = std::move(log);
  return status::ok();
}

status event_log::load_tail() {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), events_cf_));
  it->SeekToLast();
  if (!it->Valid())
    return from_rocks(it->status(), "cannot read log tail");
  last_seq_ = seq_from_key(it->key().ToStringView());
  record_view r;
  if (auto st = parse_record(it->value().ToStringView(), &r); !st)
    return status::corruption("last event " + std::to_string(last_seq_) + ": " + st.message());
  std::copy(r.chain.begin(), r.chain.end(), last_chain_.begin());
  return status::ok();
}

uint64_t event_log::next_stream_version(const std::string& stream) {
  auto i = stream_versions_.find(stream);
  if (i != stream_versions_.end())
    return ++i->second;
  // The cache only saves look-ups; a long-running server forgets it now
  // and then rather than keeping every call it has ever seen.
  if (stream_versions_.size() >= max_cached_streams)
    stream_versions_.clear();
  uint64_t last = 0;
  std::string ignored;
  if (db_->Get(rocksdb::ReadOptions(), streams_cf_, exists_key(stream), &ignored).ok()) {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), streams_cf_));
    it->SeekForPrev(stream_key(stream, ~uint64_t{0}));
    if (it->Valid()) {
      auto k = it->key().ToStringView();
      if (k.size() == stream.size() + 9 && k.compare(0, stream.size(), stream) == 0 &&
          k[stream.size()] == '\0')
        last = seq_from_key(k.substr(stream.size() + 1));
    }
  }
  stream_versions_.emplace(stream, last + 1);
  return last + 1;
}

status event_log::append(const std::vector<events::event>& evs,
                         const std::vector<idempotency_entry>& idem, bool sync,
                         uint64_t* first_seq) {
  if (read_only_)
    return status::not_supported("the log is open read-only");
  rocksdb::WriteBatch batch;
  uint64_t seq = last_seq_;
  events::chain_value chain = last_chain_;
  std::string body;
  std::vector<std::pair<std::string, uint64_t>> bumped;  // undo on failure
  for (const auto& ev : evs) {
    ++seq;
    std::string stream = events::stream_of(ev.body);
    uint64_t version = next_stream_version(stream);
    bumped.emplace_back(stream, version);
    encode_record_body(seq, stream, version, ev, body);
    chain = chain_next(chain, body);
    body.append(reinterpret_cast<const char*>(chain.data()), chain.size());
    batch.Put(events_cf_, seq_key(seq), body);
    batch.Put(streams_cf_, stream_key(stream, version), seq_key(seq));
    if (version == 1)
      batch.Put(streams_cf_, exists_key(stream), "");
  }
  for (const auto& [k, v] : idem)
    batch.Put(idem_cf_, k, v);
  rocksdb::WriteOptions wo;
  wo.sync = sync;
  auto s = db_->Write(wo, &batch);
  if (!s.ok()) {
    for (auto i = bumped.rbegin(); i != bumped.rend(); ++i)
      stream_versions_[i->first] = i->second - 1;
    return from_rocks(s, "append failed");
  }
  *first_seq = last_seq_ + 1;
  last_seq_ = seq;
  last_chain_ = chain;
  return status::ok();
}

status event_log::scan(uint64_t from,
                       const std::function<bool(const events::envelope&)>& fn) const {
  rocksdb::ReadOptions ro;
  ro.readahead_size = 2 << 20;
  ro.verify_checksums = false;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, events_cf_));
  events::envelope e;
  for (it->Seek(seq_key(from == 0 ? 1 : from)); it->Valid(); it->Next()) {
    if (auto st = decode_record(it->value().ToStringView(), &e); !st) {
      if (st.message().rfind("event ", 0) == 0)
        return st;
      return status::corruption("event " + std::to_string(seq_from_key(it->key().ToStringView())) +
                                ": " + st.message());
    }
    if (!fn(e))
      return status::ok();
  }
  return from_rocks(it->status(), "scan failed");
}

status event_log::get(uint64_t seq, events::envelope* out) const {
  std::string value;
  auto s = db_->Get(rocksdb::ReadOptions(), events_cf_, seq_key(seq), &value);
  if (!s.ok())
    return from_rocks(s, "event " + std::to_string(seq));
  return decode_record(value, out);
}

status event_log::read_stream(const std::string& stream,
                              const std::function<bool(const events::envelope&)>& fn) const {
  std::string prefix = stream;
  prefix.push_back('\0');
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), streams_cf_));
  events::envelope e;
  for (it->Seek(prefix); it->Valid(); it->Next()) {
    auto k = it->key().ToStringView();
    if (k.size() != prefix.size() + 8 || k.compare(0, prefix.size(), prefix) != 0)
      break;
    if (auto st = get(seq_from_key(it->value().ToStringView()), &e); !st)
      return st;
    if (!fn(e))
      break;
  }
  return from_rocks(it->status(), "stream read failed");
}

status event_log::get_idempotency(const std::string& key, std::string* value) const {
  auto s = db_->Get(rocksdb::ReadOptions(), idem_cf_, key, value);
  return from_rocks(s, "idempotency key");
}

status event_log::verify(verify_report* report) const {
  *report = verify_report{};
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), events_cf_));
  events::chain_value chain{};
  uint64_t expect = 1;
  record_view r;
  auto fail = [&](uint64_t seq, std::string why) {
    report->bad_seq = seq;
    report->problem = std::move(why);
    return status::ok();
  };
  for (it->SeekToFirst(); it->Valid(); it->Next(), ++expect) {
    uint64_t key_seq = seq_from_key(it->key().ToStringView());
    if (key_seq != expect)
      return fail(expect, key_seq > expect ? "event " + std::to_string(expect) + " is missing"
                                           : "unexpected key " + std::to_string(key_seq));
    if (auto st = parse_record(it->value().ToStringView(), &r); !st)
      return fail(expect, st.message());
    if (r.seq != key_seq)
      return fail(expect, "record holds sequence " + std::to_string(r.seq) +
                              " under key " + std::to_string(key_seq) + " (moved or reordered)");
    chain = chain_next(chain, r.body);
    if (std::string_view(reinterpret_cast<const char*>(chain.data()), 32) != r.chain)
      return fail(expect, "chain value does not match (event changed, inserted or removed)");
    report->events = expect;
  }
  return from_rocks(it->status(), "verify failed");
}

}  // namespace callq::storage
