// Work over independent items, split across this machine's cores: the
// start-up's decoding, which nothing else runs beside.
#pragma once

#include <algorithm>
#include <cstddef>
#include <exception>
#include <thread>
#include <vector>

namespace callq {

/// Calls `f(from, to)` over disjoint ranges that together cover [0, n):
/// the first on this thread, the others on helper threads (one per core
/// beyond the first, at most 3, each with at least `min_per_thread`
/// items), and returns once every range is done. `f` must be safe to run
/// on disjoint ranges at once. The first exception a range throws is
/// rethrown here, after every range has finished.
template <class F> void split_work(size_t n, size_t min_per_thread, F&& f) {
  size_t cores = std::max<size_t>(1, std::thread::hardware_concurrency());
  size_t parts = std::min<size_t>({cores, 4, std::max<size_t>(1, n / std::max<size_t>(1, min_per_thread))});
  if (parts <= 1) {
    f(size_t{0}, n);
    return;
  }
  std::vector<std::exception_ptr> errors(parts);
  auto run = [&](size_t k) {
    try {
      f(k * n / parts, (k + 1) * n / parts);
    } catch (...) {
      errors[k] = std::current_exception();
    }
  };
  std::vector<std::thread> helpers;
  helpers.reserve(parts - 1);
  for (size_t k = 1; k < parts; ++k)
    helpers.emplace_back(run, k);
  run(0);
  for (auto& t : helpers)
    t.join();
  for (auto& e : errors)
    if (e)
      std::rethrow_exception(e);
}

}  // namespace callq
