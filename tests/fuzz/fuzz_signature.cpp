// libFuzzer: the Twilio signature check. Input: the URL as received, a
// newline, the X-Twilio-Signature header, a newline, the form body.
#include <cstddef>
#include <cstdint>
#include <string>

#include "http/form.hpp"
#include "http/signature.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  auto nl1 = text.find('\n');
  auto nl2 = nl1 == std::string::npos ? std::string::npos : text.find('\n', nl1 + 1);
  std::string url = text.substr(0, nl1);
  std::string given = nl1 == std::string::npos ? "" : text.substr(nl1 + 1, nl2 - nl1 - 1);
  std::string body = nl2 == std::string::npos ? "" : text.substr(nl2 + 1);
  callq::http::form_fields f;
  if (!callq::http::parse_form(body, &f))
    f.clear();
  (void)callq::http::twilio_signature_valid("fuzz-auth-token", url, f, given);
  (void)callq::http::twilio_signed_urls(url);
  return 0;
}
