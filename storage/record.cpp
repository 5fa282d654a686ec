#include "storage/record.hpp"

#include <algorithm>

#include <cstring>

#include "events/codec.hpp"
#include "events/sha256.hpp"

namespace callq::storage {

using events::get_string;
using events::get_varint;
using events::put_string;
using events::put_varint;

namespace {
constexpr char record_format = 1;
uint64_t zigzag(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
int64_t unzigzag(uint64_t v) {
  return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1);
}
}  // namespace

void encode_record_body(uint64_t seq, const std::string& stream,
                        uint64_t stream_version, const events::event& ev,
                        std::string& out) {
  out.clear();
  out.push_back(record_format);
  put_varint(out, seq);
  put_string(out, stream);
  put_varint(out, stream_version);
  put_string(out, events::type_name(ev.body));
  put_varint(out, static_cast<uint64_t>(events::schema_of(ev.body)));
  put_varint(out, zigzag(ev.ts_ms));
  std::string payload;
  events::encode_payload(ev.body, payload);
  put_string(out, payload);
}

status parse_record(std::string_view value, record_view* r) {
  if (value.size() < 1 + 32 || value.front() != record_format)
    return status::corruption("record has an unknown format or is too short");
  r->body = value.substr(0, value.size() - 32);
  r->chain = value.substr(value.size() - 32);
  std::string_view in = r->body.substr(1);
  uint64_t schema = 0, ts = 0;
  if (!get_varint(in, &r->seq) || !get_string(in, &r->stream) ||
      !get_varint(in, &r->stream_version) || !get_string(in, &r->type) ||
      !get_varint(in, &schema) || !get_varint(in, &ts) ||
      !get_string(in, &r->payload) || !in.empty())
    return status::corruption("record envelope is malformed");
  r->schema = static_cast<int64_t>(schema);
  r->ts_ms = unzigzag(ts);
  return status::ok();
}

status decode_record(std::string_view value, events::envelope* out) {
  record_view r;
  if (auto st = parse_record(value, &r); !st)
    return st;
  out->seq = r.seq;
  out->stream.assign(r.stream.data(), r.stream.size());
  out->stream_version = r.stream_version;
  out->schema = r.schema;
  out->ev.ts_ms = r.ts_ms;
  std::memcpy(out->chain.data(), r.chain.data(), 32);
  if (auto st = events::decode_payload(r.type, r.schema, r.payload, &out->ev.body); !st)
    return status(st.error_code() == status::code::not_supported
                      ? status::not_supported("event " + std::to_string(r.seq) + ": " + st.message())
                      : status::corruption("event " + std::to_string(r.seq) + ": " + st.message()));
  return status::ok();
}

events::chain_value chain_next(const events::chain_value& prev,
                               std::string_view body) {
  return events::sha256({reinterpret_cast<const char*>(prev.data()), prev.size()}, body);
}

std::string seq_key(uint64_t seq) {
  std::string k(8, '\0');
  for (int i = 7; i >= 0; --i) {
    k[i] = static_cast<char>(seq & 0xff);
    seq >>= 8;
  }
  return k;
}

uint64_t seq_from_key(std::string_view key) {
  if (key.size() != 8)
    return 0;
  uint64_t v = 0;
  for (unsigned char c : key)
    v = (v << 8) | c;
  return v;
}

std::string encode_chain_head(uint64_t seq, const events::chain_value& chain) {
  std::string v = seq_key(seq);
  v.append(reinterpret_cast<const char*>(chain.data()), chain.size());
  return v;
}

bool decode_chain_head(std::string_view v, uint64_t* seq, events::chain_value* chain) {
  if (v.size() != 8 + 32)
    return false;
  *seq = seq_from_key(v.substr(0, 8));
  std::copy(v.begin() + 8, v.end(), chain->begin());
  return true;
}

}  // namespace callq::storage
