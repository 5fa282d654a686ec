// The read model: a world (actors/world/world.hpp) fed with every event once it
// is durable, on the journal's thread before the append is acknowledged.
// Status, /metrics, positions and wait estimates are read from it, never
// by a command through the matching actor, and what it shows is always on
// disk.
//
// It is published as immutable versions. A reader takes the newest
// version (a shared pointer, taken and let go without waiting for the
// writer) and reads it for as long as it likes; nobody changes a version
// once it is published. The writer applies each durable batch to a world
// no reader holds (the previous version but one, brought up to date with
// the batches it missed) and publishes it; only when every such world is
// still held by a reader does it copy the newest one. So neither the
// journal nor an actor ever waits for a reader, and a reader never waits
// for the journal. The cost: the worlds' indices are kept twice (the
// calls' states are shared between them), and every batch is applied to
// both: once before its appends are answered, once after (prepare()).
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <future>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "actors/histogram_bucket.hpp"
#include "actors/world/heartbeat_board.hpp"
#include "actors/world/world.hpp"

namespace callq {

/// What publishing versions has cost since start (for /metrics).
struct read_model_stats {
  std::atomic<uint64_t> versions{0};  ///< versions published
  /// Versions made by copying the newest world, because every other world
  /// was still held by a reader.
  std::atomic<uint64_t> copies{0};
  std::atomic<uint64_t> catch_up_batches{0};  ///< batches applied a second time
  /// Of those, the ones applied by apply(), before the answers (prepare()
  /// found the spare held).
  std::atomic<uint64_t> catch_up_before_answers{0};
  /// Time the writer spent per published version before its appends were
  /// answered (catching a world up if prepare() could not, applying the
  /// batch, or copying), microseconds: a histogram over
  /// apply_bucket_us, its sum and its largest.
  static constexpr uint64_t apply_bucket_us[] = {10, 50, 100, 250, 500, 1000, 5000, 25000};
  std::atomic<uint64_t> apply_buckets[9]{};
  std::atomic<uint64_t> apply_us_total{0};
  std::atomic<uint64_t> apply_us_max{0};
  /// Time spent by prepare() bringing spares up to date after the
  /// answers, microseconds.
  std::atomic<uint64_t> prepare_us_total{0};
  /// Records the writer's time to bring a spare up to date after answers.
  void prepared(uint64_t us) { prepare_us_total += us; }
  /// Records the writer's time for one version.
  void applied(uint64_t us) {
    apply_buckets[histogram_bucket(apply_bucket_us, us)] += 1;
    apply_us_total += us;
    uint64_t seen = apply_us_max.load(std::memory_order_relaxed);
    while (us > seen && !apply_us_max.compare_exchange_weak(seen, us)) {
    }
  }
};

class read_model {
 public:
  /// Publishes `w` as the first version.
  explicit read_model(world w);

  /// The newest published version. Never changed; hold it as long as
  /// needed (holding it keeps its memory, and makes the writer copy when
  /// every older world is held too).
  std::shared_ptr<const world> version() const;

  /// Runs `f` with the newest version.
  template <class F> auto read(F&& f) const {
    std::shared_ptr<const world> v = version();
    return f(*v);
  }

  /// The operators' view at `now_ms` (world::status()), from the newest
  /// version, with the agents' heartbeat times from the board.
  status_view status(int64_t now_ms,
                     size_t waiting_limit = std::numeric_limits<size_t>::max()) const;

  /// Writer side, one thread at a time (the journal; before it runs,
  /// start-up or a follower's catch-up): applies durable events (the first
  /// has sequence number `first_seq`), holding each of `states` (call
  /// actors' states after these events) instead of a copy of its own:
  /// taken at the event that brings its call to its version
  /// (settled_calls), else adopted after the batch (world::adopt()). Then
  /// publishes the result as the newest version.
  void apply(uint64_t first_seq, std::vector<events::event> evs,
             std::vector<shared_call_state> states = {});

  /// Writer side, after apply() and once whoever waited for the batch has
  /// been answered: brings a spare world no reader holds up to date with
  /// the newest version, so that the next apply() applies its batch once.
  /// A spare still held is left for the next apply() to catch up.
  void prepare();

  /// Writer side: replaces every version with `w` (state rebuilt from the
  /// durable log in-process). A spare copy of it is made on a helper
  /// thread meanwhile (the start spawns its actors then), so that the
  /// first apply() need not copy the whole world before its answers.
  void reset(world w);

  /// The agents' heartbeat times (volatile: not in the log, so not in a
  /// version).
  heartbeat_board& heartbeats() { return heartbeats_; }
  const heartbeat_board& heartbeats() const { return heartbeats_; }

  const read_model_stats& stats() const { return stats_; }

 private:
  /// A durable batch the newest version holds and some spare world may
  /// not: applied to a spare when it is brought up to date.
  struct batch_record {
    uint64_t first_seq = 0;
    std::vector<events::event> events;
    std::vector<shared_call_state> states;
    uint64_t last_seq() const { return first_seq + events.size() - 1; }
  };

  /// The spare world no reader holds that needs the fewest batches, or
  /// null when every spare is held.
  std::shared_ptr<world> free_spare();
  /// Applies to `w` what it lacks of the recorded batches; counted in
  /// catch_up_before_answers too when `before_answers`.
  void catch_up(world& w, bool before_answers);
  /// Applies to `w` the events of `rec` past its last sequence number, and
  /// adopts the batch's call states.
  static void apply_record(world& w, const batch_record& rec);
  void publish(std::shared_ptr<world> w);
  /// Drops recorded batches every spare holds, and spares too far behind.
  void trim();

  /// The newest version; read and written with std::atomic_load/store.
  std::shared_ptr<const world> current_;
  /// Writer's own: the world published as current_, and older worlds it
  /// may reuse once no reader holds them (newest first).
  std::shared_ptr<world> newest_;
  std::deque<std::shared_ptr<world>> spares_;
  std::deque<batch_record> behind_;  ///< oldest first
  /// The copy of the newest world reset() started, not yet among spares_
  /// (std::async's: letting go of it, by a new reset() or the
  /// destructor, waits for the copy).
  std::future<std::shared_ptr<world>> copying_;
  heartbeat_board heartbeats_;
  read_model_stats stats_;
};

}  // namespace callq
