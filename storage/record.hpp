// The stored byte layout of one event (the value under its sequence key):
//
//   u8 format(=1) | varint seq | str stream | varint stream_version |
//   str type | varint schema | varint zigzag ts_ms | str payload | 32B chain
//
// The chain is SHA-256(previous chain || every byte before the chain).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "events/event.hpp"
#include "events/status.hpp"

namespace callq::storage {

/// The envelope fields of a stored record, payload still encoded.
struct record_view {
  uint64_t seq = 0;
  std::string_view stream;
  uint64_t stream_version = 0;
  std::string_view type;
  int64_t schema = 0;
  int64_t ts_ms = 0;
  std::string_view payload;
  std::string_view body;   ///< all bytes covered by the chain
  std::string_view chain;  ///< 32 bytes
};

/// Encodes everything but the chain into `out` (cleared first).
void encode_record_body(uint64_t seq, const std::string& stream,
                        uint64_t stream_version, const events::event& ev,
                        std::string& out);

/// Splits a stored value into its parts; corruption when malformed.
status parse_record(std::string_view value, record_view* out);

/// Decodes a stored value into a full envelope; errors name the sequence.
status decode_record(std::string_view value, events::envelope* out);

/// SHA-256(prev || body).
events::chain_value chain_next(const events::chain_value& prev,
                               std::string_view body);

/// The stored chain head (the log's end as its writer recorded it):
/// be64(seq) || 32-byte chain value.
std::string encode_chain_head(uint64_t seq, const events::chain_value& chain);
/// Inverse of encode_chain_head; false when `v` is malformed.
bool decode_chain_head(std::string_view v, uint64_t* seq, events::chain_value* chain);

/// Big-endian 8-byte key of a sequence number (sorts numerically).
std::string seq_key(uint64_t seq);
/// Inverse of seq_key; 0 when the key is not 8 bytes.
uint64_t seq_from_key(std::string_view key);

}  // namespace callq::storage
