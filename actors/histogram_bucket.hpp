// Which bucket of a fixed histogram (8 upper bounds, microseconds) a
// duration falls in: the journal's and the read model's figures for
// /metrics.
#pragma once

#include <cstddef>
#include <cstdint>

namespace callq {

/// The bucket (0-8) of a histogram over `bounds` that a duration of `us`
/// microseconds falls in (8: beyond the last bound).
inline size_t histogram_bucket(const uint64_t (&bounds)[8], uint64_t us) {
  size_t b = 0;
  while (b < 8 && us > bounds[b])
    ++b;
  return b;
}

}  // namespace callq
