// Restart time and memory after a long history: a log of N events (mostly
// completed calls) that ends with 10,000 calls waiting and 1,000 agents.
// Times `callq serve` from process start to its "callq listening" line,
// from the snapshot its clean stop wrote and with every snapshot removed
// (a full replay), and reads its RSS after start. Run at two
// history lengths, RSS must stay within 20 % (memory independent of
// history). Figures go into bench/README.md. First, for reference, the
// start on a new data directory and on the nearly empty log it leaves.
//
//   recovery_bench [--events N] [--waiting 10000] [--agents 1000] [--rounds 3] [--keep 1]
//
// Each round starts the server once from the snapshot and once with a
// full replay, alternating which goes first. --keep 1 keeps each history
// it writes (<tmp>/callq-recovery-bench-N-pristine) and uses it next time
// instead of writing it again (8 minutes at 10M events).
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include <rocksdb/db.h>

#include "bench/bench_util.hpp"
#include "bench/sample_log.hpp"
#include "actors/world/rebuild.hpp"
#include "actors/world/snapshot.hpp"
#include "storage/record.hpp"
#include "storage/rocksdb_log.hpp"
#include "tests/spawn_server.hpp"

#ifndef CALLQ_BINARY
#error "CALLQ_BINARY must name the callq executable"
#endif

using namespace callq;
using clk = std::chrono::steady_clock;

namespace {

/// The history, then the end state: the sample's agents log off, `agents`
/// new agents (never heartbeating) and `waiting` calls in the queue.
void write_history(const std::string& dir, uint64_t events, int waiting, int agents) {
  bench::write_sample_log(dir, events);
  runtime_options o;
  o.data_dir = dir;
  o.deterministic = true;
  o.disk_check_ms = 0;
  o.clock = std::make_shared<manual_clock_source>(1'795'608'000'000 + 86'400'000);
  std::unique_ptr<runtime> rt;
  if (!runtime::start(o, &rt))
    std::exit(1);
  for (int a = 0; a < 200; ++a)
    rt->ask(cmd::heartbeat{"ag" + std::to_string(a), "h", "offline", true});
  for (int a = 0; a < agents; ++a) {
    std::string id = "late" + std::to_string(a);
    rt->ask(cmd::put_agent{id, id, id, "h", {"support"}, {}, {}, {}});
  }
  for (int c = 0; c < waiting; ++c)
    rt->ask(cmd::incoming_call{"CAwait" + std::to_string(c) + "0123456789abcdef0123", "+15551230000",
                               "+15559990000", "support", "", std::nullopt});
  rt->stop();  // writes the snapshot a clean stop writes
}

struct start_figures {
  double seconds = 0;
  long rss_kib = 0;
};

/// Starts the server on `dir`, times it to its listening line, reads its
/// RSS, then kills it (SIGKILL: no snapshot at stop, the log as it was).
start_figures start_server(const std::string& dir) {
  auto t0 = clk::now();
  auto s = testing::spawn_callq(bench::callq_binary(CALLQ_BINARY),
                                bench::with_tuning(std::map<std::string, std::string>{
                                    {"CALLQ_DATA_DIR", dir}, {"CALLQ_PORT", "0"},
                                    {"CALLQ_ADMIN_TOKEN", "bench"}}),
                                600);
  start_figures f;
  f.seconds = bench::seconds_since(t0);
  if (s.port == 0) {
    std::fprintf(stderr, "recovery_bench: the server did not start\n");
    std::exit(1);
  }
  f.rss_kib = testing::rss_kib_of(s.pid);
  testing::stop_child(s.pid, SIGKILL);
  return f;
}

/// The journal's pause for a snapshot (copying the state) and the
/// background work (digest and encode), on the state at the log's end.
void snapshot_costs(const std::string& dir) {
  std::unique_ptr<storage::event_log> log;
  storage::log_options ro;
  ro.read_only = true;
  if (!storage::event_log::open_data_dir(dir, ro, &log))
    std::exit(1);
  world w{policy{}};
  snapshot_load sl;
  load_newest_snapshot(*log, policy{}, 0, 0, &w, &sl);
  rebuild_report rr;
  rebuild(*log, w, {}, &rr);
  auto t0 = clk::now();
  world_image img = w.image();
  double copy = bench::seconds_since(t0);
  t0 = clk::now();
  world again = world::from_image(policy{}, img);
  double rebuild_s = bench::seconds_since(t0);
  t0 = clk::now();
  std::string digest = again.digest();
  double digest_s = bench::seconds_since(t0);
  t0 = clk::now();
  std::string bytes = encode_snapshot(img, digest, 0, {});
  double encode = bench::seconds_since(t0);
  std::printf("  snapshot of %zu live calls and %zu agents: copy (the journal's pause) %.1f ms, "
              "digest+encode (background) %.1f ms (world from the copy %.1f, digest %.1f, "
              "encode %.1f), %zu KiB\n",
              w.calls().size(), w.agents().size(), copy * 1e3, (rebuild_s + digest_s + encode) * 1e3,
              rebuild_s * 1e3, digest_s * 1e3, encode * 1e3, bytes.size() / 1024);
  // What a start from it does before replaying the rest: its checksum,
  // the entities, the world built from them, the digest checked.
  t0 = clk::now();
  world loaded{policy{}};
  snapshot_info info;
  auto st = decode_snapshot(bytes, policy{}, &loaded, &info);
  std::printf("  its decode at a start (checksum, entities, world, digest check): %.1f ms%s\n",
              bench::seconds_since(t0) * 1e3, st ? "" : " (FAILED)");
}

uint64_t last_seq(const std::string& dir) {
  std::unique_ptr<storage::event_log> log;
  storage::log_options ro;
  ro.read_only = true;
  return storage::event_log::open_data_dir(dir, ro, &log) ? log->last_seq() : 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  long events = bench::arg(argc, argv, "events", 10'000'000);
  int waiting = static_cast<int>(bench::arg(argc, argv, "waiting", 10'000));
  int agents = static_cast<int>(bench::arg(argc, argv, "agents", 1'000));
  int rounds = static_cast<int>(bench::arg(argc, argv, "rounds", 3));
  bool keep = bench::arg(argc, argv, "keep", 0) != 0;
  std::string base = (std::filesystem::temp_directory_path() / "callq-recovery-bench").string();
  std::printf("recovery_bench: %d calls waiting and %d agents at the end\n", waiting, agents);
  long rss[2] = {0, 0};
  long sizes[2] = {events / 10, events};
  std::string pristine[2];
  // Both histories are written first, each in a child, before this
  // process opens any log: a child forked after the parent has used
  // RocksDB has none of RocksDB's background threads, so its first
  // memtable flush would wait forever (it did: only the first history was
  // ever measured). Children also keep this process small.
  for (int i = 0; i < 2; ++i) {
    pristine[i] = base + "-" + std::to_string(sizes[i]) + "-pristine";
    if (keep && std::filesystem::exists(pristine[i])) {
      std::printf("  history of %ld events kept from an earlier run in %s\n", sizes[i], pristine[i].c_str());
      continue;
    }
    std::filesystem::remove_all(pristine[i]);
    auto t0 = clk::now();
    pid_t pid = fork();
    if (pid == 0) {
      write_history(pristine[i], static_cast<uint64_t>(sizes[i]), waiting, agents);
      _exit(0);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
      std::fprintf(stderr, "recovery_bench: writing the history of %ld events failed\n", sizes[i]);
      return 1;
    }
    std::printf("  wrote %ld events of history in %.0f s\n", sizes[i], bench::seconds_since(t0));
  }
  // The start with no history: a new data directory, then the same one
  // again (the log it created, nearly empty), `rounds` times each.
  for (int r = 0; r < rounds; ++r) {
    std::string dir = base + "-new";
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    for (const char* kind : {"a new data directory", "the nearly empty log it left"}) {
      auto f = start_server(dir);
      std::printf("start on %s: %.3f s, rss after start %ld MiB\n", kind, f.seconds, f.rss_kib / 1024);
    }
    std::filesystem::remove_all(dir);
  }
  // Every start begins from a copy of the history as written: the first
  // start after it records what a restart records (here: a callback
  // offered to each of the 10,000 calls, which waited for days of the
  // wall clock), so a start from the snapshot and a full replay do the
  // same work after the rebuild. The two kinds alternate.
  for (int i = 0; i < 2; ++i) {
    std::string dir = base + "-" + std::to_string(sizes[i]);
    uint64_t n = last_seq(pristine[i]);
    snapshot_costs(pristine[i]);
    for (int r = 0; r < rounds; ++r)
      for (bool from_snapshot : {r % 2 == 0, r % 2 != 0}) {
        std::filesystem::remove_all(dir);
        std::filesystem::copy(pristine[i], dir, std::filesystem::copy_options::recursive);
        if (!from_snapshot)
          bench::remove_snapshots(dir);
        sync();  // the copy's writeback does not run into the start
        auto f = start_server(dir);
        const char* kind = from_snapshot ? "snapshot" : "full replay";
        std::printf("restart after %lu events of history: %.2f s (%s)\n", static_cast<unsigned long>(n),
                    f.seconds, kind);
        std::printf("rss after start: %ld MiB (%s)\n", f.rss_kib / 1024, kind);
        if (from_snapshot)
          rss[i] = std::max(rss[i], f.rss_kib);
      }
    std::filesystem::remove_all(dir);
    if (!keep)
      std::filesystem::remove_all(pristine[i]);
  }
  double ratio = rss[0] > 0 ? static_cast<double>(rss[1]) / static_cast<double>(rss[0]) : 0;
  std::printf("rss, %ld vs %ld events of history: %.2fx (goal: within 1.20x)\n", sizes[1], sizes[0], ratio);
  return 0;
}
