#include <mlctl/core/yaml_out.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <string_view>

#include <fmt/format.h>

namespace mlctl::core {

namespace {

using Json = nlohmann::json;

bool printable_ascii(char c) { return c >= 0x20 && c < 0x7f; }
bool digit(char c) { return c >= '0' && c <= '9'; }

std::string lowercase(std::string_view text) {
  std::string out(text);
  std::ranges::transform(out, out.begin(), [](char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; });
  return out;
}

// Words YAML 1.1 or 1.2 reads as something other than a string (any case, to be safe).
bool reserved_word(std::string_view text) {
  if (text.size() > 5) return false;  // the longest is "false"
  static constexpr std::array<std::string_view, 16> k_words = {
      "y", "n", "yes", "no", "true", "false", "on", "off", "null", "~", ".inf", "-.inf", "+.inf", ".nan", "<<", "="};
  return std::ranges::find(k_words, lowercase(text)) != k_words.end();
}

// Numbers in any YAML notation (0x1F, 0o17, 1e3, 1_000, 1:30, .5) and YAML 1.1 dates; this also
// catches harmless strings such as versions ("1.4.0"), which are then quoted.
bool numeric_or_date(std::string_view text) {
  if (text.size() >= 5 && std::all_of(text.begin(), text.begin() + 4, digit) && text[4] == '-') return true;
  size_t start = (text[0] == '+' || text[0] == '-') ? 1 : 0;
  if (start == text.size() || !(digit(text[start]) || text[start] == '.')) return false;
  constexpr std::string_view k_number_chars = "0123456789abcdefABCDEFxXoO_.:+-";
  return text.find_first_not_of(k_number_chars) == std::string_view::npos;
}

bool plain_safe(std::string_view text) {
  if (text.empty() || reserved_word(text) || numeric_or_date(text)) return false;
  // A '-' followed by a non-space starts a plain scalar ("--lr", "-c"); "---" marks a document.
  bool dash_word = text.size() > 1 && text[0] == '-' && text[1] != ' ' && !text.starts_with("---");
  constexpr std::string_view k_indicators = "-?:,[]{}#&*!|>'\"%@`";
  if (!dash_word && k_indicators.find(text.front()) != std::string_view::npos) return false;
  if (text.starts_with("...")) return false;
  if (text.front() == ' ' || text.back() == ' ' || text.back() == ':') return false;
  if (!std::ranges::all_of(text, printable_ascii)) return false;
  return text.find(": ") == std::string_view::npos && text.find(" #") == std::string_view::npos;
}

// A literal block reads back exactly when its first line sets the indentation (no leading space
// or empty line) and it holds no character that would need escaping.
bool literal_safe(std::string_view text) {
  if (text.find('\n') == std::string_view::npos || text.front() == ' ' || text.front() == '\n') return false;
  return std::ranges::all_of(text, [](char c) { return printable_ascii(c) || c == '\n'; });
}

void single_quoted(std::string& out, std::string_view text) {
  out += '\'';
  size_t start = 0;
  for (size_t quote = text.find('\''); quote != std::string_view::npos; quote = text.find('\'', start)) {
    out.append(text.substr(start, quote + 1 - start)).append(1, '\'');
    start = quote + 1;
  }
  out.append(text.substr(start)).append(1, '\'');
}

// Escapes control characters and the Unicode line breaks of YAML 1.1 (NEL, LS, PS) and the BOM;
// other UTF-8 passes through.
void double_quoted(std::string& out, std::string_view text) {
  out += '"';
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const std::string_view rest = text.substr(i);
    switch (c) {
      case '"': out += "\\\""; continue;
      case '\\': out += "\\\\"; continue;
      case '\n': out += "\\n"; continue;
      case '\t': out += "\\t"; continue;
      case '\r': out += "\\r"; continue;
      default: break;
    }
    if (rest.starts_with("\xC2\x85")) out += "\\N", ++i;
    else if (rest.starts_with("\xE2\x80\xA8")) out += "\\L", i += 2;
    else if (rest.starts_with("\xE2\x80\xA9")) out += "\\P", i += 2;
    else if (rest.starts_with("\xEF\xBB\xBF")) out += "\\uFEFF", i += 2;
    else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) out += fmt::format("\\x{:02X}", static_cast<unsigned char>(c));
    else out += c;
  }
  out += '"';
}

// `indent` is where the lines of a literal block start.
void literal_block(std::string& out, std::string_view text, int indent) {
  size_t trailing = text.size() - text.find_last_not_of('\n') - 1;
  out += trailing == 0 ? "|-" : trailing == 1 ? "|" : "|+";
  std::string_view body = text.substr(0, text.size() - trailing);
  size_t start = 0;
  while (start <= body.size()) {
    size_t end = body.find('\n', start);
    if (end == std::string_view::npos) end = body.size();
    out += '\n';
    if (end > start) out.append(indent, ' ').append(body.substr(start, end - start));
    start = end + 1;
  }
  out.append(trailing > 1 ? trailing - 1 : 0, '\n');
}

void string_scalar(std::string& out, std::string_view text, int indent, bool allow_block) {
  if (plain_safe(text)) out += text;
  else if (allow_block && literal_safe(text)) literal_block(out, text, indent);
  else if (std::ranges::all_of(text, printable_ascii)) single_quoted(out, text);
  else double_quoted(out, text);
}

void float_scalar(std::string& out, double value) {
  if (std::isnan(value)) out += ".nan";
  else if (std::isinf(value)) out += value > 0 ? ".inf" : "-.inf";
  else {
    // YAML 1.1 needs a '.' in a float: 1e+20 would read back as a string.
    std::string text = Json(value).dump();
    if (text.find('.') == std::string::npos) {
      size_t exponent = text.find_first_of("eE");
      text.insert(exponent == std::string::npos ? text.size() : exponent, ".0");
    }
    out += text;
  }
}

class Writer {
public:
  std::string take() { return std::move(out_); }

  void document(const Json& value) {
    if (block_container(value)) container(value, 0, false);
    else {
      scalar(value, 0);
      out_ += '\n';
    }
  }

private:
  static bool block_container(const Json& value) { return value.is_structured() && !value.empty(); }

  void container(const Json& value, int indent, bool same_line) {
    if (value.is_object()) mapping(value, indent, same_line);
    else sequence(value, indent, same_line);
  }

  // Maps nest by two spaces; a list under a key starts at the key's column, as kubectl writes it.
  void mapping(const Json& map, int indent, bool same_line) {
    for (auto it = map.begin(); it != map.end(); ++it) {
      if (!same_line) out_.append(indent, ' ');
      same_line = false;
      string_scalar(out_, it.key(), indent, false);
      out_ += ':';
      const Json& value = it.value();
      if (block_container(value)) {
        out_ += '\n';
        container(value, value.is_object() ? indent + 2 : indent, false);
      } else {
        out_ += ' ';
        scalar(value, indent + 2);
        out_ += '\n';
      }
    }
  }

  void sequence(const Json& list, int indent, bool same_line) {
    for (const Json& item : list) {
      if (!same_line) out_.append(indent, ' ');
      same_line = false;
      out_ += "- ";
      if (block_container(item)) container(item, indent + 2, true);
      else {
        scalar(item, indent + 2);
        out_ += '\n';
      }
    }
  }

  void scalar(const Json& value, int indent) {
    switch (value.type()) {
      case Json::value_t::string: string_scalar(out_, value.get_ref<const std::string&>(), indent, true); break;
      case Json::value_t::boolean: out_ += value.get<bool>() ? "true" : "false"; break;
      case Json::value_t::number_integer: out_ += std::to_string(value.get<std::int64_t>()); break;
      case Json::value_t::number_unsigned: out_ += std::to_string(value.get<std::uint64_t>()); break;
      case Json::value_t::number_float: float_scalar(out_, value.get<double>()); break;
      case Json::value_t::object: out_ += "{}"; break;
      case Json::value_t::array: out_ += "[]"; break;
      default: out_ += "null"; break;
    }
  }

  std::string out_;
};

}  // namespace

std::string to_yaml(const nlohmann::json& document) {
  Writer writer;
  writer.document(document);
  return writer.take();
}

}  // namespace mlctl::core
