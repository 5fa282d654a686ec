// A queue's line as the world keeps it: its calls in dispatch order, with
// each call's place (an order statistic) and the earliest time a call in
// it was enqueued (the longest wait), both O(log n) or better from one
// tree. Pure: no CAF, no clock, no I/O.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <limits>

#include <ext/pb_ds/assoc_container.hpp>
#include <ext/pb_ds/tree_policy.hpp>

#include "actors/call/call_state.hpp"

namespace callq {

/// A call's place in a line: its key, and the call itself for the tie
/// (equal keys are ordered by CallSid) and for listing the line. `call`
/// points to the state the world holds for that CallSid; the world points
/// it at the new state whenever it replaces that state (make_own(),
/// adopt()), so it never outlives it. nullptr only in a probe, which sorts
/// before every call of the same key.
struct line_entry {
  line_key key;
  mutable const call_state* call = nullptr;
  bool operator<(const line_entry& o) const {
    if (!(key == o.key))
      return key < o.key;
    if (call == nullptr || o.call == nullptr)
      return call == nullptr && o.call != nullptr;
    return call->sid < o.call->sid;
  }
};

/// What each node of a line knows about its subtree: how many calls, and
/// the earliest `enqueued_ms` among them.
struct line_stats {
  size_t size = 0;
  int64_t earliest_enqueued_ms = std::numeric_limits<int64_t>::max();
};

/// The node update of a ranked line (the policy interface of libstdc++'s
/// policy-based trees): keeps each node's line_stats, and answers a key's
/// place and the line's earliest enqueued time from them.
template <class Node_CItr, class Node_Itr, class Cmp_Fn, class Alloc>
class line_stats_update {
 public:
  using metadata_type = line_stats;

  /// Entries strictly before `probe` (so a call's own place counting
  /// from 0, or the place it would take).
  size_t order_of_key(const line_entry& probe) const {
    Cmp_Fn less;
    size_t before = 0;
    for (Node_CItr it = node_begin(), end = node_end(); it != end;) {
      Node_CItr l = it.get_l_child();
      size_t left = l == end ? 0 : l.get_metadata().size;
      if (less(probe, **it)) {
        it = l;
      } else if (less(**it, probe)) {
        before += left + 1;
        it = it.get_r_child();
      } else {
        return before + left;
      }
    }
    return before;
  }

  /// The earliest `enqueued_ms` in the line; int64 max when it is empty.
  int64_t earliest_enqueued_ms() const {
    Node_CItr root = node_begin();
    return root == node_end() ? std::numeric_limits<int64_t>::max()
                              : root.get_metadata().earliest_enqueued_ms;
  }

  /// Recomputes the stats of `it` from its children (called by the tree).
  void operator()(Node_Itr it, Node_CItr end) const {
    line_stats s{1, (**it).key.enqueued_ms};
    for (Node_CItr child : {Node_CItr(it.get_l_child()), Node_CItr(it.get_r_child())}) {
      if (child == end)
        continue;
      s.size += child.get_metadata().size;
      s.earliest_enqueued_ms = std::min(s.earliest_enqueued_ms, child.get_metadata().earliest_enqueued_ms);
    }
    const_cast<line_stats&>(it.get_metadata()) = s;
  }

  virtual Node_CItr node_begin() const = 0;
  virtual Node_CItr node_end() const = 0;
  virtual ~line_stats_update() = default;
};

/// A queue's line: calls in dispatch order, ranked.
using ranked_line = __gnu_pbds::tree<line_entry, __gnu_pbds::null_type, std::less<line_entry>,
                                     __gnu_pbds::rb_tree_tag, line_stats_update>;

}  // namespace callq
