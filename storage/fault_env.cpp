#include "storage/fault_env.hpp"

#include <algorithm>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>

#include <rocksdb/env.h>
#include <rocksdb/file_system.h>

namespace callq::storage {

struct fault_env::tracker {
  struct file {
    uint64_t size = 0, synced = 0;
  };
  std::mutex mu;
  std::map<std::string, file> files;
  std::atomic<bool> off{false};
  std::atomic<int64_t> writes_until_off{-1};  ///< -1: no countdown
  std::atomic<bool> ignore_syncs{false};

  /// Whether a write may reach the disk; the countdown's last write does
  /// not (the power goes off as it starts).
  bool powered() {
    if (off)
      return false;
    if (writes_until_off.load() >= 0 && writes_until_off.fetch_sub(1) <= 1) {
      off = true;
      return false;
    }
    return true;
  }
  void wrote(const std::string& path, uint64_t end_or_add, bool positioned) {
    std::lock_guard lock(mu);
    auto& f = files[path];
    f.size = positioned ? std::max(f.size, end_or_add) : f.size + end_or_add;
  }
  void synced(const std::string& path) {
    if (ignore_syncs)
      return;
    std::lock_guard lock(mu);
    auto& f = files[path];
    f.synced = f.size;
  }
  void truncated(const std::string& path, uint64_t size) {
    std::lock_guard lock(mu);
    auto& f = files[path];
    f.size = size;
    f.synced = std::min(f.synced, size);
  }
  /// A file that was there before this environment wrote it counts as
  /// synced up to its length.
  void opened(const std::string& path, bool fresh) {
    std::error_code ec;
    uint64_t had = fresh ? 0 : std::filesystem::file_size(path, ec);
    if (ec)
      had = 0;
    std::lock_guard lock(mu);
    files[path] = file{had, had};
  }
  void renamed(const std::string& from, const std::string& to) {
    std::lock_guard lock(mu);
    auto it = files.find(from);
    if (it == files.end())
      return;
    files[to] = it->second;
    files.erase(it);
  }
  void deleted(const std::string& path) {
    std::lock_guard lock(mu);
    files.erase(path);
  }
};

namespace {

using flag = std::shared_ptr<std::atomic<bool>>;
using counter = std::shared_ptr<std::atomic<uint64_t>>;
using files = std::shared_ptr<fault_env::tracker>;

rocksdb::IOStatus no_space(const counter& refused) {
  refused->fetch_add(1);
  return rocksdb::IOStatus::NoSpace("no space left on device (injected)");
}

rocksdb::IOStatus no_power() { return rocksdb::IOStatus::IOError("the power is off (injected)"); }

class fault_file : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  fault_file(std::unique_ptr<rocksdb::FSWritableFile> f, std::string path, flag full, counter refused,
             files tracked)
      : FSWritableFileOwnerWrapper(std::move(f)), path_(std::move(path)), full_(std::move(full)),
        refused_(std::move(refused)), files_(std::move(tracked)) {}
  rocksdb::IOStatus Append(const rocksdb::Slice& d, const rocksdb::IOOptions& o,
                           rocksdb::IODebugContext* dbg) override {
    if (*full_)
      return no_space(refused_);
    if (!files_->powered())
      return no_power();
    auto s = FSWritableFileOwnerWrapper::Append(d, o, dbg);
    if (s.ok())
      files_->wrote(path_, d.size(), false);
    return s;
  }
  rocksdb::IOStatus Append(const rocksdb::Slice& d, const rocksdb::IOOptions& o,
                           const rocksdb::DataVerificationInfo& v,
                           rocksdb::IODebugContext* dbg) override {
    if (*full_)
      return no_space(refused_);
    if (!files_->powered())
      return no_power();
    auto s = FSWritableFileOwnerWrapper::Append(d, o, v, dbg);
    if (s.ok())
      files_->wrote(path_, d.size(), false);
    return s;
  }
  rocksdb::IOStatus PositionedAppend(const rocksdb::Slice& d, uint64_t off,
                                     const rocksdb::IOOptions& o,
                                     rocksdb::IODebugContext* dbg) override {
    if (*full_)
      return no_space(refused_);
    if (!files_->powered())
      return no_power();
    auto s = FSWritableFileOwnerWrapper::PositionedAppend(d, off, o, dbg);
    if (s.ok())
      files_->wrote(path_, off + d.size(), true);
    return s;
  }
  rocksdb::IOStatus Truncate(uint64_t size, const rocksdb::IOOptions& o,
                             rocksdb::IODebugContext* dbg) override {
    if (files_->off)
      return no_power();
    auto s = FSWritableFileOwnerWrapper::Truncate(size, o, dbg);
    if (s.ok())
      files_->truncated(path_, size);
    return s;
  }
  rocksdb::IOStatus Sync(const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg) override {
    return sync([&] { return FSWritableFileOwnerWrapper::Sync(o, dbg); });
  }
  rocksdb::IOStatus Fsync(const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg) override {
    return sync([&] { return FSWritableFileOwnerWrapper::Fsync(o, dbg); });
  }

 private:
  template <class F> rocksdb::IOStatus sync(F&& real) {
    if (*full_)
      return no_space(refused_);
    if (!files_->powered())  // a sync counts as a write: the power may go off here
      return no_power();
    if (files_->ignore_syncs)
      return rocksdb::IOStatus::OK();
    auto s = real();
    if (s.ok())
      files_->synced(path_);
    return s;
  }

  std::string path_;
  flag full_;
  counter refused_;
  files files_;
};

class fault_fs : public rocksdb::FileSystemWrapper {
 public:
  fault_fs(flag full, counter refused, files tracked)
      : FileSystemWrapper(rocksdb::FileSystem::Default()), full_(std::move(full)),
        refused_(std::move(refused)), files_(std::move(tracked)) {}
  const char* Name() const override { return "callq-fault-fs"; }
  rocksdb::IOStatus NewWritableFile(const std::string& f, const rocksdb::FileOptions& o,
                                    std::unique_ptr<rocksdb::FSWritableFile>* r,
                                    rocksdb::IODebugContext* dbg) override {
    return open(f, r, true, [&](auto* inner) { return target()->NewWritableFile(f, o, inner, dbg); });
  }
  rocksdb::IOStatus ReopenWritableFile(const std::string& f, const rocksdb::FileOptions& o,
                                       std::unique_ptr<rocksdb::FSWritableFile>* r,
                                       rocksdb::IODebugContext* dbg) override {
    return open(f, r, false, [&](auto* inner) { return target()->ReopenWritableFile(f, o, inner, dbg); });
  }
  rocksdb::IOStatus ReuseWritableFile(const std::string& f, const std::string& old,
                                      const rocksdb::FileOptions& o,
                                      std::unique_ptr<rocksdb::FSWritableFile>* r,
                                      rocksdb::IODebugContext* dbg) override {
    files_->deleted(old);
    return open(f, r, true,
                [&](auto* inner) { return target()->ReuseWritableFile(f, old, o, inner, dbg); });
  }
  rocksdb::IOStatus RenameFile(const std::string& from, const std::string& to,
                               const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg) override {
    if (files_->off)
      return no_power();
    auto s = target()->RenameFile(from, to, o, dbg);
    if (s.ok())
      files_->renamed(from, to);
    return s;
  }
  rocksdb::IOStatus DeleteFile(const std::string& f, const rocksdb::IOOptions& o,
                               rocksdb::IODebugContext* dbg) override {
    if (files_->off)
      return no_power();
    auto s = target()->DeleteFile(f, o, dbg);
    if (s.ok())
      files_->deleted(f);
    return s;
  }

 private:
  template <class F>
  rocksdb::IOStatus open(const std::string& f, std::unique_ptr<rocksdb::FSWritableFile>* r, bool fresh,
                         F&& real) {
    if (*full_)
      return no_space(refused_);
    if (files_->off)
      return no_power();
    std::unique_ptr<rocksdb::FSWritableFile> inner;
    auto s = real(&inner);
    if (s.ok()) {
      files_->opened(f, fresh);
      *r = std::make_unique<fault_file>(std::move(inner), f, full_, refused_, files_);
    }
    return s;
  }

  flag full_;
  counter refused_;
  files files_;
};

}  // namespace

fault_env::fault_env()
    : full_(std::make_shared<std::atomic<bool>>(false)),
      refused_(std::make_shared<std::atomic<uint64_t>>(0)),
      files_(std::make_shared<tracker>()),
      env_(rocksdb::NewCompositeEnv(std::make_shared<fault_fs>(full_, refused_, files_))) {}

fault_env::~fault_env() = default;

rocksdb::Env* fault_env::env() { return env_.get(); }

void fault_env::power_off() { files_->off = true; }

void fault_env::power_off_after_writes(uint64_t n) {
  files_->writes_until_off = static_cast<int64_t>(n == 0 ? 1 : n);
}

bool fault_env::powered_off() const { return files_->off; }

void fault_env::ignore_syncs(bool on) { files_->ignore_syncs = on; }

uint64_t fault_env::lose_unsynced() {
  std::lock_guard lock(files_->mu);
  uint64_t dropped = 0;
  for (auto& [path, f] : files_->files) {
    std::error_code ec;
    uint64_t now = std::filesystem::file_size(path, ec);
    if (ec || now <= f.synced)
      continue;
    std::filesystem::resize_file(path, f.synced, ec);
    if (!ec)
      dropped += now - f.synced;
  }
  return dropped;
}

}  // namespace callq::storage
