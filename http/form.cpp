#include "http/form.hpp"

namespace callq::http {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool decode(std::string_view in, std::string* out) {
  out->clear();
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '+') {
      out->push_back(' ');
    } else if (c == '%') {
      if (i + 2 >= in.size())
        return false;
      int hi = hex_value(in[i + 1]), lo = hex_value(in[i + 2]);
      if (hi < 0 || lo < 0)
        return false;
      out->push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else {
      out->push_back(c);
    }
  }
  return true;
}

}  // namespace

status parse_form(std::string_view text, form_fields* out) {
  out->clear();
  size_t pos = 0;
  while (pos <= text.size() && !text.empty()) {
    size_t amp = text.find('&', pos);
    std::string_view part = text.substr(pos, amp == std::string_view::npos ? std::string_view::npos : amp - pos);
    if (!part.empty()) {
      size_t eq = part.find('=');
      std::string name, value;
      if (!decode(part.substr(0, eq), &name) ||
          (eq != std::string_view::npos && !decode(part.substr(eq + 1), &value)))
        return status::invalid_argument("body is not valid form encoding (bad % escape)");
      if (name.empty())
        return status::invalid_argument("body is not valid form encoding (field without a name)");
      out->emplace_back(std::move(name), std::move(value));
    }
    if (amp == std::string_view::npos)
      break;
    pos = amp + 1;
  }
  return status::ok();
}

std::string field(const form_fields& f, const std::string& name) {
  for (auto i = f.rbegin(); i != f.rend(); ++i)
    if (i->first == name)
      return i->second;
  return {};
}

bool has_field(const form_fields& f, const std::string& name) {
  for (auto& [k, v] : f)
    if (k == name)
      return true;
  return false;
}

}  // namespace callq::http
