// lookup_bench: the RocksDB log's point look-ups once its history has
// outgrown the block cache: "is this stream new?" (every new call asks it
// on the journal's append path), "has this idempotency key been used?"
// (every signed webhook with a token), and a known stream's events.
//
//   lookup_bench [--streams=3000000] [--lookups=20000] [--data-dir=DIR]
//
// Without --data-dir it writes a history of `streams` calls (two events
// each, unsynced) to a fresh log, closes it and opens it again; with it,
// it opens that data directory's log (a copy: compactions are held but
// the open writes) instead. Prints the first look-up after the open (a
// restart's) and p50/p99 of each kind of look-up.
#include <cstdio>
#include <filesystem>
#include <random>

#include "bench/bench_util.hpp"
#include "storage/event_log.hpp"

using namespace callq;
using clk = std::chrono::steady_clock;

namespace {

std::string sid_of(long i) { return "CA" + std::to_string(4'000'000'000L + i) + "0123456789abcdef0123"; }

void write_history(const std::string& dir, long streams) {
  std::filesystem::remove_all(dir);
  std::unique_ptr<storage::event_log> log;
  if (auto st = storage::event_log::open_data_dir(dir, {}, &log); !st) {
    std::fprintf(stderr, "%s\n", st.to_string().c_str());
    std::exit(1);
  }
  auto t0 = clk::now();
  std::vector<events::event> batch;
  uint64_t first = 0;
  for (long i = 0; i < streams; ++i) {
    events::call_arrived a;
    a.call_sid = sid_of(i);
    a.from = "+15551234567";
    a.to = "+15559876543";
    a.queue = "support";
    batch.push_back({1'796'000'000'000 + i, a});
    events::call_completed c;
    c.call_sid = a.call_sid;
    batch.push_back({1'796'000'000'000 + i, c});
    if (batch.size() >= 2000 || i + 1 == streams) {
      if (auto st = log->append(batch, {}, false, &first); !st) {
        std::fprintf(stderr, "%s\n", st.to_string().c_str());
        std::exit(1);
      }
      batch.clear();
    }
  }
  std::printf("  wrote %ld calls (%ld events) in %.1f s\n", streams, streams * 2,
              bench::seconds_since(t0));
}

double us_since(clk::time_point t) {
  return std::chrono::duration<double, std::micro>(clk::now() - t).count();
}

void print(const char* what, std::vector<double>& us) {
  std::printf("  %-34s p50 %8.1f us   p99 %8.1f us   (%zu)\n", what, bench::percentile(us, 50),
              bench::percentile(us, 99), us.size());
}

}  // namespace

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  long streams = bench::arg(argc, argv, "streams", 3'000'000);
  long lookups = bench::arg(argc, argv, "lookups", 20'000);
  std::string dir = bench::sarg(argc, argv, "data-dir", "");
  bool own = dir.empty();
  if (own) {
    dir = (std::filesystem::temp_directory_path() / "callq-lookup-bench").string();
    std::printf("lookup_bench: a history of %ld calls, %ld look-ups of each kind\n", streams, lookups);
    write_history(dir, streams);
  } else {
    std::printf("lookup_bench: the log of %s, %ld look-ups of each kind\n", dir.c_str(), lookups);
  }
  uintmax_t sst = 0;
  int files = 0;
  for (auto& f : std::filesystem::directory_iterator(std::filesystem::path(dir) / "events"))
    if (f.path().extension() == ".sst") {
      sst += f.file_size();
      ++files;
    }
  std::printf("  %d table files, %.0f MiB\n", files, static_cast<double>(sst) / (1 << 20));

  storage::log_options o;
  o.defer_background_work = true;  // nothing compacts while look-ups are timed
  std::unique_ptr<storage::event_log> log;
  auto t_open = clk::now();
  if (auto st = storage::event_log::open_data_dir(dir, o, &log); !st) {
    std::fprintf(stderr, "%s\n", st.to_string().c_str());
    return 1;
  }
  std::printf("  opened in %.1f ms\n", us_since(t_open) / 1000);
  long rss_open = bench::rss_kib();
  auto count_events = [&](const std::string& stream) {
    int n = 0;
    if (auto st = log->read_stream(stream, [&](const events::envelope&) { return ++n < 1'000'000; });
        !st) {
      std::fprintf(stderr, "%s\n", st.to_string().c_str());
      std::exit(1);
    }
    return n;
  };
  auto t_first = clk::now();
  count_events("call/CAnever-seen-first");
  std::printf("  first look-up of a new stream after the open: %.1f ms\n", us_since(t_first) / 1000);

  std::mt19937_64 rng(7);
  std::vector<double> fresh, known, idem;
  for (long i = 0; i < lookups; ++i) {
    auto t = clk::now();
    if (count_events("call/CAnever" + std::to_string(rng())) != 0)
      return 1;
    fresh.push_back(us_since(t));
  }
  for (long i = 0; i < lookups; ++i) {
    std::string key = "voice:CAnever" + std::to_string(rng());
    std::string value;
    auto t = clk::now();
    auto st = log->get_idempotency(key, 1'796'000'000'000, &value);
    idem.push_back(us_since(t));
    if (!st.is_not_found())
      return 1;
  }
  if (own)
    for (long i = 0; i < lookups; ++i) {
      auto t = clk::now();
      if (count_events("call/" + sid_of(static_cast<long>(rng() % static_cast<uint64_t>(streams)))) != 2)
        return 1;
      known.push_back(us_since(t));
    }
  print("new stream (read_stream, none)", fresh);
  print("unused idempotency key", idem);
  if (own)
    print("known call's 2 events (read_stream)", known);
  std::printf("  RSS %ld MiB after the open, %ld MiB after the look-ups\n", rss_open / 1024,
              bench::rss_kib() / 1024);
  log.reset();
  if (own && std::getenv("CALLQ_BENCH_KEEP") == nullptr)
    std::filesystem::remove_all(dir);
  return 0;
}
