// libFuzzer: the event codec's decoder, as reading a stored record from
// disk runs it (envelope, then the payload of whatever type it names).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "storage/record.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view value(reinterpret_cast<const char*>(data), size);
  callq::events::envelope e;
  (void)callq::storage::decode_record(value, &e);
  return 0;
}
