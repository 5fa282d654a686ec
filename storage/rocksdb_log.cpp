#include "storage/rocksdb_log.hpp"

#include <fcntl.h>
#include <unistd.h>

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
const char* const cf_snapshots = "snapshots";
const char* const format_key = "format";
const char* const head_key = "chain-head";
/// Present once meta's index lists every snapshot.
const char* const snapshot_index_key = "snapshot-index";
/// The index entry of the snapshot at `seq`, in meta.
const char* const snapshot_entry_prefix = "snapshot/";
std::string snapshot_entry_key(uint64_t seq) { return snapshot_entry_prefix + seq_key(seq); }
/// A file in a log's directory from before its creation begins until its
/// format marker is durable. A start that finds it knows that nothing in
/// the directory was ever acknowledged (the creation was cut short: a
/// crash, a power loss, a full disk) and creates the log again.
const char* const creating_file = "CALLQ-CREATING";

/// Makes the creation and removal of `dir`'s entries durable (fsync of
/// the directory). False when it cannot.
bool sync_dir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return false;
  bool ok = ::fsync(fd) == 0;
  ::close(fd);
  return ok;
}

/// Readies `dir` for a new log: creates it (durably) if missing, empties
/// what an interrupted creation left, and leaves the durable creation
/// marker in it.
status begin_creation(const std::string& dir, bool interrupted) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) {
    fs::create_directories(dir, ec);
    if (ec)
      return status::io_error("cannot create " + dir + ": " + ec.message());
    auto parent = fs::path(dir).lexically_normal().parent_path();
    if (!sync_dir(parent.empty() ? "." : parent.string()))
      return status::io_error("cannot sync the directory holding " + dir);
  }
  fs::path marker = fs::path(dir) / creating_file;
  if (interrupted) {
    // RocksDB's own lock first: a creation under way in another process
    // is not an interrupted one.
    int lock = ::open((fs::path(dir) / "LOCK").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    struct flock fl {};
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    if (lock < 0 || ::fcntl(lock, F_SETLK, &fl) == -1) {
      if (lock >= 0)
        ::close(lock);
      return status::io_error(dir + " is being created by another process");
    }
    for (fs::directory_iterator i(dir, ec), end; !ec && i != end; i.increment(ec))
      if (i->path().filename() != creating_file && i->path().filename() != "LOCK")
        fs::remove_all(i->path(), ec);
    ::close(lock);
    if (ec)
      return status::io_error("cannot empty " + dir + " (an interrupted creation's): " + ec.message());
  } else {
    int fd = ::open(marker.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    bool ok = fd >= 0 && ::fsync(fd) == 0;
    if (fd >= 0)
      ::close(fd);
    if (!ok)
      return status::io_error("cannot create " + marker.string());
  }
  if (!sync_dir(dir))
    return status::io_error("cannot sync " + dir);
  return status::ok();
}

/// The log in `dir` is complete: its creation marker goes, durably,
/// before anything can be appended and acknowledged.
status end_creation(const std::string& dir) {
  std::error_code ec;
  fs::remove(fs::path(dir) / creating_file, ec);
  if (ec || !sync_dir(dir))
    return status::io_error("cannot remove " + (fs::path(dir) / creating_file).string());
  return status::ok();
}

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

/// Idempotency entries: "\x02" + key -> be64(written_ms) + answer, and a
/// time index "\x03" + be64(written_ms) + key -> "" that expiry walks in
/// time order. Keys of logs from before expiry are stored bare.
constexpr char idem_entry_tag = '\x02';
constexpr char idem_time_tag = '\x03';

std::string idem_time_key(int64_t written_ms, std::string_view key) {
  std::string k(1, idem_time_tag);
  k += seq_key(static_cast<uint64_t>(std::max<int64_t>(written_ms, 0)));
  k += key;
  return k;
}

/// The bytes of the table files in `dir` (0 when it cannot be listed).
uint64_t table_bytes(const std::string& dir) {
  uint64_t n = 0;
  std::error_code ec;
  for (fs::directory_iterator i(dir, ec), end; !ec && i != end; i.increment(ec))
    if (i->path().extension() == ".sst")
      n += i->file_size(ec);
  return ec ? 0 : n;
}

rocksdb::Options db_options() {
  rocksdb::Options o;
  o.IncreaseParallelism(2);
  o.write_buffer_size = 64 << 20;
  o.max_write_buffer_number = 3;
  // The memtables of every column family together: the slow ones (the
  // chain head, stream heads, idempotency keys) would otherwise each grow
  // to 64 MiB before a flush, and the RSS with them under a steady load.
  // Past this, the oldest memtable is flushed.
  o.db_write_buffer_size = 128 << 20;
  o.compression = rocksdb::kNoCompression;
  o.max_open_files = 256;
  // Table files are opened on this thread: RocksDB's default starts 15
  // threads per column family on every open (90 per open here) to open at
  // most 16 files each, which cost more than the opening.
  o.max_file_opening_threads = 1;
  return o;
}

}  // namespace

rocksdb_log::~rocksdb_log() {
  if (db_ == nullptr)
    return;
  if (write_failed_) {
    // RocksDB (as Debian builds it, with assertions) aborts when a WAL
    // writer that failed is closed. Everything acknowledged is in the WAL
    // already; leave the database to the process's exit, whose next start
    // recovers it.
    return;
  }
  if (!read_only_) {
    // Leave no WAL to replay: the next reader opens without rebuilding
    // memtables from it.
    db_->FlushWAL(true);
    record_head();  // a clean end: the tail it names cannot vanish unnoticed
    for (auto* cf : {events_cf_, streams_cf_, idem_cf_, meta_cf_, snapshots_cf_})
      if (cf != nullptr)
        db_->Flush(rocksdb::FlushOptions(), cf);
  }
  for (auto* cf : {events_cf_, streams_cf_, idem_cf_, meta_cf_, snapshots_cf_})
    if (cf != nullptr)
      db_->DestroyColumnFamilyHandle(cf);
  if (default_cf_ != nullptr)
    db_->DestroyColumnFamilyHandle(default_cf_);
  db_->Close();
  delete db_;
}

status rocksdb_log::open_data_dir(const std::string& data_dir, const log_options& opts,
                                std::unique_ptr<rocksdb_log>* out) {
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

status rocksdb_log::open(const std::string& dir, const log_options& opts,
                       std::unique_ptr<rocksdb_log>* out) {
  std::error_code ec;
  bool exists = fs::exists(dir, ec);
  bool empty = !exists || fs::is_empty(dir, ec);
  if (exists && !fs::is_directory(dir, ec))
    return status::invalid_argument(dir + " is not a directory");
  bool interrupted = exists && !empty && fs::exists(fs::path(dir) / creating_file, ec);
  bool fresh = empty || interrupted;
  if (fresh && (opts.read_only || !opts.create_if_missing))
    return status::not_found(dir + " holds no callq event log" +
                             (interrupted ? " (its creation was interrupted)" : ""));
  if (fresh)
    if (auto st = begin_creation(dir, interrupted); !st)
      return st;
  if (!fresh && !fs::exists(fs::path(dir) / "CURRENT", ec))
    return status::invalid_argument(dir + " is not a callq event log (no database found in it)");

  rocksdb::Options o = db_options();
  if (opts.rocksdb_env != nullptr)
    o.env = opts.rocksdb_env;
  o.create_if_missing = fresh;
  // A log from before snapshots gains their column family when opened
  // for writing.
  o.create_missing_column_families = !opts.read_only;
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
  // memory does not grow with the size of the log. They are partitioned
  // into 4 KiB blocks under a small pinned top level: whole, a large
  // table's filter (3 MiB at 2.6M keys) outgrew its cache shard (the 8 MiB
  // cache has 16), was read and checked again on every look-up that
  // reached it, and a "new stream?" look-up cost ~300 us instead of ~2
  // (bench/lookup_bench; a server under steady load fell to a tenth of its
  // rate after its first large compaction).
  auto cache = rocksdb::NewLRUCache(8 << 20);
  rocksdb::BlockBasedTableOptions plain;
  plain.block_cache = cache;
  plain.cache_index_and_filter_blocks = true;
  plain.cache_index_and_filter_blocks_with_high_priority = true;
  plain.pin_l0_filter_and_index_blocks_in_cache = true;
  plain.pin_top_level_index_and_filter = true;
  plain.index_type = rocksdb::BlockBasedTableOptions::kTwoLevelIndexSearch;
  plain.metadata_block_size = 4096;
  rocksdb::ColumnFamilyOptions cfo(o);
  cfo.table_factory.reset(rocksdb::NewBlockBasedTableFactory(plain));
  // Point look-ups (stream heads, idempotency keys) are mostly misses:
  // bloom filters in the memtable and the tables answer them cheaply.
  rocksdb::ColumnFamilyOptions lookup(o);
  rocksdb::BlockBasedTableOptions bt = plain;
  bt.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  bt.partition_filters = true;
  lookup.table_factory.reset(rocksdb::NewBlockBasedTableFactory(bt));
  lookup.memtable_prefix_bloom_size_ratio = 0.01;
  lookup.memtable_whole_key_filtering = true;
  // Compactions held at the start (log_options::defer_background_work):
  // one pending after a long history took a core for ~0.8 s of a 2-core
  // machine's restart. Flushes still run.
  bool hold = opts.defer_background_work && !opts.read_only && !fresh &&
              table_bytes(dir) >= opts.defer_from_table_bytes;
  cfo.disable_auto_compactions = hold;
  lookup.disable_auto_compactions = hold;
  std::vector<rocksdb::ColumnFamilyDescriptor> descs = {
      {rocksdb::kDefaultColumnFamilyName, cfo}, {cf_events, cfo},
      {cf_streams, lookup}, {cf_idem, lookup}, {cf_meta, cfo}};
  bool has_snapshots = fresh || !opts.read_only ||
                       std::find(names.begin(), names.end(), cf_snapshots) != names.end();
  if (has_snapshots)
    descs.push_back({cf_snapshots, cfo});
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  std::unique_ptr<rocksdb_log> log(new rocksdb_log);
  log->dir_ = dir;
  log->read_only_ = opts.read_only;
  log->compactions_held_ = hold;
  rocksdb::Status s;
  if (opts.read_only) {
    s = rocksdb::DB::OpenForReadOnly(o, dir, descs, &handles, &log->db_);
  } else if (fresh) {
    // A new log: its column families created in one call, which writes
    // RocksDB's OPTIONS file once, not once per family as DB::Open's
    // create_missing_column_families does (five writes, fsyncs and parses).
    s = rocksdb::DB::Open(o, dir, {descs.front()}, &handles, &log->db_);
    std::vector<rocksdb::ColumnFamilyHandle*> created;
    if (s.ok())
      s = log->db_->CreateColumnFamilies({descs.begin() + 1, descs.end()}, &created);
    handles.insert(handles.end(), created.begin(), created.end());
    if (!s.ok()) {
      for (auto* h : handles)
        log->db_->DestroyColumnFamilyHandle(h);
      delete log->db_;
      log->db_ = nullptr;
    }
  } else {
    s = rocksdb::DB::Open(o, dir, descs, &handles, &log->db_);
  }
  if (!s.ok())
    return from_rocks(s, "cannot open event log in " + dir);
  log->default_cf_ = handles[0];
  log->events_cf_ = handles[1];
  log->streams_cf_ = handles[2];
  log->idem_cf_ = handles[3];
  log->meta_cf_ = handles[4];
  log->snapshots_cf_ = has_snapshots ? handles[5] : nullptr;
  log->idempotency_ttl_ms_ = opts.idempotency_ttl_ms;
  log->keep_snapshots_ = std::max<size_t>(opts.keep_snapshots, 1);

  std::string marker = std::string(log_format_magic) + "/" + std::to_string(log_format_version);
  std::string found;
  s = log->db_->Get(rocksdb::ReadOptions(), log->meta_cf_, format_key, &found);
  if (s.IsNotFound() && fresh) {
    rocksdb::WriteOptions wo;
    wo.sync = true;
    s = log->db_->Put(wo, log->meta_cf_, format_key, marker);
    if (!s.ok()) {
      log->write_failed_ = true;  // left to the process's exit (~rocksdb_log)
      return from_rocks(s, "cannot write format marker");
    }
    if (auto st = end_creation(dir); !st)
      return st;
  } else if (s.IsNotFound()) {
    return status::invalid_argument(dir + " is not a callq event log (no format marker)");
  } else if (!s.ok()) {
    return from_rocks(s, "cannot read format marker");
  } else {
    auto slash = found.rfind('/');
    if (slash == std::string::npos || found.compare(0, slash, log_format_magic) != 0)
      return status::invalid_argument(dir + " is not a callq event log (marker '" + found + "')");
    int version = std::atoi(found.c_str() + slash + 1);
    if (version > log_format_version)
      return status::not_supported(dir + " was written by a newer callq (log format " +
                                   std::to_string(version) + ", this build reads up to " +
                                   std::to_string(log_format_version) + ")");
  }
  if (auto st = log->load_index_of_snapshots(); !st)
    return st;
  if (auto st = log->load_tail(); !st)
    return st;
  chain_head head;
  if (log->recorded_head(&head))
    log->head_seq_ = head.seq;
  *out = std::move(log);
  return status::ok();
}

status rocksdb_log::write_synced(rocksdb::WriteBatch* batch, const std::string& what) {
  rocksdb::WriteOptions wo;
  wo.sync = true;
  return from_rocks(db_->Write(wo, batch), what);
}

void rocksdb_log::start_background_work() {
  if (!compactions_held_)
    return;
  std::vector<rocksdb::ColumnFamilyHandle*> cfs;
  for (auto* cf : {default_cf_, events_cf_, streams_cf_, idem_cf_, meta_cf_, snapshots_cf_})
    if (cf != nullptr)
      cfs.push_back(cf);
  if (db_->EnableAutoCompaction(cfs).ok())
    compactions_held_ = false;
}

status rocksdb_log::load_index_of_snapshots() {
  if (snapshots_cf_ == nullptr)
    return status::ok();
  std::string found;
  auto s = db_->Get(rocksdb::ReadOptions(), meta_cf_, snapshot_index_key, &found);
  if (s.ok()) {
    snapshot_index_ = true;
    return status::ok();
  }
  if (!s.IsNotFound())
    return from_rocks(s, "cannot read the index of snapshots");
  if (read_only_)
    return status::ok();
  // A log from before the index: list its snapshots once, the slow way.
  std::vector<uint64_t> seqs;
  if (auto st = snapshot_seqs(&seqs); !st)
    return st;
  rocksdb::WriteBatch batch;
  for (uint64_t seq : seqs)
    batch.Put(meta_cf_, snapshot_entry_key(seq), "");
  batch.Put(meta_cf_, snapshot_index_key, "");
  if (auto st = write_synced(&batch, "cannot write the index of snapshots"); !st)
    return st;
  snapshot_index_ = true;
  return status::ok();
}

status rocksdb_log::load_tail() {
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

uint64_t rocksdb_log::next_stream_version(const std::string& stream) {
  return ++cached_version(stream);
}

uint64_t& rocksdb_log::cached_version(const std::string& stream) {
  auto i = stream_versions_.find(stream);
  if (i != stream_versions_.end())
    return i->second;
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
  return stream_versions_.emplace(stream, last).first->second;
}

status rocksdb_log::append(const std::vector<events::event>& evs,
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
  // Idempotency entries are stamped with the time of the events they
  // guard, so they expire in the log's own time (virtual in tests).
  int64_t written_ms = evs.empty() ? 0 : evs.back().ts_ms;
  for (const auto& [k, v] : idem) {
    batch.Put(idem_cf_, idem_entry_tag + k, seq_key(static_cast<uint64_t>(std::max<int64_t>(written_ms, 0))) + v);
    batch.Put(idem_cf_, idem_time_key(written_ms, k), "");
  }
  rocksdb::WriteOptions wo;
  wo.sync = sync;
  auto s = db_->Write(wo, &batch);
  if (!s.ok()) {
    for (auto i = bumped.rbegin(); i != bumped.rend(); ++i)
      stream_versions_[i->first] = i->second - 1;
    write_failed_ = true;
    return from_rocks(s, "append failed");
  }
  *first_seq = last_seq_ + 1;
  last_seq_ = seq;
  last_chain_ = chain;
  return status::ok();
}

status rocksdb_log::resume() {
  if (read_only_)
    return status::not_supported("the log is open read-only");
  auto s = db_->Resume();
  if (!s.ok())
    return from_rocks(s, "cannot resume writing");
  write_failed_ = false;
  stream_versions_.clear();
  return load_tail();
}

status rocksdb_log::scan(uint64_t from,
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

status rocksdb_log::scan_records(uint64_t from,
                                 const std::function<bool(uint64_t, std::string_view)>& fn) const {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), events_cf_));
  for (it->Seek(seq_key(from == 0 ? 1 : from)); it->Valid(); it->Next())
    if (!fn(seq_from_key(it->key().ToStringView()), it->value().ToStringView()))
      return status::ok();
  return from_rocks(it->status(), "scan failed");
}

status rocksdb_log::get(uint64_t seq, events::envelope* out) const {
  std::string value;
  auto s = db_->Get(rocksdb::ReadOptions(), events_cf_, seq_key(seq), &value);
  if (!s.ok())
    return from_rocks(s, "event " + std::to_string(seq));
  return decode_record(value, out);
}

status rocksdb_log::read_stream(const std::string& stream,
                              const std::function<bool(const events::envelope&)>& fn) const {
  // A stream the log has never seen (every new call asks) is answered by
  // a point look-up, mostly by the bloom filters, without an iterator.
  std::string ignored;
  auto marker = db_->Get(rocksdb::ReadOptions(), streams_cf_, exists_key(stream), &ignored);
  if (marker.IsNotFound())
    return status::ok();
  if (!marker.ok())
    return from_rocks(marker, "stream read failed");
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

status rocksdb_log::get_idempotency(const std::string& key, int64_t now_ms,
                                  std::string* value) const {
  std::string stored;
  auto s = db_->Get(rocksdb::ReadOptions(), idem_cf_, idem_entry_tag + key, &stored);
  if (s.IsNotFound()) {  // a log from before expiry: bare keys, kept for good
    if (!key.empty() && (key[0] == idem_entry_tag || key[0] == idem_time_tag))
      return status::not_found("idempotency key");
    return from_rocks(db_->Get(rocksdb::ReadOptions(), idem_cf_, key, value), "idempotency key");
  }
  if (!s.ok())
    return from_rocks(s, "idempotency key");
  if (stored.size() < 8)
    return status::corruption("idempotency entry of " + key + " is malformed");
  auto written = static_cast<int64_t>(seq_from_key(std::string_view(stored).substr(0, 8)));
  if (now_ms - written >= idempotency_ttl_ms_)
    return status::not_found("idempotency key (expired)");
  value->assign(stored, 8);
  return status::ok();
}

status rocksdb_log::expire_idempotency(int64_t now_ms, uint64_t* removed) {
  *removed = 0;
  if (read_only_)
    return status::not_supported("the log is open read-only");
  std::string end = idem_time_key(now_ms - idempotency_ttl_ms_ + 1, "");
  rocksdb::ReadOptions ro;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, idem_cf_));
  rocksdb::WriteBatch batch;
  for (it->Seek(std::string(1, idem_time_tag)); it->Valid(); it->Next()) {
    auto k = it->key().ToStringView();
    if (k.empty() || k[0] != idem_time_tag || k.compare(end) >= 0 || k.size() < 9)
      break;
    batch.Delete(idem_cf_, it->key());
    batch.Delete(idem_cf_, idem_entry_tag + std::string(k.substr(9)));
    ++*removed;
  }
  if (auto st = from_rocks(it->status(), "idempotency expiry"); !st)
    return st;
  if (*removed == 0)
    return status::ok();
  return from_rocks(db_->Write(rocksdb::WriteOptions(), &batch), "idempotency expiry");
}

status rocksdb_log::chain_at(uint64_t seq, events::chain_value* out) const {
  std::string value;
  auto s = db_->Get(rocksdb::ReadOptions(), events_cf_, seq_key(seq), &value);
  if (!s.ok())
    return from_rocks(s, "event " + std::to_string(seq));
  record_view r;
  if (auto st = parse_record(value, &r); !st)
    return status::corruption("event " + std::to_string(seq) + ": " + st.message());
  std::copy(r.chain.begin(), r.chain.end(), out->begin());
  return status::ok();
}

status rocksdb_log::recorded_head(chain_head* out) const {
  std::string v;
  auto s = db_->Get(rocksdb::ReadOptions(), meta_cf_, head_key, &v);
  if (!s.ok())
    return from_rocks(s, "chain head");
  if (!decode_chain_head(v, &out->seq, &out->chain))
    return status::corruption("the recorded chain head is malformed");
  return status::ok();
}

void rocksdb_log::add_head(const chain_head& head, rocksdb::WriteBatch* batch) {
  if (head.seq < head_seq_)
    return;  // a later end is recorded already
  batch->Put(meta_cf_, head_key, encode_chain_head(head.seq, head.chain));
}

status rocksdb_log::record_head() {
  if (read_only_)
    return status::not_supported("the log is open read-only");
  std::lock_guard lock(head_mu_);
  rocksdb::WriteBatch batch;
  add_head({last_seq_, last_chain_}, &batch);
  if (batch.Count() == 0)
    return status::ok();
  if (auto st = write_synced(&batch, "cannot record the chain head"); !st)
    return st;
  head_seq_ = last_seq_;
  return status::ok();
}

status rocksdb_log::put_snapshot(uint64_t seq, std::string_view bytes) {
  if (read_only_ || snapshots_cf_ == nullptr)
    return status::not_supported("the log is open read-only");
  chain_head head{seq, {}};
  if (auto st = chain_at(seq, &head.chain); !st)
    return st;
  std::vector<uint64_t> old;
  if (auto st = snapshot_seqs(&old); !st)
    return st;
  std::lock_guard lock(head_mu_);
  rocksdb::WriteBatch batch;
  batch.Put(snapshots_cf_, seq_key(seq), rocksdb::Slice(bytes.data(), bytes.size()));
  batch.Put(meta_cf_, snapshot_entry_key(seq), "");
  add_head(head, &batch);
  // Keep the newest keep_snapshots_ (this one included).
  size_t kept = 1;
  for (uint64_t s : old) {
    if (s == seq)
      continue;
    if (kept < keep_snapshots_ && s < seq) {
      ++kept;
      continue;
    }
    if (s < seq) {
      batch.Delete(snapshots_cf_, seq_key(s));
      batch.Delete(meta_cf_, snapshot_entry_key(s));
    }
  }
  if (auto st = write_synced(&batch, "cannot write snapshot"); !st)
    return st;
  head_seq_ = std::max(head_seq_, seq);
  return status::ok();
}

status rocksdb_log::snapshot_seqs(std::vector<uint64_t>* newest_first) const {
  newest_first->clear();
  if (snapshots_cf_ == nullptr)
    return status::ok();
  if (snapshot_index_) {
    std::string prefix = snapshot_entry_prefix;
    std::string end = prefix;
    end.back() += 1;  // the first key past every entry
    rocksdb::ReadOptions ro;
    rocksdb::Slice upper(end);
    ro.iterate_upper_bound = &upper;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, meta_cf_));
    for (it->SeekToLast(); it->Valid() && it->key().starts_with(prefix); it->Prev())
      newest_first->push_back(seq_from_key(it->key().ToStringView().substr(prefix.size())));
    return from_rocks(it->status(), "cannot list snapshots");
  }
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), snapshots_cf_));
  for (it->SeekToLast(); it->Valid(); it->Prev())
    newest_first->push_back(seq_from_key(it->key().ToStringView()));
  return from_rocks(it->status(), "cannot list snapshots");
}

status rocksdb_log::get_snapshot(uint64_t seq, std::string* bytes) const {
  if (snapshots_cf_ == nullptr)
    return status::not_found("snapshot " + std::to_string(seq));
  return from_rocks(db_->Get(rocksdb::ReadOptions(), snapshots_cf_, seq_key(seq), bytes),
                    "snapshot " + std::to_string(seq));
}

}  // namespace callq::storage
