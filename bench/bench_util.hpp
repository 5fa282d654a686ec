// Small helpers shared by the benchmark programs: percentiles, resident
// memory, timing.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <stdexcept>
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

/// `--name=value` or `--name value` as a string, or `def` when absent.
inline std::string sarg(int argc, char** argv, const std::string& name, const std::string& def) {
  std::string flag = "--" + name;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind(flag + "=", 0) == 0)
      return a.substr(flag.size() + 1);
    if (a == flag && i + 1 < argc)
      return argv[i + 1];
  }
  return def;
}

/// Reads an integer option ("--name=value" or "--name value") from argv,
/// or `def`. A value that is not a whole number ends the program (exit 2).
inline long arg(int argc, char** argv, const std::string& name, long def) {
  std::string v = sarg(argc, argv, name, "");
  if (v.empty())
    return def;
  size_t used = 0;
  long n = 0;
  try {
    n = std::stol(v, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != v.size()) {
    std::fprintf(stderr, "%s: --%s wants a whole number, not '%s'\n", argv[0], name.c_str(), v.c_str());
    std::exit(2);
  }
  return n;
}

}  // namespace callq::bench
