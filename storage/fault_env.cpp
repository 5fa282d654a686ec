#include "storage/fault_env.hpp"

#include <rocksdb/env.h>
#include <rocksdb/file_system.h>

namespace callq::storage {

namespace {

using flag = std::shared_ptr<std::atomic<bool>>;
using counter = std::shared_ptr<std::atomic<uint64_t>>;

rocksdb::IOStatus no_space(const counter& refused) {
  refused->fetch_add(1);
  return rocksdb::IOStatus::NoSpace("no space left on device (injected)");
}

class full_file : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  full_file(std::unique_ptr<rocksdb::FSWritableFile> f, flag full, counter refused)
      : FSWritableFileOwnerWrapper(std::move(f)), full_(std::move(full)),
        refused_(std::move(refused)) {}
  rocksdb::IOStatus Append(const rocksdb::Slice& d, const rocksdb::IOOptions& o,
                           rocksdb::IODebugContext* dbg) override {
    return *full_ ? no_space(refused_) : FSWritableFileOwnerWrapper::Append(d, o, dbg);
  }
  rocksdb::IOStatus Append(const rocksdb::Slice& d, const rocksdb::IOOptions& o,
                           const rocksdb::DataVerificationInfo& v,
                           rocksdb::IODebugContext* dbg) override {
    return *full_ ? no_space(refused_) : FSWritableFileOwnerWrapper::Append(d, o, v, dbg);
  }
  rocksdb::IOStatus PositionedAppend(const rocksdb::Slice& d, uint64_t off,
                                     const rocksdb::IOOptions& o,
                                     rocksdb::IODebugContext* dbg) override {
    return *full_ ? no_space(refused_) : FSWritableFileOwnerWrapper::PositionedAppend(d, off, o, dbg);
  }
  rocksdb::IOStatus Sync(const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg) override {
    return *full_ ? no_space(refused_) : FSWritableFileOwnerWrapper::Sync(o, dbg);
  }
  rocksdb::IOStatus Fsync(const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg) override {
    return *full_ ? no_space(refused_) : FSWritableFileOwnerWrapper::Fsync(o, dbg);
  }

 private:
  flag full_;
  counter refused_;
};

class full_fs : public rocksdb::FileSystemWrapper {
 public:
  full_fs(flag full, counter refused)
      : FileSystemWrapper(rocksdb::FileSystem::Default()), full_(std::move(full)),
        refused_(std::move(refused)) {}
  const char* Name() const override { return "callq-fault-fs"; }
  rocksdb::IOStatus NewWritableFile(const std::string& f, const rocksdb::FileOptions& o,
                                    std::unique_ptr<rocksdb::FSWritableFile>* r,
                                    rocksdb::IODebugContext* dbg) override {
    if (*full_)
      return no_space(refused_);
    std::unique_ptr<rocksdb::FSWritableFile> inner;
    auto s = target()->NewWritableFile(f, o, &inner, dbg);
    if (s.ok())
      *r = std::make_unique<full_file>(std::move(inner), full_, refused_);
    return s;
  }
  rocksdb::IOStatus ReopenWritableFile(const std::string& f, const rocksdb::FileOptions& o,
                                       std::unique_ptr<rocksdb::FSWritableFile>* r,
                                       rocksdb::IODebugContext* dbg) override {
    if (*full_)
      return no_space(refused_);
    std::unique_ptr<rocksdb::FSWritableFile> inner;
    auto s = target()->ReopenWritableFile(f, o, &inner, dbg);
    if (s.ok())
      *r = std::make_unique<full_file>(std::move(inner), full_, refused_);
    return s;
  }
  rocksdb::IOStatus ReuseWritableFile(const std::string& f, const std::string& old,
                                      const rocksdb::FileOptions& o,
                                      std::unique_ptr<rocksdb::FSWritableFile>* r,
                                      rocksdb::IODebugContext* dbg) override {
    if (*full_)
      return no_space(refused_);
    std::unique_ptr<rocksdb::FSWritableFile> inner;
    auto s = target()->ReuseWritableFile(f, old, o, &inner, dbg);
    if (s.ok())
      *r = std::make_unique<full_file>(std::move(inner), full_, refused_);
    return s;
  }

 private:
  flag full_;
  counter refused_;
};

}  // namespace

fault_env::fault_env()
    : full_(std::make_shared<std::atomic<bool>>(false)),
      refused_(std::make_shared<std::atomic<uint64_t>>(0)),
      env_(rocksdb::NewCompositeEnv(std::make_shared<full_fs>(full_, refused_))) {}

fault_env::~fault_env() = default;

rocksdb::Env* fault_env::env() { return env_.get(); }

}  // namespace callq::storage
