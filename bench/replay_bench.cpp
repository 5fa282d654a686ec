// replay_bench: replay (read, decode, apply) and export throughput on a
// 1,000,000-event log, and the export's peak memory.
//
//   replay_bench [--events=1000000]
#include <cstdio>
#include <filesystem>
#include <sys/resource.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench/bench_util.hpp"
#include "bench/sample_log.hpp"
#include "replay/export.hpp"
#include "actors/world/rebuild.hpp"

extern char** environ;

using namespace callq;
using clk = std::chrono::steady_clock;

#ifndef CALLQ_BINARY
#error "CALLQ_BINARY must name the callq executable"
#endif

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  long count = bench::arg(argc, argv, "events", 1'000'000);
  std::string dir = (std::filesystem::temp_directory_path() / "callq-replay-bench").string();
  std::filesystem::remove_all(dir);
  // The logs are written by child processes so that this one stays small:
  // a spawned child's peak RSS starts from its parent's.
  auto write_in_child = [](const std::string& d, uint64_t n) {
    pid_t pid = fork();
    if (pid == 0)
      _exit(bench::write_sample_log(d, n) > 0 ? 0 : 1);
    int st = 0;
    waitpid(pid, &st, 0);
  };
  std::string small = dir + "-small";
  std::filesystem::remove_all(small);
  write_in_child(dir, static_cast<uint64_t>(count));
  write_in_child(small, static_cast<uint64_t>(count / 10));

  // Peak memory of `callq export` run as its own process, at two log sizes.
  auto peak = [&](const std::string& data) {
    // posix_spawn, not fork: a forked copy of this process would count
    // towards the child's peak before exec.
    std::string d = data;
    char* args[] = {const_cast<char*>(CALLQ_BINARY), const_cast<char*>("export"),
                    const_cast<char*>("--data-dir"), d.data(), const_cast<char*>("--format"),
                    const_cast<char*>("jsonl"), const_cast<char*>("-o"),
                    const_cast<char*>("/dev/null"), nullptr};
    pid_t pid = 0;
    if (posix_spawn(&pid, CALLQ_BINARY, nullptr, nullptr, args, environ) != 0)
      return -1L;
    int st = 0;
    rusage ru{};
    wait4(pid, &st, 0, &ru);
    return ru.ru_maxrss;
  };
  std::printf("replay_bench: a log of %ld events and one of %ld\n", count, count / 10);
  long small_peak = peak(small), large_peak = peak(dir);
  std::printf("  callq export peak RSS: %ld KiB (%ld events), %ld KiB (%ld events)\n", small_peak,
              count / 10, large_peak, count);
  std::unique_ptr<storage::event_log> log;
  storage::log_options ro;
  ro.read_only = true;
  if (!storage::event_log::open_data_dir(dir, ro, &log))
    return 1;
  for (int round = 1; round <= 2; ++round) {
    world state(policy{});
    rebuild_report rr;
    auto t0 = clk::now();
    if (!rebuild(*log, state, {}, &rr))
      return 1;
    double s = bench::seconds_since(t0);
    std::printf("  replay (read+decode+apply)  %9.0f events/s  (pass %d, %.2f s)\n",
                static_cast<double>(rr.events) / s, round, s);
  }
  for (auto fmt : {replay::export_format::jsonl, replay::export_format::csv,
                   replay::export_format::queue_log}) {
    replay::export_options o;
    o.format = fmt;
    uint64_t bytes = 0;
    replay::export_report rep;
    auto t0 = clk::now();
    if (!replay::export_log(*log, o, [&](const std::string& chunk) { bytes += chunk.size(); return true; }, &rep))
      return 1;
    double s = bench::seconds_since(t0);
    const char* name = fmt == replay::export_format::jsonl ? "jsonl" : fmt == replay::export_format::csv ? "csv" : "queue_log";
    std::printf("  export %-9s            %9.0f events/s  (%.2f s, %lu lines, %.0f MiB)\n", name,
                static_cast<double>(rep.events_read) / s, s, static_cast<unsigned long>(rep.lines_written),
                static_cast<double>(bytes) / 1048576.0);
  }
  log.reset();

  std::filesystem::remove_all(dir);
  std::filesystem::remove_all(small);
  return 0;
}
