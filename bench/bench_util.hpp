// Small helpers shared by the benchmark programs: percentiles, resident
// memory, timing.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

namespace callq::bench {

/// The p-th percentile (0..100) of `v` (sorted in place).
inline double percentile(std::vector<double>& v, double p) {
  if (v.empty())
    return 0;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(p / 100.0 * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

/// Current resident set size in KiB (from /proc/self/status).
inline long rss_kib() {
  std::ifstream in("/proc/self/status");
  std::string key;
  while (in >> key) {
    if (key == "VmRSS:") {
      long v = 0;
      in >> v;
      return v;
    }
    std::getline(in, key);
  }
  return 0;
}

/// The `callq` executable a benchmark starts: `CALLQ_BENCH_BINARY` when
/// set (bench/ab.sh runs one benchmark build against two servers), else
/// `built_in`, the one built beside the benchmark.
inline const char* callq_binary(const char* built_in) {
  const char* over = std::getenv("CALLQ_BENCH_BINARY");
  return over != nullptr && *over != '\0' ? over : built_in;
}

/// `env` (a server's environment) with every CALLQ_SCHEDULER_* and
/// CALLQ_OVERLOAD_* variable of this process added, so that the server's
/// tuning can be compared run against run without a rebuild.
template <class Map> Map with_tuning(Map env) {
  for (const char* k : {"CALLQ_SCHEDULER_THREADS", "CALLQ_SCHEDULER_POLICY",
                        "CALLQ_SCHEDULER_MAX_THROUGHPUT", "CALLQ_OVERLOAD_LAG",
                        "CALLQ_PASSIVATE_AFTER"})
    if (const char* v = std::getenv(k))
      env.emplace(k, v);
  return env;
}

/// Seconds since `t0`.
inline double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

/// Reads an integer option "--name=value" from argv, or `def`.
inline long arg(int argc, char** argv, const std::string& name, long def) {
  std::string prefix = "--" + name + "=";
  for (int i = 1; i < argc; ++i)
    if (std::string(argv[i]).rfind(prefix, 0) == 0)
      return std::stol(argv[i] + prefix.size());
  return def;
}

/// `--name=value` as a string, or `def`.
inline std::string sarg(int argc, char** argv, const std::string& name, const std::string& def) {
  std::string prefix = "--" + name + "=";
  for (int i = 1; i < argc; ++i)
    if (std::string(argv[i]).rfind(prefix, 0) == 0)
      return argv[i] + prefix.size();
  return def;
}

}  // namespace callq::bench
