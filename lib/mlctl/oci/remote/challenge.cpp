#include <mlctl/oci/remote/challenge.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

namespace mlctl::oci::remote {

namespace {

constexpr size_t k_max_header = 8192;

bool is_tchar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

std::string lowercase(std::string_view text) {
  std::string out(text);
  std::ranges::transform(out, out.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  return out;
}

class Parser {
public:
  explicit Parser(std::string_view text) : text_(text) {}

  Result<std::vector<Challenge>> parse() {
    std::vector<Challenge> out;
    skip_separators();
    while (pos_ < text_.size()) {
      Challenge challenge;
      std::string_view scheme = token();
      if (scheme.empty()) return error("expected an authentication scheme");
      challenge.scheme = lowercase(scheme);
      if (auto ok = parse_params(challenge); !ok) return std::unexpected(ok.error());
      out.push_back(std::move(challenge));
      skip_separators();
    }
    if (out.empty()) return fail(Errc::remote, "malformed WWW-Authenticate header: it is empty");
    return out;
  }

private:
  // Parameters until the end or the next challenge (a token not followed by '=').
  Result<void> parse_params(Challenge& challenge) {
    while (true) {
      skip_spaces();
      size_t start = pos_;
      std::string_view name = token();
      if (name.empty()) return at_end_or_comma() ? Result<void>{} : error("expected a parameter name");
      skip_spaces();
      if (pos_ >= text_.size() || text_[pos_] != '=') {
        pos_ = start;  // the next challenge's scheme
        return {};
      }
      ++pos_;
      skip_spaces();
      auto value = pos_ < text_.size() && text_[pos_] == '"' ? quoted() : Result<std::string>(std::string(bare()));
      if (!value) return std::unexpected(value.error());
      if (value->empty() && text_[pos_ - 1] != '"') return error(fmt::format("parameter '{}' has no value", name));
      if (!challenge.params.emplace(lowercase(name), std::move(*value)).second)
        return error(fmt::format("duplicate parameter '{}'", name));
      skip_spaces();
      if (pos_ >= text_.size()) return {};
      if (text_[pos_] != ',') return error("expected ',' between parameters");
      while (pos_ < text_.size() && (text_[pos_] == ',' || text_[pos_] == ' ' || text_[pos_] == '\t')) ++pos_;
    }
  }

  Result<std::string> quoted() {
    std::string out;
    ++pos_;
    while (pos_ < text_.size()) {
      char c = text_[pos_++];
      if (c == '"') return out;
      if (c == '\\') {
        if (pos_ >= text_.size()) break;
        c = text_[pos_++];
      }
      if (static_cast<unsigned char>(c) < 0x20 && c != '\t') return error("control character in quoted string");
      out.push_back(c);
    }
    return error("unterminated quoted string");
  }

  // An unquoted value. Strictly a token, but servers send realm=https://... unquoted too.
  std::string_view bare() {
    size_t start = pos_;
    while (pos_ < text_.size() && static_cast<unsigned char>(text_[pos_]) > 0x20 &&
           std::string_view(",\"\x7f").find(text_[pos_]) == std::string_view::npos)
      ++pos_;
    return text_.substr(start, pos_ - start);
  }

  std::string_view token() {
    size_t start = pos_;
    while (pos_ < text_.size() && is_tchar(text_[pos_])) ++pos_;
    return text_.substr(start, pos_ - start);
  }

  bool at_end_or_comma() const { return pos_ >= text_.size() || text_[pos_] == ','; }
  void skip_spaces() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t')) ++pos_;
  }
  void skip_separators() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == ',')) ++pos_;
  }

  std::unexpected<Error> error(std::string_view what) const {
    return fail(Errc::remote, fmt::format("malformed WWW-Authenticate header: {} at offset {}", what, pos_));
  }

  std::string_view text_;
  size_t pos_ = 0;
};

}  // namespace

std::string Challenge::param(std::string_view name) const {
  auto it = params.find(std::string(name));
  return it == params.end() ? std::string() : it->second;
}

Result<std::vector<Challenge>> parse_www_authenticate(std::string_view header) {
  if (header.size() > k_max_header)
    return fail(Errc::remote, fmt::format("malformed WWW-Authenticate header: longer than {} bytes", k_max_header));
  return Parser(header).parse();
}

}  // namespace mlctl::oci::remote
