// libFuzzer: the form-body and query-string parser (every Twilio webhook).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "http/form.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  callq::http::form_fields f;
  if (callq::http::parse_form(text, &f)) {
    (void)callq::http::field(f, "CallSid");
    (void)callq::http::has_field(f, "Digits");
  }
  return 0;
}
