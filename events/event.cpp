#include "events/event.hpp"

#include <type_traits>

namespace callq::events {

namespace {

// Detects a member named `call_sid` / `agent_id` / `queue`.
template <class T, class = void> struct has_call_sid : std::false_type {};
template <class T>
struct has_call_sid<T, std::void_t<decltype(std::declval<T>().call_sid)>>
    : std::true_type {};
template <class T, class = void> struct has_agent_id : std::false_type {};
template <class T>
struct has_agent_id<T, std::void_t<decltype(std::declval<T>().agent_id)>>
    : std::true_type {};
template <class T, class = void> struct has_queue : std::false_type {};
template <class T>
struct has_queue<T, std::void_t<decltype(std::declval<T>().queue)>>
    : std::true_type {};

}  // namespace

std::string_view type_name(const payload& p) {
  return std::visit([](const auto& x) -> std::string_view {
    return std::decay_t<decltype(x)>::name;
  }, p);
}

int64_t schema_of(const payload& p) {
  return std::visit([](const auto& x) -> int64_t {
    return std::decay_t<decltype(x)>::schema;
  }, p);
}

std::string_view call_sid_of(const payload& p) {
  return std::visit([](const auto& x) -> std::string_view {
    if constexpr (has_call_sid<std::decay_t<decltype(x)>>::value)
      return x.call_sid;
    else
      return {};
  }, p);
}

std::string_view agent_id_of(const payload& p) {
  return std::visit([](const auto& x) -> std::string_view {
    if constexpr (has_agent_id<std::decay_t<decltype(x)>>::value)
      return x.agent_id;
    else
      return {};
  }, p);
}

std::string_view queue_of(const payload& p) {
  return std::visit([](const auto& x) -> std::string_view {
    if constexpr (has_queue<std::decay_t<decltype(x)>>::value)
      return x.queue;
    else
      return {};
  }, p);
}

stream_ref stream_ref_of(const payload& p) {
  // Agent events go to the agent's stream even when they name a call.
  if (type_name(p).rfind("agent.", 0) == 0)
    return {stream_kind::agent, agent_id_of(p)};
  if (auto sid = call_sid_of(p); !sid.empty())
    return {stream_kind::call, sid};
  if (auto id = agent_id_of(p); !id.empty())
    return {stream_kind::agent, id};
  if (auto* c = std::get_if<caller_set>(&p))
    return {stream_kind::caller, c->number};
  if (type_name(p).rfind("queue.", 0) == 0)
    return {stream_kind::queue, queue_of(p)};
  return {};
}

std::string stream_of(const payload& p) {
  stream_ref s = stream_ref_of(p);
  switch (s.kind) {
    case stream_kind::call:
      return call_stream(s.id);
    case stream_kind::agent:
      return agent_stream(s.id);
    case stream_kind::caller:
      return "caller/" + std::string(s.id);
    case stream_kind::queue:
      return "queue/" + std::string(s.id);
    case stream_kind::system:
      break;
  }
  return "system";
}

std::string call_stream(std::string_view sid) {
  return "call/" + std::string(sid);
}

std::string agent_stream(std::string_view id) {
  return "agent/" + std::string(id);
}

std::string to_hex(const chain_value& c) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  out.reserve(64);
  for (unsigned char b : c) {
    out.push_back(digits[b >> 4]);
    out.push_back(digits[b & 15]);
  }
  return out;
}

}  // namespace callq::events
