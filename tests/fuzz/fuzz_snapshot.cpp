// libFuzzer: the snapshot decoder (bytes from disk).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "actors/world/snapshot.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  callq::world w{callq::policy{}};
  callq::snapshot_info info;
  (void)callq::decode_snapshot(bytes, callq::policy{}, &w, &info);
  return 0;
}
