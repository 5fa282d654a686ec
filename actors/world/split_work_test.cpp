// split_work: every item done exactly once, over ranges run side by side,
// and a range's exception reaches the caller.
#include "actors/world/split_work.hpp"

#include <atomic>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

using namespace callq;

TEST_CASE("split_work: every item is done exactly once, whatever the count") {
  for (size_t n : {size_t{0}, size_t{1}, size_t{7}, size_t{1023}, size_t{1024}, size_t{5000}, size_t{100003}}) {
    std::vector<std::atomic<int>> done(n);
    std::mutex mu;
    std::set<std::thread::id> threads;
    split_work(n, 1024, [&](size_t from, size_t to) {
      REQUIRE(from <= to);
      REQUIRE(to <= n);
      {
        std::lock_guard<std::mutex> lock(mu);
        threads.insert(std::this_thread::get_id());
      }
      for (size_t i = from; i < to; ++i)
        done[i] += 1;
    });
    for (size_t i = 0; i < n; ++i)
      REQUIRE(done[i] == 1);
    // Fewer than two ranges' worth stays on the caller's thread.
    if (n < 2 * 1024)
      REQUIRE(threads == std::set<std::thread::id>{std::this_thread::get_id()});
    // More is split when the machine has more than one core.
    if (n >= 4 * 1024 && std::thread::hardware_concurrency() > 1)
      REQUIRE(threads.size() > 1);
  }
}

TEST_CASE("split_work: an exception in any range reaches the caller once every range is done") {
  const size_t n = 8 * 1024;
  std::atomic<size_t> finished{0};
  REQUIRE_THROWS_WITH(split_work(n, 1024,
                                 [&](size_t from, size_t to) {
                                   for (size_t i = from; i < to; ++i)
                                     if (i == n - 1)
                                       throw std::runtime_error("item " + std::to_string(i));
                                   finished += to - from;
                                 }),
                      "item 8191");
  // Every range but the throwing one ran to its end before the throw came
  // back (none is still running on a helper thread).
  size_t parts = std::min<size_t>({std::max<size_t>(1, std::thread::hardware_concurrency()), 4, 8});
  REQUIRE(finished == n - (n - (parts - 1) * n / parts));
}
